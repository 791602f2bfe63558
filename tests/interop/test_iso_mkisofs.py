"""vdisk-virsh with mkisofs's grammar (`iso-create --mkisofs`, or run as
`mkisofs` / `genisoimage` through a symlink), held to genisoimage given the
same arguments: the same tree extracted by xorriso, the same names through
isoinfo (ISO, Rock Ridge, Joliet), the same volume id, the same El Torito
report (entries, platforms, emulation, load sizes, paths; LBAs differ as
the layouts do), the same modes under -R and -r.
"""
import os
import re

import pytest

from conftest import VDISK_VIRSH, run
from iso_common import isoinfo_find, make_tree as make_full_tree, need, walk_host, xorriso_extract


def make_tree(root):
    """iso_common's tree without its Joliet name collisions, which
    genisoimage refuses ("have the same Joliet name") and vdisk resolves."""
    make_full_tree(root)
    for p in list(root.iterdir()):
        if p.name[:70] in ("x" * 70, "A" * 70):
            p.unlink()

BOOT_ARGS = ["-b", "isolinux/isolinux.bin", "-c", "isolinux/boot.cat", "-no-emul-boot",
             "-boot-load-size", "4", "-boot-info-table", "-eltorito-alt-boot",
             "-e", "EFI/boot/efiboot.img", "-no-emul-boot"]


def both(tmp_path, args, name="x"):
    """Build with vdisk (iso-create --mkisofs) and genisoimage; the two paths."""
    mine, theirs = tmp_path / f"{name}-vdisk.iso", tmp_path / f"{name}-geniso.iso"
    run([VDISK_VIRSH, "iso-create", "--mkisofs", "-o", mine, *args])
    run([need("genisoimage"), "-quiet", "-o", theirs, *args])
    return mine, theirs


def eltorito(iso):
    """xorriso's El Torito report without the LBA column and catalog LBA."""
    p = run([need("xorriso"), "-indev", iso, "-report_el_torito", "plain"], check=False)
    lines = []
    for line in p.stdout.splitlines():
        if line.startswith("El Torito boot img"):
            line = line.rsplit(None, 1)[0]
        if line.startswith("El Torito catalog "):
            continue
        if line.startswith("El Torito"):
            lines.append(line)
    return lines


def pvd(iso):
    d = run([need("isoinfo"), "-d", "-i", iso]).stdout
    return (re.search(r"^Volume id: (.*)$", d, re.M).group(1),
            "Joliet with UCS level" in d, "Rock Ridge signatures" in d)


@pytest.fixture
def boot_tree(tmp_path):
    t = tmp_path / "tree"
    (t / "isolinux").mkdir(parents=True)
    (t / "EFI" / "boot").mkdir(parents=True)
    (t / "isolinux" / "isolinux.bin").write_bytes(os.urandom(4096))
    (t / "EFI" / "boot" / "efiboot.img").write_bytes(os.urandom(64 << 10))
    (t / "README").write_text("install me\n")
    return t


def test_bootable_remaster_like_genisoimage(tmp_path, boot_tree):
    extra = tmp_path / "extra.txt"
    extra.write_text("grafted\n")
    args = ["-V", "REMASTER", "-J", "-r", "-input-charset", "utf8", *BOOT_ARGS,
            "-graft-points", f"/={boot_tree}", f"extra/e.txt={extra}"]
    mine, theirs = both(tmp_path, args)
    assert pvd(mine) == pvd(theirs) == ("REMASTER", True, True)
    report = eltorito(mine)
    assert report == eltorito(theirs)
    assert any("/isolinux/boot.cat" in line for line in report)
    a = walk_host(xorriso_extract(mine, tmp_path / "a"))
    b = walk_host(xorriso_extract(theirs, tmp_path / "b"))
    # The catalog's and the patched boot image's bytes hold LBAs: the two
    # layouts differ there; names, types, sizes and modes do not.
    for p in ("/isolinux/boot.cat", "/isolinux/isolinux.bin"):
        assert a.pop(p)[::3] == b.pop(p)[::3]
    assert a == b
    for flag in ("-J", "-R"):
        assert isoinfo_find(mine, flag) == isoinfo_find(theirs, flag), flag


@pytest.mark.parametrize("rock", ["-R", "-r"])
def test_rock_ridge_modes_like_genisoimage(tmp_path, rock):
    t = tmp_path / "t"
    make_tree(t)
    (t / "private").write_text("secret-ish\n")
    (t / "private").chmod(0o640)
    mine, theirs = both(tmp_path, [rock, t])
    a = walk_host(xorriso_extract(mine, tmp_path / "a"))
    b = walk_host(xorriso_extract(theirs, tmp_path / "b"))
    assert a == b
    la = run([need("isoinfo"), "-R", "-l", "-i", mine]).stdout
    lb = run([need("isoinfo"), "-R", "-l", "-i", theirs]).stdout
    modes = lambda s: sorted(re.findall(r"^([-dl][-rwxsStT]{9})\s+\d+\s+(\d+)\s+(\d+).*\s(\S+)\s*$", s, re.M))
    assert modes(la) == modes(lb)


def ascii_tree(root):
    """Names whose ISO 9660 level-1 form leaves no choice to the writer."""
    (root / "sub").mkdir(parents=True)
    (root / "README.TXT").write_text("read me\n")
    (root / "sub" / "DATA.BIN").write_bytes(os.urandom(5000))
    (root / "link").symlink_to("README.TXT")
    return root


def test_plain_iso_without_extensions(tmp_path):
    """No -R/-J: ISO names only, and symlinks left out (only Rock Ridge
    can record one), as genisoimage does."""
    t = ascii_tree(tmp_path / "t")
    mine, theirs = both(tmp_path, [t])
    assert pvd(mine) == pvd(theirs) == ("CDROM", False, False)
    assert isoinfo_find(mine, None) == isoinfo_find(theirs, None)
    assert (walk_host(xorriso_extract(mine, tmp_path / "a"))
            == walk_host(xorriso_extract(theirs, tmp_path / "b")))


def test_virt_install_seed_command(tmp_path):
    """virtinst's installerinject.py: -o ISO -J -input-charset utf8
    -rational-rock -V cidata DIR."""
    d = tmp_path / "seed"
    d.mkdir()
    (d / "user-data").write_text("#cloud-config\n")
    (d / "meta-data").write_text("instance-id: x\n")
    mine, theirs = both(tmp_path, ["-J", "-input-charset", "utf8", "-rational-rock", "-V", "cidata", d])
    assert pvd(mine) == pvd(theirs) == ("cidata", True, True)
    assert (walk_host(xorriso_extract(mine, tmp_path / "a"))
            == walk_host(xorriso_extract(theirs, tmp_path / "b")))


def test_graft_point_escaped_equals(tmp_path):
    f = tmp_path / "src.txt"
    f.write_text("x\n")
    mine, theirs = both(tmp_path, ["-r", "-graft-points", f"a\\=b.txt={f}"])
    assert isoinfo_find(mine, "-R") == isoinfo_find(theirs, "-R")
    assert "/a=b.txt" in isoinfo_find(mine, "-R")


@pytest.mark.parametrize("name", ["mkisofs", "genisoimage"])
def test_run_as_mkisofs_or_genisoimage(tmp_path, name):
    link = tmp_path / name
    link.symlink_to(VDISK_VIRSH)
    t = tmp_path / "t"
    make_tree(t)
    mine, theirs = tmp_path / "m.iso", tmp_path / "g.iso"
    run([link, "-o", mine, "-V", "LINKED", "-J", "-R", t])
    run([need("genisoimage"), "-quiet", "-o", theirs, "-V", "LINKED", "-J", "-R", t])
    assert pvd(mine) == pvd(theirs)
    # ISO 9660 level-1 names of non-ASCII and long names are each writer's
    # own invention; the Rock Ridge and Joliet names are not.
    for flag in ("-J", "-R"):
        assert isoinfo_find(mine, flag) == isoinfo_find(theirs, flag), flag


@pytest.mark.parametrize("args,words", [
    (["-l"], "mkisofs option '-l' is not implemented"),
    (["-iso-level", "3"], "not implemented"),
    (["-input-charset", "iso8859-1"], "UTF-8 only"),
    (["-b", "nope.bin", "-c", "boot.cat"], "-b nope.bin: no such file in the image"),
    (["-b", "isolinux/isolinux.bin"], "boot catalog"),
    (["-e", "EFI/boot/efiboot.img"], "-eltorito-alt-boot"),
    (["-eltorito-alt-boot", "-e", "EFI/boot/efiboot.img", "-c", "b.cat"], "-no-emul-boot"),
    (["-eltorito-alt-boot", "-e", "EFI/boot/efiboot.img", "-no-emul-boot", "-boot-info-table",
      "-c", "b.cat"], "BIOS entry only"),
])
def test_refused_with_a_reason_and_nothing_written(tmp_path, boot_tree, args, words):
    out = tmp_path / "out.iso"
    p = run([VDISK_VIRSH, "iso-create", "--mkisofs", "-o", out, *args, boot_tree], check=False)
    assert p.returncode == 1 and words in p.stderr, p.stderr
    assert not out.exists()


def test_no_output_file_refused(tmp_path, boot_tree):
    p = run([VDISK_VIRSH, "iso-create", "--mkisofs", boot_tree], check=False, text=False)
    assert p.returncode == 1 and b"-o FILE is required" in p.stderr and p.stdout == b""
