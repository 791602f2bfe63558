"""Images built by vdisk iso-create, read back by the real tools: xorriso
(Rock Ridge), isoinfo (ISO 9660, Joliet, Rock Ridge), 7-Zip, isovfy;
byte reproducibility; cloud-init seeds compared with genisoimage's."""
import os
import re
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

from conftest import run
from iso_common import (as_latin1, isoinfo_find, make_tree, need, sevenzip_list, walk_host,
                        without_modes, xorriso_extract, xorriso_find)

DATE = "1700000000"


def rationalised(mode, kind):
    """The mode genisoimage -r would record for a host mode."""
    if kind == "d":
        return 0o555
    return 0o444 | (0o111 if mode & 0o111 else 0)


@pytest.fixture
def built(vdisk, tmp_path):
    tree = make_tree(tmp_path / "src", deep=True)
    iso = tmp_path / "vdisk.iso"
    vdisk("iso-create", "-o", iso, "-V", "VDISK_TEST", tree)
    return tree, iso


def test_xorriso_reads_what_vdisk_writes(built, tmp_path):
    tree, iso = built
    assert xorriso_find(iso) == sorted(walk_host(tree))
    out = xorriso_extract(iso, tmp_path / "x")
    host, got = walk_host(tree), walk_host(out)
    assert without_modes(got) == without_modes(host)
    for path, (kind, _, _, mode) in host.items():
        if kind == "f":
            assert got[path][3] == rationalised(mode, kind), path


def test_isoinfo_rock_ridge_and_joliet_names(built):
    tree, iso = built
    host = sorted(walk_host(tree))
    assert isoinfo_find(iso, "-R") == host
    joliet = isoinfo_find(iso, "-J")
    # Joliet keeps names of up to 64 characters whole; longer ones are cut
    # and made unique.
    assert len(joliet) == len(host)
    short = sorted(as_latin1(p) for p in host if all(len(c) <= 64 for c in p.split("/")))
    assert set(short) <= set(joliet)


def test_isoinfo_volume_descriptors(built):
    _, iso = built
    d = run([need("isoinfo"), "-d", "-i", iso]).stdout
    assert re.search(r"^Volume id: VDISK_TEST$", d, re.M)
    assert "Joliet with UCS level 3 found" in d
    assert "Rock Ridge signatures version 1 found" in d
    size = int(re.search(r"^Volume size is: (\d+)", d, re.M).group(1))
    assert size * 2048 == os.path.getsize(iso)


def test_isovfy_finds_no_errors(built):
    _, iso = built
    p = run([need("isovfy"), iso])
    assert "No errors found" in p.stdout + p.stderr


def test_7z_lists_names_and_sizes(built):
    tree, iso = built
    host = walk_host(tree)
    listed = sevenzip_list(iso)
    assert len(listed) == len(host)
    for path, (kind, size, _, _) in host.items():
        if kind == "f" and all(len(c) <= 64 for c in path.split("/")):
            assert listed[path] == size, path


def test_no_extensions(vdisk, tmp_path):
    tree = make_tree(tmp_path / "src")
    iso = tmp_path / "plain.iso"
    vdisk("iso-create", "--no-rock", "--no-joliet", "-o", iso, tree)
    d = run([need("isoinfo"), "-d", "-i", iso]).stdout
    assert "Joliet with UCS" not in d and "Rock Ridge signatures" not in d
    names = isoinfo_find(iso, None)
    assert "/USER_DAT.;1" in names and "/A_B.C;1" in names and "/SUB/INNER/BLOB.BIN;1" in names
    assert all(re.fullmatch(r"(/[A-Z0-9_]{1,8}(\.[A-Z0-9_]{0,3};1)?)+", p) for p in names), names


def test_graft_points_and_single_files(vdisk, tmp_path):
    a = tmp_path / "a.txt"
    a.write_bytes(b"A")
    d = tmp_path / "dir"
    d.mkdir()
    (d / "in.txt").write_bytes(b"IN")
    iso = tmp_path / "g.iso"
    vdisk("iso-create", "-o", iso, a, f"{a}=/renamed/b.txt", f"{d}=/under", f"{a}=/into/")
    assert xorriso_find(iso) == ["/a.txt", "/into", "/into/a.txt", "/renamed", "/renamed/b.txt",
                                 "/under", "/under/in.txt"]


def test_reproducible_with_date_and_source_date_epoch(vdisk, tmp_path):
    tree = make_tree(tmp_path / "src")
    one, two, three = tmp_path / "1.iso", tmp_path / "2.iso", tmp_path / "3.iso"
    vdisk("iso-create", "--date", DATE, "-o", one, tree)
    # The same tree copied later (new mtimes, newer than the date, clamped).
    copy = tmp_path / "copy"
    shutil.copytree(tree, copy, symlinks=True)
    vdisk("iso-create", "--date", DATE, "-o", two, copy)
    env = dict(os.environ, SOURCE_DATE_EPOCH=DATE)
    vdisk("iso-create", "-o", three, tree, env=env)
    assert one.read_bytes() == two.read_bytes() == three.read_bytes()
    four = tmp_path / "4.iso"
    vdisk("iso-create", "--date", str(int(DATE) + 86400), "-o", four, tree)
    assert four.read_bytes() != one.read_bytes()
    # 1700000000 is 2023-11-14 22:13:20 UTC.
    d = run([need("xorriso"), "-indev", one, "-pvd_info"]).stdout
    assert "Creation Time: 2023111422132000" in d
    assert "Modif. Time  : 2023111422132000" in d


def test_cidata_seed_matches_genisoimage(vdisk, tmp_path):
    seed = tmp_path / "seed"
    seed.mkdir()
    (seed / "user-data").write_text("#cloud-config\npassword: passw0rd\nchpasswd: { expire: False }\n")
    (seed / "meta-data").write_text("instance-id: iid-local01\nlocal-hostname: cloudimg\n")
    (seed / "network-config").write_text("version: 2\nethernets: {}\n")
    files = [seed / "user-data", seed / "meta-data", seed / "network-config"]
    mine, theirs = tmp_path / "vdisk-seed.iso", tmp_path / "geniso-seed.iso"
    vdisk("iso-create", "--cidata", "-o", mine, *files)
    run([need("genisoimage"), "-quiet", "-output", theirs, "-V", "cidata", "-J", "-r", *files])
    for flag in (None, "-J", "-R"):
        assert isoinfo_find(mine, flag) == isoinfo_find(theirs, flag), flag
    info = {}
    for iso in (mine, theirs):
        d = run([need("isoinfo"), "-d", "-i", iso]).stdout
        info[iso] = re.search(r"^Volume id: (.*)$", d, re.M).group(1)
    assert info[mine] == info[theirs] == "cidata"
    a = walk_host(xorriso_extract(mine, tmp_path / "a"))
    b = walk_host(xorriso_extract(theirs, tmp_path / "b"))
    assert a == b
    # blkid (what cloud-init's NoCloud probe uses) sees the label.
    if shutil.which("blkid"):
        p = run(["blkid", "-o", "value", "-s", "LABEL", mine], check=False)
        if p.returncode == 0:
            assert p.stdout.strip() == "cidata"


def test_cidata_needs_user_data_and_meta_data(vdisk, tmp_path):
    f = tmp_path / "user-data"
    f.write_text("#cloud-config\n")
    p = vdisk("iso-create", "--cidata", "-o", tmp_path / "s.iso", f, check=False)
    assert p.returncode == 1 and "meta-data" in p.stderr
    assert not (tmp_path / "s.iso").exists()


def test_failed_create_leaves_nothing(vdisk, tmp_path):
    out = tmp_path / "out.iso"
    p = vdisk("iso-create", "-o", out, tmp_path / "missing", check=False)
    assert p.returncode == 1 and "missing" in p.stderr
    assert list(tmp_path.iterdir()) == []
    out.write_bytes(b"keep")
    p = vdisk("iso-create", "-o", out, "-V", "X" * 40, tmp_path, check=False)
    assert p.returncode == 1 and "volume id" in p.stderr
    assert out.read_bytes() == b"keep"
    assert sorted(x.name for x in tmp_path.iterdir()) == ["out.iso"]


def test_large_file_uses_multi_extent(vdisk, tmp_path):
    """A file of 4 GiB and more takes several extents (ISO level 3); the
    source and the image stay sparse, so this costs no real disk space."""
    src = tmp_path / "src"
    src.mkdir()
    big = src / "big.img"
    size = 4 * 2**30 + 12345
    with open(big, "wb") as f:
        f.truncate(size)
        f.seek(0)
        f.write(b"HEAD")
        f.seek(size - 4)
        f.write(b"TAIL")
    iso = tmp_path / "big.iso"
    vdisk("iso-create", "-o", iso, src)
    p = run([need("xorriso"), "-indev", iso, "-find", "/big.img", "-exec", "lsdl"])
    assert f" {size} " in p.stdout
    records = [l for l in run([need("isoinfo"), "-l", "-i", iso]).stdout.splitlines() if "BIG.IMG" in l]
    assert len(records) == 2
    listed = sevenzip_list(iso)
    assert listed["/big.img"] == size
    # The tail is where it belongs: read through isoinfo's extent numbers.
    lbas = [int(re.search(r"\[\s*(\d+)", l).group(1)) for l in records]
    with open(iso, "rb") as f:
        f.seek(lbas[0] * 2048)
        assert f.read(4) == b"HEAD"
        f.seek(lbas[1] * 2048 + (size - 4 - 0xFFFFF800))
        assert f.read(4) == b"TAIL"
