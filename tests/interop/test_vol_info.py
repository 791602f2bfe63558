"""vol-info, vol-list, vol-dumpxml, vol-path, vol-key, vol-name and
vol-delete against qemu-img info and stat(2); vol XML valid against the
RelaxNG schema (xmllint)."""
import os

import pytest

from pool_common import allocated, qemu_info, virsh, xmllint_valid  # noqa: F401
from test_locking import QEMU_SYSTEM, vm_holder

MiB = 1 << 20


def test_info_matches_qemu_img(virsh, qemu_img):
    path = virsh.make_pool("p")
    qemu_img("create", "-f", "qcow2", path / "q.qcow2", "100M")
    lines = virsh.run("vol-info", "q.qcow2", "--pool", "p").stdout.splitlines()
    assert lines[0] == "Name:           q.qcow2"
    assert lines[1] == "Type:           file"
    assert lines[2] == "Capacity:       100.00 MiB"
    assert lines[3].startswith("Allocation:     ")
    by = virsh.run("vol-info", "q.qcow2", "--pool", "p", "--bytes").stdout
    info = qemu_info(qemu_img, path / "q.qcow2")
    assert f"Capacity:       {info['virtual-size']} bytes\n" in by
    assert f"Allocation:     {allocated(path / 'q.qcow2')} bytes\n" in by
    phys = virsh.run("vol-info", "q.qcow2", "--pool", "p", "--bytes", "--physical").stdout
    assert f"Physical:       {os.path.getsize(path / 'q.qcow2')} bytes\n" in phys
    j = virsh.json("vol-info", str(path / "q.qcow2"), "--json")          # by path, no --pool
    assert j["capacity"] == info["virtual-size"] and j["format"] == "qcow2"


def test_list_path_key_name(virsh):
    path = virsh.make_pool("p")
    virsh.run("vol-create-as", "p", "b", "2M")
    virsh.run("vol-create-as", "p", "a", "1M")
    lines = virsh.run("vol-list", "p").stdout.splitlines()
    assert lines[0].split() == ["Name", "Path"]
    assert [ln.split() for ln in lines[2:4]] == [["a", str(path / "a")], ["b", str(path / "b")]]
    d = virsh.run("vol-list", "p", "--details").stdout.splitlines()
    assert d[0].split() == ["Name", "Path", "Type", "Capacity", "Allocation"]
    assert d[2].split()[:5] == ["a", str(path / "a"), "file", "1.00", "MiB"]
    j = virsh.json("vol-list", "p", "--json")
    assert [(v["name"], v["capacity"]) for v in j] == [("a", MiB), ("b", 2 * MiB)]
    assert virsh.run("vol-path", "a", "--pool", "p").stdout == f"{path / 'a'}\n\n"
    assert virsh.run("vol-key", "a", "--pool", "p").stdout == f"{path / 'a'}\n\n"
    assert virsh.run("vol-name", path / "a").stdout == "a\n\n"
    p = virsh.run("vol-path", "zzz", "--pool", "p", check=False)
    assert p.returncode == 1
    assert "no storage vol with matching name 'zzz'" in p.stderr
    p = virsh.run("vol-name", "/nowhere/x", check=False)
    assert p.returncode == 1 and "specifying --pool might help" in p.stderr


def test_dumpxml_valid(virsh, tmp_path):
    virsh.make_pool("p")
    virsh.run("vol-create-as", "p", "v.qcow2", "8M", "--format", "qcow2")
    xml = virsh.run("vol-dumpxml", "v.qcow2", "--pool", "p").stdout
    ok, why = xmllint_valid(xml, "storagevol.rng", tmp_path)
    assert ok, why
    assert "<format type='qcow2'/>" in xml


def test_delete(virsh, tmp_path):
    path = virsh.make_pool("p")
    virsh.run("vol-create-as", "p", "v", "1M")
    assert virsh.run("vol-delete", "v", "--pool", "p").stdout == "Vol v deleted\n\n"
    assert not (path / "v").exists()
    target = tmp_path / "keep"
    target.write_text("x")
    os.symlink(target, path / "link")
    p = virsh.run("vol-delete", "link", "--pool", "p", check=False)
    assert p.returncode == 1 and "symbolic link" in p.stderr
    assert target.exists() and (path / "link").is_symlink()


@pytest.mark.skipif(not QEMU_SYSTEM, reason="qemu-system-x86_64 not installed")
@pytest.mark.parametrize("fmt", ["raw", "qcow2"])
def test_delete_refuses_a_disk_in_use(virsh, fmt):
    """The disk of a VM (paused, its disk attached and locked) is not
    deleted: the message names the volume, the pool and QEMU's lock; once
    the VM is gone, vol-delete goes through."""
    path = virsh.make_pool("p")
    virsh.run("vol-create-as", "p", "busy", "1M", "--format", fmt)
    with vm_holder(path / "busy", fmt):
        p = virsh.run("vol-delete", "busy", "--pool", "p", check=False)
    assert p.returncode == 1, p.stdout
    assert "cannot delete volume 'busy' of pool 'p'" in p.stderr, p.stderr
    assert 'Failed to get "write" lock' in p.stderr, p.stderr
    assert (path / "busy").exists()
    virsh.run("vol-delete", "busy", "--pool", "p")
    assert not (path / "busy").exists()
