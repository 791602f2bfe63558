"""vdisk-virsh create against qemu-img create: the "Formatting" line, the
images it makes (qemu-img check / info accept them), size suffixes, the
raw-vs-qcow2 experiment and error handling."""
import os
import shutil
import subprocess
import tempfile

import pytest

from cli_common import (allocated_bytes, qemu_json, run_in,  # noqa: F401
                             assert_no_crash)

GiB = 1 << 30
MiB = 1 << 20


def create_both(tmp_path, vdisk, qemu_img, args, name, *size):
    """Run the same create in two directories (so the echoed relative names
    agree); returns (vdisk result, qemu-img result, vdisk file, qemu file)."""
    vd, qd = tmp_path / "v", tmp_path / "q"
    vd.mkdir(exist_ok=True)
    qd.mkdir(exist_ok=True)
    pv = run_in(vd, vdisk, "create", *args, name, *size, check=False)
    pq = run_in(qd, qemu_img, "create", *args, name, *size, check=False)
    return pv, pq, vd / name, qd / name


# ---- the raw-vs-qcow2 experiment ------------------------------------------

def test_qcow2_2g_is_small_on_disk(vdisk, qemu_img, tmp_path):
    f = tmp_path / "f.qcow2"
    vdisk("create", "-f", "qcow2", f, "2G")
    assert allocated_bytes(f) < 256 * 1024
    info = qemu_json(qemu_img, "info", "--output", "json", f)
    assert info["format"] == "qcow2"
    assert info["virtual-size"] == 2 * GiB
    qemu_img("check", f)


def test_raw_2g_has_apparent_size_2g(vdisk, tmp_path):
    f = tmp_path / "f.raw"
    vdisk("create", "-f", "raw", f, "2G")
    assert os.stat(f).st_size == 2 * GiB
    # Thin: a sparse file, nothing (or next to nothing) allocated.
    assert allocated_bytes(f) < 1 * MiB


def test_raw_full_preallocation_allocates_every_block(vdisk, tmp_path):
    f = tmp_path / "full.raw"
    size = 64 * MiB
    vdisk("create", "-f", "raw", "-o", "preallocation=full", f, str(size))
    assert os.stat(f).st_size == size
    assert allocated_bytes(f) >= size
    with open(f, "rb") as fh:
        assert fh.read() == bytes(size)


def test_raw_full_preallocation_on_tmpfs(vdisk):
    """tmpfs: the fallocate alone allocates the pages (they read as zeros)."""
    if not os.path.isdir("/dev/shm"):
        pytest.skip("no /dev/shm")
    with tempfile.TemporaryDirectory(dir="/dev/shm") as d:
        f = os.path.join(d, "full.raw")
        size = 16 * MiB + 4096
        vdisk("create", "-f", "raw", "-o", "preallocation=full", f, str(size))
        assert os.stat(f).st_size == size
        assert allocated_bytes(f) >= size
        with open(f, "rb") as fh:
            assert fh.read() == bytes(size)


def test_raw_full_preallocation_on_a_block_device(vdisk, tmp_path):
    """A block device zeroes itself (BLKZEROOUT): what was on it reads as
    zeros afterwards.  Needs root and a free loop device."""
    if os.geteuid() != 0 or not shutil.which("losetup"):
        pytest.skip("needs root and losetup")
    backing = tmp_path / "dev.img"
    backing.write_bytes(os.urandom(8 * MiB))
    p = subprocess.run(["losetup", "-f", "--show", str(backing)], capture_output=True, text=True)
    if p.returncode != 0:
        pytest.skip(f"no loop device: {p.stderr.strip()}")
    dev = p.stdout.strip()
    try:
        vdisk("create", "-f", "raw", "-o", "preallocation=full", dev, str(8 * MiB))
        with open(dev, "rb") as fh:
            assert fh.read(8 * MiB) == bytes(8 * MiB)
    finally:
        subprocess.run(["losetup", "-d", dev], check=True)


def test_raw_falloc_preallocation_reserves_blocks(vdisk, tmp_path):
    f = tmp_path / "falloc.raw"
    size = 32 * MiB
    vdisk("create", "-f", "raw", "-o", "preallocation=falloc", f, str(size))
    assert os.stat(f).st_size == size
    assert allocated_bytes(f) >= size


def test_qcow2_full_preallocation_allocates(vdisk, qemu_img, tmp_path):
    f = tmp_path / "full.qcow2"
    size = 16 * MiB
    vdisk("create", "-f", "qcow2", "-o", "preallocation=full", f, str(size))
    assert allocated_bytes(f) >= size
    qemu_img("check", f)


# ---- the "Formatting" line and the images themselves ---------------------

RAW_CASES = [
    [],
    ["-o", "preallocation=off"],
    ["-o", "nocow=on,preallocation=falloc"],
    ["-o", "preallocation=full"],
]


@pytest.mark.parametrize("opts", RAW_CASES, ids=lambda o: " ".join(o) or "default")
def test_create_raw_matches_qemu_img(vdisk, qemu_img, tmp_path, opts):
    pv, pq, fv, fq = create_both(tmp_path, vdisk, qemu_img, ["-f", "raw", *opts], "d.raw", "5M")
    assert pq.returncode == 0, pq.stderr
    assert pv.returncode == 0, pv.stderr
    assert pv.stdout == pq.stdout
    assert os.stat(fv).st_size == os.stat(fq).st_size
    assert qemu_img("compare", fv, fq, check=False).returncode == 0


QCOW2_CASES = [
    [],
    ["-o", "cluster_size=4k"],
    ["-o", "compat=0.10"],
    ["-o", "compat=v3,lazy_refcounts=on"],
    ["-o", "refcount_bits=1"],
    ["-o", "refcount_bits=64,cluster_size=2M"],
    ["-o", "extended_l2=on,cluster_size=128k"],
    ["-o", "compression_type=zstd"],
    ["-o", "preallocation=metadata"],
    ["-o", "preallocation=falloc,cluster_size=512"],
    ["-o", "cluster_size=64k", "-o", "lazy_refcounts=true"],
]

FORMAT_SPECIFIC_KEYS = ["compat", "compression-type", "lazy-refcounts", "refcount-bits",
                        "extended-l2", "corrupt"]


@pytest.mark.parametrize("opts", QCOW2_CASES, ids=lambda o: " ".join(o) or "default")
def test_create_qcow2_matches_qemu_img(vdisk, qemu_img, tmp_path, opts):
    pv, pq, fv, fq = create_both(tmp_path, vdisk, qemu_img, ["-f", "qcow2", *opts], "d.qcow2",
                                 "5M")
    assert pq.returncode == 0, pq.stderr
    assert_no_crash(pv)
    assert pv.returncode == 0, pv.stderr
    assert pv.stdout == pq.stdout
    qemu_img("check", fv)
    iv = qemu_json(qemu_img, "info", "--output", "json", fv)
    iq = qemu_json(qemu_img, "info", "--output", "json", fq)
    assert iv["virtual-size"] == iq["virtual-size"]
    assert iv["cluster-size"] == iq["cluster-size"]
    dv, dq = iv["format-specific"]["data"], iq["format-specific"]["data"]
    for k in FORMAT_SPECIFIC_KEYS:
        assert dv.get(k) == dq.get(k), k
    assert qemu_img("compare", fv, fq, check=False).returncode == 0


def test_create_qcow2_with_backing(vdisk, qemu_img, tmp_path):
    for d in ("v", "q"):
        (tmp_path / d).mkdir()
        qemu_img("create", "-q", "-f", "raw", tmp_path / d / "base.raw", "3M")
    args = ["-f", "qcow2", "-b", "base.raw", "-F", "raw"]
    pv, pq, fv, fq = create_both(tmp_path, vdisk, qemu_img, args, "top.qcow2")
    assert pq.returncode == 0, pq.stderr
    assert_no_crash(pv)
    assert pv.returncode == 0, pv.stderr
    assert pv.stdout == pq.stdout        # size taken from the backing file
    qemu_img("check", fv)
    iv = qemu_json(qemu_img, "info", "--output", "json", fv)
    assert iv["backing-filename"] == "base.raw"
    assert iv["backing-filename-format"] == "raw"
    assert iv["virtual-size"] == 3 * MiB


def test_create_backing_without_format_refused_like_qemu_img(vdisk, qemu_img, tmp_path):
    for d in ("v", "q"):
        (tmp_path / d).mkdir()
        qemu_img("create", "-q", "-f", "raw", tmp_path / d / "base.raw", "1M")
    pv, pq, fv, fq = create_both(tmp_path, vdisk, qemu_img, ["-f", "qcow2", "-b", "base.raw"],
                                 "top.qcow2")
    assert pq.returncode != 0
    assert pv.returncode == pq.returncode
    assert "top.qcow2" in pv.stderr and "format" in pv.stderr
    assert not fv.exists()


def test_quiet_prints_nothing(vdisk, tmp_path):
    p = vdisk("create", "-q", "-f", "raw", tmp_path / "q.raw", "1M")
    assert p.stdout == "" and p.stderr == ""


# ---- sizes ------------------------------------------------------------------

SIZES = ["0", "512", "4096", "1k", "1K", "1.5k", "1M", "1.25M", "3G", "2T", "1024b", "0.5G"]


@pytest.mark.parametrize("size", SIZES)
def test_size_suffixes_as_qemu_img(vdisk, qemu_img, tmp_path, size):
    fv, fq = tmp_path / "v.raw", tmp_path / "q.raw"
    qemu_img("create", "-q", "-f", "raw", fq, size)
    vdisk("create", "-q", "-f", "raw", fv, size)
    assert os.stat(fv).st_size == os.stat(fq).st_size


# ---- errors -------------------------------------------------------------------

ERROR_CASES = {
    "bad-size-suffix": (["-f", "raw", "{f}", "12X"], "12X"),
    "fractional-bytes": (["-f", "raw", "{f}", "1.5"], "1.5"),
    "negative-size": (["-f", "raw", "{f}", "--", "-5"], "-5"),
    "size-too-large": (["-f", "raw", "{f}", "8E"], "8E"),
    "unknown-format": (["-f", "vhdx9", "{f}", "1G"], "vhdx9"),
    "raw-metadata-prealloc": (["-f", "raw", "-o", "preallocation=metadata", "{f}", "1G"], "metadata"),
    "bad-prealloc": (["-f", "raw", "-o", "preallocation=bogus", "{f}", "1G"], "bogus"),
    "unknown-o-key-raw": (["-f", "raw", "-o", "frobnicate=1", "{f}", "1G"], "frobnicate"),
    "unknown-o-key-qcow2": (["-f", "qcow2", "-o", "frobnicate=1", "{f}", "1G"], "frobnicate"),
    "qcow2-key-on-raw": (["-f", "raw", "-o", "cluster_size=4k", "{f}", "1G"], "cluster_size"),
    "bad-cluster-size": (["-f", "qcow2", "-o", "cluster_size=1000", "{f}", "1G"], "luster"),
    "bad-refcount-bits": (["-f", "qcow2", "-o", "refcount_bits=3", "{f}", "1G"], "efcount"),
    "bad-bool": (["-f", "qcow2", "-o", "lazy_refcounts=maybe", "{f}", "1G"], "lazy_refcounts"),
    "small-extended-l2": (["-f", "qcow2", "-o", "extended_l2=on,cluster_size=4k", "{f}", "1G"],
                          "16384"),
    "missing-size": (["-f", "raw", "{f}"], "size"),
    "size-twice": (["-f", "raw", "-o", "size=1M", "{f}", "2M"], "size"),
    "backing-fmt-without-file": (["-f", "qcow2", "-F", "raw", "{f}", "1G"], "ack"),
    "raw-with-backing": (["-f", "raw", "-b", "{b}", "-F", "raw", "{f}", "1G"], "ack"),
    "missing-backing": (["-f", "qcow2", "-b", "nonexistent.img", "-F", "raw", "{f}"],
                        "nonexistent.img"),
}


@pytest.mark.parametrize("case", sorted(ERROR_CASES))
def test_create_errors_as_qemu_img(vdisk, qemu_img, tmp_path, case):
    """Same exit status as qemu-img, a message naming the culprit, and no
    file left behind."""
    argv, culprit = ERROR_CASES[case]
    base = tmp_path / "base.raw"
    base.write_bytes(bytes(4096))
    rcs = []
    for tool, name in ((qemu_img, "q.img"), (vdisk, "v.img")):
        f = tmp_path / name
        args = [a.format(f=f, b=base) for a in argv]
        p = tool("create", *args, check=False)
        rcs.append(p.returncode)
        if tool is vdisk:
            assert p.returncode == 1, p.stderr
            assert p.stderr.startswith("vdisk-virsh: ")
            assert culprit in p.stderr
            assert not f.exists()
        elif p.returncode == 0:
            pytest.fail(f"qemu-img accepted {args}")
    assert rcs[0] == rcs[1]


def test_missing_file_name(vdisk, qemu_img):
    pq = qemu_img("create", "-f", "raw", check=False)
    pv = vdisk("create", "-f", "raw", check=False)
    assert pv.returncode == pq.returncode == 1
    assert "file name" in pv.stderr


def test_unexpected_argument(vdisk, qemu_img, tmp_path):
    pq = qemu_img("create", "-f", "raw", tmp_path / "q", "1M", "extra", check=False)
    pv = vdisk("create", "-f", "raw", tmp_path / "v", "1M", "extra", check=False)
    assert pv.returncode == pq.returncode == 1
    assert "extra" in pv.stderr


def test_option_help_lists_keys(vdisk):
    out = vdisk("create", "-f", "qcow2", "-o", "help").stdout
    for key in ("size", "cluster_size", "compat", "refcount_bits", "lazy_refcounts",
                "extended_l2", "preallocation", "backing_file", "backing_fmt", "nocow",
                "compression_type"):
        assert f"  {key}=" in out
    raw = vdisk("create", "-f", "raw", "-o", "help").stdout
    assert "cluster_size" not in raw and "preallocation=" in raw
