#!/usr/bin/env bash
# The full power-loss crash-state enumeration of tests/crash (CI runs a
# seeded sample of it from scripts/test.sh): every crash state of every
# operation -- every subset of the changes between two flushes where there
# are at most 10, else every "one missing" / "only one" state and 64 seeded
# random subsets, plus torn writes -- checked with qemu-img check, a
# read-back of the flushed data and vdisk's check -r all.  The embedded
# registry's operations (test_crash_registry.py: pool and secret
# definitions, pool state, volume records; recorded with strace) get every
# state of every crash point where a point has at most 1024, each file old
# or new and whole, nothing lost once the command returned, the registry
# readable and the operation possible again.
#   scripts/crash-states.sh [PYTEST ARGS...]   (e.g. -k snapshot, -k registry)
# VDISK_CRASH_SEED picks the random subsets (default 1); VDISK_BUILD_DIR the
# build (default ./build, configured with -Dtests=true).  Prints one
# "crash states:" line per operation; exits non-zero if any state failed.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
mkdir -p build-logs
VDISK_CRASH_FULL=1 /usr/bin/python3 -m pytest -q -s -p no:cacheprovider tests/crash "$@" \
    2>&1 | tee build-logs/crash-full.log
rc=${PIPESTATUS[0]}
echo
grep -a '^crash states:' build-logs/crash-full.log | sort -u
exit "$rc"
