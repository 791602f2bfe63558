"""Crash test for inflate, eagerzero and sparsify on qcow2: vdisk-virsh is
killed with SIGKILL at random points while it moves a 4 KiB-cluster image
(thousands of clusters, dozens of L2 tables and refcount blocks) between
thin, lazy and eager and back, again and again on the same image.

After every kill qemu-img check must find no corruption (leaks are
allowed: new clusters are counted before a table names them, and freed
ones are unnamed on disk before their refcount drops), and the guest's
view never changes (qemu-img compare against a copy taken first).

VDISK_PROVISION_CRASH_RUNS sets the number of kills (default 24);
VDISK_CRASH_SEED picks another random sequence.
"""
import json
import os
import random
import subprocess
import time

from conftest import run
from crash_common import unexplained_errors

RUNS = int(os.environ.get("VDISK_PROVISION_CRASH_RUNS", "24"))
SEED = int(os.environ.get("VDISK_CRASH_SEED", "20261207"))
MOVES = [["inflate"], ["inflate", "--eager"], ["eagerzero"], ["sparsify"],
         ["sparsify", "--zero-detect"], ["sparsify", "--zero-detect", "--truncate"]]


def test_killed_moves_keep_the_image(vdisk_bin, qemu_img, qemu_io, tmp_path):
    f = tmp_path / "c.qcow2"
    qemu_img("create", "-q", "-f", "qcow2", "-o", "cluster_size=4k", f, "96M")
    # Data, written zeros and holes interleaved, so every move has work
    # in every L2 table.
    cmds = []
    for mib in range(0, 96, 3):
        cmds += ["-c", f"write -P {0x40 + mib} {mib}M 512k", "-c", f"write -P 0 {mib + 1}M 512k"]
    qemu_io("-f", "qcow2", *cmds, f)
    want = tmp_path / "want.raw"
    qemu_img("convert", "-O", "raw", f, want)
    rng = random.Random(SEED)
    kills = 0
    for _ in range(RUNS):
        move = rng.choice(MOVES)
        p = subprocess.Popen([str(vdisk_bin), *move, "-q", str(f)],
                             stderr=subprocess.PIPE, text=True)
        time.sleep(rng.uniform(0, 0.15))
        p.kill()
        _, err = p.communicate()
        kills += p.returncode < 0
        assert p.returncode in (0, -9), (move, err)
        c = qemu_img("check", "--output", "json", f, check=False)
        res = json.loads(c.stdout)
        if res.get("corruptions", 0):
            assert not unexplained_errors(c.stderr, 12), (move, c.stdout + c.stderr)
        if res.get("leaks", 0) or res.get("corruptions", 0):
            run([str(vdisk_bin), "check", "-r", "all", str(f)], check=False)
            assert qemu_img("check", f, check=False).returncode == 0, move
        qemu_img("compare", "-q", "-f", "raw", "-F", "qcow2", want, f)
    # Some kills must have landed mid-work for the test to mean anything.
    assert kills > 0
