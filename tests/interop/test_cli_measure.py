"""vdisk-virsh measure against qemu-img measure, by size and by source."""
import json
import os

import pytest

from cli_common import assert_no_crash, write_sparse  # noqa: F401

MiB = 1 << 20


def measure_both(vdisk, qemu_img, *args):
    pq = qemu_img("measure", *args)
    pv = vdisk("measure", *args, check=False)
    assert_no_crash(pv)
    assert pv.returncode == 0, pv.stderr
    return pv.stdout, pq.stdout


SIZE_CASES = [
    ("raw", "", "1G"),
    ("raw", "preallocation=full", "3M"),
    ("qcow2", "", "1G"),
    ("qcow2", "", "0"),
    ("qcow2", "", "1.5T"),
    ("qcow2", "cluster_size=4k", "100G"),
    ("qcow2", "cluster_size=2M", "10G"),
    ("qcow2", "preallocation=metadata", "20G"),
    ("qcow2", "preallocation=full", "2G"),
    ("qcow2", "preallocation=falloc", "2G"),
    ("qcow2", "refcount_bits=1", "50G"),
    ("qcow2", "refcount_bits=64", "50G"),
    ("qcow2", "extended_l2=on,cluster_size=128k", "30G"),
    ("qcow2", "compat=0.10", "7G"),
]


@pytest.mark.parametrize("fmt,opts,size", SIZE_CASES, ids=lambda x: str(x) or "-")
def test_measure_size_as_qemu_img(vdisk, qemu_img, fmt, opts, size):
    args = ["-O", fmt, *(["-o", opts] if opts else []), "--size", size]
    jv, jq = measure_both(vdisk, qemu_img, "--output", "json", *args)
    assert json.loads(jv) == json.loads(jq)
    assert jv == jq
    hv, hq = measure_both(vdisk, qemu_img, *args)
    assert hv == hq


def test_measure_raw_target_without_qcow2(vdisk, qemu_img):
    jv, jq = measure_both(vdisk, qemu_img, "-O", "raw", "--size", "5G", "--output", "json")
    assert json.loads(jv) == json.loads(jq)


@pytest.mark.parametrize("target", ["raw", "qcow2"])
def test_measure_sparse_raw_source(vdisk, qemu_img, tmp_path, target):
    f = tmp_path / "src.raw"
    write_sparse(f, 64 * MiB, [(0, os.urandom(MiB)), (20 * MiB + 5, b"x" * 300000),
                               (63 * MiB, os.urandom(MiB))])
    jv, jq = measure_both(vdisk, qemu_img, "-O", target, "-f", "raw", "--output", "json", f)
    assert json.loads(jv) == json.loads(jq)


def test_measure_qcow2_source(vdisk, qemu_img, qemu_io, tmp_path):
    f = tmp_path / "src.qcow2"
    qemu_img("create", "-q", "-f", "qcow2", f, "256M")
    qemu_io("-f", "qcow2", "-c", "write -P 1 0 3M", "-c", "write -z 10M 10M",
            "-c", "write -P 2 100M 64k", f)
    for extra in ([], ["-o", "cluster_size=16k"]):
        jv, jq = measure_both(vdisk, qemu_img, "-O", "qcow2", *extra, "--output", "json", f)
        assert json.loads(jv) == json.loads(jq)


@pytest.mark.parametrize("args", [
    [],                                    # neither --size nor a file
    ["--size", "1G", "{f}"],               # both
    ["--size", "1G", "{f}", "{f}"],        # two files
    ["-O", "vmdk9", "--size", "1G"],       # unknown target format
    ["--size", "12Q"],                     # bad size
    ["-O", "qcow2", "-o", "bogus=1", "--size", "1G"],
    ["--output", "xml", "--size", "1G"],
], ids=["none", "both", "two-files", "unknown-format", "bad-size", "bad-option", "bad-output"])
def test_measure_errors(vdisk, qemu_img, tmp_path, args):
    f = tmp_path / "x.raw"
    write_sparse(f, MiB, [])
    argv = [a.format(f=f) for a in args]
    pq = qemu_img("measure", *argv, check=False)
    pv = vdisk("measure", *argv, check=False)
    assert pq.returncode == 1
    assert pv.returncode == 1
    assert pv.stderr.startswith("vdisk-virsh: ")
