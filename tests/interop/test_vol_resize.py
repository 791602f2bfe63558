"""vol-resize with virsh's grammar (--delta, --shrink, --allocate), checked
with qemu-img info and qemu-img check."""
from pool_common import qemu_info, virsh  # noqa: F401

MiB = 1 << 20


def resize(virsh, *args):
    return virsh.run("vol-resize", *args, check=False)


def test_grow_delta_and_shrink(virsh, qemu_img):
    path = virsh.make_pool("p")
    virsh.run("vol-create-as", "p", "v.qcow2", "16M", "--format", "qcow2")
    p = resize(virsh, "v.qcow2", "32M", "--pool", "p")
    assert p.returncode == 0
    assert p.stdout == "Size of volume 'v.qcow2' successfully changed to 32M\n\n"
    assert qemu_info(qemu_img, path / "v.qcow2")["virtual-size"] == 32 * MiB
    assert resize(virsh, "v.qcow2", "8M", "--pool", "p", "--delta").returncode == 0
    assert qemu_info(qemu_img, path / "v.qcow2")["virtual-size"] == 40 * MiB
    assert resize(virsh, "v.qcow2", "-8M", "--pool", "p", "--delta", "--shrink").returncode == 0
    assert qemu_info(qemu_img, path / "v.qcow2")["virtual-size"] == 32 * MiB
    qemu_img("check", path / "v.qcow2")


def test_shrink_needs_flag(virsh, qemu_img):
    path = virsh.make_pool("p")
    virsh.run("vol-create-as", "p", "v", "16M")
    p = virsh.run("vol-resize", "v", "8M", "--pool", "p", check=False)
    assert p.returncode == 1 and "shrink" in p.stderr
    p = virsh.run("vol-resize", "v", "-8M", "--pool", "p", check=False)
    assert p.returncode == 1 and "negative size requires --shrink" in p.stderr
    assert qemu_info(qemu_img, path / "v")["virtual-size"] == 16 * MiB
