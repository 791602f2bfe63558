"""vol-create (volume XML) and vol-create-as through the daemon: raw and
qcow2, thin and thick (allocation == capacity), lazy against eager zeroing,
a qcow2 with a backing store, --allocation and --prealloc-metadata, and the
refusals (no space, bad names, a name in use).  The 'dir' runs of the
shared tests check each expectation against libvirt's own backend; images
are checked with qemu-img, sizes with stat(2)."""
import json
import os

import pytest

from conftest import MiB, allocated, qemu_check, qemu_img, qemu_info

CAP = 16 * MiB


def vol_xml(name, fmt, capacity=CAP, allocation=None, backing=None, extra=""):
    alloc = f"<allocation unit='bytes'>{allocation}</allocation>" if allocation is not None else ""
    cap = f"<capacity unit='bytes'>{capacity}</capacity>" if capacity is not None else ""
    back = ""
    if backing:
        back = (f"<backingStore><path>{backing[0]}</path>"
                f"<format type='{backing[1]}'/></backingStore>")
    return (f"<volume><name>{name}</name>{cap}{alloc}"
            f"<target><format type='{fmt}'/>{extra}</target>{back}</volume>")


def qemu_map(path, *fmt):
    return json.loads(qemu_img("map", "--output=json", "-U", *fmt, path).stdout)


def zero_ranges(path):
    """Bytes of path (read as raw) that qemu-img map reports as reading zero
    without data: unwritten (fallocated) extents or holes."""
    return sum(e["length"] for e in qemu_map(path, "-f", "raw") if e["zero"] and not e["data"])


def fs_has_unwritten_extents(directory):
    """True if fallocate(2) on this file system leaves extents that read as
    zero without data (ext4, xfs): then lazy and eager zeroing differ."""
    probe = directory / ".probe"
    with open(probe, "wb") as f:
        os.posix_fallocate(f.fileno(), 0, 4 * MiB)
    try:
        return zero_ranges(probe) >= 2 * MiB
    finally:
        probe.unlink()


def create_checked(pool, name, fmt, allocation):
    """vol-create of a CAP-byte volume, checked with qemu-img (format, size,
    check) and against what the daemon reports (vol-info: qemu-img's size,
    stat's allocation).  Returns the file's path."""
    pool.create_xml(vol_xml(name, fmt, allocation=allocation))
    path = pool.vol_path(name)
    info = qemu_info(path)
    assert info["format"] == fmt
    assert info["virtual-size"] == CAP
    if fmt == "qcow2":
        qemu_check(path)
    vi = pool.vol_info(name)
    assert vi["Type"] == "file"
    assert vi["Capacity"] == CAP
    assert vi["Allocation"] == allocated(path)
    return path


@pytest.mark.parametrize("fmt", ["raw", "qcow2"])
def test_thin(any_pool, fmt):
    path = create_checked(any_pool, "thin", fmt, 0)
    assert allocated(path) < MiB


def test_thick_raw(any_pool):
    """allocation == capacity: every byte allocated in the file system."""
    path = create_checked(any_pool, "thick", "raw", CAP)
    assert allocated(path) >= CAP


def test_thick_qcow2(vdisk_pool):
    """vdisk's thick qcow2 (libvirt's dir pool preallocates qcow2 only with
    --prealloc-metadata): every guest cluster allocated in the image and in
    the file system."""
    path = create_checked(vdisk_pool(), "thick", "qcow2", CAP)
    assert allocated(path) >= CAP
    assert all(e["data"] for e in qemu_map(path))


@pytest.mark.parametrize("fmt", ["raw", "qcow2"])
def test_lazy_and_eager_zeroing(vdisk_pool, fmt):
    """A pool's <vdisk:zeroing>: lazy thick volumes are fallocated (extents
    still unwritten), eager ones really written."""
    lazy, eager = vdisk_pool(zeroing="lazy"), vdisk_pool(zeroing="eager")
    for pool in (lazy, eager):
        pool.create_xml(vol_xml("thick", fmt, allocation=CAP))
        path = pool.vol_path("thick")
        assert allocated(path) >= CAP
        assert qemu_info(path)["virtual-size"] == CAP
        if fmt == "qcow2":
            qemu_check(path)
    # eager: no byte of a raw file is an unwritten extent or a hole; a qcow2
    # may keep holes in its metadata clusters (qemu-img's preallocation=full
    # leaves 60 KiB there), never in its data
    holes = zero_ranges(eager.vol_path("thick"))
    assert holes == 0 if fmt == "raw" else holes < MiB
    if not fs_has_unwritten_extents(lazy.path):
        pytest.skip("this file system has no unwritten extents: lazy == eager on disk")
    assert zero_ranges(lazy.vol_path("thick")) >= CAP // 2


def test_default_zeroing_is_lazy(vdisk_pool):
    pool = vdisk_pool()
    pool.create_xml(vol_xml("thick", "raw", allocation=CAP))
    assert allocated(pool.vol_path("thick")) >= CAP
    if not fs_has_unwritten_extents(pool.path):
        pytest.skip("this file system has no unwritten extents")
    assert zero_ranges(pool.vol_path("thick")) >= CAP // 2


@pytest.mark.parametrize("capacity", [CAP, None])
def test_qcow2_with_backing_store(any_pool, tmp_path, capacity):
    pool = any_pool
    base = pool.vol_path("base.raw")
    pool.virsh("vol-create-as", pool.name, "base.raw", str(8 * MiB), "--format", "raw")
    data = tmp_path / "data"
    data.write_bytes(os.urandom(MiB))
    pool.virsh("vol-upload", "--pool", pool.name, "base.raw", data, "--offset", str(2 * MiB))
    pool.create_xml(vol_xml("top.qcow2", "qcow2", capacity=capacity,
                            backing=(base, "raw")))
    top = pool.vol_path("top.qcow2")
    info = qemu_info(top)
    assert info["format"] == "qcow2"
    assert info["backing-filename"] == str(base)
    assert info.get("backing-filename-format") == "raw"
    assert info["virtual-size"] == (capacity or 8 * MiB)
    qemu_check(top)
    # the guest sees the backing file's bytes, then zeros past its end
    qemu_img("compare", "-U", top, base)
    flat = tmp_path / "flat.raw"
    qemu_img("convert", "-U", "-O", "raw", top, flat)
    with open(flat, "rb") as f:
        f.seek(2 * MiB)
        assert f.read(MiB) == data.read_bytes()


def test_create_as_allocation(any_pool):
    pool = any_pool
    pool.virsh("vol-create-as", pool.name, "full.raw", str(CAP), "--allocation", str(CAP),
               "--format", "raw")
    assert allocated(pool.vol_path("full.raw")) >= CAP
    pool.virsh("vol-create-as", pool.name, "part.qcow2", str(CAP), "--allocation",
               str(CAP // 4), "--format", "qcow2")
    path = pool.vol_path("part.qcow2")
    assert qemu_info(path)["virtual-size"] == CAP
    assert allocated(path) <= CAP + MiB
    qemu_check(path)


def test_absent_allocation_is_thin(vdisk_pool):
    """No <allocation> (vol-create-as without --allocation) is thin in a
    vdisk pool (DESIGN.md: "allocation 0 (or absent) means thin"), unlike
    libvirt's dir pool, which reads it as allocation == capacity; only an
    explicit allocation == capacity is thick."""
    pool = vdisk_pool()
    pool.virsh("vol-create-as", pool.name, "a.raw", str(CAP), "--format", "raw")
    pool.create_xml(vol_xml("b.raw", "raw"))
    pool.virsh("vol-create-as", pool.name, "c.qcow2", str(CAP), "--format", "qcow2")
    for vol in ("a.raw", "b.raw", "c.qcow2"):
        assert qemu_info(pool.vol_path(vol))["virtual-size"] == CAP
        assert allocated(pool.vol_path(vol)) < MiB, vol
    qemu_check(pool.vol_path("c.qcow2"))
    pool.virsh("vol-create-as", pool.name, "d.raw", str(CAP), "--allocation", str(CAP),
               "--format", "raw")
    assert allocated(pool.vol_path("d.raw")) >= CAP


def test_create_as_prealloc_metadata(any_pool, tmp_path):
    """--prealloc-metadata: the same cluster map as qemu-img create -o
    preallocation=metadata (with compat 0.10, libvirt's default)."""
    pool = any_pool
    pool.virsh("vol-create-as", pool.name, "meta.qcow2", str(CAP), "--allocation", "0",
               "--format", "qcow2", "--prealloc-metadata")
    path = pool.vol_path("meta.qcow2")
    ref = tmp_path / "ref.qcow2"
    qemu_img("create", "-f", "qcow2", "-o", "preallocation=metadata,compat=0.10", ref, str(CAP))
    qemu_check(path)
    assert qemu_info(path)["format-specific"]["data"]["compat"] == "0.10"
    strip = [{k: e[k] for k in ("start", "length", "data", "zero")} for e in qemu_map(path)]
    expect = [{k: e[k] for k in ("start", "length", "data", "zero")} for e in qemu_map(ref)]
    assert strip == expect
    assert qemu_info(path)["virtual-size"] == CAP


# ---- refusals ----------------------------------------------------------------

def listing(path):
    return sorted(os.listdir(path))


def test_thick_larger_than_free_space(vdisk_pool):
    """Refused before a byte is written: vdisk's message, no file left."""
    pool = vdisk_pool()
    avail = int(pool.info()["Available"].split()[0])
    size = (avail // MiB + 1024) * MiB   # 1 GiB more: other writers come and go
    before = listing(pool.path)
    p = pool.create_xml(vol_xml("huge", "raw", capacity=size, allocation=size), check=False)
    assert p.returncode != 0, "a thick volume larger than the free space was created"
    assert p.stderr.startswith("error:")
    # vdisk's message: the volume, the bytes it needs, the pool, the cause
    err = p.stderr.lower()
    assert "'huge'" in err and str(size) in err and pool.name in err, p.stderr
    assert any(w in err for w in ("space", "available", "fit")), p.stderr
    assert listing(pool.path) == before


def test_overcommit_cap(vdisk_pool):
    """<vdisk:overcommit>1.0</vdisk:overcommit>: thin volumes whose
    capacities add up past the pool's size are refused; below it they are
    made (thin, nothing written)."""
    pool = vdisk_pool(overcommit="1.0")
    cap = int(pool.info()["Capacity"].split()[0])
    half = (cap // 2 // MiB) * MiB
    pool.create_xml(vol_xml("first", "raw", capacity=half, allocation=0))
    assert allocated(pool.vol_path("first")) < MiB
    before = listing(pool.path)
    p = pool.create_xml(vol_xml("second", "raw", capacity=half + 64 * MiB, allocation=0),
                        check=False)
    assert p.returncode != 0, "the overcommit cap was not enforced"
    assert "second" in p.stderr and "overcommit" in p.stderr.lower(), p.stderr
    assert listing(pool.path) == before


@pytest.mark.parametrize("name", ["a/b", "..", "../escape", "."])
def test_bad_names(vdisk_pool, pool_dir, name):
    pool = vdisk_pool()
    before, outside = listing(pool.path), listing(pool_dir)
    p = pool.create_xml(vol_xml(name, "raw"), check=False)
    assert p.returncode != 0, f"volume name {name!r} was accepted"
    assert p.stderr.startswith("error:")
    assert f"'{name}'" in p.stderr, p.stderr
    assert listing(pool.path) == before
    assert listing(pool_dir) == outside


def test_existing_name(any_pool, tmp_path):
    pool = any_pool
    pool.virsh("vol-create-as", pool.name, "twice", str(MiB), "--format", "raw")
    data = tmp_path / "data"
    data.write_bytes(os.urandom(MiB))
    pool.virsh("vol-upload", "--pool", pool.name, "twice", data)
    p = pool.create_xml(vol_xml("twice", "qcow2"), check=False)
    assert p.returncode != 0
    assert "twice" in p.stderr
    assert pool.vol_path("twice").read_bytes() == data.read_bytes()
    assert qemu_info(pool.vol_path("twice"))["format"] == "raw"


def test_existing_file_not_yet_refreshed(vdisk_pool):
    """A file the pool has not seen yet is not overwritten either."""
    pool = vdisk_pool()
    qemu_img("create", "-f", "qcow2", pool.vol_path("sneaky"), "1M")
    before = pool.vol_path("sneaky").read_bytes()
    p = pool.create_xml(vol_xml("sneaky", "raw"), check=False)
    assert p.returncode != 0
    assert pool.vol_path("sneaky").read_bytes() == before
