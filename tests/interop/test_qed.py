"""QED images, read by vdisk: cluster and table sizes, zero clusters,
backing files (raw with "no probe", qcow2 probed), the need-check flag;
compared with qemu-img (content byte for byte, map, info, check, measure);
hostile tables refused with clear messages; QED is never written."""
import pytest

from foreign_common import (MiB, make, poke, reads_like_qemu, refused, same_check,
                            same_content, same_info, same_map)

FEATURES, L1, IMAGE_SIZE = 16, 40, 48


@pytest.mark.parametrize("opts", ["cluster_size=4k,table_size=2", "cluster_size=64k",
                                  "cluster_size=16k,table_size=4"])
def test_reads_like_qemu(vdisk, qemu_img, qemu_io, tmp_path, opts):
    img = make(qemu_img, qemu_io, "qed", tmp_path / "disk.qed", opts=opts)
    reads_like_qemu(vdisk, qemu_img, img, tmp_path, "qed")


@pytest.mark.parametrize("bfmt", ["raw", "qcow2"])
def test_backing_file(vdisk, qemu_img, qemu_io, tmp_path, bfmt):
    base = make(qemu_img, qemu_io, bfmt, tmp_path / f"base.{bfmt}", size="6M",
                writes=["write -P 0x21 0 6M"])
    img = make(qemu_img, qemu_io, "qed", tmp_path / "top.qed", size="8M",
               opts="cluster_size=4k", backing=(base.name, bfmt))
    reads_like_qemu(vdisk, qemu_img, img, tmp_path, "qed")


def test_need_check_flag(vdisk, qemu_img, qemu_io, tmp_path):
    img = make(qemu_img, qemu_io, "qed", tmp_path / "nc.qed", opts="cluster_size=4k")
    poke(img, FEATURES, "Q", 0x02)
    same_info(vdisk, qemu_img, img)          # qemu-img reports it clean when read only
    same_content(vdisk, qemu_img, img, tmp_path, "qed")
    same_check(vdisk, qemu_img, img)


def test_check_counts_leaks(vdisk, qemu_img, qemu_io, tmp_path):
    img = make(qemu_img, qemu_io, "qed", tmp_path / "leak.qed", opts="cluster_size=4k")
    with open(img, "ab") as f:
        f.write(b"\x5a" * 3 * 4096)                   # three clusters nothing refers to
    assert same_check(vdisk, qemu_img, img)["leaks"] == 3


def l2_of_first_cluster(img):
    import struct
    data = img.read_bytes()
    l1 = struct.unpack_from("<Q", data, L1)[0]
    return struct.unpack_from("<Q", data, l1)[0]


def test_hostile_tables(vdisk, qemu_img, qemu_io, tmp_path):
    img = make(qemu_img, qemu_io, "qed", tmp_path / "bad.qed", opts="cluster_size=4k",
               writes=["write -P 0x66 0 8k"])
    l2 = l2_of_first_cluster(img)
    poke(img, l2 + 8, "Q", 1 << 40)                   # cluster 1 far past the end of the file
    refused(vdisk, "convert", "-O", "raw", img, tmp_path / "o.raw",
            words=(str(img), "L2 entry of cluster 1", "0x10000000000"))
    assert not (tmp_path / "o.raw").exists()
    p = vdisk("check", img, check=False)
    assert p.returncode == 2
    same_check(vdisk, qemu_img, img)


@pytest.mark.parametrize("field,fmt,value,words", [
    (L1, "Q", 1 << 50, ("L1 table",)),
    (IMAGE_SIZE, "Q", 1 << 62, ("image size",)),
    (FEATURES, "Q", 0x100, ("unknown features 0x100",)),
    (4, "I", 3000, ("cluster size 3000",)),
    (8, "I", 64, ("table size 64",)),
], ids=["l1-outside", "huge-size", "feature", "cluster", "table"])
def test_hostile_headers_refused(vdisk, qemu_img, qemu_io, tmp_path, field, fmt, value, words):
    img = make(qemu_img, qemu_io, "qed", tmp_path / "h.qed", writes=[])
    poke(img, field, fmt, value)
    refused(vdisk, "info", img, words=(str(img),) + words)


def test_never_written(vdisk, qemu_img, qemu_io, tmp_path):
    img = make(qemu_img, qemu_io, "qed", tmp_path / "ro.qed", writes=[])
    before = img.read_bytes()
    refused(vdisk, "resize", img, "16M", words=("does not write them",))
    refused(vdisk, "create", "-f", "qed", tmp_path / "new.qed", "1M", words=("vdisk creates",))
    assert img.read_bytes() == before and not (tmp_path / "new.qed").exists()
