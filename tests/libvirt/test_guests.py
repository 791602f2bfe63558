"""Guests on vdisk volumes: the prefix's virtqemud boots the tiny test guest
(bootsector.py) from <disk type='volume'><source pool= volume=/> in a vdisk
pool -- raw and qcow2, thin, lazy-zeroed and eager-zeroed thick, a qcow2
over a raw backing file, LUKS-encrypted raw and qcow2 (a libvirt secret;
QEMU decrypts, the guest reads the plaintext) and an ISO volume as its
CD-ROM.  The guest prints its token and the sector it read on the serial
console, and writes that sector to its second disk, which qemu-img reads
back once the guest is gone.  TCG always, KVM too where /dev/kvm works.

Everything the guest shows was put there by this test through libvirt
(vol-upload, vol-create-from) or by qemu-io, and is read back by QEMU:
the guest is the oracle for "the volume boots", qemu-img for "the guest
wrote what it read".
"""
import uuid

import pytest

from bootsector import SECTOR, boot_sector
from conftest import (BUILD, MiB, allocated, luks_opts, passphrase_file, qemu_check,
                      qemu_img, qemu_info, run)
from guest import Disk, kvm_works

CAP = 4 * MiB
WRITE_LBA = 2                 # where the guest writes its second disk


def accel_or_skip(accel):
    if accel == "kvm" and not kvm_works():
        pytest.skip("/dev/kvm does not work here: the guests run under TCG only")
    return accel


ACCELS = pytest.mark.parametrize("accel", ["tcg", "kvm"])


def new_token():
    return "T" + uuid.uuid4().hex[:12].upper()


def disk_image(token, write=True):
    """Sector 0: the boot sector; sector 1: what the guest must show (and
    copy to its second disk's sector WRITE_LBA)."""
    data = f"DISK-{token}".encode().ljust(SECTOR, b"\0")
    return boot_sector(token, read_lba=1, show_len=32,
                       write_drive=0x81 if write else 0, write_lba=WRITE_LBA) + data


def vol_xml(name, fmt, capacity=CAP, allocation=0, secret=None, backing=None):
    enc = (f"<encryption format='luks'><secret type='passphrase' uuid='{secret}'/></encryption>"
           if secret else "")
    back = (f"<backingStore><path>{backing[0]}</path><format type='{backing[1]}'/></backingStore>"
            if backing else "")
    return (f"<volume><name>{name}</name><capacity unit='bytes'>{capacity}</capacity>"
            f"<allocation unit='bytes'>{allocation}</allocation>"
            f"<target><format type='{fmt}'/>{enc}</target>{back}</volume>")


def upload_seed(pool, tmp_path, image, name="seed.img"):
    """A raw volume holding image, through vol-upload."""
    src = tmp_path / f"{name}.src"
    src.write_bytes(image)
    pool.virsh("vol-create-as", pool.name, name, str(MiB), "--format", "raw")
    pool.virsh("vol-upload", "--pool", pool.name, name, src)
    return name


def copy_of(pool, name, fmt, seed, thick=False, secret=None):
    """vol-create-from: the seed converted by vdisk into fmt (encrypted with
    secret), grown to CAP, thin or thick as the pool zeroes."""
    xml = vol_xml(name, fmt, allocation=CAP if thick else 0, secret=secret)
    f = pool.path.parent / f"{name}.xml"
    f.write_text(xml)
    pool.virsh("vol-create-from", pool.name, f, seed, "--inputpool", pool.name)
    return name


def guest_view(path, fmt, tmp_path, pw=None):
    """The bytes a guest sees on the volume, through qemu-img convert."""
    out = tmp_path / f"view-{uuid.uuid4().hex}.raw"
    if pw:
        qemu_img("convert", *luks_opts(fmt, path, pw), "-O", "raw", out)
    else:
        qemu_img("convert", "-f", fmt, "-O", "raw", path, out)
    return out.read_bytes()


def check_console(text, token, shown):
    assert f"token={token} disk={shown}" in text, text
    assert "wrote=ok" in text, text


def check_provisioning(path, prov):
    """Thick volumes stay fully allocated after the guest ran; thin ones
    hold only the few sectors written."""
    if prov == "thin":
        assert allocated(path) < CAP, f"{path}: a thin volume is fully allocated"
    else:
        assert allocated(path) >= CAP, f"{path}: a thick volume has holes"


@ACCELS
@pytest.mark.parametrize("fmt", ["raw", "qcow2"])
@pytest.mark.parametrize("prov", ["thin", "lazy", "eager"])
def test_guest_boots_and_writes(hypervisor, vdisk_pool, tmp_path, fmt, prov, accel):
    """Boot disk and second disk of one format and provisioning."""
    accel = accel_or_skip(accel)
    pool = vdisk_pool(zeroing=None if prov == "thin" else prov)
    token = new_token()
    image = disk_image(token)
    seed = upload_seed(pool, tmp_path, image)
    boot = copy_of(pool, f"boot.{fmt}", fmt, seed, thick=prov != "thin")
    pool.virsh("vol-delete", "--pool", pool.name, seed)
    data = f"data.{fmt}"
    pool.create_xml(vol_xml(data, fmt, allocation=0 if prov == "thin" else CAP))
    guest = hypervisor.start_guest([Disk(pool.name, boot, fmt, "hda"),
                                    Disk(pool.name, data, fmt, "hdb")], accel=accel)
    check_console(guest.wait_done(), token, f"DISK-{token}")
    guest.destroy()
    written = guest_view(pool.vol_path(data), fmt, tmp_path)
    assert written[WRITE_LBA * SECTOR:(WRITE_LBA + 1) * SECTOR] == image[SECTOR:2 * SECTOR]
    assert written[:WRITE_LBA * SECTOR].count(0) == WRITE_LBA * SECTOR
    for vol in (boot, data):
        path = pool.vol_path(vol)
        assert qemu_info(path)["format"] == fmt
        if fmt == "qcow2":
            qemu_check(path)
        if fmt == "raw":
            check_provisioning(path, prov)
        elif prov != "thin":
            # qcow2 thick: preallocation falloc/full reserves every cluster
            assert allocated(path) >= CAP


@ACCELS
def test_qcow2_over_raw_backing_file(hypervisor, vdisk_pool, tmp_path, accel):
    """The boot sector comes from the raw backing file, sector 1 from the
    qcow2 overlay (written there by qemu-io): QEMU follows the chain the
    vdisk pool made."""
    accel = accel_or_skip(accel)
    pool = vdisk_pool()
    token = new_token()
    upload_seed(pool, tmp_path, disk_image(token), name="base.img")
    base = pool.vol_path("base.img")
    pool.create_xml(vol_xml("top.qcow2", "qcow2", capacity=MiB, backing=(base, "raw")))
    top = pool.vol_path("top.qcow2")
    assert qemu_info(top)["backing-filename"] == str(base)
    run(["qemu-io", "-f", "qcow2", "-c", f"write -P 0x4f {SECTOR} {SECTOR}", top])
    pool.create_xml(vol_xml("data.qcow2", "qcow2"))
    guest = hypervisor.start_guest([Disk(pool.name, "top.qcow2", "qcow2", "hda"),
                                    Disk(pool.name, "data.qcow2", "qcow2", "hdb")], accel=accel)
    check_console(guest.wait_done(), token, "O" * 32)
    guest.destroy()
    written = guest_view(pool.vol_path("data.qcow2"), "qcow2", tmp_path)
    assert written[WRITE_LBA * SECTOR:(WRITE_LBA + 1) * SECTOR] == b"O" * SECTOR
    qemu_check(top)
    # the base was only read
    assert guest_view(base, "raw", tmp_path)[SECTOR:SECTOR + 5] == b"DISK-"


@ACCELS
@pytest.mark.parametrize("fmt", ["raw", "qcow2"])
def test_luks_volumes(hypervisor, vdisk_pool, secret, tmp_path, fmt, accel):
    """vdisk encrypts the copy (LUKS raw, or qcow2 with LUKS); QEMU opens it
    with the libvirt secret and the guest reads the plaintext; what the
    guest wrote to its encrypted second disk, qemu-img decrypts."""
    accel = accel_or_skip(accel)
    pool = vdisk_pool()
    phrase = "guest disk passphrase"
    uid = secret(phrase)
    token = new_token()
    image = disk_image(token)
    seed = upload_seed(pool, tmp_path, image)
    copy_of(pool, "boot.enc", fmt, seed, secret=uid)
    pool.virsh("vol-delete", "--pool", pool.name, seed)
    pool.create_xml(vol_xml("data.enc", fmt, secret=uid))
    boot = pool.vol_path("boot.enc")
    assert qemu_info(boot)["format"] == ("luks" if fmt == "raw" else "qcow2")
    assert token.encode() not in boot.read_bytes(), "the token is stored in clear"
    guest = hypervisor.start_guest([Disk(pool.name, "boot.enc", fmt, "hda", secret=uid),
                                    Disk(pool.name, "data.enc", fmt, "hdb", secret=uid)],
                                   accel=accel)
    check_console(guest.wait_done(), token, f"DISK-{token}")
    guest.destroy()
    pw = passphrase_file(tmp_path, phrase)
    data = pool.vol_path("data.enc")
    assert token.encode() not in data.read_bytes(), "the guest's write is stored in clear"
    written = guest_view(data, fmt, tmp_path, pw=pw)
    assert written[WRITE_LBA * SECTOR:(WRITE_LBA + 1) * SECTOR] == image[SECTOR:2 * SECTOR]


@ACCELS
def test_iso_volume_as_cdrom(hypervisor, vdisk_pool, tmp_path, accel):
    """An ISO made by vdisk-virsh iso-create (El Torito, no emulation) in
    the pool, booted as the guest's CD-ROM: the guest shows the primary
    volume descriptor it read from the CD (sector 16: CD001 and the label)."""
    accel = accel_or_skip(accel)
    pool = vdisk_pool()
    token = new_token()
    label = "VDISK" + token[-6:]
    sector = boot_sector(token, read_lba=16, show_off=0, show_len=72)
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "readme.txt").write_text("a CD-ROM in a vdisk pool\n")
    (tmp_path / "boot.bin").write_bytes(sector.ljust(2048, b"\0"))
    run([BUILD / "tools/vdisk-virsh", "iso-create", "-o", pool.vol_path("boot.iso"), "-V", label,
         "--boot", tmp_path / "boot.bin", "--boot-no-emul", "--boot-load-size", "4", tree])
    pool.virsh("pool-refresh", pool.name)
    assert "<format type='iso'/>" in pool.vol_xml("boot.iso")
    guest = hypervisor.start_guest([Disk(pool.name, "boot.iso", "raw", "hdc", device="cdrom")],
                                   accel=accel, boot="cdrom")
    text = guest.wait_done()
    assert f"token={token} disk=.CD001." in text, text
    assert label in text, text
    guest.destroy()


def test_guest_on_default_network(hypervisor, vdisk_pool, tmp_path):
    """The network driver: `default` (NAT) is autostarted in the daemons'
    network namespace -- bridge, dnsmasq, iptables rules -- and a guest's
    NIC is plugged into its bridge.  (No traffic leaves that namespace.)"""
    out = hypervisor.virsh("net-list", "--all", uri=hypervisor.network_uri).stdout
    row = next((l.split() for l in out.splitlines() if l.split()[:1] == ["default"]), None)
    assert row and row[1] == "active", out
    xml = hypervisor.virsh("net-dumpxml", "default", uri=hypervisor.network_uri).stdout
    assert "<forward mode='nat'>" in xml
    bridge = xml.split("<bridge name='", 1)[1].split("'", 1)[0]
    link = hypervisor.in_netns("ip", "-o", "addr", "show", "dev", bridge).stdout
    assert "192.168.122.1/24" in link
    nat = hypervisor.in_netns("iptables", "-t", "nat", "-S").stdout
    assert "192.168.122.0/24" in nat and "MASQUERADE" in nat
    pool = vdisk_pool()
    token = new_token()
    seed = upload_seed(pool, tmp_path, disk_image(token, write=False), name="boot.img")
    guest = hypervisor.start_guest([Disk(pool.name, seed, "raw")], networks=["default"])
    assert f"token={token} disk=DISK-{token}" in guest.wait_done()
    ports = hypervisor.in_netns("ip", "-o", "link", "show", "master", bridge).stdout
    assert "vnet" in ports, ports
    guest.destroy()
