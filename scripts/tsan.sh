#!/usr/bin/env bash
# ThreadSanitizer run of libvdisk's threaded code: builds ./build-tsan (or
# $VDISK_TSAN_DIR) with -Db_sanitize=thread and runs, under TSan, the soak
# (tests/soak: threads on one handle, every variant) and the unit tests whose
# code runs threads (qcow2 parallel writes and reads, LUKS sector workers,
# the convert engine's workers).  Any report fails the run
# (halt_on_error); tests/tsan/suppressions.txt lists what is suppressed, each
# with its reason.
#   scripts/tsan.sh [vdisk-soak options...]     e.g. scripts/tsan.sh --ops 5000 --threads 8
set -euo pipefail
cd "$(dirname "$0")/.."

builddir=${VDISK_TSAN_DIR:-build-tsan}
unit_tests=(test-qcow2-write test-qcow2-io test-crypto-sectors test-convert)

if [ ! -f "$builddir/build.ninja" ]; then
    # Only what the run needs is built (see the ninja line), so features
    # that would pull in more are off.  b_lundef=false: the sanitizer
    # runtime resolves its symbols at load time.
    meson setup "$builddir" -Db_sanitize=thread -Db_lundef=false -Dbuildtype=debugoptimized \
        -Dtests=true -Dlibvirt_client=disabled -Drbd=disabled -Dnbd=disabled \
        -Dnbdkit_plugin=disabled -Dman=disabled >/dev/null
fi
ninja -C "$builddir" tests/soak/vdisk-soak "${unit_tests[@]/#/tests/unit/}"

export TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 exitcode=66 suppressions=$PWD/tests/tsan/suppressions.txt"
status=0
for t in "${unit_tests[@]}"; do
    if (cd "$builddir/tests/unit" && ./"$t" >"$t.tsan.log" 2>&1); then
        echo "tsan: $t: ok"
    else
        echo "tsan: $t: FAILED (log: $builddir/tests/unit/$t.tsan.log)"
        tail -40 "$builddir/tests/unit/$t.tsan.log"
        status=1
    fi
done
if [ $# -eq 0 ]; then
    set -- --seed 20261207 --ops 400
fi
"$builddir/tests/soak/vdisk-soak" --dir "$builddir" "$@" || status=1
exit $status
