#!/usr/bin/env bash
# Run QEMU's own image tests (tests/qemu-iotests of the distribution's qemu
# source package) twice: once with the real qemu-img, once with vdisk-virsh
# in its place (run as `qemu-img`, through a symlink), the real qemu-io,
# qemu-nbd, qemu-storage-daemon and qemu-system for everything else.  Prints
#
#   iotests: N passed with vdisk of M passed with qemu-img (format F)
#
# per format, and a table of the tests whose verdicts differ.
#
#   scripts/iotests.sh [--formats qcow2,raw] [--group auto] [-j JOBS]
#                      [--only vdisk] [TEST...]
#
# --formats LIST  image formats to run (default qcow2,raw)
# --group G       iotests group (default auto); ignored when TESTs are named
# -j JOBS         tests run in parallel by ./check (default 1)
# --only vdisk    run only the vdisk side; the qemu-img verdicts of an
#                 earlier run (same format and selection) are compared with
# --only qemu-img run only the reference side (no comparison printed)
# --vdisk PATH    the vdisk-virsh to test (default: the build's); with
#                 --label NAME its results are kept apart (default: vdisk),
#                 e.g. an older build measured as the baseline
# TEST...         test names (001, copy-before-write ...) instead of a group
#
# Not part of scripts/test.sh or CI by default (it takes tens of minutes):
# set VDISK_IOTESTS=1 to make scripts/test.sh run it.  The source package
# is fetched with apt-get source (a deb-src entry derived from apt's own
# deb entries, as scripts/fetch-libvirt-source.sh does) and cached with the
# results in build/iotests/ (or $VDISK_BUILD_DIR/iotests/).  Each run's
# verdicts and the .out.bad of every failing test are kept in
# build/iotests/results/<prog>-<format>/.
set -euo pipefail
cd "$(dirname "$0")/.."
top=$(pwd)

builddir=${VDISK_BUILD_DIR:-build}
formats=qcow2,raw
group=auto
jobs=1
only=
vdisk=
label=vdisk
tests=()
while [ $# -gt 0 ]; do
    case $1 in
        --formats) formats=${2:?--formats needs a list}; shift 2 ;;
        --group) group=${2:?--group needs a name}; shift 2 ;;
        -j) jobs=${2:?-j needs a number}; shift 2 ;;
        --only) only=${2:?--only needs vdisk}; shift 2 ;;
        --vdisk) vdisk=${2:?--vdisk needs a path}; shift 2 ;;
        --label) label=${2:?--label needs a name}; shift 2 ;;
        -h|--help) sed -n '2,31p' "$0"; exit 0 ;;
        -*) echo "iotests: unknown option $1" >&2; exit 1 ;;
        *) tests+=("$1"); shift ;;
    esac
done

say() { echo "iotests: $*" >&2; }

[ -n "$vdisk" ] || vdisk=$top/$builddir/tools/vdisk-virsh
[ "$only" = qemu-img ] || [ -x "$vdisk" ] || { say "$vdisk not built: run scripts/build.sh first"; exit 1; }
for p in qemu-img qemu-io qemu-nbd qemu-storage-daemon qemu-system-x86_64; do
    command -v "$p" >/dev/null || { say "$p not found (scripts/install-deps.sh)"; exit 1; }
done

work=$top/$builddir/iotests
mkdir -p "$work/src"

# Debian's qemu source package: the tests and QEMU's python package only.
tree=$(ls -d "$work"/src/qemu-*/tests/qemu-iotests 2>/dev/null | head -n1 || true)
if [ -z "$tree" ]; then
    orig=$(ls "$work"/src/qemu_*.orig.tar.* 2>/dev/null | head -n1 || true)
    if [ -z "$orig" ]; then
        # the deb-src entry is the one fetch-libvirt-source.sh derives
        if ! apt-get source --print-uris qemu </dev/null 2>/dev/null | grep -q orig.tar; then
            scripts/fetch-libvirt-source.sh --print-deb-src >/dev/null
            say "apt has no deb-src entry: run scripts/fetch-libvirt-source.sh once as root"
            exit 1
        fi
        say "downloading Debian's qemu source package into $work/src"
        (cd "$work/src" && apt-get source --download-only qemu </dev/null >&2)
        orig=$(ls "$work"/src/qemu_*.orig.tar.* | head -n1)
    fi
    # The first member names the top directory; tar is stopped by head's
    # exit (SIGPIPE), which pipefail would take for a failure: read the
    # listing in full instead (awk exits only at its end).
    top_dir=$(tar -tf "$orig" | awk -F/ 'NR == 1 { d = $1 } END { print d }')
    tar -xf "$orig" -C "$work/src" "$top_dir/tests/qemu-iotests" "$top_dir/python"
    tree=$work/src/$top_dir/tests/qemu-iotests
fi

# vdisk-virsh speaks as qemu-img when called by that name.
mkdir -p "$work/bin-$label"
ln -sfn "$(readlink -f "$vdisk")" "$work/bin-$label/qemu-img"

# run_one PROG_LABEL QEMU_IMG FORMAT: verdicts into results/LABEL-FORMAT/verdicts
run_one() {
    local label=$1 img=$2 fmt=$3
    local out=$work/results/$label-$fmt run=$work/run-$label-$fmt
    rm -rf "$out" "$run"
    mkdir -p "$out" "$run/tests" "$run/scratch" "$run/sock"
    # a copy of the tests per run: ./check writes its .out.bad files beside
    # them, so runs side by side need trees of their own
    cp -r "$tree" "$run/tests/qemu-iotests"
    rm -f "$run"/tests/qemu-iotests/*.out.bad "$run"/tests/qemu-iotests/tests/*.out.bad
    ln -s "$(dirname "$(dirname "$tree")")/python" "$run/python"
    local sel=("${tests[@]}")
    [ ${#sel[@]} -gt 0 ] || sel=(-g "$group")
    say "running ${sel[*]} for $fmt with $label ($img)"
    (cd "$run/tests/qemu-iotests" &&
     TEST_DIR=$run/scratch SOCK_DIR=$run/sock \
     QEMU_IMG_PROG=$img QEMU_IO_PROG=$(command -v qemu-io) \
     QEMU_NBD_PROG=$(command -v qemu-nbd) QSD_PROG=$(command -v qemu-storage-daemon) \
     QEMU_PROG=$(command -v qemu-system-x86_64) \
     /usr/bin/python3 ./check -tap -j "$jobs" "-$fmt" "${sel[@]}" \
        > "$out/tap" 2> "$out/stderr" </dev/null) || true
    # "ok qcow2 001", "not ok qcow2 002", "ok qcow2 003 # SKIP reason"
    awk '/^ok .* # SKIP/ { print $3, "skip"; next }
         /^ok /          { print $3, "pass"; next }
         /^not ok /      { print $4, "fail" }' "$out/tap" | sort > "$out/verdicts"
    # ./check leaves TEST_DIR/<test>.out.bad for each failure (with -j N
    # above 1, TEST_DIR/<test>/<test>.out.bad)
    for f in "$run"/scratch/*.out.bad "$run"/scratch/*/*.out.bad; do
        [ -e "$f" ] && mv "$f" "$out/" || true
    done
    rm -rf "$run"
}

status=0
IFS=, read -r -a fmt_list <<< "$formats"
for fmt in "${fmt_list[@]}"; do
    if [ "$only" != vdisk ]; then
        run_one qemu-img "$(command -v qemu-img)" "$fmt"
    fi
    [ "$only" != qemu-img ] || continue
    run_one "$label" "$work/bin-$label/qemu-img" "$fmt"
    ref=$work/results/qemu-img-$fmt/verdicts
    got=$work/results/$label-$fmt/verdicts
    if [ ! -s "$ref" ]; then
        say "no qemu-img verdicts for $fmt yet: run without --only first"
        status=1
        continue
    fi
    # over the tests of this run (all of the group, or those named)
    m=$(join "$ref" "$got" | awk '$2 == "pass"' | wc -l)
    n=$(join "$ref" "$got" | awk '$2 == "pass" && $3 == "pass"' | wc -l)
    echo "iotests: $n passed with $label of $m passed with qemu-img (format $fmt)"
    echo "  test                  qemu-img  $label"
    join -a2 -e none -o 0,1.2,2.2 "$ref" "$got" |
        awk '$2 != $3 { printf "  %-21s %-9s %s\n", $1, $2, $3 }'
    [ "$n" -eq "$m" ] || status=1
done
exit $status
