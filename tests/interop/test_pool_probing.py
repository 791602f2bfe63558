"""A volume's format is the one it was created or imported with, never what
a guest later writes into it (the CVE-2008-2004 class of bug, issue 13).

The attack: a guest writes a qcow2 header naming a host file as backing
file into its raw volume.  qemu-img makes that header (the oracle for what
such bytes look like); the test writes it into the volume file as the guest
would.  After pool-refresh the volume must still be raw, show no backing
store, and copies (vol-clone, vol-convert, vol-create-from) must hold the
guest's bytes -- the fake header -- never the host file's.

A file the administrator copies into the pool directory is probed once and
its result recorded; its backing files outside the pool are refused unless
the pool allows them (<vdisk:backing><vdisk:outside>allow</vdisk:outside>).
"""
import os
import shutil
import xml.etree.ElementTree as ET

import pytest

from pool_common import NS, qemu_info, virsh  # noqa: F401

MiB = 1 << 20
SECRET = b"HOST-SECRET-0123456789abcdef\n" * 64


@pytest.fixture
def host_file(tmp_path):
    """A file outside every pool, standing for /etc/shadow."""
    p = tmp_path / "host-secret"
    p.write_bytes(SECRET)
    return p


def fake_header(qemu_img, tmp_path, backing, fmt="raw"):
    """The bytes of a qcow2 image naming `backing`, as qemu-img writes them."""
    p = tmp_path / "fake.qcow2"
    qemu_img("create", "-f", "qcow2", "-u", "-b", backing, "-F", fmt, p, "4M")
    return p.read_bytes()


def guest_writes(path, data, offset=0):
    """What a guest does to its disk: write bytes into the volume's file."""
    with open(path, "r+b") as f:
        f.seek(offset)
        f.write(data)


def vol_xml(virsh, vol, pool="p"):
    return ET.fromstring(virsh.run("vol-dumpxml", vol, "--pool", pool).stdout)


def attacked_raw_volume(virsh, qemu_img, tmp_path, host_file):
    """A pool with raw volume 'guest' whose guest wrote a qcow2 header
    naming host_file; returns (pool path, the guest's bytes)."""
    path = virsh.make_pool("p")
    virsh.run("vol-create-as", "p", "guest", "4M", "--format", "raw")
    guest_writes(path / "guest", fake_header(qemu_img, tmp_path, host_file))
    virsh.run("pool-refresh", "p")
    return path, (path / "guest").read_bytes()


def test_raw_volume_stays_raw_after_refresh(virsh, qemu_img, tmp_path, host_file):
    path, _ = attacked_raw_volume(virsh, qemu_img, tmp_path, host_file)
    # what the bytes look like now (the oracle): a qcow2 with that backing file
    assert qemu_info(qemu_img, path / "guest")["format"] == "qcow2"
    root = vol_xml(virsh, "guest")
    assert root.find("target/format").get("type") == "raw"
    assert root.find("backingStore") is None
    assert root.findtext("capacity") == str(4 * MiB)
    info = virsh.json("vol-info", "guest", "--pool", "p", "--json")
    assert info["format"] == "raw" and info["capacity"] == 4 * MiB
    listing = virsh.run("vol-list", "p", "--details").stdout
    assert "guest" in listing and ".vdisk" not in listing


@pytest.mark.parametrize("how", ["vol-clone", "vol-convert", "vol-create-from"])
def test_copies_hold_the_guest_bytes(virsh, qemu_img, tmp_path, host_file, how):
    path, guest = attacked_raw_volume(virsh, qemu_img, tmp_path, host_file)
    if how == "vol-clone":
        virsh.run("vol-clone", "guest", "copy", "--pool", "p")
        fmt = "raw"
    elif how == "vol-convert":
        virsh.run("vol-convert", "guest", "copy", "--pool", "p", "--format", "qcow2")
        fmt = "qcow2"
    else:
        xml = tmp_path / "new.xml"
        xml.write_text("<volume><name>copy</name><capacity>0</capacity>"
                       "<target><format type='qcow2'/></target></volume>")
        virsh.run("vol-create-from", "p", xml, "guest", "--inputpool", "p")
        fmt = "qcow2"
    out = tmp_path / "copy.raw"
    qemu_img("convert", "-U", "-f", fmt, "-O", "raw", path / "copy", out)
    data = out.read_bytes()
    assert data == guest                         # the fake header and the rest, as written
    assert SECRET[:32] not in data               # never the host file
    assert vol_xml(virsh, "copy").find("target/format").get("type") == fmt


def test_raw_volume_stays_raw_for_wipe_and_resize(virsh, qemu_img, tmp_path, host_file):
    path, guest = attacked_raw_volume(virsh, qemu_img, tmp_path, host_file)
    virsh.run("vol-resize", "guest", "8M", "--pool", "p")
    assert os.path.getsize(path / "guest") == 8 * MiB      # a raw file grown, not a qcow2
    assert (path / "guest").read_bytes()[:len(guest)] == guest
    virsh.run("vol-wipe", "guest", "--pool", "p")
    assert (path / "guest").read_bytes() == bytes(8 * MiB)  # zeros, not a qcow2 made anew
    assert vol_xml(virsh, "guest").find("target/format").get("type") == "raw"


def test_record_survives_a_new_registry(virsh, qemu_img, tmp_path, host_file):
    """The record lives in the pool directory: a pool defined anew on the
    same directory (another registry, or a restarted daemon) still knows."""
    path, _ = attacked_raw_volume(virsh, qemu_img, tmp_path, host_file)
    other = type(virsh)(tmp_path / "second")
    xml = tmp_path / "again.xml"
    xml.write_text(other.pool_xml("again", path))
    other.run("pool-define", xml)
    other.run("pool-start", "again")
    assert vol_xml(other, "guest", "again").find("target/format").get("type") == "raw"


def test_renamed_volume_keeps_its_format(virsh, qemu_img, tmp_path, host_file):
    path, _ = attacked_raw_volume(virsh, qemu_img, tmp_path, host_file)
    os.rename(path / "guest", path / "renamed")
    os.link(path / "renamed", path / "linked")
    virsh.run("pool-refresh", "p")
    for name in ("renamed", "linked"):
        assert vol_xml(virsh, name).find("target/format").get("type") == "raw"


def test_partial_upload_keeps_the_format(virsh, qemu_img, tmp_path, host_file):
    """Only a whole image uploaded from offset 0 is probed again: bytes put
    at an offset leave the guest's header where it was."""
    path, _ = attacked_raw_volume(virsh, qemu_img, tmp_path, host_file)
    blob = tmp_path / "blob"
    blob.write_bytes(b"\x77" * 4096)
    virsh.run("vol-upload", "--pool", "p", "guest", blob, "--offset", "1M")
    assert vol_xml(virsh, "guest").find("target/format").get("type") == "raw"


def test_file_copied_in_is_probed_once(virsh, qemu_img, qemu_io, tmp_path):
    path = virsh.make_pool("p")
    src = tmp_path / "import.qcow2"
    qemu_img("create", "-f", "qcow2", src, "8M")
    qemu_io("-f", "qcow2", "-c", "write -P 0x42 0 1M", src)
    shutil.copy(src, path / "import")
    virsh.run("pool-refresh", "p")
    assert vol_xml(virsh, "import").find("target/format").get("type") == "qcow2"
    # a file replaced under the same name is a new file: probed afresh
    os.unlink(path / "import")
    (path / "import").write_bytes(bytes(MiB))
    virsh.run("pool-refresh", "p")
    assert vol_xml(virsh, "import").find("target/format").get("type") == "raw"


def test_backing_outside_pool_refused_by_default(virsh, qemu_img, tmp_path, host_file):
    path = virsh.make_pool("p")
    qemu_img("create", "-f", "qcow2", "-b", host_file, "-F", "raw", path / "dropped", "4M")
    virsh.run("pool-refresh", "p")
    root = vol_xml(virsh, "dropped")
    assert root.find("target/format").get("type") == "qcow2"
    assert root.find("backingStore") is None                  # shown without it
    for args in (["vol-clone", "dropped", "copy", "--pool", "p"],
                 ["vol-convert", "dropped", "copy", "--pool", "p", "--format", "raw"]):
        p = virsh.run(*args, check=False)
        assert p.returncode != 0
        assert "outside the directory of pool 'p'" in p.stderr and str(host_file) in p.stderr
        assert not (path / "copy").exists()


def test_backing_outside_pool_allowed_by_the_pool(virsh, qemu_img, tmp_path, host_file):
    path = tmp_path / "p"
    xml = tmp_path / "p.xml"
    xml.write_text(virsh.pool_xml("p", path).replace(
        "</pool>", f"  <vdisk:backing><vdisk:outside>allow</vdisk:outside></vdisk:backing>\n</pool>"))
    virsh.run("pool-define", xml)
    virsh.run("pool-build", "p")
    virsh.run("pool-start", "p")
    dumped = ET.fromstring(virsh.run("pool-dumpxml", "p").stdout)
    assert dumped.findtext(f"{{{NS}}}backing/{{{NS}}}outside") == "allow"
    qemu_img("create", "-f", "qcow2", "-b", host_file, "-F", "raw", path / "dropped", "4M")
    virsh.run("pool-refresh", "p")
    back = vol_xml(virsh, "dropped").find("backingStore")
    assert back.findtext("path") == str(host_file) and back.find("format").get("type") == "raw"
    virsh.run("vol-clone", "dropped", "copy", "--pool", "p")
    out = tmp_path / "copy.raw"
    qemu_img("convert", "-f", "qcow2", "-O", "raw", path / "copy", out)
    assert out.read_bytes()[:len(SECRET)] == SECRET       # what the admin allowed


def test_backing_volume_opened_with_its_recorded_format(virsh, qemu_img, tmp_path, host_file):
    """An overlay whose backing file is a raw volume of the pool reads that
    volume as raw, whatever header its guest wrote; an overlay naming it with
    another format is refused."""
    path, guest = attacked_raw_volume(virsh, qemu_img, tmp_path, host_file)
    qemu_img("create", "-f", "qcow2", "-u", "-b", "guest", "-F", "raw", path / "top", "4M")
    qemu_img("create", "-f", "qcow2", "-u", "-b", "guest", "-F", "qcow2", path / "liar", "4M")
    virsh.run("pool-refresh", "p")
    back = vol_xml(virsh, "top").find("backingStore")
    assert back.findtext("path") == str(path / "guest")
    virsh.run("vol-convert", "top", "flat", "--pool", "p", "--format", "raw")
    assert (path / "flat").read_bytes() == guest
    p = virsh.run("vol-clone", "liar", "copy", "--pool", "p", check=False)
    assert p.returncode != 0 and "as qcow2, but that volume is raw" in p.stderr
    assert not (path / "copy").exists()


def test_vdisk_files_are_no_volumes(virsh):
    path = virsh.make_pool("p")
    virsh.run("vol-create-as", "p", "v", "1M")
    assert (path / ".vdisk-volumes").is_file()
    p = virsh.run("vol-create-as", "p", ".vdisk-volumes", "1M", check=False)
    assert p.returncode != 0 and "reserved" in p.stderr
    p = virsh.run("vol-dumpxml", ".vdisk-volumes", "--pool", "p", check=False)
    assert p.returncode != 0
    virsh.run("vol-delete", "v", "--pool", "p")
    assert os.listdir(path) == []                   # the record goes with the last volume


def test_new_volume_formats_follow_libvdisk(virsh, qemu_img):
    """vol-create-as --format accepts what vdisk creates and names that
    list when refusing a format it only reads."""
    virsh.make_pool("p")
    for fmt in ("vdi", "qed", "parallels"):
        p = virsh.run("vol-create-as", "p", f"x.{fmt}", "1M", "--format", fmt, check=False)
        assert p.returncode != 0
        assert f"volume format '{fmt}' is not supported for new volumes" in p.stderr
        created = p.stderr.split("vdisk creates ")[1]
        assert "raw" in created and "qcow2" in created and fmt not in created


@pytest.mark.parametrize("fmt", ["vdi", "qed", "parallels"])
def test_import_foreign_image_into_qcow2(virsh, qemu_img, qemu_io, tmp_path, fmt):
    """V2V in a pool: a foreign image copied into the pool directory is
    probed once (as its format) and vol-convert makes a qcow2 of it holding
    what qemu-img reads from it."""
    path = virsh.make_pool("p")
    src = tmp_path / f"disk.{fmt}"
    qemu_img("create", "-q", "-f", fmt, src, "8M")
    qemu_io("-f", fmt, "-c", "write -P 0x5a 1M 64k", "-c", "write -P 0xa5 6M 4k", src)
    shutil.copy(src, path / "import")
    virsh.run("pool-refresh", "p")
    assert vol_xml(virsh, "import").find("target/format").get("type") == fmt
    virsh.run("vol-convert", "import", "disk.qcow2", "--pool", "p", "--format", "qcow2")
    qemu_img("compare", "-f", fmt, "-F", "qcow2", src, path / "disk.qcow2")
    qemu_img("check", path / "disk.qcow2")
    p = virsh.run("vol-clone", "import", "again", "--pool", "p", check=False)
    assert p.returncode != 0 and "not supported for new volumes" in p.stderr
