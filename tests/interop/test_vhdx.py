"""VHDX against qemu-img 7.2.

Reading: qemu-img-made images of every subformat and option, data written
by qemu-io with holes between, read by vdisk and compared byte for byte
with qemu-img's reading; info and check agree.  Writing: images vdisk
creates have qemu-img's layout, pass `qemu-img check`, and after the same
writes through vdisk-io and qemu-io compare equal.  What qemu-img cannot
make (differencing files, 4 KiB logical sectors, every block state, logs
to replay) is built from the spec in vhdx_build.py, with the expected
content computed from first principles; where QEMU can act on such a file
(log replay through `qemu-img check -r all`) it is the oracle.
"""
import json
import shutil
import struct
import uuid

import pytest

import vhdx_build as vx
from cli_common import assert_no_crash

MiB = 1 << 20
WRITES = ["write -P 0x11 0 4k", "write -P 0x22 1000 70000", "write -P 0x33 9M 1M",
          "write -z 9441280 8k", "write -P 0x44 17M 1024"]


def apply(qemu_io, img, cmds, fmt="vhdx"):
    for c in cmds:
        qemu_io("-f", fmt, "-c", c, img)


def qinfo(qemu_img, img):
    return json.loads(qemu_img("info", "--output", "json", img).stdout)


def vinfo(vdisk, *args):
    p = vdisk("info", "--output", "json", *args, check=False)
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)


def vdisk_raw(vdisk, img, out, *opts):
    p = vdisk("convert", *opts, "-O", "raw", img, out, check=False)
    assert_no_crash(p)
    assert p.returncode == 0, p.stderr
    return out.read_bytes()


def reads_as(vdisk, img, want, tmp_path):
    assert vdisk_raw(vdisk, img, tmp_path / "out.raw") == want


MADE = [[], ["-o", "subformat=fixed"], ["-o", "block_state_zero=off"],
        ["-o", "subformat=fixed,block_state_zero=off"], ["-o", "block_size=1M,log_size=3M"],
        ["-o", "block_size=256M"], ["-o", "subformat=fixed,block_size=2M"]]


@pytest.mark.parametrize("opts", MADE, ids=lambda o: "-".join(o) or "default")
def test_read_qemu_made(tmp_path, vdisk, qemu_img, qemu_io, opts):
    img = tmp_path / "disk.vhdx"
    qemu_img("create", "-q", "-f", "vhdx", *opts, img, "20M")
    apply(qemu_io, img, WRITES)
    out = tmp_path / "v.raw"
    vdisk_raw(vdisk, img, out)
    qemu_img("compare", "-f", "raw", "-F", "vhdx", out, img)
    qemu_img("convert", "-O", "raw", img, tmp_path / "q.raw")
    assert out.read_bytes() == (tmp_path / "q.raw").read_bytes()
    q, v = qinfo(qemu_img, img), vinfo(vdisk, img)
    for k in ("virtual-size", "format", "cluster-size"):
        assert v[k] == q[k]
    assert vdisk("check", img).stdout == qemu_img("check", img).stdout


def test_large_sparse(tmp_path, vdisk, qemu_img, qemu_io):
    """2 TiB with two written ranges: the copy holds them and is sparse
    elsewhere (qemu-img compare would read 2 TiB: vhdx has no block status
    in QEMU)."""
    img = tmp_path / "big.vhdx"
    qemu_img("create", "-q", "-f", "vhdx", img, "2T")
    apply(qemu_io, img, ["write -P 0x5a 1T 64k", "write -P 0x5b 2047G 1M"])
    out = tmp_path / "v.raw"
    p = vdisk("convert", "-O", "raw", img, out, check=False)
    assert p.returncode == 0, p.stderr
    assert out.stat().st_size == 2 << 40
    with open(out, "rb") as f:
        f.seek(1 << 40)
        assert f.read(64 << 10) == b"\x5a" * (64 << 10)
        f.seek(2047 << 30)
        assert f.read(MiB) == b"\x5b" * MiB
    assert out.stat().st_blocks * 512 < 16 * MiB
    m = json.loads(vdisk("map", "--output", "json", img).stdout)
    assert [e["start"] for e in m if e["data"]] == [1 << 40, 2047 << 30]


CREATE = [([], "20M"), ([], "3G"), ([], "200G"), (["-o", "subformat=fixed"], "20M"),
          (["-o", "subformat=fixed,block_state_zero=off"], "20M"),
          (["-o", "block_state_zero=off"], "20M"), (["-o", "block_size=1M,log_size=2M"], "20M"),
          (["-o", "block_size=1000k"], "20M"), (["-o", "log_size=1000k"], "20M"),
          (["-o", "block_size=512M"], "20M"),
          (["-o", "subformat=fixed", "-o", "preallocation=full"], "20M")]


@pytest.mark.parametrize("opts,size", CREATE, ids=lambda v: "-".join(v) if isinstance(v, list) else v)
def test_create_like_qemu(tmp_path, vdisk, qemu_img, qemu_io, vio, opts, size):
    ours, theirs = tmp_path / "v.vhdx", tmp_path / "q.vhdx"
    p = vdisk("create", "-f", "vhdx", *opts, ours, size)
    q = qemu_img("create", "-f", "vhdx", *opts, theirs, size)
    assert p.stdout.replace("v.vhdx", "X") == q.stdout.replace("q.vhdx", "X")
    qemu_img("check", ours)
    qi, vi = qinfo(qemu_img, ours), qinfo(qemu_img, theirs)
    assert qi["virtual-size"] == vi["virtual-size"] and qi["cluster-size"] == vi["cluster-size"]
    assert ours.stat().st_size == theirs.stat().st_size
    if size != "20M":
        return
    for c in WRITES:
        vio("-f", "vhdx", ours, "-c", c)
    apply(qemu_io, theirs, WRITES)
    qemu_img("check", ours)
    qemu_img("compare", ours, theirs)


@pytest.mark.parametrize("opts", [[], ["-o", "subformat=fixed"], ["-o", "block_size=1M"],
                                  ["-o", "subformat=fixed,block_state_zero=off"]])
def test_convert_into_vhdx(tmp_path, vdisk, qemu_img, qemu_io, opts):
    src = tmp_path / "src.qcow2"
    qemu_img("create", "-q", "-f", "qcow2", src, "40M")
    apply(qemu_io, src, WRITES + ["write -P 0x77 30M 5M"], fmt="qcow2")
    dst = tmp_path / "dst.vhdx"
    vdisk("convert", "-O", "vhdx", *opts, src, dst)
    qemu_img("check", dst)
    qemu_img("compare", src, dst)
    if any("fixed" in o for o in opts):
        # A fixed file stays the size qemu-img creates it (QEMU itself
        # appends the blocks of a block_state_zero file).
        made = tmp_path / "made.vhdx"
        qemu_img("create", "-q", "-f", "vhdx", *opts, made, "40M")
        assert dst.stat().st_size == made.stat().st_size


@pytest.mark.parametrize("opts", [["-o", "block_size=3M"], ["-o", "log_size=5G"], ["-o", "log_size=0"],
                                  ["-o", "subformat=sparse"], ["-o", "block_state_zero=maybe"],
                                  ["-o", "cluster_size=64k"]])
def test_create_messages_as_qemu(tmp_path, vdisk, qemu_img, opts):
    q = qemu_img("create", "-q", "-f", "vhdx", *opts, tmp_path / "q.vhdx", "20M", check=False)
    p = vdisk("create", "-q", "-f", "vhdx", *opts, tmp_path / "v.vhdx", "20M", check=False)
    assert q.returncode == p.returncode == 1
    qmsg = q.stderr.split(": ", 2)[-1].strip()
    assert qmsg.split("(")[0].strip() in p.stderr, (q.stderr, p.stderr)
    assert not (tmp_path / "v.vhdx").exists()


def test_too_large(tmp_path, vdisk, qemu_img):
    q = qemu_img("create", "-q", "-f", "vhdx", tmp_path / "q.vhdx", "65T", check=False)
    p = vdisk("create", "-q", "-f", "vhdx", tmp_path / "v.vhdx", "65T", check=False)
    assert q.returncode == p.returncode == 1
    assert "max of 64TB" in q.stderr and "max of 64TB" in p.stderr


# ---- files built from the spec -------------------------------------------

def pattern(n, seed):
    return bytes((seed + i * 7) & 0xFF or 1 for i in range(n))


@pytest.mark.parametrize("lsec", [512, 4096])
def test_block_states(tmp_path, vdisk, lsec):
    im = vx.Image(10 * MiB + 3 * lsec, block_size=MiB, lsec=lsec)
    im.block(0, pattern(MiB, 1))
    im.state(1, vx.ZERO)
    im.state(2, vx.UNMAPPED)
    im.state(3, vx.UNDEFINED)
    im.block(5, pattern(MiB, 5))
    im.block(10, pattern(MiB, 10))    # the last, partial block
    img = tmp_path / "states.vhdx"
    im.write(img)
    reads_as(vdisk, img, im.expected(), tmp_path)


def make_parent(tmp_path, qemu_img, qemu_io, size="8M"):
    parent = tmp_path / "parent.vhdx"
    qemu_img("create", "-q", "-f", "vhdx", "-o", "block_size=1M", parent, size)
    apply(qemu_io, parent, ["write -P 0xa1 0 %s" % size, "write -z 2M 512k"])
    qemu_img("convert", "-O", "raw", parent, tmp_path / "parent.raw")
    return parent, (tmp_path / "parent.raw").read_bytes()


def child(parent, **kv):
    link = kv.pop("linkage", None) or "{%s}" % vx.current_data_write_guid(parent)
    locator = {"parent_linkage": link}
    locator.update(kv)
    im = vx.Image(8 * MiB, block_size=MiB, parent_kv=locator)
    im.block(0, pattern(MiB, 3))
    im.partial(1, pattern(MiB, 4), list(range(0, 8)) + list(range(100, 130)))
    im.state(3, vx.ZERO)
    im.partial(6, pattern(MiB, 6), [2047])
    return im


def test_differencing_relative(tmp_path, vdisk, qemu_img, qemu_io):
    parent, praw = make_parent(tmp_path, qemu_img, qemu_io)
    im = child(parent, relative_path=".\\parent.vhdx", absolute_win32_path="C:\\vms\\parent.vhdx")
    img = tmp_path / "child.vhdx"
    im.write(img)
    reads_as(vdisk, img, im.expected(praw), tmp_path)
    info = vinfo(vdisk, img)
    assert info["backing-filename"] == "parent.vhdx"
    assert info["backing-filename-format"] == "vhdx"
    ref = tmp_path / "want.raw"
    ref.write_bytes(im.expected(praw))
    vdisk("compare", "-F", "raw", img, ref)


def test_differencing_order_of_paths(tmp_path, vdisk, qemu_img, qemu_io):
    """relative_path first; a volume path cannot name a file here; an
    absolute path that exists on this host is the last resort."""
    sub = tmp_path / "base"
    sub.mkdir()
    parent, praw = make_parent(sub, qemu_img, qemu_io)
    im = child(parent, relative_path="..\\elsewhere\\parent.vhdx",
               volume_path="\\\\?\\Volume{26a21bda-a627-11d7-9931-806e6f6e6963}\\base\\parent.vhdx",
               absolute_win32_path=str(parent))
    img = tmp_path / "child.vhdx"
    im.write(img)
    reads_as(vdisk, img, im.expected(praw), tmp_path)


def test_differencing_smaller_parent(tmp_path, vdisk, qemu_img, qemu_io):
    parent, praw = make_parent(tmp_path, qemu_img, qemu_io, size="3M")
    im = child(parent, relative_path="parent.vhdx")
    img = tmp_path / "child.vhdx"
    im.write(img)
    reads_as(vdisk, img, im.expected(praw), tmp_path)


def test_differencing_map(tmp_path, vdisk, qemu_img, qemu_io):
    parent, praw = make_parent(tmp_path, qemu_img, qemu_io)
    im = child(parent, relative_path="parent.vhdx")
    img = tmp_path / "child.vhdx"
    im.write(img)
    m = json.loads(vdisk("map", "--output", "json", img).stdout)
    assert sum(e["length"] for e in m) == 8 * MiB
    assert (m[0]["start"], m[0]["length"], m[0]["depth"], m[0]["data"]) == (0, MiB, 0, True)
    assert (m[1]["start"], m[1]["length"], m[1]["depth"]) == (MiB, 8 * 512, 0)
    assert (m[2]["start"], m[2]["depth"]) == (MiB + 8 * 512, 1)


def test_differencing_changed_parent_refused(tmp_path, vdisk, qemu_img, qemu_io):
    parent, _ = make_parent(tmp_path, qemu_img, qemu_io)
    im = child(parent, relative_path="parent.vhdx", linkage="{%s}" % uuid.uuid4())
    img = tmp_path / "child.vhdx"
    im.write(img)
    p = vdisk("convert", "-O", "raw", img, tmp_path / "o.raw", check=False)
    assert p.returncode == 1 and "parent_linkage" in p.stderr


def test_differencing_missing_parent(tmp_path, vdisk, qemu_img, qemu_io):
    parent, _ = make_parent(tmp_path, qemu_img, qemu_io)
    im = child(parent, relative_path="gone.vhdx", absolute_win32_path="D:\\gone.vhdx")
    img = tmp_path / "child.vhdx"
    im.write(img)
    p = vdisk("convert", "-O", "raw", img, tmp_path / "o.raw", check=False)
    assert p.returncode == 1 and "gone.vhdx" in p.stderr


def test_differencing_loop_refused(tmp_path, vdisk, qemu_img, qemu_io):
    parent, _ = make_parent(tmp_path, qemu_img, qemu_io)
    im = child(parent, relative_path="child.vhdx")
    img = tmp_path / "child.vhdx"
    im.write(img)
    p = vdisk("convert", "-O", "raw", img, tmp_path / "o.raw", check=False)
    assert_no_crash(p)
    assert p.returncode == 1 and "loop" in p.stderr


def test_differencing_is_read_only(tmp_path, vdisk, qemu_img, qemu_io, vio):
    parent, _ = make_parent(tmp_path, qemu_img, qemu_io)
    im = child(parent, relative_path="parent.vhdx")
    img = tmp_path / "child.vhdx"
    im.write(img)
    p = vio("-f", "vhdx", img, "-c", "write 0 512", check=False)
    assert p.returncode == 1 and "differencing" in p.stderr


# ---- the log ---------------------------------------------------------------

def dirty_image(tmp_path, qemu_img, qemu_io, truncate_to=None):
    """A qemu-img image plus a log entry (as a crash would leave it) that
    makes block 1 present with new data: the BAT page and the block's data
    both come from the log, the data through a zero and a data
    descriptor."""
    img = tmp_path / "dirty.vhdx"
    qemu_img("create", "-q", "-f", "vhdx", "-o", "block_size=1M", img, "8M")
    apply(qemu_io, img, ["write -P 0x61 0 1M"])
    data = bytearray(img.read_bytes())
    bat_off = 2 * MiB
    end = len(data)
    page = bytearray(data[bat_off:bat_off + 4096])
    struct.pack_into("<Q", page, 8, end | vx.FULLY)           # block 1 at the old end
    new = bytes([0x62]) * 4096
    guid = uuid.uuid4()
    # LastFileOffset not on a MiB boundary: QEMU extends the file only then.
    entry = vx.log_entry(guid, 7, 0, end, end + MiB + 4096, updates=[(bat_off, bytes(page)), (end + 4096, new)],
                         zeros=[(end, 4096)])
    data[MiB:MiB + len(entry)] = entry
    for i, at in enumerate((64 << 10, 128 << 10)):
        h = bytearray(data[at:at + 4096])
        h[48:64] = guid.bytes_le
        struct.pack_into("<Q", h, 8, struct.unpack_from("<Q", h, 8)[0] + 10)
        data[at:at + 4096] = vx.with_crc(h, 4)
    img.write_bytes(bytes(data[:truncate_to] if truncate_to else data))
    want = bytearray(8 * MiB)
    want[0:MiB] = bytes([0x61]) * MiB
    want[MiB + 4096:MiB + 8192] = new
    return img, bytes(want)


def test_dirty_log_refused_read_only(tmp_path, vdisk, qemu_img, qemu_io):
    img, _ = dirty_image(tmp_path, qemu_img, qemu_io)
    for args in (["info", img], ["info", "-U", img], ["convert", "-O", "raw", img, tmp_path / "o.raw"],
                 ["check", img]):
        p = vdisk(*args, check=False)
        assert p.returncode == 1 and "replay" in p.stderr, p.stderr
    q = qemu_img("info", img, check=False)
    assert q.returncode == 1 and "replay" in q.stderr   # QEMU refuses it too


def test_dirty_log_replayed_like_qemu(tmp_path, vdisk, qemu_img, qemu_io):
    img, want = dirty_image(tmp_path, qemu_img, qemu_io)
    theirs = tmp_path / "theirs.vhdx"
    shutil.copyfile(img, theirs)
    q = qemu_img("check", "-r", "all", theirs, check=False)
    p = vdisk("check", "-r", "all", img, check=False)
    assert p.returncode == q.returncode == 0, (p.stderr, q.stderr)
    assert p.stdout == q.stdout.replace("theirs.vhdx", "dirty.vhdx")
    assert "1 corruptions" in p.stdout
    qemu_img("check", img)
    qemu_img("compare", img, theirs)
    reads_as(vdisk, img, want, tmp_path)
    assert vinfo(vdisk, img)["format"] == "vhdx"   # and now opens read-only


def test_dirty_log_replayed_on_writable_open(tmp_path, vdisk, qemu_img, qemu_io, vio):
    img, want = dirty_image(tmp_path, qemu_img, qemu_io)
    vio("-f", "vhdx", img, "-c", "write -P 0x63 7M 4k")
    w = bytearray(want)
    w[7 * MiB:7 * MiB + 4096] = bytes([0x63]) * 4096
    qemu_img("check", img)
    reads_as(vdisk, img, bytes(w), tmp_path)


def test_truncated_file_with_log_refused(tmp_path, vdisk, qemu_img, qemu_io):
    img, _ = dirty_image(tmp_path, qemu_img, qemu_io, truncate_to=5 * MiB)
    p = vdisk("check", "-r", "all", img, check=False)
    assert p.returncode == 1 and "truncated" in p.stderr


def test_vdisk_log_entries_replayed_by_qemu(tmp_path, vdisk, qemu_img, qemu_io, vio):
    """A log entry as vdisk writes it (log-write.c), left unreplayed, is
    replayed by qemu-img check -r all: the entry the crash test relies on
    is one QEMU understands."""
    img = tmp_path / "disk.vhdx"
    vdisk("create", "-q", "-f", "vhdx", "-o", "block_size=1M", img, "8M")
    vio("-f", "vhdx", img, "-c", "write -P 0x71 3M 1M")
    data = bytearray(img.read_bytes())
    # What the commit wrote in place (the BAT page) is undone; the log entry
    # it left behind (GUID cleared after it) is made current again.
    with open(img, "rb") as f:
        f.seek(MiB)
        entry = f.read(8192)
    assert entry[:4] == b"loge"
    guid = uuid.UUID(bytes_le=entry[32:48])
    data[2 * MiB:2 * MiB + 4096] = bytes(4096)
    for at in (64 << 10, 128 << 10):
        h = bytearray(data[at:at + 4096])
        h[48:64] = guid.bytes_le
        data[at:at + 4096] = vx.with_crc(h, 4)
    img.write_bytes(bytes(data))
    qemu_img("check", "-r", "all", img)
    want = bytearray(8 * MiB)
    want[3 * MiB:4 * MiB] = bytes([0x71]) * MiB
    qemu_img("convert", "-O", "raw", img, tmp_path / "q.raw")
    assert (tmp_path / "q.raw").read_bytes() == bytes(want)


# ---- hostile files -----------------------------------------------------------

def qemu_made(tmp_path, qemu_img, qemu_io):
    img = tmp_path / "bad.vhdx"
    qemu_img("create", "-q", "-f", "vhdx", "-o", "block_size=1M", img, "8M")
    apply(qemu_io, img, ["write -P 0x61 0 2M"])
    return img


def poke(img, off, data):
    with open(img, "r+b") as f:
        f.seek(off)
        f.write(data)


def fix_crc(img, off, length):
    with open(img, "r+b") as f:
        f.seek(off)
        b = f.read(length)
        f.seek(off)
        f.write(vx.with_crc(b, 4))


def open_fails(vdisk, img, tmp_path, *words):
    p = vdisk("convert", "-O", "raw", img, tmp_path / "o.raw", check=False)
    assert_no_crash(p)
    assert p.returncode == 1, p.stderr
    for w in words:
        assert w in p.stderr, p.stderr


def test_one_bad_header_uses_the_other(tmp_path, vdisk, qemu_img, qemu_io):
    img = qemu_made(tmp_path, qemu_img, qemu_io)
    poke(img, (128 << 10) + 100, b"\xff")     # the current header's checksum fails
    reads_as(vdisk, img, (qemu_img("convert", "-O", "raw", img, tmp_path / "q.raw") and
                          (tmp_path / "q.raw").read_bytes()), tmp_path)


def test_both_headers_bad(tmp_path, vdisk, qemu_img, qemu_io):
    img = qemu_made(tmp_path, qemu_img, qemu_io)
    poke(img, (64 << 10) + 100, b"\xff")
    poke(img, (128 << 10) + 100, b"\xff")
    open_fails(vdisk, img, tmp_path, "No valid VHDX header")


def test_first_region_table_bad_uses_copy(tmp_path, vdisk, qemu_img, qemu_io):
    img = qemu_made(tmp_path, qemu_img, qemu_io)
    want = (qemu_img("convert", "-O", "raw", img, tmp_path / "q.raw") and (tmp_path / "q.raw").read_bytes())
    poke(img, (192 << 10) + 20, b"\xff")
    reads_as(vdisk, img, want, tmp_path)
    poke(img, (256 << 10) + 20, b"\xff")
    open_fails(vdisk, img, tmp_path, "region table")


@pytest.mark.parametrize("what,edit,words", [
    ("unknown required region", lambda img: (poke(img, (192 << 10) + 8, struct.pack("<I", 3)),
                                            poke(img, (192 << 10) + 16 + 64, uuid.uuid4().bytes_le +
                                                 struct.pack("<QII", 40 * MiB, MiB, 1)),
                                            fix_crc(img, 192 << 10, 64 << 10)), ["required but unknown"]),
    ("BAT outside the file", lambda img: (poke(img, (192 << 10) + 16 + 16, struct.pack("<Q", 1 << 40)),
                                         fix_crc(img, 192 << 10, 64 << 10)), ["outside the file"]),
    ("block size", lambda img: poke(img, 3 * MiB + (64 << 10), struct.pack("<I", 3 * MiB)),
     ["block size"]),
    ("logical sector", lambda img: poke(img, 3 * MiB + (64 << 10) + 32, struct.pack("<I", 1024)),
     ["logical sector"]),
    ("virtual size", lambda img: poke(img, 3 * MiB + (64 << 10) + 8, struct.pack("<Q", 1 << 62)),
     ["virtual disk size"]),
    ("metadata signature", lambda img: poke(img, 3 * MiB, b"nothere!"), ["metadata"]),
    ("BAT entry past EOF", lambda img: poke(img, 2 * MiB + 8, struct.pack("<Q", (1 << 40) | 6)),
     ["BAT entry 1", "end of the file"]),
    ("BAT entry in the header", lambda img: poke(img, 2 * MiB + 8, struct.pack("<Q", 6)),
     ["BAT entry 1", "overlaps"]),
    ("BAT entries share a block", lambda img: poke(img, 2 * MiB + 8, open(img, "rb").read()[2 * MiB:2 * MiB + 8]),
     ["another entry"]),
    ("partial in a dynamic file", lambda img: poke(img, 2 * MiB, struct.pack("<Q", 7)),
     ["partially present"]),
])
def test_hostile(tmp_path, vdisk, qemu_img, qemu_io, what, edit, words):
    img = qemu_made(tmp_path, qemu_img, qemu_io)
    edit(img)
    open_fails(vdisk, img, tmp_path, *words)


def test_bad_bat_counted_by_check_as_qemu(tmp_path, vdisk, qemu_img, qemu_io):
    img = qemu_made(tmp_path, qemu_img, qemu_io)
    poke(img, 2 * MiB + 8, struct.pack("<Q", (1 << 40) | 6))
    q = qemu_img("check", "--output", "json", img, check=False)
    p = vdisk("check", "--output", "json", img, check=False)
    assert p.returncode == q.returncode == 2
    assert json.loads(p.stdout)["corruptions"] == json.loads(q.stdout)["corruptions"] == 1


def test_measure_as_source(tmp_path, vdisk, qemu_img, qemu_io):
    """QEMU has no block status for vhdx and measures every byte as data;
    vdisk sees the holes.  What it measures must hold qemu-img's own copy
    and be no more than qemu-img's estimate."""
    img = tmp_path / "disk.vhdx"
    qemu_img("create", "-q", "-f", "vhdx", img, "64M")
    apply(qemu_io, img, WRITES)
    q = json.loads(qemu_img("measure", "--output", "json", "-O", "qcow2", img).stdout)
    v = json.loads(vdisk("measure", "--output", "json", "-O", "qcow2", img).stdout)
    out = tmp_path / "copy.qcow2"
    qemu_img("convert", "-O", "qcow2", img, out)
    assert out.stat().st_size <= v["required"] <= q["required"]
    assert v["fully-allocated"] == q["fully-allocated"]
