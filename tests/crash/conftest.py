"""Fixtures of the power-loss crash-state suite (see test_crash_states.py):
the vdisk binaries of the build under test and qemu-img as the oracle.

The build directory defaults to <repo>/build (configured with -Dtests=true,
which builds the record protocol); VDISK_BUILD_DIR selects another.
"""
import os
import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
BUILD = Path(os.environ.get("VDISK_BUILD_DIR", REPO / "build"))
VDISK_VIRSH = BUILD / "tools" / "vdisk-virsh"
VDISK_IO = BUILD / "tests" / "helpers" / "vdisk-io"


@pytest.fixture(scope="session")
def tools():
    for p in (VDISK_VIRSH, VDISK_IO):
        if not p.exists():
            pytest.fail(f"{p} is missing: build first (scripts/build.sh -Dtests=true)")
    qemu_img = shutil.which("qemu-img")
    qemu_io = shutil.which("qemu-io")
    if not qemu_img or not qemu_io:
        pytest.fail("qemu-img / qemu-io are missing (Debian package qemu-utils)")
    return {"virsh": str(VDISK_VIRSH), "io": str(VDISK_IO), "qemu_img": qemu_img,
            "qemu_io": qemu_io}


def pytest_terminal_summary(terminalreporter):
    """The counts per operation, one "crash states:" line each."""
    import crashcheck
    if crashcheck.REPORT:
        terminalreporter.write_line("")
        for line in crashcheck.REPORT:
            terminalreporter.write_line(line)
