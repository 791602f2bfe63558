"""vol-snapshot-create/-list/-revert/-delete: internal snapshots checked
with `qemu-img snapshot -l`, `qemu-img check` and qemu-io reads."""
from pool_common import virsh  # noqa: F401


def snapshot_names(qemu_img, path):
    out = qemu_img("snapshot", "-l", "-U", path).stdout.splitlines()
    return [line.split()[1] for line in out[2:]]


def test_create_list_revert_delete(virsh, qemu_img, qemu_io):
    path = virsh.make_pool("p")
    vol = path / "v.qcow2"
    virsh.run("vol-create-as", "p", "v.qcow2", "16M", "--format", "qcow2")
    qemu_io("-f", "qcow2", "-c", "write -P 0xaa 0 1M", vol)
    p = virsh.run("vol-snapshot-create", "v.qcow2", "before", "--pool", "p")
    assert p.stdout == "Snapshot before of vol v.qcow2 created\n\n"
    assert snapshot_names(qemu_img, vol) == ["before"]
    qemu_img("check", vol)
    qemu_io("-f", "qcow2", "-c", "write -P 0xbb 0 1M", vol)
    lines = virsh.run("vol-snapshot-list", "v.qcow2", "--pool", "p").stdout.splitlines()
    assert lines[0].split()[:2] == ["ID", "Name"]
    assert lines[2].split()[:2] == ["1", "before"]
    j = virsh.json("vol-snapshot-list", "v.qcow2", "--pool", "p", "--json")
    assert [s["name"] for s in j] == ["before"]
    virsh.run("vol-snapshot-revert", "v.qcow2", "before", "--pool", "p")
    qemu_io("-f", "qcow2", "-c", "read -P 0xaa 0 1M", vol)
    virsh.run("vol-snapshot-delete", "v.qcow2", "before", "--pool", "p")
    assert snapshot_names(qemu_img, vol) == []
    qemu_img("check", vol)


def test_raw_volume_refused(virsh):
    virsh.make_pool("p")
    virsh.run("vol-create-as", "p", "r", "1M")
    p = virsh.run("vol-snapshot-create", "r", "s", "--pool", "p", check=False)
    assert p.returncode == 1 and "qcow2" in p.stderr


def test_unknown_snapshot(virsh):
    virsh.make_pool("p")
    virsh.run("vol-create-as", "p", "v.qcow2", "1M", "--format", "qcow2")
    p = virsh.run("vol-snapshot-revert", "v.qcow2", "nope", "--pool", "p", check=False)
    assert p.returncode == 1 and p.stderr.startswith("error: ")
