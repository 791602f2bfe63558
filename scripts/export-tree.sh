#!/usr/bin/env bash
# Copy this source tree, as it is now, into DEST (which must be empty or
# absent): the files git tracks or would track (uncommitted edits included,
# ignored build output left out), or, outside a git checkout, everything but
# the build directories.  The package builds start from such a copy, so that
# dpkg-buildpackage never writes into the working tree or beside it.
#
#   scripts/export-tree.sh DEST
set -euo pipefail
cd "$(dirname "$0")/.."
dest=${1:?usage: export-tree.sh DEST}
mkdir -p "$dest"
[ -z "$(ls -A "$dest")" ] || { echo "export-tree: $dest is not empty" >&2; exit 1; }

if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    # tracked files deleted in the work tree are skipped
    git ls-files -z --cached --others --exclude-standard |
        while IFS= read -r -d '' f; do
            [ -e "$f" ] || [ -L "$f" ] && printf '%s\0' "$f"
        done |
        tar --null -T - -cf - | tar -xf - -C "$dest"
else
    tar --exclude='./build*' --exclude='./.git' -cf - . | tar -xf - -C "$dest"
fi
