"""vdisk-virsh bitmap against qemu-img bitmap.

The same operations run with both tools on twin images (made by qemu-img);
the results must agree by qemu-img's judgement: `qemu-img check` clean and
without the bitmap warning, the bitmaps `qemu-img info` lists (names,
granularities, flags), and the dirty ranges qemu-nbd exports.  Errors: the
same exit status and qemu-img's reason in the message.
"""
import shutil

import pytest

from bitmap_common import all_dirty, bitmap_info, check_clean, need_tools, set_in_use
from conftest import run


@pytest.fixture(autouse=True)
def _tools():
    need_tools()


def twins(tmp_path, opts="", backing=False):
    q, v = tmp_path / "q.qcow2", tmp_path / "v.qcow2"
    args = ["qemu-img", "create", "-q", "-f", "qcow2"]
    if backing:
        run(["qemu-img", "create", "-q", "-f", "qcow2", tmp_path / "base.qcow2", "64M"])
        args += ["-b", "base.qcow2", "-F", "qcow2"]
    if opts:
        args += ["-o", opts]
    run([*args, q, "64M"], cwd=tmp_path)
    run(["qemu-io", "-f", "qcow2", "-c", "write -P 1 0 1M", q])
    shutil.copyfile(q, v)
    return v, q


def both(vdisk, v, q, *args, ok=True):
    pq = run(["qemu-img", "bitmap", *args[:-1], q, args[-1]], check=False)
    pv = vdisk("bitmap", *args[:-1], v, args[-1], check=False)
    assert pv.returncode == pq.returncode, (pv.stderr, pq.stderr)
    if ok:
        assert pq.returncode == 0, pq.stderr
    return pv, pq


def same(v, q):
    check_clean(None, v)
    check_clean(None, q)
    assert bitmap_info(v) == bitmap_info(q)
    assert all_dirty(v) == all_dirty(q)


SEQUENCES = [
    [["--add", "b0"]],
    [["--add", "-g", "4k", "b0"], ["--add", "--disable", "b1"], ["--add", "-g", "2M", "b2"]],
    [["--add", "b0"], ["--disable", "b0"], ["--enable", "b0"]],
    [["--add", "b0"], ["--add", "b1"], ["--remove", "b0"]],
    [["--add", "b0"], ["--remove", "b0"]],
    [["--add", "b0"], ["--remove", "--add", "b0"]],
]


@pytest.mark.parametrize("seq", range(len(SEQUENCES)))
@pytest.mark.parametrize("opts,backing", [("", False), ("cluster_size=512", True),
                                          ("cluster_size=2M", False)])
def test_operations(tmp_path, vdisk, seq, opts, backing):
    v, q = twins(tmp_path, opts, backing)
    for args in SEQUENCES[seq]:
        pq = run(["qemu-img", "bitmap", *args[:-1], q, args[-1]], check=False)
        pv = vdisk("bitmap", *args[:-1], v, args[-1], check=False)
        assert pv.returncode == pq.returncode == 0, (pv.stderr, pq.stderr)
        for img in (q, v):
            run(["qemu-io", "-f", "qcow2", "-c", "write -P 2 3M 200k", "-c", "discard 9M 64k", img])
    same(v, q)
    if backing:   # the header's backing file name moved with the extension
        for img in (q, v):
            run(["qemu-img", "compare", "-f", "qcow2", "-F", "qcow2", q, img])


def bitmap_cmd(tool, img, *args):
    if tool == "qemu":
        return run(["qemu-img", "bitmap", *args[:-1], img, args[-1]], check=False)
    from conftest import VDISK_VIRSH
    return run([VDISK_VIRSH, "bitmap", *args[:-1], img, args[-1]], check=False)


def test_clear_and_merge(tmp_path):
    v, q = twins(tmp_path)
    for tool, img in (("qemu", q), ("vdisk", v)):
        bitmap_cmd(tool, img, "--add", "a")
        bitmap_cmd(tool, img, "--add", "-g", "4k", "b")
        run(["qemu-io", "-f", "qcow2", "-c", "write 5M 8k", "-c", "write 20M 1M", img])
        assert bitmap_cmd(tool, img, "--clear", "b").returncode == 0
        run(["qemu-io", "-f", "qcow2", "-c", "write 30M 4k", img])
        assert bitmap_cmd(tool, img, "--merge", "a", "b").returncode == 0
    same(v, q)


def test_merge_from_other_file(tmp_path):
    v, q = twins(tmp_path)
    src = tmp_path / "src.qcow2"
    run(["qemu-img", "create", "-q", "-f", "qcow2", src, "64M"])
    run(["qemu-img", "bitmap", "--add", "-g", "128k", src, "s"])
    run(["qemu-io", "-f", "qcow2", "-c", "write 7M 4k", "-c", "write 40M 3M", src])
    for tool, img in (("qemu", q), ("vdisk", v)):
        bitmap_cmd(tool, img, "--add", "--disable", "d")
        p = bitmap_cmd(tool, img, "--merge", "s", "-b", str(src), "-F", "qcow2", "d")
        assert p.returncode == 0, p.stderr
    same(v, q)


@pytest.mark.parametrize("args,reason", [
    (["--add", "x", "--add"], "Bitmap already exists: x"),
    (["--remove"], "Dirty bitmap 'x' not found"),
    (["--clear"], "Dirty bitmap 'x' not found"),
    (["--add", "-g", "1000"], "Granularity must be power of 2 and at least 512"),
    (["--add", "-g", "256"], "Granularity must be power of 2 and at least 512"),
    (["--merge", "nosuch"], "not found"),
])
def test_errors(tmp_path, args, reason):
    v, q = twins(tmp_path)
    for tool, img in (("qemu", q), ("vdisk", v)):
        if args[:2] == ["--add", "x"]:
            assert bitmap_cmd(tool, img, "--add", "x").returncode == 0
            a = ["--add", "x"]
        else:
            a = [*args, "x"]
        if args[0] == "--merge":
            bitmap_cmd(tool, img, "--add", "x")
        p = bitmap_cmd(tool, img, *a)
        assert p.returncode == 1
        assert reason in p.stderr, p.stderr
        assert "failed" in p.stderr
    same(v, q)


@pytest.mark.parametrize("args,reason", [
    ([], "Need at least one of --add, --remove, --clear, --enable, --disable, or --merge"),
    (["--clear", "-g", "4k"], "granularity only supported with --add"),
    (["--enable", "-b", "q.qcow2"], "Merge bitmap source file only supported with --merge"),
    (["--merge", "a", "-F", "qcow2"], "-F only supported with -b"),
])
def test_usage_errors(tmp_path, vdisk, args, reason):
    v, q = twins(tmp_path)
    pq = run(["qemu-img", "bitmap", *args, q, "x"], check=False)
    pv = vdisk("bitmap", *args, v, "x", check=False)
    assert pq.returncode == pv.returncode == 1
    assert reason in pq.stderr and reason in pv.stderr, pv.stderr


def test_v2_refused(tmp_path, vdisk):
    v, q = twins(tmp_path, "compat=0.10")
    pv, pq = both(vdisk, v, q, "--add", "x", ok=False)
    assert pq.returncode == 1
    assert "Cannot store dirty bitmaps in qcow2 v2 files" in pq.stderr
    assert "Cannot store dirty bitmaps in qcow2 v2 files" in pv.stderr


def test_inconsistent_bitmap(tmp_path, vdisk):
    v, q = twins(tmp_path)
    for img in (q, v):
        run(["qemu-img", "bitmap", "--add", img, "x"])
        set_in_use(img, "x")
    for op in ("--clear", "--enable", "--disable"):
        pv, pq = both(vdisk, v, q, op, "x", ok=False)
        assert pq.returncode == 1
        assert "Bitmap 'x' is inconsistent and cannot be used" in pv.stderr
    both(vdisk, v, q, "--remove", "x")
    same(v, q)
    assert bitmap_info(v) == []
