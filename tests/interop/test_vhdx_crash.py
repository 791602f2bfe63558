"""Crash test of VHDX writes: a writer (vdisk-io stress: random writes,
write-zeroes, discards, flushes, each flush committing the BAT through the
log) is killed with SIGKILL at random points, again and again on the same
image.  After every kill the image may hold a log to replay; QEMU is the
judge: `qemu-img check -r all` on one copy and `vdisk-virsh check -r all`
on another must both succeed without corruption and leave identical
content, which qemu-img check then finds clean.  The next writer goes on
from vdisk's copy.

VDISK_CRASH_RUNS sets the number of kills (default 20); VDISK_CRASH_SEED
picks another random sequence.
"""
import os
import random
import shutil
import signal
import subprocess
import time

import pytest

from conftest import VDISK_IO

RUNS = int(os.environ.get("VDISK_CRASH_RUNS", "20"))
SEED = int(os.environ.get("VDISK_CRASH_SEED", "20261207"))


def start_writer(img, seed):
    p = subprocess.Popen([str(VDISK_IO), "-f", "vhdx", str(img), "-c", f"stress {seed} 0"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = p.stdout.readline()
    if not line.startswith("op "):
        p.kill()
        pytest.fail(f"writer did not start: {line}{p.stderr.read()}")
    return p


def test_killed_writers_leave_replayable_images(tmp_path, vdisk, qemu_img):
    rng = random.Random(SEED)
    img = tmp_path / "disk.vhdx"
    qemu_img("create", "-q", "-f", "vhdx", "-o", "block_size=1M", img, "64M")
    replayed = 0
    for run in range(RUNS):
        p = start_writer(img, rng.randrange(1 << 30))
        time.sleep(rng.uniform(0.0, 0.5))
        p.send_signal(signal.SIGKILL)
        p.communicate()
        assert p.returncode == -signal.SIGKILL, "the writer stopped on its own"
        theirs = tmp_path / "theirs.vhdx"
        shutil.copyfile(img, theirs)
        q = qemu_img("check", "-r", "all", theirs, check=False)
        v = vdisk("check", "-r", "all", img, check=False)
        assert q.returncode == 0, f"run {run}: qemu-img check -r all: {q.stdout}{q.stderr}"
        assert v.returncode == 0, f"run {run}: vdisk check -r all: {v.stdout}{v.stderr}"
        assert ("repaired" in v.stdout) == ("repaired" in q.stdout), (v.stdout, q.stdout)
        replayed += "repaired" in v.stdout
        qemu_img("check", img)
        qemu_img("compare", img, theirs)
    print(f"{RUNS} kills, {replayed} logs replayed")
