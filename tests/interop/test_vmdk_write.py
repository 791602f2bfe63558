"""VMDK images written by vdisk, read back by qemu-img (check, compare, info
showing the same create type) and by other tools Debian packages: libyal's
pyvmdk reads them; VMDKstream writes streams vdisk reads.  Guest writes
through the handle (vdisk-io) against the same writes by qemu-io.
"""
import json
import os

import pytest

from cli_common import assert_no_crash
from conftest import vdisk_io
from vmdk_common import (FLAT_KINDS, GiB, KiB, MiB, SIZE, SPARSE_KINDS, SUBFORMATS, cmds,
                         descriptor_text, header, raw_source, same_content, sparse_equal,
                         without_cids)


def qemu_reads_it(qemu_img, img, raw, create_type):
    assert "No errors were found" in qemu_img("check", img).stdout
    assert qemu_img("compare", "-f", "vmdk", "-F", "raw", img, raw).returncode == 0
    info = json.loads(qemu_img("info", "--output", "json", img).stdout)
    assert info["format-specific"]["data"]["create-type"] == create_type
    return info


# ---- create ----------------------------------------------------------------------

CREATE_OPTS = ["", "adapter_type=lsilogic", "adapter_type=legacyESX,hwversion=10",
               "compat6=on", "toolsversion=10338", "zeroed_grain=on"]


@pytest.mark.parametrize("sf", SUBFORMATS)
@pytest.mark.parametrize("opts", CREATE_OPTS)
def test_create_as_qemu_img(vdisk, qemu_img, tmp_path, sf, opts):
    """Same files, same descriptor (but for the random CIDs), same
    Formatting line; qemu-img checks and reads vdisk's image."""
    if sf in FLAT_KINDS and "zeroed_grain" in opts:
        pytest.skip("refused by both (tested below)")
    o = f"subformat={sf}" + (f",{opts}" if opts else "")
    (tmp_path / "v").mkdir()
    (tmp_path / "q").mkdir()
    pv = vdisk("create", "-f", "vmdk", "-o", o, tmp_path / "v" / "d.vmdk", str(SIZE))
    pq = qemu_img("create", "-f", "vmdk", "-o", o, tmp_path / "q" / "d.vmdk", str(SIZE))
    assert pv.stdout.replace("/v/", "/q/") == pq.stdout
    assert sorted(os.listdir(tmp_path / "v")) == sorted(os.listdir(tmp_path / "q"))
    vt = descriptor_text(tmp_path / "v" / "d.vmdk")
    qt = descriptor_text(tmp_path / "q" / "d.vmdk")
    assert without_cids(vt) == without_cids(qt)
    img = tmp_path / "v" / "d.vmdk"
    assert "No errors were found" in qemu_img("check", img).stdout
    info = json.loads(qemu_img("info", "--output", "json", img).stdout)
    assert info["virtual-size"] == SIZE
    assert info["format-specific"]["data"]["create-type"] == sf
    if sf in SPARSE_KINDS:
        # The same layout: header fields and file sizes.
        for name in os.listdir(tmp_path / "v"):
            if name != "d.vmdk" or sf == "monolithicSparse":
                assert header(tmp_path / "v" / name) == header(tmp_path / "q" / name)
                assert os.path.getsize(tmp_path / "v" / name) == os.path.getsize(tmp_path / "q" / name)


@pytest.mark.parametrize("opts,word", [
    ("subformat=monolithicFlat,zeroed_grain=on", "zeroed grain"),
    ("compat6=on,hwversion=7", "compat6"),
    ("adapter_type=scsi", "adapter_type"),
    ("subformat=foo", "subformat"),
    ("preallocation=metadata", "metadata"),
    ("cluster_size=4k", "cluster_size"),
    ("toolsversion=a\"b", "toolsversion"),
])
def test_create_refusals(vdisk, qemu_img, tmp_path, opts, word):
    """What qemu-img refuses, vdisk refuses (the message names the option),
    and leaves no file behind."""
    assert qemu_img("create", "-f", "vmdk", "-o", opts, tmp_path / "q.vmdk", "1M",
                    check=False).returncode != 0 or word == "toolsversion"
    p = vdisk("create", "-f", "vmdk", "-o", opts, tmp_path / "v.vmdk", "1M", check=False)
    assert_no_crash(p)
    assert p.returncode == 1 and word in p.stderr, p.stderr
    assert not (tmp_path / "v.vmdk").exists()
    assert not [n for n in os.listdir(tmp_path) if n.startswith("v")]


def test_flat_with_backing_refused_and_cleaned_up(vdisk, qemu_img, tmp_path):
    qemu_img("create", "-q", "-f", "vmdk", tmp_path / "p.vmdk", "1M")
    p = vdisk("create", "-f", "vmdk", "-o", "subformat=twoGbMaxExtentFlat", "-b", "p.vmdk", "-F",
              "vmdk", tmp_path / "c.vmdk", check=False)
    assert p.returncode == 1 and "Flat image can't have backing file" in p.stderr
    assert sorted(os.listdir(tmp_path)) == ["p.vmdk"]
    p = vdisk("create", "-f", "vmdk", "-b", "p.vmdk", "-F", "qcow2", tmp_path / "c.vmdk", check=False)
    assert p.returncode == 1


# ---- convert into every subformat ----------------------------------------------------

PREALLOC = ["off", "falloc", "full", "thin", "zeroedthick", "eagerzeroedthick"]


@pytest.mark.parametrize("sf", SUBFORMATS)
def test_convert_into(vdisk, qemu_img, qemu_io, tmp_path, sf):
    raw = raw_source(qemu_io, tmp_path / "src.raw")
    img = tmp_path / "out.vmdk"
    vdisk("convert", "-f", "raw", "-O", "vmdk", "-o", f"subformat={sf}", raw, img)
    qemu_reads_it(qemu_img, img, raw, sf)
    same_content(vdisk, qemu_img, img, tmp_path)
    # A hole stays a hole: only the data written (plus tables) is allocated.
    used = sum(os.stat(tmp_path / n).st_blocks * 512 for n in os.listdir(tmp_path)
               if n.startswith("out"))
    assert used < 16 * MiB


@pytest.mark.parametrize("sf", ["monolithicSparse", "monolithicFlat", "twoGbMaxExtentFlat"])
@pytest.mark.parametrize("prealloc", PREALLOC)
def test_provisioning(vdisk, qemu_img, qemu_io, tmp_path, sf, prealloc):
    if sf == "twoGbMaxExtentFlat" and prealloc in ("full", "eagerzeroedthick"):
        pytest.skip("2 GiB of zeros written: as monolithicFlat, only slower")
    size = 2 * GiB + 64 * MiB if sf == "twoGbMaxExtentFlat" else 96 * MiB
    raw = raw_source(qemu_io, tmp_path / "src.raw", size, ["write -P 0x42 1M 1M"])
    img = tmp_path / "out.vmdk"
    vdisk("convert", "-f", "raw", "-O", "vmdk", "-o", f"subformat={sf},preallocation={prealloc}",
          raw, img)
    qemu_reads_it(qemu_img, img, raw, sf)
    used = sum(os.stat(tmp_path / n).st_blocks * 512 for n in os.listdir(tmp_path)
               if n.startswith("out"))
    thick = prealloc not in ("off", "thin")
    assert (used >= size) == thick, used


def test_stream_refuses_preallocation(vdisk, tmp_path):
    p = vdisk("create", "-f", "vmdk", "-o", "subformat=streamOptimized,preallocation=falloc",
              tmp_path / "s.vmdk", "1M", check=False)
    assert p.returncode == 1 and "streamOptimized" in p.stderr


# ---- other tools ------------------------------------------------------------------------

def test_stream_read_by_libvmdk(vdisk, qemu_io, tmp_path):
    """libyal's reader (pyvmdk, an implementation independent of QEMU) reads
    vdisk's stream as the raw source."""
    pyvmdk = pytest.importorskip("pyvmdk")
    size = 96 * MiB
    raw = raw_source(qemu_io, tmp_path / "src.raw", size,
                     ["write -P 1 0 1M", "write -P 2 5000 300", "write -P 3 95M 1M"])
    img = tmp_path / "s.vmdk"
    vdisk("convert", "-O", "vmdk", "-o", "subformat=streamOptimized", raw, img)
    h = pyvmdk.handle()
    h.open(str(img))
    h.open_extent_data_files()
    assert h.get_media_size() == size
    with open(raw, "rb") as f:
        for off in range(0, size, 8 * MiB):
            assert h.read_buffer_at_offset(8 * MiB, off) == f.read(8 * MiB), off
    h.close()


def test_stream_written_by_vmdkstream(vdisk, qemu_img, qemu_io, tmp_path):
    """A streamOptimized file from another writer (VMDKstream, used for
    vSphere uploads) reads as its source."""
    vmdkstream = pytest.importorskip("VMDKstream")
    raw = raw_source(qemu_io, tmp_path / "src.raw", 64 * MiB,
                     ["write -P 9 0 3M", "write -P 8 33M 100k", "write -P 7 63M 1M"])
    img = tmp_path / "vs.vmdk"
    vmdkstream.convert_to_stream(str(raw), str(img))
    v = tmp_path / "v.raw"
    vdisk("convert", "-O", "raw", img, v)
    assert sparse_equal(v, raw)
    same_content(vdisk, qemu_img, img, tmp_path)


# ---- guest writes through the handle ----------------------------------------------------

def guest_ops(size):
    """Writes at odd offsets, across grains, tables and extent boundaries,
    zero writes with and without unmap, discards; vdisk-io and qemu-io
    spell them alike."""
    return ["write -P 0x11 0 1M", "write -P 0x22 1000 5000", "write -P 0x33 65000 3000",
            "write -z 64k 64k", "write -z -u 128k 200k", "write -P 0x44 31M 3M",
            f"write -P 0x55 {size - 5000} 5000", "write -P 0x66 2047M 2M",
            "discard 1M 128k", "write -P 0x77 512k 4k", "write -z 3M 1M"]


@pytest.mark.parametrize("sf", ["monolithicSparse", "monolithicFlat", "twoGbMaxExtentSparse",
                                "twoGbMaxExtentFlat"])
@pytest.mark.parametrize("zg", ["", "zeroed_grain=on"])
def test_guest_writes_as_raw(vdisk, qemu_img, qemu_io, tmp_path, sf, zg):
    """vdisk-io's writes into a vmdk read back (by qemu-img) as qemu-io's
    same writes into a raw file."""
    if zg and sf in FLAT_KINDS:
        pytest.skip("flat extents have no grains")
    ops = guest_ops(SIZE)
    img = tmp_path / "g.vmdk"
    vdisk("create", "-q", "-f", "vmdk", "-o", f"subformat={sf}" + (f",{zg}" if zg else ""), img,
          str(SIZE))
    vdisk_io("-f", "vmdk", img, *cmds(ops))
    raw = raw_source(qemu_io, tmp_path / "r.raw", SIZE, ops)
    assert "No errors were found" in qemu_img("check", img).stdout
    assert qemu_img("compare", "-f", "vmdk", "-F", "raw", img, raw).returncode == 0
    same_content(vdisk, qemu_img, img, tmp_path)


def test_guest_writes_into_qemu_image(vdisk, qemu_img, qemu_io, tmp_path):
    """vdisk-io writing into a qemu-img image, qemu-io into a copy: equal."""
    ops = guest_ops(SIZE)
    a, b = tmp_path / "a.vmdk", tmp_path / "b.vmdk"
    for img in (a, b):
        qemu_img("create", "-q", "-f", "vmdk", "-o", "zeroed_grain=on", img, str(SIZE))
    vdisk_io("-f", "vmdk", a, *cmds(ops))
    qemu_io("-f", "vmdk", *cmds([o for o in ops if not o.startswith("discard")]), b)
    raw = raw_source(qemu_io, tmp_path / "r.raw", SIZE, ops)
    assert qemu_img("compare", "-f", "vmdk", "-F", "raw", a, raw).returncode == 0
    # Zeroed grains are zeroed-grain entries, as QEMU writes them.
    mv = json.loads(qemu_img("map", "--output", "json", a).stdout)
    mq = json.loads(qemu_img("map", "--output", "json", b).stdout)
    zv = [(e["start"], e["length"]) for e in mv if e["zero"] and e["present"]]
    zq = [(e["start"], e["length"]) for e in mq if e["zero"] and e["present"]]
    assert (65536, 262144) in zv and (65536, 262144) in zq, (zv, zq)


def test_writes_change_the_cid(vdisk, qemu_img, tmp_path):
    img = tmp_path / "c.vmdk"
    vdisk("create", "-q", "-f", "vmdk", img, "8M")
    before = json.loads(qemu_img("info", "--output", "json", img).stdout)
    vdisk_io("-f", "vmdk", img, "-c", "write -P 1 0 4k")
    after = json.loads(qemu_img("info", "--output", "json", img).stdout)
    assert before["format-specific"]["data"]["cid"] != after["format-specific"]["data"]["cid"]


def test_child_of_parent(vdisk, qemu_img, qemu_io, tmp_path):
    """A delta disk made and written by vdisk: partial grains are filled
    from the parent (copy on write); qemu-img reads the chain."""
    parent = tmp_path / "p.vmdk"
    qemu_img("create", "-q", "-f", "vmdk", parent, "32M")
    qemu_io("-f", "vmdk", "-c", "write -P 0xaa 0 32M", parent)
    child = tmp_path / "c.vmdk"
    vdisk("create", "-q", "-f", "vmdk", "-b", "p.vmdk", "-F", "vmdk", child)
    ops = ["write -P 0xbb 1000 100", "write -z 1M 64k", "write -P 0xcc 31M 1M"]
    vdisk_io("-f", "vmdk", child, *cmds(ops))
    raw = tmp_path / "r.raw"
    qemu_img("convert", "-O", "raw", parent, raw)
    qemu_io("-f", "raw", *cmds(ops), raw)
    assert qemu_img("compare", "-F", "raw", child, raw).returncode == 0
    info = json.loads(qemu_img("info", "--output", "json", child).stdout)
    assert info["backing-filename"] == "p.vmdk"
    # The parent changes: qemu-img now refuses the child, as VMware would.
    vdisk_io("-f", "vmdk", parent, "-c", "write -P 1 0 512")
    assert qemu_img("convert", "-O", "raw", child, tmp_path / "x.raw", check=False).returncode != 0


# ---- streams: append-only ---------------------------------------------------------------

def test_stream_appends_and_reopens(vdisk, qemu_img, qemu_io, tmp_path):
    """Whole grains written in two sessions; a written grain cannot be
    written again; the stream stays valid for qemu-img and libvmdk."""
    img = tmp_path / "s.vmdk"
    vdisk("create", "-q", "-f", "vmdk", "-o", "subformat=streamOptimized", img, "40M")
    vdisk_io("-f", "vmdk", img, "-c", "write -P 1 0 1M", "-c", "write -P 2 33M 64k")
    vdisk_io("-f", "vmdk", img, "-c", "write -P 3 1M 64k", "-c", "write -P 4 34M 2M",
             "-c", "write -P 5 2M 64k")
    p = vdisk_io("-f", "vmdk", img, "-c", "write -P 6 0 64k", check=False)
    assert p.returncode == 1 and "append-only" in p.stderr
    p = vdisk_io("-f", "vmdk", img, "-c", "write -P 6 5M 4k", check=False)
    assert p.returncode == 1 and "whole grains" in p.stderr
    ops = ["write -P 1 0 1M", "write -P 2 33M 64k", "write -P 3 1M 64k", "write -P 4 34M 2M",
           "write -P 5 2M 64k"]
    raw = raw_source(qemu_io, tmp_path / "r.raw", 40 * MiB, ops)
    qemu_reads_it(qemu_img, img, raw, "streamOptimized")
    same_content(vdisk, qemu_img, img, tmp_path)
