"""vdisk-virsh compare against qemu-img compare: exit status and verdict
lines on identical, different and size-mismatched images."""
import os
import shutil

import pytest

from cli_common import assert_no_crash, write_sparse  # noqa: F401

MiB = 1 << 20


def compare_both(vdisk, qemu_img, *args):
    pq = qemu_img("compare", *args, check=False)
    pv = vdisk("compare", *args, check=False)
    assert_no_crash(pv)
    return pv, pq


@pytest.fixture
def pair(tmp_path):
    a, b = tmp_path / "a.raw", tmp_path / "b.raw"
    data = os.urandom(300000)
    write_sparse(a, 8 * MiB, [(MiB, data), (5 * MiB + 3, b"end")])
    shutil.copyfile(a, b)
    return a, b


CASES = {
    "identical": lambda a, b: None,
    "one-byte-differs": lambda a, b: write_sparse_patch(b, 1234567, b"\x01"),
    "hole-vs-zeros": lambda a, b: write_sparse_patch(b, 3 * MiB, bytes(65536)),
    "longer-with-zero-tail": lambda a, b: os.truncate(b, 9 * MiB),
    "longer-with-data-tail": lambda a, b: write_sparse_patch(b, 8 * MiB + 100, b"x"),
    "shorter-first": lambda a, b: os.truncate(a, 6 * MiB),
    "diff-at-zero": lambda a, b: write_sparse_patch(a, 0, b"\x7f"),
}


def write_sparse_patch(path, off, data):
    with open(path, "r+b") as f:
        f.seek(off)
        f.write(data)


@pytest.mark.parametrize("strict", [False, True], ids=["default", "strict"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_compare_raw_as_qemu_img(vdisk, qemu_img, pair, case, strict):
    a, b = pair
    CASES[case](a, b)
    args = ["-f", "raw", "-F", "raw", *(["-s"] if strict else []), a, b]
    pv, pq = compare_both(vdisk, qemu_img, *args)
    assert pv.returncode == pq.returncode, (pv.stdout, pv.stderr, pq.stdout)
    assert pv.stdout == pq.stdout


def test_compare_quiet(vdisk, qemu_img, pair):
    a, b = pair
    write_sparse_patch(b, 42, b"!")
    pv, pq = compare_both(vdisk, qemu_img, "-q", a, b)
    assert pv.returncode == pq.returncode == 1
    assert pv.stdout == "" and pq.stdout == ""


def test_compare_qcow2_with_raw(vdisk, qemu_img, qemu_io, tmp_path):
    q, r = tmp_path / "x.qcow2", tmp_path / "x.raw"
    qemu_img("create", "-q", "-f", "qcow2", q, "16M")
    qemu_io("-f", "qcow2", "-c", "write -P 9 3M 1M", "-c", "write -z 8M 1M", q)
    qemu_img("convert", "-f", "qcow2", "-O", "raw", q, r)
    pv, pq = compare_both(vdisk, qemu_img, q, r)
    assert pv.returncode == pq.returncode == 0
    qemu_io("-f", "qcow2", "-c", "write -P 8 3M 512", q)
    pv, pq = compare_both(vdisk, qemu_img, q, r)
    assert pv.returncode == pq.returncode == 1
    assert pv.stdout == pq.stdout


def test_compare_missing_file_is_2(vdisk, qemu_img, pair, tmp_path):
    a, _ = pair
    for args in ([a, tmp_path / "nope"], [tmp_path / "nope", a]):
        pq = qemu_img("compare", *args, check=False)
        pv = vdisk("compare", *args, check=False)
        assert pv.returncode == pq.returncode == 2
        assert "nope" in pv.stderr


def test_compare_usage_error(vdisk, qemu_img, pair):
    a, _ = pair
    pq = qemu_img("compare", a, check=False)
    pv = vdisk("compare", a, check=False)
    assert pv.returncode == pq.returncode
