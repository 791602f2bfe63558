"""Pool volumes in the formats of other hypervisors (issue: foreign formats).

vdisk pools create vmdk, vpc (VHD) and vhdx volumes, thin and thick, and
import them into qcow2 with vol-convert.  Oracle: qemu-img (info with the
format named, check where it has one, compare against the source).
"""
import json
import os
import subprocess

import pytest

from pool_common import virsh  # noqa: F401  (fixture)

MiB = 1 << 20


def qinfo(qemu_img, fmt, path):
    return json.loads(qemu_img("info", "-f", fmt, "--output", "json", path).stdout)


@pytest.mark.parametrize("fmt", ["vmdk", "vpc", "vhdx"])
@pytest.mark.parametrize("thick", [False, True], ids=["thin", "thick"])
def test_create_in_pool(virsh, qemu_img, fmt, thick):
    path = virsh.make_pool("p")
    args = ["--allocation", "8M"] if thick else []
    virsh.run("vol-create-as", "p", f"d.{fmt}", "8M", "--format", fmt, *args)
    f = path / f"d.{fmt}"
    info = qinfo(qemu_img, fmt, f)
    assert info["format"] == fmt
    assert info["virtual-size"] >= 8 * MiB
    used = os.stat(f).st_blocks * 512
    if thick:
        assert used >= 8 * MiB, used
    else:
        assert used < 4 * MiB, used
    if fmt != "vpc":
        c = qemu_img("check", "-f", fmt, f, check=False)
        assert c.returncode == 0 or "does not support checks" in c.stderr, c.stderr
    xml = virsh.run("vol-dumpxml", "--pool", "p", f"d.{fmt}").stdout
    assert f"<format type='{fmt}'/>" in xml


@pytest.mark.parametrize("fmt", ["vmdk", "vhdx"])
def test_import_into_qcow2(virsh, qemu_img, tmp_path, fmt):
    """An admin copies a VMware / Hyper-V disk into the pool directory and
    converts it: the qcow2 volume holds the same guest content."""
    path = virsh.make_pool("p")
    src = tmp_path / f"src.{fmt}"
    qemu_img("create", "-q", "-f", fmt, src, "8M")
    subprocess.run(["qemu-io", "-f", fmt, "-c", "write -P 0x5a 1M 2M", "-c", "write -z 4M 1M",
                    str(src)], check=True, capture_output=True)
    (path / f"vm.{fmt}").write_bytes(src.read_bytes())
    virsh.run("pool-refresh", "p")
    virsh.run("vol-convert", f"vm.{fmt}", "vm.qcow2", "--pool", "p", "--format", "qcow2")
    qemu_img("compare", "-f", fmt, "-F", "qcow2", src, path / "vm.qcow2")
    qemu_img("check", path / "vm.qcow2")


def test_capabilities_name_created_formats(virsh):
    """What `vol-create-as --format` refuses names the formats vdisk creates."""
    virsh.make_pool("p")
    p = virsh.run("vol-create-as", "p", "d.qed", "8M", "--format", "qed", check=False)
    assert p.returncode == 1
    for fmt in ("raw", "qcow2", "vmdk", "vpc", "vhdx"):
        assert fmt in p.stderr, p.stderr
