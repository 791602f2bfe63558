"""The probing hole (issue 13), through the real libvirt daemon: a guest
writes a qcow2 header naming a host file as backing file into its raw
volume.  libvirt's own 'dir' pool then shows the volume as a qcow2 with that
backing store after pool-refresh (the oracle that the attack is real); a
vdisk pool keeps it raw -- in vol-dumpxml, after a daemon restart, in
vol-clone and vol-create-from copies, which hold the guest's bytes, never the
host file.  Also: a file copied into the pool directory whose backing file
lies outside the pool, the pool option that allows such files, and
pool-capabilities listing exactly the formats vdisk creates."""
import json
import subprocess
import xml.etree.ElementTree as ET

import pytest

from conftest import MiB, NS, REPO, BUILD, qemu_img

SECRET = b"HOST-SECRET-0123456789abcdef\n" * 64


@pytest.fixture
def host_file(tmp_path):
    p = tmp_path / "host-secret"
    p.write_bytes(SECRET)
    return p


def fake_header(tmp_path, backing):
    p = tmp_path / "fake.qcow2"
    qemu_img("create", "-q", "-f", "qcow2", "-u", "-b", backing, "-F", "raw", p, "4M")
    return p.read_bytes()


def attack(pool, tmp_path, host_file):
    """Raw volume 'guest' into which its guest wrote a qcow2 header naming
    host_file; the pool refreshed.  Returns the guest's bytes."""
    pool.virsh("vol-create-as", pool.name, "guest", str(4 * MiB), "--format", "raw")
    with open(pool.vol_path("guest"), "r+b") as f:
        f.write(fake_header(tmp_path, host_file))
    pool.virsh("pool-refresh", pool.name)
    return pool.vol_path("guest").read_bytes()


def vol_root(pool, vol):
    return ET.fromstring(pool.vol_xml(vol))


def test_dir_pool_shows_the_attack(dir_pool, tmp_path, host_file):
    """The oracle: libvirt's own dir pool re-probes the guest's bytes."""
    pool = dir_pool()
    attack(pool, tmp_path, host_file)
    root = vol_root(pool, "guest")
    assert root.find("target/format").get("type") == "qcow2"
    assert root.findtext("backingStore/path") == str(host_file)


def test_vdisk_pool_keeps_the_volume_raw(vdisk_pool, daemon, tmp_path, host_file):
    pool = vdisk_pool()
    guest = attack(pool, tmp_path, host_file)
    for _ in range(2):
        root = vol_root(pool, "guest")
        assert root.find("target/format").get("type") == "raw"
        assert root.find("backingStore") is None
        assert int(root.findtext("capacity")) == 4 * MiB
        # the record survives a daemon restart (libvirt keeps volumes in memory only)
        daemon.restart()
        pool.virsh("pool-refresh", pool.name)
    pool.virsh("vol-clone", "guest", "copy", "--pool", pool.name)
    assert pool.vol_path("copy").read_bytes() == guest
    xml = tmp_path / "new.xml"
    xml.write_text("<volume><name>conv</name><capacity unit='bytes'>0</capacity>"
                   "<target><format type='qcow2'/></target></volume>")
    pool.virsh("vol-create-from", pool.name, xml, "guest", "--inputpool", pool.name)
    out = tmp_path / "conv.raw"
    qemu_img("convert", "-U", "-f", "qcow2", "-O", "raw", pool.vol_path("conv"), out)
    data = out.read_bytes()
    assert data == guest and SECRET[:32] not in data


def test_copied_in_file_with_backing_outside_refused(vdisk_pool, tmp_path, host_file):
    pool = vdisk_pool()
    qemu_img("create", "-q", "-f", "qcow2", "-b", host_file, "-F", "raw",
             pool.vol_path("dropped"), "4M")
    pool.virsh("pool-refresh", pool.name)
    root = vol_root(pool, "dropped")
    assert root.find("target/format").get("type") == "qcow2"
    assert root.find("backingStore") is None
    p = pool.virsh("vol-clone", "dropped", "copy", "--pool", pool.name, check=False)
    assert p.returncode != 0 and "outside the directory of pool" in p.stderr
    assert not pool.vol_path("copy").exists()


def test_pool_may_allow_backing_outside(daemon, pool_dir, tmp_path, host_file):
    name, path = "allowing", pool_dir / "allowing"
    xml = tmp_path / "pool.xml"
    xml.write_text(f"<pool type='vdisk' xmlns:vdisk='{NS}'>\n  <name>{name}</name>\n"
                   f"  <target><path>{path}</path></target>\n"
                   "  <vdisk:backing><vdisk:outside>allow</vdisk:outside></vdisk:backing>\n"
                   "</pool>\n")
    daemon.virsh("pool-define", xml)
    try:
        daemon.virsh("pool-build", name)
        daemon.virsh("pool-start", name)
        dumped = ET.fromstring(daemon.virsh("pool-dumpxml", name).stdout)
        assert dumped.findtext(f"{{{NS}}}backing/{{{NS}}}outside") == "allow"
        qemu_img("create", "-q", "-f", "qcow2", "-b", host_file, "-F", "raw", path / "dropped", "4M")
        daemon.virsh("pool-refresh", name)
        root = ET.fromstring(daemon.virsh("vol-dumpxml", "--pool", name, "dropped").stdout)
        assert root.findtext("backingStore/path") == str(host_file)
        daemon.virsh("vol-clone", "dropped", "copy", "--pool", name)
        out = tmp_path / "copy.raw"
        qemu_img("convert", "-U", "-f", "qcow2", "-O", "raw", path / "copy", out)
        assert out.read_bytes()[:len(SECRET)] == SECRET
    finally:
        daemon.virsh("pool-destroy", name, check=False)
        daemon.virsh("pool-undefine", name, check=False)


def creatable_by_vdisk(tmp_path, names):
    """Which of these formats libvdisk creates: whatever `vdisk-virsh create`
    makes (the core's own answer), plus iso, the empty file a pool makes to
    upload an image into (as libvirt's dir pool does)."""
    made = {"iso"}
    for fmt in names:
        p = subprocess.run([BUILD / "tools" / "vdisk-virsh", "create", "-q", "-f", fmt,
                            tmp_path / f"probe.{fmt}", "1M"], capture_output=True, text=True)
        if p.returncode == 0:
            made.add(fmt)
    return made


def test_capabilities_list_what_vdisk_creates(daemon, tmp_path):
    root = ET.fromstring(daemon.virsh("pool-capabilities").stdout)
    listed = {v.text for v in root.findall(
        "pool[@type='vdisk']/volOptions/enum[@name='targetFormatType']/value")}
    every = {v.text for v in root.findall(
        "pool[@type='dir']/volOptions/enum[@name='targetFormatType']/value")}
    assert listed == creatable_by_vdisk(tmp_path, sorted(every)) & every
    assert {"raw", "qcow2"} <= listed and "vdi" not in listed


@pytest.mark.parametrize("fmt", ["vdi", "qed"])
def test_vol_create_refuses_formats_vdisk_only_reads(vdisk_pool, fmt):
    pool = vdisk_pool()
    p = pool.virsh("vol-create-as", pool.name, f"x.{fmt}", str(MiB), "--format", fmt, check=False)
    assert p.returncode != 0
    assert f"volume format '{fmt}' is not supported for new volumes" in p.stderr
    assert not pool.vol_path(f"x.{fmt}").exists()


def test_import_vdi_into_qcow2(vdisk_pool, tmp_path):
    """vol-create-from imports a VirtualBox disk copied into the pool."""
    pool = vdisk_pool()
    src = tmp_path / "disk.vdi"
    qemu_img("create", "-q", "-f", "vdi", src, "8M")
    subprocess.run(["qemu-io", "-f", "vdi", "-c", "write -P 0x5a 1M 64k", src], check=True,
                   capture_output=True)
    pool.vol_path("import.vdi").write_bytes(src.read_bytes())
    pool.virsh("pool-refresh", pool.name)
    assert vol_root(pool, "import.vdi").find("target/format").get("type") == "vdi"
    xml = tmp_path / "new.xml"
    xml.write_text("<volume><name>disk.qcow2</name><capacity unit='bytes'>0</capacity>"
                   "<target><format type='qcow2'/></target></volume>")
    pool.virsh("vol-create-from", pool.name, xml, "import.vdi", "--inputpool", pool.name)
    qemu_img("compare", "-f", "vdi", "-F", "qcow2", src, pool.vol_path("disk.qcow2"))


# VMware and Hyper-V disks copied into a pool and imported through the daemon
# (V2V): qemu-img makes the source, qemu-io writes a pattern, qemu-img compare
# is the oracle for the imported qcow2.  libvirt has no name for vhdx: the
# module shows such a volume as format 'none' (never 'raw'), and vdisk's own
# record of the format is what the import reads it as.
FOREIGN_SOURCES = [
    ("vmdk", ["-o", "subformat=streamOptimized"], "vmdk"),
    ("vmdk", ["-o", "subformat=monolithicSparse"], "vmdk"),
    ("vhdx", [], "none"),
    ("vpc", [], "vpc"),
]


@pytest.mark.parametrize("fmt,opts,shown", FOREIGN_SOURCES,
                         ids=["vmdk-stream", "vmdk-sparse", "vhdx", "vpc"])
def test_import_foreign_disk_into_qcow2(vdisk_pool, tmp_path, fmt, opts, shown):
    pool = vdisk_pool()
    src = tmp_path / f"disk.{fmt}"
    if "subformat=streamOptimized" in opts:
        # qemu-img writes streamOptimized only by converting into it
        plain = tmp_path / "plain.raw"
        qemu_img("create", "-q", "-f", "raw", plain, "8M")
        subprocess.run(["qemu-io", "-f", "raw", "-c", "write -P 0x5a 1M 64k", plain],
                       check=True, capture_output=True)
        qemu_img("convert", "-q", "-f", "raw", "-O", fmt, *opts, plain, src)
    else:
        qemu_img("create", "-q", "-f", fmt, *opts, src, "8M")
        subprocess.run(["qemu-io", "-f", fmt, "-c", "write -P 0x5a 1M 64k", src], check=True,
                       capture_output=True)
    pool.vol_path(f"import.{fmt}").write_bytes(src.read_bytes())
    pool.virsh("pool-refresh", pool.name)
    assert vol_root(pool, f"import.{fmt}").find("target/format").get("type") == shown
    xml = tmp_path / "new.xml"
    xml.write_text("<volume><name>disk.qcow2</name><capacity unit='bytes'>0</capacity>"
                   "<target><format type='qcow2'/></target></volume>")
    pool.virsh("vol-create-from", pool.name, xml, f"import.{fmt}", "--inputpool", pool.name)
    qemu_img("compare", "-f", fmt, "-F", "qcow2", src, pool.vol_path("disk.qcow2"))
    assert qemu_img("check", "-f", "qcow2", pool.vol_path("disk.qcow2"), check=False).returncode == 0


@pytest.mark.parametrize("fmt", ["vmdk", "vpc"])
def test_vol_create_as_foreign_format(vdisk_pool, fmt):
    """vol-create-as --format vmdk / vpc through the daemon makes an image
    qemu-img reads as that format, with the requested size."""
    pool = vdisk_pool()
    pool.virsh("vol-create-as", pool.name, f"out.{fmt}", str(16 * MiB), "--format", fmt)
    info = qemu_img("info", "--output=json", pool.vol_path(f"out.{fmt}")).stdout
    data = json.loads(info)
    assert data["format"] == fmt
    assert data["virtual-size"] >= 16 * MiB
    assert vol_root(pool, f"out.{fmt}").find("target/format").get("type") == fmt
