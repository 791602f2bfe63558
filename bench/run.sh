#!/usr/bin/env bash
# Benchmarks: vdisk-virsh against qemu-img on the same generated input, on a
# quiet and on a loaded machine, beside the floors (cp, compression CPU).
#   bench/run.sh            full run (~30 minutes on 2 quiet cores)
#   bench/run.sh --quick    small sizes, one run: checks that everything works
#   bench/run.sh --help     all options (runs, size, modes, subset, output)
# Installs the dependencies and builds first (no-ops when done).  Results in
# bench/out/results.md, .json and .png; see bench/bench.py for the method.
set -euo pipefail
cd "$(dirname "$0")/.."
case " $* " in
*" -h "* | *" --help "*) exec /usr/bin/python3 bench/bench.py --help ;;
esac
scripts/install-deps.sh >/dev/null
mkdir -p bench/out
scripts/build.sh >bench/out/build.log 2>&1 || { tail -n 40 bench/out/build.log; exit 1; }
exec /usr/bin/python3 bench/bench.py "$@"
