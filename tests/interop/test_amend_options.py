"""vdisk-virsh amend -o refcount_bits / size / backing_file / backing_fmt /
data_file against qemu-img amend on twin images: qemu-img info fields equal,
qemu-img compare identical (guest data and every snapshot unchanged),
qemu-img check clean, and for refusals the same exit code, the same message
and the image byte-identical afterwards."""
import hashlib
import json
import re
import shutil

import pytest

MiB = 1 << 20
FIELDS = ("virtual-size", "backing-filename", "backing-filename-format")


def sha(p):
    return hashlib.sha256(p.read_bytes()).hexdigest()


def info(qemu_img, f):
    d = json.loads(qemu_img("info", "--output", "json", f).stdout)
    out = {k: d.get(k) for k in FIELDS}
    out.update({k: d["format-specific"]["data"].get(k) for k in ("compat", "refcount-bits",
                                                                 "lazy-refcounts")})
    return out


def check_clean(qemu_img, f):
    p = qemu_img("check", f, check=False)
    assert p.returncode == 0 and "No errors were found" in p.stdout, p.stdout + p.stderr


def raw(qemu_img, f, out, snapshot=None):
    args = ["convert", "-O", "raw"] + (["-l", snapshot] if snapshot else [])
    qemu_img(*args, f, out)
    return hashlib.sha256(out.read_bytes()).hexdigest()


def message(stderr):
    """The first line of an error without the program and file prefixes."""
    line = stderr.strip().splitlines()[0]
    line = re.sub(r"^(qemu-img|vdisk-virsh): ", "", line)
    return re.sub(r"^[^ :]+\.qcow2: ", "", line)


def twins(src, tmp_path):
    v, q = tmp_path / "v.qcow2", tmp_path / "q.qcow2"
    shutil.copyfile(src, v)
    shutil.copyfile(src, q)
    return v, q


def make(qemu_img, qemu_io, path, opts="", writes=(), size="8M", snapshot=False):
    qemu_img("create", "-q", "-f", "qcow2", *(["-o", opts] if opts else []), path, size)
    for w in writes:
        qemu_io("-f", "qcow2", "-c", w, path)
    if snapshot:
        qemu_img("snapshot", "-c", "s1", path)
        qemu_io("-f", "qcow2", "-c", "write -P 0x77 0 64k", path)
    return path


# Data, zeros and compressed clusters (compressible patterns, so qemu-io
# really compresses and packs several into one host cluster).
WRITES = ["write -P 0x11 0 1M", "write -z 1M 128k", "write -c -P 0x22 2M 64k",
          "write -c -P 0x33 2112k 64k", "write -P 0x44 5M 64k"]


def amend_both(vdisk, qemu_img, v, q, opts):
    pv = vdisk("amend", "-o", opts, v, check=False)
    pq = qemu_img("amend", "-o", opts, q, check=False)
    return pv, pq


def assert_same_refusal(vdisk, qemu_img, v, q, opts):
    before = sha(v)
    pv, pq = amend_both(vdisk, qemu_img, v, q, opts)
    assert pq.returncode == 1 and pv.returncode == 1, (pv.stderr, pq.stderr)
    assert message(pv.stderr) == message(pq.stderr), (pv.stderr, pq.stderr)
    assert sha(v) == before
    return pv


def assert_same_result(vdisk, qemu_img, v, q, opts, tmp_path, snapshot=False):
    want = raw(qemu_img, v, tmp_path / "before.raw")
    want_s = raw(qemu_img, v, tmp_path / "before-s.raw", "s1") if snapshot else None
    pv, pq = amend_both(vdisk, qemu_img, v, q, opts)
    assert pq.returncode == 0, pq.stderr
    assert pv.returncode == 0, pv.stderr
    assert info(qemu_img, v) == info(qemu_img, q)
    check_clean(qemu_img, v)
    qemu_img("compare", v, q)
    if info(qemu_img, v)["virtual-size"] == info(qemu_img, q)["virtual-size"] and "size" not in opts:
        assert raw(qemu_img, v, tmp_path / "after.raw") == want
    if snapshot:
        got_s = raw(qemu_img, v, tmp_path / "after-s.raw", "s1")
        assert got_s == raw(qemu_img, q, tmp_path / "q-s.raw", "s1")
        if "size" not in opts:
            assert got_s == want_s


# ---- refcount_bits -----------------------------------------------------------

@pytest.mark.parametrize("width", [1, 2, 4, 8, 16, 32, 64])
def test_refcount_width_both_ways(vdisk, qemu_img, qemu_io, tmp_path, width):
    """16 -> width -> 16 and 64 -> width on an image with data, zero and
    compressed clusters (and a snapshot where the width can count to 2)."""
    snap = width > 1
    writes = WRITES if width > 1 else ["write -P 0x11 0 1M", "write -z 1M 128k",
                                       "write -c -P 0x22 2M 64k"]
    src = make(qemu_img, qemu_io, tmp_path / "src.qcow2", "", writes, snapshot=snap)
    v, q = twins(src, tmp_path)
    assert_same_result(vdisk, qemu_img, v, q, f"refcount_bits={width}", tmp_path, snap)
    assert info(qemu_img, v)["refcount-bits"] == width
    assert_same_result(vdisk, qemu_img, v, q, "refcount_bits=16", tmp_path, snap)
    assert_same_result(vdisk, qemu_img, v, q, "refcount_bits=64", tmp_path, snap)
    assert_same_result(vdisk, qemu_img, v, q, f"refcount_bits={width}", tmp_path, snap)
    # qemu can still write it
    qemu_io("-f", "qcow2", "-c", "write -P 0x55 6M 256k", v)
    check_clean(qemu_img, v)


def test_refcount_width_chain_large_image(vdisk, qemu_img, qemu_io, tmp_path):
    """Small clusters, so the structures span many refcount blocks."""
    src = make(qemu_img, qemu_io, tmp_path / "src.qcow2", "cluster_size=512",
               ["write -P 0x11 0 3M", "write -c -P 0x22 3M 512k"], size="16M", snapshot=True)
    v, q = twins(src, tmp_path)
    for w in (64, 8, 32, 16):
        assert_same_result(vdisk, qemu_img, v, q, f"refcount_bits={w}", tmp_path, True)


@pytest.mark.parametrize("width", [1, 2])
def test_refcount_too_narrow_refused(vdisk, qemu_img, qemu_io, tmp_path, width):
    """Snapshots share clusters (refcount 2); many snapshots need 2 bits or
    more; qemu-img names the first cluster that does not fit."""
    src = make(qemu_img, qemu_io, tmp_path / "src.qcow2", "", WRITES, snapshot=True)
    for name in ("s2", "s3", "s4"):
        qemu_img("snapshot", "-c", name, src)
    v, q = twins(src, tmp_path)
    pv = assert_same_refusal(vdisk, qemu_img, v, q, f"refcount_bits={width}")
    assert "Cannot decrease refcount entry width" in pv.stderr


def test_packed_compressed_clusters_refused_at_1_bit(vdisk, qemu_img, qemu_io, tmp_path):
    src = tmp_path / "src.raw"
    src.write_bytes(b"".join(bytes([i]) * 65536 for i in range(1, 17)))
    c = tmp_path / "c.qcow2"
    qemu_img("convert", "-c", "-O", "qcow2", src, c)
    v, q = twins(c, tmp_path)
    for w in (1, 2, 4):   # 16 compressed clusters share one host cluster
        assert_same_refusal(vdisk, qemu_img, v, q, f"refcount_bits={w}")
    assert_same_result(vdisk, qemu_img, v, q, "refcount_bits=8", tmp_path)
    qemu_img("compare", src, v)


@pytest.mark.parametrize("opts,create", [
    ("refcount_bits=3", ""), ("refcount_bits=0", ""), ("refcount_bits=128", ""),
    ("refcount_bits=abc", ""), ("refcount_bits=-1", ""), ("refcount_bits=16.0", ""),
    ("compat=0.10,refcount_bits=8", ""),
    ("refcount_bits=8,compat=0.10", ""), ("refcount_bits=8", "compat=0.10"),
    ("compat=0.10", "refcount_bits=8"),
])
def test_refcount_refusals(vdisk, qemu_img, qemu_io, tmp_path, opts, create):
    src = make(qemu_img, qemu_io, tmp_path / "src.qcow2", create, ["write -P 1 0 64k"])
    v, q = twins(src, tmp_path)
    assert_same_refusal(vdisk, qemu_img, v, q, opts)


@pytest.mark.parametrize("opts,create", [
    ("compat=0.10,refcount_bits=16", "refcount_bits=8"),
    ("compat=1.1,refcount_bits=4", "compat=0.10"),
    ("refcount_bits=0x20,lazy_refcounts=on,size=12M", ""),
    ("lazy_refcounts=off,refcount_bits=1", "lazy_refcounts=on"),
])
def test_combined_options(vdisk, qemu_img, qemu_io, tmp_path, opts, create):
    src = make(qemu_img, qemu_io, tmp_path / "src.qcow2", create,
               ["write -P 0x11 0 1M", "write -c -P 0x22 2M 64k"])
    v, q = twins(src, tmp_path)
    assert_same_result(vdisk, qemu_img, v, q, opts, tmp_path)


# ---- size --------------------------------------------------------------------

@pytest.mark.parametrize("size", ["16M", "8M", "3M", "1536k", "1G"])
def test_size(vdisk, qemu_img, qemu_io, tmp_path, size):
    src = make(qemu_img, qemu_io, tmp_path / "src.qcow2", "", WRITES)
    v, q = twins(src, tmp_path)
    assert_same_result(vdisk, qemu_img, v, q, f"size={size}", tmp_path)


def test_size_over_bigger_backing_file(vdisk, qemu_img, qemu_io, tmp_path):
    """The grown part must not show the backing file's data (zeroed, as QEMU)."""
    base = make(qemu_img, qemu_io, tmp_path / "base.qcow2", "", ["write -P 0x5a 0 16M"],
                size="16M")
    src = make(qemu_img, qemu_io, tmp_path / "src.qcow2",
               f"backing_file={base},backing_fmt=qcow2", ["write -P 0x11 0 1M"], size="4M")
    v, q = twins(src, tmp_path)
    assert_same_result(vdisk, qemu_img, v, q, "size=12M", tmp_path)
    qemu_io("-f", "qcow2", "-c", "read -P 0 4M 8M", v)


def test_size_upgrade_then_resize_with_snapshots(vdisk, qemu_img, qemu_io, tmp_path):
    """A v2 image with snapshots can grow when the same amend upgrades it first."""
    src = make(qemu_img, qemu_io, tmp_path / "src.qcow2", "compat=0.10", WRITES[:1],
               snapshot=True)
    v, q = twins(src, tmp_path)
    assert_same_result(vdisk, qemu_img, v, q, "compat=1.1,size=16M", tmp_path, True)


@pytest.mark.parametrize("opts,create,snap", [
    ("size=1000", "", False),
    ("size=abc", "", False),
    ("size=9223372036854775808", "", False),
    ("size=16M", "compat=0.10", True),
    ("size=16M,compat=0.10", "", True),
    ("size=8M", "compat=0.10", True),
])
def test_size_refusals(vdisk, qemu_img, qemu_io, tmp_path, opts, create, snap):
    src = make(qemu_img, qemu_io, tmp_path / "src.qcow2", create, WRITES[:1], snapshot=snap)
    v, q = twins(src, tmp_path)
    assert_same_refusal(vdisk, qemu_img, v, q, opts)


def test_size_refused_after_upgrade_leaves_v2(vdisk, qemu_img, qemu_io, tmp_path):
    """qemu-img upgrades, then refuses the size (exit 1, image now v3);
    vdisk refuses with the same message before upgrading."""
    src = make(qemu_img, qemu_io, tmp_path / "src.qcow2", "compat=0.10", WRITES[:1])
    v, q = twins(src, tmp_path)
    before = sha(v)
    pv, pq = amend_both(vdisk, qemu_img, v, q, "compat=1.1,size=1000")
    assert pv.returncode == pq.returncode == 1
    assert message(pv.stderr) == message(pq.stderr)
    assert sha(v) == before


def test_size_zero_keeps_size(vdisk, qemu_img, qemu_io, tmp_path):
    src = make(qemu_img, qemu_io, tmp_path / "src.qcow2", "", WRITES[:1])
    v, q = twins(src, tmp_path)
    assert_same_result(vdisk, qemu_img, v, q, "size=0", tmp_path)
    assert info(qemu_img, v)["virtual-size"] == 8 * MiB


def test_shrink_with_snapshots_as_qemu(vdisk, qemu_img, qemu_io, tmp_path):
    """qemu-img amend shrinks a v3 image with snapshots (unlike `resize
    --shrink` here, which refuses): the snapshots keep their data and their
    size, and applying one gives back the old size and content."""
    src = make(qemu_img, qemu_io, tmp_path / "src.qcow2", "", WRITES + ["write -P 0x66 7M 1M"],
               snapshot=True)
    qemu_img("snapshot", "-c", "s2", src)
    qemu_io("-f", "qcow2", "-c", "write -P 0x99 6M 2M", src)
    want_s1 = raw(qemu_img, src, tmp_path / "want-s1.raw", "s1")
    v, q = twins(src, tmp_path)
    assert_same_result(vdisk, qemu_img, v, q, "size=3M", tmp_path, True)
    assert info(qemu_img, v)["virtual-size"] == 3 * MiB
    vdisk("snapshot", "-a", "s1", v)
    qemu_img("snapshot", "-a", "s1", q)
    check_clean(qemu_img, v)
    assert info(qemu_img, v)["virtual-size"] == info(qemu_img, q)["virtual-size"] == 8 * MiB
    assert raw(qemu_img, v, tmp_path / "applied.raw") == want_s1
    qemu_img("compare", v, q)


# ---- backing file, data file -------------------------------------------------

@pytest.fixture
def overlay(qemu_img, qemu_io, tmp_path):
    base = make(qemu_img, qemu_io, tmp_path / "base.qcow2", "", ["write -P 0x5a 0 1M"])
    make(qemu_img, qemu_io, tmp_path / "ov.qcow2", "backing_file=base.qcow2,backing_fmt=qcow2",
         ["write -P 0x11 0 64k"])
    return base, tmp_path / "ov.qcow2"


@pytest.mark.parametrize("opts", [
    "backing_file=other.qcow2", "backing_file=base.qcow2", "backing_fmt=qcow2",
    "backing_fmt=raw", "backing_file=base.qcow2,backing_fmt=raw", "backing_file=",
    "compat=0.10,backing_file=other.qcow2", "refcount_bits=8,backing_file=x",
    "data_file=x", "data_file=", "data_file_raw=on", "refcount_bits=3,data_file=x",
    "data_file_raw=on,refcount_bits=3", "data_file_raw=maybe",
])
def test_backing_and_data_file_refusals(vdisk, qemu_img, tmp_path, overlay, opts):
    v, q = twins(overlay[1], tmp_path)
    assert_same_refusal(vdisk, qemu_img, v, q, opts)


@pytest.mark.parametrize("opts", [
    "backing_file=base.qcow2,backing_fmt=qcow2", "data_file_raw=off",
    "backing_fmt=qcow2,backing_file=base.qcow2,size=16M",
])
def test_backing_unchanged_accepted(vdisk, qemu_img, tmp_path, overlay, opts):
    v, q = twins(overlay[1], tmp_path)
    assert_same_result(vdisk, qemu_img, v, q, opts, tmp_path)
    assert info(qemu_img, v)["backing-filename"] == "base.qcow2"


def test_no_backing_refused(vdisk, qemu_img, qemu_io, tmp_path):
    src = make(qemu_img, qemu_io, tmp_path / "src.qcow2", "", WRITES[:1])
    v, q = twins(src, tmp_path)
    assert_same_refusal(vdisk, qemu_img, v, q, "backing_file=x.qcow2,backing_fmt=qcow2")


# ---- command line ------------------------------------------------------------

def test_progress_and_quiet(vdisk, qemu_img, qemu_io, tmp_path):
    src = make(qemu_img, qemu_io, tmp_path / "src.qcow2", "", WRITES)
    v, q = twins(src, tmp_path)
    pv = vdisk("amend", "-p", "-o", "refcount_bits=8", v)
    pq = qemu_img("amend", "-p", "-o", "refcount_bits=8", q)
    assert pv.returncode == pq.returncode == 0
    pv = vdisk("amend", "-p", "-q", "-o", "refcount_bits=4", v)
    assert pv.stdout == ""
    pv = vdisk("amend", "--force", "-o", "refcount_bits=16", v)
    check_clean(qemu_img, v)


def test_option_help_lists_amendable_keys(vdisk, qemu_img, tmp_path):
    out = vdisk("amend", "-f", "qcow2", "-o", "help").stdout
    want = qemu_img("amend", "-f", "qcow2", "-o", "help").stdout
    for key in ("size", "backing_file", "backing_fmt", "refcount_bits", "compat",
                "lazy_refcounts", "data_file"):
        assert f"  {key}=" in out and f"  {key}=" in want


def test_refcount_width_on_dirty_lazy_image(vdisk, qemu_img, qemu_io, tmp_path):
    """A lazy-refcounts image left dirty by a crashed writer: its refcounts
    are rebuilt on open, then rewritten with the new width, as qemu-img."""
    src = make(qemu_img, qemu_io, tmp_path / "src.qcow2", "lazy_refcounts=on")
    qemu_io("-f", "qcow2", "-c", "write -P 7 0 1M", "-c", "abort", src, check=False)
    assert qemu_img("check", src, check=False).returncode != 0
    v, q = twins(src, tmp_path)
    pv, pq = amend_both(vdisk, qemu_img, v, q, "refcount_bits=8")
    assert pv.returncode == pq.returncode == 0, pv.stderr
    assert info(qemu_img, v) == info(qemu_img, q)
    check_clean(qemu_img, v)
    qemu_img("compare", v, q)
    qemu_io("-f", "qcow2", "-c", "read -P 7 0 1M", v)


@pytest.mark.parametrize("opts", ["data_file=x", "compat=0.9", "size=abc", "refcount_bits=3"])
def test_open_error_before_option_errors(vdisk, qemu_img, tmp_path, opts):
    """qemu-img opens the image before it parses the options."""
    f = tmp_path / "missing.qcow2"
    pv = vdisk("amend", "-o", opts, f, check=False)
    pq = qemu_img("amend", "-o", opts, f, check=False)
    assert pv.returncode == pq.returncode == 1
    assert "No such file or directory" in pv.stderr and "No such file or directory" in pq.stderr


def test_refcount_width_on_luks_qcow2(vdisk, qemu_img, qemu_io, tmp_path):
    """The LUKS header clusters are counted like any others; qemu-img (with
    the secret) reads the same data afterwards and finds the image clean."""
    from encrypt_common import ITER, qcow2_opts, retry_qemu, secret
    pw = tmp_path / "pw"
    pw.write_bytes(b"amend passphrase")
    src = tmp_path / "e.qcow2"
    retry_qemu(qemu_img, "create", "-q", "-f", "qcow2", *secret(pw), "-o",
               f"encrypt.format=luks,encrypt.key-secret=sec0,encrypt.iter-time={ITER}", src, "8M")
    retry_qemu(qemu_io, *secret(pw), "--image-opts", qcow2_opts(src), "-c",
               "write -P 0x3c 0 2M")
    v, q = twins(src, tmp_path)
    vdisk("amend", *secret(pw), "--image-opts", qcow2_opts(v), "-o", "refcount_bits=2")
    retry_qemu(qemu_img, "amend", *secret(pw), "--image-opts", qcow2_opts(q), "-o",
               "refcount_bits=2")
    assert info(qemu_img, v) == info(qemu_img, q)
    assert info(qemu_img, v)["refcount-bits"] == 2
    retry_qemu(qemu_img, "check", *secret(pw), "--image-opts", qcow2_opts(v))
    retry_qemu(qemu_io, *secret(pw), "--image-opts", qcow2_opts(v), "-c", "read -P 0x3c 0 2M")


@pytest.mark.parametrize("opts", ["compat=0.9", "size=abc", "foo=1", "refcount_bits=8"])
def test_raw_refused_before_option_errors(vdisk, qemu_img, tmp_path, opts):
    f = tmp_path / "r.raw"
    f.write_bytes(b"\0" * 65536)
    pv = vdisk("amend", "-f", "raw", "-o", opts, f, check=False)
    pq = qemu_img("amend", "-f", "raw", "-o", opts, f, check=False)
    assert pv.returncode == pq.returncode == 1
    assert "does not support option amendment" in pq.stderr
    assert "does not support option amendment" in pv.stderr
