"""Image commands on Ceph RBD images (rbd:pool/image:conf=...), against a
single-node cluster on loopback.  Oracles: qemu-img / qemu-io with the same
rbd: names (Debian's qemu-block-extra), `rbd info` / `rbd du` / `rbd
export`, and qemu-img's own raw conversion of the source, byte for byte."""
import json

import pytest

from conftest import pattern_qcow2

MiB = 1 << 20


def rbd_json(ceph, *args):
    return json.loads(ceph.rbd(*args, "--format", "json").stdout)


def exported(ceph, image, tmp_path):
    """The image's bytes, read by the rbd tool."""
    out = tmp_path / f"{image}.export"
    ceph.rbd("export", "--no-progress", image, out)
    return out.read_bytes()


def raw_of(qemu_img, src, tmp_path, fmt="qcow2"):
    out = tmp_path / "oracle.raw"
    qemu_img("convert", "-f", fmt, "-O", "raw", src, out)
    return out.read_bytes()


@pytest.fixture
def src(qemu_img, qemu_io, tmp_path):
    return pattern_qcow2(qemu_img, qemu_io, tmp_path / "src.qcow2")


def test_convert_qcow2_into_rbd_raw(ceph, rbd_image, vdisk, qemu_img, src, tmp_path):
    """The common import: vdisk-virsh convert -O raw img.qcow2 rbd:rbd/vm1."""
    img = rbd_image()
    vdisk("convert", "-O", "raw", src, ceph.name(img))
    info = rbd_json(ceph, "info", img)
    assert info["size"] == 64 * MiB
    assert exported(ceph, img, tmp_path) == raw_of(qemu_img, src, tmp_path)
    assert "identical" in qemu_img("compare", src, ceph.name(img)).stdout
    # Holes of the source stay unallocated on the cluster.
    used = rbd_json(ceph, "du", img)["images"][0]["used_size"]
    assert 0 < used < 64 * MiB


def test_convert_rbd_to_qcow2(ceph, rbd_image, vdisk, qemu_img, src, tmp_path):
    img = rbd_image()
    qemu_img("convert", "-O", "raw", src, ceph.name(img))
    out = tmp_path / "back.qcow2"
    vdisk("convert", "-O", "qcow2", ceph.name(img), out)
    qemu_img("check", out)
    assert raw_of(qemu_img, out, tmp_path) == raw_of(qemu_img, src, tmp_path)
    # The data's holes came back as holes: qemu-img map of the copy lists
    # only the source's (whole-object) data extents.
    got = json.loads(qemu_img("map", "--output=json", out).stdout)
    assert sum(e["length"] for e in got if e["data"]) <= 4 * 4 * MiB


def test_convert_qcow2_into_rbd_qcow2(ceph, rbd_image, vdisk, qemu_img, src, tmp_path):
    img = rbd_image()
    vdisk("convert", "-O", "qcow2", src, ceph.name(img))
    check = json.loads(qemu_img("check", "--output=json", ceph.name(img)).stdout)
    assert raw_of(qemu_img, ceph.name(img), tmp_path) == raw_of(qemu_img, src, tmp_path)
    # The image grew in steps while written and was cut back at close: it
    # ends where the qcow2 does.
    assert rbd_json(ceph, "info", img)["size"] == check["image-end-offset"]


def test_create_raw_and_qcow2(ceph, rbd_image, vdisk, qemu_img):
    raw, q = rbd_image(), rbd_image()
    vdisk("create", "-f", "raw", ceph.name(raw), "100M")
    assert rbd_json(ceph, "info", raw)["size"] == 100 * MiB
    vdisk("create", "-f", "qcow2", ceph.name(q), "1G")
    info = json.loads(qemu_img("info", "--output=json", ceph.name(q)).stdout)
    assert (info["format"], info["virtual-size"]) == ("qcow2", 1 << 30)
    qemu_img("check", ceph.name(q))
    # The RBD image is only as large as the qcow2 metadata.
    assert rbd_json(ceph, "info", q)["size"] < MiB


def test_create_full_preallocation_and_falloc_refused(ceph, rbd_image, vdisk):
    img = rbd_image()
    vdisk("create", "-f", "raw", "-o", "preallocation=full", ceph.name(img), "8M")
    du = rbd_json(ceph, "du", img)["images"][0]
    assert du["used_size"] == 8 * MiB
    other = rbd_image()
    p = vdisk("create", "-f", "raw", "-o", "preallocation=falloc", ceph.name(other), "8M", check=False)
    assert p.returncode != 0 and "falloc" in p.stderr
    assert other not in ceph.rbd("ls").stdout.split()   # nothing half-made
    p = vdisk("create", "-f", "raw", "-o", "nocow=on", ceph.name(other), "8M", check=False)
    assert p.returncode != 0 and "nocow" in p.stderr


def test_qcow2_on_rbd_written_by_vdisk_checks_clean(ceph, rbd_image, vdisk, vdisk_io, qemu_img,
                                                   qemu_io):
    img = rbd_image()
    vdisk("create", "-f", "qcow2", ceph.name(img), "256M")
    vdisk_io("-f", "qcow2", ceph.name(img), "-c", "write -P 0x11 0 5M", "-c", "write -P 0x22 100M 300k",
             "-c", "write -z 1M 1M", "-c", "discard 4M 64k")
    qemu_img("check", ceph.name(img))
    vdisk("check", ceph.name(img))
    qemu_io("-f", "qcow2", ceph.name(img), "-c", "read -P 0x11 0 1M", "-c", "read -P 0 1M 1M",
            "-c", "read -P 0x11 2M 2M", "-c", "read -P 0 4M 64k", "-c", "read -P 0x22 100M 300k")
    # qemu-io writes, vdisk reads: the same image, the other way round.
    qemu_io("-f", "qcow2", ceph.name(img), "-c", "write -P 0x77 50M 1M")
    vdisk_io("-f", "qcow2", ceph.name(img), "-c", "read -P 0x77 50M 1M")


def test_info_and_map_match_qemu_img(ceph, rbd_image, vdisk, qemu_img, src):
    img = rbd_image()
    qemu_img("convert", "-O", "raw", src, ceph.name(img))
    ours = json.loads(vdisk("info", "--output=json", ceph.name(img)).stdout)
    theirs = json.loads(qemu_img("info", "--output=json", ceph.name(img)).stdout)
    for key in ("format", "virtual-size"):
        assert ours[key] == theirs[key]
    # Allocation as the rbd tool counts it.
    assert ours["actual-size"] == rbd_json(ceph, "du", img)["images"][0]["used_size"]
    strip = ("filename",)
    m_ours = [{k: v for k, v in e.items() if k not in strip}
              for e in json.loads(vdisk("map", "--output=json", "-f", "raw", ceph.name(img)).stdout)]
    m_theirs = [{k: v for k, v in e.items() if k not in strip}
                for e in json.loads(qemu_img("map", "--output=json", "-f", "raw", ceph.name(img)).stdout)]
    assert m_ours == m_theirs


def test_compare(ceph, rbd_image, vdisk, qemu_io, src):
    img = rbd_image()
    vdisk("convert", "-O", "raw", src, ceph.name(img))
    assert vdisk("compare", src, ceph.name(img)).returncode == 0
    qemu_io("-f", "raw", ceph.name(img), "-c", "write -P 0x01 10M 512")
    p = vdisk("compare", src, ceph.name(img), check=False)
    assert p.returncode == 1 and "10485760" in p.stdout


def test_resize(ceph, rbd_image, vdisk, qemu_img):
    raw, q = rbd_image(), rbd_image()
    vdisk("create", "-f", "raw", ceph.name(raw), "16M")
    vdisk("resize", "-f", "raw", ceph.name(raw), "+16M")
    assert rbd_json(ceph, "info", raw)["size"] == 32 * MiB
    vdisk("resize", "-f", "raw", "--shrink", ceph.name(raw), "8M")
    assert rbd_json(ceph, "info", raw)["size"] == 8 * MiB
    vdisk("create", "-f", "qcow2", ceph.name(q), "64M")
    vdisk("resize", ceph.name(q), "2G")
    info = json.loads(qemu_img("info", "--output=json", ceph.name(q)).stdout)
    assert info["virtual-size"] == 2 << 30
    qemu_img("check", ceph.name(q))


def test_bench(ceph, rbd_image, vdisk, qemu_io):
    img = rbd_image()
    vdisk("create", "-f", "raw", ceph.name(img), "16M")
    # -t none: librbd's cache off, as QEMU maps cache=none.
    p = vdisk("bench", "-f", "raw", "-w", "-t", "none", "-c", "256", "-s", "64k", "--pattern", "0x3c",
              ceph.name(img))
    assert "Run completed" in p.stdout
    qemu_io("-f", "raw", ceph.name(img), "-c", "read -P 0x3c 0 16M")


def test_snapshot_is_read_only(ceph, rbd_image, vdisk, vdisk_io, qemu_io, src, tmp_path, qemu_img):
    img = rbd_image()
    vdisk("convert", "-O", "raw", src, ceph.name(img))
    ceph.rbd("snap", "create", f"{img}@before")
    qemu_io("-f", "raw", ceph.name(img), "-c", "write -P 0xee 0 1M")
    snap = f"rbd:rbd/{img}@before:conf={ceph.conf}"
    out = tmp_path / "snap.raw"
    vdisk("convert", "-f", "raw", "-O", "raw", snap, out)
    assert out.read_bytes() == raw_of(qemu_img, src, tmp_path)
    p = vdisk_io("-f", "raw", snap, "-c", "write 0 512", check=False)
    assert p.returncode != 0 and "read-only" in p.stderr
    ceph.rbd("snap", "purge", "--no-progress", img)


def test_image_opts(ceph, rbd_image, vdisk, qemu_img, src):
    img = rbd_image()
    vdisk("convert", "-O", "raw", src, ceph.name(img))
    opts = f"driver=raw,file.driver=rbd,file.pool=rbd,file.image={img},file.conf={ceph.conf}"
    ours = json.loads(vdisk("info", "--output=json", "--image-opts", opts).stdout)
    theirs = json.loads(qemu_img("info", "--output=json", "--image-opts", opts).stdout)
    assert ours["virtual-size"] == theirs["virtual-size"] == 64 * MiB
    p = vdisk("info", "--image-opts", opts + ",file.nosuch=1", check=False)
    assert p.returncode != 0 and "file.nosuch" in p.stderr


def test_qcow2_overlay_on_rbd_over_an_rbd_base(ceph, rbd_image, vdisk, vdisk_io, qemu_img, src, tmp_path):
    base, top = rbd_image(), rbd_image()
    vdisk("convert", "-O", "raw", src, ceph.name(base))
    vdisk("create", "-f", "qcow2", "-b", ceph.name(base), "-F", "raw", ceph.name(top))
    info = json.loads(qemu_img("info", "--output=json", ceph.name(top)).stdout)
    assert info["backing-filename"] == ceph.name(base)
    vdisk_io("-f", "qcow2", ceph.name(top), "-c", "write -P 0x7e 8M 1M")
    qemu_img("check", ceph.name(top))
    expect = bytearray(raw_of(qemu_img, src, tmp_path))
    expect[8 * MiB:9 * MiB] = b"\x7e" * MiB
    assert raw_of(qemu_img, ceph.name(top), tmp_path) == bytes(expect)
    # The chain names the base by its protocol name; a relative name given
    # by an RBD image is not resolved against its "directory".
    ours = json.loads(vdisk("info", "--output=json", ceph.name(top)).stdout)
    assert ours["full-backing-filename"] == ceph.name(base)


def test_convert_onto_itself_refused(ceph, rbd_image, vdisk, src):
    img = rbd_image()
    vdisk("convert", "-O", "raw", src, ceph.name(img))
    p = vdisk("convert", "-O", "raw", ceph.name(img), f"rbd:rbd/{img}:conf={ceph.conf}", check=False)
    assert p.returncode != 0 and "source" in p.stderr
    assert img in ceph.rbd("ls").stdout.split()
