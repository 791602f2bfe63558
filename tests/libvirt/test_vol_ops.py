"""Operations on existing volumes through the daemon: vol-create-from with
format conversion, vol-clone, vol-resize (grow, --shrink, --allocate),
vol-wipe, vol-upload / vol-download (also --sparse) and vol-delete.
Contents are checked with qemu-img compare and byte comparison, sizes with
qemu-img info and stat(2); the 'dir' runs hold libvirt's own backend to the
same expectations."""
import os

import pytest

from conftest import MiB, allocated, is_zero, qemu_check, qemu_img, qemu_info

CAP = 8 * MiB


def vol_names(pool):
    out = pool.virsh("vol-list", "--pool", pool.name).stdout
    return {line.split()[0] for line in out.splitlines()[2:] if line.strip()}


def make_vol(pool, tmp_path, name, fmt, capacity=CAP):
    """A volume holding random data at 1 MiB and 5 MiB: raw ones through
    vol-create-as + vol-upload, others by qemu-img convert into the pool's
    directory + pool-refresh.  Returns the raw source file."""
    raw = tmp_path / f"{name}.src"
    with open(raw, "wb") as f:
        f.truncate(capacity)
        for off in (MiB, 5 * MiB):
            f.seek(off)
            f.write(os.urandom(256 * 1024))
    if fmt == "raw":
        pool.virsh("vol-create-as", pool.name, name, str(capacity), "--allocation", "0",
                   "--format", "raw")
        pool.virsh("vol-upload", "--pool", pool.name, name, raw, "--sparse")
    else:
        qemu_img("convert", "-f", "raw", "-O", fmt, raw, pool.vol_path(name))
        pool.virsh("pool-refresh", pool.name)
    return raw


def new_xml(name, fmt):
    return (f"<volume><name>{name}</name><capacity unit='bytes'>0</capacity>"
            f"<target><format type='{fmt}'/></target></volume>")


@pytest.mark.parametrize("src_fmt,dst_fmt", [("raw", "qcow2"), ("qcow2", "raw"),
                                             ("qcow2", "qcow2")])
def test_create_from_converts(any_pool, tmp_path, src_fmt, dst_fmt):
    pool = any_pool
    make_vol(pool, tmp_path, "src", src_fmt)
    xml = tmp_path / "new.xml"
    xml.write_text(new_xml("dst", dst_fmt))
    pool.virsh("vol-create-from", pool.name, xml, "src", "--inputpool", pool.name)
    dst = pool.vol_path("dst")
    info = qemu_info(dst)
    assert info["format"] == dst_fmt
    assert info["virtual-size"] == CAP
    if dst_fmt == "qcow2":
        qemu_check(dst)
    qemu_img("compare", "-U", "-f", src_fmt, "-F", dst_fmt, pool.vol_path("src"), dst)
    # and back again
    xml.write_text(new_xml("back", src_fmt))
    pool.virsh("vol-create-from", pool.name, xml, "dst", "--inputpool", pool.name)
    qemu_img("compare", "-U", pool.vol_path("src"), pool.vol_path("back"))


def test_create_from_another_pool(vdisk_pool, dir_pool, tmp_path):
    """vol-create-from --inputpool: a dir pool's volume copied into a vdisk
    pool as qcow2, and back."""
    src_pool, pool = dir_pool(), vdisk_pool()
    make_vol(src_pool, tmp_path, "src", "raw")
    xml = tmp_path / "new.xml"
    xml.write_text(new_xml("dst", "qcow2"))
    pool.virsh("vol-create-from", pool.name, xml, "src", "--inputpool", src_pool.name)
    qemu_check(pool.vol_path("dst"))
    qemu_img("compare", "-U", src_pool.vol_path("src"), pool.vol_path("dst"))
    xml.write_text(new_xml("back", "raw"))
    src_pool.virsh("vol-create-from", src_pool.name, xml, "dst", "--inputpool", pool.name)
    assert src_pool.vol_path("back").read_bytes() == src_pool.vol_path("src").read_bytes()


@pytest.mark.parametrize("fmt", ["raw", "qcow2"])
def test_clone(any_pool, tmp_path, fmt):
    pool = any_pool
    make_vol(pool, tmp_path, "orig", fmt)
    pool.virsh("vol-clone", "--pool", pool.name, "orig", "copy")
    assert "copy" in vol_names(pool)
    info = qemu_info(pool.vol_path("copy"))
    assert info["format"] == fmt
    assert info["virtual-size"] == CAP
    qemu_img("compare", "-U", pool.vol_path("orig"), pool.vol_path("copy"))
    if fmt == "qcow2":
        qemu_check(pool.vol_path("copy"))
    # a thin source gives a thin clone: unwritten ranges stay holes
    assert allocated(pool.vol_path("copy")) < CAP


@pytest.mark.parametrize("fmt", ["raw", "qcow2"])
def test_resize_grow(any_pool, tmp_path, fmt):
    pool = any_pool
    src = make_vol(pool, tmp_path, "grow", fmt)
    pool.virsh("vol-resize", "--pool", pool.name, "grow", str(2 * CAP))
    path = pool.vol_path("grow")
    assert qemu_info(path)["virtual-size"] == 2 * CAP
    if fmt == "qcow2":
        qemu_check(path)
    flat = tmp_path / "flat.raw"
    qemu_img("convert", "-U", "-O", "raw", path, flat)
    with open(flat, "rb") as f:
        assert f.read(CAP) == src.read_bytes()
    assert is_zero(flat) is False and os.path.getsize(flat) == 2 * CAP
    with open(flat, "rb") as f:
        f.seek(CAP)
        assert f.read().count(0) == CAP
    # the capacity virsh reports follows
    out = pool.virsh("vol-info", "--bytes", "--pool", pool.name, "grow").stdout
    assert str(2 * CAP) in out


def test_resize_delta_and_allocate(any_pool):
    pool = any_pool
    pool.virsh("vol-create-as", pool.name, "alloc.raw", str(CAP), "--allocation", "0",
               "--format", "raw")
    pool.virsh("vol-resize", "--pool", pool.name, "alloc.raw", str(CAP), "--delta", "--allocate")
    path = pool.vol_path("alloc.raw")
    assert os.path.getsize(path) == 2 * CAP
    assert allocated(path) >= CAP, "--allocate left the new range unallocated"


def test_resize_shrink(any_pool, tmp_path):
    pool = any_pool
    src = make_vol(pool, tmp_path, "shrink.raw", "raw")
    p = pool.virsh("vol-resize", "--pool", pool.name, "shrink.raw", str(CAP // 2), check=False)
    assert p.returncode != 0, "shrinking without --shrink was accepted"
    assert os.path.getsize(pool.vol_path("shrink.raw")) == CAP
    pool.virsh("vol-resize", "--pool", pool.name, "shrink.raw", str(CAP // 2), "--shrink")
    path = pool.vol_path("shrink.raw")
    assert os.path.getsize(path) == CAP // 2
    assert path.read_bytes() == src.read_bytes()[:CAP // 2]


def test_wipe_raw(any_pool, tmp_path):
    pool = any_pool
    make_vol(pool, tmp_path, "wipe", "raw")
    path = pool.vol_path("wipe")
    pool.virsh("vol-wipe", "--pool", pool.name, "wipe")
    assert os.path.getsize(path) == CAP
    assert is_zero(path)


def test_wipe_qcow2(vdisk_pool, tmp_path):
    """vdisk wipes a qcow2 volume's guest data and keeps it a valid qcow2
    (libvirt's dir pool zeroes the file's bytes, format and all)."""
    pool = vdisk_pool()
    make_vol(pool, tmp_path, "wipe", "qcow2")
    path = pool.vol_path("wipe")
    pool.virsh("vol-wipe", "--pool", pool.name, "wipe")
    info = qemu_info(path)
    assert info["format"] == "qcow2"
    assert info["virtual-size"] == CAP
    qemu_check(path)
    flat = tmp_path / "flat.raw"
    qemu_img("convert", "-U", "-O", "raw", path, flat)
    assert os.path.getsize(flat) == CAP and is_zero(flat)


@pytest.mark.parametrize("fmt", ["raw", "qcow2"])
def test_upload_download(any_pool, tmp_path, fmt):
    """Byte-identical both ways: the file's own bytes, whatever the format."""
    pool = any_pool
    make_vol(pool, tmp_path, "xfer", fmt)
    path = pool.vol_path("xfer")
    out = tmp_path / "down"
    pool.virsh("vol-download", "--pool", pool.name, "xfer", out)
    assert out.read_bytes() == path.read_bytes()
    # upload a part at an offset, then read the part back
    part = tmp_path / "part"
    part.write_bytes(os.urandom(300 * 1024))
    if fmt == "raw":
        pool.virsh("vol-upload", "--pool", pool.name, "xfer", part, "--offset", str(3 * MiB))
        with open(path, "rb") as f:
            f.seek(3 * MiB)
            assert f.read(300 * 1024) == part.read_bytes()
        pool.virsh("vol-download", "--pool", pool.name, "xfer", out, "--offset", str(3 * MiB),
                   "--length", str(300 * 1024))
        assert out.read_bytes() == part.read_bytes()


def test_upload_download_sparse(any_pool, tmp_path):
    pool = any_pool
    pool.virsh("vol-create-as", pool.name, "sp.raw", str(CAP), "--allocation", "0",
               "--format", "raw")
    src = tmp_path / "sparse.src"
    with open(src, "wb") as f:
        f.truncate(CAP)
        f.seek(2 * MiB)
        f.write(os.urandom(64 * 1024))
    pool.virsh("vol-upload", "--pool", pool.name, "sp.raw", src, "--sparse")
    path = pool.vol_path("sp.raw")
    assert path.read_bytes() == src.read_bytes()
    assert allocated(path) < CAP // 2, "--sparse upload filled the holes"
    out = tmp_path / "sparse.out"
    pool.virsh("vol-download", "--pool", pool.name, "sp.raw", out, "--sparse")
    assert out.read_bytes() == src.read_bytes()
    assert allocated(out) < CAP // 2, "--sparse download filled the holes"


def test_delete(any_pool, tmp_path):
    pool = any_pool
    make_vol(pool, tmp_path, "gone", "qcow2")
    pool.virsh("vol-delete", "--pool", pool.name, "gone")
    assert not pool.vol_path("gone").exists()
    assert "gone" not in vol_names(pool)
    p = pool.virsh("vol-delete", "--pool", pool.name, "gone", check=False)
    assert p.returncode != 0
