"""vdisk-virsh info against qemu-img info: JSON fields and human output on
raw and qcow2 images (qemu-img made them), backing chains, errors."""
import os
import struct

import pytest

from cli_common import qemu_json, run_in, vdisk_json, write_sparse  # noqa: F401

MiB = 1 << 20


def both_json(vdisk, qemu_img, *args):
    return vdisk_json(vdisk, "info", "--output", "json", *args), \
        qemu_json(qemu_img, "info", "--output", "json", *args)


def both_human(vdisk, qemu_img, *args):
    pv = vdisk("info", *args)
    pq = qemu_img("info", *args)
    return pv.stdout, pq.stdout


# ---- raw ---------------------------------------------------------------------

@pytest.fixture
def sparse_raw(tmp_path):
    f = tmp_path / "sparse.raw"
    write_sparse(f, 10 * MiB, [(MiB, b"x" * 5000), (7 * MiB, os.urandom(200000))])
    return f


def test_raw_json_equal(vdisk, qemu_img, sparse_raw):
    v, q = both_json(vdisk, qemu_img, sparse_raw)
    assert v == q


def test_raw_human_equal(vdisk, qemu_img, sparse_raw):
    v, q = both_human(vdisk, qemu_img, sparse_raw)
    assert v == q


@pytest.mark.parametrize("size", [0, 512, 1000 * 1024, 1023 * MiB + 512, 999 * MiB, 5 << 40])
def test_raw_human_size_strings(vdisk, qemu_img, tmp_path, size):
    """"virtual size: 1000 KiB" vs "0.977 MiB": qemu-img's rounding rules."""
    f = tmp_path / "s.raw"
    write_sparse(f, size, [])
    v, q = both_human(vdisk, qemu_img, f)
    assert v == q


def test_raw_unaligned_size_rounded_as_qemu(vdisk, qemu_img, tmp_path):
    f = tmp_path / "odd.raw"
    write_sparse(f, MiB + 1, [])
    v, q = both_json(vdisk, qemu_img, f)
    assert q["virtual-size"] == MiB + 512
    assert v == q


def test_raw_relative_name_echoed(vdisk, qemu_img, sparse_raw):
    v = run_in(sparse_raw.parent, vdisk_json, vdisk, "info", "--output", "json", sparse_raw.name)
    q = run_in(sparse_raw.parent, qemu_json, qemu_img, "info", "--output", "json", sparse_raw.name)
    assert v == q


def test_json_string_escaping(vdisk, qemu_img, tmp_path):
    f = tmp_path / 'odd "name"\\ \u00fc\u20ac\U0001f600.raw'
    write_sparse(f, MiB, [])
    pv = vdisk("info", "--output", "json", f)
    pq = qemu_img("info", "--output", "json", f)
    assert pv.stdout == pq.stdout   # byte for byte: same escapes


def test_qcow2_probed_as_raw_when_named(vdisk, qemu_img, tmp_path):
    f = tmp_path / "q.qcow2"
    qemu_img("create", "-q", "-f", "qcow2", f, "1M")
    v, q = both_json(vdisk, qemu_img, "-f", "raw", f)
    assert q["format"] == "raw"
    # (virtual-size: see test_raw_unaligned_size_rounded_as_qemu)
    v.pop("virtual-size")
    q.pop("virtual-size")
    assert v == q


# ---- qcow2 -------------------------------------------------------------------

QCOW2_OPTS = [
    "",
    "compat=0.10",
    "lazy_refcounts=on",
    "extended_l2=on,cluster_size=128k",
    "refcount_bits=1,cluster_size=512",
    "refcount_bits=64",
    "compression_type=zstd",
    "cluster_size=2M",
    "preallocation=metadata",
]


@pytest.mark.parametrize("opts", QCOW2_OPTS, ids=lambda o: o or "default")
def test_qcow2_json_and_human_equal(vdisk, qemu_img, qemu_io, tmp_path, opts):
    f = tmp_path / "img.qcow2"
    qemu_img("create", "-q", "-f", "qcow2", *(["-o", opts] if opts else []), f, "64M")
    qemu_io("-f", "qcow2", "-c", "write -P 0x5a 1M 300k", f)
    v, q = both_json(vdisk, qemu_img, f)
    assert v == q
    hv, hq = both_human(vdisk, qemu_img, f)
    assert hv == hq


def test_qcow2_dirty_flag(vdisk, qemu_img, tmp_path):
    f = tmp_path / "dirty.qcow2"
    qemu_img("create", "-q", "-f", "qcow2", "-o", "lazy_refcounts=on", f, "8M")
    # Set the "dirty" incompatible feature bit (bit 0 of the field at 72),
    # as a crash with lazy refcounts would leave it.
    with open(f, "r+b") as fh:
        fh.seek(72)
        feat = struct.unpack(">Q", fh.read(8))[0]
        fh.seek(72)
        fh.write(struct.pack(">Q", feat | 1))
    v, q = both_json(vdisk, qemu_img, "-U", f)
    assert q["dirty-flag"] is True
    assert v == q
    hv, hq = both_human(vdisk, qemu_img, "-U", f)
    assert "cleanly shut down: no" in hq
    assert hv == hq


@pytest.fixture
def chain(tmp_path, qemu_img, qemu_io):
    """base.raw <- mid.qcow2 <- top.qcow2, relative backing names."""
    qemu_img("create", "-q", "-f", "raw", tmp_path / "base.raw", "16M")
    run_in(tmp_path, qemu_img, "create", "-q", "-f", "qcow2", "-b", "base.raw", "-F", "raw",
           "mid.qcow2")
    run_in(tmp_path, qemu_img, "create", "-q", "-f", "qcow2", "-b", "mid.qcow2", "-F", "qcow2",
           "top.qcow2", "32M")
    qemu_io("-f", "qcow2", "-c", "write -P 1 0 64k", tmp_path / "top.qcow2")
    return tmp_path


@pytest.mark.parametrize("relative", [True, False], ids=["relative", "absolute"])
def test_backing_fields(vdisk, qemu_img, chain, relative):
    name = "top.qcow2" if relative else str(chain / "top.qcow2")
    v = run_in(chain, vdisk_json, vdisk, "info", "--output", "json", name)
    q = run_in(chain, qemu_json, qemu_img, "info", "--output", "json", name)
    assert q["backing-filename"] == "mid.qcow2"
    assert v == q
    hv = run_in(chain, vdisk, "info", name).stdout
    hq = run_in(chain, qemu_img, "info", name).stdout
    assert hv == hq


def test_backing_chain_json_array(vdisk, qemu_img, chain):
    args = ("info", "--backing-chain", "--output", "json", "top.qcow2")
    v = run_in(chain, vdisk_json, vdisk, *args)
    q = run_in(chain, qemu_json, qemu_img, *args)
    assert isinstance(q, list) and len(q) == 3
    assert v == q     # snapshots included
    hv = run_in(chain, vdisk, "info", "--backing-chain", "top.qcow2").stdout
    hq = run_in(chain, qemu_img, "info", "--backing-chain", "top.qcow2").stdout
    assert hv == hq


def test_backing_chain_loop_detected(vdisk, qemu_img, tmp_path):
    a, b = tmp_path / "a.qcow2", tmp_path / "b.qcow2"
    qemu_img("create", "-q", "-f", "qcow2", a, "1M")
    qemu_img("create", "-q", "-f", "qcow2", "-b", a, "-F", "qcow2", b)
    qemu_img("rebase", "-u", "-f", "qcow2", "-b", b, "-F", "qcow2", a)
    pq = qemu_img("info", "--backing-chain", b, check=False)
    pv = vdisk("info", "--backing-chain", b, check=False)
    assert pq.returncode == 1
    assert pv.returncode == 1
    assert "loop" in pv.stderr


# ---- errors -------------------------------------------------------------------

def test_missing_file(vdisk, qemu_img, tmp_path):
    f = tmp_path / "nope.img"
    pq = qemu_img("info", f, check=False)
    pv = vdisk("info", f, check=False)
    assert pv.returncode == pq.returncode == 1
    assert str(f) in pv.stderr and "No such file" in pv.stderr


def test_bad_output_format(vdisk, qemu_img, sparse_raw):
    pq = qemu_img("info", "--output", "xml", sparse_raw, check=False)
    pv = vdisk("info", "--output", "xml", sparse_raw, check=False)
    assert pv.returncode == pq.returncode == 1
    assert "xml" in pv.stderr


def test_unknown_format_named(vdisk, qemu_img, sparse_raw):
    pq = qemu_img("info", "-f", "nosuchfmt", sparse_raw, check=False)
    pv = vdisk("info", "-f", "nosuchfmt", sparse_raw, check=False)
    assert pv.returncode == pq.returncode == 1
    assert "nosuchfmt" in pv.stderr


def test_two_files_refused(vdisk, qemu_img, sparse_raw):
    pq = qemu_img("info", sparse_raw, sparse_raw, check=False)
    pv = vdisk("info", sparse_raw, sparse_raw, check=False)
    assert pv.returncode == pq.returncode == 1
