"""VirtualBox VDI images, read by vdisk: dynamic and static images made by
qemu-img with data written by qemu-io, compared with qemu-img (content byte
for byte, map, info, check, measure); hostile block maps and headers refused
with clear messages; VDI is never written."""
import pytest

from foreign_common import (MiB, make, poke, reads_like_qemu, refused, same_check,
                            same_content)

BMAP, BLOCKS, DISK_SIZE, BLOCK_SIZE, ALLOCATED = 0x154, 0x180, 0x170, 0x178, 0x184


@pytest.mark.parametrize("opts", [None, "static=on"], ids=["dynamic", "static"])
def test_reads_like_qemu(vdisk, qemu_img, qemu_io, tmp_path, opts):
    img = make(qemu_img, qemu_io, "vdi", tmp_path / "disk.vdi", opts=opts)
    reads_like_qemu(vdisk, qemu_img, img, tmp_path, "vdi")


def test_empty_and_odd_size(vdisk, qemu_img, qemu_io, tmp_path):
    img = make(qemu_img, qemu_io, "vdi", tmp_path / "odd.vdi", size="3000k", writes=[])
    reads_like_qemu(vdisk, qemu_img, img, tmp_path, "vdi")


def test_discarded_blocks_read_as_zeros(vdisk, qemu_img, qemu_io, tmp_path):
    """Entry 0xfffffffe (discarded) reads as zeros, as 0xffffffff does."""
    img = make(qemu_img, qemu_io, "vdi", tmp_path / "d.vdi",
               writes=["write -P 0x33 0 2M", "write -P 0x44 4M 1M"])
    poke(img, 0x200 + 4, "I", 0xfffffffe)            # block 1 (second MiB): discarded
    poke(img, ALLOCATED, "I", 2)
    ref = same_content(vdisk, qemu_img, img, tmp_path, "vdi")
    assert ref.read_bytes()[MiB:2 * MiB] == bytes(MiB)
    same_check(vdisk, qemu_img, img)


def test_check_finds_bad_block_maps(vdisk, qemu_img, qemu_io, tmp_path):
    img = make(qemu_img, qemu_io, "vdi", tmp_path / "bad.vdi",
               writes=["write -P 0x33 0 1M", "write -P 0x44 3M 1M"])
    poke(img, 0x200 + 3 * 4, "I", 0)                 # block 3 now shares data block 0
    assert same_check(vdisk, qemu_img, img)["corruptions"] == 1   # data block 0 used twice
    poke(img, 0x200 + 5 * 4, "I", 9999)              # past the image's 8 blocks
    refused(vdisk, "convert", "-O", "raw", img, tmp_path / "out.raw",
            words=("block map entry 5", "9999", "past the image's 8 blocks"))
    assert not (tmp_path / "out.raw").exists()
    p = vdisk("check", img, check=False)
    assert p.returncode == 2 and "points at data block 9999" in p.stderr


@pytest.mark.parametrize("field,fmt,value,words", [
    (BLOCKS, "I", 0x7fffffff, ("block map", "outside the file")),
    (DISK_SIZE, "Q", 1 << 62, ("disk size",)),
    (BLOCK_SIZE, "I", 3 << 20, ("block size",)),
    (BMAP, "I", 0x10, ("block map",)),
    (0x44, "I", 0x00020000, ("version 2.0",)),
    (0x4c, "I", 4, ("type 4",)),
], ids=["many-blocks", "huge-disk", "odd-block", "map-over-header", "version", "diff-type"])
def test_hostile_headers_refused(vdisk, qemu_img, qemu_io, tmp_path, field, fmt, value, words):
    img = make(qemu_img, qemu_io, "vdi", tmp_path / "h.vdi", writes=[])
    poke(img, field, fmt, value)
    refused(vdisk, "info", img, words=(str(img),) + words)


def test_never_written(vdisk, qemu_img, qemu_io, tmp_path):
    img = make(qemu_img, qemu_io, "vdi", tmp_path / "ro.vdi", writes=[])
    before = img.read_bytes()
    refused(vdisk, "resize", img, "16M", words=("does not write them",))
    refused(vdisk, "check", "-r", "all", img, words=("does not write them",))
    p = refused(vdisk, "create", "-f", "vdi", tmp_path / "new.vdi", "1M", words=("vdisk creates",))
    assert "raw" in p.stderr and "qcow2" in p.stderr
    assert not (tmp_path / "new.vdi").exists()
    assert img.read_bytes() == before
