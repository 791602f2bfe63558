"""qcow2 creation and measurement against qemu-img.

vdisk and qemu-img create the same image; the results must agree in what
`qemu-img check`, `qemu-img info` and `qemu-img map` say about them (for the
common options the files are byte-identical), and `measure` must print
qemu-img's numbers.
"""
import json
import os

import pytest

from conftest import VDISK_VIRSH, run, vdisk_io as vio


def info(qemu_img, path):
    j = json.loads(qemu_img("info", "--output=json", path).stdout)
    # Fields that legitimately differ between two files.
    for k in ("filename", "actual-size", "dirty-flag"):
        j.pop(k, None)
    j.get("format-specific", {}).get("data", {}).pop("bitmaps", None)
    return j


def qmap(qemu_img, path):
    return json.loads(qemu_img("map", "--output=json", path).stdout)


CASES = [
    ("", "2G"),
    ("", "1"),
    ("", "0"),
    ("", "100T"),
    ("cluster_size=512", "1G"),
    ("cluster_size=2M", "10G"),
    ("compat=0.10", "5G"),
    ("refcount_bits=1", "3G"),
    ("refcount_bits=64", "3G"),
    ("lazy_refcounts=on", "1G"),
    ("extended_l2=on,cluster_size=128k", "20G"),
    ("compression_type=zstd", "1G"),
    ("preallocation=metadata", "1G"),
    ("preallocation=metadata", "1000000000"),
    ("preallocation=metadata,cluster_size=4k", "100M"),
    ("preallocation=falloc", "1G"),
    ("preallocation=falloc,extended_l2=on,cluster_size=64k", "300M"),
    ("preallocation=full", "256M"),
    ("preallocation=falloc", "12345678"),
    ("preallocation=full,cluster_size=4k", "5000000"),
    ("preallocation=metadata,extended_l2=on", "3333333"),
    ("preallocation=full,compat=0.10,cluster_size=1M", "100M"),
]


@pytest.mark.parametrize("opts,size", CASES)
def test_create_matches_qemu(tmp_path, qemu_img, opts, size):
    v, q = tmp_path / "v.qcow2", tmp_path / "q.qcow2"
    extra = ["-o", opts] if opts else []
    vio("create", "-f", "qcow2", *extra, v, size)
    qemu_img("create", "-q", "-f", "qcow2", *extra, q, size)
    p = qemu_img("check", v, check=False)
    assert p.returncode == 0 and "No errors" in p.stdout, p.stdout
    assert info(qemu_img, v) == info(qemu_img, q)
    assert qmap(qemu_img, v) == qmap(qemu_img, q)
    assert os.stat(v).st_size == os.stat(q).st_size


@pytest.mark.parametrize("opts,size", [c for c in CASES if "prealloc" not in c[0]])
def test_create_byte_identical(tmp_path, qemu_img, opts, size):
    v, q = tmp_path / "v.qcow2", tmp_path / "q.qcow2"
    extra = ["-o", opts] if opts else []
    vio("create", "-f", "qcow2", *extra, v, size)
    qemu_img("create", "-q", "-f", "qcow2", *extra, q, size)
    assert v.read_bytes() == q.read_bytes()


def test_2g_image_is_small(tmp_path):
    p = tmp_path / "f.qcow2"
    vio("create", "-f", "qcow2", p, "2G")
    st = os.stat(p)
    assert st.st_size < 256 * 1024
    assert st.st_blocks * 512 < 256 * 1024


def test_full_preallocation_allocates(tmp_path):
    p = tmp_path / "f.qcow2"
    vio("create", "-f", "qcow2", "-o", "preallocation=full", p, "64M")
    assert os.stat(p).st_blocks * 512 >= 64 << 20


def test_backing_file_header(tmp_path, qemu_img):
    base = tmp_path / "base.raw"
    qemu_img("create", "-q", "-f", "raw", base, "10M")
    v = tmp_path / "v.qcow2"
    vio("create", "-f", "qcow2", "-o", "backing_file=base.raw,backing_fmt=raw", v)
    j = json.loads(qemu_img("info", "--output=json", v).stdout)
    assert j["backing-filename"] == "base.raw"
    assert j["backing-filename-format"] == "raw"
    assert j["virtual-size"] == 10 << 20
    q = tmp_path / "q.qcow2"
    qemu_img("create", "-q", "-f", "qcow2", "-b", "base.raw", "-F", "raw", q)
    assert v.read_bytes() == q.read_bytes()


def test_backing_with_extended_l2_preallocation(tmp_path, qemu_img, qemu_io):
    """With subclusters, preallocated clusters still show the backing file."""
    base = tmp_path / "base.raw"
    qemu_img("create", "-q", "-f", "raw", base, "4M")
    qemu_io("-f", "raw", "-c", "write -P 0x33 0 4M", base)
    v = tmp_path / "v.qcow2"
    vio("create", "-f", "qcow2", "-o",
        "backing_file=base.raw,backing_fmt=raw,extended_l2=on,preallocation=metadata", v)
    qemu_io("-f", "qcow2", "-c", "read -P 0x33 0 4M", v)
    vio("-f", "qcow2", v, "-c", "read -P 0x33 0 4M", "-c", "write -P 1 100 100",
        "-c", "read -P 0x33 8192 1M")
    p = qemu_img("check", v, check=False)
    assert p.returncode == 0, p.stdout


MEASURE = [
    ("", "10G"),
    ("cluster_size=512", "1G"),
    ("cluster_size=2M,refcount_bits=1", "100T"),
    ("extended_l2=on,cluster_size=128k", "64G"),
    ("preallocation=full", "5G"),
    ("preallocation=falloc,refcount_bits=64,cluster_size=4k", "3G"),
    ("compat=0.10", "1234567"),
]


def vdisk_virsh():
    p = VDISK_VIRSH
    if not p.exists():
        pytest.fail(f"{p} is missing: build first")
    return p


@pytest.mark.parametrize("opts,size", MEASURE)
def test_measure_size(qemu_img, opts, size):
    extra = ["-o", opts] if opts else []
    want = json.loads(qemu_img("measure", "-O", "qcow2", *extra, "--size", size,
                               "--output=json").stdout)
    got = json.loads(run([vdisk_virsh(), "measure", "-O", "qcow2", *extra, "--size", size,
                          "--output", "json"]).stdout)
    assert got["required"] == want["required"]
    assert got["fully-allocated"] == want["fully-allocated"]


@pytest.mark.parametrize("src_fmt", ["raw", "qcow2"])
@pytest.mark.parametrize("opts", ["", "cluster_size=4k", "preallocation=full",
                                  "extended_l2=on,cluster_size=2M"])
def test_measure_source(tmp_path, qemu_img, qemu_io, src_fmt, opts):
    src = tmp_path / f"src.{src_fmt}"
    qemu_img("create", "-q", "-f", src_fmt, src, "100M")
    qemu_io("-f", src_fmt, "-c", "write -P 1 1000 3M", "-c", "write -P 2 50M 64k",
            "-c", "write -z 60M 1M", "-c", "write -P 3 99M 333", src)
    extra = ["-o", opts] if opts else []
    want = json.loads(qemu_img("measure", "-O", "qcow2", *extra, "-f", src_fmt, src,
                               "--output=json").stdout)
    got = json.loads(run([vdisk_virsh(), "measure", "-O", "qcow2", *extra, "-f", src_fmt, src,
                          "--output", "json"]).stdout)
    assert got["required"] == want["required"]
    assert got["fully-allocated"] == want["fully-allocated"]
