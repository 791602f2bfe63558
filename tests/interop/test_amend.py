"""vdisk-virsh amend against qemu-img amend: compat=0.10 <-> 1.1 and
lazy_refcounts on images qemu-img/qemu-io made, with qemu-img info as the
oracle of the result, qemu-img check clean and the guest data unchanged
(qemu-img convert), and qemu-img's refusals and exit codes."""
import json

import pytest

MiB = 1 << 20


def fmt_specific(qemu_img, f):
    p = qemu_img("info", "--output", "json", f)
    return json.loads(p.stdout)["format-specific"]["data"]


def check_clean(qemu_img, f):
    p = qemu_img("check", f, check=False)
    assert p.returncode == 0, p.stdout + p.stderr


def guest(qemu_img, f, out, snapshot=None):
    args = ["convert", "-O", "raw"] + (["-l", snapshot] if snapshot else [])
    qemu_img(*args, f, out)
    return out.read_bytes()


def make(qemu_img, qemu_io, path, opts, writes=(), size="4M"):
    qemu_img("create", "-q", "-f", "qcow2", "-o", opts, path, size)
    for w in writes:
        qemu_io("-f", "qcow2", "-c", w, path)
    return path


def test_upgrade_v2(vdisk, qemu_img, qemu_io, tmp_path):
    f = make(qemu_img, qemu_io, tmp_path / "a.qcow2", "compat=0.10",
             ["write -P 0x11 0 1M", "write -P 0x22 2M 64k"])
    qemu_img("snapshot", "-c", "s", f)
    want = guest(qemu_img, f, tmp_path / "a.raw")
    vdisk("amend", "-o", "compat=1.1", f)
    d = fmt_specific(qemu_img, f)
    assert d["compat"] == "1.1" and d["lazy-refcounts"] is False and d["refcount-bits"] == 16
    check_clean(qemu_img, f)
    assert guest(qemu_img, f, tmp_path / "b.raw") == want
    assert guest(qemu_img, f, tmp_path / "c.raw", "s") == want
    # a version 3 writer can use the image
    qemu_io("-f", "qcow2", "-c", "write -z 0 64k", f)
    check_clean(qemu_img, f)


def test_upgrade_with_lazy(vdisk, qemu_img, qemu_io, tmp_path):
    f = make(qemu_img, qemu_io, tmp_path / "a.qcow2", "compat=0.10")
    vdisk("amend", "-o", "compat=v3,lazy_refcounts=on", f)
    assert fmt_specific(qemu_img, f)["lazy-refcounts"] is True
    check_clean(qemu_img, f)


@pytest.mark.parametrize("backing", [False, True])
def test_downgrade_expands_zero_clusters(vdisk, qemu_img, qemu_io, tmp_path, backing):
    opts = "compat=1.1"
    if backing:
        base = make(qemu_img, qemu_io, tmp_path / "base.qcow2", "compat=1.1",
                    ["write -P 0x5a 0 4M"])
        opts += f",backing_file={base},backing_fmt=qcow2"
    f = make(qemu_img, qemu_io, tmp_path / "a.qcow2", opts,
             ["write -P 0x11 0 1M", "write -z 256k 128k", "write -z 2M 64k"])
    qemu_img("snapshot", "-c", "s", f)
    qemu_io("-f", "qcow2", "-c", "write -z 0 64k", "-c", "write -z -u 512k 64k", f)
    want = guest(qemu_img, f, tmp_path / "a.raw")
    want_s = guest(qemu_img, f, tmp_path / "s.raw", "s")
    vdisk("amend", "-o", "compat=0.10", f)
    assert fmt_specific(qemu_img, f)["compat"] == "0.10"
    check_clean(qemu_img, f)
    assert guest(qemu_img, f, tmp_path / "b.raw") == want
    assert guest(qemu_img, f, tmp_path / "t.raw", "s") == want_s
    # back up again: still the same data
    vdisk("amend", "-o", "compat=1.1", f)
    check_clean(qemu_img, f)
    assert guest(qemu_img, f, tmp_path / "c.raw") == want


def test_lazy_refcounts_toggle(vdisk, qemu_img, qemu_io, tmp_path):
    f = make(qemu_img, qemu_io, tmp_path / "a.qcow2", "compat=1.1", ["write -P 1 0 64k"])
    vdisk("amend", "-o", "lazy_refcounts=on", f)
    assert fmt_specific(qemu_img, f)["lazy-refcounts"] is True
    vdisk("amend", "-o", "lazy_refcounts=off", f)
    assert fmt_specific(qemu_img, f)["lazy-refcounts"] is False
    check_clean(qemu_img, f)


def test_zstd_without_compressed_data_downgrades(vdisk, qemu_img, qemu_io, tmp_path):
    f = make(qemu_img, qemu_io, tmp_path / "z.qcow2", "compression_type=zstd",
             ["write -P 3 0 64k"])
    vdisk("amend", "-o", "compat=0.10", f)
    d = fmt_specific(qemu_img, f)
    assert d["compat"] == "0.10" and d["compression-type"] == "zlib"
    check_clean(qemu_img, f)


REFUSED = [
    ("compat=0.10", "refcount_bits=8", "refcount_bits=16"),
    ("compat=0.10", "extended_l2=on", "incompatible features 0x10"),
    ("lazy_refcounts=on", "compat=0.10", "Lazy refcounts only supported"),
    ("compat=0.10,lazy_refcounts=on", "compat=1.1", "Lazy refcounts only supported"),
    ("compat=0.9", "compat=1.1", "Unknown compatibility level 0.9"),
    ("foo=1", "compat=1.1", "Invalid parameter 'foo'"),
    ("cluster_size=4k", "compat=1.1", "only supported for image creation"),
    ("lazy_refcounts=maybe", "compat=1.1", "expects 'on' or 'off'"),
]


@pytest.mark.parametrize("amend,create,msg", REFUSED)
def test_refusals_as_qemu(vdisk, qemu_img, qemu_io, tmp_path, amend, create, msg):
    fv = make(qemu_img, qemu_io, tmp_path / "v.qcow2", create, ["write -P 1 0 64k"])
    fq = make(qemu_img, qemu_io, tmp_path / "q.qcow2", create, ["write -P 1 0 64k"])
    before = fv.read_bytes()
    pv = vdisk("amend", "-o", amend, fv, check=False)
    pq = qemu_img("amend", "-o", amend, fq, check=False)
    assert pq.returncode == 1 and pv.returncode == 1, pv.stderr
    assert msg in pq.stderr and msg in pv.stderr
    assert fv.read_bytes() == before


def test_zstd_compressed_refused(vdisk, qemu_img, tmp_path):
    src = tmp_path / "s.raw"
    src.write_bytes(b"ab" * MiB)
    f = tmp_path / "z.qcow2"
    qemu_img("convert", "-c", "-O", "qcow2", "-o", "compression_type=zstd", src, f)
    pv = vdisk("amend", "-o", "compat=0.10", f, check=False)
    assert pv.returncode == 1 and "zstd compression type and existing compressed" in pv.stderr
    assert fmt_specific(qemu_img, f)["compat"] == "1.1"


def test_usage_errors(vdisk, qemu_img, tmp_path):
    f = tmp_path / "r.raw"
    f.write_bytes(b"\0" * 4096)
    for args in (["amend", f], ["amend", "-o", "compat=1.1"],
                 ["amend", "-f", "raw", "-o", "compat=1.1", f]):
        pv = vdisk(*args, check=False)
        pq = qemu_img(*args, check=False)
        assert pv.returncode == pq.returncode == 1, args
    assert "does not support option amendment" in vdisk(
        "amend", "-f", "raw", "-o", "compat=1.1", f, check=False).stderr


def test_unknown_extensions_kept_as_qemu(vdisk, qemu_img, qemu_io, tmp_path):
    """A bitmaps extension survives the header rewrite, as with qemu-img amend
    (which leaves the same leaked bitmap clusters behind on a downgrade)."""
    fv = make(qemu_img, qemu_io, tmp_path / "v.qcow2", "compat=1.1", ["write -P 1 0 64k"])
    qemu_img("bitmap", "--add", fv, "b0")
    fq = tmp_path / "q.qcow2"
    fq.write_bytes(fv.read_bytes())
    vdisk("amend", "-o", "compat=0.10", fv)
    qemu_img("amend", "-o", "compat=0.10", fq)
    magic = bytes.fromhex("23852875")
    assert magic in fv.read_bytes()[:4096] and magic in fq.read_bytes()[:4096]
    cv = json.loads(qemu_img("check", "--output", "json", fv, check=False).stdout)
    cq = json.loads(qemu_img("check", "--output", "json", fq, check=False).stdout)
    assert cv.get("corruptions", 0) == cq.get("corruptions", 0) == 0
    assert cv.get("leaks") == cq.get("leaks")
    vdisk("amend", "-o", "compat=1.1", fv)
    assert magic in fv.read_bytes()[:4096]
    assert fmt_specific(qemu_img, fv)["compat"] == "1.1"
