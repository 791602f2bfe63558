"""VHD (qemu-img's "vpc") against qemu-img 7.2.

Reading: every subformat and option qemu-img makes, with data written by
qemu-io (holes between), read by vdisk and compared byte for byte with
`qemu-img convert -O raw`; info and map fields equal qemu-img's; the size
rules for other creator applications (qemu-img info as the oracle).
Writing: images vdisk creates have qemu-img's size and layout, and after
the same writes through vdisk-io and qemu-io they compare equal.
Differencing disks (qemu-img cannot make them) are built from the spec in
vhd_build.py; what they must read is computed from first principles.
"""
import json
import struct

import pytest

import vhd_build as vb
from cli_common import assert_no_crash

WRITES = ["write -P 0x11 0 4k", "write -P 0x22 1000 70000", "write -P 0x33 3M 1M",
          "write -z 3149824 8k", "write -P 0x44 9436672 1024"]


def qemu_raw(qemu_img, fmt, img, out):
    qemu_img("convert", "-f", fmt, "-O", "raw", img, out)
    return out.read_bytes()


def vdisk_raw(vdisk, fmt, img, out):
    p = vdisk("convert", "-f", fmt, "-O", "raw", img, out, check=False)
    assert_no_crash(p)
    assert p.returncode == 0, p.stderr
    return out.read_bytes()


def qinfo(qemu_img, *args):
    return json.loads(qemu_img("info", "--output", "json", *args).stdout)


def vinfo(vdisk, *args):
    p = vdisk("info", "--output", "json", *args, check=False)
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)


def apply(qemu_io, fmt, img, cmds):
    for c in cmds:
        qemu_io("-f", fmt, "-c", c, img)


MADE = [([], "10M"), ([], "64M"), (["-o", "force_size=on"], "10000k"),
        (["-o", "subformat=fixed"], "10M"), (["-o", "subformat=fixed,force_size=on"], "20M"),
        (["-o", "subformat=dynamic"], "130G")]


@pytest.mark.parametrize("opts,size", MADE, ids=lambda v: "-".join(v) if isinstance(v, list) else v)
def test_read_qemu_made(tmp_path, vdisk, qemu_img, qemu_io, opts, size):
    img = tmp_path / "disk.vhd"
    qemu_img("create", "-q", "-f", "vpc", *opts, img, size)
    apply(qemu_io, "vpc", img, WRITES)
    out = tmp_path / "v.raw"
    p = vdisk("convert", "-f", "vpc", "-O", "raw", img, out, check=False)
    assert p.returncode == 0, p.stderr
    qemu_img("compare", "-f", "raw", "-F", "vpc", out, img)
    if out.stat().st_size <= 64 << 20:
        assert out.read_bytes() == qemu_raw(qemu_img, "vpc", img, tmp_path / "q.raw")
    q, v = qinfo(qemu_img, "-f", "vpc", img), vinfo(vdisk, "-f", "vpc", img)
    for k in ("virtual-size", "format"):
        assert v[k] == q[k]
    assert v.get("cluster-size") == q.get("cluster-size")
    qmap = qemu_img("map", "-f", "vpc", "--output", "json", img).stdout
    vmap = vdisk("map", "-f", "vpc", "--output", "json", img).stdout
    assert json.loads(vmap) == json.loads(qmap)


def test_dynamic_is_probed(tmp_path, vdisk, qemu_img):
    img = tmp_path / "disk.vhd"
    qemu_img("create", "-q", "-f", "vpc", img, "4M")
    assert vinfo(vdisk, img)["format"] == "vpc"


@pytest.mark.parametrize("creator", [b"vpc ", b"qemu", b"win ", b"qem2", b"d2v ", b"CTXS", b"tap\0",
                                     b"xyz "])
def test_size_rules_by_creator(tmp_path, vdisk, qemu_img, creator):
    """Geometry and footer size disagree: which one counts depends on the
    creator application (qemu-img info decides)."""
    img = tmp_path / "disk.vhd"
    qemu_img("create", "-q", "-f", "vpc", "-o", "subformat=fixed", img, "10M")
    data = bytearray(img.read_bytes())
    foot = bytearray(data[-512:])
    foot[28:32] = creator
    struct.pack_into(">Q", foot, 48, 10 * 1024 * 1024 + 300 * 512)   # current size > CHS size
    data[-512:] = vb.refresh_footer_checksum(foot)
    img.write_bytes(bytes(data))
    assert vinfo(vdisk, "-f", "vpc", img)["virtual-size"] == qinfo(qemu_img, "-f", "vpc", img)["virtual-size"]


def test_maximal_geometry_uses_current_size(tmp_path, vdisk, qemu_img):
    img = tmp_path / "big.vhd"
    qemu_img("create", "-q", "-f", "vpc", img, "200G")   # past 127 GiB: CHS is maximal
    assert vinfo(vdisk, img)["virtual-size"] == qinfo(qemu_img, img)["virtual-size"] == 200 << 30


CREATE = [([], "10M"), ([], "1000M"), ([], "127G"), ([], "1T"), (["-o", "force_size=on"], "10000k"),
          (["-o", "subformat=fixed"], "10M"), (["-o", "subformat=fixed,force_size=on"], "100M"),
          (["-o", "subformat=fixed", "-o", "preallocation=falloc"], "10M"),
          (["-o", "subformat=fixed", "-o", "preallocation=full"], "10M")]


@pytest.mark.parametrize("opts,size", CREATE, ids=lambda v: "-".join(v) if isinstance(v, list) else v)
def test_create_like_qemu(tmp_path, vdisk, qemu_img, qemu_io, vio, opts, size):
    ours, theirs = tmp_path / "v.vhd", tmp_path / "q.vhd"
    vdisk("create", "-f", "vpc", *opts, ours, size)
    qemu_img("create", "-q", "-f", "vpc", *opts, theirs, size)
    fixed = any("fixed" in o for o in opts)
    fmt = ["-f", "vpc"]
    assert qinfo(qemu_img, *fmt, ours)["virtual-size"] == qinfo(qemu_img, *fmt, theirs)["virtual-size"]
    assert ours.stat().st_size == theirs.stat().st_size
    if not fixed:   # same dynamic header and BAT
        assert ours.read_bytes()[512:1536] == theirs.read_bytes()[512:1536]
    if size.endswith("T") or size.endswith("G"):
        return
    for c in WRITES:
        vio("-f", "vpc", ours, "-c", c)
    apply(qemu_io, "vpc", theirs, WRITES)
    qemu_img("compare", "-f", "vpc", "-F", "vpc", ours, theirs)


def test_convert_into_vpc(tmp_path, vdisk, qemu_img, qemu_io):
    src = tmp_path / "src.qcow2"
    qemu_img("create", "-q", "-f", "qcow2", src, "20M")
    apply(qemu_io, "qcow2", src, WRITES)
    for opts in ([], ["-o", "subformat=fixed"], ["-o", "subformat=fixed,force_size=on"]):
        dst = tmp_path / "dst.vhd"
        vdisk("convert", "-O", "vpc", *opts, src, dst)
        qemu_img("compare", "-F", "vpc", src, dst)


def test_azure_fixed_size(tmp_path, vdisk, qemu_img):
    """Azure takes fixed VHDs whose virtual size is a whole number of MiB."""
    img = tmp_path / "azure.vhd"
    vdisk("create", "-f", "vpc", "-o", "subformat=fixed,force_size=on", img, "1025M")
    info = qinfo(qemu_img, "-f", "vpc", img)
    assert info["virtual-size"] == 1025 << 20
    assert img.stat().st_size == (1025 << 20) + 512


@pytest.mark.parametrize("opts,words", [
    (["-o", "subformat=sparse"], ["subformat", "sparse"]),
    (["-o", "force_size=maybe"], ["force_size"]),
    (["-o", "preallocation=full"], ["preallocation", "fixed"]),
    (["-o", "cluster_size=4k"], ["cluster_size"]),
    (["-o", "backing_file=x.vhd"], ["Backing file"]),
])
def test_create_refusals(tmp_path, vdisk, opts, words):
    img = tmp_path / "bad.vhd"
    p = vdisk("create", "-f", "vpc", *opts, img, "10M", check=False)
    assert p.returncode == 1, p.stderr
    for w in words:
        assert w in p.stderr
    assert not img.exists()


def test_too_large(tmp_path, vdisk, qemu_img):
    img = tmp_path / "huge.vhd"
    q = qemu_img("create", "-q", "-f", "vpc", tmp_path / "q.vhd", "2041G", check=False)
    p = vdisk("create", "-f", "vpc", img, "2041G", check=False)
    assert q.returncode == 1 and p.returncode == 1
    assert "too large for file format 'vpc'" in p.stderr
    assert not img.exists()


def test_guest_cannot_turn_fixed_into_dynamic(tmp_path, vdisk, qemu_img, vio):
    """The guest of a fixed disk writes a dynamic footer into its first
    sector: the file stays a fixed disk (its last sector says so)."""
    img = tmp_path / "fixed.vhd"
    qemu_img("create", "-q", "-f", "vpc", "-o", "subformat=fixed", img, "4M")
    fake = vb.footer(4 << 20, vb.DYNAMIC, data_offset=512)
    raw = tmp_path / "fixed.raw"
    with open(img, "r+b") as f:
        f.write(fake)
    assert vinfo(vdisk, "-f", "vpc", img).get("cluster-size") is None   # fixed: no blocks
    got = vdisk_raw(vdisk, "vpc", img, raw)
    assert got[:512] == fake


# ---- differencing disks --------------------------------------------------

def make_parent(tmp_path, qemu_img, qemu_io, name="parent.vhd", size="6M"):
    parent = tmp_path / name
    qemu_img("create", "-q", "-f", "vpc", "-o", "force_size=on", parent, size)
    apply(qemu_io, "vpc", parent, [f"write -P 0xa1 0 {size}", "write -z 2M 512k"])
    return parent


def child_blocks():
    bs = 2 << 20
    b0 = bytes([0xc1]) * bs
    b2 = bytes([0xc2]) * bs
    return {0: (b0, set(range(0, 8)) | set(range(100, 300))), 2: (b2, set(range(4096)))}


def w2ru(text):
    return (b"W2ru", text.encode("utf-16-le"))


def w2ku(text):
    return (b"W2ku", text.encode("utf-16-le"))


def build_child(tmp_path, parent, locators, size=6 << 20, uid=None, name="child.vhd"):
    child = tmp_path / name
    vb.differencing(child, size, uid or vb.footer_uuid(parent), child_blocks(), locators)
    return child


def test_differencing_relative(tmp_path, vdisk, qemu_img, qemu_io):
    parent = make_parent(tmp_path, qemu_img, qemu_io)
    child = build_child(tmp_path, parent, [w2ku("C:\\vms\\parent.vhd"), w2ru(".\\parent.vhd")])
    want = vb.expected_diff(qemu_raw(qemu_img, "vpc", parent, tmp_path / "p.raw"), 6 << 20, child_blocks())
    assert vdisk_raw(vdisk, "vpc", child, tmp_path / "c.raw") == want
    info = vinfo(vdisk, child)
    assert info["backing-filename"] == "parent.vhd"
    assert info["backing-filename-format"] == "vpc"
    chain = json.loads(vdisk("info", "--output", "json", "--backing-chain", child).stdout)
    assert [i["format"] for i in chain] == ["vpc", "vpc"]


def test_differencing_absolute_when_relative_missing(tmp_path, vdisk, qemu_img, qemu_io):
    sub = tmp_path / "base"
    sub.mkdir()
    parent = make_parent(sub, qemu_img, qemu_io)
    child = build_child(tmp_path, parent, [w2ru(".\\parent.vhd"), w2ku(str(parent))])
    want = vb.expected_diff(qemu_raw(qemu_img, "vpc", parent, tmp_path / "p.raw"), 6 << 20, child_blocks())
    assert vdisk_raw(vdisk, "vpc", child, tmp_path / "c.raw") == want


def test_differencing_parent_larger_or_smaller(tmp_path, vdisk, qemu_img, qemu_io):
    parent = make_parent(tmp_path, qemu_img, qemu_io, size="3M")
    child = build_child(tmp_path, parent, [w2ru("parent.vhd")])
    want = vb.expected_diff(qemu_raw(qemu_img, "vpc", parent, tmp_path / "p.raw"), 6 << 20, child_blocks())
    assert vdisk_raw(vdisk, "vpc", child, tmp_path / "c.raw") == want


def test_differencing_map_and_compare(tmp_path, vdisk, qemu_img, qemu_io):
    parent = make_parent(tmp_path, qemu_img, qemu_io)
    child = build_child(tmp_path, parent, [w2ru("parent.vhd")])
    want = vb.expected_diff(qemu_raw(qemu_img, "vpc", parent, tmp_path / "p.raw"), 6 << 20, child_blocks())
    ref = tmp_path / "want.raw"
    ref.write_bytes(want)
    vdisk("compare", "-f", "vpc", "-F", "raw", child, ref)
    m = json.loads(vdisk("map", "--output", "json", child).stdout)
    assert sum(e["length"] for e in m) == 6 << 20
    assert m[0] == {"start": 0, "length": 8 * 512, "depth": 0, "present": True, "zero": False,
                    "data": True, "offset": m[0]["offset"]}
    assert m[1]["depth"] == 1


def test_differencing_wrong_parent(tmp_path, vdisk, qemu_img, qemu_io):
    parent = make_parent(tmp_path, qemu_img, qemu_io)
    child = build_child(tmp_path, parent, [w2ru("parent.vhd")], uid=b"\x01" * 16)
    p = vdisk("info", "--backing-chain", child, check=False)
    assert p.returncode == 1 and "unique id" in p.stderr


def test_differencing_missing_parent(tmp_path, vdisk, qemu_img, qemu_io):
    parent = make_parent(tmp_path, qemu_img, qemu_io)
    child = build_child(tmp_path, parent, [w2ru("gone.vhd"), w2ku("D:\\x\\gone.vhd")])
    p = vdisk("convert", "-O", "raw", child, tmp_path / "o.raw", check=False)
    assert p.returncode == 1 and "gone.vhd" in p.stderr
    p = vdisk("info", "--output", "json", child, check=False)   # info alone needs no parent
    assert p.returncode == 0 and json.loads(p.stdout)["backing-filename"] == "gone.vhd"


def test_differencing_loop_refused(tmp_path, vdisk, qemu_img, qemu_io):
    parent = make_parent(tmp_path, qemu_img, qemu_io)
    child = build_child(tmp_path, parent, [w2ru("child.vhd")], uid=vb.footer_uuid(parent))
    p = vdisk("convert", "-O", "raw", child, tmp_path / "o.raw", check=False)
    assert_no_crash(p)
    assert p.returncode == 1 and "loop" in p.stderr


def test_differencing_is_read_only(tmp_path, vdisk, qemu_img, qemu_io, vio):
    parent = make_parent(tmp_path, qemu_img, qemu_io)
    child = build_child(tmp_path, parent, [w2ru("parent.vhd")])
    p = vio("-f", "vpc", child, "-c", "write 0 512", check=False)
    assert p.returncode == 1 and "differencing" in p.stderr


# ---- hostile files -------------------------------------------------------

def damaged(tmp_path, qemu_img, edit):
    img = tmp_path / "bad.vhd"
    qemu_img("create", "-q", "-f", "vpc", img, "10M")
    data = bytearray(img.read_bytes())
    edit(data)
    img.write_bytes(bytes(data))
    return img


def set_dyn(data, fmt, off, value):
    struct.pack_into(fmt, data, 512 + off, value)
    struct.pack_into(">I", data, 512 + 36, vb.checksum(data[512:1536], 36))


def zero_checksums(d):
    d[64:68] = b"\0\0\0\0"
    d[-512 + 64:-512 + 68] = b"\0\0\0\0"


@pytest.mark.parametrize("edit,words", [
    (zero_checksums, ["checksum"]),
    (lambda d: set_dyn(d, ">I", 32, 3000), ["block size"]),
    (lambda d: set_dyn(d, ">I", 28, 1), ["too few"]),
    (lambda d: set_dyn(d, ">Q", 16, 1 << 40), ["outside the file"]),
    (lambda d: set_dyn(d, ">I", 28, 0xFFFFFFFF), ["outside the file"]),
    (lambda d: struct.pack_into(">I", d, 1536, 0x7FFFFFFF), ["outside the file"]),
    (lambda d: struct.pack_into(">I", d, 1536, 1), ["overlaps"]),
    (lambda d: d.__setitem__(slice(512, 520), b"xxxxxxxx"), ["cxsparse"]),
])
def test_hostile(tmp_path, vdisk, qemu_img, edit, words):
    img = damaged(tmp_path, qemu_img, edit)
    p = vdisk("convert", "-f", "vpc", "-O", "raw", img, tmp_path / "o.raw", check=False)
    assert_no_crash(p)
    assert p.returncode == 1, p.stderr
    for w in words:
        assert w in p.stderr, p.stderr
    assert "bad.vhd" in p.stderr


def test_damaged_head_copy_falls_back_to_footer(tmp_path, vdisk, qemu_img, qemu_io):
    """The spec keeps a copy of the footer in a dynamic disk's first
    sector; when that copy is damaged the footer at the end still counts."""
    img = tmp_path / "disk.vhd"
    qemu_img("create", "-q", "-f", "vpc", img, "10M")
    apply(qemu_io, "vpc", img, WRITES)
    want = qemu_raw(qemu_img, "vpc", img, tmp_path / "q.raw")
    with open(img, "r+b") as f:
        f.seek(64)
        f.write(b"\0\0\0\0")
    assert vdisk_raw(vdisk, "vpc", img, tmp_path / "v.raw") == want


def test_truncated_file(tmp_path, vdisk):
    img = tmp_path / "tiny.vhd"
    img.write_bytes(b"conectix")
    p = vdisk("info", "-f", "vpc", img, check=False)
    assert p.returncode == 1 and "tiny.vhd" in p.stderr


def test_probe_foreign_fixed_is_raw(tmp_path, vdisk, qemu_img):
    img = tmp_path / "fixed.vhd"
    qemu_img("create", "-q", "-f", "vpc", "-o", "subformat=fixed", img, "4M")
    assert vinfo(vdisk, img)["format"] == qinfo(qemu_img, img)["format"] == "raw"
    assert (vinfo(vdisk, "-f", "vpc", img)["virtual-size"] ==
            qinfo(qemu_img, "-f", "vpc", img)["virtual-size"])


def test_measure_as_source(tmp_path, vdisk, qemu_img, qemu_io):
    img = tmp_path / "disk.vhd"
    qemu_img("create", "-q", "-f", "vpc", img, "64M")
    apply(qemu_io, "vpc", img, WRITES)
    q = json.loads(qemu_img("measure", "--output", "json", "-O", "qcow2", img).stdout)
    v = json.loads(vdisk("measure", "--output", "json", "-O", "qcow2", img).stdout)
    assert v == q
    p = vdisk("measure", "-O", "vpc", "--size", "1G", check=False)
    assert p.returncode == 1 and "does not support size measurement" in p.stderr
