#!/usr/bin/env bash
# Generate the seed corpus of the fuzz targets with qemu-img and qemu-io
# (the images are made fresh on every run; none is committed).
#   tests/fuzz/make-corpus.sh OUTDIR
# writes OUTDIR/fuzz-qcow2/* and OUTDIR/fuzz-qcow2-refcount/*: small qcow2 images covering v2/v3, several
# writes OUTDIR/fuzz-qcow2-snapshot/* (snapshot tables) and OUTDIR/fuzz-qcow2/*: small qcow2 images covering v2/v3, several
# writes OUTDIR/fuzz-luks/* (LUKS1 containers) and OUTDIR/fuzz-qcow2/*: small qcow2 images covering v2/v3, several
# writes OUTDIR/fuzz-iso-*/* too (ISO images from xorriso and genisoimage;
# see the end of this file), and OUTDIR/fuzz-qcow2/*: small qcow2 images covering v2/v3, several
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
# 64-bit refcounts in 512-byte clusters: a refcount block covers 32 KiB of
# the file and the one-cluster refcount table 2 MiB; the file ends just
# short of that, so the target's writes make the table grow (and move).
img v3-c512-refcount64-full 4M cluster_size=512,refcount_bits=64 'write -P 0x3c 0 1950k'
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

# What open refuses or treats specially: an external data file, the
# corrupt bit (read-only), an unknown incompatible feature, the dirty bit
# without lazy refcounts, a qcow version 1 image, an unknown header
# extension.
qemu-img create -q -f qcow2 -o cluster_size=4k,data_file="$tmp/data.raw" "$dir/v3-c4k-datafile.qcow2" 1M
python3 - "$dir" <<'PY'
import struct, sys
d = sys.argv[1]
base = open(f"{d}/v3-c4k-data.qcow2", "rb").read()
def variant(name, fn):
    b = bytearray(base)
    fn(b)
    open(f"{d}/{name}.qcow2", "wb").write(b)
def incompat(bits):
    return lambda b: struct.pack_into(">Q", b, 72, struct.unpack_from(">Q", b, 72)[0] | bits)
variant("v3-c4k-corrupt-bit", incompat(2))
variant("v3-c4k-dirty-bit", incompat(1))
variant("v3-c4k-unknown-incompat", incompat(1 << 40))
def unknown_ext(b):
    hl = struct.unpack_from(">I", b, 100)[0]
    ext = struct.pack(">II", 0x12345678, 5) + b"hello\0\0\0"
    b[hl:hl] = ext          # before the existing extensions
    del b[4096:4096 + len(ext)]
variant("v3-c4k-unknown-ext", unknown_ext)
PY
qemu-img create -q -f qcow "$dir/qcow1.qcow2" 64k
# Encrypted: LUKS (its header and key material in clusters of the image) and
# legacy AES.  The target opens them without the passphrase (metadata only);
# the passphrase goes to qemu-img in a file, never in argv.
printf fuzz >"$tmp/pass"
sec=(--object "secret,id=s0,file=$tmp/pass")
# AES-128 in CBC mode: 16-byte keys keep the eight key slots' material (and
# the image) under libFuzzer's 1 MiB input limit; 1 ms of PBKDF2 keeps the
# unlock the fuzz target does with the passphrase cheap.
for i in 1 2 3 4 5; do   # QEMU's PBKDF2 calibration sometimes fails with 1 ms
    qemu-img create -q -f qcow2 "${sec[@]}" \
        -o cluster_size=4k,encrypt.format=luks,encrypt.key-secret=s0,encrypt.iter-time=1,encrypt.cipher-alg=aes-128,encrypt.cipher-mode=cbc,encrypt.ivgen-alg=plain64 \
        "$dir/v3-c4k-luks.qcow2" 1M 2>/dev/null && break
done
qemu-io "${sec[@]}" -c 'write -P 0x5a 0 8k' -c 'write -P 0x5b 9000 1000' \
    --image-opts "driver=qcow2,encrypt.key-secret=s0,file.filename=$dir/v3-c4k-luks.qcow2" >/dev/null
qemu-img create -q -f qcow2 "${sec[@]}" -o cluster_size=4k,encrypt.format=aes,encrypt.key-secret=s0 \
    "$dir/v3-c4k-aes.qcow2" 1M

# fuzz-storage-xml: pool and volume XML in libvirt's dialect with vdisk's
# namespace, plus libvirt's own storage XML test data when it has been
# fetched (scripts/fetch-libvirt-source.sh).
xdir="$out/fuzz-storage-xml"
rm -rf "$xdir"
mkdir -p "$xdir"
cat > "$xdir/pool.xml" <<'XML'
<pool type='vdisk' xmlns:vdisk='http://libvirt.org/schemas/storagepool/vdisk/1.0'>
  <name>images</name>
  <uuid>70a7eb15-6c34-ee9c-bf57-69e8e5ff3fb2</uuid>
  <features><cow state='no'/></features>
  <target><path>/srv/images</path>
    <permissions><mode>0711</mode><owner>0</owner><group>-1</group><label>l</label></permissions>
  </target>
  <vdisk:provisioning><vdisk:zeroing>eager</vdisk:zeroing><vdisk:overcommit>1.5</vdisk:overcommit></vdisk:provisioning>
</pool>
XML
cat > "$xdir/vol-qcow2.xml" <<'XML'
<volume type='file'>
  <name>disk.qcow2</name>
  <capacity unit='GiB'>5</capacity>
  <allocation unit='KB'>294</allocation>
  <target>
    <format type='qcow2'/>
    <permissions><mode>0640</mode><owner>107</owner></permissions>
    <compat>1.1</compat><clusterSize unit='K'>128</clusterSize><nocow/>
    <features><lazy_refcounts/><extended_l2/></features>
    <encryption format='luks'><secret type='passphrase' usage='v'/>
      <cipher name='aes' size='256' mode='xts' hash='sha256'/><ivgen name='plain64' hash='sha256'/>
    </encryption>
  </target>
  <backingStore><path>/srv/base.img</path><format type='vmdk'/></backingStore>
</volume>
XML
printf '<volume><name>r</name><capacity unit="EiB">7</capacity><allocation>0</allocation></volume>\n' \
    > "$xdir/vol-raw.xml"
printf '<!DOCTYPE volume [<!ENTITY e "x">]>\n<volume><name>&e;</name></volume>\n' > "$xdir/entity.xml"
# What the reader's guards refuse: an external DTD, a parameter entity, an
# unparsed (NDATA) entity, an undeclared reference, nesting past 32 levels;
# and what the parser refuses: no root, bad units, sizes out of range.
printf '<!DOCTYPE volume SYSTEM "http://example.invalid/v.dtd">\n<volume><name>x</name></volume>\n' \
    > "$xdir/external-dtd.xml"
printf '<!DOCTYPE pool [<!ENTITY %% p "<!ENTITY q \x27y\x27>"> %%p;]>\n<pool type="dir"><name>&q;</name></pool>\n' > "$xdir/param-entity.xml"
printf '<!DOCTYPE pool [<!NOTATION n SYSTEM "n"><!ENTITY u SYSTEM "u" NDATA n>]>\n<pool type="dir"/>\n' \
    > "$xdir/unparsed-entity.xml"
printf '<volume><name>&undeclared;</name></volume>\n' > "$xdir/undeclared.xml"
{ printf '<volume>'; for i in $(seq 40); do printf '<a>'; done; for i in $(seq 40); do printf '</a>'; done
  printf '</volume>\n'; } > "$xdir/deep.xml"
printf '<?xml version="1.0"?>\n<!-- only a comment -->\n' > "$xdir/no-root.xml"
cat > "$xdir/vol-units.xml" <<'XML'
<volume type='block'>
  <name>u</name><key>k</key>
  <capacity unit='PB'>99999999999</capacity><allocation unit='parsec'>1</allocation>
  <physical unit='bytes'>12</physical>
  <target><format type='iso'/><compat>2.0</compat><clusterSize>3000</clusterSize>
    <features><lazy_refcounts/><unknown/></features></target>
  <backingStore><path></path></backingStore>
</volume>
XML
# Pools with a <source> (xml-pool-source.c): Ceph RBD with hosts, auth and
# vdisk's config file; a shared filesystem (netfs grammar).
cat > "$xdir/pool-rbd.xml" <<'XML'
<pool type='vdisk' xmlns:vdisk='http://libvirt.org/schemas/storagepool/vdisk/1.0'>
  <name>ceph</name>
  <source>
    <host name='10.0.0.1' port='6789'/><host name='mon2'/>
    <name>rbd</name>
    <auth type='ceph' username='libvirt'><secret uuid='2ec115d7-3a88-3ceb-bc12-0ac909a6fd87'/></auth>
  </source>
  <vdisk:config file='/etc/ceph/ceph.conf'/>
</pool>
XML
cat > "$xdir/pool-rbd-usage.xml" <<'XML'
<pool type='vdisk'>
  <name>c2</name>
  <source><host name='h' port='99999'/><name>p</name>
    <auth type='chap' username='u'><secret usage='ceph-key'/></auth></source>
</pool>
XML
cat > "$xdir/pool-netfs.xml" <<'XML'
<pool type='netfs'>
  <name>shared</name>
  <source><host name='gluster1'/><dir path='/vmvol'/><format type='glusterfs'/></source>
  <target><path>/var/lib/vdisk/shared</path></target>
</pool>
XML
cat > "$xdir/pool-netfs-bad.xml" <<'XML'
<pool type='vdisk'>
  <name>n</name>
  <source><host name='a'/><host name='b'/><dir path='rel dir'/><protocol ver='3'/><format type='cifs'/></source>
  <target><path>/mnt/n</path></target>
</pool>
XML
# vdisk's backing-file policy (allowed; a value it does not know), the
# namespace forgotten, a name too long.
cat > "$xdir/pool-backing.xml" <<'XML'
<pool type='vdisk' xmlns:vdisk='http://libvirt.org/schemas/storagepool/vdisk/1.0'>
  <name>b</name><target><path>/srv/b</path></target>
  <vdisk:backing><vdisk:outside>allow</vdisk:outside></vdisk:backing>
</pool>
XML
printf "<pool type='vdisk' xmlns:vdisk='http://libvirt.org/schemas/storagepool/vdisk/1.0'><name>c</name><target><path>/c</path></target><vdisk:backing><vdisk:outside>maybe</vdisk:outside></vdisk:backing></pool>\n" \
    > "$xdir/pool-backing-bad.xml"
printf "<pool type='dir'><name>d</name><target><path>/d</path></target><backing><outside>allow</outside></backing></pool>\n" \
    > "$xdir/pool-no-namespace.xml"
printf "<volume><name>%s</name><capacity>1</capacity></volume>\n" "$(printf 'v%.0s' $(seq 1 300))" \
    > "$xdir/vol-long-name.xml"
cat > "$xdir/vol-formats.xml" <<'XML'
<volume>
  <name>f</name><capacity unit='Z'>1</capacity>
  <target><format type='vmdk'/><permissions><mode>9999</mode><owner>-2</owner></permissions></target>
  <backingStore><format type='raw'/></backingStore>
</volume>
XML
lvsrc=${VDISK_LIBVIRT_SRC:-}
[ -n "$lvsrc" ] || lvsrc=$(ls -d "$(dirname "$0")"/../../build/libvirt-src/libvirt-* 2>/dev/null | head -n1 || true)
if [ -n "$lvsrc" ] && [ -d "$lvsrc/tests/storagevolxml2xmlin" ]; then
    for f in "$lvsrc"/tests/storagevolxml2xmlin/*.xml "$lvsrc"/tests/storagepoolxml2xmlin/pool-dir*.xml; do
        cp "$f" "$xdir/libvirt-$(basename "$f")"
    done
fi
echo "make-corpus: $(find "$xdir" -type f | wc -l) seeds in $xdir"
# fuzz-qcow2-refcount (check and repair): the same images, plus damaged
# ones: a leaked cluster, a refcount dropped to zero, a lazy-refcounts image
# left dirty, a snapshot whose L2 table lost a refcount.
rdir="$out/fuzz-qcow2-refcount"
rm -rf "$rdir"
mkdir -p "$rdir"
cp "$dir"/*.qcow2 "$rdir"/
# poke FILE OFFSET HEX: overwrite bytes at OFFSET with the hex string.
poke() { printf "$(echo "$3" | sed 's/../\\x&/g')" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none; }
# u64 FILE OFFSET: a big-endian header field.
u64() { od -An -tx1 -j "$2" -N 8 "$1" | tr -d ' \n' | sed 's/^/0x/'; }
for src in v3-c512-data v3-c4k-snapshot v3-c1k-lazy; do
    for kind in leak zero dirty; do
        f="$rdir/$src-$kind.qcow2"
        cp "$dir/$src.qcow2" "$f"
        rb=$(( $(u64 "$f" "$(( $(u64 "$f" 48) ))") ))   # refcount block 0
        case $kind in
        leak) poke "$f" $((rb + 2)) 0005 ;;            # cluster 1 refcount 5
        zero) poke "$f" $((rb + 6)) 0000 ;;            # cluster 3 refcount 0
        dirty) poke "$f" 79 01 ;;                      # dirty bit
        esac
    done
done
# One seed per kind of damage `check` tells apart (qcow2 specification:
# reserved bits, alignment, what lies outside the file, copied flags,
# subcluster bitmaps, snapshot L1 tables), each a field of a good image
# overwritten.
python3 - "$dir" "$rdir" <<'PY'
import shutil, struct, sys
src, out = sys.argv[1], sys.argv[2]
def be64(b, o): return struct.unpack_from(">Q", b, o)[0]
def be32(b, o): return struct.unpack_from(">I", b, o)[0]
def load(name):
    b = bytearray(open(f"{src}/{name}.qcow2", "rb").read())
    cb = be32(b, 20)
    l1 = be64(b, 40)
    l2 = be64(b, l1) & 0x00fffffffffffe00
    rt = be64(b, 48)
    return b, 1 << cb, l1, l2, rt
def save(b, name): open(f"{out}/{name}.qcow2", "wb").write(b)
OFF = 0x00fffffffffffe00
COPIED, COMPRESSED, ZERO = 1 << 63, 1 << 62, 1
def damage(base, name, fn):
    b, cs, l1, l2, rt = load(base)
    fn(b, cs, l1, l2, rt)
    save(b, name)
def l2e(b, l2, i, v): struct.pack_into(">Q", b, l2 + 8 * i, v)
# Standard L2 entries (v3-c4k-data: guest cluster 0 holds data).
damage("v3-c4k-data", "l2-reserved-bits", lambda b, cs, l1, l2, rt: l2e(b, l2, 0, be64(b, l2) | 0x1fe))
damage("v3-c4k-data", "l2-unaligned-data", lambda b, cs, l1, l2, rt: l2e(b, l2, 0, be64(b, l2) + 0x200))
damage("v3-c4k-data", "l2-unaligned-zero", lambda b, cs, l1, l2, rt: l2e(b, l2, 0, (be64(b, l2) + 0x200) | ZERO))
damage("v3-c4k-data", "l2-past-eof", lambda b, cs, l1, l2, rt: l2e(b, l2, 0, COPIED | (len(b) + 64 * cs)))
damage("v3-c4k-data", "l2-on-l1", lambda b, cs, l1, l2, rt: l2e(b, l2, 0, COPIED | l1))
damage("v3-c4k-data", "l2-on-reftable", lambda b, cs, l1, l2, rt: l2e(b, l2, 0, COPIED | rt))
damage("v3-c4k-data", "l2-not-copied", lambda b, cs, l1, l2, rt: l2e(b, l2, 0, be64(b, l2) & ~COPIED))
damage("v3-c4k-zlib", "compressed-copied", lambda b, cs, l1, l2, rt: l2e(b, l2, 0, be64(b, l2) | COPIED))
damage("v3-c4k-zlib", "compressed-past-eof",
       lambda b, cs, l1, l2, rt: l2e(b, l2, 0, COMPRESSED | (len(b) + 8 * cs)))
# L1 entries and the refcount table.
def l1e(b, l1, v): struct.pack_into(">Q", b, l1, v)
damage("v3-c4k-data", "l1-reserved-bits", lambda b, cs, l1, l2, rt: l1e(b, l1, be64(b, l1) | 0x1fe))
damage("v3-c4k-data", "l1-unaligned", lambda b, cs, l1, l2, rt: l1e(b, l1, be64(b, l1) + 0x200))
damage("v3-c4k-data", "l1-past-eof", lambda b, cs, l1, l2, rt: l1e(b, l1, COPIED | (len(b) + 16 * cs)))
damage("v3-c4k-data", "l1-not-copied", lambda b, cs, l1, l2, rt: l1e(b, l1, be64(b, l1) & ~COPIED))
damage("v3-c4k-data", "reftable-reserved-bits", lambda b, cs, l1, l2, rt: l1e(b, rt, be64(b, rt) | 0x1ff))
damage("v3-c4k-data", "reftable-unaligned", lambda b, cs, l1, l2, rt: l1e(b, rt, be64(b, rt) + 0x200))
damage("v3-c4k-data", "refblock-past-eof", lambda b, cs, l1, l2, rt: l1e(b, rt + 8, len(b) + 4 * cs))
damage("v3-c4k-data", "refblock-zero", lambda b, cs, l1, l2, rt: l1e(b, rt, 0))
damage("v3-c4k-data", "refblock-on-l1", lambda b, cs, l1, l2, rt: l1e(b, rt, l1))
# Extended L2 (16-byte entries: offset word, then allocation | zero bits).
def ext(b, l2, i, v=None, bm=None):
    if v is not None: struct.pack_into(">Q", b, l2 + 16 * i, v)
    if bm is not None: struct.pack_into(">Q", b, l2 + 16 * i + 8, bm)
damage("v3-c16k-extl2", "extl2-unallocated-bitmap", lambda b, cs, l1, l2, rt: ext(b, l2, 5, 0, 0x0000000f))
damage("v3-c16k-extl2", "extl2-alloc-and-zero",
       lambda b, cs, l1, l2, rt: ext(b, l2, 0, None, 0x00000003 | (0x00000003 << 32)))
damage("v3-c16k-extl2", "extl2-compressed-bitmap",
       lambda b, cs, l1, l2, rt: ext(b, l2, 0, COMPRESSED | (be64(b, l2) & OFF), 0xff))
# Snapshot table entries (v3-c4k-snapshot: one snapshot).
def snap(b, f):
    so = be64(b, 64)
    f(b, so)
damage("v3-c4k-snapshot", "snapshot-l1-unaligned",
       lambda b, cs, l1, l2, rt: snap(b, lambda b, so: struct.pack_into(">Q", b, so, be64(b, so) + 8)))
damage("v3-c4k-snapshot", "snapshot-l1-huge",
       lambda b, cs, l1, l2, rt: snap(b, lambda b, so: struct.pack_into(">I", b, so + 8, 0x0fffffff)))
damage("v3-c4k-snapshot", "snapshot-l1-past-eof",
       lambda b, cs, l1, l2, rt: snap(b, lambda b, so: struct.pack_into(">Q", b, so, len(b) + 8 * cs)))
damage("v3-c4k-snapshot", "snapshot-l2-corrupt",
       lambda b, cs, l1, l2, rt: snap(b, lambda b, so: struct.pack_into(
           ">Q", b, be64(b, so), be64(b, be64(b, so)) + 0x200)))
damage("v3-c4k-snapshot", "snapshot-table-unaligned",
       lambda b, cs, l1, l2, rt: struct.pack_into(">Q", b, 64, be64(b, 64) + 8))
damage("v3-c4k-snapshot", "snapshot-table-past-eof",
       lambda b, cs, l1, l2, rt: struct.pack_into(">Q", b, 64, len(b) + 8 * cs))
damage("v3-c4k-snapshot", "snapshot-incomplete",   # no extra data: v3 needs 16 bytes
       lambda b, cs, l1, l2, rt: snap(b, lambda b, so: struct.pack_into(">I", b, so + 36, 0)))
# The bitmaps extension (0x23852875): directory offset, then its first
# entry's bitmap table offset, then that table's first entry.
def bitmaps_ext(b):
    p = be32(b, 100)
    while p + 8 <= len(b):
        magic, n = be32(b, p), be32(b, p + 4)
        if magic == 0x23852875:
            return p + 8
        if magic == 0:
            break
        p += 8 + (n + 7) // 8 * 8
    raise SystemExit("make-corpus: no bitmaps extension")
def bitmap_dir(b): return be64(b, bitmaps_ext(b) + 16)
damage("v3-c4k-bitmap", "bitmap-dir-past-eof",
       lambda b, cs, l1, l2, rt: struct.pack_into(">Q", b, bitmaps_ext(b) + 16, len(b) + 4 * cs))
damage("v3-c4k-bitmap", "bitmap-dir-unaligned",
       lambda b, cs, l1, l2, rt: struct.pack_into(">Q", b, bitmaps_ext(b) + 16, bitmap_dir(b) + 4))
damage("v3-c4k-bitmap", "bitmap-table-unaligned",
       lambda b, cs, l1, l2, rt: struct.pack_into(">Q", b, bitmap_dir(b), be64(b, bitmap_dir(b)) + 8))
damage("v3-c4k-bitmap", "bitmap-table-entry-bad",
       lambda b, cs, l1, l2, rt: struct.pack_into(">Q", b, be64(b, bitmap_dir(b)), 0x1ff | (3 * cs)))
damage("v3-c4k-bitmap", "bitmap-table-entry-past-eof",
       lambda b, cs, l1, l2, rt: struct.pack_into(">Q", b, be64(b, bitmap_dir(b)), len(b) + 2 * cs))
PY
# fuzz-qcow2-snapshot: small images with snapshot tables of several shapes
# (v2 and v3, several entries, a snapshot of another size, long names,
# compressed and zero clusters shared with snapshots).
sdir="$out/fuzz-qcow2-snapshot"
rm -rf "$sdir"
mkdir -p "$sdir"
snap() {
    local name=$1 opts=$2
    shift 2
    local f="$sdir/$name.qcow2"
    qemu-img create -q -f qcow2 -o "$opts" "$f" 256k
    qemu-io -f qcow2 -c 'write -P 0x51 0 8k' -c 'write -z 16k 4k' "$f" >/dev/null
    for s in "$@"; do
        qemu-img snapshot -c "$s" "$f"
        qemu-io -f qcow2 -c 'write -P 0x52 4k 4k' "$f" >/dev/null
    done
}
snap v3-c512-one cluster_size=512 s1
snap v3-c512-three cluster_size=512 a b c
snap v2-c512-two cluster_size=512,compat=0.10 first second
snap v3-c4k-longname cluster_size=4k "$(printf 'n%.0s' $(seq 1 200))"
snap v3-c1k-refcount8 cluster_size=1k,refcount_bits=8 x y
# Snapshot entries with more extra data than the specification knows (it
# must be kept as it is), the table rewritten at the end of the file.
python3 - "$sdir/v3-c512-three.qcow2" "$sdir/v3-c512-extra.qcow2" <<'PY'
import struct, sys
b = bytearray(open(sys.argv[1], "rb").read())
cs = 1 << struct.unpack_from(">I", b, 20)[0]
n, off = struct.unpack_from(">IQ", b, 60)
out = b""
for _ in range(n):
    l1o, l1s, idl, nml, ds, dn, vmc, vms, ex = struct.unpack_from(">QIHHIIQII", b, off)
    fixed = b[off:off + 40]
    extra = bytes(b[off + 40:off + 40 + ex]) + b"\x5a" * 16
    ids = bytes(b[off + 40 + ex:off + 40 + ex + idl + nml])
    e = fixed[:36] + struct.pack(">I", len(extra)) + extra + ids
    out += e + b"\0" * (-len(e) % 8)
    off += 40 + ex + idl + nml
    off += -off % 8
at = (len(b) + cs - 1) // cs * cs
b += b"\0" * (at - len(b)) + out
struct.pack_into(">Q", b, 64, at)
open(sys.argv[2], "wb").write(b)
PY
qemu-img create -q -f qcow2 -o cluster_size=512 "$sdir/v3-c512-resized.qcow2" 64k
qemu-img snapshot -c small "$sdir/v3-c512-resized.qcow2"
qemu-img resize -q "$sdir/v3-c512-resized.qcow2" 256k
qemu-img convert -c -f raw -O qcow2 -o cluster_size=4k "$tmp/src.raw" "$sdir/v3-c4k-zlib-snap.qcow2"
qemu-img snapshot -c z "$sdir/v3-c4k-zlib-snap.qcow2"

echo "make-corpus: $(find "$dir" -type f | wc -l) seeds in $dir ($(du -sh --apparent-size "$dir" | cut -f1))"

# fuzz-qcow2-bitmap: images with persistent dirty bitmaps (enabled and
# disabled, several granularities, with dirty data, one left in_use).
bdir="$out/fuzz-qcow2-bitmap"
rm -rf "$bdir"
mkdir -p "$bdir"
bimg() {
    local name=$1 opts=$2 f="$bdir/$1.qcow2"
    shift 2
    qemu-img create -q -f qcow2 -o "$opts" "$f" 256k
    qemu-img bitmap --add "$f" on
    qemu-img bitmap --add -g 512 "$f" fine
    qemu-img bitmap --add --disable -g 8k "$f" off
    qemu-io -f qcow2 -c 'write -P 0x71 0 8k' -c 'write -z 64k 4k' -c 'discard 128k 4k' "$f" >/dev/null
}
bimg v3-c512 cluster_size=512
bimg v3-c4k cluster_size=4k
bimg v3-c16k-extl2 cluster_size=16k,extended_l2=on
# Without the extension (the target's add creates it, moving a backing
# file name behind it), and with "off" alone (its removal drops the
# extension).
cp "$dir/v3-c4k-data.qcow2" "$bdir/no-bitmaps.qcow2"
cp "$dir/v3-c4k-backing.qcow2" "$bdir/backing-no-bitmaps.qcow2"
qemu-img create -q -f qcow2 -o cluster_size=4k "$bdir/only-off.qcow2" 256k
qemu-img bitmap --add --disable "$bdir/only-off.qcow2" off
qemu-img create -q -f qcow2 -u -o cluster_size=4k,backing_file=base.qcow2,backing_fmt=qcow2 \
    "$bdir/backing-only-off.qcow2" 256k
qemu-img bitmap --add -f qcow2 "$bdir/backing-only-off.qcow2" off 2>/dev/null ||
    qemu-img bitmap --add --image-opts "driver=qcow2,backing=null,file.filename=$bdir/backing-only-off.qcow2" off
cp "$bdir/v3-c4k.qcow2" "$bdir/v3-c4k-inuse.qcow2"
timeout -s KILL 2 qemu-io -f qcow2 -c 'write 0 4k' -c 'sleep 10000' "$bdir/v3-c4k-inuse.qcow2" \
    >/dev/null 2>&1 || true
echo "make-corpus: $(find "$bdir" -type f | wc -l) seeds in $bdir"

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
# fuzz-secret-xml: libvirt's <secret> documents, one per usage type.
sdir="$out/fuzz-secret-xml"
rm -rf "$sdir"
mkdir -p "$sdir"
printf "<secret ephemeral='no' private='yes'>\n  <uuid>0a81f5b2-8403-7b23-c8d6-21ccc2f80d6f</uuid>\n  <description>disk key</description>\n  <usage type='volume'>\n    <volume>/var/lib/libvirt/images/a.qcow2</volume>\n  </usage>\n</secret>\n" > "$sdir/volume.xml"
printf "<secret><usage type='ceph'><name>client.admin secret</name></usage></secret>\n" > "$sdir/ceph.xml"
printf "<secret ephemeral='yes'><usage type='iscsi'><target>libvirtiscsi</target></usage></secret>\n" > "$sdir/iscsi.xml"
printf "<secret><usage type='tls'><name>TLS &amp; x</name></usage></secret>\n" > "$sdir/tls.xml"
printf "<secret private='no'><description>v</description><usage type='vtpm'><name>vtpm</name></usage></secret>\n" > "$sdir/vtpm.xml"
echo "make-corpus: $(find "$sdir" -type f | wc -l) seeds in $sdir"
# ---- ISO 9660 (xorriso, genisoimage) ----------------------------------------
# Small trees with Rock Ridge, Joliet, long names (CE areas), symlinks, deep
# directories (relocated by genisoimage) and an El Torito boot image.
isodir="$out/fuzz-iso-dirrec"
descdir="$out/fuzz-iso-descriptor"
suspdir="$out/fuzz-iso-susp"
rm -rf "$isodir" "$descdir" "$suspdir"
mkdir -p "$isodir" "$descdir" "$suspdir" "$tmp/t/sub/a/b/c/d/e/f/g/h/i"
printf 'hello\n' >"$tmp/t/hello.txt"
printf '#cloud-config\n' >"$tmp/t/user-data"
head -c 5000 /dev/zero | tr '\0' 'x' >"$tmp/t/sub/x.bin"
printf 'deep\n' >"$tmp/t/sub/a/b/c/d/e/f/g/h/i/deep.txt"
: >"$tmp/t/$(printf 'n%.0s' $(seq 1 180))"
ln -s ../hello.txt "$tmp/t/sub/link"
ln -s /abs/target "$tmp/t/abs"
head -c 2048 /dev/zero >"$tmp/boot.bin"
cp "$tmp/boot.bin" "$tmp/t/boot.bin"
genisoimage -quiet -R -J -joliet-long -o "$isodir/geniso-rj.iso" "$tmp/t" 2>/dev/null
genisoimage -quiet -o "$isodir/geniso-plain.iso" "$tmp/t" 2>/dev/null
genisoimage -quiet -r -J -V cidata -o "$isodir/geniso-cidata.iso" "$tmp/t/user-data" 2>/dev/null
xorriso -as mkisofs -quiet -R -J -joliet-long -b boot.bin -no-emul-boot -boot-load-size 4 \
    -o "$isodir/xorriso-boot.iso" "$tmp/t" 2>/dev/null
xorriso -as mkisofs -quiet -R -o "$isodir/xorriso-rr.iso" "$tmp/t" 2>/dev/null
# zisofs-compressed files (xorriso's filter), BIOS and EFI boot entries
# (a section header in the catalog), a directory of many sectors and many
# directories (the walk's table of visited ones grows).
seq 1 3000 >"$tmp/t/sub/numbers.txt"
xorriso -outdev "$isodir/xorriso-zisofs.iso" -padding 0 -map "$tmp/t" / \
    -zisofs level=6:block_size=32k -set_filter_r --zisofs /sub/numbers.txt /hello.txt -- \
    -commit >/dev/null 2>&1
head -c 4096 /dev/zero >"$tmp/t/efi.img"
xorriso -as mkisofs -quiet -R -J -no-pad -b boot.bin -no-emul-boot -boot-load-size 4 \
    -eltorito-alt-boot -e efi.img -no-emul-boot -o "$isodir/xorriso-bios-efi.iso" "$tmp/t" 2>/dev/null
mkdir -p "$tmp/many"
for i in $(seq 1 120); do : >"$tmp/many/file-with-a-long-name-number-$i.txt"; done
for i in $(seq 1 80); do mkdir "$tmp/many/d$i"; done
genisoimage -quiet -R -J -joliet-long -o "$isodir/geniso-many.iso" "$tmp/many" 2>/dev/null
# The descriptor target puts its input at sector 16: keep sectors 16-39.
for f in "$isodir"/*.iso; do
    dd if="$f" of="$descdir/$(basename "$f" .iso).vd" bs=2048 skip=16 count=24 status=none
done
# The SUSP target: one length byte, a system use area, a continuation area.
python3 - "$suspdir" <<'PY'
import struct, sys
def e(sig, data): return sig + bytes([4 + len(data), 1]) + data
def both(v): return struct.pack("<I", v) + struct.pack(">I", v)
px = e(b"PX", both(0o100644) + both(1) + both(0) + both(0))
tf = e(b"TF", bytes([0x0E]) + bytes([123, 11, 14, 22, 13, 20, 0]) * 3)
nm = e(b"NM", b"\0name.txt")
sl = e(b"SL", b"\0" + bytes([8, 0]) + bytes([0, 3]) + b"etc" + bytes([4, 0]) + bytes([0, 1]) + b"x")
ce = e(b"CE", both(20) + both(0) + both(60))
cl, re = e(b"CL", both(18)), e(b"RE", b"")
seeds = {"px-tf-nm": px + tf + nm, "symlink": px + sl + nm, "ce": px + ce,
         "cl-re": cl + re + nm, "nm-continue": e(b"NM", b"\1part-") + e(b"NM", b"\0two")}
import zlib
for name, su in seeds.items():
    tail = e(b"NM", b"\0from-ce") + e(b"ST", b"") if name == "ce" else b""
    open(f"{sys.argv[1]}/{name}.su", "wb").write(bytes([len(su)]) + su + tail)
# zisofs: ZF entry, then the data: header, 2 block pointers, one zlib block.
text = b"zisofs block " * 100
blk = zlib.compress(text)
data = (bytes([0x37, 0xE4, 0x53, 0x96, 0xC9, 0xDB, 0xD6, 0x07]) + struct.pack("<I", len(text))
        + bytes([4, 15, 0, 0]) + struct.pack("<II", 24, 24 + len(blk)) + blk)
zf = e(b"ZF", b"pz" + bytes([4, 15]) + both(len(text)))
open(f"{sys.argv[1]}/zisofs.su", "wb").write(bytes([len(px + zf)]) + px + zf + data)
PY
echo "make-corpus: $(find "$isodir" "$descdir" "$suspdir" -type f | wc -l) ISO seeds"
# ---- VHDX and VHD (vpc) ------------------------------------------------------
# qemu-img's own images (small virtual sizes, 1 MiB blocks), and what it
# cannot make, built from the specifications by the interop tests' builders:
# a differencing VHDX with a sector bitmap and a parent locator, 4 KiB
# logical sectors, a log left to replay; a differencing VHD with parent
# locators and small blocks.
xdir="$out/fuzz-vhdx"
vdir="$out/fuzz-vpc"
rm -rf "$xdir" "$vdir"
mkdir -p "$xdir" "$vdir"
qemu-img create -q -f vhdx -o block_size=1M "$xdir/dynamic.vhdx" 4M
qemu-img create -q -f vhdx -o block_size=1M,block_state_zero=off "$xdir/notpresent.vhdx" 2M
qemu-img create -q -f vhdx -o subformat=fixed,block_size=1M "$xdir/fixed.vhdx" 2M
qemu-img create -q -f vpc "$vdir/empty.vhd" 64M
qemu-img create -q -f vpc -o subformat=fixed,force_size=on "$vdir/fixed.vhd" 64k
python3 - "$xdir" "$vdir" "$(dirname "$0")/../interop" <<'PY'
import struct, sys, uuid
sys.path.insert(0, sys.argv[3])
import vhdx_build as vx, vhd_build as vb
xdir, vdir = sys.argv[1], sys.argv[2]
MiB = vx.MiB
# The linkage fuzz-vhdx gives the parent.vhdx beside the input.
kv = {"parent_linkage": "{11111111-1111-1111-1111-111111111111}", "relative_path": ".\\parent.vhdx",
      "absolute_win32_path": "C:\\vms\\parent.vhdx"}
im = vx.Image(2 * MiB, block_size=MiB, parent_kv=kv)
im.partial(0, bytes([0x44]) * MiB, [0, 1, 2, 100])
im.state(1, vx.ZERO)
im.write(f"{xdir}/differencing.vhdx")
im = vx.Image(2 * MiB, block_size=MiB, fixed=True)
im.block(0, bytes([0x33]) * MiB)
im.state(1, vx.UNMAPPED)
im.write(f"{xdir}/data.vhdx")
im = vx.Image(2 * MiB, block_size=MiB, lsec=4096)
im.block(1, bytes([0x55]) * MiB)
im.write(f"{xdir}/sector4k.vhdx")
im = vx.Image(2 * MiB, block_size=MiB)
guid = uuid.uuid4()
page = bytearray(4096)
struct.pack_into("<Q", page, 0, im.end | vx.FULLY)
im.log = (guid, [vx.log_entry(guid, 3, 0, im.end, im.end + MiB, updates=[(im.bat_off, bytes(page))],
                              zeros=[(im.end, 4096)])])
im.write(f"{xdir}/dirty-log.vhdx")
blocks = {0: (bytes([0x66]) * 4096, {1, 3, 7})}
locs = [(b"W2ru", ".\\parent.vhd".encode("utf-16-le")), (b"W2ku", "C:\\p.vhd".encode("utf-16-le")),
        (b"MacX", b"file:///srv/parent.vhd")]
vb.differencing(f"{vdir}/differencing.vhd", 64 << 10, b"\x11" * 16, blocks, locs, block_size=4096)
# Only a Mac OS X URL locator, percent-encoded (hex digits of both cases, a bad escape).
vb.differencing(f"{vdir}/differencing-macx.vhd", 64 << 10, b"\x11" * 16, blocks,
                [(b"MacX", b"file://localhost/no/such/%70arent%2Evhd%2e%zz")], block_size=4096)
vb.differencing(f"{vdir}/dynamic-4k.vhd", 64 << 10, b"\0" * 16, blocks, [], block_size=4096,
                dtype=vb.DYNAMIC)
PY
# fuzz-vhdx takes the 4 KiB windows of a file at the offsets of its
# structures (see fuzz-vhdx.c), not the whole file.
python3 - "$xdir" <<'PY'
import os, sys
W = [0, 64 << 10, 128 << 10, 192 << 10, 256 << 10, 1 << 20, (1 << 20) + 4096, (1 << 20) + 8192,
     2 << 20, (2 << 20) + (32 << 10), 3 << 20, (3 << 20) + (64 << 10), 4 << 20, 5 << 20]
for name in os.listdir(sys.argv[1]):
    path = os.path.join(sys.argv[1], name)
    with open(path, "rb") as f:
        parts = []
        for off in W:
            f.seek(off)
            parts.append(f.read(4096).ljust(4096, b"\0"))
    with open(path, "wb") as f:
        f.write(b"".join(parts))
PY
# Region tables a mutation cannot make (they carry a CRC-32C): each kind of
# bad entry, rebuilt with its checksum into the windows of dynamic.vhdx
# (windows 3 and 4: the two tables).
python3 - "$xdir" "$(dirname "$0")/../interop" <<'PY'
import struct, sys, uuid
sys.path.insert(0, sys.argv[2])
import vhdx_build as vx
d = sys.argv[1]
base = open(f"{d}/dynamic.vhdx", "rb").read()
W = 4096
n = struct.unpack_from("<I", base, 3 * W + 8)[0]
ents = []
for i in range(n):
    g, off, ln, req = struct.unpack_from("<16sQII", base, 3 * W + 16 + 32 * i)
    ents.append((uuid.UUID(bytes_le=g), off, ln, bool(req)))
bat = [e for e in ents if e[0] == vx.BAT_GUID][0]
meta = [e for e in ents if e[0] == vx.META_GUID][0]
def seed(name, first, second=None):
    b = bytearray(base)
    b[3 * W:4 * W] = first[:W]
    b[4 * W:5 * W] = (second if second is not None else first)[:W]
    open(f"{d}/{name}.vhdx", "wb").write(b)
rt = vx.region_table
other = uuid.UUID("01234567-89ab-cdef-0123-456789abcdef")
seed("region-unaligned", rt([(bat[0], bat[1] + 4096, bat[2], True), meta]))
seed("region-unknown-required", rt([bat, meta, (other, 8 << 20, 1 << 20, True)]))
seed("region-unknown-optional", rt([bat, meta, (other, 8 << 20, 1 << 20, False)]))
seed("region-twice", rt([bat, bat, meta]))
seed("region-outside", rt([(bat[0], 1 << 40, bat[2], True), meta]))
seed("region-over-log", rt([(bat[0], 1 << 20, bat[2], True), meta]))
seed("region-no-metadata", rt([bat]))
seed("region-overlap", rt([bat, (meta[0], bat[1], meta[2], True)]))
many = bytearray(rt([bat, meta]))
struct.pack_into("<I", many, 8, 3000)
seed("region-too-many", vx.with_crc(many, 4))
seed("region-first-bad", bytes(W), rt([bat, meta]))
seed("region-both-bad", bytes(W), bytes(W))
PY
echo "make-corpus: $(find "$xdir" "$vdir" -type f | wc -l) VHDX and VHD seeds"

# fuzz-vdi, fuzz-qed, fuzz-parallels: small images of the read-only foreign
# formats made by qemu-img, with data written by qemu-io (zero writes,
# discards, a QED backing file name).
foreign() {
    local fmt=$1 name=$2 size=$3 opts=$4
    shift 4
    local d="$out/fuzz-$fmt" f
    mkdir -p "$d"
    f="$d/$name.$fmt"
    qemu-img create -q -f "$fmt" ${opts:+-o "$opts"} "$f" "$size"
    local args=()
    for c in "$@"; do args+=(-c "$c"); done
    if [ ${#args[@]} -gt 0 ]; then
        qemu-io -f "$fmt" "${args[@]}" "$f" >/dev/null
    fi
}
for fmt in vdi qed parallels; do rm -rf "$out/fuzz-$fmt"; done
foreign vdi dynamic-empty 4M ''
foreign vdi dynamic-data 4M '' 'write -P 0xaa 0 4k' 'write -P 0x55 2M 64k' 'write -z 3M 1M'
foreign vdi static 2M static=on 'write -P 0x11 1M 4k'
foreign qed c4k-data 1M cluster_size=4k,table_size=2 'write -P 0xaa 0 4k' 'write -z 8k 4k' \
    'write -P 0x33 600k 12k'
foreign qed c64k-empty 8M ''
foreign qed c4k-big 3G cluster_size=4k,table_size=2 'write -P 0x77 2G 4k'
qeddir=$(cd "$out/fuzz-qed" && pwd)
( cd "$tmp" && qemu-img create -q -f raw base.raw 1M &&
  qemu-img create -q -f qed -o cluster_size=4k,table_size=2 -b base.raw -F raw over.qed &&
  qemu-io -f qed -c 'write -P 0x99 4k 4k' over.qed >/dev/null && mv over.qed "$qeddir/backing.qed" )
foreign parallels c1m-data 4M '' 'write -P 0xaa 0 4k' 'write -P 0x55 3M 4k'
foreign parallels c4k-data 1M cluster_size=4k 'write -P 0x11 8k 8k' 'write -P 0x22 512k 4k'
# The old magic ("WithoutFreeSpace": BAT entries in sectors), from the new one.
python3 - "$out/fuzz-parallels" <<'PY'
import struct, sys
src = open(f"{sys.argv[1]}/c4k-data.parallels", "rb").read()
tracks, n = struct.unpack_from("<II", src, 28)
bat = [v * tracks for v in struct.unpack_from(f"<{n}I", src, 64)]
old = b"WithoutFreeSpace" + src[16:64] + struct.pack(f"<{n}I", *bat) + src[64 + 4 * n:]
open(f"{sys.argv[1]}/c4k-old-magic.parallels", "wb").write(old)
PY
echo "make-corpus: $(find "$out"/fuzz-vdi "$out"/fuzz-qed "$out"/fuzz-parallels -type f | wc -l) vdi/qed/parallels seeds"

# ---- VMDK (qemu-img, qemu-io, VMDKstream) ------------------------------------
# fuzz-vmdk: small sparse files of every kind qemu-img writes (grain tables,
# zeroed grains, a parent hint, streams in QEMU's and VMware's layouts, an
# ESX "COWD" delta made here from its layout), and descriptor texts.
vdir="$out/fuzz-vmdk"
rm -rf "$vdir"
mkdir -p "$vdir"
vm() {
    local name=$1 size=$2 opts=$3
    shift 3
    local f="$tmp/$name.vmdk"
    qemu-img create -q -f vmdk -o "$opts" "$f" "$size"
    local args=()
    for c in "$@"; do args+=(-c "$c"); done
    if [ ${#args[@]} -gt 0 ]; then
        qemu-io -f vmdk "${args[@]}" "$f" >/dev/null
    fi
}
vdata=('write -P 0xaa 0 64k' 'write -P 0x55 70000 3000' 'write -z 128k 64k' 'write -P 0x11 3M 64k')
vm sparse 4M subformat=monolithicSparse "${vdata[@]}"
vm zeroed 4M subformat=monolithicSparse,zeroed_grain=on "${vdata[@]}"
vm empty 1M subformat=monolithicSparse
vm parent 4M subformat=monolithicSparse
qemu-img create -q -f vmdk -b parent.vmdk -F vmdk "$tmp/child.vmdk" 4M
qemu-io -f vmdk -c 'write -P 3 1000 100' "$tmp/child.vmdk" >/dev/null
# The parent fuzz-vmdk puts beside the input has CID 12345678.
python3 - "$tmp/child.vmdk" <<'PY'
import re, sys
b = open(sys.argv[1], "rb").read()
open(sys.argv[1], "wb").write(re.sub(rb"parentCID=[0-9a-f]{8}", b"parentCID=12345678", b, count=1))
PY
vm split 4M subformat=twoGbMaxExtentSparse 'write -P 0x22 0 64k'
vm flat 4M subformat=monolithicFlat
cp "$tmp"/sparse.vmdk "$tmp"/zeroed.vmdk "$tmp"/empty.vmdk "$tmp"/child.vmdk \
   "$tmp"/split-s001.vmdk "$vdir/"
cp "$tmp/split.vmdk" "$vdir/split-descriptor.txt"
cp "$tmp/flat.vmdk" "$vdir/flat-descriptor.txt"
head -c 3M /dev/zero | tr '\0' 'v' > "$tmp/stream.raw"
truncate -s 4M "$tmp/stream.raw"
qemu-img convert -f raw -O vmdk -o subformat=streamOptimized "$tmp/stream.raw" "$vdir/stream-qemu.vmdk"
# VMDKstream (Debian's python3-vmdkstream) is seen by Debian's python only.
if /usr/bin/python3 -c 'import VMDKstream' 2>/dev/null; then
    /usr/bin/python3 -c 'import sys, VMDKstream; VMDKstream.convert_to_stream(sys.argv[1], sys.argv[2])' \
        "$tmp/stream.raw" "$vdir/stream-vmware-layout.vmdk"
fi
python3 - "$vdir" <<'PY'
import struct, sys
# ESX "COWD": header (capacity 2048 sectors, 1-sector grains, directory of
# one entry at sector 4), one 4096-entry table at sector 5, one grain.
cap, grain = 2048, 1
h = b"COWD" + struct.pack("<IIIIIII", 1, 3, cap, grain, 4, 1, 0)
img = bytearray(h.ljust(2048, b"\0"))
img += struct.pack("<I", 5).ljust(512, b"\0")
gt = [0] * 4096
gt[7] = 37
img += b"".join(struct.pack("<I", g) for g in gt)
img = img.ljust(37 * 512, b"\0") + b"cowd grain".ljust(512, b"\0")
open(f"{sys.argv[1]}/cowd.vmdk", "wb").write(img)
open(f"{sys.argv[1]}/esxi-descriptor.txt", "w").write(
    'CID=fffffffe\nparentCID=ffffffff\ncreateType="vmfs"\n# Extent description\n'
    'RW 2048 VMFS "f.bin"\nRW 16 ZERO\nRDONLY 2048 SPARSE "s.vmdk"\nRW 8 FLAT "f.bin" 8\n'
    'ddb.adapterType = "lsilogic"\n')
PY
echo "make-corpus: $(find "$vdir" -type f | wc -l) VMDK seeds"
