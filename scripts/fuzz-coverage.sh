#!/usr/bin/env bash
# Line coverage of every parser by the fuzz corpus (llvm-cov).
#   scripts/fuzz-coverage.sh [CORPUS_ROOT...]
# Builds the libFuzzer targets with clang source-based coverage
# (-fprofile-instr-generate -fcoverage-mapping) in ./build-fuzz-cov (or
# $VDISK_FUZZ_COV_DIR), generates the seeds (tests/fuzz/make-corpus.sh),
# runs each target once over every input of its corpus (-runs=0: no
# mutation, so the numbers are the corpus's, not a fuzzing run's): the
# generated seeds plus the minimised corpus kept in the tree
# (tests/fuzz/corpus/fuzz-NAME), plus each CORPUS_ROOT/fuzz-NAME directory
# given (say build-fuzz/fuzz-corpus, what scripts/test.sh or
# scripts/fuzz-long.sh grew).  It merges the profiles and prints the line
# coverage per source file of each parser and per parser, PASS or FAIL
# against the goal of 90% (README, "Reliability"; $VDISK_FUZZ_COV_GOAL).
# Writer functions no file reaches and allocation-failure lines are left
# out, each counted in the "excl" column (tests/fuzz/coverage-exclude.txt,
# tests/fuzz/coverage-table.py).  Exit status 1 when a parser is below the
# goal.  Full per-line report: llvm-cov show, command printed at the end.
set -euo pipefail
cd "$(dirname "$0")/.."

builddir=${VDISK_FUZZ_COV_DIR:-build-fuzz-cov}
cov_flags='-fprofile-instr-generate -fcoverage-mapping'
if [ ! -f "$builddir/build.ninja" ]; then
    CC=clang meson setup "$builddir" -Dfuzzing=true -Ddefault_library=static -Dtests=false \
        -Dc_args="$cov_flags" -Dc_link_args="$cov_flags" \
        -Dlibvirt_client=disabled -Drbd=disabled -Dnbd=disabled -Dnbdkit_plugin=disabled \
        -Dman=disabled >/dev/null
fi
ninja -C "$builddir" >/dev/null
seeds=$builddir/fuzz-seeds
# The seeds again when make-corpus.sh changed since they were made.
if [ ! -d "$seeds" ] || [ tests/fuzz/make-corpus.sh -nt "$seeds" ]; then
    rm -rf "$seeds"
    tests/fuzz/make-corpus.sh "$seeds" >/dev/null 2>&1
fi

prof=$builddir/fuzz-profiles
rm -rf "$prof"
mkdir -p "$prof"
objects=()
for t in $(find "$builddir/tests/fuzz" -maxdepth 1 -type f -name 'fuzz-*' -perm -u+x | sort); do
    name=$(basename "$t")
    dirs=()
    for root in "$seeds" tests/fuzz/corpus "$@"; do
        [ -d "$root/$name" ] && dirs+=("$root/$name")
    done
    [ ${#dirs[@]} -gt 0 ] || { echo "$name: no corpus" >&2; continue; }
    n=$(find "${dirs[@]}" -type f | wc -l)
    # One process per target; ASan's leak check is off (exit codes of a
    # leak would stop the run, and leaks are the fuzz run's business).
    # -max_len: inputs are read whole (libFuzzer cuts them at 1 MiB else).
    LLVM_PROFILE_FILE="$prof/$name.profraw" ASAN_OPTIONS=detect_leaks=0 \
        "$t" -runs=0 -max_len=$((16 << 20)) -rss_limit_mb=4096 -artifact_prefix="$prof/$name-" "${dirs[@]}" >"$prof/$name.log" 2>&1 ||
        { echo "$name: failed on its corpus (log: $prof/$name.log)" >&2; exit 1; }
    echo "$name: $n inputs"
    objects+=(-object "$t")
done
llvm-profdata merge -sparse "$prof"/*.profraw -o "$prof/all.profdata"

# The parsers of untrusted bytes, each a set of source files (DESIGN.md:
# every one has a fuzz target).
declare -A parsers=(
    [qcow2]='core/qcow2/header.c core/qcow2/open.c core/qcow2/cluster.c core/qcow2/io.c core/qcow2/snapshot-table.c core/qcow2/bitmap-dir.c core/qcow2/bitmap.c core/qcow2/refcount.c core/qcow2/check.c core/qcow2/check-overlap.c core/qcow2/check-snapshot.c core/qcow2/check-bitmap.c core/qcow2/check-imrt.c core/qcow2/repair.c core/qcow2/crypt.c'
    [luks]='core/crypto/luks-header.c core/crypto/luks-keyslot.c core/crypto/afsplit.c core/crypto/luks-driver.c'
    [iso9660]='core/iso9660/descriptor.c core/iso9660/dirrec.c core/iso9660/susp.c core/iso9660/eltorito.c core/iso9660/directory.c core/iso9660/reader.c core/iso9660/walk.c core/iso9660/names.c core/iso9660/date.c core/iso9660/zisofs.c'
    [vhdx]='core/vhdx/header.c core/vhdx/region.c core/vhdx/metadata.c core/vhdx/bat.c core/vhdx/log.c core/vhdx/parent.c core/vhdx/driver.c core/vhdx/io.c'
    [vpc]='core/vpc/footer.c core/vpc/dynheader.c core/vpc/bat.c core/vpc/parent.c core/vpc/driver.c core/vpc/io.c'
    [vdi]='core/vdi/header.c core/vdi/driver.c core/vdi/check.c'
    [qed]='core/qed/header.c core/qed/table.c core/qed/driver.c core/qed/check.c'
    [parallels]='core/parallels/header.c core/parallels/driver.c core/parallels/check.c'
    [vmdk]='core/vmdk/header.c core/vmdk/descriptor.c core/vmdk/sparse.c core/vmdk/grain.c core/vmdk/stream.c core/vmdk/extent.c core/vmdk/io.c'
    [xml]='plugin/xml-pool.c plugin/xml-pool-source.c plugin/xml-vol.c plugin/xml-read.c plugin/xml-node.c plugin/xml-units.c plugin/xml-encryption.c plugin/xml-perms.c plugin/secret-xml.c'
)
lcov=$prof/coverage.lcov
llvm-cov export -format=lcov "${objects[@]:1}" -instr-profile="$prof/all.profdata" >"$lcov"

args=()
for p in $(printf '%s\n' "${!parsers[@]}" | sort); do
    args+=("$p=$(echo ${parsers[$p]} | tr ' ' ',')")
done
echo
status=0
python3 tests/fuzz/coverage-table.py "$lcov" tests/fuzz/coverage-exclude.txt \
    "${VDISK_FUZZ_COV_GOAL:-90}" "${args[@]}" || status=$?
echo
echo "per-line detail: llvm-cov show ${objects[*]:1} -instr-profile=$prof/all.profdata"
exit $status
