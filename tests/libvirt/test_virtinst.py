"""virtinst, the code behind virt-manager's new-volume dialog and
`virt-install --disk pool=`, against a vdisk pool of the daemon: Debian's
virtinst (under /usr/share/virt-manager) and python3-libvirt, connected
through the storage URI with ?socket= (the prefix's daemon, Debian's client
library).  The volumes it makes are checked with qemu-img and stat(2); the
progress meter it is given must have been started and ended."""
import json
import sys

import pytest

from conftest import MiB, allocated, qemu_check, qemu_img, qemu_info

VIRTINST_DIR = "/usr/share/virt-manager"


class RecordingMeter:
    """A progress meter as virtinst's (start / update / end), recording calls."""

    def __init__(self):
        self.calls = []

    def start(self, text, size):
        self.calls.append(("start", text, size))

    def update(self, new_total):
        self.calls.append(("update", new_total))

    def end(self):
        self.calls.append(("end",))


@pytest.fixture(scope="module")
def virtinst():
    try:
        import libvirt  # noqa: F401  (Debian's python3-libvirt)
    except ImportError:
        pytest.fail("python3-libvirt is missing (Debian package python3-libvirt)")
    sys.path.insert(0, VIRTINST_DIR)
    try:
        import virtinst as mod
    except ImportError:
        pytest.fail(f"virtinst is missing under {VIRTINST_DIR} (Debian package virtinst)")
    return mod


@pytest.fixture
def conn(daemon, virtinst):
    import libvirt
    c = virtinst.VirtinstConnection(daemon.client_uri)
    # VirtinstConnection.open() also fetches hypervisor capabilities, which a
    # storage-only daemon does not have: hand it the connection instead.
    c._libvirtconn = libvirt.open(daemon.client_uri)
    yield c
    c.close()


def map_of(path):
    out = json.loads(qemu_img("map", "--output=json", "-U", path).stdout)
    return [{k: e[k] for k in ("start", "length", "data", "zero")} for e in out]


def new_volume(virtinst, conn, poolobj, name, fmt, capacity, allocation):
    vol = virtinst.StorageVolume(conn)
    vol.pool = poolobj
    vol.name = name
    vol.capacity = capacity
    vol.allocation = allocation
    vol.format = fmt
    return vol


def check_meter(meter, name, capacity):
    kinds = [c[0] for c in meter.calls]
    # virtinst's poll thread may report once more after end(): its own race
    assert kinds[0] == "start" and kinds.count("end") == 1, meter.calls
    assert name in meter.calls[0][1] and meter.calls[0][2] == capacity
    updates = [c[1] for c in meter.calls if c[0] == "update"]
    assert updates == sorted(updates) and all(0 <= u <= capacity + MiB for u in updates)


def test_new_qcow2_volume(virtinst, conn, vdisk_pool, tmp_path):
    """What virt-manager's dialog does for a qcow2 disk: find a free name,
    validate, install with a meter (metadata preallocation, as virtinst asks)."""
    pool = vdisk_pool()
    poolobj = conn.storagePoolLookupByName(pool.name)
    name = virtinst.StorageVolume.find_free_name(conn, poolobj, "vm-disk", suffix=".qcow2")
    assert name == "vm-disk.qcow2"
    cap = 64 * MiB
    vol = new_volume(virtinst, conn, poolobj, name, "qcow2", cap, 0)
    vol.validate()
    meter = RecordingMeter()
    vol.install(meter=meter)
    check_meter(meter, name, cap)
    path = pool.vol_path(name)
    info = qemu_info(path)
    assert info["format"] == "qcow2" and info["virtual-size"] == cap
    qemu_check(path)
    ref = tmp_path / "ref.qcow2"
    # libvirt's default qcow2 is compat 0.10
    assert info["format-specific"]["data"]["compat"] == "0.10"
    qemu_img("create", "-f", "qcow2", "-o", "preallocation=metadata,compat=0.10", ref, str(cap))
    assert map_of(path) == map_of(ref)
    # the name is taken now: the next free one, and validate refuses it
    assert virtinst.StorageVolume.find_free_name(
        conn, poolobj, "vm-disk", suffix=".qcow2") == "vm-disk-1.qcow2"
    again = new_volume(virtinst, conn, poolobj, name, "qcow2", cap, 0)
    with pytest.raises(ValueError):
        again.validate()


def test_new_thick_raw_volume(virtinst, conn, vdisk_pool):
    pool = vdisk_pool(zeroing="eager")
    poolobj = conn.storagePoolLookupByName(pool.name)
    cap = 32 * MiB
    vol = new_volume(virtinst, conn, poolobj, "thick.img", "raw", cap, cap)
    vol.validate()
    meter = RecordingMeter()
    vol.install(meter=meter)
    check_meter(meter, "thick.img", cap)
    path = pool.vol_path("thick.img")
    assert qemu_info(path)["format"] == "raw"
    assert path.stat().st_size == cap and allocated(path) >= cap


def test_validate_refuses_what_does_not_fit(virtinst, conn, vdisk_pool):
    """virtinst's size check reads the vdisk pool's available space."""
    pool = vdisk_pool()
    poolobj = conn.storagePoolLookupByName(pool.name)
    avail = poolobj.info()[3]
    assert 0 < avail <= poolobj.info()[1]
    big = avail + 1024 * MiB
    vol = new_volume(virtinst, conn, poolobj, "big.img", "raw", big, big)
    with pytest.raises(ValueError):
        vol.validate()
    thin = new_volume(virtinst, conn, poolobj, "thin.img", "raw", big, 0)
    assert thin.is_size_conflict()[0] is False


def test_volume_xml_round_trip(virtinst, conn, vdisk_pool):
    """virtinst parses the volume XML the vdisk pool reports."""
    pool = vdisk_pool()
    pool.virsh("vol-create-as", pool.name, "x.qcow2", str(8 * MiB), "--format", "qcow2")
    poolobj = conn.storagePoolLookupByName(pool.name)
    volobj = poolobj.storageVolLookupByName("x.qcow2")
    parsed = virtinst.StorageVolume(conn, parsexml=volobj.XMLDesc(0))
    assert parsed.format == "qcow2"
    assert parsed.capacity == qemu_info(pool.vol_path("x.qcow2"))["virtual-size"]
    assert parsed.target_path == str(pool.vol_path("x.qcow2"))
