"""vol-upload / vol-download: file bytes moved with --offset, --length and
--sparse; checked with cmp-style comparisons and qemu-img."""
import os

from pool_common import allocated, qemu_info, virsh  # noqa: F401

MiB = 1 << 20


def test_upload_an_image_then_download_it(virsh, qemu_img, qemu_io, tmp_path):
    path = virsh.make_pool("p")
    src = tmp_path / "disk.qcow2"
    qemu_img("create", "-f", "qcow2", src, "16M")
    qemu_io("-f", "qcow2", "-c", "write -P 0x33 0 1M", src)
    virsh.run("vol-create-as", "p", "v", "1M")
    assert virsh.run("vol-upload", "v", src, "--pool", "p").stdout == "\n"
    # The volume now holds a qcow2 image: refresh probes it as such.
    info = virsh.json("vol-info", "v", "--pool", "p", "--json")
    assert info["format"] == "qcow2" and info["capacity"] == 16 * MiB
    qemu_img("compare", src, path / "v")
    out = tmp_path / "back.qcow2"
    virsh.run("vol-download", "v", out, "--pool", "p", "--sparse")
    assert out.read_bytes()[:os.path.getsize(src)] == src.read_bytes()
    qemu_img("check", out)


def test_offset_and_length(virsh, tmp_path):
    path = virsh.make_pool("p")
    virsh.run("vol-create-as", "p", "v", "4M")
    blob = tmp_path / "blob"
    blob.write_bytes(bytes(range(256)) * 4096)           # 1 MiB
    virsh.run("vol-upload", "--pool", "p", "v", blob, "--offset", "1M", "--length", "512K")
    data = (path / "v").read_bytes()
    assert len(data) == 4 * MiB
    assert data[MiB:MiB + 512 * 1024] == blob.read_bytes()[:512 * 1024]
    assert data[:MiB] == bytes(MiB) and data[MiB + 512 * 1024:] == bytes(4 * MiB - MiB - 512 * 1024)
    part = tmp_path / "part"
    virsh.run("vol-download", "--pool", "p", "v", part, "--offset", "1048576", "--length", "1000")
    assert part.read_bytes() == blob.read_bytes()[:1000]


def test_sparse_download_keeps_holes(virsh, qemu_io, tmp_path):
    path = virsh.make_pool("p")
    virsh.run("vol-create-as", "p", "v", "64M")
    qemu_io("-f", "raw", "-c", "write -P 0x77 32M 64k", path / "v")
    out = tmp_path / "out"
    virsh.run("vol-download", "v", out, "--pool", "p", "--sparse")
    assert os.path.getsize(out) == 64 * MiB
    assert allocated(out) < 4 * MiB
    assert out.read_bytes() == (path / "v").read_bytes()


def test_missing_volume_leaves_no_output(virsh, tmp_path):
    virsh.make_pool("p")
    out = tmp_path / "out"
    p = virsh.run("vol-download", "none", out, "--pool", "p", check=False)
    assert p.returncode == 1 and "failed to get vol 'none'" in p.stderr
    assert not out.exists()
