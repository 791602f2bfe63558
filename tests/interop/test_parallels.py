"""Parallels images, read by vdisk: both magics (BAT in clusters or in
sectors), cluster sizes, the in-use mark, leaked space; compared with
qemu-img (content byte for byte, map, info, check, measure); hostile BATs
refused with clear messages; Parallels images are never written."""
import struct

import pytest

from foreign_common import (MiB, make, poke, reads_like_qemu, refused, same_check,
                            same_content, same_map)

INUSE = 44


@pytest.mark.parametrize("opts", [None, "cluster_size=4k", "cluster_size=64k"])
def test_reads_like_qemu(vdisk, qemu_img, qemu_io, tmp_path, opts):
    img = make(qemu_img, qemu_io, "parallels", tmp_path / "disk.hdd", opts=opts)
    reads_like_qemu(vdisk, qemu_img, img, tmp_path, "parallels")


def old_magic(src, dst):
    """The same image in the old "WithoutFreeSpace" layout: BAT in sectors."""
    data = src.read_bytes()
    tracks, n = struct.unpack_from("<II", data, 28)
    bat = [v * tracks for v in struct.unpack_from(f"<{n}I", data, 64)]
    dst.write_bytes(b"WithoutFreeSpace" + data[16:64] + struct.pack(f"<{n}I", *bat)
                    + data[64 + 4 * n:])
    return dst


def test_old_magic(vdisk, qemu_img, qemu_io, tmp_path):
    new = make(qemu_img, qemu_io, "parallels", tmp_path / "new.hdd", opts="cluster_size=4k")
    img = old_magic(new, tmp_path / "old.hdd")
    reads_like_qemu(vdisk, qemu_img, img, tmp_path, "parallels")


def test_in_use_mark(vdisk, qemu_img, qemu_io, tmp_path):
    img = make(qemu_img, qemu_io, "parallels", tmp_path / "u.hdd", opts="cluster_size=4k")
    poke(img, INUSE, "I", 0x746F6E59)
    same_content(vdisk, qemu_img, img, tmp_path, "parallels")
    assert same_check(vdisk, qemu_img, img)["corruptions"] == 1


def test_leaked_space(vdisk, qemu_img, qemu_io, tmp_path):
    img = make(qemu_img, qemu_io, "parallels", tmp_path / "l.hdd", opts="cluster_size=4k")
    with open(img, "ab") as f:
        f.write(b"\x5a" * 10000)
    assert same_check(vdisk, qemu_img, img)["leaks"] == 3
    same_map(vdisk, qemu_img, img)


def test_hostile_bat(vdisk, qemu_img, qemu_io, tmp_path):
    img = make(qemu_img, qemu_io, "parallels", tmp_path / "b.hdd", opts="cluster_size=4k",
               writes=["write -P 0x66 0 8k"])
    poke(img, 64 + 4, "I", 0x40000000)                 # cluster 1 far past the end of the file
    refused(vdisk, "convert", "-O", "raw", img, tmp_path / "o.raw",
            words=(str(img), "BAT entry 1", "outside the data area"))
    assert not (tmp_path / "o.raw").exists()
    same_check(vdisk, qemu_img, img)


@pytest.mark.parametrize("field,fmt,value,words", [
    (32, "I", 0x7fffffff, ("BAT of 2147483647 entries",)),
    (28, "I", 0, ("cluster of 0 sectors",)),
    (36, "Q", 1 << 40, ("size of",)),
], ids=["huge-bat", "no-cluster", "size-past-bat"])
def test_hostile_headers_refused(vdisk, qemu_img, qemu_io, tmp_path, field, fmt, value, words):
    img = make(qemu_img, qemu_io, "parallels", tmp_path / "h.hdd", writes=[])
    poke(img, field, fmt, value)
    refused(vdisk, "info", img, words=(str(img),) + words)


def test_never_written(vdisk, qemu_img, qemu_io, tmp_path):
    img = make(qemu_img, qemu_io, "parallels", tmp_path / "ro.hdd", writes=[])
    before = img.read_bytes()
    refused(vdisk, "resize", img, "16M", words=("does not write them",))
    refused(vdisk, "create", "-f", "parallels", tmp_path / "n.hdd", "1M", words=("vdisk creates",))
    assert img.read_bytes() == before and not (tmp_path / "n.hdd").exists()
