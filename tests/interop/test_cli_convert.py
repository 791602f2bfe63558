"""vdisk-virsh convert: results checked with qemu-img (compare, check, info,
map), options and errors as qemu-img convert."""
import json
import os
import re

import pytest

from cli_common import (allocated_bytes, qemu_json,  # noqa: F401
                             assert_no_crash, write_sparse)

MiB = 1 << 20


def convert(vdisk, *args):
    p = vdisk("convert", *args, check=False)
    assert_no_crash(p)
    assert p.returncode == 0, p.stderr
    return p


@pytest.fixture
def sparse_src(tmp_path):
    f = tmp_path / "src.raw"
    write_sparse(f, 32 * MiB, [(0, os.urandom(MiB)), (5 * MiB + 7, b"hello" * 1000),
                               (20 * MiB, bytes(2 * MiB)), (31 * MiB, os.urandom(MiB))])
    return f


def test_raw_to_raw_stays_sparse(vdisk, qemu_img, sparse_src, tmp_path):
    dst = tmp_path / "dst.raw"
    p = convert(vdisk, "-O", "raw", sparse_src, dst)
    assert p.stdout == ""
    assert qemu_img("compare", "-f", "raw", "-F", "raw", sparse_src, dst).returncode == 0
    assert os.stat(dst).st_size == os.stat(sparse_src).st_size
    # Holes and the explicitly written zeros are not copied as data.
    data = sum(e["length"] for e in json.loads(
        qemu_img("map", "--output", "json", "-f", "raw", dst).stdout) if e["data"])
    assert data <= 3 * MiB + 64 * 1024


def test_default_output_format_is_raw(vdisk, qemu_img, sparse_src, tmp_path):
    dst = tmp_path / "dst.img"
    convert(vdisk, sparse_src, dst)
    assert qemu_json(qemu_img, "info", "--output", "json", dst)["format"] == "raw"


@pytest.mark.parametrize("opts", ["", "cluster_size=4k", "compat=0.10",
                                  "extended_l2=on,cluster_size=128k", "preallocation=metadata"],
                         ids=lambda o: o or "default")
def test_raw_to_qcow2(vdisk, qemu_img, sparse_src, tmp_path, opts):
    dst = tmp_path / "dst.qcow2"
    convert(vdisk, "-f", "raw", "-O", "qcow2", *(["-o", opts] if opts else []), sparse_src, dst)
    qemu_img("check", dst)
    assert qemu_img("compare", "-f", "raw", "-F", "qcow2", sparse_src, dst).returncode == 0
    ref = tmp_path / "ref.qcow2"
    qemu_img("create", "-q", "-f", "qcow2", *(["-o", opts] if opts else []), ref, "1M")
    got = qemu_json(qemu_img, "info", "--output", "json", dst)
    want = qemu_json(qemu_img, "info", "--output", "json", ref)
    assert got["cluster-size"] == want["cluster-size"]
    assert got["format-specific"]["data"] == want["format-specific"]["data"]


@pytest.mark.parametrize("opts", ["", "cluster_size=4k", "cluster_size=2M"],
                         ids=lambda o: o or "default")
def test_raw_to_qcow2_host_layout_as_qemu_img(vdisk, qemu_img, sparse_src, tmp_path,
                                               opts):
    """L2 tables first, then the data of each run contiguous: the same host
    layout as `qemu-img convert` makes from the same source."""
    dst, ref = tmp_path / "dst.qcow2", tmp_path / "ref.qcow2"
    o = ["-o", opts] if opts else []
    convert(vdisk, "-f", "raw", "-O", "qcow2", *o, sparse_src, dst)
    qemu_img("convert", "-f", "raw", "-O", "qcow2", *o, sparse_src, ref)
    assert qemu_json(qemu_img, "map", "--output", "json", dst) == \
        qemu_json(qemu_img, "map", "--output", "json", ref)


def test_qcow2_to_raw_and_back(vdisk, qemu_img, qemu_io, tmp_path):
    q = tmp_path / "a.qcow2"
    qemu_img("create", "-q", "-f", "qcow2", q, "16M")
    qemu_io("-f", "qcow2", "-c", "write -P 0x61 100k 3M", "-c", "write -z 8M 1M", q)
    r = tmp_path / "a.raw"
    convert(vdisk, "-O", "raw", q, r)
    assert qemu_img("compare", q, r).returncode == 0
    q2 = tmp_path / "b.qcow2"
    convert(vdisk, "-f", "raw", "-O", "qcow2", "-m", "3", r, q2)
    qemu_img("check", q2)
    assert qemu_img("compare", q, q2).returncode == 0


def test_compressed(vdisk, qemu_img, tmp_path):
    src = tmp_path / "text.raw"
    write_sparse(src, 8 * MiB, [(0, b"compress me please " * 200000)])
    dst = tmp_path / "c.qcow2"
    convert(vdisk, "-c", "-O", "qcow2", src, dst)
    qemu_img("check", dst)
    assert qemu_img("compare", "-f", "raw", src, dst).returncode == 0
    # Compressed clusters have no host offset in qemu-img's map.
    extents = json.loads(qemu_img("map", "--output", "json", dst).stdout)
    assert any(e["data"] and "offset" not in e for e in extents)
    assert allocated_bytes(dst) < MiB


@pytest.fixture
def many_chunks_src(tmp_path):
    """24 MiB in many runs of data, written zeros and holes: a dozen copy
    jobs or more, so that workers finish their reads out of order."""
    f = tmp_path / "many.raw"
    runs = []
    for i in range(24):
        if i % 4 == 1:
            runs.append((i * MiB, bytes(MiB)))
        elif i % 4 != 3:
            runs.append((i * MiB + (i % 3) * 4096, os.urandom(MiB // 2) + b"text " * 40000))
    write_sparse(f, 24 * MiB, runs)
    return f


@pytest.mark.parametrize("extra", [[], ["-c"], ["-o", "cluster_size=4k"], ["-c", "-o", "compression_type=zstd"]],
                         ids=["plain", "compressed", "4k-clusters", "zstd"])
def test_out_of_order_writes_make_a_valid_image(vdisk, qemu_img, many_chunks_src, tmp_path, extra):
    """-W: every worker writes its piece as soon as it is read, in any order;
    the image is still consistent (qemu-img check) and holds the source."""
    dst = tmp_path / "w.qcow2"
    convert(vdisk, "-W", "-m", "16", "-f", "raw", "-O", "qcow2", *extra, many_chunks_src, dst)
    qemu_img("check", dst)
    assert qemu_img("compare", "-f", "raw", "-F", "qcow2", many_chunks_src, dst).returncode == 0


def test_out_of_order_writes_into_raw(vdisk, qemu_img, many_chunks_src, tmp_path):
    dst = tmp_path / "w.raw"
    convert(vdisk, "-W", "-m", "16", "-f", "raw", "-O", "raw", many_chunks_src, dst)
    assert qemu_img("compare", "-f", "raw", "-F", "raw", many_chunks_src, dst).returncode == 0


@pytest.mark.parametrize("mode", ["none", "directsync", "writeback", "unsafe"])
def test_source_cache_mode(vdisk, qemu_img, tmp_path, mode):
    """-T: the source's cache mode (none/directsync: O_DIRECT reads, here
    of a qcow2 whose metadata is not aligned to the O_DIRECT block)."""
    src = tmp_path / "s.qcow2"
    qemu_img("create", "-q", "-f", "qcow2", src, "8M")
    raw = tmp_path / "s.raw"
    write_sparse(raw, 8 * MiB + 4096 * 3 + 512, [(MiB + 512, os.urandom(3 * MiB)),
                                                 (8 * MiB + 4096 * 3, b"tail" * 128)])
    qemu_img("convert", "-f", "raw", "-O", "qcow2", raw, src)
    dst = tmp_path / "d.raw"
    convert(vdisk, "-T", mode, "-O", "raw", src, dst)
    assert qemu_img("compare", "-f", "qcow2", "-F", "raw", src, dst).returncode == 0
    dst.unlink()
    convert(vdisk, "-T", mode, "-f", "raw", "-O", "raw", raw, dst)
    assert qemu_img("compare", "-f", "raw", "-F", "raw", raw, dst).returncode == 0


def test_quiet_and_progress_off_the_terminal(vdisk, sparse_src, tmp_path):
    p = convert(vdisk, "-q", "-p", "-O", "raw", sparse_src, tmp_path / "q.raw")
    assert p.stdout == "" and p.stderr == ""
    # -p on a pipe: no progress line (stdout is not a terminal here).
    p = convert(vdisk, "-p", "-O", "raw", sparse_src, tmp_path / "p.raw")
    assert p.stdout == ""


@pytest.mark.parametrize("args,culprit", [
    (["-O", "vpc9", "{src}", "{dst}"], "vpc9"),
    (["-f", "vpc9", "{src}", "{dst}"], "vpc9"),
    (["{missing}", "{dst}"], "missing.img"),
    (["-m", "0", "{src}", "{dst}"], "0"),
    (["-m", "abc", "{src}", "{dst}"], "abc"),
    (["-m", "17", "{src}", "{dst}"], "17"),
    (["-O", "qcow2", "-o", "frobnicate=1", "{src}", "{dst}"], "frobnicate"),
    (["-O", "raw", "-o", "preallocation=metadata", "{src}", "{dst}"], "metadata"),
    (["-t", "bogus", "{src}", "{dst}"], "bogus"),
    (["-T", "bogus2", "{src}", "{dst}"], "bogus2"),
    (["{src}"], ""),
], ids=["unknown-target-format", "unknown-source-format", "missing-source", "zero-workers",
        "bad-workers", "too-many-workers", "unknown-o-key", "raw-metadata", "bad-cache", "bad-source-cache",
        "no-target"])
def test_convert_errors(vdisk, qemu_img, sparse_src, tmp_path, args, culprit):
    argv = [a.format(src=sparse_src, dst=tmp_path / "dst.img", missing=tmp_path / "missing.img")
            for a in args]
    pq = qemu_img("convert", *argv, check=False)
    (tmp_path / "dst.img").unlink(missing_ok=True)
    pv = vdisk("convert", *argv, check=False)
    assert_no_crash(pv)
    assert pq.returncode == 1
    assert pv.returncode == 1
    assert pv.stderr.startswith("vdisk-virsh: ")
    assert culprit in pv.stderr
    assert not (tmp_path / "dst.img").exists()


def run_on_pty(argv):
    """Run argv with stdout on a pseudo-terminal; returns what it wrote."""
    import pty
    import subprocess
    try:
        master, slave = pty.openpty()
    except OSError as e:   # e.g. a chroot without /dev/pts mounted
        pytest.skip(f"no pseudo-terminal available: {e}")
    p = subprocess.Popen([str(a) for a in argv], stdout=slave, stderr=subprocess.PIPE)
    os.close(slave)
    out = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
    os.close(master)
    assert p.wait() == 0, p.stderr.read()
    return out.decode()


def test_progress_on_a_terminal_as_qemu_img(vdisk_bin, qemu_img_bin, sparse_src, tmp_path):
    got = run_on_pty([vdisk_bin, "convert", "-p", "-O", "raw", sparse_src, tmp_path / "v.raw"])
    want = run_on_pty([qemu_img_bin, "convert", "-p", "-O", "raw", sparse_src, tmp_path / "q.raw"])
    # Same drawing: "    (NN.NN/100%)" redrawn with CR, finished at 100% and a newline.
    draw = re.compile(r"^    \(\d{1,3}\.\d\d/100%\)$")
    for out in (got, want):
        frames = out.replace("\r\n", "\n").replace("\n", "\r").split("\r")
        frames = [f for f in frames if f]
        assert frames and all(draw.match(f) for f in frames), out
        assert frames[0] == "    (0.00/100%)"
        assert frames[-1] == "    (100.00/100%)"
