"""Crash test for amend -o refcount_bits: vdisk-virsh is killed with SIGKILL
at random points while it rewrites the refcount structures of an image with
many refcount blocks, again and again on the same image with random widths.
After every kill qemu-img check must find no corruption (leaked clusters are
allowed: the new structures are complete before the header names them, and
the old ones are freed only afterwards), qemu-img info must show either the
old or the new width, and the guest data never changes.

VDISK_AMEND_CRASH_RUNS sets the number of kills (default 40);
VDISK_CRASH_SEED picks another random sequence.
"""
import json
import os
import random
import subprocess
import time

from conftest import run

RUNS = int(os.environ.get("VDISK_AMEND_CRASH_RUNS", "40"))
SEED = int(os.environ.get("VDISK_CRASH_SEED", "20261124"))


def width(qemu_img, f):
    d = json.loads(qemu_img("info", "--output", "json", f).stdout)
    return d["format-specific"]["data"]["refcount-bits"]


def test_killed_width_change_only_leaks(vdisk_bin, qemu_img, qemu_io, tmp_path):
    f = tmp_path / "c.qcow2"
    # 512-byte clusters: thousands of refcount blocks, so the work takes a while.
    qemu_img("create", "-q", "-f", "qcow2", "-o", "cluster_size=512,preallocation=metadata",
             f, "128M")
    qemu_io("-f", "qcow2", "-c", "write -P 0x5a 0 4M", "-c", "write -P 0xa5 100M 1M", f)
    want = tmp_path / "want.raw"
    qemu_img("convert", "-O", "raw", f, want)
    rng = random.Random(SEED)
    kills = 0
    for _ in range(RUNS):
        before = width(qemu_img, f)
        w = rng.choice([1, 2, 4, 8, 16, 32, 64])
        p = subprocess.Popen([str(vdisk_bin), "amend", "-o", f"refcount_bits={w}", str(f)],
                             stderr=subprocess.PIPE, text=True)
        time.sleep(rng.uniform(0, 0.1))
        p.kill()
        _, err = p.communicate()
        kills += p.returncode < 0
        assert p.returncode in (0, -9), err
        assert width(qemu_img, f) in (before, w)
        c = qemu_img("check", "--output", "json", f, check=False)
        res = json.loads(c.stdout)
        assert res.get("corruptions", 0) == 0, c.stdout + c.stderr
        if res.get("leaks", 0):
            run([str(vdisk_bin), "check", "-r", "leaks", str(f)], check=False)
            assert qemu_img("check", f, check=False).returncode == 0
    qemu_img("compare", "-f", "raw", "-F", "qcow2", want, f)
    # Some kills must have landed mid-work for the test to mean anything.
    assert kills > 0
