#!/usr/bin/env bash
# A shared library exports exactly the functions its public headers declare.
#
#   check-exports.sh CC LIBRARY INCLUDE_DIR [EXTRA_INCLUDE_DIR...]
#
# The declared set comes from the compiler itself (gcc -aux-info on a file
# that includes every INCLUDE_DIR/vdisk/*.h), the exported set from
# `nm -D --defined-only LIBRARY`.  Fails, listing the names, when a symbol is
# exported that no public header declares (an internal function leaking into
# the ABI) or when a declared function is not exported (a header promising
# what the library does not give).  EXTRA_INCLUDE_DIRs are only searched
# (libvdisk-plugin's headers include libvdisk's).
set -euo pipefail

[ $# -ge 3 ] || { sed -n '4p' "$0" >&2; exit 2; }
cc=$1 lib=$2
# absolute, so that the compiler's paths can be matched
incdir=$(cd "$3" && pwd)
shift 3
incs=(-I "$incdir")
for d in "$@"; do incs+=(-I "$(cd "$d" && pwd)"); done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

headers=("$incdir"/vdisk/*.h)
[ -f "${headers[0]}" ] || { echo "check-exports: no header in $incdir/vdisk" >&2; exit 1; }
for h in "${headers[@]}"; do
    echo "#include <vdisk/$(basename "$h")>"
done >"$tmp/all.c"
"$cc" -fsyntax-only -aux-info "$tmp/aux.txt" "${incs[@]}" "$tmp/all.c"

# "/* DIR/vdisk/image.h:47:NC */ extern const char *vdisk_format_name (vdisk_format);"
# -> vdisk_format_name, for the declarations made in this INCLUDE_DIR only
grep -F "/* $incdir/vdisk/" "$tmp/aux.txt" | grep -v '\bstatic\b' |
    sed -E 's|^/\*[^*]*\*/ *||; s/^([^(]*[^A-Za-z0-9_(])([A-Za-z_][A-Za-z0-9_]*) \(.*/\2/' |
    sort -u >"$tmp/declared"
[ -s "$tmp/declared" ] || { echo "check-exports: the compiler saw no function in $incdir/vdisk/*.h" >&2; exit 1; }

# defined dynamic symbols, without their version (name@@NODE); the version
# node itself is an absolute symbol (type A).  The private node
# (LIBVDISK_PRIVATE_<version>: functions of core/private/ for vdisk's own
# plugin and tools, scripts/gen-version-script.py --private) is no ABI and
# not checked here.
nm -D --defined-only "$lib" |
    awk '$2 != "A" && $3 !~ /@@?LIBVDISK_PRIVATE_/ { sub(/@.*/, "", $3); print $3 }' |
    sort -u >"$tmp/exported"

leaked=$(comm -13 "$tmp/declared" "$tmp/exported")
missing=$(comm -23 "$tmp/declared" "$tmp/exported")
status=0
if [ -n "$leaked" ]; then
    echo "check-exports: $(basename "$lib") exports symbols no public header declares:"
    printf '  %s\n' $leaked
    status=1
fi
if [ -n "$missing" ]; then
    echo "check-exports: $(basename "$lib") does not export functions its headers declare:"
    printf '  %s\n' $missing
    status=1
fi
if [ $status -eq 0 ]; then
    echo "check-exports: $(basename "$lib") exports the $(wc -l <"$tmp/declared") functions of $incdir/vdisk/*.h and nothing else"
fi
exit $status
