"""libvirt's own storage XML test data as the oracle of vdisk's XML layer.

* Every file-pool volume that libvirt's storagevolxml2xmltest round-trips
  (pool-dir) parses, and vdisk formats it byte for byte as libvirt's
  expected output (storagevolxml2xmlout), the shape of `virsh vol-dumpxml`.
* The dir and fs pool files, with their type changed to vdisk, parse and
  format as libvirt's storagepoolxml2xmlout (plus vdisk's namespace).
* Every document vdisk prints validates against libvirt's own schemas.
* The creation plan matches the qemu-img command libvirt builds for the same
  volume (storagevolxml2argvdata), and qemu-img accepts it.
"""
import json
import re
import shutil
from pathlib import Path

import pytest

from xml_common import (NS, POOL_RNG, REPO, VOL_RNG, libvirt_src, libvirt_tests,  # noqa: F401
                        run, to_vdisk_pool, vdisk_xml, xmllint_valid)

POOLDIR = "/var/lib/libvirt/images"      # the target of libvirt's pool-dir.xml


def vol_cases(src):
    return [s[1] for _, _, s in libvirt_tests(src, "storagevolxml2xmltest.c", "pool-dir")]


def test_libvirt_lists_file_volumes(libvirt_src):
    # a guard against reading the wrong file: libvirt 9 lists 15 of them
    assert len(vol_cases(libvirt_src)) >= 10


def test_volumes_format_as_libvirt(libvirt_src, tmp_path):
    failures = []
    for name in vol_cases(libvirt_src):
        src = libvirt_src / "tests" / "storagevolxml2xmlin" / f"{name}.xml"
        want = (libvirt_src / "tests" / "storagevolxml2xmlout" / f"{name}.xml").read_text()
        # libvirt's test keeps a <key> only when the input has one; a dir pool
        # always knows it (the path), so vdisk-xml is told when to print it
        args = ["vol", src, POOLDIR] + (["--key"] if "<key>" in src.read_text() else [])
        p = vdisk_xml(*args, check=False)
        if p.returncode != 0 or p.stdout != want:
            failures.append(f"{name}: {p.stderr or p.stdout}")
    assert not failures, "\n".join(failures)


def test_libvirt_volumes_validate_with_vdisk_schema(libvirt_src):
    bad = []
    for name in vol_cases(libvirt_src):
        for d in ("storagevolxml2xmlin", "storagevolxml2xmlout"):
            ok, err = xmllint_valid(VOL_RNG, libvirt_src / "tests" / d / f"{name}.xml")
            if not ok:
                bad.append(f"{d}/{name}.xml: {err}")
    assert not bad, "\n".join(bad)


def test_vdisk_volume_output_validates_with_libvirt_schema(libvirt_src, tmp_path):
    rng = libvirt_src / "src" / "conf" / "schemas" / "storagevol.rng"
    for name in vol_cases(libvirt_src):
        src = libvirt_src / "tests" / "storagevolxml2xmlin" / f"{name}.xml"
        out = tmp_path / f"{name}.xml"
        out.write_text(vdisk_xml("vol", src, POOLDIR, "--key").stdout)
        ok, err = xmllint_valid(rng, out)
        assert ok, f"{name}: {err}"
        ok, err = xmllint_valid(VOL_RNG, out)
        assert ok, f"{name}: {err}"


def test_round_trip_is_stable(libvirt_src, tmp_path):
    for name in vol_cases(libvirt_src):
        src = libvirt_src / "tests" / "storagevolxml2xmlin" / f"{name}.xml"
        once = tmp_path / "once.xml"
        once.write_text(vdisk_xml("vol", src, POOLDIR, "--key").stdout)
        assert vdisk_xml("vol", once, POOLDIR, "--key").stdout == once.read_text(), name


POOLS = ["pool-dir", "pool-dir-naming", "pool-dir-cow", "pool-fs"]


def strip_vdisk(text, libvirt_type):
    """vdisk's pool output without its namespace, with libvirt's pool type."""
    text = text.replace(f" xmlns:vdisk='{NS}'", "")
    text = re.sub(r"  <vdisk:provisioning>.*</vdisk:provisioning>\n", "", text, flags=re.S)
    return text.replace("<pool type='vdisk'", f"<pool type='{libvirt_type}'", 1)


@pytest.mark.parametrize("name", POOLS)
def test_pools_format_as_libvirt(libvirt_src, tmp_path, name):
    src = tmp_path / f"{name}.xml"
    src.write_text(to_vdisk_pool((libvirt_src / "tests" / "storagepoolxml2xmlin" / f"{name}.xml").read_text()))
    ok, err = xmllint_valid(POOL_RNG, src)
    assert ok, err
    out = vdisk_xml("pool", src).stdout
    assert "<vdisk:zeroing>lazy</vdisk:zeroing>" in out        # the default policy, shown
    (tmp_path / "out.xml").write_text(out)
    ok, err = xmllint_valid(POOL_RNG, tmp_path / "out.xml")
    assert ok, err
    want = (libvirt_src / "tests" / "storagepoolxml2xmlout" / f"{name}.xml").read_text()
    libvirt_type = re.search(r"<pool type='([a-z]+)'", want).group(1)
    got = strip_vdisk(out, libvirt_type)
    if libvirt_type == "fs":
        # an fs pool's mount source means nothing to a vdisk pool: dropped
        want = re.sub(r"  <source>\n.*?  </source>\n", "  <source>\n  </source>\n", want, flags=re.S)
    assert got == want
    # and what is left is a pool libvirt's own schema accepts
    (tmp_path / "libvirt.xml").write_text(strip_vdisk(out, "dir"))
    ok, err = xmllint_valid(libvirt_src / "src" / "conf" / "schemas" / "storagepool.rng",
                            tmp_path / "libvirt.xml")
    assert ok, err


def parse_argv(path):
    """libvirt's expected qemu-img command line -> dict."""
    words = path.read_text().replace("\\\n", " ").split()
    assert words[:2] == ["qemu-img", "create"], words
    out = {"format": None, "backing": None, "options": [], "size_k": None}
    i = 2
    while i < len(words):
        w = words[i]
        if w == "-f":
            out["format"] = words[i + 1]; i += 2
        elif w == "-b":
            out["backing"] = words[i + 1]; i += 2
        elif w == "-o":
            opts = [o for o in words[i + 1].split(",") if o]
            out["options"] = [o if "=" in o else o + "=on" for o in opts
                              if not o.split("=")[0].endswith("key-secret")]
            i += 2
        elif w == "--object":
            i += 2
        elif w.endswith("K") and w[:-1].isdigit():
            out["size_k"] = int(w[:-1]); i += 1
        else:
            i += 1          # the target path
    return out


def argv_cases(src):
    """storagevolxml2argvtest's plain creations in a dir pool (no input volume)."""
    cases = []
    for macro, args, strings in libvirt_tests(src, "storagevolxml2argvtest.c", "pool-dir"):
        if macro not in ("DO_TEST", "DO_TEST_FAIL") or len(strings) != 3:
            continue
        cases.append((strings[1], strings[2], args[-1] == "flags", macro == "DO_TEST_FAIL"))
    return cases


def plan(path, prealloc_metadata):
    args = ["plan", path] + (["--prealloc-metadata"] if prealloc_metadata else [])
    p = vdisk_xml(*args, check=False)
    if p.returncode != 0:
        return None, p.stderr
    return dict(l.split("=", 1) for l in p.stdout.splitlines()), ""


def test_creation_plans_match_libvirt_qemu_img_commands(libvirt_src):
    cases = argv_cases(libvirt_src)
    assert len(cases) >= 8
    for vol, cmd, prealloc, should_fail in cases:
        src = libvirt_src / "tests" / "storagevolxml2xmlin" / f"{vol}.xml"
        got, err = plan(src, prealloc)
        if should_fail:
            assert got is None, f"{vol}: libvirt refuses it, vdisk planned {got}"
            continue
        assert got is not None, f"{vol}: {err}"
        want = parse_argv(libvirt_src / "tests" / "storagevolxml2argvdata" / f"{cmd}.argv")
        opts = [o for o in got["options"].split(",") if o]
        if got["prealloc"] in ("falloc", "full") and not any(o.startswith("preallocation=")
                                                             for o in want["options"]):
            # DESIGN.md: allocation == capacity is thick; libvirt only
            # preallocates qcow2 on request
            opts = [o for o in opts if not o.startswith("preallocation=")]
        assert got["format"] == want["format"], vol
        assert (got["backing"] or None) == want["backing"], vol
        assert opts == want["options"], vol
        if want["size_k"] is not None:
            assert (int(got["size"]) + 1023) // 1024 == want["size_k"], vol
        else:
            assert got["size_from_backing"] == "1", vol


def test_qemu_img_creates_what_the_plan_says(libvirt_src, tmp_path):
    qemu_img = shutil.which("qemu-img")
    if not qemu_img:
        pytest.fail("qemu-img is missing (Debian package qemu-utils)")
    checked = 0
    for name in vol_cases(libvirt_src):
        src = libvirt_src / "tests" / "storagevolxml2xmlin" / f"{name}.xml"
        got, _ = plan(src, False)
        if got is None or got["encrypted"] == "1" or got["format"] != "qcow2":
            continue
        img = tmp_path / f"{name}.qcow2"
        argv = [qemu_img, "create", "-q", "-f", "qcow2"]
        if got["backing"]:
            argv += ["-u", "-b", got["backing"]]
        if got["options"]:
            argv += ["-o", got["options"]]
        argv += [img, got["size"]]
        run(argv)
        info = json.loads(run([qemu_img, "info", "-U", "--output=json", img]).stdout)
        spec = info["format-specific"]["data"]
        text = src.read_text()
        want_compat = re.search(r"<compat>([0-9.]+)</compat>", text)
        want_compat = want_compat.group(1) if want_compat else (
            "1.1" if "<features" in text else "0.10")      # libvirt's default
        assert spec["compat"] == want_compat, name
        assert spec.get("lazy-refcounts", False) == ("<lazy_refcounts/>" in text), name
        assert spec.get("extended-l2", False) == ("<extended_l2/>" in text), name
        cluster = re.search(r"<clusterSize unit='KiB'>(\d+)</clusterSize>", text)
        assert info["cluster-size"] == (int(cluster.group(1)) * 1024 if cluster else 65536), name
        out = (libvirt_src / "tests" / "storagevolxml2xmlout" / f"{name}.xml").read_text()
        capacity = int(re.search(r"<capacity unit='bytes'>(\d+)</capacity>", out).group(1))
        assert info["virtual-size"] == capacity, name
        checked += 1
    assert checked >= 5


def test_fetch_script_derives_deb_src_from_the_machine():
    """The deb-src entry the fetch script would add comes from apt's own deb
    entries (no host name of the project's choosing)."""
    out = run([REPO / "scripts" / "fetch-libvirt-source.sh", "--print-deb-src"]).stdout
    uris = set()
    for f in list(Path("/etc/apt/sources.list.d").glob("*.sources")):
        text = f.read_text()
        for stanza in text.split("\n\n"):
            if re.search(r"^Types:.*\bdeb\b(?!-)", stanza, re.M):
                uris.update(re.findall(r"^URIs:\s*(.+)$", stanza, re.M))
    for f in [Path("/etc/apt/sources.list"), *Path("/etc/apt/sources.list.d").glob("*.list")]:
        if f.exists():
            uris.update(m.group(1) for m in re.finditer(
                r"^\s*deb(?:\s+\[[^\]]*\])?\s+(\S+)", f.read_text(), re.M))
    got = set(re.findall(r"^URIs:\s*(.+)$", out, re.M))
    assert got == uris
    assert all(t == "deb-src" for t in re.findall(r"^Types:\s*(.+)$", out, re.M))


@pytest.mark.parametrize("name", ["pool-rbd", "pool-rbd-ipv6"])
def test_rbd_pools_format_as_libvirt(libvirt_src, tmp_path, name):
    """libvirt's rbd pools, as they are (type='rbd'): vdisk reads them as
    pools on Ceph and prints libvirt's expected output (plus its namespace),
    which libvirt's own schema and vdisk's accept."""
    src = libvirt_src / "tests" / "storagepoolxml2xmlin" / f"{name}.xml"
    out = vdisk_xml("pool", src).stdout
    (tmp_path / "out.xml").write_text(out)
    ok, err = xmllint_valid(POOL_RNG, tmp_path / "out.xml")
    assert ok, err
    want = (libvirt_src / "tests" / "storagepoolxml2xmlout" / f"{name}.xml").read_text()
    got = strip_vdisk(out, "rbd")
    assert got == want
    (tmp_path / "libvirt.xml").write_text(got)
    ok, err = xmllint_valid(libvirt_src / "src" / "conf" / "schemas" / "storagepool.rng",
                            tmp_path / "libvirt.xml")
    assert ok, err
