"""vdisk-virsh commit against qemu-img commit.

Chains are made by qemu-img / qemu-io; each case is run by both tools on
twin copies of the chain.  Checked: exit status and message, `qemu-img
check` of every image written, the base's guest content (twin against
twin) and the overlay's content (against a raw copy taken before), and
whether the overlay was emptied (its own layer allocates nothing).
"""
import hashlib
import json
import shutil

import pytest

MiB = 1 << 20


def sha(path):
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


def check_clean(qemu_img, path):
    p = qemu_img("check", "--output", "json", path, check=False)
    assert p.returncode == 0, p.stdout + p.stderr
    d = json.loads(p.stdout)
    assert d.get("leaks", 0) == 0 and d.get("corruptions", 0) == 0, d


def make_chain(qemu_img, qemu_io, d, base_fmt="qcow2", base_size=4 * MiB, top_size=None,
               opts=None):
    base = d / f"base.{base_fmt}"
    qemu_img("create", "-q", "-f", base_fmt, *(["-o", opts] if opts else []), base, str(base_size))
    qemu_io("-f", base_fmt, "-c", f"write -P 0x11 0 {base_size}", base)
    mid = d / "mid.qcow2"
    qemu_img("create", "-q", "-f", "qcow2", *(["-o", opts] if opts else []), "-b", base.name,
             "-F", base_fmt, mid)
    qemu_io("-c", f"write -P 0x22 {MiB} {MiB}", "-c", "write -z 0 64k", mid)
    top = d / "top.qcow2"
    args = ["create", "-q", "-f", "qcow2", *(["-o", opts] if opts else []), "-b", mid.name,
            "-F", "qcow2", top]
    if top_size:
        args.append(str(top_size))
    qemu_img(*args)
    qemu_io("-c", f"write -P 0x33 {3 * MiB} {MiB}", "-c", f"write -z {MiB} 64k", top)
    if top_size and top_size > base_size:
        qemu_io("-c", f"write -P 0x44 {top_size - MiB} {MiB}", top)
    return base, mid, top


@pytest.fixture
def twin_dirs(tmp_path):
    v, q = tmp_path / "v", tmp_path / "q"
    v.mkdir()
    q.mkdir()
    return v, q


def raw_of(qemu_img, path, out):
    qemu_img("convert", "-O", "raw", path, out)
    return out


@pytest.mark.parametrize("base_fmt", ["qcow2", "raw"])
def test_commit_into_immediate_backing(vdisk, qemu_img, qemu_io, twin_dirs, base_fmt):
    vd, qd = twin_dirs
    make_chain(qemu_img, qemu_io, vd, base_fmt)
    for f in vd.iterdir():
        shutil.copy(f, qd / f.name)
    before = raw_of(qemu_img, vd / "top.qcow2", vd.parent / "before.raw")
    pv = vdisk("commit", vd / "top.qcow2", check=False)
    pq = qemu_img("commit", qd / "top.qcow2", check=False)
    assert pv.returncode == pq.returncode == 0, pv.stderr
    assert pv.stdout == pq.stdout == "Image committed.\n"
    for name in ("top.qcow2", "mid.qcow2"):
        check_clean(qemu_img, vd / name)
    # the backing file now holds what the overlay showed
    qemu_img("compare", vd / "mid.qcow2", qd / "mid.qcow2")
    qemu_img("compare", "-F", "raw", vd / "mid.qcow2", before)
    # the overlay was emptied and still shows the same disk
    qemu_img("compare", "-F", "raw", vd / "top.qcow2", before)
    m = json.loads(qemu_img("map", "--output", "json", vd / "top.qcow2").stdout)
    assert all(e["depth"] >= 1 for e in m), m
    # the base below was not touched
    assert sha(vd / f"base.{base_fmt}") == sha(qd / f"base.{base_fmt}")


def test_commit_keep_overlay(vdisk, qemu_img, qemu_io, twin_dirs):
    vd, qd = twin_dirs
    make_chain(qemu_img, qemu_io, vd)
    for f in vd.iterdir():
        shutil.copy(f, qd / f.name)
    top_before = sha(vd / "top.qcow2")
    pv = vdisk("commit", "-d", vd / "top.qcow2", check=False)
    pq = qemu_img("commit", "-d", qd / "top.qcow2", check=False)
    assert pv.returncode == pq.returncode == 0
    assert pv.stdout == pq.stdout
    assert sha(vd / "top.qcow2") == top_before
    check_clean(qemu_img, vd / "mid.qcow2")
    qemu_img("compare", vd / "mid.qcow2", qd / "mid.qcow2")


def test_commit_deeper_base_implies_keep(vdisk, qemu_img, qemu_io, twin_dirs):
    vd, qd = twin_dirs
    make_chain(qemu_img, qemu_io, vd)
    for f in vd.iterdir():
        shutil.copy(f, qd / f.name)
    before = raw_of(qemu_img, vd / "top.qcow2", vd.parent / "before.raw")
    top_before, mid_before = sha(vd / "top.qcow2"), sha(vd / "mid.qcow2")
    pv = vdisk("commit", "-b", vd / "base.qcow2", vd / "top.qcow2", check=False)
    pq = qemu_img("commit", "-b", qd / "base.qcow2", qd / "top.qcow2", check=False)
    assert pv.returncode == pq.returncode == 0, pv.stderr
    assert pv.stdout == pq.stdout
    check_clean(qemu_img, vd / "base.qcow2")
    qemu_img("compare", vd / "base.qcow2", qd / "base.qcow2")
    qemu_img("compare", "-F", "raw", vd / "base.qcow2", before)
    assert sha(vd / "top.qcow2") == top_before
    assert sha(vd / "mid.qcow2") == mid_before


def test_commit_base_named_as_stored(vdisk, qemu_img, qemu_io, twin_dirs):
    """-b with the relative name the overlay stores finds the image."""
    vd, _ = twin_dirs
    make_chain(qemu_img, qemu_io, vd)
    p = vdisk("commit", "-b", "mid.qcow2", vd / "top.qcow2", check=False)
    assert p.returncode == 0, p.stderr


def test_commit_grows_smaller_base(vdisk, qemu_img, qemu_io, twin_dirs):
    vd, qd = twin_dirs
    make_chain(qemu_img, qemu_io, vd, top_size=8 * MiB)
    for f in vd.iterdir():
        shutil.copy(f, qd / f.name)
    before = raw_of(qemu_img, vd / "top.qcow2", vd.parent / "before.raw")
    vdisk("commit", vd / "top.qcow2")
    qemu_img("commit", qd / "top.qcow2")
    check_clean(qemu_img, vd / "mid.qcow2")
    info = json.loads(qemu_img("info", "--output", "json", vd / "mid.qcow2").stdout)
    qinfo = json.loads(qemu_img("info", "--output", "json", qd / "mid.qcow2").stdout)
    assert info["virtual-size"] == qinfo["virtual-size"] == 8 * MiB
    qemu_img("compare", vd / "mid.qcow2", qd / "mid.qcow2")
    qemu_img("compare", "-F", "raw", vd / "top.qcow2", before)


def test_commit_relative_names_other_cwd(vdisk, qemu_img, qemu_io, tmp_path):
    d = tmp_path / "images"
    d.mkdir()
    make_chain(qemu_img, qemu_io, d)
    before = raw_of(qemu_img, d / "top.qcow2", tmp_path / "before.raw")
    other = tmp_path / "elsewhere"
    other.mkdir()
    p = vdisk("commit", "../images/top.qcow2", cwd=other, check=False)
    assert p.returncode == 0, p.stderr
    qemu_img("compare", "-F", "raw", d / "mid.qcow2", before)


def test_commit_v2_overlay(vdisk, qemu_img, qemu_io, tmp_path):
    base = tmp_path / "base.qcow2"
    qemu_img("create", "-q", "-f", "qcow2", "-o", "compat=0.10", base, "2M")
    qemu_io("-c", "write -P 1 0 2M", base)
    top = tmp_path / "top.qcow2"
    qemu_img("create", "-q", "-f", "qcow2", "-o", "compat=0.10", "-b", "base.qcow2", "-F", "qcow2", top)
    qemu_io("-c", "write -P 2 512k 512k", top)
    before = raw_of(qemu_img, top, tmp_path / "before.raw")
    vdisk("commit", top)
    check_clean(qemu_img, top)
    check_clean(qemu_img, base)
    qemu_img("compare", "-F", "raw", base, before)
    qemu_img("compare", "-F", "raw", top, before)


# ---- errors ------------------------------------------------------------------

def same_error(pv, pq):
    assert pv.returncode == pq.returncode == 1
    assert pv.stderr.replace("vdisk-virsh: ", "") == pq.stderr.replace("qemu-img: ", "")


def test_no_backing_file(vdisk, qemu_img, tmp_path):
    f = tmp_path / "alone.qcow2"
    qemu_img("create", "-q", "-f", "qcow2", f, "1M")
    before = sha(f)
    pv = vdisk("commit", f, check=False)
    pq = qemu_img("commit", f, check=False)
    assert pv.returncode == pq.returncode == 1
    assert "Image does not have a backing file" in pv.stderr
    assert sha(f) == before


def test_base_not_in_chain(vdisk, qemu_img, qemu_io, tmp_path):
    make_chain(qemu_img, qemu_io, tmp_path)
    top = tmp_path / "top.qcow2"
    before = sha(top)
    pv = vdisk("commit", "-b", "nope.qcow2", top, check=False)
    pq = qemu_img("commit", "-b", "nope.qcow2", top, check=False)
    same_error(pv, pq)
    assert sha(top) == before


def test_usage_errors(vdisk, qemu_img):
    for args in (["commit"], ["commit", "a", "b"]):
        pv = vdisk(*args, check=False)
        pq = qemu_img(*args, check=False)
        assert pv.returncode == pq.returncode == 1


def test_quiet_and_progress(vdisk, qemu_img, qemu_io, tmp_path):
    make_chain(qemu_img, qemu_io, tmp_path)
    p = vdisk("commit", "-q", "-p", tmp_path / "top.qcow2")
    assert p.stdout == "" and p.stderr == ""


@pytest.mark.parametrize("opts", ["compat=0.10", "extended_l2=on", "cluster_size=512",
                                  "refcount_bits=1", "lazy_refcounts=on"])
def test_commit_image_options(vdisk, qemu_img, qemu_io, twin_dirs, opts):
    vd, qd = twin_dirs
    make_chain(qemu_img, qemu_io, vd, opts=opts)
    for f in vd.iterdir():
        shutil.copy(f, qd / f.name)
    before = raw_of(qemu_img, vd / "top.qcow2", vd.parent / "before.raw")
    vdisk("commit", vd / "top.qcow2")
    qemu_img("commit", qd / "top.qcow2")
    for name in ("top.qcow2", "mid.qcow2"):
        check_clean(qemu_img, vd / name)
    qemu_img("compare", vd / "mid.qcow2", qd / "mid.qcow2")
    qemu_img("compare", "-F", "raw", vd / "top.qcow2", before)


@pytest.mark.parametrize("seed", range(8))
def test_random_chains(vdisk, qemu_img, qemu_io, twin_dirs, seed):
    """Random chains (depth 2-4, random options and writes), committed with
    or without -d / -b: the base both tools wrote reads the same, the top
    still shows what it showed, every qcow2 image is clean."""
    import random
    from chain_random import random_chain
    rnd = random.Random(seed)
    vd, qd = twin_dirs
    chain, _ = random_chain(rnd, qemu_img, qemu_io, vd, rnd.randrange(2, 5))
    for f in vd.iterdir():
        shutil.copy(f, qd / f.name)
    top = chain[-1][0]
    before = raw_of(qemu_img, vd / top, vd.parent / "before.raw")
    base_i, args = len(chain) - 2, []
    how = rnd.choice(["plain", "-d", "-b"])
    if how == "-d":
        args = ["-d"]
    elif how == "-b":
        base_i = rnd.randrange(0, len(chain) - 1)
        args = ["-b", chain[base_i][0]]
    pv = vdisk("commit", *args, top, cwd=vd, check=False)
    pq = qemu_img("commit", *args, top, cwd=qd, check=False)
    assert pv.returncode == pq.returncode == 0, pv.stderr + pq.stderr
    base, fmt = chain[base_i]
    qemu_img("compare", "-f", fmt, "-F", fmt, vd / base, qd / base)
    qemu_img("compare", "-F", "raw", vd / top, before)
    for name, f in chain:
        if f == "qcow2":
            check_clean(qemu_img, vd / name)
