"""VMDK images made by qemu-img (and VMware-shaped descriptors made by
hand), read by vdisk: content byte for byte as `qemu-img convert -O raw`,
and info, map, check and measure output as qemu-img prints them.  Parent
chains, the extent path policy, and hostile images.
"""
import json
import os
import struct

import pytest

from cli_common import assert_no_crash
from vmdk_common import (GiB, KiB, MiB, SIZE, SUBFORMATS, SPARSE_KINDS, cmds, descriptor_text,
                         header, outputs_equal, patch, qemu_vmdk, raw_source, same_content,
                         set_header)

# qemu-img create options that change the files (adapter and hardware
# version only change the descriptor).
OPTIONS = {
    "monolithicSparse": ["", "zeroed_grain=on", "adapter_type=lsilogic,hwversion=7",
                         "compat6=on,toolsversion=10240"],
    "monolithicFlat": ["", "adapter_type=buslogic"],
    "twoGbMaxExtentSparse": ["", "zeroed_grain=on"],
    "twoGbMaxExtentFlat": [""],
    "streamOptimized": ["", "adapter_type=lsilogic"],
}
CASES = [(sf, o) for sf in SUBFORMATS for o in OPTIONS[sf]]


def case_id(c):
    return c[0] + ("-" + c[1].replace(",", "-").replace("=", "") if c[1] else "")


@pytest.mark.parametrize("sf,opts", CASES, ids=[case_id(c) for c in CASES])
def test_qemu_image_reads_as_qemu(vdisk, qemu_img, qemu_io, tmp_path, sf, opts):
    img = qemu_vmdk(qemu_img, qemu_io, tmp_path, sf, opts)
    same_content(vdisk, qemu_img, img, tmp_path)
    outputs_equal(vdisk, qemu_img, tmp_path, "info", "--output", "json", img.name)
    outputs_equal(vdisk, qemu_img, tmp_path, "info", img.name)
    outputs_equal(vdisk, qemu_img, tmp_path, "map", "--output", "json", img.name)
    if sf != "streamOptimized":   # compressed grains: both refuse the human table
        outputs_equal(vdisk, qemu_img, tmp_path, "map", img.name)
    outputs_equal(vdisk, qemu_img, tmp_path, "check", img.name)
    outputs_equal(vdisk, qemu_img, tmp_path, "measure", "-O", "qcow2", "--output", "json", img.name)


@pytest.mark.parametrize("sf", SUBFORMATS)
def test_empty_and_tiny_images(vdisk, qemu_img, tmp_path, sf):
    for size in ("512", "65535k"):
        img = tmp_path / f"e{size}.vmdk"
        qemu_img("create", "-q", "-f", "vmdk", "-o", f"subformat={sf}", img, size)
        same_content(vdisk, qemu_img, img, tmp_path)
        outputs_equal(vdisk, qemu_img, tmp_path, "info", "--output", "json", img.name)
    # qemu-img makes an empty disk, but of a monolithic one cannot read it
    # back (it follows the embedded descriptor, which names no extent).
    img = tmp_path / "e0.vmdk"
    qemu_img("create", "-q", "-f", "vmdk", "-o", f"subformat={sf}", img, "0")
    assert json.loads(vdisk("info", "--output", "json", img).stdout)["virtual-size"] == 0


def test_compare_with_raw(vdisk, qemu_img, qemu_io, tmp_path):
    img = qemu_vmdk(qemu_img, qemu_io, tmp_path, "twoGbMaxExtentSparse")
    raw = raw_source(qemu_io, tmp_path / "r.raw")
    p = vdisk("compare", "-f", "vmdk", "-F", "raw", img, raw, check=False)
    assert p.returncode == 0, p.stdout + p.stderr
    qemu_io("-f", "raw", "-c", "write -P 0x77 1500M 512", raw)
    p = vdisk("compare", "-f", "vmdk", "-F", "raw", img, raw, check=False)
    assert p.returncode == 1 and "1572864000" in p.stdout, p.stdout


# ---- parent chains (delta disks) ---------------------------------------------------

def make_chain(qemu_img, qemu_io, tmp_path, top_kind="monolithicSparse"):
    base = tmp_path / "base.vmdk"
    qemu_img("create", "-q", "-f", "vmdk", base, "64M")
    qemu_io("-f", "vmdk", *cmds(["write -P 1 0 8M", "write -P 2 20M 1M"]), base)
    mid = tmp_path / "mid.vmdk"
    qemu_img("create", "-q", "-f", "vmdk", "-o", "zeroed_grain=on", "-b", "base.vmdk", "-F", "vmdk",
             mid)
    qemu_io("-f", "vmdk", *cmds(["write -P 3 1000 3000", "write -z 2M 128k", "write -P 4 40M 64k"]),
            mid)
    top = tmp_path / "top.vmdk"
    qemu_img("create", "-q", "-f", "vmdk", "-o", f"subformat={top_kind}", "-b", "mid.vmdk",
             "-F", "vmdk", top)
    if top_kind != "streamOptimized":
        qemu_io("-f", "vmdk", *cmds(["write -P 5 5M 100k", "write -P 6 63M 1M"]), top)
    return top


@pytest.mark.parametrize("top_kind", ["monolithicSparse", "twoGbMaxExtentSparse", "streamOptimized"])
def test_parent_chain_as_qemu(vdisk, qemu_img, qemu_io, tmp_path, top_kind):
    top = make_chain(qemu_img, qemu_io, tmp_path, top_kind)
    same_content(vdisk, qemu_img, top, tmp_path)
    outputs_equal(vdisk, qemu_img, tmp_path, "info", "--backing-chain", "--output", "json", top.name)
    outputs_equal(vdisk, qemu_img, tmp_path, "info", "--backing-chain", top.name)
    outputs_equal(vdisk, qemu_img, tmp_path, "map", "--output", "json", top.name)
    # Into qcow2 and back: still the same disk.
    q = tmp_path / "imported.qcow2"
    vdisk("convert", "-O", "qcow2", top, q)
    assert qemu_img("compare", "-f", "vmdk", "-F", "qcow2", top, q).returncode == 0


def test_changed_parent_is_refused_as_qemu_does(vdisk, qemu_img, qemu_io, tmp_path):
    top = make_chain(qemu_img, qemu_io, tmp_path)
    qemu_io("-f", "vmdk", "-c", "write -P 9 30M 4k", tmp_path / "mid.vmdk")   # new CID
    assert qemu_img("convert", "-O", "raw", top, tmp_path / "q.raw", check=False).returncode != 0
    p = vdisk("convert", "-O", "raw", top, tmp_path / "v.raw", check=False)
    assert_no_crash(p)
    assert p.returncode == 1 and "CID" in p.stderr, p.stderr
    assert not (tmp_path / "v.raw").exists()


def set_parent(path, name):
    text = descriptor_text(path)
    new = text.replace(text.split('parentFileNameHint="')[1].split('"')[0], name)
    data = bytearray(open(path, "rb").read())
    start = data.index(text.encode())
    data[start:start + len(text)] = new.encode().ljust(len(text), b"\0")
    open(path, "wb").write(data)


def test_parent_loops_are_refused(vdisk, qemu_img, qemu_io, tmp_path):
    top = make_chain(qemu_img, qemu_io, tmp_path)
    set_parent(tmp_path / "mid.vmdk", "top.vmdk")
    p = vdisk("info", "--backing-chain", top, check=False)
    assert_no_crash(p)
    assert p.returncode == 1 and "loops" in p.stderr, p.stderr
    set_parent(top, "top.vmdk")
    p = vdisk("convert", "-O", "raw", top, tmp_path / "x.raw", check=False)
    assert p.returncode == 1 and "loops" in p.stderr, p.stderr


# ---- descriptors as ESXi and Workstation write them --------------------------------

ESXI_DESC = """# Disk DescriptorFile
version=1
encoding="UTF-8"
CID=fffffffe
parentCID=ffffffff
createType="{ctype}"

# Extent description
RW {sectors} VMFS "disk-flat.vmdk"

# The Disk Data Base
#DDB

ddb.adapterType = "lsilogic"
ddb.geometry.cylinders = "1"
ddb.geometry.heads = "255"
ddb.geometry.sectors = "63"
ddb.thinProvisioned = "1"
ddb.uuid = "60 00 C2 9a 5d 7b 8e 2c-4b 1a 7e 00 63 e0 50 4f"
ddb.virtualHWVersion = "13"
"""


@pytest.mark.parametrize("ctype", ["vmfs", "vmfsThin"])
def test_esxi_flat_descriptor(vdisk, qemu_img, qemu_io, tmp_path, ctype):
    """What an ESXi datastore holds: disk.vmdk (descriptor) + disk-flat.vmdk
    (the disk as is).  qemu-img reads "vmfs" but not "vmfsThin"; the oracle
    for both is the flat file itself."""
    size = 40 * MiB
    raw_source(qemu_io, tmp_path / "disk-flat.vmdk", size,
               ["write -P 0xab 0 1M", "write -P 0xcd 39M 1M", "write -P 0xef 12345 678"])
    (tmp_path / "disk.vmdk").write_text(ESXI_DESC.format(ctype=ctype, sectors=size // 512))
    v = tmp_path / "v.raw"
    vdisk("convert", "-O", "raw", tmp_path / "disk.vmdk", v)
    assert open(v, "rb").read() == open(tmp_path / "disk-flat.vmdk", "rb").read()
    if ctype == "vmfs":
        same_content(vdisk, qemu_img, tmp_path / "disk.vmdk", tmp_path)
        outputs_equal(vdisk, qemu_img, tmp_path, "info", "--output", "json", "disk.vmdk")
        outputs_equal(vdisk, qemu_img, tmp_path, "map", "--output", "json", "disk.vmdk")
    info = json.loads(vdisk("info", "--output", "json", tmp_path / "disk.vmdk").stdout)
    assert info["format-specific"]["data"]["create-type"] == ctype
    assert info["format-specific"]["data"]["extents"][0]["format"] == "VMFS"


def test_mixed_extent_kinds(vdisk, qemu_img, qemu_io, tmp_path):
    """FLAT at an offset, ZERO, and SPARSE extents in one descriptor: the
    disk is their concatenation (first principles: the bytes written)."""
    raw_source(qemu_io, tmp_path / "part.bin", 3 * MiB, ["write -P 0x01 0 3M"])
    qemu_img("create", "-q", "-f", "vmdk", tmp_path / "sp.vmdk", "2M")
    qemu_io("-f", "vmdk", "-c", "write -P 0x02 64k 64k", tmp_path / "sp.vmdk")
    (tmp_path / "mixed.vmdk").write_text(
        "# Disk DescriptorFile\nversion=1\nCID=12345678\nparentCID=ffffffff\n"
        'createType="monolithicFlat"\n\n'
        'RW 2048 FLAT "part.bin" 2048\nRW 1024 ZERO\nRW 4096 SPARSE "sp.vmdk"\n')
    v = tmp_path / "v.raw"
    vdisk("convert", "-O", "raw", tmp_path / "mixed.vmdk", v)
    want = b"\x01" * MiB + bytes(512 * KiB) + bytes(64 * KiB) + b"\x02" * (64 * KiB) + \
        bytes(2 * MiB - 128 * KiB)
    assert open(v, "rb").read() == want


# ---- the extent path policy ---------------------------------------------------------

def flat_descriptor(path, extent_name, sectors=2048):
    # No blank line right before an extent line: qemu-img 7.2 reads such a
    # line twice (its sscanf skips the newline), and it is the oracle here.
    path.write_text("# Disk DescriptorFile\nversion=1\nCID=12345678\nparentCID=ffffffff\n"
                    f'createType="monolithicFlat"\n# Extent description\n'
                    f'RW {sectors} FLAT "{extent_name}" 0\n')


def secret_file(tmp_path):
    outside = tmp_path / "host"
    outside.mkdir()
    secret = outside / "secret"
    secret.write_bytes(b"host secret\n" * 100)
    imports = tmp_path / "imports"
    imports.mkdir()
    return secret, imports


def assert_refused(vdisk, desc, *fmt):
    for args in (("info",), ("convert", "-O", "raw"), ("map",)):
        extra = [desc.parent / "out.raw"] if args[0] == "convert" else []
        p = vdisk(*args, *fmt, desc, *extra, check=False)
        assert_no_crash(p)
        assert p.returncode == 1, p.stdout
        assert "-f vmdk" in p.stderr, p.stderr
        assert not (desc.parent / "out.raw").exists()


def test_extent_outside_directory_needs_the_format_named(vdisk, tmp_path):
    secret, imports = secret_file(tmp_path)
    desc = imports / "up.vmdk"
    flat_descriptor(desc, "../host/secret", 2)
    assert_refused(vdisk, desc)
    # The admin names the format of this very descriptor: followed.
    v = tmp_path / "v.raw"
    vdisk("convert", "-f", "vmdk", "-O", "raw", desc, v)
    assert open(v, "rb").read() == secret.read_bytes()[:1024]


def test_absolute_extent_and_symlink_out_refused_when_probed(vdisk, tmp_path):
    secret, imports = secret_file(tmp_path)
    flat_descriptor(imports / "abs.vmdk", str(secret), 2)
    assert_refused(vdisk, imports / "abs.vmdk")
    os.symlink(secret, imports / "link-flat.vmdk")
    flat_descriptor(imports / "link.vmdk", "link-flat.vmdk", 2)
    assert_refused(vdisk, imports / "link.vmdk")
    vdisk("info", "-f", "vmdk", imports / "link.vmdk")


def test_device_extent_refused_when_probed(vdisk, tmp_path):
    imports = tmp_path / "imports"
    imports.mkdir()
    flat_descriptor(imports / "dev.vmdk", "/dev/zero")
    assert_refused(vdisk, imports / "dev.vmdk")
    os.symlink("/dev/zero", imports / "zero-flat.vmdk")
    flat_descriptor(imports / "devlink.vmdk", "zero-flat.vmdk")
    p = vdisk("info", imports / "devlink.vmdk", check=False)
    assert p.returncode == 1 and "device" in p.stderr, p.stderr


def test_extent_in_subdirectory_is_fine(vdisk, qemu_img, qemu_io, tmp_path):
    (tmp_path / "sub").mkdir()
    raw_source(qemu_io, tmp_path / "sub" / "d-flat.vmdk", MiB, ["write -P 0x5a 0 1M"])
    flat_descriptor(tmp_path / "d.vmdk", "sub/d-flat.vmdk")
    same_content(vdisk, qemu_img, tmp_path / "d.vmdk", tmp_path)


def test_parent_descriptor_stays_confined(vdisk, qemu_img, tmp_path):
    """Naming the top image's format does not vouch for its parent: the
    parent's extents stay inside the parent's directory."""
    secret, imports = secret_file(tmp_path)
    flat_descriptor(imports / "parent.vmdk", "../host/secret", 2)
    qemu_img("create", "-q", "-f", "vmdk", "-b", imports / "parent.vmdk", "-F", "vmdk", "-u",
             imports / "child.vmdk", "1024")
    p = vdisk("convert", "-f", "vmdk", "-O", "raw", imports / "child.vmdk", tmp_path / "c.raw",
              check=False)
    assert_no_crash(p)
    assert p.returncode == 1 and "-f vmdk" in p.stderr, p.stderr


# ---- hostile images ----------------------------------------------------------------

def small_sparse(qemu_img, qemu_io, tmp_path, name="h.vmdk", opts=""):
    img = tmp_path / name
    qemu_img("create", "-q", "-f", "vmdk", *(["-o", opts] if opts else []), img, "8M")
    qemu_io("-f", "vmdk", "-c", "write -P 7 0 256k", img)
    return img


def first_gte_offset(img):
    h = header(img)
    data = open(img, "rb").read()
    gt = struct.unpack_from("<I", data, h["gd"] * 512)[0]
    return gt * 512


def gd_entry_offset(img):
    return header(img)["gd"] * 512


HOSTILE = {
    "gd-outside": lambda p: (patch(p, 56, struct.pack("<Q", 1 << 40)), "grain directory"),
    "rgd-outside": lambda p: (patch(p, 48, struct.pack("<Q", 1 << 30)), "redundant grain directory"),
    "gt-outside": lambda p: (patch(p, gd_entry_offset(p), struct.pack("<I", 0x7fffffff)), "grain table"),
    "grain-outside": lambda p: (patch(p, first_gte_offset(p), struct.pack("<I", 0x7fffff00)), "grain"),
    "huge-capacity": lambda p: (set_header(p, "capacity", 1 << 62), "capacity"),
    "gd-too-large": lambda p: (set_header(p, "capacity", 1 << 50), "grain directory"),
    "grain-zero": lambda p: (set_header(p, "grain", 0), "grain size"),
    "grain-huge": lambda p: (set_header(p, "grain", 1 << 40), "grain size"),
    "gt-entries-zero": lambda p: (set_header(p, "gt_entries", 0), "grain tables"),
    "gt-entries-huge": lambda p: (set_header(p, "gt_entries", 1 << 30), "grain tables"),
    "version-9": lambda p: (set_header(p, "version", 9), "version"),
    "descriptor-outside": lambda p: (set_header(p, "desc_off", 1 << 40), "descriptor"),
    "descriptor-huge": lambda p: (set_header(p, "desc_size", 1 << 40), "descriptor"),
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_sparse_header(vdisk, qemu_img, qemu_io, tmp_path, name):
    img = small_sparse(qemu_img, qemu_io, tmp_path)
    _, word = HOSTILE[name](img)
    for args in (("info",), ("convert", "-O", "raw", img, tmp_path / "o.raw"), ("check",)):
        argv = list(args) if args[0] == "convert" else [*args, img]
        p = vdisk(*argv, check=False, timeout=60)
        assert_no_crash(p)
        if name in ("grain-outside", "gt-outside") and args[0] == "info":
            assert p.returncode == 0   # tables are read when a grain is looked up
            continue
        assert p.returncode != 0, (name, args, p.stdout)
        said = p.stderr + p.stdout
        assert word in said or (args[0] == "check" and "cluster" in said), (name, args, p.stderr)


HOSTILE_DESCRIPTORS = {
    "bad-extent-line": ('RW 2048 FLAT "x-flat.vmdk"\n', "FLAT extent without an offset"),
    "unknown-type": ('RW 2048 WEIRD "x-flat.vmdk"\n', "unknown extent type"),
    "sesparse": ('RW 2048 SESPARSE "x-sesparse.vmdk"\n', "seSparse"),
    "rdm": ('RW 2048 VMFSRDM "x-rdm.vmdk"\n', "raw device mapping"),
    "noaccess": ('NOACCESS 2048 FLAT "x-flat.vmdk" 0\n', "NOACCESS"),
    "missing-file": ('RW 2048 FLAT "nothere-flat.vmdk" 0\n', "nothere-flat.vmdk"),
    "size-overflow": ('RW 99999999999999999999999 FLAT "x-flat.vmdk" 0\n', "bad extent size"),
    "unterminated": ('RW 2048 FLAT "x-flat.vmdk 0\n', "extent without a file name"),
}


@pytest.mark.parametrize("name", sorted(HOSTILE_DESCRIPTORS))
def test_hostile_descriptor(vdisk, tmp_path, name):
    line, word = HOSTILE_DESCRIPTORS[name]
    (tmp_path / "x-flat.vmdk").write_bytes(bytes(MiB))
    d = tmp_path / "d.vmdk"
    d.write_text("# Disk DescriptorFile\nversion=1\nCID=12345678\nparentCID=ffffffff\n"
                 f'createType="vmfs"\n\n{line}')
    p = vdisk("info", d, check=False)
    assert_no_crash(p)
    assert p.returncode == 1 and word in p.stderr, p.stderr


def test_huge_descriptor_refused_quickly(vdisk, tmp_path):
    d = tmp_path / "big.vmdk"
    with open(d, "w") as f:
        f.write("# Disk DescriptorFile\nversion=1\nCID=1\nparentCID=ffffffff\n"
                'createType="vmfs"\n')
        f.write("# padding\n" * 200000)
    p = vdisk("info", d, check=False, timeout=30)
    assert p.returncode == 1 and "1 MiB" in p.stderr, p.stderr


def test_descriptor_with_thousands_of_extents_is_bounded(vdisk, tmp_path):
    d = tmp_path / "many.vmdk"
    (tmp_path / "x-flat.vmdk").write_bytes(bytes(512))
    d.write_text("# Disk DescriptorFile\nversion=1\nCID=1\nparentCID=ffffffff\n"
                 'createType="vmfs"\n' + 'RW 1 FLAT "x-flat.vmdk" 0\n' * 9000)
    p = vdisk("info", d, check=False, timeout=60)
    assert_no_crash(p)
    assert p.returncode == 1 and "8192" in p.stderr, p.stderr


def test_hostile_stream(vdisk, qemu_img, qemu_io, tmp_path):
    img = qemu_vmdk(qemu_img, qemu_io, tmp_path, "streamOptimized", size=8 * MiB,
                    ops=["write -P 1 0 1M"])
    # Mangle the first compressed grain: it must fail to inflate, not crash.
    h = header(img)
    data = open(img, "rb").read()
    gt = struct.unpack_from("<I", data, h["gd"] * 512)[0]
    grain = struct.unpack_from("<I", data, gt * 512)[0] * 512
    patch(img, grain + 12, b"\xff" * 64)
    p = vdisk("convert", "-O", "raw", img, tmp_path / "o.raw", check=False)
    assert_no_crash(p)
    assert p.returncode == 1 and "inflate" in p.stderr, p.stderr
    patch(img, grain + 8, struct.pack("<I", 0xfffffff0))   # marker says 4 GiB
    p = vdisk("convert", "-O", "raw", img, tmp_path / "o.raw", check=False)
    assert p.returncode == 1 and "marker" in p.stderr, p.stderr


def test_qcow2_overlay_on_vmdk(vdisk, qemu_img, qemu_io, tmp_path):
    """A qcow2 overlay whose backing file is a VMDK (a common first step of a
    migration): the chain reads, maps and commits as qemu-img's."""
    base = qemu_vmdk(qemu_img, qemu_io, tmp_path, "monolithicFlat", size=64 * MiB,
                     ops=["write -P 1 0 8M", "write -P 2 40M 1M"], name="base.vmdk")
    ov = tmp_path / "ov.qcow2"
    qemu_img("create", "-q", "-f", "qcow2", "-b", base.name, "-F", "vmdk", ov)
    qemu_io("-f", "qcow2", "-c", "write -P 3 4M 64k", ov)
    same_content(vdisk, qemu_img, ov, tmp_path)
    outputs_equal(vdisk, qemu_img, tmp_path, "map", "--output", "json", ov.name)
    outputs_equal(vdisk, qemu_img, tmp_path, "info", "--backing-chain", "--output", "json", ov.name)
    want = tmp_path / "want.raw"
    qemu_img("convert", "-O", "raw", ov, want)
    vdisk("commit", ov)
    assert qemu_img("compare", "-F", "raw", base, want).returncode == 0
