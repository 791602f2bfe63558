"""Operations on the disks of a running guest, as a careful admin expects:
what would corrupt them (wipe, upload, resize, delete, an internal
snapshot, an in-place amend; a copy of a qcow2 disk) is refused with a
message that names the lock QEMU holds; what only reads (vol-info,
vol-dumpxml, pool-refresh, vol-download) works.  Once the guest is gone,
the same operations go through.

libvirt's own dir pools differ on one point, checked here too: their
vol-delete unlinks a running guest's disk (the guest keeps writing to a
file nobody can reach); a vdisk pool refuses it.
"""
import pytest

from bootsector import SECTOR
from conftest import BUILD, qemu_check, qemu_info, run
from guest import Disk
from test_guests import CAP, disk_image, new_token, upload_seed, vol_xml

VDISK_VIRSH = BUILD / "tools" / "vdisk-virsh"
LOCKED = ("image is in use", "lock")


@pytest.fixture
def running(hypervisor, vdisk_pool, tmp_path):
    """A guest booted from boot.qcow2 with data.raw as its second disk, done
    with its work but still running (QEMU holds both images)."""
    pool = vdisk_pool()
    token = new_token()
    upload_seed(pool, tmp_path, disk_image(token))
    xml = pool.path.parent / "boot.xml"
    xml.write_text(vol_xml("boot.qcow2", "qcow2"))
    pool.virsh("vol-create-from", pool.name, xml, "seed.img", "--inputpool", pool.name)
    pool.create_xml(vol_xml("data.raw", "raw"))
    guest = hypervisor.start_guest([Disk(pool.name, "boot.qcow2", "qcow2", "hda"),
                                    Disk(pool.name, "data.raw", "raw", "hdb")])
    assert "wrote=ok" in guest.wait_done()
    yield pool, guest
    guest.destroy()


def refused(p, what):
    assert p.returncode != 0, f"{what} went through on a running guest's disk:\n{p.stdout}"
    for word in LOCKED:
        assert word in p.stderr, f"{what}: {p.stderr}"


def vdisk_virsh(daemon, *args):
    return run([VDISK_VIRSH, "-c", daemon.uri, *args], check=False, env=daemon.env)


@pytest.mark.parametrize("vol", ["boot.qcow2", "data.raw"])
def test_destructive_operations_are_refused(running, tmp_path, vol):
    pool, guest = running
    path = pool.vol_path(vol)
    before = path.read_bytes()
    up = tmp_path / "up.bin"
    up.write_bytes(b"\xff" * SECTOR)
    for args in (["vol-wipe", "--pool", pool.name, vol],
                 ["vol-upload", "--pool", pool.name, vol, up],
                 ["vol-resize", "--pool", pool.name, vol, str(2 * CAP)],
                 ["vol-delete", "--pool", pool.name, vol]):
        refused(pool.virsh(*args, check=False), args[0])
    d = pool.daemon
    if vol.endswith(".qcow2"):
        # a copy of a qcow2 disk in use: QEMU shares no write on it
        refused(vdisk_virsh(d, "vol-convert", "--pool", pool.name, vol, "copy",
                            "--format", "raw"), "vol-convert")
        refused(vdisk_virsh(d, "vol-snapshot-create", "--pool", pool.name, vol, "snap"),
                "vol-snapshot-create")
        # in place: the image's own options rewritten
        p = run([VDISK_VIRSH, "amend", "-f", "qcow2", "-o", "compat=1.1", path], check=False)
        refused(p, "amend")
    assert guest.state() == "running"
    assert path.read_bytes() == before, "a refused operation changed the file"
    assert not pool.vol_path("copy").exists()


def test_vol_delete_names_the_volume_and_the_lock(running):
    pool, _ = running
    p = pool.virsh("vol-delete", "--pool", pool.name, "boot.qcow2", check=False)
    assert p.returncode == 1
    assert f"cannot delete volume 'boot.qcow2' of pool '{pool.name}'" in p.stderr, p.stderr
    assert 'Failed to get "write" lock' in p.stderr, p.stderr
    assert pool.vol_path("boot.qcow2").exists()


def test_reading_works(running, tmp_path):
    pool, guest = running
    for vol, fmt in (("boot.qcow2", "qcow2"), ("data.raw", "raw")):
        info = pool.vol_info(vol)
        assert info["Capacity"] == CAP
        assert f"<format type='{fmt}'/>" in pool.vol_xml(vol)
        out = tmp_path / f"{vol}.down"
        pool.virsh("vol-download", "--pool", pool.name, vol, out)
        assert out.read_bytes() == pool.vol_path(vol).read_bytes()
    pool.virsh("pool-refresh", pool.name)
    names = pool.virsh("vol-list", pool.name).stdout
    assert "boot.qcow2" in names and "data.raw" in names
    assert "<format type='qcow2'/>" in pool.vol_xml("boot.qcow2")
    assert guest.state() == "running"


def test_everything_goes_through_once_the_guest_is_gone(running, tmp_path):
    pool, guest = running
    guest.destroy()
    pool.virsh("vol-resize", "--pool", pool.name, "boot.qcow2", str(2 * CAP))
    assert qemu_info(pool.vol_path("boot.qcow2"))["virtual-size"] == 2 * CAP
    qemu_check(pool.vol_path("boot.qcow2"))
    p = vdisk_virsh(pool.daemon, "vol-snapshot-create", "--pool", pool.name, "boot.qcow2", "s1")
    assert p.returncode == 0, p.stderr
    pool.virsh("vol-wipe", "--pool", pool.name, "data.raw")
    pool.virsh("vol-delete", "--pool", pool.name, "data.raw")
    assert not pool.vol_path("data.raw").exists()


def test_dir_pool_deletes_a_running_guests_disk(hypervisor, dir_pool, tmp_path):
    """libvirt's own behaviour, for the record: a dir pool lets vol-delete
    unlink the disk of a running guest."""
    pool = dir_pool()
    token = new_token()
    upload_seed(pool, tmp_path, disk_image(token, write=False), name="boot.img")
    guest = hypervisor.start_guest([Disk(pool.name, "boot.img", "raw")])
    guest.wait_done()
    p = pool.virsh("vol-delete", "--pool", pool.name, "boot.img", check=False)
    assert p.returncode == 0, p.stderr
    assert not pool.vol_path("boot.img").exists()
    assert guest.state() == "running"
    guest.destroy()
