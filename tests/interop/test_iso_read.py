"""vdisk reads ISO images made by xorriso and genisoimage: names (Rock
Ridge, Joliet, ISO 9660), attributes, symlinks, relocated deep directories,
and extracts them exactly as xorriso does."""
import json
import os
import re
import stat
from pathlib import Path

import pytest

from conftest import run
from iso_common import (make_tree, need, walk_host, without_modes, xorriso_extract,
                        xorriso_find, isoinfo_find, as_latin1, vdisk_find, vdisk_json,
                        sevenzip_list)

MAKERS = {
    "xorriso": lambda src, out: [need("xorriso"), "-as", "mkisofs", "-quiet", "-R", "-J",
                                 "-joliet-long", "-V", "XORRISO_VOL", "-o", out, src],
    "genisoimage": lambda src, out: [need("genisoimage"), "-quiet", "-R", "-J", "-joliet-long",
                                     "-V", "GENISO_VOL", "-o", out, src],
}


@pytest.fixture(params=sorted(MAKERS))
def made(request, tmp_path):
    tree = make_tree(tmp_path / "src", deep=True)
    iso = tmp_path / f"{request.param}.iso"
    run(MAKERS[request.param](tree, iso))
    return request.param, tree, iso


def test_rock_ridge_names_match_xorriso(vdisk, made):
    _, tree, iso = made
    want = xorriso_find(iso)
    assert vdisk_find(vdisk, iso) == want
    # And they are the host's names (relocated directories back in place;
    # genisoimage leaves its empty rr_moved visible, as xorriso shows).
    assert [p for p in want if p != "/rr_moved"] == sorted(walk_host(tree))


def test_joliet_names_match_isoinfo(vdisk, made):
    _, _, iso = made
    got = sorted(as_latin1(p) for p in vdisk_find(vdisk, iso, "joliet"))
    assert got == isoinfo_find(iso, "-J")


def test_iso9660_names_match_isoinfo(vdisk, made):
    maker, _, iso = made
    # isoinfo prints "A_B.C;1"; vdisk drops the version and a trailing dot.
    want = sorted(re.sub(r"\.?;1$", "", p) for p in isoinfo_find(iso, None))
    # Relocated directories show where they sit on disc (rr_moved), as
    # isoinfo shows them without -R.
    assert vdisk_find(vdisk, iso, "iso") == want


def test_attributes_match_the_source(vdisk, made):
    _, tree, iso = made
    host = walk_host(tree)
    got = vdisk_json(vdisk, iso)
    got.pop("/rr_moved", None)
    assert sorted(got) == sorted(host)
    for path, (kind, size, digest, mode) in host.items():
        e = got[path]
        assert e["type"] == {"f": "file", "d": "directory", "l": "symlink"}[kind], path
        if kind == "f":
            assert e["size"] == size, path
            assert int(e["mode"], 8) == mode, path
        if kind == "l":
            assert e["target"] == digest, path


def test_long_listing_matches_xorriso_lsdl(vdisk, made):
    _, _, iso = made
    p = run([need("xorriso"), "-indev", iso, "-find", "/", "-exec", "lsdl"])
    want = {}
    for line in p.stdout.splitlines():
        m = re.match(r"^([-dl][-rwxsStT]{9})\s+\d+\s+\d+\s+\d+\s+(\d+)\s+\w+\s+\d+\s+[\d:]+\s+'(.*?)'", line)
        if m and m.group(3) != "/":
            want[m.group(3)] = (m.group(1), int(m.group(2)))
    got = {}
    for line in vdisk("iso-ls", "-lR", iso).stdout.splitlines():
        f = line.split(None, 7)
        name = f[7].split(" -> ")[0]
        got[name] = (f[0], int(f[4]))
    for path, (mode, size) in want.items():
        assert got[path][0] == mode, path
        if mode[0] == "-":
            assert got[path][1] == size, path


def test_extract_matches_xorriso(vdisk, made, tmp_path):
    _, tree, iso = made
    mine = tmp_path / "mine"
    mine.mkdir()
    vdisk("iso-extract", iso, "-C", mine)
    for dirpath, dirnames, _ in os.walk(mine):
        for d in dirnames:
            if not (Path(dirpath) / d).is_symlink():
                (Path(dirpath) / d).chmod(0o755)
    theirs = xorriso_extract(iso, tmp_path / "theirs")
    a, b = walk_host(mine), walk_host(theirs)
    assert without_modes(a) == without_modes(b)
    assert {k: v[3] for k, v in a.items() if v[0] == "f"} == {k: v[3] for k, v in b.items() if v[0] == "f"}
    a.pop("/rr_moved", None)
    assert without_modes(a) == without_modes(walk_host(tree))


def test_extract_one_subtree(vdisk, made, tmp_path):
    _, tree, iso = made
    out = tmp_path / "one"
    out.mkdir()
    vdisk("iso-extract", iso, "/sub/inner", "/user-data", "-C", out)
    got = sorted(str(p.relative_to(out)) for p in out.rglob("*"))
    assert got == ["sub", "sub/inner", "sub/inner/blob.bin", "user-data"]
    assert (out / "sub/inner/blob.bin").read_bytes() == (tree / "sub/inner/blob.bin").read_bytes()


def test_info_matches_isoinfo(vdisk, made):
    _, _, iso = made
    d = run([need("isoinfo"), "-d", "-i", iso]).stdout
    volid = re.search(r"^Volume id: (.*)$", d, re.M).group(1).strip()
    info = json.loads(vdisk("info", "--output", "json", iso).stdout)
    assert info["format"] == "iso"
    data = info["format-specific"]["data"]
    assert data["volume-id"] == volid
    assert data["joliet"] == ("Joliet" in d)
    assert data["rock-ridge"] == ("Rock Ridge" in d)
    assert data["bootable"] is False
    size = int(re.search(r"^Volume size is: (\d+)", d, re.M).group(1))
    assert data["volume-size"] == size * 2048
    human = vdisk("info", iso).stdout
    assert "file format: iso" in human and f"volume id: {volid}" in human


def test_writes_to_an_iso_are_refused(vdisk, made, tmp_path):
    _, _, iso = made
    before = Path(iso).read_bytes()
    p = vdisk("convert", "-O", "raw", iso, tmp_path / "copy.raw")
    assert (tmp_path / "copy.raw").read_bytes()[:len(before)] == before


def test_plain_iso_without_extensions(vdisk, tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "hello.txt").write_bytes(b"hello\n")
    (src / "dir").mkdir()
    (src / "dir" / "x.bin").write_bytes(b"\1" * 5000)
    iso = tmp_path / "plain.iso"
    run([need("genisoimage"), "-quiet", "-o", iso, src])
    want = sorted(re.sub(r"\.?;1$", "", p) for p in isoinfo_find(iso, None))
    assert vdisk_find(vdisk, iso) == want
    out = tmp_path / "out"
    out.mkdir()
    vdisk("iso-extract", iso, "-C", out)
    assert (out / "HELLO.TXT").read_bytes() == b"hello\n"
    assert (out / "DIR" / "X.BIN").read_bytes() == b"\1" * 5000
    # Lookup of ISO names is case-insensitive, as on a mounted CD.
    assert vdisk("iso-ls", iso, "/dir/x.bin").stdout.strip() == "X.BIN"


def test_7z_lists_what_vdisk_lists(vdisk, made):
    """7-Zip reads the Joliet tree: the same paths and file sizes as
    vdisk's Joliet view."""
    _, _, iso = made
    listed = sevenzip_list(iso)
    mine = vdisk_json(vdisk, iso, "joliet")
    assert sorted(listed) == sorted(mine)
    for path, size in listed.items():
        if size is not None and mine[path]["type"] == "file":
            assert mine[path]["size"] == size, path


def isoinfo_path_table(iso, joliet):
    args = [need("isoinfo"), "-p", "-i", iso] + (["-J"] if joliet else [])
    out = run(args, text=False).stdout.decode("latin-1").splitlines()
    assert out[0].startswith("Path table starts at block")
    return out[1:]


@pytest.mark.parametrize("joliet", [False, True], ids=["iso", "joliet"])
def test_path_table_matches_isoinfo(vdisk, made, joliet, tmp_path):
    _, tree, iso = made
    names = ["--names", "joliet"] if joliet else []
    got = vdisk("iso-ls", "--path-table", *names, iso).stdout.splitlines()
    assert [as_latin1(l) for l in got] == isoinfo_path_table(iso, joliet)
    # And for vdisk's own images.
    mine = tmp_path / "mine.iso"
    vdisk("iso-create", "-o", mine, tree)
    got = vdisk("iso-ls", "--path-table", *names, mine).stdout.splitlines()
    assert [as_latin1(l) for l in got] == isoinfo_path_table(mine, joliet)


def test_zisofs_files_inflate(vdisk, tmp_path):
    """Files xorriso stores zisofs-compressed (Rock Ridge ZF) list with their
    real size and extract to their real content."""
    src = tmp_path / "src"
    src.mkdir()
    (src / "text.txt").write_text("compressible line of text\n" * 20000)
    (src / "zeros.bin").write_bytes(bytes(300000))
    (src / "random.bin").write_bytes(os.urandom(50000))
    iso = tmp_path / "z.iso"
    run([need("xorriso"), "-outdev", iso, "-map", src, "/", "-set_filter_r", "--zisofs", "/", "--",
         "-commit"])
    assert b"ZF\x10\x01pz" in iso.read_bytes()     # it really is compressed
    got = vdisk_json(vdisk, iso)
    for name in ("text.txt", "zeros.bin", "random.bin"):
        assert got["/" + name]["size"] == (src / name).stat().st_size
    out = tmp_path / "out"
    out.mkdir()
    vdisk("iso-extract", iso, "-C", out)
    assert without_modes(walk_host(out)) == without_modes(walk_host(src))
