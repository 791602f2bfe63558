"""Crash safety of snapshot operations: vdisk-virsh snapshot -c / -a / -d is
killed with SIGKILL at random points; afterwards `qemu-img check` may find
leaked clusters but never corruption, and the snapshot table is either the
old or the new one.  VDISK_CRASH_RUNS sets the number of kills (default 30)."""
import json
import os
import random
import signal
import subprocess
import time

import pytest

from conftest import VDISK_VIRSH, vdisk_io

RUNS = int(os.environ.get("VDISK_CRASH_RUNS", "30"))


def check(qemu_img, f):
    p = qemu_img("check", "--output", "json", f, check=False)
    assert p.returncode in (0, 3), p.stdout + p.stderr   # clean, or leaks only
    return json.loads(p.stdout)


def names(qemu_img, f):
    p = qemu_img("info", "--output", "json", f)
    return [s["name"] for s in json.loads(p.stdout).get("snapshots", [])]


@pytest.mark.parametrize("seed", [1, 2])
def test_killed_snapshot_ops_leave_no_corruption(vdisk_bin, qemu_img, qemu_io, tmp_path, seed):
    rng = random.Random(seed)
    f = tmp_path / "crash.qcow2"
    qemu_img("create", "-q", "-f", "qcow2", "-o", "cluster_size=4k", f, "64M")
    qemu_io("-f", "qcow2", "-c", "write -P 0x11 0 16M", f)
    killed = 0
    for i in range(RUNS // 2):
        before = names(qemu_img, f)
        op = rng.choice(["-c", "-c", "-a", "-d"]) if before else "-c"
        arg = f"s{i}" if op == "-c" else rng.choice(before)
        p = subprocess.Popen([str(VDISK_VIRSH), "snapshot", op, arg, str(f)],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0, 0.006))
        p.send_signal(signal.SIGKILL)
        killed += p.wait() == -signal.SIGKILL
        d = check(qemu_img, f)
        if d.get("leaks"):
            qemu_img("check", "-r", "leaks", f, check=False)
            check(qemu_img, f)
        after = names(qemu_img, f)
        if op == "-c":
            assert after in (before, before + [arg])
        elif op == "-d":
            assert len(after) in (len(before), len(before) - 1)
        # writes (vdisk's and QEMU's) still work on the result and keep it clean
        off = rng.randrange(0, 60)
        vdisk_io("-c", f"write -P {i & 0xff} {off}M 64k", f)
        qemu_io("-f", "qcow2", "-c", f"write -P {i & 0xff} {off + 1}M 4k", f)
        check(qemu_img, f)
    assert qemu_img("check", f, check=False).returncode == 0
    print(f"{killed} of {RUNS // 2} operations killed before they ended")
    assert killed >= RUNS // 8      # the test kills operations, not finished processes
