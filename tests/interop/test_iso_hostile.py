"""Hostile ISO images give clear errors (never a hang or a crash), and
extraction never writes outside -C DIR."""
import os
import struct
from pathlib import Path

import pytest

from conftest import run

SECTOR = 2048


def build(vdisk, tmp_path, files, name="base.iso", links=()):
    src = tmp_path / ("src-" + name)
    src.mkdir()
    for rel, data in files.items():
        p = src / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
    for rel, target in links:
        os.symlink(target, src / rel)
    iso = tmp_path / name
    vdisk("iso-create", "--date", "1700000000", "-o", iso, src)
    return iso


def root_record(data):
    """(offset of the PVD root record, extent, size)."""
    off = 16 * SECTOR + 156
    lba, = struct.unpack_from("<I", data, off + 2)
    size, = struct.unpack_from("<I", data, off + 10)
    return off, lba, size


def find_record(data, dir_lba, ident):
    """Offset of the record named ident (ISO identifier) in a directory."""
    pos = dir_lba * SECTOR
    end = pos + SECTOR
    while pos < end:
        n = data[pos]
        if n == 0:
            break
        il = data[pos + 32]
        if data[pos + 33:pos + 33 + il] == ident:
            return pos
        pos += n
    raise AssertionError(f"{ident} not found")


def put_both32(data, off, v):
    struct.pack_into("<I", data, off, v)
    struct.pack_into(">I", data, off + 4, v)


def expect_error(vdisk, args, *words):
    p = vdisk(*args, check=False, timeout=60)
    assert p.returncode == 1, p.stdout
    for w in words:
        assert w in p.stderr, p.stderr
    return p


def test_directory_loop(vdisk, tmp_path):
    iso = build(vdisk, tmp_path, {"dir/file": b"x"})
    data = bytearray(iso.read_bytes())
    _, root_lba, root_size = root_record(data)
    rec = find_record(data, root_lba, b"DIR")
    put_both32(data, rec + 2, root_lba)       # /dir is now the root again
    put_both32(data, rec + 10, root_size)
    iso.write_bytes(data)
    expect_error(vdisk, ["iso-ls", "-R", iso], "base.iso", "loop")
    out = tmp_path / "out"
    out.mkdir()
    expect_error(vdisk, ["iso-extract", iso, "-C", out], "loop")


def test_extent_past_end_of_file(vdisk, tmp_path):
    iso = build(vdisk, tmp_path, {"big": os.urandom(100000)})
    data = iso.read_bytes()
    iso.write_bytes(data[:len(data) - 40 * SECTOR])
    out = tmp_path / "out"
    out.mkdir()
    expect_error(vdisk, ["iso-extract", iso, "-C", out], "base.iso", "past the end")


def test_directory_extent_past_end(vdisk, tmp_path):
    iso = build(vdisk, tmp_path, {"dir/file": b"x"})
    data = bytearray(iso.read_bytes())
    _, root_lba, _ = root_record(data)
    rec = find_record(data, root_lba, b"DIR")
    put_both32(data, rec + 2, 0x7FFFFFF0)
    iso.write_bytes(data)
    expect_error(vdisk, ["iso-ls", iso, "/dir"], "base.iso", "past the end")


def test_huge_root_directory(vdisk, tmp_path):
    iso = build(vdisk, tmp_path, {"f": b"x"})
    data = bytearray(iso.read_bytes())
    off, _, _ = root_record(data)
    put_both32(data, off + 10, 0xFFFFFFFF)
    iso.write_bytes(data)
    expect_error(vdisk, ["iso-ls", iso], "base.iso", "root directory")
    expect_error(vdisk, ["info", iso], "base.iso")


def test_bad_susp_length(vdisk, tmp_path):
    iso = build(vdisk, tmp_path, {"name-here": b"x"})
    data = bytearray(iso.read_bytes())
    nm = data.find(b"NM\x0e\x01\x00name-here")
    assert nm > 0
    data[nm + 2] = 2                          # an entry shorter than its header
    iso.write_bytes(data)
    expect_error(vdisk, ["iso-ls", iso], "base.iso", "SUSP entry NM", "length below 4")
    data[nm + 2] = 250                        # an entry running past the area
    iso.write_bytes(data)
    expect_error(vdisk, ["iso-ls", iso], "SUSP entry NM", "runs past")


def test_continuation_area_past_end(vdisk, tmp_path):
    iso = build(vdisk, tmp_path, {"n" * 200: b"x"})   # long name: NM goes to a CE area
    data = bytearray(iso.read_bytes())
    ce = data.find(b"CE\x1c\x01", 18 * SECTOR)
    assert ce > 0
    put_both32(data, ce + 4, 0x00FFFFFF)
    iso.write_bytes(data)
    expect_error(vdisk, ["iso-ls", iso], "continuation area", "past the end")


def test_not_an_iso(vdisk, tmp_path):
    f = tmp_path / "zero.iso"
    f.write_bytes(bytes(64 * 1024))
    expect_error(vdisk, ["iso-ls", f], "zero.iso", "primary volume descriptor")
    p = vdisk("info", "-f", "iso", f, check=False)
    assert p.returncode == 1 and "zero.iso" in p.stderr


def test_dotdot_and_slash_names_refused(vdisk, tmp_path):
    for evil in (b"..", b"a/"):
        iso = build(vdisk, tmp_path, {"zz": b"payload"}, name=f"evil{len(evil)}{evil[0]}.iso")
        data = bytearray(iso.read_bytes())
        nm = data.find(b"NM\x07\x01\x00zz")
        assert nm > 0
        data[nm + 5:nm + 7] = evil
        iso.write_bytes(data)
        out = tmp_path / f"out-{evil[0]}"
        out.mkdir()
        expect_error(vdisk, ["iso-extract", iso, "-C", out], "refusing", "not a plain file name")
        assert not (tmp_path / "zz").exists()
        assert list(out.iterdir()) == []


def test_symlink_then_directory_of_the_same_name(vdisk, tmp_path):
    """A symlink 'aa' pointing outside, then a directory whose name is
    patched to 'aa' holding a file: the file must not land outside."""
    outside = tmp_path / "outside"
    outside.mkdir()
    iso = build(vdisk, tmp_path, {"ab/pwned": b"gotcha"}, links=[("aa", str(outside))])
    data = bytearray(iso.read_bytes())
    nm = data.find(b"NM\x07\x01\x00ab")
    assert nm > 0
    data[nm + 5:nm + 7] = b"aa"
    iso.write_bytes(data)
    out = tmp_path / "out"
    out.mkdir()
    expect_error(vdisk, ["iso-extract", iso, "-C", out], "symlink")
    assert list(outside.iterdir()) == []


def test_existing_symlink_in_destination_not_followed(vdisk, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    iso = build(vdisk, tmp_path, {"sub/file": b"data", "top": b"t"})
    out = tmp_path / "out"
    out.mkdir()
    os.symlink(outside, out / "sub")
    os.symlink(outside / "top-target", out / "top")
    expect_error(vdisk, ["iso-extract", iso, "-C", out], "symlink")
    assert list(outside.iterdir()) == []


def test_hard_link_in_destination_is_replaced_not_written_through(vdisk, tmp_path):
    iso = build(vdisk, tmp_path, {"top": b"new"})
    victim = tmp_path / "victim"
    victim.write_bytes(b"precious")
    out = tmp_path / "out"
    out.mkdir()
    os.link(victim, out / "top")
    vdisk("iso-extract", iso, "-C", out)
    assert victim.read_bytes() == b"precious"
    assert (out / "top").read_bytes() == b"new"


def test_extracted_symlinks_are_not_followed_later(vdisk, tmp_path):
    """Symlinks from the image are created as links; a later entry going
    through one is refused (checked above); absolute targets stay as text."""
    iso = build(vdisk, tmp_path, {"f": b"x"}, links=[("etc-link", "/etc")])
    out = tmp_path / "out"
    out.mkdir()
    vdisk("iso-extract", iso, "-C", out)
    assert os.readlink(out / "etc-link") == "/etc"
