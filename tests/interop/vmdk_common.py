"""Helpers of the VMDK interop tests (test_vmdk*.py); no tests here.

Expected values come from qemu-img / qemu-io on the same files, from other
VMDK tools Debian packages (VMDKstream writes streams, libyal's pyvmdk
reads), or from first principles (the raw bytes a test wrote itself).
"""
import hashlib
import os
import re
import struct

from cli_common import assert_no_crash, run_in

KiB = 1 << 10
MiB = 1 << 20
GiB = 1 << 30

SUBFORMATS = ["monolithicSparse", "monolithicFlat", "twoGbMaxExtentSparse",
              "twoGbMaxExtentFlat", "streamOptimized"]
SPARSE_KINDS = ["monolithicSparse", "twoGbMaxExtentSparse"]
FLAT_KINDS = ["monolithicFlat", "twoGbMaxExtentFlat"]

# Past 2 GiB, so that the twoGbMaxExtent kinds have two extents.
SIZE = 2 * GiB + 5 * MiB


def workload(size=SIZE):
    """qemu-io commands: whole and partial grains, a run across the 2 GiB
    extent boundary, zero writes (zeroed grains where enabled), the tail."""
    return ["write -P 0x11 0 1M", "write -P 0x22 1000 5000", "write -z 64k 128k",
            "write -P 0x33 3M 64k", "write -z 3M 64k", "write -P 0x44 2047M 2M",
            f"write -P 0x55 {size - 4 * KiB} 4k", "write -P 0x66 700M 300k"]


def cmds(ops):
    out = []
    for op in ops:
        out += ["-c", op]
    return out


def raw_source(qemu_io, path, size=SIZE, ops=None):
    """A sparse raw file holding the workload (the oracle's bytes)."""
    with open(path, "wb") as f:
        f.truncate(size)
    qemu_io("-f", "raw", *cmds(ops or workload(size)), path)
    return path


def qemu_vmdk(qemu_img, qemu_io, tmp_path, subformat, opts="", size=SIZE, name="q.vmdk", ops=None):
    """A VMDK made by qemu-img with the workload written by qemu-io (a
    stream is converted from a raw file: qemu writes streams whole-grain
    only)."""
    img = tmp_path / name
    o = f"subformat={subformat}" + (f",{opts}" if opts else "")
    if subformat == "streamOptimized":
        src = raw_source(qemu_io, tmp_path / (name + ".src.raw"), size, ops)
        qemu_img("convert", "-f", "raw", "-O", "vmdk", "-o", o, src, img)
        os.unlink(src)
    else:
        qemu_img("create", "-q", "-f", "vmdk", "-o", o, img, str(size))
        qemu_io("-f", "vmdk", *cmds(ops or workload(size)), img)
    return img


def data_ranges(path):
    """(start, end) of the data extents of a sparse file (SEEK_DATA)."""
    out = []
    with open(path, "rb") as f:
        fd, size, off = f.fileno(), os.fstat(f.fileno()).st_size, 0
        while off < size:
            try:
                start = os.lseek(fd, off, os.SEEK_DATA)
            except OSError:
                break
            end = os.lseek(fd, start, os.SEEK_HOLE)
            out.append((start, end))
            off = end
    return out


def sparse_equal(a, b):
    """Equal bytes, reading only where either file has data (holes are
    zeros), so that comparing 2 GiB sparse files costs what they hold."""
    if os.path.getsize(a) != os.path.getsize(b):
        return False
    ranges = sorted(data_ranges(a) + data_ranges(b))
    with open(a, "rb") as fa, open(b, "rb") as fb:
        for start, end in ranges:
            for off in range(start, end, 4 * MiB):
                n = min(4 * MiB, end - off)
                fa.seek(off)
                fb.seek(off)
                if fa.read(n) != fb.read(n):
                    return False
    return True


def same_content(vdisk, qemu_img, img, tmp_path, *fmt):
    """vdisk's convert -O raw of img equals qemu-img's."""
    v, q = tmp_path / "v.raw", tmp_path / "q.raw"
    for f in (v, q):
        if f.exists():
            f.unlink()
    p = vdisk("convert", *fmt, "-O", "raw", img, v, check=False)
    assert_no_crash(p)
    assert p.returncode == 0, p.stderr
    qemu_img("convert", *fmt, "-O", "raw", img, q)
    assert sparse_equal(v, q), "content differs from qemu-img convert -O raw"


def outputs_equal(vdisk, qemu_img, cwd, *args):
    """stdout of `vdisk ARGS` and `qemu-img ARGS`, run in cwd, are equal."""
    def go():
        pv = vdisk(*args, check=False)
        assert_no_crash(pv)
        pq = qemu_img(*args, check=False)
        assert pv.returncode == pq.returncode, (pv.stderr, pq.stderr)
        assert pv.stdout == pq.stdout
    run_in(cwd, go)


def descriptor_text(path):
    """A descriptor: the file, or the one embedded in a sparse file."""
    data = open(path, "rb").read()
    if data[:4] == b"KDMV":
        off, size = struct.unpack_from("<QQ", data, 28)
        data = data[off * 512:(off + size) * 512]
    return data.split(b"\0", 1)[0].decode()


def without_cids(text):
    return re.sub(r"^(parent)?CID=\w+$", r"\1CID=X", text, flags=re.M)


def md5(path):
    h = hashlib.md5()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(MiB), b""):
            h.update(chunk)
    return h.hexdigest()


def patch(path, off, data):
    with open(path, "r+b") as f:
        f.seek(off)
        f.write(data)


def header(path):
    """Fields of a sparse extent header (KDMV)."""
    h = open(path, "rb").read(512)
    keys = ["version", "flags", "capacity", "grain", "desc_off", "desc_size", "gt_entries",
            "rgd", "gd", "overhead"]
    return dict(zip(keys, struct.unpack_from("<IIQQQQIQQQ", h, 4)))


HEADER_OFFSETS = {"version": 4, "flags": 8, "capacity": 12, "grain": 20, "desc_off": 28,
                  "desc_size": 36, "gt_entries": 44, "rgd": 48, "gd": 56, "overhead": 64}


def set_header(path, field, value):
    fmt = "<I" if field in ("version", "flags", "gt_entries") else "<Q"
    patch(path, HEADER_OFFSETS[field], struct.pack(fmt, value))
