"""El Torito: vdisk's boot catalog as xorriso reports it, and a real boot:
a tiny no-emulation boot sector (assembled here as bytes) that prints a
marker on COM1, booted by QEMU with software emulation."""
import json
import re
import shutil
import subprocess
import time

import pytest

from conftest import run
from iso_common import need

MARKER = b"VDISK-BOOT-OK"


def boot_sector():
    """16-bit real mode, loaded at 0000:7C00 (or 07C0:0000):
        cli; xor ax,ax; mov ds,ax; mov dx,0x3f8; mov si,0x7c16
        next: lodsb; test al,al; jz halt; out dx,al; jmp next
        halt: hlt; jmp halt
        0x16: "VDISK-BOOT-OK\\r\\n\\0"
    """
    code = bytes([0xFA, 0x31, 0xC0, 0x8E, 0xD8, 0xBA, 0xF8, 0x03, 0xBE, 0x16, 0x7C,
                  0xAC, 0x84, 0xC0, 0x74, 0x03, 0xEE, 0xEB, 0xF8, 0xF4, 0xEB, 0xFD])
    assert len(code) == 0x16
    return (code + MARKER + b"\r\n\0").ljust(2048, b"\0")


def el_torito_report(iso):
    p = run([need("xorriso"), "-indev", iso, "-report_el_torito", "plain"])
    rows = []
    for line in p.stdout.splitlines():
        m = re.match(r"El Torito boot img :\s+(\d+)\s+(\w+)\s+(\w)\s+(\S+)\s+(0x[0-9a-f]+)\s+"
                     r"(0x[0-9a-f]+)\s+(\d+)\s+(\d+)", line)
        if m:
            rows.append(m.groups())
    cat = re.search(r"El Torito catalog\s+:\s+(\d+)", p.stdout)
    return rows, cat


@pytest.fixture
def images(tmp_path):
    bios = tmp_path / "boot.bin"
    bios.write_bytes(boot_sector())
    efi = tmp_path / "efi.img"
    efi.write_bytes(bytes(range(256)) * 4096)   # 1 MiB stand-in for a FAT image
    content = tmp_path / "content"
    content.mkdir()
    (content / "readme.txt").write_text("bootable\n")
    return bios, efi, content


def test_report_el_torito_bios_and_efi(vdisk, images, tmp_path):
    bios, efi, content = images
    iso = tmp_path / "both.iso"
    vdisk("iso-create", "-o", iso, "--boot", bios, "--boot-no-emul", "--boot-load-size", "4",
          "--efi-boot", efi, content)
    rows, cat = el_torito_report(iso)
    assert cat, "xorriso sees no boot catalog"
    assert [(r[1], r[2], r[3], int(r[6])) for r in rows] == [("BIOS", "y", "none", 4),
                                                          ("UEFI", "y", "none", 2048)]
    data = iso.read_bytes()
    for row, img in zip(rows, (bios, efi)):
        lba = int(row[7])
        assert data[lba * 2048:lba * 2048 + img.stat().st_size] == img.read_bytes()
    info = json.loads(vdisk("info", "--output", "json", iso).stdout)
    assert info["format-specific"]["data"]["bootable"] is True
    assert vdisk("iso-ls", "-R", iso).stdout.split() == ["/readme.txt"]


def test_report_el_torito_efi_only_and_floppy(vdisk, images, tmp_path):
    bios, efi, content = images
    iso = tmp_path / "efi.iso"
    vdisk("iso-create", "-o", iso, "--efi-boot", efi, content)
    rows, _ = el_torito_report(iso)
    assert [(r[1], r[3]) for r in rows] == [("UEFI", "none")]
    floppy = tmp_path / "floppy.img"
    floppy.write_bytes(boot_sector().ljust(1474560, b"\0"))
    iso = tmp_path / "floppy.iso"
    vdisk("iso-create", "-o", iso, "--boot", floppy, content)
    rows, _ = el_torito_report(iso)
    assert [(r[1], r[3]) for r in rows] == [("BIOS", "fd1.4")]


def test_floppy_emulation_needs_a_floppy_size(vdisk, images, tmp_path):
    bios, _, content = images
    out = tmp_path / "bad.iso"
    p = vdisk("iso-create", "-o", out, "--boot", bios, content, check=False)
    assert p.returncode == 1 and "--boot-no-emul" in p.stderr
    assert not out.exists()


def test_qemu_boots_the_image(vdisk, images, tmp_path):
    qemu = shutil.which("qemu-system-x86_64")
    if not qemu:
        pytest.fail("qemu-system-x86_64 is missing (Debian package qemu-system-x86)")
    bios, _, content = images
    iso = tmp_path / "boot.iso"
    vdisk("iso-create", "-o", iso, "--boot", bios, "--boot-no-emul", "--boot-load-size", "4", content)
    proc = subprocess.Popen([qemu, "-accel", "tcg", "-m", "64", "-display", "none", "-monitor", "none",
                             "-serial", "stdio", "-no-reboot", "-boot", "d", "-cdrom", str(iso)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    seen = b""
    try:
        deadline = time.monotonic() + 120
        import selectors
        sel = selectors.DefaultSelector()
        sel.register(proc.stdout, selectors.EVENT_READ)
        while MARKER not in seen and time.monotonic() < deadline and proc.poll() is None:
            if sel.select(timeout=1):
                chunk = proc.stdout.read1(4096)
                if not chunk:
                    break
                seen += chunk
    finally:
        proc.kill()
        proc.wait()
    assert MARKER in seen, seen[-500:]


def test_boot_image_in_tree_with_boot_info_table(vdisk, images, tmp_path):
    """A boot image that is a file of the tree is the tree's entry (as
    mkisofs -b names it), and --boot-info-table patches bytes 8-63 of the
    image's copy, which xorriso recognises."""
    bios, _, content = images
    loader = content / "isolinux" / "isolinux.bin"
    loader.parent.mkdir()
    body = bytes((i * 7 + 3) % 251 for i in range(6000))
    loader.write_bytes(body)
    iso = tmp_path / "info.iso"
    vdisk("iso-create", "-o", iso, "--boot", loader, "--boot-no-emul", "--boot-load-size", "4",
          "--boot-info-table", content)
    rep = run([need("xorriso"), "-indev", iso, "-report_el_torito", "as_mkisofs"]).stdout.splitlines()
    assert "-b '/isolinux/isolinux.bin'" in rep
    assert "-boot-info-table" in rep
    rows, _ = el_torito_report(iso)
    lba = int(rows[0][7])
    data = iso.read_bytes()[lba * 2048:lba * 2048 + len(body)]
    padded = body[64:] + bytes(-len(body[64:]) % 4)
    csum = sum(int.from_bytes(padded[i:i + 4], "little") for i in range(0, len(padded), 4)) & 0xFFFFFFFF
    assert data[8:24] == (16).to_bytes(4, "little") + lba.to_bytes(4, "little") + \
        len(body).to_bytes(4, "little") + csum.to_bytes(4, "little")
    assert data[24:64] == bytes(40)
    assert data[:8] == body[:8] and data[64:] == body[64:]
    assert loader.read_bytes() == body           # the source is not modified
    assert "/isolinux/isolinux.bin" in vdisk("iso-ls", "-R", iso).stdout.split()


def xorriso_boot_rows(iso):
    p = run([need("xorriso"), "-indev", iso, "-report_el_torito", "plain"])
    return [l for l in p.stdout.splitlines() if l.startswith("El Torito boot img :")]


def test_el_torito_listing_matches_xorriso(vdisk, images, tmp_path):
    """iso-ls --el-torito prints the catalog rows xorriso prints, for images
    made by xorriso, genisoimage and vdisk."""
    bios, efi, content = images
    tree = tmp_path / "tree"
    shutil.copytree(content, tree)
    shutil.copy(bios, tree / "boot.bin")
    shutil.copy(efi, tree / "efi.img")
    makers = {
        "xorriso.iso": [need("xorriso"), "-as", "mkisofs", "-quiet", "-R", "-b", "boot.bin",
                        "-no-emul-boot", "-boot-load-size", "4", "-eltorito-alt-boot", "-e", "efi.img",
                        "-no-emul-boot"],
        "geniso.iso": [need("genisoimage"), "-quiet", "-R", "-b", "boot.bin", "-no-emul-boot",
                       "-boot-load-size", "4", "-eltorito-alt-boot", "-e", "efi.img", "-no-emul-boot"],
    }
    for name, cmd in makers.items():
        run(cmd + ["-o", tmp_path / name, tree])
    vdisk("iso-create", "-o", tmp_path / "vdisk.iso", "--boot", tree / "boot.bin", "--boot-no-emul",
          "--boot-load-size", "4", "--efi-boot", tree / "efi.img", tree)
    for name in ("xorriso.iso", "geniso.iso", "vdisk.iso"):
        want = xorriso_boot_rows(tmp_path / name)
        assert len(want) == 2, name
        assert vdisk("iso-ls", "--el-torito", tmp_path / name).stdout.splitlines() == want, name
    rows = json.loads(vdisk("iso-ls", "--el-torito", "--json", tmp_path / "vdisk.iso").stdout)
    assert [(r["platform"], r["emulation"], r["load-size"]) for r in rows] == [("BIOS", "none", 4),
                                                                               ("UEFI", "none", 2048)]
