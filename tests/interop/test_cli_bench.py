"""vdisk-virsh bench: qemu-img bench's header line and defaults, what the
write modes leave in the image (checked byte for byte), errors.  No timing
assertions: speed is bench/'s business."""
import os
import re
import shutil

import pytest

from cli_common import assert_no_crash, write_sparse  # noqa: F401
from conftest import run

MiB = 1 << 20
DONE = re.compile(r"^Run completed in \d+\.\d{3} seconds\.$")
IOPS = re.compile(r"^IOPS: \d+ \(\d+\.\d\d MiB/s\)$")


def bench(vdisk, *args):
    p = vdisk("bench", *args, check=False)
    assert_no_crash(p)
    assert p.returncode == 0, p.stderr
    return p.stdout.splitlines()


@pytest.fixture
def img(tmp_path):
    f = tmp_path / "b.raw"
    write_sparse(f, 4 * MiB, [(0, os.urandom(MiB))])
    return f


@pytest.mark.parametrize("args", [
    [],
    ["-c", "1000", "-d", "8"],
    ["-c", "300", "-d", "1", "-s", "512", "-S", "8k", "-o", "1M"],
    ["-w", "-c", "200", "-d", "4", "-s", "64k"],
], ids=["defaults", "count-depth", "size-step-offset", "write"])
def test_header_as_qemu_img(vdisk, qemu_img, img, args):
    want = qemu_img("bench", "-f", "raw", *args, img).stdout.splitlines()
    got = bench(vdisk, "-f", "raw", *args, img)
    assert got[0] == want[0]
    assert DONE.match(got[1])
    assert IOPS.match(got[2])


def test_sequential_write_content(vdisk, qemu_img, tmp_path):
    """Same requests as qemu-img bench -w --pattern=BYTE: same image."""
    fv, fq = tmp_path / "v.raw", tmp_path / "q.raw"
    for f in (fv, fq):
        write_sparse(f, 2 * MiB, [])
    args = ["-w", "-c", "40", "-d", "7", "-s", "8k", "-S", "24k", "-o", "4k"]
    qemu_img("bench", "-f", "raw", *args, "--pattern=0xab", fq)
    bench(vdisk, "-f", "raw", *args, "--pattern", "0xab", fv)
    assert fv.read_bytes() == fq.read_bytes()
    # From first principles: 40 requests of 8 KiB every 24 KiB from 4 KiB.
    data = fv.read_bytes()
    for i in range(40):
        off = (4096 + i * 24576) % (2 * MiB)
        assert data[off:off + 8192] == b"\xab" * 8192


def test_sequential_wraps_at_the_end(vdisk, qemu_img, tmp_path):
    fv, fq = tmp_path / "v.raw", tmp_path / "q.raw"
    for f in (fv, fq):
        write_sparse(f, 64 * 1024, [])
    args = ["-w", "-c", "40", "-d", "3", "-s", "4k", "-S", "12k"]
    qemu_img("bench", "-f", "raw", *args, "--pattern=7", fq)
    bench(vdisk, "-f", "raw", *args, "--fill", "7", fv)
    assert fv.read_bytes() == fq.read_bytes()


def test_random_writes_aligned_and_reproducible(vdisk, tmp_path):
    size, bs = 4 * MiB, 4096
    files = []
    for name, seed in (("a", "1"), ("b", "1"), ("c", "2")):
        f = tmp_path / f"{name}.raw"
        write_sparse(f, size, [])
        lines = bench(vdisk, "-f", "raw", "-w", "--pattern", "random", "--fill", "0xcd",
                      "--seed", seed, "-c", "64", "-d", "5", "-s", str(bs), f)
        assert "random" in lines[0]
        files.append(f.read_bytes())
    a, b, c = files
    assert a == b          # same seed, same offsets, whatever the thread order
    assert a != c          # another seed, other offsets
    written = 0
    for off in range(0, size, bs):
        block = a[off:off + bs]
        assert block in (bytes(bs), b"\xcd" * bs)   # whole aligned blocks only
        written += block != bytes(bs)
    assert 1 < written <= 64


def test_direct_io(vdisk, img):
    lines = bench(vdisk, "-f", "raw", "-t", "none", "-c", "500", "-d", "16", img)
    assert DONE.match(lines[1])


def test_qcow2(vdisk, qemu_img, qemu_io, tmp_path):
    f = tmp_path / "b.qcow2"
    qemu_img("create", "-q", "-f", "qcow2", f, "16M")
    bench(vdisk, "-w", "-c", "256", "-d", "8", "--fill", "0x3c", f)
    qemu_img("check", f)
    qemu_io("-f", "qcow2", "-c", "read -P 0x3c 0 1M", f)


@pytest.mark.parametrize("args,culprit", [
    (["-c", "abc"], "abc"),
    (["-d", "x"], "x"),
    (["-d", "0"], "depth"),
    (["-s", "12Q"], "12Q"),
    (["-t", "bogus"], "bogus"),
    (["--pattern", "zigzag"], "zigzag"),
    (["-o", "5M"], "small"),
    (["--flush-interval", "4"], "write"),
], ids=["count", "depth", "zero-depth", "size", "cache", "pattern", "offset-past-end",
        "flush-without-write"])
def test_bench_errors(vdisk, img, args, culprit):
    p = vdisk("bench", "-f", "raw", *args, img, check=False)
    assert p.returncode == 1
    assert p.stderr.startswith("vdisk-virsh: ")
    assert culprit in p.stderr


def test_missing_file(vdisk, tmp_path):
    p = vdisk("bench", tmp_path / "none.img", check=False)
    assert p.returncode == 1
    assert "none.img" in p.stderr


# -n / -i: qemu-img's checks (as its oracle), then threads only.
@pytest.mark.parametrize("args", [
    ["-i", "foo"], ["-n"], ["-i", "native"],
    ["-w", "--flush-interval", "2"],           # smaller than the default depth 64
    ["-w", "-d", "4", "--flush-interval", "2", "--no-drain"],
])
def test_aio_and_flush_refusals_as_qemu_img(as_qemu_img, qemu_img, img, args):
    pq = qemu_img("bench", "-f", "raw", "-c", "10", *args, img, check=False)
    pv = as_qemu_img("bench", "-f", "raw", "-c", "10", *args, img, check=False)
    assert pq.returncode == 1
    assert (pv.returncode, pv.stdout, pv.stderr) == (pq.returncode, pq.stdout, pq.stderr)


@pytest.mark.parametrize("args", [["-t", "none", "-n"], ["-t", "none", "-i", "native"],
                                  ["-i", "io_uring"]])
def test_aio_engines_vdisk_lacks_are_refused(vdisk, img, args):
    p = vdisk("bench", "-f", "raw", "-c", "10", *args, img, check=False)
    assert p.returncode == 1 and p.stdout == ""
    assert "not implemented" in p.stderr and "threads" in p.stderr


def test_aio_threads(vdisk, qemu_img, img):
    want = qemu_img("bench", "-f", "raw", "-c", "10", "-i", "threads", img).stdout.splitlines()
    got = bench(vdisk, "-f", "raw", "-c", "10", "-i", "threads", img)
    assert got[0] == want[0] and DONE.match(got[1])


def syscalls(path):
    """(pid, call, phase) from strace -f output: phase 'start', 'end' or 'both'."""
    out = []
    for line in open(path):
        m = re.match(r"(\d+)\s+(?:<\.\.\. (\w+) resumed>|(\w+)\()", line)
        if not m:
            continue
        pid, resumed, call = int(m.group(1)), m.group(2), m.group(3)
        if resumed:
            out.append((pid, resumed, "end"))
        else:
            out.append((pid, call, "start" if "<unfinished" in line else "both"))
    return out


# --flush-interval: by default each flush waits for the writes before it
# and no write starts before it is done; --no-drain lets them run beside.
@pytest.mark.parametrize("drain", [True, False])
def test_flush_drain(vdisk_bin, tmp_path, drain):
    if not shutil.which("strace"):
        pytest.skip("strace is not installed")
    f = tmp_path / "d.raw"
    write_sparse(f, 4 * MiB, [])
    trace = tmp_path / "trace"
    args = ["-f", "raw", "-w", "-c", "96", "-d", "4", "--flush-interval", "8"]
    p = run(["strace", "-f", "-o", str(trace), "-e", "trace=pwrite64,pwritev,fdatasync,fsync",
             str(vdisk_bin), "bench", *args, *([] if drain else ["--no-drain"]), str(f)])
    assert "Sending flush every 8 requests" in p.stdout
    writes_done = in_flight = flushes = 0
    flushing = False
    for pid, call, phase in syscalls(trace):
        if call.startswith("pwrite"):
            if phase in ("start", "both"):
                if drain:
                    assert not flushing, "a write started during a drained flush"
                in_flight += 1
            if phase in ("end", "both"):
                in_flight -= 1
                writes_done += 1
        elif call in ("fdatasync", "fsync"):
            if phase in ("start", "both"):
                flushes += 1
                if drain and writes_done < 96:
                    assert in_flight == 0 and writes_done % 8 == 0, (writes_done, in_flight)
                flushing = phase == "start"
            else:
                flushing = False
    assert writes_done == 96
    assert flushes >= 96 // 8 - 1
