#!/usr/bin/env bash
# The full fault-injection run of tests/faults (CI runs it with one errno
# per step from scripts/test.sh): EIO and ENOSPC at every write, flush and
# allocation of every operation, each outcome judged (message, consistency,
# nothing half-made).
#   scripts/faults.sh [PYTEST ARGS...]   (e.g. -k snapshot)
# VDISK_FAULT_ERRNOS picks the errnos (default EIO,ENOSPC); VDISK_BUILD_DIR
# the build (default ./build, configured with -Dtests=true).  Prints one
# "faults:" line per operation; exits non-zero if any outcome was bad.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
mkdir -p build-logs
VDISK_FAULT_FULL=1 /usr/bin/python3 -m pytest -q -s -p no:cacheprovider tests/faults "$@" \
    2>&1 | tee build-logs/faults-full.log
rc=${PIPESTATUS[0]}
echo
grep -a '^faults:' build-logs/faults-full.log | sort -u
exit "$rc"
