"""vol-clone, vol-create-from and vol-convert: copies compared with
`qemu-img compare`, formats checked with `qemu-img info`."""
import os

from pool_common import allocated, qemu_info, virsh  # noqa: F401

MiB = 1 << 20


def fill(qemu_io, path, fmt):
    qemu_io("-f", fmt, "-c", "write -P 0x5a 1M 2M", "-c", "write -P 0xa5 20M 64k", path)


def test_clone_keeps_format_and_content(virsh, qemu_img, qemu_io):
    path = virsh.make_pool("p")
    virsh.run("vol-create-as", "p", "src.qcow2", "32M", "--format", "qcow2")
    fill(qemu_io, path / "src.qcow2", "qcow2")
    p = virsh.run("vol-clone", "src.qcow2", "copy.qcow2", "--pool", "p")
    assert p.stdout == "Vol copy.qcow2 cloned from src.qcow2\n\n"
    assert qemu_info(qemu_img, path / "copy.qcow2")["format"] == "qcow2"
    qemu_img("compare", path / "src.qcow2", path / "copy.qcow2")
    qemu_img("check", path / "copy.qcow2")
    assert allocated(path / "copy.qcow2") < 8 * MiB          # stays sparse


def test_convert_to_other_format(virsh, qemu_img, qemu_io):
    path = virsh.make_pool("p")
    virsh.run("vol-create-as", "p", "src.raw", "32M")
    fill(qemu_io, path / "src.raw", "raw")
    virsh.run("vol-convert", "src.raw", "dst.qcow2", "--pool", "p", "--format", "qcow2")
    assert qemu_info(qemu_img, path / "dst.qcow2")["format"] == "qcow2"
    qemu_img("compare", "-f", "raw", "-F", "qcow2", path / "src.raw", path / "dst.qcow2")
    virsh.run("vol-convert", str(path / "dst.qcow2"), "back.raw", "--format", "raw")   # addressed by path
    qemu_img("compare", "-f", "raw", "-F", "raw", path / "src.raw", path / "back.raw")


def test_create_from_other_pool_with_xml(virsh, qemu_img, qemu_io, tmp_path):
    a = virsh.make_pool("a")
    b = virsh.make_pool("b")
    virsh.run("vol-create-as", "a", "src.qcow2", "32M", "--format", "qcow2")
    fill(qemu_io, a / "src.qcow2", "qcow2")
    xml = tmp_path / "new.xml"
    xml.write_text("<volume><name>new.raw</name><capacity>0</capacity>"
                   "<target><format type='raw'/></target></volume>")
    p = virsh.run("vol-create-from", "b", xml, "src.qcow2", "--inputpool", "a")
    assert p.stdout == "Vol new.raw created from input vol src.qcow2\n\n"
    assert qemu_info(qemu_img, b / "new.raw")["format"] == "raw"
    qemu_img("compare", "-F", "raw", a / "src.qcow2", b / "new.raw")


def test_clone_flattens_backing_chain(virsh, qemu_img, qemu_io):
    path = virsh.make_pool("p")
    virsh.run("vol-create-as", "p", "base.qcow2", "8M", "--format", "qcow2")
    qemu_io("-f", "qcow2", "-c", "write -P 0x11 0 1M", path / "base.qcow2")
    virsh.run("vol-create-as", "p", "top.qcow2", "8M", "--format", "qcow2", "--backing-vol", "base.qcow2")
    qemu_io("-f", "qcow2", "-c", "write -P 0x22 4M 1M", path / "top.qcow2")
    virsh.run("vol-clone", "top.qcow2", "flat.qcow2", "--pool", "p")
    info = qemu_info(qemu_img, path / "flat.qcow2")
    assert "backing-filename" not in info
    qemu_img("compare", path / "top.qcow2", path / "flat.qcow2")


def test_clone_refused_into_existing_name(virsh):
    path = virsh.make_pool("p")
    virsh.run("vol-create-as", "p", "a", "1M")
    virsh.run("vol-create-as", "p", "b", "2M")
    p = virsh.run("vol-clone", "a", "b", "--pool", "p", check=False)
    assert p.returncode == 1 and "already in use" in p.stderr
    assert os.path.getsize(path / "b") == 2 * MiB
