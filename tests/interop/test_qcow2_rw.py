"""qcow2 reads and writes, both directions, with qemu-img / qemu-io as the
oracle.

- QEMU writes an image (every creation option, unaligned data, zero writes,
  discards, compressed clusters); vdisk must read back exactly what
  `qemu-img convert -O raw` reads.
- vdisk writes an image with the same operations; it must pass
  `qemu-img check` and compare equal to a raw file that qemu-io wrote with
  the same operations.
"""
import filecmp
import os
import random
import re
import struct
import zlib

import pytest

from conftest import run

SIZE = 64 << 20


def cmds(ops):
    out = []
    for op in ops:
        out += ["-c", op]
    return out


def workload(seed, size=SIZE, discards=True):
    """Writes at unaligned offsets, zero writes (with and without unmap),
    discards, a few large writes; deterministic for a seed.  (QEMU's qcow2
    discard leaves partial clusters alone, so a workload QEMU applies to a
    qcow2 image that is compared with a raw oracle has none.)"""
    rng = random.Random(seed)
    ops = []
    for i in range(40):
        kind = rng.choice(["w", "w", "w", "W", "z", "zu"] + (["d"] if discards else []))
        if kind == "W":
            length = rng.randint(1, 6) << 20
        else:
            length = rng.randint(1, 300_000)
        off = rng.randrange(0, size - length)
        pat = 1 + (i % 250)
        if kind in ("w", "W"):
            ops.append(f"write -P {pat} {off} {length}")
        elif kind == "z":
            ops.append(f"write -z {off} {length}")
        elif kind == "zu":
            ops.append(f"write -z -u {off} {length}")
        else:
            ops.append(f"discard {off} {length}")
    # The end of the image, unaligned, and the very first bytes.
    ops.append(f"write -P 0xee {size - 777} 777")
    ops.append("write -P 0xab 3 5")
    return ops


def raw_oracle(tmp_path, qemu_io, ops, name="oracle.raw", base=None):
    """What the guest should see after ops: qemu-io on a raw file."""
    path = tmp_path / name
    if base:
        run(["cp", "--sparse=always", base, path])
    else:
        with open(path, "wb") as f:
            f.truncate(SIZE)
    qemu_io("-f", "raw", *cmds(ops), path)
    return path


def assert_same_content(qemu_img, image, oracle, fmt="qcow2"):
    p = qemu_img("compare", "-f", fmt, "-F", "raw", image, oracle, check=False)
    assert p.returncode == 0, p.stdout + p.stderr


def assert_clean(qemu_img, image):
    p = qemu_img("check", image, check=False)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "No errors were found" in p.stdout, p.stdout


def vdisk_export(vio, image, out, fmt="qcow2"):
    vio("-f", fmt, "-r", image, "-c", f"export {out}")


CREATE_OPTS = [
    "cluster_size=512",
    "cluster_size=4k",
    "cluster_size=64k",
    "cluster_size=2M",
    "compat=0.10",
    "compat=0.10,cluster_size=4k",
    "refcount_bits=1,cluster_size=4k",
    "refcount_bits=2",
    "refcount_bits=4,cluster_size=1k",
    "refcount_bits=8",
    "refcount_bits=32",
    "refcount_bits=64,cluster_size=512",
    "lazy_refcounts=on",
    "extended_l2=on",
    "extended_l2=on,cluster_size=128k",
    "extended_l2=on,cluster_size=16k",
    "extended_l2=on,cluster_size=2M",
    "compression_type=zstd",
    "preallocation=metadata",
    "preallocation=falloc",
    "preallocation=full,cluster_size=1M",
    "preallocation=metadata,extended_l2=on,cluster_size=32k",
]


@pytest.mark.parametrize("opts", CREATE_OPTS)
def test_qemu_writes_vdisk_reads(tmp_path, qemu_img, qemu_io, vio, opts):
    img = tmp_path / "q.qcow2"
    qemu_img("create", "-q", "-f", "qcow2", "-o", opts, img, str(SIZE))
    qemu_io("-f", "qcow2", *cmds(workload(zlib.crc32(opts.encode()) & 0xffff)), img)
    expect = tmp_path / "expect.raw"
    qemu_img("convert", "-O", "raw", img, expect)
    got = tmp_path / "got.raw"
    vdisk_export(vio, img, got)
    assert filecmp.cmp(expect, got, shallow=False)


@pytest.mark.parametrize("opts", CREATE_OPTS)
def test_vdisk_writes_qemu_reads(tmp_path, qemu_img, qemu_io, vio, opts):
    ops = workload(0x5eed ^ (zlib.crc32(opts.encode()) & 0xffff))
    img = tmp_path / "v.qcow2"
    vio("create", "-f", "qcow2", "-o", opts, img, str(SIZE))
    vio("-f", "qcow2", img, *cmds(ops))
    assert_clean(qemu_img, img)
    oracle = raw_oracle(tmp_path, qemu_io, ops)
    assert_same_content(qemu_img, img, oracle)
    # And vdisk reads its own image back identically.
    got = tmp_path / "got.raw"
    vdisk_export(vio, img, got)
    assert_same_content(qemu_img, got, oracle, fmt="raw")


def test_vdisk_writes_then_qemu_writes_then_vdisk(tmp_path, qemu_img, qemu_io, vio):
    """Alternate writers on one image: each must understand the other's
    allocations."""
    img = tmp_path / "mix.qcow2"
    vio("create", "-f", "qcow2", img, str(SIZE))
    ops1, ops2, ops3 = workload(1), workload(2, discards=False), workload(3)
    vio("-f", "qcow2", img, *cmds(ops1))
    qemu_io("-f", "qcow2", *cmds(ops2), img)
    vio("-f", "qcow2", img, *cmds(ops3))
    assert_clean(qemu_img, img)
    oracle = raw_oracle(tmp_path, qemu_io, ops1 + ops2 + ops3)
    assert_same_content(qemu_img, img, oracle)


@pytest.mark.parametrize("ctype", ["zlib", "zstd"])
@pytest.mark.parametrize("cluster", ["4k", "64k", "2M"])
def test_qemu_compressed_vdisk_reads(tmp_path, qemu_img, qemu_io, vio, ctype, cluster):
    src = tmp_path / "src.raw"
    with open(src, "wb") as f:
        f.truncate(SIZE)
    rng = random.Random(7)
    ops = []
    for i in range(30):
        off = rng.randrange(0, SIZE - 200_000)
        ops.append(f"write -P {i + 1} {off} {rng.randint(1, 200_000)}")
    qemu_io("-f", "raw", *cmds(ops), src)
    # Incompressible data too: stored uncompressed by the writer.
    with open(src, "r+b") as f:
        f.seek(5 << 20)
        f.write(random.Random(3).randbytes(300_000))
    img = tmp_path / "c.qcow2"
    qemu_img("convert", "-c", "-O", "qcow2", "-o",
             f"compression_type={ctype},cluster_size={cluster}", src, img)
    got = tmp_path / "got.raw"
    vdisk_export(vio, img, got)
    assert filecmp.cmp(src, got, shallow=False)
    # Overwrite parts of compressed clusters: COW from the compressed data.
    more = [f"write -P 0x77 {(1 << 20) + 333} 5000", f"write -z {(2 << 20) + 100} 70000",
            f"discard {3 << 20} {1 << 20}"]
    vio("-f", "qcow2", img, *cmds(more))
    assert_clean(qemu_img, img)
    qemu_io("-f", "raw", *cmds(more), src)
    assert_same_content(qemu_img, img, src)


@pytest.mark.parametrize("opts", ["compression_type=zlib", "compression_type=zstd",
                                  "compression_type=zlib,cluster_size=512",
                                  "compression_type=zstd,extended_l2=on"])
def test_vdisk_compressed_qemu_reads(tmp_path, qemu_img, qemu_io, vio, opts):
    img = tmp_path / "c.qcow2"
    vio("create", "-f", "qcow2", "-o", opts, img, str(SIZE))
    info = qemu_img("info", "--output=json", img).stdout
    cs = 512 if "cluster_size=512" in opts else 65536
    ops = [f"write -c -P 0x{i + 1:x} {i * 3 * cs} {2 * cs}" for i in range(20)]
    ops.append(f"write -c -P 0x55 {SIZE - cs} {cs}")
    vio("-f", "qcow2", img, *cmds(ops))
    assert_clean(qemu_img, img)
    check = qemu_img("check", img).stdout
    m = re.search(r"([0-9.]+)% compressed clusters", check)
    assert m and float(m.group(1)) > 90, check
    oracle = raw_oracle(tmp_path, qemu_io, [o.replace("-c ", "") for o in ops])
    assert_same_content(qemu_img, img, oracle)
    assert '"compression-type": "%s"' % ("zstd" if "zstd" in opts else "zlib") in info


@pytest.mark.parametrize("base_fmt", ["raw", "qcow2"])
@pytest.mark.parametrize("opts", ["", "compat=0.10", "extended_l2=on,cluster_size=128k",
                                  "cluster_size=4k", "cluster_size=2M"])
def test_backing_chain_cow(tmp_path, qemu_img, qemu_io, vio, base_fmt, opts):
    """Partial-cluster writes to an overlay copy the rest from the backing
    file; zero writes and discards hide the backing data."""
    base = tmp_path / f"base.{base_fmt}"
    qemu_img("create", "-q", "-f", base_fmt, base, str(SIZE))
    base_ops = [f"write -P {i + 1} {i * 1_000_003 % (SIZE - 2_000_000)} 1500000" for i in range(40)]
    qemu_io("-f", base_fmt, *cmds(base_ops), base)
    base_raw = tmp_path / "base_content.raw"
    qemu_img("convert", "-f", base_fmt, "-O", "raw", base, base_raw)

    top = tmp_path / "top.qcow2"
    o = f"backing_file={base.name},backing_fmt={base_fmt}" + ("," + opts if opts else "")
    vio("create", "-f", "qcow2", "-o", o, top)
    ops = workload(11)
    vio("-f", "qcow2", top, *cmds(ops))
    assert_clean(qemu_img, top)
    oracle = raw_oracle(tmp_path, qemu_io, ops, base=base_raw)
    assert_same_content(qemu_img, top, oracle)
    got = tmp_path / "got.raw"
    vdisk_export(vio, top, got)
    assert filecmp.cmp(got, oracle, shallow=False)
    info = qemu_img("info", "--output=json", top).stdout
    assert f'"backing-filename-format": "{base_fmt}"' in info


def test_qemu_overlay_chain_vdisk_reads(tmp_path, qemu_img, qemu_io, vio):
    """Three-level chain written by QEMU, overlay smaller than nothing:
    the backing file shorter than the overlay reads zeros past its end."""
    a, b, c = (tmp_path / n for n in ("a.qcow2", "b.qcow2", "c.qcow2"))
    qemu_img("create", "-q", "-f", "qcow2", a, str(SIZE // 2))
    qemu_io("-f", "qcow2", *cmds(workload(21, SIZE // 2)), a)
    qemu_img("create", "-q", "-f", "qcow2", "-o", "extended_l2=on",
             "-b", a.name, "-F", "qcow2", b, str(SIZE))
    qemu_io("-f", "qcow2", *cmds(workload(22)), b)
    qemu_img("create", "-q", "-f", "qcow2", "-o", "compat=0.10", "-b", b.name, "-F", "qcow2", c)
    qemu_io("-f", "qcow2", *cmds(workload(23)), c)
    expect = tmp_path / "expect.raw"
    qemu_img("convert", "-O", "raw", c, expect)
    got = tmp_path / "got.raw"
    vdisk_export(vio, c, got)
    assert filecmp.cmp(expect, got, shallow=False)


def test_lazy_refcounts_dirty_bit(tmp_path, qemu_img, qemu_io, vio):
    img = tmp_path / "lazy.qcow2"
    vio("create", "-f", "qcow2", "-o", "lazy_refcounts=on", img, str(SIZE))
    ops = workload(31)
    vio("-f", "qcow2", img, *cmds(ops))
    # Cleanly closed: the dirty bit is clear again and refcounts are exact.
    with open(img, "rb") as f:
        hdr = f.read(104)
    assert struct.unpack(">Q", hdr[72:80])[0] & 1 == 0
    assert_clean(qemu_img, img)
    info = qemu_img("info", "--output=json", img).stdout
    assert '"lazy-refcounts": true' in info
    assert_same_content(qemu_img, img, raw_oracle(tmp_path, qemu_io, ops))


def test_large_sequential_write_is_contiguous(tmp_path, qemu_img, vio):
    """A multi-cluster write into fresh clusters lands in one host run."""
    img = tmp_path / "seq.qcow2"
    vio("create", "-f", "qcow2", img, str(SIZE))
    vio("-f", "qcow2", img, "-c", "write -P 0x42 0 32M")
    m = qemu_img("map", "--output=json", img).stdout
    data = [line for line in m.splitlines() if '"data": true' in line]
    assert len(data) == 1, m
    assert '"length": 33554432' in data[0], m


def test_discard_frees_and_punches(tmp_path, qemu_img, vio):
    img = tmp_path / "d.qcow2"
    vio("create", "-f", "qcow2", img, str(SIZE))
    vio("-f", "qcow2", img, "-c", "write -P 0x42 0 32M", "-c", "flush")
    before = os.stat(img).st_blocks
    vio("-f", "qcow2", img, "-c", "discard 0 32M", "-c", "read -P 0 0 32M")
    after = os.stat(img).st_blocks
    assert after * 512 < before * 512 - (30 << 20)
    assert_clean(qemu_img, img)
    # Freed clusters are reused by the next write instead of growing the file.
    size_before = os.stat(img).st_size
    vio("-f", "qcow2", img, "-c", "write -P 0x43 0 16M")
    assert os.stat(img).st_size == size_before
    assert_clean(qemu_img, img)


def test_refcount_table_grows(tmp_path, qemu_img, qemu_io, vio):
    """512-byte clusters with 64-bit refcounts: a refcount block covers
    32 KiB, one table cluster 2 MiB, so a 40 MiB image outgrows the
    table many times."""
    img = tmp_path / "g.qcow2"
    vio("create", "-f", "qcow2", "-o", "cluster_size=512,refcount_bits=64", img, str(SIZE))
    ops = [f"write -P {i + 1} {i * (1 << 20) + 7} {1 << 20}" for i in range(40)]
    vio("-f", "qcow2", img, *cmds(ops))
    assert_clean(qemu_img, img)
    assert_same_content(qemu_img, img, raw_oracle(tmp_path, qemu_io, ops))


def test_direct_io(tmp_path, qemu_img, qemu_io, vio):
    img = tmp_path / "o.qcow2"
    vio("create", "-f", "qcow2", img, str(SIZE))
    ops = workload(41)
    vio("-f", "qcow2", "-t", "none", img, *cmds(ops))
    assert_clean(qemu_img, img)
    assert_same_content(qemu_img, img, raw_oracle(tmp_path, qemu_io, ops))


def test_internal_snapshot_survives_writes(tmp_path, qemu_img, qemu_io, vio):
    """Clusters and L2 tables shared with a QEMU snapshot are copied, not
    overwritten, and their refcounts stay exact."""
    img = tmp_path / "sn.qcow2"
    qemu_img("create", "-q", "-f", "qcow2", img, str(SIZE))
    qemu_io("-f", "qcow2", "-c", "write -P 1 0 8M", "-c", "write -c -P 2 16M 1M", img)
    qemu_img("snapshot", "-c", "snap1", img)
    before = tmp_path / "before.raw"
    qemu_img("convert", "-O", "raw", img, before)
    ops = ["write -P 9 1000 100000", "write -P 8 16M 70000", "write -z 4M 1M",
           "discard 6M 64k", "write -P 7 7M 2M"]
    vio("-f", "qcow2", img, *cmds(ops))
    assert_clean(qemu_img, img)
    snap = tmp_path / "snap.raw"
    qemu_img("convert", "-O", "raw", "-l", "snapshot.name=snap1", img, snap)
    assert filecmp.cmp(snap, before, shallow=False)
    expect = tmp_path / "expect.raw"
    run(["cp", before, expect])
    qemu_io("-f", "raw", *cmds(ops), expect)
    assert_same_content(qemu_img, img, expect)


@pytest.mark.parametrize("opts", ["cluster_size=4k", "cluster_size=512,refcount_bits=64",
                                  "extended_l2=on,cluster_size=32k"])
def test_killed_writer_leaves_only_leaks(tmp_path, qemu_img, vdisk_io_bin, opts):
    """Metadata goes out in dependency order: wherever the writer dies, the
    image has at worst leaked clusters (qemu-img check exit 0 or 3)."""
    import signal
    import subprocess
    import time
    rng = random.Random(opts)
    size = 1 << 30
    ops = []   # vdisk-io takes at most 256 commands: few, large ones
    for i in range(200):
        ops.append(f"write -P {i % 250 + 1} {rng.randrange(0, size - (3 << 20))} "
                   f"{rng.randint(1 << 20, 3 << 20)}")
        if i % 5 == 0:
            ops.append(f"discard {rng.randrange(0, size - (2 << 20))} {2 << 20}")
    for delay in (0.02, 0.1, 0.3):
        img = tmp_path / f"k{delay}.qcow2"
        run([vdisk_io_bin, "create", "-f", "qcow2", "-o", opts, img, str(size)])
        p = subprocess.Popen([str(vdisk_io_bin), "-f", "qcow2", str(img), *cmds(ops)],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(delay)
        p.send_signal(signal.SIGKILL)
        p.wait()
        c = qemu_img("check", img, check=False)
        assert c.returncode in (0, 3), c.stdout + c.stderr
        assert "ERROR" not in c.stdout, c.stdout
        img.unlink()
