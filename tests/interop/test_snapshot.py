"""vdisk-virsh snapshot against qemu-img snapshot / qemu-io / qemu-img check:
both tools list each other's snapshots with the same fields, applying
restores the data (compared with qemu-img convert -l), every operation
leaves `qemu-img check` clean, copy-on-write after a snapshot copies only
what is shared, and errors and exit codes are qemu-img's."""
import json
import os
import struct

import pytest

from cli_common import allocated_bytes, qemu_json, vdisk_json  # noqa: F401
from conftest import vdisk_io

MiB = 1 << 20


def check_clean(qemu_img, path):
    """qemu-img check finds no corruption and no leak (exit 0)."""
    p = qemu_img("check", "--output", "json", path, check=False)
    assert p.returncode == 0, p.stdout + p.stderr
    d = json.loads(p.stdout)
    assert d.get("corruptions", 0) == 0 and d.get("leaks", 0) == 0, d
    return d


def to_raw(qemu_img, path, out, snapshot=None):
    """The guest view of path (or of one snapshot of it) by qemu-img."""
    args = ["convert", "-O", "raw"]
    if snapshot:
        args += ["-l", snapshot]
    qemu_img(*args, path, out)
    return out.read_bytes()


def qcow2(qemu_img, qemu_io, tmp_path, name="disk.qcow2", size="8M", opts=None, writes=()):
    f = tmp_path / name
    args = ["create", "-q", "-f", "qcow2"]
    if opts:
        args += ["-o", opts]
    qemu_img(*args, f, size)
    for w in writes:
        qemu_io("-f", "qcow2", "-c", w, f)
    return f


DATA = ("write -P 0x11 0 1M", "write -P 0x22 3M 64k", "write -z 5M 128k")


@pytest.mark.parametrize("opts", [None, "compat=0.10", "cluster_size=4k",
                                  "cluster_size=512,refcount_bits=64",
                                  "extended_l2=on", "lazy_refcounts=on"])
def test_create_listed_by_qemu(vdisk, qemu_img, qemu_io, tmp_path, opts):
    f = qcow2(qemu_img, qemu_io, tmp_path, opts=opts, writes=DATA)
    vdisk("snapshot", "-c", "first", f)
    check_clean(qemu_img, f)
    vdisk("snapshot", "-c", "second", f)
    check_clean(qemu_img, f)
    info = qemu_json(qemu_img, "info", "--output", "json", f)
    names = [(s["id"], s["name"]) for s in info["snapshots"]]
    assert names == [("1", "first"), ("2", "second")]
    for s in info["snapshots"]:
        assert s["vm-state-size"] == 0 and s["vm-clock-sec"] == 0
        assert s["icount"] == 0
        assert abs(s["date-sec"] - __import__("time").time()) < 600


def test_list_output_same_as_qemu(vdisk, qemu_img, qemu_io, tmp_path):
    f = qcow2(qemu_img, qemu_io, tmp_path, writes=DATA)
    qemu_img("snapshot", "-c", "from-qemu", f)
    vdisk("snapshot", "-c", "from vdisk", f)
    assert vdisk("snapshot", "-l", f).stdout == qemu_img("snapshot", "-l", f).stdout
    assert vdisk("snapshot", "-l", "-U", f).stdout == qemu_img("snapshot", "-l", "-U", f).stdout


@pytest.mark.parametrize("clock_ns,vm_state,icount", [
    (3723004000000, 1536 * MiB, 123456789),          # 01:02:03.004, 1.5 GiB, an icount
    (99 * 3600 * 10**9 + 59 * 10**9 + 999999999, 5000, -1),   # no icount: blank column
    (0, (1 << 32) + 7, 0),                           # VM state too big for 32 bits
])
def test_list_fields_same_as_qemu(vdisk, qemu_img, qemu_io, tmp_path, clock_ns, vm_state,
                                  icount):
    """VM clock, VM state size and icount written into a qemu-made entry
    (offsets from docs/interop/qcow2.txt) print as qemu-img prints them."""
    f = qcow2(qemu_img, qemu_io, tmp_path)
    qemu_img("snapshot", "-c", "patched", f)
    data = bytearray(f.read_bytes())
    table = struct.unpack(">Q", data[64:72])[0]
    struct.pack_into(">Q", data, table + 24, clock_ns)
    struct.pack_into(">I", data, table + 32, vm_state if vm_state < 1 << 32 else 0)
    struct.pack_into(">Q", data, table + 40, vm_state)
    struct.pack_into(">q", data, table + 56, icount)
    f.write_bytes(bytes(data))
    assert vdisk("snapshot", "-l", f).stdout == qemu_img("snapshot", "-l", f).stdout
    jv = vdisk_json(vdisk, "info", "--output", "json", f)["snapshots"]
    jq = qemu_json(qemu_img, "info", "--output", "json", f)["snapshots"]
    assert jv == jq


def test_list_empty_prints_nothing(vdisk, qemu_img, qemu_io, tmp_path):
    f = qcow2(qemu_img, qemu_io, tmp_path)
    assert qemu_img("snapshot", "-l", f).stdout == ""
    assert vdisk("snapshot", "-l", f).stdout == ""


def test_info_snapshot_list_same_as_qemu(vdisk, qemu_img, qemu_io, tmp_path):
    f = qcow2(qemu_img, qemu_io, tmp_path, writes=DATA)
    qemu_img("snapshot", "-c", "a", f)
    vdisk("snapshot", "-c", "b", f)
    hv = vdisk("info", f).stdout
    hq = qemu_img("info", f).stdout
    # disk size may differ by allocation details; the snapshot block may not
    block = lambda s: s[s.index("Snapshot list:"):s.index("Format specific")]  # noqa: E731
    assert block(hv) == block(hq)
    jv = vdisk_json(vdisk, "info", "--output", "json", f)
    jq = qemu_json(qemu_img, "info", "--output", "json", f)
    assert jv["snapshots"] == jq["snapshots"]


def test_info_json_with_backing_same_as_qemu(vdisk, qemu_img, qemu_io, tmp_path):
    base = qcow2(qemu_img, qemu_io, tmp_path, name="base.qcow2")
    f = qcow2(qemu_img, qemu_io, tmp_path, opts="backing_file=base.qcow2,backing_fmt=qcow2",
              writes=("write -P 1 0 64k",))
    assert base.exists()
    qemu_img("snapshot", "-c", "q", f)
    vdisk("snapshot", "-c", "v", f)
    for args in (["info", "--output", "json", f],
                 ["info", "--output", "json", "--backing-chain", f]):
        pv, pq = vdisk(*args).stdout, qemu_img(*args).stdout
        drop = lambda t: [ln for ln in t.splitlines() if '"actual-size"' not in ln]  # noqa: E731
        assert drop(pv) == drop(pq)     # same members, same order
    assert vdisk("info", f).stdout.split("Snapshot list:")[1] == \
        qemu_img("info", f).stdout.split("Snapshot list:")[1]


def test_apply_restores_data(vdisk, qemu_img, qemu_io, tmp_path):
    f = qcow2(qemu_img, qemu_io, tmp_path, writes=DATA)
    want = to_raw(qemu_img, f, tmp_path / "before.raw")
    vdisk("snapshot", "-c", "s", f)
    qemu_io("-f", "qcow2", "-c", "write -P 0x99 512k 2M", "-c", "discard 3M 64k", f)
    check_clean(qemu_img, f)
    assert to_raw(qemu_img, f, tmp_path / "snap.raw", snapshot="s") == want
    assert to_raw(qemu_img, f, tmp_path / "now.raw") != want
    vdisk("snapshot", "-a", "s", f)
    check_clean(qemu_img, f)
    assert to_raw(qemu_img, f, tmp_path / "after.raw") == want


def test_vdisk_applies_and_deletes_qemu_snapshots(vdisk, qemu_img, qemu_io, tmp_path):
    f = qcow2(qemu_img, qemu_io, tmp_path, opts="cluster_size=4k", writes=DATA)
    want = to_raw(qemu_img, f, tmp_path / "a.raw")
    qemu_img("snapshot", "-c", "q1", f)
    qemu_io("-f", "qcow2", "-c", "write -P 0x44 0 2M", f)
    want2 = to_raw(qemu_img, f, tmp_path / "b.raw")
    qemu_img("snapshot", "-c", "q2", f)
    qemu_io("-f", "qcow2", "-c", "write -P 0x55 1M 4M", f)
    assert "q1" in vdisk("snapshot", "-l", f).stdout
    vdisk("snapshot", "-a", "q1", f)
    check_clean(qemu_img, f)
    assert to_raw(qemu_img, f, tmp_path / "c.raw") == want
    vdisk("snapshot", "-d", "q1", f)
    check_clean(qemu_img, f)
    assert to_raw(qemu_img, f, tmp_path / "d.raw") == want
    vdisk("snapshot", "-a", "2", f)      # by ID
    check_clean(qemu_img, f)
    assert to_raw(qemu_img, f, tmp_path / "e.raw") == want2
    vdisk("snapshot", "-d", "q2", f)
    check_clean(qemu_img, f)
    assert qemu_img("snapshot", "-l", f).stdout == ""


def test_qemu_applies_and_deletes_vdisk_snapshots(vdisk, qemu_img, qemu_io, tmp_path):
    f = qcow2(qemu_img, qemu_io, tmp_path, writes=DATA)
    want = to_raw(qemu_img, f, tmp_path / "a.raw")
    vdisk("snapshot", "-c", "v1", f)
    qemu_io("-f", "qcow2", "-c", "write -P 0x66 0 4M", f)
    qemu_img("snapshot", "-a", "v1", f)
    check_clean(qemu_img, f)
    assert to_raw(qemu_img, f, tmp_path / "b.raw") == want
    qemu_img("snapshot", "-d", "v1", f)
    check_clean(qemu_img, f)


def test_delete_frees_clusters(vdisk, qemu_img, qemu_io, tmp_path):
    f = qcow2(qemu_img, qemu_io, tmp_path, writes=DATA)
    before = allocated_bytes(f)
    vdisk("snapshot", "-c", "s", f)
    qemu_io("-f", "qcow2", "-c", "write -P 0x77 0 1M", f)
    assert allocated_bytes(f) >= before + MiB
    vdisk("snapshot", "-d", "s", f)
    check_clean(qemu_img, f)
    # the overwritten 1 MiB only the snapshot used is gone (holes punched);
    # what stays is the new data and a few metadata clusters
    assert allocated_bytes(f) <= before + 256 * 1024


def test_cow_after_snapshot_copies_only_shared(vdisk, qemu_img, qemu_io, tmp_path):
    """A 64 KiB write after a snapshot allocates one data cluster and one
    L2 table copy, nothing for the untouched 15 clusters."""
    f = qcow2(qemu_img, qemu_io, tmp_path, writes=("write -P 0x11 0 1M",))
    vdisk("snapshot", "-c", "s", f)
    before = check_clean(qemu_img, f)["image-end-offset"]
    vdisk_io("-c", "write -P 0x22 128k 64k", f)
    after = check_clean(qemu_img, f)["image-end-offset"]
    assert after - before == 2 * 65536     # the new data cluster + the copied L2 table
    # the other 15 clusters are still shared with the snapshot
    mq = qemu_json(qemu_img, "map", "--output", "json", "-f", "qcow2", f)
    data = [m for m in mq if m["data"]]
    moved = [m for m in data if m["start"] == 128 * 1024]
    assert len(moved) == 1 and moved[0]["length"] == 65536
    assert to_raw(qemu_img, f, tmp_path / "s.raw", "s") == b"\x11" * MiB + b"\0" * 7 * MiB


def test_snapshot_convert_l(vdisk, qemu_img, qemu_io, tmp_path):
    f = qcow2(qemu_img, qemu_io, tmp_path, writes=DATA)
    qemu_img("snapshot", "-c", "s", f)
    qemu_io("-f", "qcow2", "-c", "write -P 0x12 0 8M", f)
    vdisk("convert", "-l", "s", "-O", "raw", f, tmp_path / "v.raw")
    assert (tmp_path / "v.raw").read_bytes() == to_raw(qemu_img, f, tmp_path / "q.raw", "s")
    vdisk("convert", "-l", "snapshot.id=1", "-O", "qcow2", f, tmp_path / "v.qcow2")
    qemu_img("compare", tmp_path / "v.qcow2", tmp_path / "q.raw")
    p = vdisk("convert", "-l", "nosuch", "-O", "raw", f, tmp_path / "x.raw", check=False)
    assert p.returncode == 1 and "nosuch" in p.stderr
    assert not (tmp_path / "x.raw").exists()


def test_apply_snapshot_of_other_size(vdisk, qemu_img, qemu_io, tmp_path):
    f = qcow2(qemu_img, qemu_io, tmp_path, size="4M", writes=("write -P 0x31 0 4M",))
    want = to_raw(qemu_img, f, tmp_path / "a.raw")
    vdisk("snapshot", "-c", "small", f)
    qemu_img("resize", f, "300M")
    qemu_io("-f", "qcow2", "-c", "write -P 0x32 290M 1M", f)
    vdisk("snapshot", "-a", "small", f)
    check_clean(qemu_img, f)
    assert qemu_json(qemu_img, "info", "--output", "json", f)["virtual-size"] == 4 * MiB
    assert to_raw(qemu_img, f, tmp_path / "b.raw") == want


def test_compressed_clusters_shared(vdisk, qemu_img, qemu_io, tmp_path):
    src = tmp_path / "src.raw"
    src.write_bytes(b"abcd" * (MiB // 2))
    f = tmp_path / "c.qcow2"
    qemu_img("convert", "-c", "-O", "qcow2", "-o", "cluster_size=4k", src, f)
    vdisk("snapshot", "-c", "s", f)
    check_clean(qemu_img, f)
    qemu_io("-f", "qcow2", "-c", "write -P 0x01 0 1M", f)
    vdisk("snapshot", "-a", "s", f)
    check_clean(qemu_img, f)
    assert to_raw(qemu_img, f, tmp_path / "o.raw") == src.read_bytes()
    vdisk("snapshot", "-d", "s", f)
    check_clean(qemu_img, f)


def test_duplicate_names_allowed_like_qemu(vdisk, qemu_img, qemu_io, tmp_path):
    f = qcow2(qemu_img, qemu_io, tmp_path)
    vdisk("snapshot", "-c", "same", f)
    vdisk("snapshot", "-c", "same", f)
    ids = [s["id"] for s in qemu_json(qemu_img, "info", "--output", "json", f)["snapshots"]]
    assert ids == ["1", "2"]
    vdisk("snapshot", "-d", "same", f)      # the first with that name, as qemu-img
    ids = [s["id"] for s in qemu_json(qemu_img, "info", "--output", "json", f)["snapshots"]]
    assert ids == ["2"]
    check_clean(qemu_img, f)


# ---- errors ------------------------------------------------------------------

def both(vdisk, qemu_img, *args):
    return vdisk(*args, check=False), qemu_img(*args, check=False)


def test_errors_exit_codes(vdisk, qemu_img, qemu_io, tmp_path):
    f = qcow2(qemu_img, qemu_io, tmp_path)
    for args in (["snapshot", "-a", "nosuch", f], ["snapshot", "-d", "nosuch", f],
                 ["snapshot", "-l", "-c", "x", f], ["snapshot", "-l"],
                 ["snapshot", "-l", f, f], ["snapshot", "-U", "-c", "x", f]):
        pv, pq = both(vdisk, qemu_img, *args)
        assert pv.returncode == pq.returncode == 1, (args, pv.stderr)
        assert pv.stderr
    pv = vdisk("snapshot", "-d", "nosuch", f, check=False)
    assert "Could not delete snapshot 'nosuch': snapshot not found" in pv.stderr
    pv = vdisk("snapshot", "-a", "nosuch", f, check=False)
    assert "Could not apply snapshot 'nosuch'" in pv.stderr and "disk.qcow2" in pv.stderr
    check_clean(qemu_img, f)


def test_raw_refused(vdisk, qemu_img, tmp_path):
    f = tmp_path / "r.raw"
    f.write_bytes(b"\0" * MiB)
    pv, pq = both(vdisk, qemu_img, "snapshot", "-c", "x", f)
    assert pv.returncode == pq.returncode == 1
    assert "Could not create snapshot 'x'" in pv.stderr
    pv, pq = both(vdisk, qemu_img, "snapshot", "-l", f)
    assert pv.returncode == pq.returncode == 0 and pv.stdout == ""


def test_read_only_file_refused(vdisk, qemu_img, qemu_io, tmp_path):
    f = qcow2(qemu_img, qemu_io, tmp_path)
    os.chmod(f, 0o444)
    if os.access(f, os.W_OK):
        pytest.skip("running as root: file modes do not stop writes")
    pv, pq = both(vdisk, qemu_img, "snapshot", "-c", "x", f)
    assert pv.returncode == pq.returncode == 1
    assert "disk.qcow2" in pv.stderr


def test_refcount_overflow_refused(vdisk, qemu_img, qemu_io, tmp_path):
    """refcount_bits=1 cannot share a cluster: an error, the image intact."""
    f = qcow2(qemu_img, qemu_io, tmp_path, opts="refcount_bits=1", writes=("write -P 1 0 64k",))
    pv = vdisk("snapshot", "-c", "x", f, check=False)
    assert pv.returncode == 1
    assert "largest refcount 1-bit refcounts hold" in pv.stderr
    assert qemu_img("snapshot", "-l", f).stdout == ""
    check_clean(qemu_img, f)    # refused before anything changed (qemu-img leaks here)
    assert qemu_img("snapshot", "-c", "x", f, check=False).returncode == 1


def parse_table(data):
    """Entries of the snapshot table per docs/interop/qcow2.txt."""
    nb, off = struct.unpack(">IQ", data[60:72])
    out = []
    for _ in range(nb):
        off = (off + 7) & ~7
        l1off, l1n, idn, namen, _s, _ns, _clk, _vm, extra = \
            struct.unpack(">QIHHIIQII", data[off:off + 40])
        x = data[off + 40:off + 40 + extra]
        p = off + 40 + extra
        out.append({"extra": x, "id": data[p:p + idn].decode(),
                    "name": data[p + idn:p + idn + namen].decode(), "l1": l1off})
        off = p + idn + namen
    return out


def test_unknown_extra_data_kept(vdisk, qemu_img, qemu_io, tmp_path):
    """Extra data past the fields vdisk knows (here 16 more bytes in a
    qemu-made entry) is written back unchanged when vdisk rewrites the table."""
    f = qcow2(qemu_img, qemu_io, tmp_path, writes=DATA)
    qemu_img("snapshot", "-c", "a", f)
    data = bytearray(f.read_bytes())
    off = struct.unpack(">Q", data[64:72])[0]
    ent = parse_table(bytes(data))[0]
    unknown = bytes(range(0xa0, 0xb0))
    new = bytearray(data[off:off + 40])
    struct.pack_into(">I", new, 36, len(ent["extra"]) + 16)
    new += ent["extra"] + unknown + ent["id"].encode() + ent["name"].encode()
    data[off:off + len(new)] = new
    f.write_bytes(bytes(data))
    check_clean(qemu_img, f)
    vdisk("snapshot", "-c", "b", f)
    vdisk("snapshot", "-c", "c", f)
    vdisk("snapshot", "-d", "c", f)
    check_clean(qemu_img, f)
    t = parse_table(f.read_bytes())
    assert [e["name"] for e in t] == ["a", "b"]
    assert t[0]["extra"] == ent["extra"] + unknown
    assert len(t[1]["extra"]) == 24
    assert "a" in qemu_img("snapshot", "-l", f).stdout
