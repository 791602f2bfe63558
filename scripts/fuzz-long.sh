#!/usr/bin/env bash
# Long fuzzing run: every libFuzzer target (or those named) in turn, HOURS in
# all split evenly between them, each growing its corpus in
# build-fuzz/fuzz-corpus/NAME from the seeds of tests/fuzz/make-corpus.sh
# and the minimised corpus kept in the tree (tests/fuzz/corpus/NAME).
#   scripts/fuzz-long.sh HOURS [fuzz-NAME...]     e.g. scripts/fuzz-long.sh 8 fuzz-qcow2 fuzz-vmdk
# Builds ./build-fuzz as scripts/test.sh does (clang, ASan + UBSan).  A
# crash stops that target and leaves its input in build-fuzz/fuzz-artifacts
# (replay: build-fuzz/tests/fuzz/fuzz-NAME build-fuzz/fuzz-artifacts/fuzz-NAME-crash-...);
# the run goes on with the next target and exits non-zero at the end.  Each
# grown corpus is then minimised (-merge=1) into build-fuzz/fuzz-corpus-min/NAME,
# and scripts/fuzz-coverage.sh reports the coverage it reaches (its table,
# PASS/FAIL per parser against 90%).
# VDISK_FUZZ_JOBS=N runs N fuzzing processes per target (default 1: this
# machine's two cores are shared).
# VDISK_FUZZ_UPDATE_CORPUS=1 also adds to tests/fuzz/corpus/NAME the grown
# inputs that reach code the seeds and the kept corpus do not (-merge=1
# against both, edges only, inputs over $VDISK_FUZZ_CORPUS_MAX bytes (64 KiB)
# left out so the tree stays small);
# review and commit them.  A crash input is never added by this: fix the
# bug, then copy the input there by hand as a regression input.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

if [ $# -lt 1 ]; then
    echo "usage: scripts/fuzz-long.sh HOURS [fuzz-NAME...]" >&2
    exit 2
fi
hours=$1
shift
jobs=${VDISK_FUZZ_JOBS:-1}
max_len=$((4 << 20))   # the LUKS seeds are over libFuzzer's 1 MiB default
CC=clang VDISK_BUILD_DIR=build-fuzz scripts/build.sh \
    -Dfuzzing=true -Ddefault_library=static -Dtests=false >/dev/null
tests/fuzz/make-corpus.sh build-fuzz/fuzz-seeds >/dev/null

if [ $# -eq 0 ]; then
    set -- $(find build-fuzz/tests/fuzz -maxdepth 1 -type f -name 'fuzz-*' -perm -u+x \
                 -printf '%f\n' | sort)
fi
seconds=$(awk -v h="$hours" -v n=$# 'BEGIN { s = int(h * 3600 / n); print (s < 1 ? 1 : s) }')
mkdir -p build-fuzz/fuzz-artifacts
status=0
for name in "$@"; do
    t=build-fuzz/tests/fuzz/$name
    [ -x "$t" ] || { echo "$name: no such target in build-fuzz/tests/fuzz" >&2; exit 2; }
    corpus=build-fuzz/fuzz-corpus/$name
    mkdir -p "$corpus"
    seeds=()
    [ -d build-fuzz/fuzz-seeds/$name ] && seeds+=(build-fuzz/fuzz-seeds/$name)
    [ -d tests/fuzz/corpus/$name ] && seeds+=(tests/fuzz/corpus/$name)
    echo "$name: ${seconds}s, corpus $corpus"
    # -jobs: libFuzzer writes fuzz-N.log in its working directory, so the
    # fuzzer runs in build-fuzz/fuzz-artifacts, every path absolute.
    jobargs=()
    [ "$jobs" -gt 1 ] && jobargs=(-jobs="$jobs" -workers="$jobs")
    abs=()
    for d in "$corpus" "${seeds[@]}"; do abs+=("$root/$d"); done
    if ! (cd build-fuzz/fuzz-artifacts &&
          exec "$root/$t" -max_total_time="$seconds" -len_control=0 -max_len=$max_len -timeout=20 \
            -rss_limit_mb=3072 "${jobargs[@]}" -artifact_prefix="$root/build-fuzz/fuzz-artifacts/$name-" \
            "${abs[@]}" >"$root/build-fuzz/fuzz-artifacts/$name.log" 2>&1); then
        echo "$name: FAILED (log: build-fuzz/fuzz-artifacts/$name.log)"
        status=1
    fi
    min=build-fuzz/fuzz-corpus-min/$name
    rm -rf "$min"
    mkdir -p "$min"
    "$t" -merge=1 -max_len=$max_len "$min" "$corpus" >/dev/null 2>&1 || true
    echo "$name: corpus $(ls "$corpus" | wc -l) inputs, minimised $(ls "$min" | wc -l)"
    if [ "${VDISK_FUZZ_UPDATE_CORPUS:-0}" = 1 ]; then
        # Merge into a directory that already holds the seeds and the kept
        # corpus: what the merge adds is what they lack.
        base=$(mktemp -d)
        for d in "${seeds[@]}"; do cp "$d"/* "$base"/ 2>/dev/null || true; done
        before=$(mktemp)
        ls "$base" | sort >"$before"
        # Edges only (-use_counters=0: no hit-count buckets), and only inputs
        # of at most $VDISK_FUZZ_CORPUS_MAX bytes (default 64 KiB; fuzz-vmdk's
        # kept corpus was made with 256 KiB): the tree keeps a few MiB.
        "$t" -merge=1 -use_counters=0 -max_len=$max_len "$base" "$min" >/dev/null 2>&1 || true
        mkdir -p tests/fuzz/corpus/$name
        added=0
        for f in $(ls "$base" | sort | comm -13 "$before" -); do
            [ "$(stat -c %s "$base/$f")" -le "${VDISK_FUZZ_CORPUS_MAX:-65536}" ] || continue
            cp "$base/$f" tests/fuzz/corpus/$name/
            added=$((added + 1))
        done
        rm -rf "$base" "$before"
        echo "$name: $added inputs added to tests/fuzz/corpus/$name"
    fi
done
scripts/fuzz-coverage.sh build-fuzz/fuzz-corpus-min || status=1
exit $status
