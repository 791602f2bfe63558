"""Helpers shared by the test_xml_*.py modules (no tests here).

The oracles are libvirt's own: its XML test data and RelaxNG schemas from
Debian's libvirt source package (fetched by scripts/fetch-libvirt-source.sh,
or found at $VDISK_LIBVIRT_SRC), xmllint for schema validation, and qemu-img.
"""
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
BUILD = Path(os.environ.get("VDISK_BUILD_DIR", REPO / "build"))
VDISK_XML = BUILD / "tests" / "helpers" / "vdisk-xml"
SCHEMAS = REPO / "xml-schemas"
VOL_RNG = SCHEMAS / "storagevol.rng"
POOL_RNG = SCHEMAS / "storagepool-vdisk.rng"
NS = "http://libvirt.org/schemas/storagepool/vdisk/1.0"


def run(argv, check=True):
    p = subprocess.run([str(a) for a in argv], capture_output=True, text=True)
    if p.returncode < 0:
        pytest.fail(f"{argv[0]} died with signal {-p.returncode}\n{p.stderr}")
    if check and p.returncode != 0:
        pytest.fail(f"{' '.join(map(str, argv))} exited {p.returncode}\n"
                    f"stdout:\n{p.stdout}\nstderr:\n{p.stderr}")
    return p


def vdisk_xml(*args, check=True):
    """Run tests/helpers/vdisk-xml (parse + format through libvdisk-plugin)."""
    if not VDISK_XML.exists():
        pytest.fail(f"{VDISK_XML} is missing: build first (meson setup build && ninja -C build)")
    return run([VDISK_XML, *args], check=check)


def xmllint_valid(schema, path):
    """True if xmllint validates path against the RelaxNG schema."""
    xmllint = shutil.which("xmllint")
    if not xmllint:
        pytest.fail("xmllint is missing (Debian package libxml2-utils)")
    p = subprocess.run([xmllint, "--noout", "--nonet", "--relaxng", str(schema), str(path)],
                       capture_output=True, text=True)
    return p.returncode == 0, p.stderr


@pytest.fixture(scope="session")
def libvirt_src():
    """The extracted libvirt source tree holding tests/storage*xml2* and the
    schemas: $VDISK_LIBVIRT_SRC, else fetched into the build directory."""
    env = os.environ.get("VDISK_LIBVIRT_SRC")
    if env:
        return Path(env)
    p = subprocess.run([REPO / "scripts" / "fetch-libvirt-source.sh", "--cache",
                        BUILD / "libvirt-src"], capture_output=True, text=True)
    if p.returncode != 0:
        pytest.fail("scripts/fetch-libvirt-source.sh failed (libvirt's test data is the "
                    f"oracle of these tests):\n{p.stderr}")
    return Path(p.stdout.strip().splitlines()[-1])


def libvirt_tests(src, test_c, pool):
    """The test names of libvirt's test program test_c whose pool is `pool`,
    read from its DO_TEST lines: [(macro, args...)]."""
    text = (src / "tests" / test_c).read_text()
    main = text[text.index("mymain"):]
    out = []
    for m in re.finditer(r'(DO_TEST\w*)\(([^;]*?)\);', main, re.S):
        args = [a.strip() for a in m.group(2).split(",")]
        strings = [a.strip('"') for a in args if a.startswith('"')]
        if m.group(1).startswith("DO_TEST") and strings and strings[0] == pool:
            out.append((m.group(1), args, strings))
    return out


def to_vdisk_pool(text):
    """libvirt pool XML with its type changed to vdisk."""
    return re.sub(r"<pool type=['\"][a-z]+['\"]", "<pool type='vdisk'", text, count=1)
