"""Shared fixtures for the interop tests: the vdisk-virsh under test and the
real qemu-img / qemu-io used as oracles.

The build directory defaults to <repo>/build; set VDISK_BUILD_DIR to test
another one.  Run with Debian's python3 (python3 -m pytest), which has
python3-pytest.
"""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "pyutil"))
from qemu_pbkdf import retry_pbkdf_flake  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
BUILD = Path(os.environ.get("VDISK_BUILD_DIR", REPO / "build"))
VDISK_VIRSH = BUILD / "tools" / "vdisk-virsh"
VDISK_IO = BUILD / "tests" / "helpers" / "vdisk-io"


def run(argv, check=True, **kw):
    """Run a command, capturing text output; on an unexpected exit status
    fail with the command's own output so the reason is visible."""
    kw.setdefault("capture_output", True)
    kw.setdefault("text", True)
    p = subprocess.run([str(a) for a in argv], **kw)
    if check and p.returncode != 0:
        pytest.fail(f"{' '.join(map(str, argv))} exited {p.returncode}\n"
                    f"stdout:\n{p.stdout}\nstderr:\n{p.stderr}")
    return p


@pytest.fixture(scope="session")
def vdisk_bin():
    if not VDISK_VIRSH.exists():
        pytest.fail(f"{VDISK_VIRSH} is missing: build first (meson setup build && ninja -C build)")
    return VDISK_VIRSH


@pytest.fixture
def vdisk(vdisk_bin):
    """vdisk(*args, check=True) -> CompletedProcess of vdisk-virsh."""
    def _run(*args, check=True, **kw):
        return run([vdisk_bin, *args], check=check, **kw)
    return _run


@pytest.fixture(scope="session")
def qemu_img_bin():
    path = shutil.which("qemu-img")
    if not path:
        pytest.fail("qemu-img is missing (Debian package qemu-utils)")
    return path


@pytest.fixture
def qemu_img(qemu_img_bin):
    """Run the real qemu-img; a run lost to QEMU's PBKDF2 calibration flake
    is repeated (tests/pyutil/qemu_pbkdf.py)."""
    def _run(*args, check=True, **kw):
        p = retry_pbkdf_flake(lambda: run([qemu_img_bin, *args], check=False, **kw))
        if check and p.returncode != 0:
            pytest.fail(f"qemu-img {' '.join(map(str, args))} exited {p.returncode}\n"
                        f"stdout:\n{p.stdout}\nstderr:\n{p.stderr}")
        return p
    return _run


@pytest.fixture
def as_qemu_img(vdisk_bin, tmp_path):
    """Run vdisk-virsh under the name qemu-img (a symlink, as
    scripts/iotests.sh installs it): it then speaks as qemu-img."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    link = bindir / "qemu-img"
    os.symlink(vdisk_bin, link)

    def _run(*args, check=True, **kw):
        return run([link, *args], check=check, **kw)
    return _run


@pytest.fixture
def qemu_io():
    path = shutil.which("qemu-io")
    if not path:
        pytest.fail("qemu-io is missing (Debian package qemu-utils)")

    def _run(*args, check=True, **kw):
        return run([path, *args], check=check, **kw)
    return _run


def vdisk_io(*args, check=True):
    """Run vdisk-io, the qemu-io-like test driver of libvdisk
    (tests/helpers/vdisk-io.c)."""
    if not VDISK_IO.exists():
        pytest.fail(f"{VDISK_IO} is missing: build first")
    return run([VDISK_IO, *args], check=check)


@pytest.fixture(scope="session")
def vdisk_io_bin():
    if not VDISK_IO.exists():
        pytest.fail(f"{VDISK_IO} is missing: build first")
    return VDISK_IO


@pytest.fixture
def vio(vdisk_io_bin):
    """vio(*args, check=True) -> CompletedProcess of vdisk-io."""
    return vdisk_io
