"""vdisk-virsh map against qemu-img map: JSON lists and the human table on
sparse raw files and on qcow2 images (and chains) written by qemu-io."""
import json
import os

import pytest

from cli_common import run_in, assert_no_crash, write_sparse  # noqa: F401

KiB = 1 << 10
MiB = 1 << 20


def both(vdisk, qemu_img, *args, cwd=None):
    """(vdisk stdout, qemu-img stdout) of `map ARGS`, run in cwd."""
    def go():
        pv = vdisk("map", *args, check=False)
        assert_no_crash(pv)
        assert pv.returncode == 0, pv.stderr
        return pv.stdout, qemu_img("map", *args).stdout
    return run_in(cwd, go) if cwd else go()


def assert_map_equal(vdisk, qemu_img, f, *extra, cwd=None):
    jv, jq = both(vdisk, qemu_img, "--output", "json", *extra, f, cwd=cwd)
    assert json.loads(jv) == json.loads(jq)
    assert jv == jq   # and laid out the same: one extent per line
    hv, hq = both(vdisk, qemu_img, *extra, f, cwd=cwd)
    assert hv == hq


# ---- raw: block status from SEEK_DATA / SEEK_HOLE ----------------------------

RAW_LAYOUTS = {
    "empty-file": (0, []),
    "all-hole": (8 * MiB, []),
    "all-data": (1 * MiB, [(0, os.urandom(MiB))]),
    "data-at-start": (4 * MiB, [(0, b"\xff" * 100)]),
    "data-at-end": (4 * MiB, [(4 * MiB - 10, b"tail......")]),
    "unaligned-runs": (16 * MiB, [(12345, b"a" * 7000), (3 * MiB + 17, b"b" * 70000),
                                  (9 * MiB, os.urandom(3 * MiB + 4097))]),
    "explicit-zeros-are-data": (4 * MiB, [(MiB, bytes(256 * KiB))]),
    "many-small": (8 * MiB, [(i * 256 * KiB, b"z" * 4096) for i in range(0, 32, 3)]),
}


@pytest.mark.parametrize("layout", sorted(RAW_LAYOUTS))
def test_raw_sparse_map_equal(vdisk, qemu_img, tmp_path, layout):
    size, chunks = RAW_LAYOUTS[layout]
    f = tmp_path / "s.raw"
    write_sparse(f, size, chunks)
    assert_map_equal(vdisk, qemu_img, f, "-f", "raw")


def test_raw_relative_name_in_table(vdisk, qemu_img, tmp_path):
    write_sparse(tmp_path / "r.raw", 2 * MiB, [(MiB, b"d" * 4096)])
    assert_map_equal(vdisk, qemu_img, "r.raw", cwd=tmp_path)


@pytest.mark.parametrize("window", [("-s", "1M"), ("-l", "3M"), ("-s", "64k", "-l", "5000k"),
                                    ("--start-offset", "2M", "--max-length", "1M")])
def test_raw_window(vdisk, qemu_img, tmp_path, window):
    f = tmp_path / "w.raw"
    write_sparse(f, 8 * MiB, [(512 * KiB, b"q" * 1000000), (6 * MiB, b"r" * 5000)])
    assert_map_equal(vdisk, qemu_img, f, *window)


# ---- qcow2 written by qemu-io -------------------------------------------------

QEMU_IO_SCRIPTS = {
    "empty": [],
    "unaligned-writes": ["write -P 0x11 1000 5000", "write -P 0x22 1M 3M", "write -P 0x33 60M 4k"],
    "zero-writes": ["write -P 1 0 2M", "write -z 512k 1M", "write -z 10M 128k"],
    "zero-unmap": ["write -P 1 0 2M", "write -z -u 0 1M"],
    "discard": ["write -P 7 0 4M", "discard 1M 2M"],
    "reverse-order": [f"write -P {i} {(31 - i) * 2}M 64k" for i in range(32)],
}


@pytest.mark.parametrize("script", sorted(QEMU_IO_SCRIPTS))
@pytest.mark.parametrize("opts", ["", "cluster_size=4k", "extended_l2=on,cluster_size=128k",
                                  "compat=0.10"], ids=lambda o: o or "default")
def test_qcow2_map_equal(vdisk, qemu_img, qemu_io, tmp_path, script, opts):
    f = tmp_path / "q.qcow2"
    qemu_img("create", "-q", "-f", "qcow2", *(["-o", opts] if opts else []), f, "64M")
    for cmd in QEMU_IO_SCRIPTS[script]:
        qemu_io("-f", "qcow2", "-c", cmd, f)
    assert_map_equal(vdisk, qemu_img, f)


def test_qcow2_compressed_json_equal(vdisk, qemu_img, qemu_io, tmp_path):
    f = tmp_path / "c.qcow2"
    qemu_img("create", "-q", "-f", "qcow2", f, "4M")
    qemu_io("-f", "qcow2", "-c", "write -c -P 0x41 0 64k", "-c", "write -P 2 1M 64k", f)
    jv, jq = both(vdisk, qemu_img, "--output", "json", f)
    assert json.loads(jv) == json.loads(jq)
    # The table cannot show compressed data: both refuse.
    pq = qemu_img("map", f, check=False)
    pv = vdisk("map", f, check=False)
    assert pq.returncode == pv.returncode == 1
    assert "compressed" in pv.stderr


def test_qcow2_chain_map_equal(vdisk, qemu_img, qemu_io, tmp_path):
    qemu_img("create", "-q", "-f", "raw", tmp_path / "base.raw", "8M")
    qemu_io("-f", "raw", "-c", "write -P 3 0 1M", "-c", "write -P 4 6M 1M", tmp_path / "base.raw")
    run_in(tmp_path, qemu_img, "create", "-q", "-f", "qcow2", "-b", "base.raw", "-F", "raw",
           "mid.qcow2")
    qemu_io("-f", "qcow2", "-c", "write -P 5 512k 1M", "-c", "write -z 6M 64k",
            tmp_path / "mid.qcow2")
    run_in(tmp_path, qemu_img, "create", "-q", "-f", "qcow2", "-b", "mid.qcow2", "-F", "qcow2",
           "top.qcow2", "12M")
    qemu_io("-f", "qcow2", "-c", "write -P 6 3M 64k", "-c", "discard 0 64k",
            tmp_path / "top.qcow2")
    assert_map_equal(vdisk, qemu_img, "top.qcow2", cwd=tmp_path)


# ---- errors -------------------------------------------------------------------

def test_missing_file(vdisk, qemu_img, tmp_path):
    f = tmp_path / "none.img"
    pq = qemu_img("map", f, check=False)
    pv = vdisk("map", f, check=False)
    assert pv.returncode == pq.returncode == 1
    assert str(f) in pv.stderr


def test_bad_output(vdisk, qemu_img, tmp_path):
    f = tmp_path / "x.raw"
    write_sparse(f, MiB, [])
    pq = qemu_img("map", "--output", "yaml", f, check=False)
    pv = vdisk("map", "--output", "yaml", f, check=False)
    assert pv.returncode == pq.returncode == 1
