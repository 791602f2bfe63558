"""vol-inflate, vol-eagerzero and vol-sparsify on the embedded registry
(through a libvirt daemon: tests/libvirt/test_vdisk_virsh_remote.py):
the moves of test_provision.py on a pool's volume, with the pool's rules
(free space checked before inflating, a volume in use refused).  Judged
by qemu-img compare/check/map and stat(2), never by vdisk's report."""
import json
import os

import pytest

from pool_common import allocated, qemu_map, virsh  # noqa: F401
from test_locking import IN_USE, qemu_io_holder

MiB = 1 << 20


def data_bytes(qemu_img, path):
    return sum(e["length"] for e in qemu_map(qemu_img, path) if e["data"])


@pytest.mark.parametrize("fmt", ["raw", "qcow2"])
def test_volume_thin_thick_thin(virsh, qemu_img, qemu_io, fmt):
    path = virsh.make_pool("p")
    virsh.run("vol-create-as", "p", "v", "64M", "--format", fmt)
    vol = path / "v"
    qemu_io("-f", fmt, "-c", "write -P 0x5a 4M 2M", "-c", "write -P 0 16M 4M", vol)
    ref = virsh.tmp / "ref.raw"
    qemu_img("convert", "-f", fmt, "-O", "raw", vol, ref)
    thin = allocated(vol)

    dry = virsh.run("vol-inflate", "v", "--pool", "p", "--dry-run")
    assert "Dry run, nothing was changed." in dry.stdout
    assert allocated(vol) == thin
    virsh.run("vol-inflate", "v", "--pool", "p")
    assert allocated(vol) >= 64 * MiB
    virsh.run("vol-eagerzero", "v", "--pool", "p")
    if fmt == "qcow2":
        assert data_bytes(qemu_img, vol) == 64 * MiB
    # --truncate is qcow2's (a raw file's length is the disk's size).
    virsh.run("vol-sparsify", "v", "--pool", "p", "--zero-detect",
              *(["--truncate"] if fmt == "qcow2" else []))
    qemu_img("compare", "-q", "-f", "raw", "-F", fmt, ref, vol)
    if fmt == "qcow2":
        qemu_img("check", "-q", vol)
    # Only the 2 MiB of 0x5a bytes keep host space (and qcow2's metadata).
    assert data_bytes(qemu_img, vol) == 2 * MiB
    assert allocated(vol) < 4 * MiB
    # vol-info's allocation is the file's, as stat says.
    info = json.loads(virsh.run("vol-info", "v", "--pool", "p", "--bytes", "--json").stdout)
    assert info["allocation"] == allocated(vol)


def test_inflate_beyond_pool_free_space_refused(virsh, qemu_img):
    """A thin volume twice the pool's free space: vol-inflate says so and
    writes nothing (plain inflate would fail half-way with ENOSPC)."""
    path = virsh.make_pool("p")
    free = os.statvfs(path).f_bavail * os.statvfs(path).f_frsize
    size = (2 * free // MiB + 1) * MiB
    if size > 8 << 40:
        pytest.skip("the test directory's file system has too much free space")
    virsh.run("vol-create-as", "p", "big", str(size), "--format", "raw")
    before = allocated(path / "big")
    p = virsh.run("vol-inflate", "big", "--pool", "p", check=False)
    assert p.returncode == 1
    assert "Failed to inflate volume 'big'" in p.stderr and "available" in p.stderr
    assert allocated(path / "big") == before
    assert os.stat(path / "big").st_size == size


def test_volume_in_use_refused(virsh, qemu_img):
    path = virsh.make_pool("p")
    virsh.run("vol-create-as", "p", "v", "16M", "--format", "qcow2")
    before = (path / "v").read_bytes()
    for args in (["vol-inflate"], ["vol-eagerzero"], ["vol-sparsify", "--zero-detect"]):
        with qemu_io_holder(path / "v", "qcow2"):
            p = virsh.run(*args, "v", "--pool", "p", check=False)
        assert p.returncode == 1 and IN_USE in p.stderr, args
    assert (path / "v").read_bytes() == before


def test_pool_info_details(virsh, qemu_io):
    """pool-info --details: each volume's kind and bytes by kind, as the
    kernel's FIEMAP sees the raw files; what inflate takes from 'unbacked'."""
    from fiemap_common import host_kinds, supported
    path = virsh.make_pool("p")
    probe = virsh.tmp / "probe"
    probe.write_bytes(b"x")
    if not supported(probe):
        pytest.skip("the test directory's file system has no FIEMAP")
    virsh.run("vol-create-as", "p", "thin", "32M", "--format", "raw")
    virsh.run("vol-create-as", "p", "lazy", "16M", "--format", "raw", "--allocation", "16M")
    qemu_io("-f", "raw", "-c", "write -P 0x5a 0 4M", path / "thin")

    def details():
        out = json.loads(virsh.run("pool-info", "p", "--details", "--json").stdout)
        return out, {d["name"]: d for d in out["details"]}

    out, vols = details()
    for name in ("thin", "lazy"):
        k = host_kinds(path / name)
        assert vols[name]["bytes"]["data"] == k["data"], name
        assert vols[name]["bytes"]["reserved"] == k["unwritten"], name
        assert vols[name]["bytes"]["unallocated"] == k["hole"], name
        assert vols[name]["allocation"] == allocated(path / name), name
    assert vols["thin"]["kind"] == "thin" and vols["lazy"]["kind"] == "lazy-zeroed thick"
    assert out["unbacked"] == 28 * MiB
    virsh.run("vol-inflate", "thin", "--pool", "p", "--eager")
    virsh.run("vol-eagerzero", "lazy", "--pool", "p")
    out, vols = details()
    assert vols["thin"]["kind"] == vols["lazy"]["kind"] == "eager-zeroed thick"
    assert host_kinds(path / "lazy")["data"] == 16 * MiB
    assert out["unbacked"] == 0
    # The table has one row per volume after virsh's lines.
    text = virsh.run("pool-info", "p", "--details").stdout
    assert " lazy " in text and " thin " in text and "Unbacked:" in text


def test_vol_map_bar_and_picture(virsh, qemu_img, qemu_io):
    """vol-map of a 64 MiB qcow2 volume laid out by qemu-io: data 0-4M,
    zeros 4-5M, compressed 8-9M, the rest unallocated; the bytes of each
    kind as qemu-img map tells them."""
    path = virsh.make_pool("p")
    virsh.run("vol-create-as", "p", "v", "64M", "--format", "qcow2")
    qemu_io("-c", "write -P 1 0 4M", "-c", "write -z 4M 1M", "-c", "write -c -P 2 8M 1M",
            path / "v")
    entries = qemu_map(qemu_img, path / "v")
    zero = sum(e["length"] for e in entries if e["present"] and e["zero"] and not e["data"])
    absent = sum(e["length"] for e in entries if not e["present"])
    png = virsh.tmp / "v.png"
    out = json.loads(virsh.run("vol-map", "v", "--pool", "p", "--width", "64", "--json",
                               "--picture", png).stdout)
    b = out["bytes"]
    assert (b["data"], b["compressed"]) == (4 * MiB, MiB)
    assert (b["zero"], b["unallocated"]) == (zero, absent)
    assert sum(b.values()) == 64 * MiB
    # One character per MiB.
    assert out["bar"] == "#" * 4 + ("0" if zero else ".") + "..." + "c" + "." * 55
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    p = virsh.run("vol-map", "v", "--pool", "p", "--width", "0", check=False)
    assert p.returncode == 1 and "--width" in p.stderr
