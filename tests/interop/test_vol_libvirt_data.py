"""vol-create with libvirt's own volume XML test data: the image vdisk makes
must be the one `qemu-img create` makes with the arguments libvirt's dir
pool passes for the same XML (tests/storagevolxml2argvdata in libvirt's
source package).  Both images are compared with `qemu-img info`; a backing
store of /dev/null is replaced, in the XML and in the arguments alike, by
a real raw file."""
import json
import re

import pytest

from pool_common import virsh  # noqa: F401
from xml_common import libvirt_src  # noqa: F401

# (input volume XML, expected qemu-img arguments, extra vol-create flags)
CASES = [
    ("vol-qcow2", "qcow2-compat", []),
    ("vol-qcow2-1.1", "qcow2-1.1", []),
    ("vol-qcow2-lazy", "qcow2-lazy", []),
    ("vol-qcow2-nocow", "qcow2-nocow-compat", []),
    ("vol-qcow2-nobacking", "qcow2-nobacking-prealloc-compat", ["--prealloc-metadata"]),
    ("vol-qcow2-zerocapacity", "qcow2-zerocapacity", []),
    ("vol-qcow2-clusterSize", "qcow2-clusterSize", []),
    ("vol-file-iso", "iso", []),
]

COMPARED = ("format", "virtual-size", "cluster-size", "backing-filename", "backing-filename-format")


def qemu_img_args(argv_file):
    """The tokens of a libvirt .argv file (backslash-newlines joined)."""
    text = argv_file.read_text().replace("\\\n", "")
    return text.split()


def summary(qemu_img, path):
    info = json.loads(qemu_img("info", "--output=json", "-U", path).stdout)
    out = {k: info.get(k) for k in COMPARED}
    out["specific"] = info.get("format-specific", {}).get("data")
    return out


@pytest.mark.parametrize("vol,argv,flags", CASES)
def test_like_libvirt_dir_pool(virsh, qemu_img, libvirt_src, tmp_path, vol, argv, flags):
    tests = libvirt_src / "tests"
    xml_in = (tests / "storagevolxml2xmlin" / f"{vol}.xml").read_text()
    args = qemu_img_args(tests / "storagevolxml2argvdata" / f"{argv}.argv")
    if "encryption=on" in " ".join(args):
        pytest.skip("legacy qcow encryption (refused for new volumes)")
    base = tmp_path / "base.raw"
    qemu_img("create", "-f", "raw", base, "5G")
    xml_in = xml_in.replace("<path>/dev/null</path>", f"<path>{base}</path>")
    args = [str(base) if a == "/dev/null" else a for a in args]
    name = re.search(r"<name>([^<]+)</name>", xml_in).group(1)
    pool = virsh.make_pool("p")
    (tmp_path / "vol.xml").write_text(xml_in)
    virsh.run("vol-create", "p", tmp_path / "vol.xml", *flags)
    # Same command on a reference file: libvirt's arguments, another path.
    assert args[:2] == ["qemu-img", "create"]
    ref = tmp_path / "ref.img"
    qemu_img(*args[1:-2], ref, args[-1])
    mine, theirs = summary(qemu_img, pool / name), summary(qemu_img, ref)
    assert mine == theirs
    if theirs["format"] == "qcow2":
        qemu_img("check", pool / name)
