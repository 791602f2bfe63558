"""qcow2 persistent dirty bitmaps kept consistent by vdisk writes.

Each case makes one image with bitmaps by `qemu-img bitmap --add`, copies
it, does the same writes with qemu-io on one twin and with libvdisk
(vdisk-io, vdisk-virsh) on the other, and compares: `qemu-img check`
clean and without the "program lacking bitmap support" warning, the
bitmap flags of `qemu-img info`, and the dirty ranges qemu-nbd exports.
"""
import shutil

import pytest

from bitmap_common import (all_dirty, bitmap_info, check_clean, dirty_ranges, make_image,
                           need_tools, set_in_use)

BITMAPS = (("b0", None, False), ("b1", 131072, True), ("b2", 4096, False),
           ("b3", 1 << 20, False))

WRITES = ["write -P 0x11 1M 64k", "write -P 0x22 3000 100", "write -z 8M 256k",
          "write -z -u 16M 1M", "discard 20M 192k", "write -P 0x33 30M 5M",
          "write -c -P 0x44 40M 2M", "write -P 0x55 63M 1M"]


@pytest.fixture(autouse=True)
def _tools():
    need_tools()


def twins(tmp_path, opts="", bitmaps=BITMAPS, size="64M"):
    v, q = tmp_path / "v.qcow2", tmp_path / "q.qcow2"
    make_image(_qi, v, size, opts, bitmaps)
    shutil.copyfile(v, q)
    return v, q


def _qi(*args, check=True):
    from conftest import run
    return run(["qemu-img", *args], check=check)


def qio(path, *cmds):
    from conftest import run
    a = []
    for c in cmds:
        a += ["-c", c]
    return run(["qemu-io", "-f", "qcow2", *a, path])


def vio(path, *cmds):
    from conftest import vdisk_io
    a = []
    for c in cmds:
        a += ["-c", c]
    return vdisk_io("-f", "qcow2", str(path), *a)


def same_bitmaps(v, q):
    check_clean(None, v)
    check_clean(None, q)
    assert bitmap_info(v) == bitmap_info(q)
    assert all_dirty(v) == all_dirty(q)


@pytest.mark.parametrize("opts", ["", "cluster_size=4096", "cluster_size=2M",
                                  "extended_l2=on", "lazy_refcounts=on", "refcount_bits=1"])
def test_writes_mark_enabled_bitmaps(tmp_path, opts):
    v, q = twins(tmp_path, opts)
    qio(q, *WRITES)
    vio(v, *WRITES)
    same_bitmaps(v, q)
    assert dirty_ranges(v, "b1") == []          # disabled: untouched
    assert dirty_ranges(v, "b0") != []


def test_two_sessions_accumulate(tmp_path):
    v, q = twins(tmp_path)
    for w in WRITES[:3], WRITES[3:]:
        qio(q, *w)
        vio(v, *w)
    same_bitmaps(v, q)


def test_in_use_bitmap_stays_inconsistent(tmp_path):
    v, q = twins(tmp_path)
    set_in_use(v, "b2")
    set_in_use(q, "b2")
    qio(q, *WRITES)
    vio(v, *WRITES)
    assert bitmap_info(v) == bitmap_info(q)
    assert ("b2", 4096, ["auto", "in-use"]) in bitmap_info(v)
    assert all_dirty(v) == all_dirty(q)


def test_read_only_open_changes_nothing(tmp_path):
    v, _ = twins(tmp_path)
    vio(v, "write 1M 64k")
    before = open(v, "rb").read()
    from conftest import vdisk_io
    vdisk_io("-r", "-f", "qcow2", str(v), "-c", "read -P 0xcd 1M 64k")
    assert open(v, "rb").read() == before


def test_bench_write(tmp_path, vdisk, qemu_img):
    v, q = twins(tmp_path)
    args = ["-w", "-c", "20", "-s", "4k", "-o", "5M", "-S", "300k"]
    qemu_img("bench", "-f", "qcow2", *args, q)
    vdisk("bench", "-f", "qcow2", *args, v)
    same_bitmaps(v, q)


@pytest.mark.parametrize("size", ["+16M", "+1G", "--shrink 32M"])
def test_resize(tmp_path, vdisk, qemu_img, size):
    v, q = twins(tmp_path)
    qio(q, "write 1M 64k", "write 60M 1M")
    vio(v, "write 1M 64k", "write 60M 1M")
    a = size.split()
    qemu_img("resize", *a[:-1], q, a[-1])
    vdisk("resize", *a[:-1], v, a[-1])
    same_bitmaps(v, q)
    qio(q, "write 2M 64k")
    vio(v, "write 2M 64k")
    same_bitmaps(v, q)


def test_resize_refused_with_inconsistent_bitmap(tmp_path, vdisk, qemu_img):
    v, q = twins(tmp_path)
    set_in_use(v, "b0")
    set_in_use(q, "b0")
    pq = qemu_img("resize", q, "+16M", check=False)
    pv = vdisk("resize", v, "+16M", check=False)
    assert pq.returncode == 1 and pv.returncode == 1
    assert "Bitmap 'b0' is inconsistent and cannot be used" in pq.stderr
    assert "Bitmap 'b0' is inconsistent and cannot be used" in pv.stderr
    same_bitmaps(v, q)
    assert ("b0", 65536, ["auto", "in-use"]) in bitmap_info(v)


def test_snapshot_create_delete_and_apply_refused(tmp_path, vdisk, qemu_img):
    v, q = twins(tmp_path)
    for img, tool in ((q, qemu_img), (v, vdisk)):
        tool("snapshot", "-c", "s1", img)
    qio(q, "write 1M 64k")
    vio(v, "write 1M 64k")
    pq = qemu_img("snapshot", "-a", "s1", q, check=False)
    pv = vdisk("snapshot", "-a", "s1", v, check=False)
    assert pq.returncode == pv.returncode == 1
    assert "Device has active dirty bitmaps" in pq.stderr
    assert "Device has active dirty bitmaps" in pv.stderr
    for img, tool in ((q, qemu_img), (v, vdisk)):
        tool("snapshot", "-d", "s1", img)
    same_bitmaps(v, q)


@pytest.mark.parametrize("opts", ["lazy_refcounts=on", "refcount_bits=8", "refcount_bits=64",
                                  "refcount_bits=1"])
def test_amend_keeps_bitmaps(tmp_path, vdisk, qemu_img, opts):
    v, q = twins(tmp_path)
    qio(q, "write 1M 64k")
    vio(v, "write 1M 64k")
    qemu_img("amend", "-o", opts, q)
    vdisk("amend", "-o", opts, v)
    same_bitmaps(v, q)


def test_check_repair_keeps_bitmaps(tmp_path, vdisk, qemu_img):
    v, q = twins(tmp_path)
    qio(q, "write 1M 64k")
    vio(v, "write 1M 64k")
    qemu_img("check", "-r", "all", q)
    vdisk("check", "-r", "all", v)
    same_bitmaps(v, q)


def chain(tmp_path, name, base_bitmaps):
    base, top = tmp_path / f"{name}-base.qcow2", tmp_path / f"{name}-top.qcow2"
    make_image(_qi, base, "64M", "", base_bitmaps)
    qio(base, "write -P 0x01 0 8M")
    _qi("create", "-q", "-f", "qcow2", "-b", base.name, "-F", "qcow2", top)
    _qi("bitmap", "--add", top, "t0")
    qio(top, "write -P 0x02 1M 2M", "write -z 5M 64k", "write -P 0x03 40M 64k")
    return base, top


def test_commit(tmp_path, vdisk, qemu_img):
    qb, qt = chain(tmp_path, "q", BITMAPS)
    vb, vt = chain(tmp_path, "v", BITMAPS)
    qemu_img("commit", qt)
    vdisk("commit", vt)
    same_bitmaps(vb, qb)
    same_bitmaps(vt, qt)


def test_rebase(tmp_path, vdisk, qemu_img):
    qb, qt = chain(tmp_path, "q", BITMAPS)
    vb, vt = chain(tmp_path, "v", BITMAPS)
    for d in (tmp_path / "qn.qcow2", tmp_path / "vn.qcow2"):
        _qi("create", "-q", "-f", "qcow2", d, "64M")
        qio(d, "write -P 0x07 4M 4M")
    qemu_img("rebase", "-b", "qn.qcow2", "-F", "qcow2", qt, cwd=tmp_path)
    vdisk("rebase", "-b", "vn.qcow2", "-F", "qcow2", vt, cwd=tmp_path)
    same_bitmaps(vt, qt)


def test_downgrade_as_qemu(tmp_path, vdisk, qemu_img):
    v, q = twins(tmp_path)
    pq = qemu_img("amend", "-o", "compat=0.10", q, check=False)
    pv = vdisk("amend", "-o", "compat=0.10", v, check=False)
    assert pq.returncode == pv.returncode
    cq = qemu_img("check", "--output=json", q, check=False)
    cv = qemu_img("check", "--output=json", v, check=False)
    assert cq.returncode == cv.returncode


@pytest.mark.parametrize("fmt", ["human", "json"])
def test_info_lists_bitmaps(tmp_path, vdisk, qemu_img, fmt):
    v, _ = twins(tmp_path)
    set_in_use(v, "b3")
    pv = vdisk("info", "--output", fmt, "v.qcow2", cwd=tmp_path)
    pq = qemu_img("info", "--output", fmt, "v.qcow2", cwd=tmp_path)
    assert pv.stdout == pq.stdout
    assert "in-use" in pv.stdout


def test_rebase_unsafe_moves_extension(tmp_path, vdisk, qemu_img):
    """rebase -u rewrites the header (the backing format extension comes
    first): the bitmaps extension moves, and the store at close follows it."""
    v, q = twins(tmp_path)
    _qi("create", "-q", "-f", "qcow2", tmp_path / "some-long-backing-name.qcow2", "64M")
    for img, tool in ((q, qemu_img), (v, vdisk)):
        tool("rebase", "-u", "-b", "some-long-backing-name.qcow2", "-F", "qcow2", img)
    qio(q, "write 1M 64k")
    vio(v, "write 1M 64k")
    same_bitmaps(v, q)
    for img, tool in ((q, qemu_img), (v, vdisk)):
        tool("rebase", "-u", "-b", "", img)
    qio(q, "write 3M 64k")
    vio(v, "write 3M 64k")
    same_bitmaps(v, q)


@pytest.mark.parametrize("opts", ["lazy_refcounts=on", "compat=1.1"])
def test_amend_from_v2_style_header(tmp_path, vdisk, qemu_img, opts):
    v, q = twins(tmp_path, "lazy_refcounts=on" if opts == "compat=1.1" else "")
    for img, tool in ((q, qemu_img), (v, vdisk)):
        tool("amend", "-o", opts if opts != "compat=1.1" else "lazy_refcounts=off", img)
    qio(q, "write 5M 64k")
    vio(v, "write 5M 64k")
    same_bitmaps(v, q)
