"""pool-info / pool-list --details / --json: sizes from statvfs(2) and
overcommit from the volumes' virtual sizes as qemu-img reports them."""
import os

from pool_common import qemu_info, virsh  # noqa: F401


def test_overcommit_is_sum_of_virtual_sizes_over_capacity(virsh, qemu_img):
    path = virsh.make_pool("p", overcommit="100")
    virsh.run("vol-create-as", "p", "a.qcow2", "3G", "--format", "qcow2")
    virsh.run("vol-create-as", "p", "b.raw", "5G")
    qemu_img("create", "-f", "qcow2", path / "c.qcow2", "7G")       # made behind vdisk's back
    total = sum(qemu_info(qemu_img, path / n)["virtual-size"] for n in ("a.qcow2", "b.raw", "c.qcow2"))
    sv = os.statvfs(path)
    cap = sv.f_frsize * sv.f_blocks
    j = virsh.json("pool-info", "p", "--json")
    assert j["volumes"] == 3
    assert j["volume-capacity"] == total
    assert j["capacity"] == cap
    assert abs(j["overcommit"] - total / cap) < 1e-4
    assert j["overcommit-max"] == 100
    human = virsh.run("pool-info", "p").stdout
    assert f"Overcommit:     {total / cap:.2f}\n" in human
    assert "Overcommit max: 100.00\n" in human


def test_inactive_pool_info_has_no_sizes(virsh):
    virsh.make_pool("p")
    virsh.run("pool-destroy", "p")
    out = virsh.run("pool-info", "p").stdout
    assert "State:          inactive\n" in out
    assert "Capacity" not in out
    j = virsh.json("pool-info", "p", "--json")
    assert j["state"] == "inactive" and "capacity" not in j


def test_list_details_and_json(virsh):
    virsh.make_pool("a")
    virsh.make_pool("b")
    virsh.run("pool-destroy", "b")
    lines = virsh.run("pool-list", "--all", "--details").stdout.splitlines()
    assert lines[0].split() == ["Name", "State", "Autostart", "Persistent", "Capacity", "Allocation",
                                "Available"]
    assert lines[2].split()[:4] == ["a", "running", "no", "yes"]
    assert lines[3].split() == ["b", "inactive", "no", "yes", "-", "-", "-"]
    j = virsh.json("pool-list", "--all", "--json")
    assert [p["name"] for p in j] == ["a", "b"]
    assert [p["state"] for p in j] == ["running", "inactive"]
    assert "capacity" in j[0] and "capacity" not in j[1]
