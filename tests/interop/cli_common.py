"""Helpers shared by the test_cli_*.py modules (no tests here).

Expected values always come from qemu-img / qemu-io run on the same files,
or from first principles (file sizes, byte patterns) -- never from
vdisk-virsh's own output.
"""
import json
import os
import shutil
from pathlib import Path

import pytest

def assert_no_crash(p):
    """Whatever the exit status, vdisk-virsh must not die of a signal."""
    if p.returncode < 0:
        pytest.fail(f"vdisk-virsh died with signal {-p.returncode}\nstderr:\n{p.stderr}")


def qemu_json(qemu_img, *args):
    return json.loads(qemu_img(*args).stdout)


def vdisk_json(vdisk, *args):
    p = vdisk(*args, check=False)
    assert_no_crash(p)
    if p.returncode != 0:
        pytest.fail(f"vdisk-virsh {' '.join(map(str, args))} exited {p.returncode}\n{p.stderr}")
    return json.loads(p.stdout)


def run_in(cwd, fn, *args, **kw):
    """Run fn(*args) with the working directory set to cwd, so relative
    file names (which qemu-img echoes back) are the same for both tools."""
    old = os.getcwd()
    os.chdir(cwd)
    try:
        return fn(*args, **kw)
    finally:
        os.chdir(old)


def write_sparse(path, size, chunks):
    """A sparse file of `size` bytes with (offset, bytes) chunks written."""
    with open(path, "wb") as f:
        f.truncate(size)
        for off, data in chunks:
            f.seek(off)
            f.write(data)


def allocated_bytes(path):
    return os.stat(path).st_blocks * 512


def have_qemu_io():
    return shutil.which("qemu-io") is not None


def copy(src, dst):
    shutil.copyfile(src, dst)
    return Path(dst)
