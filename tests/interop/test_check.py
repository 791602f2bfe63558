"""vdisk-virsh check against qemu-img check, on images made by qemu-img and
qemu-io and then damaged byte by byte (docs/interop/qcow2.txt offsets).

For every defect: both tools must give the same exit status and the same
JSON counts on the same bytes; then one copy is repaired by qemu-img and
another by vdisk-virsh (-r all or -r leaks) with the same outcome, and
qemu-img's own check of vdisk's repair must match its check of its own
repair; where qemu-img's repair leaves the image clean, the guest data of
both repaired copies is compared.  Expected values all come from qemu-img.
"""
import json
import shutil
import struct

import pytest

from conftest import vdisk_io

C = 65536


class Img:
    """Minimal reader/patcher of a qcow2 file (16-bit refcounts, 64k clusters)."""

    def __init__(self, path):
        self.path = path
        h = self.read(0, 104)
        self.l1_size = struct.unpack(">I", h[36:40])[0]
        self.l1 = struct.unpack(">Q", h[40:48])[0]
        self.rt = struct.unpack(">Q", h[48:56])[0]
        self.nb_snapshots = struct.unpack(">I", h[60:64])[0]
        self.snap_off = struct.unpack(">Q", h[64:72])[0]

    def read(self, off, n):
        with open(self.path, "rb") as f:
            f.seek(off)
            return f.read(n)

    def u64(self, off):
        return struct.unpack(">Q", self.read(off, 8))[0]

    def put64(self, off, v):
        with open(self.path, "r+b") as f:
            f.seek(off)
            f.write(struct.pack(">Q", v))

    def put16(self, off, v):
        with open(self.path, "r+b") as f:
            f.seek(off)
            f.write(struct.pack(">H", v))

    def l1e(self, i=0):
        return self.u64(self.l1 + 8 * i)

    def l2_off(self, i=0):
        return self.l1e(i) & 0x00fffffffffffe00

    def l2e_addr(self, guest):
        return self.l2_off(guest // (C * 8192)) + 8 * ((guest // C) % 8192)

    def l2e(self, guest):
        return self.u64(self.l2e_addr(guest))

    def refblock(self, i=0):
        return self.u64(self.rt + 8 * i) & ~0x1ff

    def rc_addr(self, host):
        return self.refblock(0) + 2 * (host // C)

    def rc(self, host):
        return struct.unpack(">H", self.read(self.rc_addr(host), 2))[0]

    def set_rc(self, host, v):
        self.put16(self.rc_addr(host), v)

    def snapshot_l1_addr(self):
        return self.snap_off     # first entry: l1_table_offset at 0


def base_image(tmp_path, qemu_img, qemu_io, snapshot=False, compressed=False, size="64M"):
    p = tmp_path / "base.qcow2"
    qemu_img("create", "-q", "-f", "qcow2", p, size)
    qemu_io("-f", "qcow2", "-c", "write -P 0x11 0 256k", "-c", "write -P 0x22 1M 128k", p)
    if compressed:
        qemu_io("-f", "qcow2", "-c", "write -c -P 0x33 4M 64k", p)
    if snapshot:
        qemu_img("snapshot", "-c", "s1", p)
        qemu_io("-f", "qcow2", "-c", "write -P 0x44 64k 64k", p)
    return p


def check(tool, path, *opts):
    p = tool("check", "--output", "json", *opts, path.name, check=False, cwd=path.parent)
    assert p.returncode >= 0, p.stderr
    out = json.loads(p.stdout) if p.stdout.strip() else None
    return p.returncode, out


def compare(tmp_path, vdisk, qemu_img, src, fix="all", data_safe=True, qemu_repairs=True,
            exact_after=True):
    """The whole oracle comparison for one damaged image.  qemu_repairs
    False: qemu-img's own repair fails on this image (its metadata overlap
    guard refuses the rebuild); vdisk's repair must then satisfy qemu-img.
    exact_after False: QEMU's read-write open itself moves things (it
    rewrites persistent bitmaps on close), so only the verdicts compare."""
    a = tmp_path / "a.qcow2"
    shutil.copy(src, a)
    qrc, qout = check(qemu_img, a)
    vrc, vout = check(vdisk, a)
    assert (vrc, vout) == (qrc, qout)
    qfix, vfix = tmp_path / "qfix.qcow2", tmp_path / "vfix.qcow2"
    if not qemu_repairs:
        shutil.copy(src, vfix)
        assert check(vdisk, vfix, "-r", fix)[0] == 0
        assert check(qemu_img, vfix)[0] == 0
        return qrc, qout
    shutil.copy(src, qfix)
    shutil.copy(src, vfix)
    qrc2, qout2 = check(qemu_img, qfix, "-r", fix)
    qout2 and qout2.update(filename="x")
    vrc2, vout2 = check(vdisk, vfix, "-r", fix)
    vout2 and vout2.update(filename="x")
    if not exact_after:
        assert vrc2 == qrc2 and check(qemu_img, vfix)[0] == check(qemu_img, qfix)[0]
        qemu_img("compare", "-f", "qcow2", "-F", "qcow2", qfix, vfix)
        return qrc, qout
    assert (vrc2, vout2) == (qrc2, qout2)
    # qemu-img judges vdisk's repair as it judges its own.
    after_q = check(qemu_img, qfix)
    after_v = check(qemu_img, vfix)
    after_q[1] and after_q[1].update(filename="x")
    after_v[1] and after_v[1].update(filename="x")
    if qrc2 == 1:
        # A failed repair: how far each got may differ; the verdict may not.
        assert after_v[0] == after_q[0]
        return qrc, qout
    assert after_v == after_q
    if after_q[0] == 0 and data_safe:
        qemu_img("compare", "-f", "qcow2", "-F", "qcow2", qfix, vfix)
    return qrc, qout


# ---- clean images and the command line ----------------------------------

def test_clean_image(tmp_path, vdisk, qemu_img, qemu_io):
    p = base_image(tmp_path, qemu_img, qemu_io, snapshot=True, compressed=True)
    rc, out = compare(tmp_path, vdisk, qemu_img, p)
    assert rc == 0 and out["compressed-clusters"] == 1


def test_human_output_matches(tmp_path, vdisk, qemu_img, qemu_io):
    p = base_image(tmp_path, qemu_img, qemu_io, compressed=True)
    Img(p).set_rc(Img(p).l2e(0) & 0x00fffffffffffe00, 2)
    q = qemu_img("check", p.name, check=False, cwd=tmp_path)
    v = vdisk("check", p.name, check=False, cwd=tmp_path)
    assert (v.returncode, v.stdout, v.stderr) == (q.returncode, q.stdout, q.stderr)


def test_quiet(tmp_path, vdisk, qemu_img, qemu_io):
    p = base_image(tmp_path, qemu_img, qemu_io)
    v = vdisk("check", "-q", p)
    assert v.stdout == ""


def test_raw_not_supported(tmp_path, vdisk, qemu_img):
    p = tmp_path / "r.img"
    qemu_img("create", "-q", "-f", "raw", p, "1M")
    q = qemu_img("check", p, check=False)
    v = vdisk("check", p, check=False)
    assert q.returncode == v.returncode == 63
    assert "does not support checks" in v.stderr


def test_bad_repair_mode(tmp_path, vdisk, qemu_img, qemu_io):
    p = base_image(tmp_path, qemu_img, qemu_io)
    v = vdisk("check", "-r", "everything", p, check=False)
    assert v.returncode == qemu_img("check", "-r", "everything", p, check=False).returncode == 1
    assert "leaks" in v.stderr and "all" in v.stderr


def test_missing_file(tmp_path, vdisk):
    v = vdisk("check", tmp_path / "nope.qcow2", check=False)
    assert v.returncode == 1 and "nope.qcow2" in v.stderr


# ---- refcount defects ---------------------------------------------------

def test_leak_refcount_too_high(tmp_path, vdisk, qemu_img, qemu_io):
    p = base_image(tmp_path, qemu_img, qemu_io)
    im = Img(p)
    im.set_rc(im.l2e(C) & 0x00fffffffffffe00, 2)
    rc, out = compare(tmp_path, vdisk, qemu_img, p, fix="leaks")
    # refcount 2 also contradicts the entry's OFLAG_COPIED: a corruption too.
    assert rc == 2 and out["leaks"] == 1


def test_leaked_unreferenced_cluster(tmp_path, vdisk, qemu_img, qemu_io):
    p = base_image(tmp_path, qemu_img, qemu_io)
    append_leak(p)
    rc, out = compare(tmp_path, vdisk, qemu_img, p, fix="leaks")
    assert rc == 3


def test_refcount_zero_needs_rebuild(tmp_path, vdisk, qemu_img, qemu_io):
    p = base_image(tmp_path, qemu_img, qemu_io, snapshot=True, compressed=True)
    im = Img(p)
    im.set_rc(im.l2e(2 * C) & 0x00fffffffffffe00, 0)
    rc, _ = compare(tmp_path, vdisk, qemu_img, p, fix="all")
    assert rc == 2
    # -r leaks cannot rebuild: both stop with "check failed".
    shutil.copy(p, tmp_path / "l.qcow2")
    assert check(vdisk, tmp_path / "l.qcow2", "-r", "leaks")[0] == 1


def test_refcount_too_low_on_shared_cluster(tmp_path, vdisk, qemu_img, qemu_io):
    p = base_image(tmp_path, qemu_img, qemu_io, snapshot=True)
    im = Img(p)
    im.set_rc(im.l2e(3 * C) & 0x00fffffffffffe00, 1)
    rc, _ = compare(tmp_path, vdisk, qemu_img, p)
    assert rc == 2


def test_cluster_referenced_twice(tmp_path, vdisk, qemu_img, qemu_io):
    p = base_image(tmp_path, qemu_img, qemu_io)
    im = Img(p)
    im.put64(im.l2e_addr(3 * C), im.l2e(2 * C))
    rc, _ = compare(tmp_path, vdisk, qemu_img, p, data_safe=False)
    assert rc == 2


def test_refblock_refcount_wrong(tmp_path, vdisk, qemu_img, qemu_io):
    p = base_image(tmp_path, qemu_img, qemu_io)
    im = Img(p)
    im.set_rc(im.refblock(0), 3)
    compare(tmp_path, vdisk, qemu_img, p)


def test_reftable_entry_reserved_bits(tmp_path, vdisk, qemu_img, qemu_io):
    p = base_image(tmp_path, qemu_img, qemu_io)
    im = Img(p)
    im.put64(im.rt, im.refblock(0) | 0x100)
    compare(tmp_path, vdisk, qemu_img, p, qemu_repairs=False)


# ---- tables overlapping, past the end, unaligned ------------------------

def test_l2_table_overlaps_refblock(tmp_path, vdisk, qemu_img, qemu_io):
    p = base_image(tmp_path, qemu_img, qemu_io, size="1G")
    im = Img(p)
    im.put64(im.l1 + 8, im.refblock(0) | (1 << 63))   # L1 entry 1 -> the refblock
    rc, _ = compare(tmp_path, vdisk, qemu_img, p, data_safe=False)
    assert rc == 2
    v = vdisk("check", p, check=False)
    assert "overlaps" in v.stderr


def test_l2_table_overlaps_l1(tmp_path, vdisk, qemu_img, qemu_io):
    p = base_image(tmp_path, qemu_img, qemu_io, size="1G")
    im = Img(p)
    im.put64(im.l1 + 8, im.l1 | (1 << 63))
    rc, _ = compare(tmp_path, vdisk, qemu_img, p, data_safe=False)
    assert rc == 2
    # The repair refused to write into the overlap and marked the image corrupt.
    assert Img(tmp_path / "vfix.qcow2").u64(72) & 2


def test_data_cluster_past_eof(tmp_path, vdisk, qemu_img, qemu_io):
    p = base_image(tmp_path, qemu_img, qemu_io)
    im = Img(p)
    im.put64(im.l2e_addr(10 * C), (1 << 63) | (1 << 30))
    rc, out = compare(tmp_path, vdisk, qemu_img, p, data_safe=False)
    assert rc == 2 and out["corruptions"] >= 1


def test_l2_table_past_eof(tmp_path, vdisk, qemu_img, qemu_io):
    p = base_image(tmp_path, qemu_img, qemu_io, size="1G")
    im = Img(p)
    im.put64(im.l1 + 8, (1 << 63) | (1 << 32))
    rc, _ = compare(tmp_path, vdisk, qemu_img, p, data_safe=False)
    assert rc == 2


def test_unaligned_data_offset(tmp_path, vdisk, qemu_img, qemu_io):
    p = base_image(tmp_path, qemu_img, qemu_io)
    im = Img(p)
    im.put64(im.l2e_addr(C), im.l2e(C) + 512)
    rc, _ = compare(tmp_path, vdisk, qemu_img, p, data_safe=False)
    assert rc == 2


def test_unaligned_preallocated_zero_cluster(tmp_path, vdisk, qemu_img, qemu_io):
    p = base_image(tmp_path, qemu_img, qemu_io)
    im = Img(p)
    im.put64(im.l2e_addr(C), (im.l2e(C) + 512) | 1)
    rc, _ = compare(tmp_path, vdisk, qemu_img, p)
    assert rc == 2


def test_unaligned_l2_table(tmp_path, vdisk, qemu_img, qemu_io):
    p = base_image(tmp_path, qemu_img, qemu_io)
    im = Img(p)
    im.put64(im.l1, im.l1e(0) + 512)
    rc, _ = compare(tmp_path, vdisk, qemu_img, p, data_safe=False)
    assert rc == 2


def test_unaligned_refblock(tmp_path, vdisk, qemu_img, qemu_io):
    p = base_image(tmp_path, qemu_img, qemu_io)
    im = Img(p)
    im.put64(im.rt, im.refblock(0) + 512)
    compare(tmp_path, vdisk, qemu_img, p, qemu_repairs=False)


def test_compressed_descriptor_out_of_range(tmp_path, vdisk, qemu_img, qemu_io):
    p = base_image(tmp_path, qemu_img, qemu_io, compressed=True)
    im = Img(p)
    e = im.l2e(4 << 20)
    assert e & (1 << 62)
    # Keep the sector count, move the offset far past the end of the file.
    csize_shift = 62 - (16 - 8)
    nsec = e & ~((1 << csize_shift) - 1) & ~(3 << 62)
    im.put64(im.l2e_addr(4 << 20), (1 << 62) | nsec | (1 << 33))
    rc, _ = compare(tmp_path, vdisk, qemu_img, p, data_safe=False)
    assert rc == 2


def test_reserved_bits_in_l1_and_l2(tmp_path, vdisk, qemu_img, qemu_io):
    p = base_image(tmp_path, qemu_img, qemu_io)
    im = Img(p)
    im.put64(im.l2e_addr(C), im.l2e(C) | (1 << 57))
    rc, _ = compare(tmp_path, vdisk, qemu_img, p, data_safe=False)
    assert rc == 2


# ---- OFLAG_COPIED ----------------------------------------------------------

def test_copied_flag_missing_on_data(tmp_path, vdisk, qemu_img, qemu_io):
    p = base_image(tmp_path, qemu_img, qemu_io)
    im = Img(p)
    im.put64(im.l2e_addr(C), im.l2e(C) & ~(1 << 63))
    rc, _ = compare(tmp_path, vdisk, qemu_img, p, fix="leaks")
    assert rc == 2


def test_copied_flag_set_on_shared_l2(tmp_path, vdisk, qemu_img, qemu_io):
    p = tmp_path / "s.qcow2"
    qemu_img("create", "-q", "-f", "qcow2", p, "64M")
    qemu_io("-f", "qcow2", "-c", "write -P 0x11 0 256k", p)
    qemu_img("snapshot", "-c", "s1", p)
    im = Img(p)
    im.put64(im.l1, im.l1e(0) | (1 << 63))
    rc, _ = compare(tmp_path, vdisk, qemu_img, p)
    assert rc == 2


# ---- snapshots ---------------------------------------------------------------

def test_snapshot_l1_unaligned(tmp_path, vdisk, qemu_img, qemu_io):
    p = base_image(tmp_path, qemu_img, qemu_io, snapshot=True)
    im = Img(p)
    im.put64(im.snapshot_l1_addr(), im.u64(im.snapshot_l1_addr()) + 512)
    rc, _ = compare(tmp_path, vdisk, qemu_img, p, data_safe=False)
    assert rc == 2


def test_snapshot_data_refcount_too_low(tmp_path, vdisk, qemu_img, qemu_io):
    p = base_image(tmp_path, qemu_img, qemu_io, snapshot=True)
    im = Img(p)
    # Guest cluster 1 was rewritten after the snapshot: only the snapshot's
    # L1 reaches its old data cluster.
    snap_l1 = im.u64(im.snapshot_l1_addr())
    old_l2 = im.u64(snap_l1) & 0x00fffffffffffe00
    old_data = im.u64(old_l2 + 8) & 0x00fffffffffffe00
    assert im.rc(old_data) == 1
    im.set_rc(old_data, 0)
    rc, _ = compare(tmp_path, vdisk, qemu_img, p)
    assert rc == 2


def test_snapshot_table_two_snapshots_clean(tmp_path, vdisk, qemu_img, qemu_io):
    p = base_image(tmp_path, qemu_img, qemu_io, snapshot=True)
    qemu_img("snapshot", "-c", "second snapshot", p)
    qemu_io("-f", "qcow2", "-c", "write -P 0x55 0 64k", p)
    rc, _ = compare(tmp_path, vdisk, qemu_img, p)
    assert rc == 0


# ---- refcount widths and cluster sizes --------------------------------------

@pytest.mark.parametrize("opts", ["cluster_size=512", "refcount_bits=1", "refcount_bits=64",
                                  "cluster_size=4k,extended_l2=off,compat=0.10",
                                  "cluster_size=16k,extended_l2=on"])
def test_other_geometries_clean(tmp_path, vdisk, qemu_img, qemu_io, opts):
    """Refcount widths, small clusters, v2 and subclusters: same verdict."""
    p = tmp_path / "g.qcow2"
    qemu_img("create", "-q", "-f", "qcow2", "-o", opts, p, "8M")
    qemu_io("-f", "qcow2", "-c", "write -P 0x11 0 100k", "-c", "write -P 0x22 3M 33k",
            "-c", "write -c -P 0x33 5M 64k", p)
    assert compare(tmp_path, vdisk, qemu_img, p)[0] == 0


# ---- the dirty bit -------------------------------------------------------------

def append_leak(p):
    """A cluster past the end of the file, refcount 1, referenced by nothing."""
    size = (p.stat().st_size + C - 1) // C * C
    with open(p, "r+b") as f:
        f.truncate(size + C)
    Img(p).set_rc(size, 1)


def lazy_dirty_image(tmp_path, qemu_img, qemu_io):
    """What a crash with lazy refcounts leaves: the dirty bit set, a leak."""
    p = tmp_path / "lazy.qcow2"
    qemu_img("create", "-q", "-f", "qcow2", "-o", "lazy_refcounts=on", p, "64M")
    qemu_io("-f", "qcow2", "-c", "write -P 0x11 0 256k", p)
    im = Img(p)
    im.put64(72, im.u64(72) | 1)
    append_leak(p)
    return p


def test_dirty_image_repaired_on_write_open(tmp_path, vdisk, qemu_img, qemu_io):
    p = lazy_dirty_image(tmp_path, qemu_img, qemu_io)
    im = Img(p)
    im.set_rc(im.l2e(C) & 0x00fffffffffffe00, 0)      # stale: too low as well
    q = tmp_path / "qemu.qcow2"
    shutil.copy(p, q)
    # Read-only: still readable, nothing changed.
    vdisk_io("-f", "qcow2", "-r", p, "-c", "read -P 0x11 0 256k")
    assert Img(p).u64(72) & 1
    # Read-write open repairs, clears the bit, and the write lands; QEMU
    # does the same with its copy.
    vdisk_io("-f", "qcow2", p, "-c", "write -P 0x22 1M 64k")
    qemu_io("-f", "qcow2", "-c", "write -P 0x22 1M 64k", q)
    assert Img(p).u64(72) & 1 == 0
    assert check(qemu_img, p)[0] == 0
    qemu_img("compare", "-f", "qcow2", "-F", "qcow2", p, q)


def test_check_does_not_repair_dirty_image_without_r(tmp_path, vdisk, qemu_img, qemu_io):
    p = lazy_dirty_image(tmp_path, qemu_img, qemu_io)
    rc, _ = compare(tmp_path, vdisk, qemu_img, p, fix="leaks")
    assert rc == 3
    assert Img(p).u64(72) & 1
    assert Img(tmp_path / "vfix.qcow2").u64(72) & 1 == 0


def test_corrupt_bit_cleared_by_repair(tmp_path, vdisk, qemu_img, qemu_io):
    p = base_image(tmp_path, qemu_img, qemu_io)
    im = Img(p)
    im.put64(72, im.u64(72) | 2)
    im.set_rc(im.l2e(C) & 0x00fffffffffffe00, 2)
    compare(tmp_path, vdisk, qemu_img, p)
    assert Img(tmp_path / "vfix.qcow2").u64(72) & 2 == 0


# ---- header tables the check must survive ----------------------------------

@pytest.mark.parametrize("field,value", [
    (40, 1 << 30),        # L1 table past the end of the file
    (48, 1 << 30),        # refcount table past the end of the file
    (40, 0),              # L1 table over the header
    (48, 0),              # refcount table over the header
])
def test_header_table_offsets(tmp_path, vdisk, qemu_img, qemu_io, field, value):
    p = base_image(tmp_path, qemu_img, qemu_io)
    Img(p).put64(field, value)
    compare(tmp_path, vdisk, qemu_img, p, data_safe=False)


@pytest.mark.parametrize("offset", [
    1 << 30,                 # past the end: -r all grows the file to hold it
    0x7FFFFFFFFFFF0000,      # too far out to grow to: the refcounts are rebuilt
    0xFFFFFFFFFFFF0000,      # offset + one cluster wraps past 2^64
])
def test_refblock_outside_image(tmp_path, vdisk, qemu_img, qemu_io, offset):
    p = base_image(tmp_path, qemu_img, qemu_io)
    im = Img(p)
    im.put64(im.rt + 8, offset)
    rc, _ = compare(tmp_path, vdisk, qemu_img, p)
    assert rc == 2


@pytest.mark.parametrize("count,offset", [(100000, 0x10000), (1, 0x10200)])
def test_snapshot_table_invalid(tmp_path, vdisk, qemu_img, qemu_io, count, offset):
    """Too many snapshots, or a misaligned table: the check cannot complete."""
    p = base_image(tmp_path, qemu_img, qemu_io)
    with open(p, "r+b") as f:
        f.seek(60)
        f.write(count.to_bytes(4, "big") + offset.to_bytes(8, "big"))
    rc, _ = compare(tmp_path, vdisk, qemu_img, p)
    assert rc == 1


def test_snapshot_table_past_eof(tmp_path, vdisk, qemu_img, qemu_io):
    """A table past the end reads as one zeroed entry: incomplete for v3,
    which -r all rewrites (as qemu-img does)."""
    p = base_image(tmp_path, qemu_img, qemu_io)
    with open(p, "r+b") as f:
        f.seek(60)
        f.write((1).to_bytes(4, "big") + (1 << 30).to_bytes(8, "big"))
    rc, _ = compare(tmp_path, vdisk, qemu_img, p)
    assert rc == 2


# ---- persistent bitmaps --------------------------------------------------------

def bitmap_image(tmp_path, qemu_img, qemu_io):
    p = base_image(tmp_path, qemu_img, qemu_io)
    qemu_img("bitmap", "--add", p, "b0")
    qemu_io("-f", "qcow2", "-c", "write -P 0x66 8M 1M", p)
    qemu_img("bitmap", "--add", p, "b1")
    return p


def test_bitmaps_counted(tmp_path, vdisk, qemu_img, qemu_io):
    p = bitmap_image(tmp_path, qemu_img, qemu_io)
    rc, _ = compare(tmp_path, vdisk, qemu_img, p, exact_after=False)
    assert rc == 0


def test_bitmaps_kept_by_repair(tmp_path, vdisk, qemu_img, qemu_io):
    p = bitmap_image(tmp_path, qemu_img, qemu_io)
    append_leak(p)
    rc, _ = compare(tmp_path, vdisk, qemu_img, p, fix="leaks", exact_after=False)
    assert rc == 3
    info = json.loads(qemu_img("info", "--output=json", tmp_path / "vfix.qcow2").stdout)
    names = [b["name"] for b in info["format-specific"]["data"]["bitmaps"]]
    assert names == ["b0", "b1"]
