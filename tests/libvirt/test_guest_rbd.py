"""Guests on RBD volumes of vdisk pools (patch 0008): a vdisk pool on the
single-node Ceph cluster (test_pool_sources.py's fixture), volumes made
with `virsh vol-create-as`, filled with the test guest's sectors by
qemu-img (convert -n onto the existing image), and a guest whose disks are
<disk type='volume'><source pool= volume=/> naming them.  libvirt turns
each into an rbd network disk; QEMU reaches the cluster with its rbd block
driver (qemu-block-extra).

Oracles: the guest's console (it read its boot disk), QEMU's command line
in the domain log (an rbd blockdev with the pool's monitor, Ceph pool,
image, cephx user and configuration file), and Ceph's own rbd tool (the
sector the guest wrote, read back with rbd export once it is gone).

virtqemud normally runs in the hypervisor fixture's private network
namespace, where 127.0.0.1 is not the cluster's: for these tests it is
restarted in the host's namespace (the guests have no network interface,
so it sets up nothing there) and put back afterwards.
"""
import json
import shlex

import pytest

from bootsector import SECTOR
from conftest import qemu_img
from guest import Disk
from test_guests import CAP, WRITE_LBA, check_console, disk_image, new_token
# ceph, images and rbd_pools are fixtures: the cluster, RBD image names and vdisk pools on it, removed after the test
from test_pool_sources import (ceph, ceph_auth, ceph_secret, images,  # noqa: F401
                               rbd_bytes, rbd_pools)


@pytest.fixture
def qemud_beside_ceph(hypervisor):
    """virtqemud restarted outside the network namespace for one test, and
    back inside after it, pass or fail."""
    daemon = hypervisor.daemon
    daemon.stop_one("virtqemud")
    daemon._start_one("virtqemud")
    try:
        yield hypervisor
    finally:
        for g in hypervisor.guests:
            g.destroy()
        hypervisor.guests = []
        daemon.stop_one("virtqemud")
        daemon._start_one("virtqemud", wrap=hypervisor.nsenter)


@pytest.fixture
def rbd_pool(rbd_pools, ceph):
    """define(name, auth='', config=False) -> pool name: a started vdisk
    pool on the cluster's 'rbd' pool (test_pool_sources.rbd_pools: with
    <vdisk:config file=> naming the cluster's ceph.conf if config);
    destroyed and undefined after the test (its images are the images
    fixture's)."""
    return lambda name, auth="", config=False: rbd_pools(name, ceph, auth=auth, config=config)


def fill(ceph, image, fmt, data, tmp_path):
    """Write data (raw bytes) into the existing RBD image as fmt, with qemu-img."""
    src = tmp_path / f"{image}.src"
    src.write_bytes(data)
    qemu_img("convert", "-n", "-f", "raw", "-O", fmt, src, ceph.name(image))


def rbd_blockdevs(hv, guest_name):
    """The rbd -blockdev arguments of QEMU's command line in the domain log."""
    log = (hv.prefix / f"var/log/libvirt/qemu/{guest_name}.log").read_text(errors="replace")
    lines = log.splitlines()
    start = max(i for i, line in enumerate(lines) if line.startswith("LC_ALL="))
    command = []
    for line in lines[start:]:          # the last start's command: lines ending in a backslash
        command.append(line.rstrip("\\"))
        if not line.endswith("\\"):
            break
    argv = shlex.split(" ".join(command))
    found = []
    for flag, value in zip(argv, argv[1:]):
        if flag == "-blockdev" and value.startswith("{"):
            props = json.loads(value)
            if props.get("driver") == "rbd":
                found.append(props)
    return found, log


def guest_view(ceph, image, fmt, tmp_path):
    """What the guest sees on the image: raw bytes (rbd export), or the
    qcow2 exported by rbd and converted to raw by qemu-img."""
    if fmt == "raw":
        return rbd_bytes(ceph, image, tmp_path)
    out = tmp_path / f"{image}.qcow2"
    ceph.rbd("export", "--no-progress", image, out)
    view = tmp_path / f"{image}.view"
    qemu_img("convert", "-f", "qcow2", "-O", "raw", out, view)
    return view.read_bytes()


@pytest.mark.parametrize("fmt", ["raw", "qcow2"])
def test_guest_boots_from_rbd_volumes(qemud_beside_ceph, daemon, ceph, rbd_pool, images,
                                      tmp_path, fmt):
    """Boot disk and second disk are RBD images of a vdisk pool: the guest
    reads the first and writes the second; QEMU opened both with its rbd
    driver at the pool's monitor."""
    hv = qemud_beside_ceph
    pool = rbd_pool(f"cephguest{fmt}")
    boot, data = images("boot"), images("data")
    args = ["--format", fmt] if fmt != "raw" else []
    daemon.virsh("vol-create-as", pool, boot, str(CAP), *args)
    daemon.virsh("vol-create-as", pool, data, str(CAP), *args)
    token = new_token()
    image = disk_image(token)
    fill(ceph, boot, fmt, image, tmp_path)

    guest = hv.start_guest([Disk(pool, boot, fmt, "hda"), Disk(pool, data, fmt, "hdb")])
    check_console(guest.wait_done(), token, f"DISK-{token}")

    blockdevs, log = rbd_blockdevs(hv, guest.name)
    assert sorted(b["image"] for b in blockdevs) == sorted([boot, data]), log
    for b in blockdevs:
        assert b["pool"] == "rbd", b
        assert b["server"] == [{"host": "127.0.0.1", "port": str(ceph.port)}], b
        assert "user" not in b and "conf" not in b, b
    live = hv.virsh("dumpxml", guest.name).stdout
    assert f"<source pool='{pool}' volume='{boot}'" in live, live

    # a restarted virtqemud translates the disks again when it reconnects
    # (a failure there would kill the guest)
    daemon.restart("virtqemud")
    assert guest.state() == "running", hv.qemu_log(guest.name)
    assert boot in hv.virsh("domblklist", guest.name).stdout

    guest.destroy()
    written = guest_view(ceph, data, fmt, tmp_path)
    assert written[WRITE_LBA * SECTOR:(WRITE_LBA + 1) * SECTOR] == image[SECTOR:2 * SECTOR]
    assert written[:WRITE_LBA * SECTOR].count(0) == WRITE_LBA * SECTOR


def test_rbd_volume_guest_gets_the_pools_user_key_and_config(qemud_beside_ceph, daemon, ceph,
                                                            rbd_pool, images, tmp_path):
    """The pool's <auth type='ceph'> and <vdisk:config file=> reach QEMU:
    the cephx user, the key as an encrypted secret object (never in the
    clear on the command line), and the configuration file.  (The cluster
    runs without cephx, so any key gets in: what is checked is how QEMU
    is given it.)"""
    hv = qemud_beside_ceph
    with ceph_secret(daemon, tmp_path, "vdisk-guest") as (uid, key):
        daemon.virsh("secret-set-value", uid, key, uri=daemon.secret_uri)
        auth = ceph_auth(uid)
        pool = rbd_pool("cephguestkey", auth=auth, config=True)
        assert f"<vdisk:config file='{ceph.conf}'/>" in daemon.virsh("pool-dumpxml", pool).stdout
        boot = images("boot")
        daemon.virsh("vol-create-as", pool, boot, str(CAP))
        token = new_token()
        fill(ceph, boot, "raw", disk_image(token, write=False), tmp_path)

        guest = hv.start_guest([Disk(pool, boot, "raw", "hda")])
        assert f"token={token} disk=DISK-{token}" in guest.wait_done()
        [b], log = rbd_blockdevs(hv, guest.name)
        assert (b["pool"], b["image"], b["user"], b["conf"]) == \
            ("rbd", boot, "libvirt", str(ceph.conf)), b
        assert b["auth-client-required"] == ["cephx", "none"], b
        secret_id = b["key-secret"]
        assert f'"id":"{secret_id}"' in log.replace(" ", ""), log
        assert key not in log, "the cephx key is on QEMU's command line in the clear"
        guest.destroy()
