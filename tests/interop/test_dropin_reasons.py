"""Errors qemu-img words in its own way (iotests 054 and 080): libvdisk
names their reason (vdisk_error.reason), and vdisk-virsh run as `qemu-img`
says what qemu-img 7.2 says, while run as vdisk-virsh it keeps libvdisk's
fuller message.  The real qemu-img on a copy of the same damaged image is
the oracle: same exit status, stdout and stderr."""
import shutil
import struct

import pytest


def poke(path, off, data):
    with open(path, "r+b") as f:
        f.seek(off)
        f.write(data)


def snapshot_entry(path):
    """Offset of the first snapshot table entry (header field 64)."""
    with open(path, "rb") as f:
        f.seek(64)
        return struct.unpack(">Q", f.read(8))[0]


def pair(tmp_path, img):
    """Two copies of img, t.qcow2 in q/ and v/, for the two tools."""
    dirs = []
    for d in ("q", "v"):
        (tmp_path / d).mkdir()
        shutil.copy(img, tmp_path / d / "t.qcow2")
        dirs.append(tmp_path / d)
    return dirs


def same(qemu_img, as_qemu_img, dirs, *args):
    pq = qemu_img(*args, check=False, cwd=dirs[0])
    pv = as_qemu_img(*args, check=False, cwd=dirs[1])
    assert (pv.returncode, pv.stdout, pv.stderr) == (pq.returncode, pq.stdout, pq.stderr)
    assert pq.returncode != 0
    return pv


def test_image_too_big(qemu_img, as_qemu_img, vdisk, tmp_path):
    img = tmp_path / "big.qcow2"
    qemu_img("create", "-q", "-f", "qcow2", img, "4G")
    poke(img, 24, struct.pack(">Q", 1024 ** 6))
    dirs = pair(tmp_path, img)
    pv = same(qemu_img, as_qemu_img, dirs, "check", "t.qcow2")
    assert "Image is too big" in pv.stderr
    p = vdisk("check", img, check=False)
    assert p.returncode != 0 and "L1 table has" in p.stderr and "needs" in p.stderr


def test_l1_table_too_small(qemu_img, as_qemu_img, vdisk, tmp_path):
    img = tmp_path / "small.qcow2"
    qemu_img("create", "-q", "-f", "qcow2", img, "64M")
    qemu_img("snapshot", "-c", "foo", img)
    poke(img, 36, struct.pack(">I", 0))
    dirs = pair(tmp_path, img)
    pv = same(qemu_img, as_qemu_img, dirs, "info", "t.qcow2")
    assert "L1 table is too small" in pv.stderr
    p = vdisk("info", img, check=False)
    assert p.returncode != 0 and "L1 table has 0 entries" in p.stderr


@pytest.mark.parametrize("field,value,words", [
    (0, struct.pack(">Q", 0x400200), "Snapshot L1 table offset invalid"),
    (8, struct.pack(">I", 0x10000000), "Snapshot L1 table too large"),
])
@pytest.mark.parametrize("args", [
    ("convert", "-l", "test", "t.qcow2", "t.snap"),
    ("amend", "-o", "compat=0.10", "t.qcow2"),
    ("snapshot", "-a", "test", "t.qcow2"),
    ("snapshot", "-d", "test", "t.qcow2"),
])
def test_bad_snapshot_l1(qemu_img, qemu_io, as_qemu_img, vdisk, tmp_path, field, value, words, args):
    img = tmp_path / "s.qcow2"
    qemu_img("create", "-q", "-f", "qcow2", img, "64M")
    qemu_io("-f", "qcow2", "-c", "write 0 512", img)
    qemu_img("snapshot", "-c", "test", img)
    poke(img, snapshot_entry(img) + field, value)
    dirs = pair(tmp_path, img)
    pv = same(qemu_img, as_qemu_img, dirs, *args)
    assert words in pv.stderr
    p = vdisk(*args, check=False, cwd=dirs[1])
    assert p.returncode != 0 and "L1 table of snapshot 'test' (ID 1)" in p.stderr


def test_snapshot_create_failure_names_errno(qemu_img, as_qemu_img, vdisk, tmp_path):
    """qemu-img words every failed snapshot -c as '<errno> (<strerror>)'."""
    img = tmp_path / "r.raw"
    img.write_bytes(bytes(1 << 20))
    lines = []
    for tool in (qemu_img, as_qemu_img):
        p = tool("snapshot", "-c", "x", img, check=False)
        assert p.returncode == 1
        lines.append([l for l in p.stderr.splitlines() if "Could not create" in l])
    assert lines[0] == lines[1] == ["qemu-img: Could not create snapshot 'x': -95 (Operation not supported)"]
    p = vdisk("snapshot", "-c", "x", img, check=False)
    assert p.returncode == 1 and "-95" not in p.stderr
