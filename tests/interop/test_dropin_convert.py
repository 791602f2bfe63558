"""qemu-img convert's options that vdisk-virsh gained for issue 19: -n,
--target-is-zero, --target-image-opts, -B/-F, -S, -r, --salvage on a
readable source, and the refusals of -C and --bitmaps (--salvage on a faulty
source: tests/cluster/test_convert_salvage.py).  Each runs the real qemu-img the same way and
compares exit status, messages, guest content (qemu-img compare) and
allocation (qemu-img map)."""
import json
import os

import pytest

from conftest import run

KiB = 1 << 10
MiB = 1 << 20


@pytest.fixture
def as_qemu_img(vdisk_bin, tmp_path):
    bindir = tmp_path / "bin"
    bindir.mkdir()
    os.symlink(vdisk_bin, bindir / "qemu-img")

    def _run(*args, check=True, **kw):
        return run([bindir / "qemu-img", *args], check=check, **kw)
    return _run


def tools(qemu_img, as_qemu_img):
    return (("q", qemu_img), ("v", as_qemu_img))


def qio(img, fmt, *cmds):
    args = ["qemu-io", "-f", fmt]
    for c in cmds:
        args += ["-c", c]
    run([*args, img])


def map_of(qemu_img, img, fmt):
    """Allocation of img's own layer as qemu-img map reports it."""
    ext = json.loads(qemu_img("map", "--output=json", "-f", fmt, img).stdout)
    return [(e["start"], e["length"], e["depth"], e["zero"], e["data"]) for e in ext]


@pytest.fixture
def src(qemu_img, tmp_path):
    """A 4 MiB qcow2 source: data, an explicit zero range, holes."""
    f = tmp_path / "src.qcow2"
    qemu_img("create", "-q", "-f", "qcow2", f, "4M")
    qio(f, "qcow2", "write -P 0x11 0 1M", "write -z 1M 1M", "write -P 0x22 3M 64k")
    return f


def test_convert_n_writes_into_existing_target(qemu_img, as_qemu_img, src, tmp_path):
    maps = {}
    for name, tool in tools(qemu_img, as_qemu_img):
        dst = tmp_path / f"{name}.qcow2"
        qemu_img("create", "-q", "-f", "qcow2", dst, "8M")
        qio(dst, "qcow2", "write -P 0x55 0 4M", "write -P 0x66 6M 1M")
        tool("convert", "-n", "-O", "qcow2", src, dst)
        maps[name] = map_of(qemu_img, dst, "qcow2")
        # the source's range reads as the source; beyond it the old data stays
        qemu_img("compare", "-f", "qcow2", "-F", "qcow2", src, dst, check=False)
        out = run(["qemu-io", "-f", "qcow2", "-c", "read -P 0 1M 2M", "-c", "read -P 0x66 6M 1M",
                   "-c", "read -P 0x22 3M 64k", dst]).stdout
        assert "Pattern verification failed" not in out
    assert maps["v"] == maps["q"]


def test_convert_n_target_is_zero(qemu_img, as_qemu_img, src, tmp_path):
    maps = {}
    for name, tool in tools(qemu_img, as_qemu_img):
        dst = tmp_path / f"{name}.raw"
        qemu_img("create", "-q", "-f", "raw", dst, "4M")
        tool("convert", "-n", "--target-is-zero", "-O", "raw", src, dst)
        qemu_img("compare", "-f", "qcow2", "-F", "raw", src, dst)
        maps[name] = map_of(qemu_img, dst, "raw")
    assert maps["v"] == maps["q"]


def test_target_image_opts(qemu_img, as_qemu_img, src, tmp_path):
    for name, tool in tools(qemu_img, as_qemu_img):
        dst = tmp_path / f"{name}.qcow2"
        qemu_img("create", "-q", "-f", "qcow2", dst, "4M")
        tool("convert", "-n", "--target-image-opts", src, f"driver=qcow2,file.filename={dst}")
        qemu_img("compare", "-f", "qcow2", "-F", "qcow2", src, dst)


@pytest.mark.parametrize("args, message", [
    (["-n", "-o", "cluster_size=4k"], "-o has no effect when skipping image creation"),
    (["--target-is-zero"], "--target-is-zero requires use of -n flag"),
    (["--target-image-opts"], "--target-image-opts requires use of -n flag"),
    (["-B", "base.qcow2"], "Use of backing file requires explicit backing format"),
    (["-S", "1000"], "Invalid buffer size for sparse output specified. Valid sizes are "
                     "multiples of 512 up to "),
])
def test_refusals_as_qemu_img(qemu_img, as_qemu_img, src, tmp_path, args, message):
    qemu_img("create", "-q", "-f", "qcow2", tmp_path / "base.qcow2", "4M")
    for name, tool in tools(qemu_img, as_qemu_img):
        dst = tmp_path / f"{name}.qcow2"
        p = tool("convert", "-O", "qcow2", *args, src, dst, check=False, cwd=tmp_path)
        assert p.returncode == 1, (name, p.stderr)
        assert p.stderr.startswith(f"qemu-img: {message}"), (name, p.stderr)
        assert not dst.exists()


def test_convert_n_smaller_target(qemu_img, as_qemu_img, src, tmp_path):
    for name, tool in tools(qemu_img, as_qemu_img):
        dst = tmp_path / f"{name}.raw"
        qemu_img("create", "-q", "-f", "raw", dst, "1M")
        p = tool("convert", "-n", src, dst, check=False)
        assert p.returncode == 1
        assert "output file is smaller than input file" in p.stderr
        assert dst.exists() and dst.stat().st_size == MiB


def test_convert_backing_copies_only_top_layer(qemu_img, as_qemu_img, tmp_path):
    base = tmp_path / "base.qcow2"
    qemu_img("create", "-q", "-f", "qcow2", base, "4M")
    qio(base, "qcow2", "write -P 0x01 0 4M")
    top = tmp_path / "top.qcow2"
    qemu_img("create", "-q", "-f", "qcow2", "-b", base, "-F", "qcow2", top)
    qio(top, "qcow2", "write -P 0x02 1M 64k", "write -z 2M 128k")
    maps = {}
    for name, tool in tools(qemu_img, as_qemu_img):
        dst = tmp_path / f"{name}.qcow2"
        tool("convert", "-O", "qcow2", "-B", base, "-F", "qcow2", top, dst)
        info = json.loads(qemu_img("info", "--output=json", dst).stdout)
        assert info["backing-filename"] == str(base)
        qemu_img("compare", "-f", "qcow2", "-F", "qcow2", top, dst)
        maps[name] = map_of(qemu_img, dst, "qcow2")
    assert maps["v"] == maps["q"]


@pytest.mark.parametrize("sparse", ["0", "64k", "4k"])
def test_sparse_size(qemu_img, as_qemu_img, tmp_path, sparse):
    src = tmp_path / "src.raw"
    with open(src, "wb") as f:
        f.truncate(2 * MiB)
        f.seek(0)
        f.write(b"\x07" * 4 * KiB)          # data, then 60 KiB of zeros in that 64 KiB
        f.seek(256 * KiB)
        f.write(bytes(128 * KiB))           # written zeros
        f.seek(MiB + 8 * KiB)
        f.write(b"\x09" * 512)
    maps = {}
    for name, tool in tools(qemu_img, as_qemu_img):
        dst = tmp_path / f"{name}.raw"
        tool("convert", "-f", "raw", "-O", "raw", "-S", sparse, src, dst)
        qemu_img("compare", "-f", "raw", "-F", "raw", src, dst)
        maps[name] = map_of(qemu_img, dst, "raw")
    assert maps["v"] == maps["q"]


def test_rate_limit_copies_everything(qemu_img, as_qemu_img, src, tmp_path):
    dst = tmp_path / "v.qcow2"
    as_qemu_img("convert", "-r", "64M", "-O", "qcow2", src, dst)
    qemu_img("compare", "-f", "qcow2", "-F", "qcow2", src, dst)
    p = as_qemu_img("convert", "-r", "fast", "-O", "qcow2", src, tmp_path / "x.qcow2", check=False)
    pq = qemu_img("convert", "-r", "fast", "-O", "qcow2", src, tmp_path / "y.qcow2", check=False)
    assert p.returncode == pq.returncode == 1
    assert "rate limit" in p.stderr and "rate limit" in pq.stderr


def test_salvage_on_a_readable_source(as_qemu_img, qemu_img, src, tmp_path):
    # nothing to salvage: the same copy as without it, no warning
    p = as_qemu_img("convert", "--salvage", "-O", "qcow2", src, tmp_path / "v.qcow2")
    assert p.stderr == ""
    qemu_img("compare", src, tmp_path / "v.qcow2")


@pytest.mark.parametrize("opt", ["-C", "--bitmaps"])
def test_unsupported_refused(as_qemu_img, src, tmp_path, opt):
    dst = tmp_path / "dst.qcow2"
    p = as_qemu_img("convert", opt, "-O", "qcow2", src, dst, check=False)
    assert p.returncode == 1
    assert p.stderr.startswith("qemu-img: ") and "not supported" in p.stderr
    assert not dst.exists()


@pytest.mark.parametrize("out_fmt", ["qcow2", "raw"])
def test_progress_output(qemu_img, as_qemu_img, tmp_path, out_fmt):
    """-p as qemu-img prints it on a pipe: over the data to copy, a last
    100.00 twice (QEMU's iotest 086)."""
    src = tmp_path / "src.qcow2"
    qemu_img("create", "-q", "-f", "qcow2", src, "64M")
    qio(src, "qcow2", "write 0 1M", "write 2M 1M", "write 4M 1M", "write 32M 1M")
    outs = {}
    for name, tool in tools(qemu_img, as_qemu_img):
        p = tool("convert", "-p", "-f", "qcow2", "-O", out_fmt, src, tmp_path / f"{name}.img")
        outs[name] = p.stdout
    assert outs["v"] == outs["q"]
    assert "(25.00/100%)" in outs["q"]
