#!/usr/bin/env bash
# Generate the seed corpus of the fuzz targets with qemu-img and qemu-io
# (the images are made fresh on every run; none is committed).
#   tests/fuzz/make-corpus.sh OUTDIR
# writes OUTDIR/fuzz-luks/* (LUKS1 containers) and OUTDIR/fuzz-qcow2/*: small qcow2 images covering v2/v3, several
# cluster sizes and refcount widths, extended L2, zero clusters, discards,
# compressed clusters (zlib, zstd), a backing-file name, an internal snapshot
# and a dirty bitmap.  Small clusters keep the inputs small, which is where
# a fuzzer's mutations pay off.
set -euo pipefail

out=${1:?usage: make-corpus.sh OUTDIR}
dir="$out/fuzz-qcow2"
rm -rf "$dir"
mkdir -p "$dir"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# img NAME SIZE OPTIONS [QEMU-IO COMMAND...]: a qcow2 with those -o options,
# then the qemu-io commands applied to it.
img() {
    local name=$1 size=$2 opts=$3
    shift 3
    local f="$dir/$name.qcow2"
    qemu-img create -q -f qcow2 -o "$opts" "$f" "$size"
    local args=()
    for c in "$@"; do args+=(-c "$c"); done
    if [ ${#args[@]} -gt 0 ]; then
        qemu-io -f qcow2 "${args[@]}" "$f" >/dev/null
    fi
}

# Data at aligned and unaligned offsets, a zero write, a discard.
data=('write -P 0xaa 0 4k' 'write -P 0x55 5000 3000' 'write -z 16k 8k'
      'write -P 0x11 900k 64k' 'discard 900k 4k')

img v3-c512-empty 1M cluster_size=512
img v3-c512-data 1M cluster_size=512 "${data[@]}"
img v2-c512-data 1M cluster_size=512,compat=0.10 "${data[@]}"
img v3-c4k-data 2M cluster_size=4k "${data[@]}"
img v3-c4k-refcount1 2M cluster_size=4k,refcount_bits=1 "${data[@]}"
img v3-c4k-refcount64 2M cluster_size=4k,refcount_bits=64 "${data[@]}"
img v3-c1k-lazy 1M cluster_size=1k,lazy_refcounts=on "${data[@]}"
img v3-c512-prealloc-metadata 256k cluster_size=512,preallocation=metadata
img v3-c64k-data 4M cluster_size=64k 'write -P 0xcc 65000 2000' 'write -z 1M 64k'
# Extended L2: 16 KiB clusters of 32 subclusters of 512 bytes.
img v3-c16k-extl2 2M cluster_size=16k,extended_l2=on \
    'write -P 0xaa 1536 512' 'write -z 4k 512' 'write -P 0x33 40k 20k' 'discard 41k 1k'
# A large virtual size with a sparse L1 (entries far apart).
img v3-c4k-big 64G cluster_size=4k 'write -P 0x77 60G 4k'

# A backing-file name in the header (the target opens without the backing).
# The base sits beside it while qemu-io writes, then goes.
img base 1M cluster_size=4k
img v3-c4k-backing 1M cluster_size=4k,backing_file=base.qcow2,backing_fmt=qcow2 \
    'write -P 0x99 4k 4k'
rm "$dir/base.qcow2"

# Internal snapshot and a persistent dirty bitmap (header extension).
img v3-c4k-snapshot 1M cluster_size=4k 'write -P 0x42 0 8k'
qemu-img snapshot -c snap1 "$dir/v3-c4k-snapshot.qcow2"
qemu-io -f qcow2 -c 'write -P 0x43 4k 4k' "$dir/v3-c4k-snapshot.qcow2" >/dev/null
img v3-c4k-bitmap 1M cluster_size=4k 'write -P 0x44 0 4k'
qemu-img bitmap --add "$dir/v3-c4k-bitmap.qcow2" bm0

# Compressed clusters, zlib and zstd, from compressible raw content.
qemu-img create -q -f raw "$tmp/src.raw" 256k
qemu-io -f raw -c 'write -P 0x61 0 64k' -c 'write -P 0x62 128k 32k' "$tmp/src.raw" >/dev/null
qemu-img convert -c -f raw -O qcow2 -o cluster_size=4k "$tmp/src.raw" "$dir/v3-c4k-zlib.qcow2"
qemu-img convert -c -f raw -O qcow2 -o cluster_size=4k,compat=0.10 "$tmp/src.raw" "$dir/v2-c4k-zlib.qcow2"
qemu-img convert -c -f raw -O qcow2 -o cluster_size=4k,compression_type=zstd \
    "$tmp/src.raw" "$dir/v3-c4k-zstd.qcow2"

echo "make-corpus: $(find "$dir" -type f | wc -l) seeds in $dir ($(du -sh --apparent-size "$dir" | cut -f1))"

# fuzz-luks: raw LUKS1 containers from qemu-img (passphrase "fuzz", the one
# the target tries; 1 ms PBKDF2 keeps the iteration counts low), several
# ciphers and IV generators, plus a header-only truncation.
ldir="$out/fuzz-luks"
rm -rf "$ldir"
mkdir -p "$ldir"
printf 'fuzz' > "$tmp/pw"
luks() {
    local name=$1 opts=$2 i
    for i in 1 2 3 4 5; do   # QEMU's PBKDF2 calibration sometimes fails here
        qemu-img create -q -f luks --object "secret,id=s0,file=$tmp/pw" \
            -o "key-secret=s0,iter-time=1,$opts" "$ldir/$name.luks" 4k 2>/dev/null && return 0
        sleep 0.1
    done
    echo "make-corpus: qemu-img could not create $name.luks" >&2
    return 1
}
luks aes-xts 'cipher-alg=aes-256,cipher-mode=xts'
luks aes128-cbc-essiv 'cipher-alg=aes-128,cipher-mode=cbc,ivgen-alg=essiv,hash-alg=sha1'
luks serpent-cbc-plain 'cipher-alg=serpent-256,cipher-mode=cbc,ivgen-alg=plain'
luks cast5-ecb 'cipher-alg=cast5-128,cipher-mode=ecb,hash-alg=sha512'
head -c 4096 "$ldir/aes-xts.luks" > "$ldir/header-only.luks"
echo "make-corpus: $(find "$ldir" -type f | wc -l) seeds in $ldir"
