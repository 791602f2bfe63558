"""vdisk-virsh rebase against qemu-img rebase.

Safe rebases must keep the guest-visible content (checked against a raw
copy taken before, and against qemu-img's twin), record the backing name
and format exactly as qemu-img does (qemu-img info of both twins), and
leave an image `qemu-img check` finds clean.  Unsafe rebases only touch the
header.
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


def info(qemu_img, path):
    d = json.loads(qemu_img("info", "--output", "json", path).stdout)
    return {k: d.get(k) for k in ("virtual-size", "backing-filename", "backing-filename-format")}


def layer_map(qemu_img, path):
    """What the overlay itself allocates (start, length, zero), from map."""
    m = json.loads(qemu_img("map", "--output", "json", path).stdout)
    return [(e["start"], e["length"], e["zero"]) for e in m if e["depth"] == 0 and e["data"]]


def make_images(qemu_img, qemu_io, d):
    """old.qcow2 (4M of 0x11, 0x12 at 2M) <- top.qcow2 (0x33 at 1M), and a
    new backing file new.raw (2M, partly equal to old)."""
    old = d / "old.qcow2"
    qemu_img("create", "-q", "-f", "qcow2", old, "4M")
    qemu_io("-c", "write -P 0x11 0 4M", "-c", "write -P 0x12 2M 64k", old)
    new = d / "new.raw"
    qemu_img("create", "-q", "-f", "raw", new, "2M")
    qemu_io("-f", "raw", "-c", "write -P 0x11 0 1M", "-c", "write -P 0x55 1536k 128k", new)
    top = d / "top.qcow2"
    qemu_img("create", "-q", "-f", "qcow2", "-b", "old.qcow2", "-F", "qcow2", top)
    qemu_io("-c", f"write -P 0x33 {MiB} 64k", top)
    return old, new, top


@pytest.fixture
def twins(qemu_img, qemu_io, tmp_path):
    vd, qd = tmp_path / "v", tmp_path / "q"
    vd.mkdir()
    qd.mkdir()
    make_images(qemu_img, qemu_io, vd)
    for f in vd.iterdir():
        shutil.copy(f, qd / f.name)
    return vd, qd


def test_safe_rebase_keeps_content(vdisk, qemu_img, twins):
    vd, qd = twins
    before = vd.parent / "before.raw"
    qemu_img("convert", "-O", "raw", vd / "top.qcow2", before)
    pv = vdisk("rebase", "-b", "new.raw", "-F", "raw", vd / "top.qcow2", check=False)
    pq = qemu_img("rebase", "-b", "new.raw", "-F", "raw", qd / "top.qcow2", check=False)
    assert pv.returncode == pq.returncode == 0, pv.stderr
    assert pv.stdout == pq.stdout
    check_clean(qemu_img, vd / "top.qcow2")
    qemu_img("compare", "-F", "raw", vd / "top.qcow2", before)
    qemu_img("compare", vd / "top.qcow2", qd / "top.qcow2")
    iv, iq = info(qemu_img, vd / "top.qcow2"), info(qemu_img, qd / "top.qcow2")
    assert iv["backing-filename"] == iq["backing-filename"] == "new.raw"
    assert iv["backing-filename-format"] == iq["backing-filename-format"] == "raw"
    # only what differs was copied: the overlay allocates what qemu-img's does
    assert layer_map(qemu_img, vd / "top.qcow2") == layer_map(qemu_img, qd / "top.qcow2")


def test_safe_rebase_to_no_backing(vdisk, qemu_img, twins):
    vd, qd = twins
    before = vd.parent / "before.raw"
    qemu_img("convert", "-O", "raw", vd / "top.qcow2", before)
    pv = vdisk("rebase", "-b", "", vd / "top.qcow2", check=False)
    pq = qemu_img("rebase", "-b", "", qd / "top.qcow2", check=False)
    assert pv.returncode == pq.returncode == 0, pv.stderr
    check_clean(qemu_img, vd / "top.qcow2")
    qemu_img("compare", "-F", "raw", vd / "top.qcow2", before)
    assert info(qemu_img, vd / "top.qcow2") == info(qemu_img, qd / "top.qcow2")
    assert info(qemu_img, vd / "top.qcow2")["backing-filename"] is None


def test_unsafe_rebase_header_only(vdisk, qemu_img, twins):
    vd, qd = twins
    pv = vdisk("rebase", "-u", "-b", "new.raw", "-F", "raw", vd / "top.qcow2", check=False)
    pq = qemu_img("rebase", "-u", "-b", "new.raw", "-F", "raw", qd / "top.qcow2", check=False)
    assert pv.returncode == pq.returncode == 0, pv.stderr
    check_clean(qemu_img, vd / "top.qcow2")
    assert info(qemu_img, vd / "top.qcow2") == info(qemu_img, qd / "top.qcow2")
    qemu_img("compare", vd / "top.qcow2", qd / "top.qcow2")
    assert layer_map(qemu_img, vd / "top.qcow2") == layer_map(qemu_img, qd / "top.qcow2")


def test_unsafe_rebase_to_missing_file(vdisk, qemu_img, twins):
    """-u does not open the new backing file: fixing up a moved base."""
    vd, qd = twins
    vdisk("rebase", "-u", "-b", "moved/old.qcow2", "-F", "qcow2", vd / "top.qcow2")
    qemu_img("rebase", "-u", "-b", "moved/old.qcow2", "-F", "qcow2", qd / "top.qcow2")
    assert sha(vd / "top.qcow2") == sha(qd / "top.qcow2")


def test_unsafe_remove_backing(vdisk, qemu_img, twins):
    vd, qd = twins
    vdisk("rebase", "-u", "-b", "", vd / "top.qcow2")
    qemu_img("rebase", "-u", "-b", "", qd / "top.qcow2")
    assert info(qemu_img, vd / "top.qcow2") == info(qemu_img, qd / "top.qcow2")
    qemu_img("compare", vd / "top.qcow2", qd / "top.qcow2")


def test_rebase_onto_image_in_chain(vdisk, qemu_img, qemu_io, tmp_path):
    """top -> mid -> base rebased to top -> base keeps the content."""
    base = tmp_path / "base.qcow2"
    qemu_img("create", "-q", "-f", "qcow2", base, "2M")
    qemu_io("-c", "write -P 1 0 2M", base)
    mid = tmp_path / "mid.qcow2"
    qemu_img("create", "-q", "-f", "qcow2", "-b", "base.qcow2", "-F", "qcow2", mid)
    qemu_io("-c", "write -P 2 512k 512k", mid)
    top = tmp_path / "top.qcow2"
    qemu_img("create", "-q", "-f", "qcow2", "-b", "mid.qcow2", "-F", "qcow2", top)
    qemu_io("-c", "write -P 3 0 64k", top)
    before = tmp_path / "before.raw"
    qemu_img("convert", "-O", "raw", top, before)
    vdisk("rebase", "-b", "base.qcow2", "-F", "qcow2", top)
    check_clean(qemu_img, top)
    qemu_img("compare", "-F", "raw", top, before)
    assert info(qemu_img, top)["backing-filename"] == "base.qcow2"


def test_relative_name_resolved_against_overlay_dir(vdisk, qemu_img, qemu_io, tmp_path):
    d = tmp_path / "images"
    d.mkdir()
    make_images(qemu_img, qemu_io, d)
    before = tmp_path / "before.raw"
    qemu_img("convert", "-O", "raw", d / "top.qcow2", before)
    other = tmp_path / "cwd"
    other.mkdir()
    p = vdisk("rebase", "-b", "new.raw", "-F", "raw", "../images/top.qcow2", cwd=other, check=False)
    assert p.returncode == 0, p.stderr
    qemu_img("compare", "-F", "raw", d / "top.qcow2", before)
    full = json.loads(qemu_img("info", "--output", "json", d / "top.qcow2").stdout)
    assert full["backing-filename"] == "new.raw"
    assert full["full-backing-filename"] == str(d / "new.raw")


def test_vdisk_reads_qemu_rebased(vdisk, qemu_img, twins):
    """The other way round: qemu-img rebases, vdisk reads the result."""
    vd, qd = twins
    qemu_img("rebase", "-b", "new.raw", "-F", "raw", qd / "top.qcow2")
    out = qd.parent / "out.raw"
    vdisk("convert", "-O", "raw", qd / "top.qcow2", out)
    qemu_img("compare", "-F", "raw", qd / "top.qcow2", out)


# ---- errors ------------------------------------------------------------------

@pytest.mark.parametrize("args", [
    ["rebase", "{f}"],                                   # neither -b nor -u
    ["rebase", "-b", "new.raw", "{f}"],                  # no -F
    ["rebase", "-u", "-b", "new.raw", "{f}"],            # no -F, unsafe
    ["rebase", "-b", "new.raw", "-F", "vmdkx", "{f}"],   # bad format name
])
def test_errors_as_qemu(vdisk, qemu_img, twins, args):
    vd, qd = twins
    before = sha(vd / "top.qcow2")
    pv = vdisk(*[a.format(f=vd / "top.qcow2") for a in args], check=False)
    pq = qemu_img(*[a.format(f=qd / "top.qcow2") for a in args], check=False)
    assert pv.returncode == pq.returncode == 1
    first_v = pv.stderr.splitlines()[0].replace("vdisk-virsh: ", "")
    first_q = pq.stderr.splitlines()[0].replace("qemu-img: ", "")
    assert first_v == first_q
    assert sha(vd / "top.qcow2") == before


def test_missing_new_backing(vdisk, qemu_img, twins):
    vd, qd = twins
    before = sha(vd / "top.qcow2")
    pv = vdisk("rebase", "-b", "nope.qcow2", "-F", "qcow2", vd / "top.qcow2", check=False)
    pq = qemu_img("rebase", "-b", "nope.qcow2", "-F", "qcow2", qd / "top.qcow2", check=False)
    assert pv.returncode == pq.returncode == 1
    assert "Could not open new backing file 'nope.qcow2'" in pv.stderr
    assert sha(vd / "top.qcow2") == before


def test_rebase_onto_itself_is_a_loop(vdisk, twins):
    vd, _ = twins
    before = sha(vd / "top.qcow2")
    p = vdisk("rebase", "-b", "top.qcow2", "-F", "qcow2", vd / "top.qcow2", check=False)
    assert p.returncode == 1 and "loop" in p.stderr
    assert sha(vd / "top.qcow2") == before


@pytest.mark.parametrize("seed", range(8))
def test_random_chains(vdisk, qemu_img, qemu_io, tmp_path, seed):
    """Random chains rebased (safely) onto another file, an image further
    down, or nothing: the top reads as before, is clean, and names its new
    backing file as qemu-img's twin does."""
    import random
    from chain_random import random_chain, random_image
    rnd = random.Random(seed)
    vd, qd = tmp_path / "v", tmp_path / "q"
    vd.mkdir()
    qd.mkdir()
    chain, opts = random_chain(rnd, qemu_img, qemu_io, vd, rnd.randrange(2, 4))
    other = random_image(rnd, qemu_img, qemu_io, vd, *rnd.choice([("other.qcow2", "qcow2"),
                                                                   ("other.raw", "raw")]), opts)
    for f in vd.iterdir():
        shutil.copy(f, qd / f.name)
    top = chain[-1][0]
    before = tmp_path / "before.raw"
    qemu_img("convert", "-O", "raw", vd / top, before)
    name, fmt = rnd.choice([other, ("", "")] + chain[:-2])
    args = ["-b", name] + (["-F", fmt] if name else [])
    pv = vdisk("rebase", *args, top, cwd=vd, check=False)
    pq = qemu_img("rebase", *args, top, cwd=qd, check=False)
    assert pv.returncode == pq.returncode == 0, pv.stderr + pq.stderr
    check_clean(qemu_img, vd / top)
    qemu_img("compare", "-F", "raw", vd / top, before)
    assert info(qemu_img, vd / top) == info(qemu_img, qd / top)


@pytest.mark.parametrize("driver", ["host_device", "host_cdrom"])
def test_unsafe_rebase_records_qemu_device_driver(vdisk, qemu_img, tmp_path, driver):
    """rebase -u -F host_device (iotest 031): recorded as qemu-img records
    it, byte for byte, although vdisk opens no such chain itself."""
    mine, ref = tmp_path / "mine.qcow2", tmp_path / "ref.qcow2"
    qemu_img("create", "-q", "-f", "qcow2", mine, "1M")
    shutil.copy(mine, ref)
    args = ["rebase", "-u", "-b", "/some/backing/file/path", "-F", driver]
    p = vdisk(*args, mine, check=False)
    assert p.returncode == 0, p.stderr
    qemu_img(*args, ref)
    assert mine.read_bytes() == ref.read_bytes()
    assert info(qemu_img, mine)["backing-filename-format"] == driver
    # an unknown name is still refused, as qemu-img refuses it
    p = vdisk("rebase", "-u", "-b", "/x", "-F", "no_such_driver", mine, check=False)
    q = qemu_img("rebase", "-u", "-b", "/x", "-F", "no_such_driver", ref, check=False)
    assert p.returncode == q.returncode == 1
    assert "Invalid format name" in p.stderr and "Invalid format name" in q.stderr
    assert mine.read_bytes() == ref.read_bytes()
