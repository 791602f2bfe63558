"""libvirt's own volume XML test data (tests/storagevolxml2xmlin of Debian's
libvirt source package, the inputs its test program reads for 'pool-dir')
created through the daemon in a vdisk pool and in libvirt's own dir pool:
both must accept or both refuse, and the images must agree in qemu-img's
view (format, size, cluster size, backing, qcow2 features), in file
permissions and in the volume XML the daemon reports.  LUKS inputs are
created in the vdisk pool only (the dir pool runs qemu-img's 2-second
PBKDF2) and checked against the cipher their XML asks for."""
import os
import re
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from conftest import REPO, luks_opts, passphrase_file, qemu_check, qemu_img, qemu_info

sys.path.insert(0, str(REPO / "tests" / "interop"))
from xml_common import libvirt_src  # noqa: E402,F401  (fixture)

# The pool-dir inputs of storagevolxml2xmltest.c plus the file-pool inputs
# its storagevolxml2argvtest.c uses.
CASES = ["vol-file", "vol-file-naming", "vol-file-backing", "vol-file-iso", "vol-qcow2",
         "vol-qcow2-1.1", "vol-qcow2-lazy", "vol-qcow2-0.10-lazy", "vol-qcow2-nobacking",
         "vol-qcow2-encryption", "vol-qcow2-clusterSize", "vol-qcow2-nocow",
         "vol-qcow2-zerocapacity", "vol-qcow2-nocapacity", "vol-qcow2-nocapacity-backing"]
LUKS = ["vol-luks", "vol-luks-cipher", "vol-qcow2-luks", "vol-luks-convert",
        "vol-qcow2-luks-convert"]


def prepare(src, case, base):
    """The input XML with its /dev/null backing store made a real file."""
    text = (src / "tests" / "storagevolxml2xmlin" / f"{case}.xml").read_text()
    return text.replace("<path>/dev/null</path>", f"<path>{base}</path>")


def vol_name(text):
    name = ET.fromstring(text).findtext("name")
    return name


def summary(path):
    info = qemu_info(path)
    out = {k: info.get(k) for k in ("format", "virtual-size", "cluster-size",
                                     "backing-filename", "backing-filename-format")}
    out["specific"] = info.get("format-specific", {}).get("data")
    st = os.stat(path)
    out["mode"], out["uid"], out["gid"] = oct(st.st_mode & 0o7777), st.st_uid, st.st_gid
    return out


def xml_summary(pool, name):
    root = ET.fromstring(pool.vol_xml(name))
    fmt = root.find("target/format")
    return {"format": fmt.get("type") if fmt is not None else None,
            "capacity": int(root.findtext("capacity")),
            "path": Path(root.findtext("target/path")).name,
            "backing": root.findtext("backingStore/path")}


@pytest.fixture
def base(tmp_path):
    path = tmp_path / "base.raw"
    qemu_img("create", "-f", "raw", path, "5G")
    return path


@pytest.mark.parametrize("case", CASES)
def test_same_as_dir_pool(daemon, vdisk_pool, dir_pool, libvirt_src, base, case):
    text = prepare(libvirt_src, case, base)
    name = vol_name(text)
    mine, ref = vdisk_pool(), dir_pool()
    p_ref = ref.create_xml(text, check=False)
    p_mine = mine.create_xml(text, check=False)
    if p_ref.returncode != 0:
        assert p_mine.returncode != 0, f"libvirt's dir pool refused {case} ({p_ref.stderr}), vdisk did not"
        assert not mine.vol_path(name).exists()
        return
    assert p_mine.returncode == 0, f"dir pool accepted {case}, vdisk refused: {p_mine.stderr}"
    assert summary(mine.vol_path(name)) == summary(ref.vol_path(name))
    # Right after the create, both show the format the definition gave.
    assert xml_summary(mine, name)["format"] == xml_summary(ref, name)["format"]
    # The volume XML after a pool-refresh (the dir pool shows the definition
    # as given -- format iso, the secret -- only until its next refresh).
    # The capacity is qemu-img's virtual size (the dir pool reports the
    # file's size for a qcow2 of capacity 0: not copied).
    for pool in (mine, ref):
        pool.virsh("pool-refresh", pool.name)
    got, want = xml_summary(mine, name), xml_summary(ref, name)
    assert got.pop("capacity") == qemu_info(mine.vol_path(name))["virtual-size"]
    want.pop("capacity")
    assert got == want
    if qemu_info(mine.vol_path(name))["format"] == "qcow2":
        qemu_check(mine.vol_path(name))


@pytest.mark.parametrize("case", LUKS)
def test_luks_inputs(vdisk_pool, secret, libvirt_src, base, tmp_path, case):
    text = prepare(libvirt_src, case, base)
    root = ET.fromstring(text)
    enc = root.find("target/encryption")
    uid = enc.find("secret").get("uuid")
    phrase = "libvirt test data passphrase"
    secret(phrase, uid=uid)
    pool = vdisk_pool()
    pool.create_xml(text)
    name = root.findtext("name")
    info = qemu_info(pool.vol_path(name))
    fmt = root.find("target/format").get("type")
    if fmt == "qcow2":
        assert info["format"] == "qcow2" and info.get("encrypted") is True
        opts = luks_opts(fmt, pool.vol_path(name), passphrase_file(tmp_path, phrase))
        qemu_check(opts[-1], *opts[:-1])
        crypt = info["format-specific"]["data"]["encrypt"]
    else:
        assert info["format"] == "luks"
        crypt = info["format-specific"]["data"]
    cipher = enc.find("cipher")
    if cipher is not None:
        assert crypt["cipher-alg"] == f"{cipher.get('name')}-{cipher.get('size')}"
        assert crypt["cipher-mode"] == cipher.get("mode")
        assert crypt["hash-alg"] == cipher.get("hash")
    ivgen = enc.find("ivgen")
    if ivgen is not None:
        assert crypt["ivgen-alg"] == ivgen.get("name")
        # LUKS keeps an ivgen hash only for essiv ("cbc-essiv:sha256")
        if ivgen.get("name") == "essiv":
            assert crypt["ivgen-hash-alg"] == ivgen.get("hash")
    cap = root.find("capacity")
    if cap is not None and re.fullmatch(r"\s*\d+\s*", cap.text or ""):
        units = {"G": 1 << 30, "GiB": 1 << 30, None: 1, "bytes": 1}
        assert info["virtual-size"] == int(cap.text) * units[cap.get("unit")]
