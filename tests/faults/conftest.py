"""Fixtures of the fault-injection suite (see test_faults.py): the vdisk
binaries and the fault shim of the build under test, qemu-img as the oracle.

The build directory defaults to <repo>/build (configured with -Dtests=true,
which builds tests/faults/libvdisk-fault.so); VDISK_BUILD_DIR selects
another.
"""
import os
import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
BUILD = Path(os.environ.get("VDISK_BUILD_DIR", REPO / "build"))
REPORT = []


@pytest.fixture(scope="session")
def tools():
    paths = {"virsh": BUILD / "tools" / "vdisk-virsh",
             "io": BUILD / "tests" / "helpers" / "vdisk-io",
             "shim": BUILD / "tests" / "faults" / "libvdisk-fault.so"}
    for p in paths.values():
        if not p.exists():
            pytest.fail(f"{p} is missing: build first (scripts/build.sh -Dtests=true)")
    t = {k: str(v) for k, v in paths.items()}
    for name in ("qemu-img", "qemu-io"):
        t[name.replace("-", "_")] = shutil.which(name)
        if not t[name.replace("-", "_")]:
            pytest.fail(f"{name} is missing (Debian package qemu-utils)")
    return t


def pytest_terminal_summary(terminalreporter):
    """The outcomes per operation, one "faults:" line each."""
    if REPORT:
        terminalreporter.write_line("")
        for line in REPORT:
            terminalreporter.write_line(line)
