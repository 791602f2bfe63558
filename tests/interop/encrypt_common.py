"""Helpers for the test_encrypt*.py modules (no tests here).

QEMU is the oracle: qemu-img / qemu-io open the images with the same
passphrase through `--object secret,id=sec0,file=PW --image-opts ...`.
Iteration times are kept small (10 ms) and always given explicitly.
"""
import os
import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "pyutil"))
from qemu_pbkdf import retry_pbkdf_flake  # noqa: E402

ITER = "10"
PASS = b"vdisk test passphrase"
OTHER = b"another passphrase"


def pwfile(tmp_path, data=PASS, name="pw"):
    p = tmp_path / name
    p.write_bytes(data)
    return p


def secret(pw, sid="sec0"):
    return ["--object", f"secret,id={sid},file={pw}"]


def qcow2_opts(path, sid="sec0"):
    return f"driver=qcow2,file.filename={path},encrypt.key-secret={sid}"


def luks_opts(path, sid="sec0"):
    return f"driver=luks,file.filename={path},key-secret={sid}"


def image_opts(fmt, path, sid="sec0"):
    return qcow2_opts(path, sid) if fmt == "qcow2" else luks_opts(path, sid)


def retry_qemu(fn, *args, **kw):
    """Run qemu-img or qemu-io, repeating a run lost to QEMU's PBKDF2
    calibration flake (tests/pyutil/qemu_pbkdf.py); fail on any other error."""
    p = retry_pbkdf_flake(lambda: fn(*args, check=False, **kw))
    if p.returncode != 0:
        pytest.fail(f"qemu {' '.join(map(str, args))} exited {p.returncode}\n{p.stderr}")
    return p


def pattern_raw(path, size=4 << 20):
    """A raw image with data, a hole and an unaligned run (fixed seed)."""
    import random
    rnd = random.Random(4)
    with open(path, "wb") as f:
        f.truncate(size)
        f.seek(0)
        f.write(rnd.randbytes(300 * 1024))
        f.seek(size // 2 + 777)
        f.write(b"vdisk" * 3001)
        f.seek(size - 4096)
        f.write(rnd.randbytes(4096))
    return path


def have_cryptsetup():
    return shutil.which("cryptsetup") is not None or os.path.exists("/usr/sbin/cryptsetup")


def cryptsetup_bin():
    return shutil.which("cryptsetup") or "/usr/sbin/cryptsetup"
