"""inflate, eagerzero, sparsify and map --bar/--picture against QEMU's
tools and the kernel.

Every transition keeps the guest's view (qemu-img compare against a copy
taken before) and leaves a clean image (qemu-img check); where the space
went is judged by the kernel (FIEMAP through fiemap_common.py, st_blocks)
and by qemu-img map, never by vdisk's own report.  Images QEMU holds open
(qemu-io) are refused and left untouched.
"""
import hashlib
import json
import os
import shutil
import subprocess

import pytest

from cli_common import allocated_bytes
from conftest import run
from fiemap_common import host_kinds, supported
from test_locking import IN_USE, qemu_io_holder

MiB = 1 << 20


@pytest.fixture(autouse=True)
def needs_fiemap(tmp_path):
    probe = tmp_path / "probe"
    probe.write_bytes(b"x")
    if not supported(probe):
        pytest.skip("the test directory's file system has no FIEMAP")


def sha(path):
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


def qmap(qemu_img, path):
    return json.loads(qemu_img("map", "--output", "json", path).stdout)


def qmap_bytes(entries, **want):
    return sum(e["length"] for e in entries if all(e.get(k) == v for k, v in want.items()))


def check_and_compare(qemu_img, ref, img):
    if str(img).endswith(".qcow2"):     # raw has no metadata to check
        qemu_img("check", "-q", img)
    qemu_img("compare", "-q", ref, img)


def vjson(vdisk, *args):
    return json.loads(vdisk(*args, "--output", "json").stdout)


# ---- raw ---------------------------------------------------------------

def make_raw(tmp_path, qemu_io):
    img = tmp_path / "d.raw"
    with open(img, "wb") as f:
        f.truncate(64 * MiB)
    qemu_io("-f", "raw", "-c", "write -P 0x5a 4M 2M", "-c", "write -P 0 16M 1M", img)
    ref = tmp_path / "ref.raw"
    shutil.copyfile(img, ref)
    return img, ref


def test_raw_thin_lazy_eager_thin(tmp_path, vdisk, qemu_img, qemu_io):
    img, ref = make_raw(tmp_path, qemu_io)
    holes = host_kinds(img)["hole"]
    assert holes == 61 * MiB
    out = vjson(vdisk, "inflate", img)
    k = host_kinds(img)
    assert k == {"hole": 0, "unwritten": holes, "data": 3 * MiB}
    assert out["changed"] == holes
    check_and_compare(qemu_img, ref, img)
    out = vjson(vdisk, "eagerzero", img)
    assert host_kinds(img) == {"hole": 0, "unwritten": 0, "data": 64 * MiB}
    assert out["zeroed"] == holes
    check_and_compare(qemu_img, ref, img)
    # Written zeros only go with --zero-detect; the 1 MiB of zeros written
    # by qemu-io goes too, the 2 MiB of data stays.
    assert vjson(vdisk, "sparsify", img)["changed"] == 0
    vjson(vdisk, "sparsify", "--zero-detect", img)
    assert host_kinds(img) == {"hole": 62 * MiB, "unwritten": 0, "data": 2 * MiB}
    # st_blocks also counts the file system's own extent-tree blocks.
    assert 2 * MiB <= allocated_bytes(img) <= 2 * MiB + 64 * 1024
    check_and_compare(qemu_img, ref, img)
    # qemu-img map agrees: data only where the 0x5a bytes are.
    entries = qmap(qemu_img, img)
    assert qmap_bytes(entries, data=True) == 2 * MiB


def test_raw_inflate_eager_and_lazy_sparsify(tmp_path, vdisk, qemu_img, qemu_io):
    img, ref = make_raw(tmp_path, qemu_io)
    vdisk("inflate", "--eager", "-q", img)
    assert host_kinds(img)["data"] == 64 * MiB
    check_and_compare(qemu_img, ref, img)
    # A lazy-zeroed image gives its reservation back without zero detection.
    img2 = tmp_path / "lazy.raw"
    with open(img2, "wb") as f:
        f.truncate(8 * MiB)
    os.posix_fallocate(os.open(img2, os.O_RDWR), 0, 8 * MiB)
    assert host_kinds(img2)["unwritten"] == 8 * MiB
    vdisk("sparsify", "-q", img2)
    assert host_kinds(img2)["hole"] == 8 * MiB


def test_dry_run_changes_nothing(tmp_path, vdisk, qemu_io):
    img, _ = make_raw(tmp_path, qemu_io)
    st, digest = os.stat(img), sha(img)
    for args in (["inflate"], ["inflate", "--eager"], ["eagerzero"], ["sparsify", "--zero-detect"]):
        out = vjson(vdisk, *args, "--dry-run", img)
        assert out["dry-run"] is True
    assert sha(img) == digest
    assert os.stat(img).st_blocks == st.st_blocks
    assert os.stat(img).st_mtime_ns == st.st_mtime_ns
    # The estimate of inflate is what inflate then does.
    est = vjson(vdisk, "inflate", "--dry-run", img)
    real = vjson(vdisk, "inflate", img)
    assert est["changed"] == real["changed"]
    assert est["host-after"] <= real["host-after"] <= est["host-after"] + MiB


# ---- qcow2 -------------------------------------------------------------

QCOW2_OPTS = [
    "compat=1.1",
    "compat=0.10",
    "cluster_size=4k",
    "extended_l2=on,cluster_size=128k",
    "preallocation=metadata",
    "preallocation=falloc",
    "refcount_bits=1",
]


def make_qcow2(tmp_path, qemu_img, qemu_io, opts, size="64M"):
    img = tmp_path / "t.qcow2"
    qemu_img("create", "-q", "-f", "qcow2", "-o", opts, img, size)
    qemu_io("-c", "write -P 0x5a 4M 2M", "-c", "write -P 0 16M 1M", "-c", "write -z 24M 1M",
            "-c", "write -P 0x11 32M 256k", "-c", "discard 32M 256k", img)
    ref = tmp_path / "ref.raw"
    qemu_img("convert", "-O", "raw", img, ref)
    return img, ref


@pytest.mark.parametrize("opts", QCOW2_OPTS)
def test_qcow2_all_moves(tmp_path, vdisk, qemu_img, qemu_io, opts):
    img, ref = make_qcow2(tmp_path, qemu_img, qemu_io, opts)
    vdisk("inflate", "-q", img)
    check_and_compare(qemu_img, ref, img)
    entries = qmap(qemu_img, img)
    # Every guest byte is allocated in the image (qemu-img: "data").
    assert qmap_bytes(entries, data=True) == 64 * MiB
    assert allocated_bytes(img) >= 64 * MiB
    vdisk("eagerzero", "-q", img)
    check_and_compare(qemu_img, ref, img)
    # Eager: QEMU finds no hole under any data cluster any more.
    entries = qmap(qemu_img, img)
    assert qmap_bytes(entries, data=True, zero=False) == 64 * MiB
    vdisk("sparsify", "--zero-detect", "--truncate", "-q", img)
    check_and_compare(qemu_img, ref, img)
    entries = qmap(qemu_img, img)
    # Only the 2 MiB of 0x5a bytes keep host space.
    assert qmap_bytes(entries, data=True) == 2 * MiB
    assert allocated_bytes(img) < 4 * MiB
    # Cut right after the last cluster in use: where QEMU puts the image's end.
    check = json.loads(qemu_img("check", "--output", "json", img).stdout)
    assert os.stat(img).st_size == check["image-end-offset"]
    # Refcount blocks are not moved: with 4 KiB clusters one covers only
    # 8 MiB of the file, and those inflate added stay where they are.
    if opts != "cluster_size=4k":
        assert os.stat(img).st_size < 8 * MiB


@pytest.mark.parametrize("opts", ["compat=1.1", "extended_l2=on,cluster_size=128k"])
def test_qcow2_lazy_thick_to_thin_without_detection(tmp_path, vdisk, qemu_img, qemu_io, opts):
    img, ref = make_qcow2(tmp_path, qemu_img, qemu_io, opts)
    vdisk("inflate", "-q", img)
    before = allocated_bytes(img)
    out = vjson(vdisk, "sparsify", img)
    # What inflate reserved (never written) goes back; the written 1 MiB of
    # zeros at 16M is data until --zero-detect.
    assert out["changed"] >= 60 * MiB
    assert before - allocated_bytes(img) >= 60 * MiB
    assert qmap_bytes(qmap(qemu_img, img), data=True) == 3 * MiB
    check_and_compare(qemu_img, ref, img)


def test_overlay_keeps_backing_chain(tmp_path, vdisk, qemu_img, qemu_io):
    base = tmp_path / "base.qcow2"
    qemu_img("create", "-q", "-f", "qcow2", base, "32M")
    qemu_io("-c", "write -P 0x22 0 32M", base)
    ov = tmp_path / "ov.qcow2"
    qemu_img("create", "-q", "-f", "qcow2", "-b", base.name, "-F", "qcow2", ov, "64M")
    qemu_io("-c", "write -P 0x33 1M 1M", "-c", "write -z 8M 1M", ov)
    ref = tmp_path / "ref.raw"
    qemu_img("convert", "-O", "raw", ov, ref)
    base_digest = sha(base)
    before = qmap(qemu_img, ov)
    out = vjson(vdisk, "inflate", ov)
    assert out["from-backing"] == 30 * MiB
    check_and_compare(qemu_img, ref, ov)
    after = qmap(qemu_img, ov)
    # What read from base.qcow2 (depth 1) still does, byte for byte.
    assert [e for e in before if e["depth"] == 1] == [e for e in after if e["depth"] == 1]
    assert qmap_bytes(after, depth=0, data=True) == 32 * MiB + 2 * MiB
    info = json.loads(qemu_img("info", "--output", "json", ov).stdout)
    assert info["backing-filename"] == base.name
    assert sha(base) == base_digest
    vdisk("sparsify", "--zero-detect", "-q", ov)
    check_and_compare(qemu_img, ref, ov)
    # The zeros written over the backing data stay zero clusters.
    assert qmap_bytes(qmap(qemu_img, ov), depth=0, present=True, zero=True, data=False) == 1 * MiB


@pytest.mark.parametrize("opts", ["compat=1.1", "compat=0.10", "extended_l2=on,cluster_size=128k"])
def test_sparsify_overlay_never_uncovers_backing(tmp_path, vdisk, qemu_img, qemu_io, opts):
    """Zeros a guest wrote over its backing file's data keep reading as
    zeros: sparsify makes them zero clusters of this layer (as qemu-img
    convert -B does), never unallocated ones that would show the backing
    file; where the format has no zero flag (compat=0.10) they stay data.
    Past the end of the backing file, nothing shows through: they go."""
    base = tmp_path / "base.qcow2"
    qemu_img("create", "-q", "-f", "qcow2", base, "16M")
    qemu_io("-c", "write -P 0x22 0 16M", base)
    ov = tmp_path / "ov.qcow2"
    qemu_img("create", "-q", "-f", "qcow2", "-o", opts, "-b", base.name, "-F", "qcow2", ov, "32M")
    qemu_io("-c", "write -P 0 0 4M", "-c", "write -P 0 20M 4M", "-c", "write -P 0x33 8M 1M", ov)
    ref = tmp_path / "ref.raw"
    qemu_img("convert", "-O", "raw", ov, ref)
    before = allocated_bytes(ov)
    vdisk("sparsify", "--zero-detect", "-q", ov)
    check_and_compare(qemu_img, ref, ov)
    entries = qmap(qemu_img, ov)
    # The backing file shows exactly where it did: 4-8M and 9-16M.
    assert qmap_bytes(entries, depth=1) == 11 * MiB
    over_backing = [e for e in entries if e["start"] == 0]
    assert over_backing[0]["depth"] == 0 and over_backing[0]["length"] >= 4 * MiB
    if opts == "compat=0.10":
        assert over_backing[0]["data"] and not over_backing[0]["zero"]
        assert before - allocated_bytes(ov) >= 4 * MiB
    else:
        assert over_backing[0]["zero"] and not over_backing[0]["data"]
        assert before - allocated_bytes(ov) >= 8 * MiB
    # This layer keeps host space only for its 1 MiB of 0x33 (and 0-4M in v2).
    assert qmap_bytes(entries, depth=0, data=True) == (5 if opts == "compat=0.10" else 1) * MiB


def test_internal_snapshots_intact(tmp_path, vdisk, qemu_img, qemu_io):
    img = tmp_path / "s.qcow2"
    qemu_img("create", "-q", "-f", "qcow2", img, "32M")
    qemu_io("-c", "write -P 0x44 0 8M", img)
    qemu_img("snapshot", "-c", "s1", img)
    qemu_io("-c", "write -P 0x55 4M 8M", "-c", "write -z 20M 2M", img)
    refs = {}
    for name in ("s1", None):
        refs[name] = tmp_path / f"ref-{name}.raw"
        qemu_img("convert", *(["-l", name] if name else []), "-O", "raw", img, refs[name])
    listing = qemu_img("snapshot", "-l", img).stdout
    for args in (["inflate", "--eager"], ["sparsify", "--zero-detect"], ["inflate"],
                 ["eagerzero"], ["sparsify"]):
        vdisk(*args, "-q", img)
        qemu_img("check", "-q", img)
        for name, ref in refs.items():
            cur = tmp_path / "cur.raw"
            qemu_img("convert", *(["-l", name] if name else []), "-O", "raw", img, cur)
            assert sha(cur) == sha(ref), (args, name)
    assert qemu_img("snapshot", "-l", img).stdout == listing


# ---- refusals ------------------------------------------------------------

@pytest.mark.parametrize("fmt", ["raw", "qcow2"])
@pytest.mark.parametrize("args", [["inflate"], ["eagerzero"], ["sparsify", "--zero-detect"]])
def test_refused_while_qemu_io_holds_it(tmp_path, vdisk, qemu_img, fmt, args):
    img = tmp_path / f"busy.{fmt}"
    qemu_img("create", "-q", "-f", fmt, img, "16M")
    digest, blocks = sha(img), os.stat(img).st_blocks
    with qemu_io_holder(img, fmt):
        p = vdisk(*args, "-f", fmt, img, check=False)
        assert p.returncode == 1
        assert IN_USE in p.stderr
    assert sha(img) == digest
    assert os.stat(img).st_blocks == blocks


def test_refused_formats(tmp_path, vdisk, qemu_img):
    vmdk = tmp_path / "d.vmdk"
    qemu_img("create", "-q", "-f", "vmdk", vmdk, "16M")
    p = vdisk("inflate", vmdk, check=False)
    assert p.returncode == 1 and "not supported for vmdk images" in p.stderr
    pw = tmp_path / "pw"
    pw.write_text("secret")
    luks = tmp_path / "d.luks"
    qemu_img("create", "-q", "--object", f"secret,id=s0,file={pw}", "-f", "luks", "-o",
             "key-secret=s0,iter-time=10", luks, "16M")
    p = vdisk("eagerzero", luks, check=False)
    assert p.returncode == 1 and "not supported for luks images" in p.stderr


@pytest.mark.parametrize("args", [["inflate"], ["inflate", "--eager"], ["eagerzero"],
                                  ["sparsify", "--zero-detect"], ["sparsify", "--dry-run"]])
def test_refused_on_encrypted_qcow2(tmp_path, vdisk, qemu_img, args):
    """Zeros of an encrypted image are ciphertext: none of the moves can
    tell or write them from the host side, so all are refused untouched."""
    pw = tmp_path / "pw"
    pw.write_text("secret")
    enc = tmp_path / "e.qcow2"
    qemu_img("create", "-q", "--object", f"secret,id=s0,file={pw}", "-f", "qcow2", "-o",
             "encrypt.format=luks,encrypt.key-secret=s0,encrypt.iter-time=10", enc, "16M")
    digest = sha(enc)
    p = vdisk(*args, enc, check=False)
    assert p.returncode == 1 and "encrypted" in p.stderr and str(enc) in p.stderr
    assert sha(enc) == digest


@pytest.fixture
def small_fs(tmp_path):
    """An 8 MiB tmpfs, mounted in a mount namespace of its own (so nothing
    outside sees it and it goes with the namespace): returns (dir, ns) where
    ns(*argv) runs a command inside.  Needs root and util-linux's unshare /
    nsenter; skipped otherwise."""
    if os.geteuid() != 0 or not shutil.which("unshare") or not shutil.which("nsenter"):
        pytest.skip("a private tmpfs needs root, unshare and nsenter")
    mnt = tmp_path / "small"
    mnt.mkdir()
    holder = subprocess.Popen(
        ["unshare", "-m", "--propagation", "private", "sh", "-c",
         f"mount -t tmpfs -o size=8m tmpfs '{mnt}' && echo ready && exec sleep infinity"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        if holder.stdout.readline().strip() != "ready":
            holder.kill()
            pytest.skip(f"no tmpfs in a private mount namespace: {holder.communicate()[1]}")
        # The mount is the namespace's only: ours still has the empty directory.
        assert os.readlink(f"/proc/{holder.pid}/ns/mnt") != os.readlink("/proc/self/ns/mnt")

        def ns(*argv, check=True):
            return run(["nsenter", "-t", holder.pid, "-m", *argv], check=check)
        yield mnt, ns
    finally:
        holder.kill()
        holder.wait()


@pytest.mark.parametrize("fmt", ["raw", "qcow2"])
@pytest.mark.parametrize("eager", [False, True])
def test_inflate_without_room_changes_nothing(tmp_path, small_fs, vdisk_bin, qemu_img, qemu_io,
                                              fmt, eager):
    """A 32 MiB image with 1 MiB of data on an 8 MiB file system: inflate
    fails with the file system's ENOSPC, named, and the image reads as
    before and checks clean (a failed qcow2 inflate adds no cluster)."""
    mnt, ns = small_fs
    src = tmp_path / f"src.{fmt}"
    qemu_img("create", "-q", "-f", fmt, src, "32M")
    qemu_io("-f", fmt, "-c", "write -P 0x5a 1M 1M", src)
    img = mnt / f"d.{fmt}"
    ns("cp", "--sparse=always", src, img)
    p = ns(vdisk_bin, "inflate", *(["--eager"] if eager else []), "-f", fmt, img, check=False)
    assert p.returncode == 1
    assert str(img) in p.stderr and "No space left on device" in p.stderr
    ns("qemu-img", "compare", "-q", "-f", fmt, "-F", fmt, src, img)
    if fmt == "qcow2":
        ns("qemu-img", "check", "-q", img)
        assert ns("stat", "-c", "%s", img).stdout.strip() == str(os.stat(src).st_size)
    # What failed left no reservation behind: the space is there for others.
    assert int(ns("stat", "-c", "%b", img).stdout) * 512 <= allocated_bytes(src) + MiB


def test_help_lists_every_option(vdisk):
    for cmd, opts in (("inflate", ["--eager", "--dry-run", "-p", "-q", "-f", "--output"]),
                      ("eagerzero", ["--dry-run", "-p", "-q", "-f", "--output"]),
                      ("sparsify", ["--zero-detect", "--truncate", "--dry-run", "-p", "-q", "-f",
                                    "--output"]),
                      ("map", ["--bar", "--width", "--picture"])):
        text = vdisk(cmd, "-h").stdout
        for o in opts:
            assert o in text, (cmd, o)


# ---- map --bar / --picture -------------------------------------------------

def map_layout(tmp_path, qemu_img, qemu_io):
    """A 64 MiB qcow2 layer of known layout over a 16 MiB backing file:
    data 0-4M, a zero cluster 4-5M, compressed 8-9M, reserved 40-48M (zeros
    written without unmap keep their clusters); the rest of the first 16M
    reads the backing file, the rest after it is unallocated."""
    base = tmp_path / "b.qcow2"
    qemu_img("create", "-q", "-f", "qcow2", base, "16M")
    img = tmp_path / "m.qcow2"
    qemu_img("create", "-q", "-f", "qcow2", "-b", base.name, "-F", "qcow2", img, "64M")
    qemu_io("-c", "write -P 1 0 4M", "-c", "write -z -u 4M 1M", "-c", "write -c -P 2 8M 1M",
            "-c", "write -P 3 40M 8M", "-c", "write -z 40M 8M", img)
    return img


def test_map_bar_kinds(tmp_path, vdisk, qemu_img, qemu_io):
    img = map_layout(tmp_path, qemu_img, qemu_io)
    out = json.loads(vdisk("map", "--bar", "--width", "64", "--output", "json", img).stdout)
    b = out["bytes"]
    assert sum(b.values()) == 64 * MiB
    assert b["data"] == 4 * MiB
    assert b["zero"] == 1 * MiB
    assert b["compressed"] == 1 * MiB
    assert b["reserved"] == 8 * MiB
    # Unallocated in this layer: over the backing file (16 MiB, less what
    # this layer holds there: 4+1+1) and past it (64-16, less the 8 reserved).
    assert b["backing"] == 10 * MiB
    assert b["unallocated"] == 40 * MiB
    # One character per MiB: the picture of the same layout.
    assert out["bar"] == "#" * 4 + "0" + "bbb" + "c" + "b" * 7 + "." * 24 + "=" * 8 + "." * 16
    # qemu-img map agrees on what this layer holds.
    entries = qmap(qemu_img, img)
    assert qmap_bytes(entries, depth=0, data=True, zero=False) == 5 * MiB   # data + compressed
    below_backing_end = sum(max(0, min(e["start"] + e["length"], 16 * MiB) - e["start"])
                            for e in entries if e["depth"] == 1)
    assert below_backing_end == 10 * MiB


def test_map_picture_png(tmp_path, vdisk, qemu_img, qemu_io):
    Image = pytest.importorskip("PIL.Image")
    img = map_layout(tmp_path, qemu_img, qemu_io)
    png = tmp_path / "m.png"
    vdisk("map", "--picture", png, img)
    pic = Image.open(png)
    pic.load()
    assert pic.format == "PNG" and pic.mode == "RGB"
    assert pic.width >= 600 and pic.height >= 200
    colours = set(c for _, c in pic.getcolors(1 << 16))
    # Each kind present shows in its colour (tools/map-cells.c's table).
    for rgb in [(0x1f, 0x5f, 0xb4), (0x9e, 0xca, 0xe1), (0xf2, 0xc9, 0x4c), (0xe4, 0xe4, 0xe4),
                (0x94, 0x67, 0xbd), (0xff, 0x7f, 0x0e)]:
        assert rgb in colours
    # An unwritable path: an error, no file.
    p = vdisk("map", "--picture", tmp_path / "no" / "x.png", img, check=False)
    assert p.returncode == 1 and not (tmp_path / "no").exists()
