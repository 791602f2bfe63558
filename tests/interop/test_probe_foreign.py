"""Probing of other hypervisors' formats (issue: foreign formats).

Every format qemu-img 7.2 probes must be recognised by vdisk: an image made by
qemu-img in that format is never read as raw.  Until vdisk has a driver for a
format, every command refuses it by name; once a driver exists, the image's
content must equal qemu-img's `convert -O raw` of it (tested with the driver).
The oracle for "which format is this file" is qemu-img's own probe
(`qemu-img info --output json` without -f).
"""
import json

import pytest

# Formats vdisk has a driver for: their images must be read, not refused.
READ_BY_VDISK = {"vmdk"}

# (format, qemu-img create options): what qemu-img 7.2 creates.
CREATED = [
    ("vmdk", []),
    ("vmdk", ["-o", "subformat=streamOptimized"]),
    ("vmdk", ["-o", "subformat=monolithicFlat"]),
    ("vmdk", ["-o", "subformat=twoGbMaxExtentSparse"]),
    ("vmdk", ["-o", "subformat=twoGbMaxExtentFlat"]),
    ("vhdx", []),
    ("vpc", []),
    ("vdi", []),
    ("qed", []),
    ("parallels", []),
    ("qcow", []),
]


def ids(c):
    return c[0] + "".join(o.split("=")[-1] for o in c[1][1::2] if "=" in o and c[1])


@pytest.mark.parametrize("fmt,opts", CREATED, ids=[ids(c) for c in CREATED])
def test_never_read_as_raw(tmp_path, vdisk, qemu_img, fmt, opts):
    img = tmp_path / f"disk.{fmt}"
    qemu_img("create", "-q", "-f", fmt, *opts, img, "4M")
    probed = json.loads(qemu_img("info", "--output", "json", img).stdout)["format"]
    assert probed == fmt
    p = vdisk("info", "--output", "json", img, check=False)
    assert p.returncode >= 0, p.stderr
    if fmt in READ_BY_VDISK:
        assert p.returncode == 0, p.stderr
    if p.returncode == 0:
        # A driver exists: it must have recognised the same format.
        assert json.loads(p.stdout)["format"] == fmt
    else:
        assert fmt in p.stderr and str(img) in p.stderr, p.stderr
    # And a conversion never silently copies the container as raw bytes.
    out = tmp_path / "out.raw"
    c = vdisk("convert", "-O", "raw", img, out, check=False)
    if fmt in READ_BY_VDISK:
        assert c.returncode == 0, c.stderr
    if c.returncode == 0:
        qemu_img("compare", "-f", fmt, "-F", "raw", img, out)
    else:
        assert fmt in c.stderr, c.stderr
        assert not out.exists()


def test_fixed_vhd_is_raw_as_in_qemu(tmp_path, vdisk, qemu_img):
    """A fixed VHD keeps its footer only at the end: qemu-img probes it as
    raw, and raw reads the disk (plus the footer sector) byte for byte."""
    img = tmp_path / "fixed.vhd"
    qemu_img("create", "-q", "-f", "vpc", "-o", "subformat=fixed", img, "4M")
    assert json.loads(qemu_img("info", "--output", "json", img).stdout)["format"] == "raw"
    info = json.loads(vdisk("info", "--output", "json", img).stdout)
    assert info["format"] == "raw"
