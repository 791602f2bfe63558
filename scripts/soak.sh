#!/usr/bin/env bash
# Long soak of libvdisk's thread safety: tests/soak/vdisk-soak (threads doing
# random I/O on one handle, checked against a byte model, then qemu-img check
# and compare) for HOURS in all, split evenly over its variants.
#   scripts/soak.sh HOURS [vdisk-soak options...]     e.g. scripts/soak.sh 8 --threads 8
# Builds ./build (or $VDISK_BUILD_DIR) with tests first.  The seed is printed;
# a failure keeps the image and the model and prints how to replay it.
# VDISK_SOAK=path/to/vdisk-soak runs another build (scripts/tsan.sh's, say).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ $# -lt 1 ]; then
    echo "usage: scripts/soak.sh HOURS [vdisk-soak options...]" >&2
    exit 2
fi
hours=$1
shift
builddir=${VDISK_BUILD_DIR:-build}
soak=${VDISK_SOAK:-}
if [ -z "$soak" ]; then
    scripts/build.sh -Dtests=true >/dev/null
    soak=$builddir/tests/soak/vdisk-soak
fi
variants=13   # the variants vdisk-soak runs (its usage lists them)
seconds=$(awk -v h="$hours" -v n="$variants" 'BEGIN { s = h * 3600 / n; print (s < 1 ? 1 : s) }')
exec "$soak" --seconds "$seconds" "$@"
