"""Helpers for the persistent dirty bitmap tests (no tests here).

The oracles: qemu-img (check, info), qemu-io (the same writes on a twin
image) and qemu-nbd, which exports a bitmap as the metadata context
qemu:dirty-bitmap:NAME; `qemu-img map` through x-dirty-bitmap then shows
dirty ranges as "data": false.
"""
import json
import os
import shutil
import socket
import struct
import subprocess
import tempfile
import time

import pytest

BITMAPS_EXT = 0x23852875
WARNING = "bitmap support"


def need_tools():
    for t in ("qemu-img", "qemu-io", "qemu-nbd"):
        if not shutil.which(t):
            pytest.skip(f"{t} is missing (Debian package qemu-utils)")


def make_image(qemu_img, path, size="64M", opts="", bitmaps=(("b0", None, False),)):
    """A qcow2 image with bitmaps (name, granularity or None, disabled)."""
    args = ["create", "-q", "-f", "qcow2"]
    if opts:
        args += ["-o", opts]
    qemu_img(*args, path, size)
    for name, gran, disabled in bitmaps:
        a = ["bitmap", "--add"]
        if gran:
            a += ["-g", str(gran)]
        if disabled:
            a += ["--disable"]
        qemu_img(*a, path, name)


def check_clean(qemu_img, path):
    """qemu-img check: exit 0, no leak, no bitmap warning."""
    p = subprocess.run(["qemu-img", "check", "--output=json", str(path)],
                       capture_output=True, text=True)
    assert WARNING not in p.stderr, p.stderr
    assert p.returncode == 0, p.stdout + p.stderr
    r = json.loads(p.stdout)
    assert r.get("leaks", 0) == 0 and r.get("corruptions", 0) == 0, r
    return r


def bitmap_info(path):
    """[(name, granularity, sorted flags)] as qemu-img info reports them."""
    p = subprocess.run(["qemu-img", "info", "-U", "--output=json", str(path)],
                       capture_output=True, text=True, check=True)
    assert WARNING not in p.stderr, p.stderr
    data = json.loads(p.stdout)["format-specific"]["data"]
    return [(b["name"], b["granularity"], sorted(b["flags"])) for b in data.get("bitmaps", [])]


def dirty_ranges(path, name):
    """[(start, length)] of the dirty ranges of bitmap `name`, from qemu-nbd."""
    d = tempfile.mkdtemp(prefix="bm")
    sock = os.path.join(d, "s")
    nbd = subprocess.Popen(["qemu-nbd", "-r", "-t", "-k", sock, "-f", "qcow2", "-B", name,
                            str(path)], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        for _ in range(100):
            if os.path.exists(sock):
                break
            if nbd.poll() is not None:
                pytest.fail(f"qemu-nbd failed: {nbd.stderr.read().decode()}")
            time.sleep(0.05)
        p = subprocess.run(["qemu-img", "map", "--output=json", "--image-opts",
                            f"driver=nbd,server.type=unix,server.path={sock},"
                            f"x-dirty-bitmap=qemu:dirty-bitmap:{name}"],
                           capture_output=True, text=True, check=True)
    finally:
        nbd.terminate()
        nbd.wait()
        shutil.rmtree(d, ignore_errors=True)
    out = []
    for e in json.loads(p.stdout):
        if not e["data"]:
            if out and out[-1][0] + out[-1][1] == e["start"]:
                out[-1] = (out[-1][0], out[-1][1] + e["length"])
            else:
                out.append((e["start"], e["length"]))
    return out


def all_dirty(path):
    return {n: dirty_ranges(path, n) for n, _, fl in bitmap_info(path) if "in-use" not in fl}


def set_in_use(path, name):
    """Set the in_use flag of bitmap `name` in the directory (as a crashed
    QEMU leaves it)."""
    with open(path, "r+b") as f:
        h = f.read(65536)
        hdr_len = struct.unpack(">I", h[100:104])[0]
        p = hdr_len
        while True:
            magic, ln = struct.unpack(">II", h[p:p + 8])
            if magic == 0:
                raise AssertionError("no bitmaps extension")
            if magic == BITMAPS_EXT:
                nb, _, dsize, doff = struct.unpack(">IIQQ", h[p + 8:p + 32])
                break
            p += 8 + ((ln + 7) & ~7)
        f.seek(doff)
        d = f.read(dsize)
        q = 0
        for _ in range(nb):
            flags, _t, _g, nsz, extra = struct.unpack(">IBBHI", d[q + 12:q + 24])
            nm = d[q + 24 + extra:q + 24 + extra + nsz].decode()
            if nm == name:
                f.seek(doff + q + 12)
                f.write(struct.pack(">I", flags | 1))
                return
            q += (24 + extra + nsz + 7) & ~7
    raise AssertionError(f"bitmap {name} not found")
