"""virt-install (Debian's, virtinst 4.1, with Debian's libvirt client)
against the prefix's virtqemud: `--disk pool=P,size=N[,format=][,sparse=no]`
creates the volume in a vdisk pool and the guest boots, from an ISO volume
of the same pool (the tiny guest of bootsector.py, which copies the CD's
volume descriptor to its hard disk: qemu-img finds it there afterwards).
--print-xml and --dry-run must do to a vdisk pool what they do to libvirt's
own dir pool in the same daemon.
"""
import os
import re
import shutil

import pytest

from bootsector import boot_sector
from conftest import BUILD, allocated, is_zero, qemu_check, qemu_img, qemu_info, run
from guest import Guest

GiB = 1 << 30
VIRT_INSTALL = shutil.which("virt-install") or "/usr/bin/virt-install"


def virt_install(hv, tmp_path, *args, check=True):
    """virt-install --connect URI ARGS, as a user runs it: Debian's libvirt
    client, no library path of the prefix, its own HOME for its logs."""
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("LIBVIRT_", "VIRSH_", "LD_LIBRARY_PATH"))}
    env["HOME"] = str(home)
    return run([VIRT_INSTALL, "--connect", hv.client_uri, *args], check=check, env=env)


def boot_iso(pool, tmp_path, token, write_drive=0x80):
    """boot.iso in the pool: El Torito no-emulation boot of a sector that
    reads the CD's sector 16 and writes its first 512 bytes to sector 2 of
    the first hard disk."""
    sector = boot_sector(token, read_lba=16, show_len=72, write_drive=write_drive, write_lba=2)
    (tmp_path / "boot.bin").write_bytes(sector.ljust(2048, b"\0"))
    tree = tmp_path / "tree"
    tree.mkdir(exist_ok=True)
    (tree / "readme.txt").write_text("virt-install test\n")
    iso = pool.vol_path("boot.iso")
    run([BUILD / "tools/vdisk-virsh", "iso-create", "-o", iso, "-V", "VITEST",
         "--boot", tmp_path / "boot.bin", "--boot-no-emul", "--boot-load-size", "4", tree])
    pool.virsh("pool-refresh", pool.name)
    return iso


def guest_args(name, pool, console, disk):
    return ["--name", name, "--memory", "32", "--vcpus", "1", "--virt-type", "qemu",
            "--arch", "x86_64", "--machine", "pc", "--osinfo", "detect=on,require=off",
            "--import", "--boot", "cdrom",
            "--disk", f"vol={pool.name}/boot.iso,device=cdrom,bus=ide",
            "--disk", disk, "--serial", f"file,path={console}",
            "--graphics", "none", "--network", "none", "--memballoon", "none",
            "--noautoconsole"]


def new_volume_of(pool, before):
    """The one volume that appeared in the pool since the listing before."""
    made = names(pool) - before
    assert len(made) == 1, f"volumes made: {sorted(made)}"
    return made.pop()


def names(pool):
    """The pool's volumes (vol-list's first column)."""
    out = pool.virsh("vol-list", pool.name).stdout.splitlines()[2:]
    return {line.split()[0] for line in out if line.strip()}


@pytest.mark.parametrize("fmt, sparse", [("qcow2", "yes"), ("raw", "yes"), ("raw", "no")])
def test_disk_in_vdisk_pool_boots(hypervisor, vdisk_pool, tmp_path, fmt, sparse):
    pool = vdisk_pool(zeroing="eager" if sparse == "no" else None)
    token = "VI" + fmt.upper() + sparse.upper()
    iso = boot_iso(pool, tmp_path, token)
    before = names(pool)
    name = f"vi-{fmt}-{sparse}"
    console = tmp_path / "console"
    disk = f"pool={pool.name},size=0.01,format={fmt},sparse={sparse},bus=ide"
    p = virt_install(hypervisor, tmp_path, *guest_args(name, pool, console, disk))
    assert "Domain creation completed" in p.stdout + p.stderr, p.stdout + p.stderr
    guest = Guest(hypervisor, name, console)
    hypervisor.guests.append(guest)
    text = guest.wait_done()
    assert f"token={token} disk=.CD001." in text and "VITEST" in text and "wrote=ok" in text, text
    guest.destroy()
    vol = new_volume_of(pool, before)
    path = pool.vol_path(vol)
    info = qemu_info(path)
    assert info["format"] == fmt
    want = int(0.01 * GiB)
    assert info["virtual-size"] == pool.vol_info(vol)["Capacity"] >= want
    if fmt == "qcow2":
        qemu_check(path)
    if sparse == "no":
        assert allocated(path) >= info["virtual-size"], "sparse=no made holes"
    out = tmp_path / "disk.raw"
    qemu_img("convert", "-f", fmt, "-O", "raw", path, out)
    data = out.read_bytes()
    assert data[1024:1536] == iso.read_bytes()[16 * 2048:16 * 2048 + 512]
    assert is_zero(out, 1024)


def printed_disk(xml):
    """(source path, driver type) of the hard disk in virt-install's XML."""
    m = re.search(r"<disk type=\"(\w+)\" device=\"disk\">(.*?)</disk>", xml, re.S)
    assert m, xml
    src = re.search(r"<source (?:file|dev)=\"([^\"]+)\"", m.group(2))
    drv = re.search(r"<driver name=\"qemu\" type=\"(\w+)\"", m.group(2))
    return m.group(1), src.group(1) if src else None, drv.group(1) if drv else None


@pytest.mark.parametrize("mode", ["--print-xml", "--dry-run"])
def test_print_xml_and_dry_run_as_on_a_dir_pool(hypervisor, vdisk_pool, dir_pool, tmp_path,
                                                 mode):
    """Whatever --print-xml and --dry-run do to a dir pool (virt-install 4.1's
    --print-xml does create the volume; --dry-run does not), they do the same
    to a vdisk pool, and the printed disk differs only by its directory."""
    seen = {}
    for pool in (dir_pool(), vdisk_pool()):
        work = tmp_path / pool.kind
        work.mkdir()
        boot_iso(pool, work, "PX")
        before = names(pool)
        args = guest_args("px", pool, work / "console",
                          f"pool={pool.name},size=0.01,format=qcow2,bus=ide")
        p = virt_install(hypervisor, work, *args, mode)
        made = names(pool) - before
        out = p.stdout
        disk = printed_disk(out) if mode == "--print-xml" else None
        seen[pool.kind] = (sorted(made), disk, pool)
        if made:
            for vol in made:
                assert qemu_info(pool.vol_path(vol))["format"] == "qcow2"
        listing = hypervisor.virsh("list", "--all", "--name").stdout.split()
        assert "px" not in listing, "the guest was defined"
    dir_made, dir_disk, dpool = seen["dir"]
    vd_made, vd_disk, vpool = seen["vdisk"]
    assert dir_made == vd_made
    if mode == "--print-xml":
        assert dir_disk[0] == vd_disk[0] and dir_disk[2] == vd_disk[2] == "qcow2"
        assert os.path.dirname(dir_disk[1]) == str(dpool.path)
        assert os.path.dirname(vd_disk[1]) == str(vpool.path)
        assert os.path.basename(dir_disk[1]) == os.path.basename(vd_disk[1])
    else:
        assert vd_made == []
