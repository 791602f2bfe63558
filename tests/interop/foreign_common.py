"""Helpers shared by test_vdi.py, test_qed.py and test_parallels.py (no tests
here): images made by qemu-img with data written by qemu-io, and the checks
that vdisk reads them as qemu-img does -- content byte for byte against
`qemu-img convert -O raw`, `map`, `info`, `check` and `measure` output, all
from qemu-img run on the same file.
"""
import json
import struct

from cli_common import assert_no_crash, qemu_json, run_in, vdisk_json

MiB = 1 << 20

# Writes qemu-io makes in the test images: data at aligned and unaligned
# offsets, a zero write, data near the end.
WRITES = ["write -P 0xaa 0 4k", "write -P 0x55 70000 5000", "write -z 1M 64k",
          "write -P 0x11 2M 1M", "write -P 0x77 7M 12k"]


def make(qemu_img, qemu_io, fmt, path, size="8M", opts=None, writes=WRITES, backing=None):
    args = ["create", "-q", "-f", fmt]
    if opts:
        args += ["-o", opts]
    if backing:
        args += ["-b", backing[0], "-F", backing[1]]
    qemu_img(*args, path, *([size] if size else []))
    cmds = [a for w in writes for a in ("-c", w)]
    if cmds:
        qemu_io("-f", fmt, *cmds, path)
    return path


def same_content(vdisk, qemu_img, img, tmp_path, fmt):
    """vdisk's raw copy of img equals qemu-img's, byte for byte."""
    ref, mine = tmp_path / "ref.raw", tmp_path / "mine.raw"
    qemu_img("convert", "-f", fmt, "-O", "raw", img, ref)
    vdisk("convert", "-O", "raw", img, mine)
    assert mine.read_bytes() == ref.read_bytes()
    # and compare reads the image itself against qemu-img's copy
    assert vdisk("compare", "-F", "raw", img, ref).returncode == 0
    return ref


def same_map(vdisk, qemu_img, img):
    d = img.parent
    want = run_in(d, qemu_json, qemu_img, "map", "--output=json", img.name)
    got = run_in(d, vdisk_json, vdisk, "map", "--output=json", img.name)
    assert got == want


INFO_KEYS = ("format", "virtual-size", "cluster-size", "backing-filename",
             "backing-filename-format", "full-backing-filename")


def same_info(vdisk, qemu_img, img):
    want = qemu_json(qemu_img, "info", "--output=json", img)
    got = vdisk_json(vdisk, "info", "--output=json", img)
    for k in INFO_KEYS:
        assert got.get(k) == want.get(k), k
    if "dirty-flag" in want:
        assert got["dirty-flag"] == want["dirty-flag"]
    return got


CHECK_KEYS = ("corruptions", "leaks", "check-errors", "image-end-offset", "total-clusters",
              "allocated-clusters", "fragmented-clusters", "format")


def same_check(vdisk, qemu_img, img):
    """vdisk check reports the counts and exit status qemu-img check does."""
    q = qemu_img("check", "--output=json", img, check=False)
    v = vdisk("check", "--output=json", img, check=False)
    assert_no_crash(v)
    assert v.returncode == q.returncode, v.stderr
    want, got = json.loads(q.stdout), json.loads(v.stdout)
    for k in CHECK_KEYS:
        assert got.get(k) == want.get(k), k
    return got


def same_measure(vdisk, qemu_img, img):
    want = qemu_json(qemu_img, "measure", "--output=json", "-O", "qcow2", img)
    got = vdisk_json(vdisk, "measure", "--output=json", "-O", "qcow2", img)
    assert got == want


def reads_like_qemu(vdisk, qemu_img, img, tmp_path, fmt):
    """Everything above, on one image."""
    same_content(vdisk, qemu_img, img, tmp_path, fmt)
    same_map(vdisk, qemu_img, img)
    same_info(vdisk, qemu_img, img)
    same_check(vdisk, qemu_img, img)
    same_measure(vdisk, qemu_img, img)


def poke(path, offset, fmt, *values):
    """Overwrite little-endian fields of an image file (hostile inputs)."""
    with open(path, "r+b") as f:
        f.seek(offset)
        f.write(struct.pack("<" + fmt, *values))


def refused(vdisk, *args, words=()):
    """A vdisk-virsh command fails cleanly, its message saying `words`."""
    p = vdisk(*args, check=False)
    assert_no_crash(p)
    assert p.returncode != 0
    for w in words:
        assert w in p.stderr, p.stderr
    return p
