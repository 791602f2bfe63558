#!/usr/bin/env bash
# Benchmarks: vdisk-virsh against qemu-img on the same generated input.
#   bench/run.sh            full run (~10-15 minutes on 2 cores)
#   bench/run.sh --quick    small sizes, one run: checks that everything works
#   bench/run.sh --help     all options (runs, subset, seed, output directory)
# Installs the dependencies and builds first (no-ops when done).  Results in
# bench/out/results.md and results.json; see bench/bench.py for the method.
set -euo pipefail
cd "$(dirname "$0")/.."
case " $* " in
*" -h "* | *" --help "*) exec /usr/bin/python3 bench/bench.py --help ;;
esac
scripts/install-deps.sh >/dev/null
mkdir -p bench/out
scripts/build.sh >bench/out/build.log 2>&1 || { tail -n 40 bench/out/build.log; exit 1; }
exec /usr/bin/python3 bench/bench.py "$@"
