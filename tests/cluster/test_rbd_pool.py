"""vdisk pools on Ceph RBD (issue 17, section 2): a pool of type vdisk
whose <source> names an RBD pool, its volumes RBD images, through every
vdisk-virsh pool and volume verb of the embedded registry.

One memstore cluster for the module (conftest's session `ceph`; no mgr, so
the cluster's sizes are in test_rbd_pool_capacity.py).  Oracles: rbd
info/du/snap ls/children/export, qemu-img with rbd: names, python3-rbd for
a second client holding an image's exclusive lock.
"""
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ceph import free_port  # noqa: E402
from rbd_pool_common import NS, Virsh, rbd_du, rbd_json, rbd_read  # noqa: E402

MiB = 1 << 20


@pytest.fixture
def virsh(tmp_path, ceph):
    return Virsh(tmp_path, ceph)


@pytest.fixture
def images(ceph):
    """Names of RBD images a test makes through vdisk; removed after it
    (with their snapshots), pass or fail."""
    made = []

    def _new(prefix="v"):
        name = f"{prefix}-{uuid.uuid4().hex[:8]}"
        made.append(name)
        return name
    yield _new
    for name in reversed(made):
        for snap in json.loads(ceph.rbd("snap", "ls", "--format", "json", name,
                                        check=False).stdout or "[]"):
            ceph.rbd("snap", "unprotect", f"{name}@{snap['name']}", check=False)
        ceph.rbd("snap", "purge", "--no-progress", name, check=False)
        ceph.rbd("rm", "--no-progress", name, check=False)
    # clones made of them went first (reversed order); a leftover parent is
    # tried once more
    for name in made:
        ceph.rbd("rm", "--no-progress", name, check=False)


@pytest.fixture
def pool(virsh):
    return virsh.make_pool("ceph")


def qemu_compare(qemu_img, ceph, image, path):
    """qemu-img's verdict: RBD image (read by QEMU's rbd driver) == file."""
    return qemu_img("compare", "-f", "raw", "-F", "raw", ceph.name(image), path, check=False)


# ---- pool definition and life cycle ---------------------------------------------

def test_define_start_dumpxml_roundtrip(virsh, ceph):
    virsh.define("ceph")
    inactive = virsh.run("pool-dumpxml", "ceph").stdout
    assert "<host name='127.0.0.1'" in inactive and f"port='{ceph.port}'" in inactive
    assert "<name>rbd</name>" in inactive and "<target>" not in inactive
    virsh.run("pool-start", "ceph")
    rows = virsh.run("pool-list", "--all").stdout
    assert "ceph" in rows and "active" in rows
    # what dumpxml gives defines the same pool again
    again = virsh.tmp / "again.xml"
    again.write_text(virsh.run("pool-dumpxml", "--inactive", "ceph").stdout)
    virsh.run("pool-destroy", "ceph")
    virsh.run("pool-undefine", "ceph")
    virsh.run("pool-define", again)
    virsh.run("pool-start", "ceph")


def test_rbd_type_and_config_file(virsh, ceph, images):
    """libvirt's type='rbd' spelling, and monitors from <vdisk:config>."""
    xml = virsh.tmp / "c.xml"
    xml.write_text(virsh.pool_xml("viaconf", host=False, config=True)
                   .replace("type='vdisk'", "type='rbd'"))
    virsh.run("pool-define", xml)
    virsh.run("pool-start", "viaconf")
    assert f"<vdisk:config file='{ceph.conf}'/>" in virsh.run("pool-dumpxml", "viaconf").stdout
    name = images()
    virsh.run("vol-create-as", "viaconf", name, "8M")
    assert rbd_json(ceph, "info", name)["size"] == 8 * MiB


def test_pool_define_as(virsh, ceph, images):
    virsh.run("pool-define-as", "byargs", "rbd", "--source-name", "rbd",
              "--source-host", f"127.0.0.1:{ceph.port}")
    xml = virsh.run("pool-dumpxml", "byargs").stdout
    assert f"<host name='127.0.0.1' port='{ceph.port}'/>" in xml and "<name>rbd</name>" in xml
    virsh.run("pool-start", "byargs")
    name = images()
    virsh.run("vol-create-as", "byargs", name, "4M")
    assert rbd_json(ceph, "info", name)["size"] == 4 * MiB
    assert "no --target" in virsh.fails("pool-define-as", "x", "rbd", "--source-name", "rbd",
                                        "--target", "/srv")
    assert "--auth-username" in virsh.fails("pool-define-as", "x", "rbd", "--source-name", "rbd",
                                            "--auth-type", "ceph")


def test_build_and_delete_refused(virsh, pool):
    assert "ceph osd pool create" in virsh.fails("pool-build", pool)
    virsh.run("pool-destroy", pool)
    assert "does not remove the Ceph pool" in virsh.fails("pool-delete", pool)


# ---- volumes ----------------------------------------------------------------------

def test_create_thin_list_info_delete(virsh, ceph, pool, images):
    name = images()
    virsh.run("vol-create-as", pool, name, "64M")
    info = rbd_json(ceph, "info", name)
    assert info["size"] == 64 * MiB
    assert rbd_du(ceph, name) == (64 * MiB, 0)           # thin: nothing stored
    listing = virsh.run("vol-list", pool, "--details").stdout
    row = next(line for line in listing.splitlines() if name in line)
    assert f"rbd/{name}" in row and "network" in row
    xml = virsh.run("vol-dumpxml", "--pool", pool, name).stdout
    assert "<volume type='network'>" in xml
    assert f"<key>rbd/{name}</key>" in xml and f"<path>rbd/{name}</path>" in xml
    assert "<format type='raw'/>" in xml
    assert f"<capacity unit='bytes'>{64 * MiB}</capacity>" in xml
    # by path too, as libvirt's rbd pools: POOL/IMAGE
    assert "network" in virsh.run("vol-info", f"rbd/{name}").stdout
    virsh.run("vol-delete", "--pool", pool, name)
    assert name not in ceph.rbd("ls").stdout.split()


@pytest.mark.parametrize("zeroing", ["lazy", "eager"])
def test_create_thick_writes_zeros(virsh, ceph, images, zeroing):
    pool = virsh.make_pool(f"thick{zeroing}", extra=(
        f"  <vdisk:provisioning><vdisk:zeroing>{zeroing}</vdisk:zeroing></vdisk:provisioning>\n"))
    name = images()
    virsh.run("vol-create-as", pool, name, "16M", "--allocation", "16M")
    assert rbd_du(ceph, name) == (16 * MiB, 16 * MiB)    # every object stored
    xml = virsh.run("vol-dumpxml", "--pool", pool, name).stdout
    assert f"<allocation unit='bytes'>{16 * MiB}</allocation>" in xml
    assert rbd_read(ceph, name, virsh.tmp) == bytes(16 * MiB)


def qemu_info(qemu_img, ceph, image):
    return json.loads(qemu_img("info", "--output=json", ceph.name(image)).stdout)


def qemu_check(qemu_img, ceph, image):
    return json.loads(qemu_img("check", "--output=json", ceph.name(image)).stdout)


def test_qcow2_on_rbd(virsh, ceph, pool, images, qemu_img, qemu_io, tmp_path):
    thin, thick, clone = images("q"), images("q"), images("qc")
    virsh.run("vol-create-as", pool, thin, "1G", "--format", "qcow2")
    info = qemu_info(qemu_img, ceph, thin)
    assert (info["format"], info["virtual-size"]) == ("qcow2", 1 << 30)
    assert info["format-specific"]["data"]["compat"] == "0.10"          # libvirt's default
    assert qemu_check(qemu_img, ceph, thin)["check-errors"] == 0
    xml = virsh.run("vol-dumpxml", "--pool", pool, thin).stdout
    assert "<format type='qcow2'/>" in xml and f"<capacity unit='bytes'>{1 << 30}</capacity>" in xml
    # data written by QEMU reads back through a clone (an RBD clone of the qcow2 bytes)
    qemu_io("-f", "qcow2", "-c", "write -P 0x6b 1M 2M", ceph.name(thin))
    virsh.run("vol-clone", "--pool", pool, thin, clone)
    assert rbd_json(ceph, "info", clone)["parent"]["image"] == thin
    assert qemu_img("compare", "-f", "qcow2", "-F", "qcow2", ceph.name(thin),
                    ceph.name(clone)).returncode == 0
    assert "<format type='qcow2'/>" in virsh.run("vol-dumpxml", "--pool", pool, clone).stdout
    virsh.run("vol-resize", "--pool", pool, thin, "3G")
    assert qemu_info(qemu_img, ceph, thin)["virtual-size"] == 3 << 30
    assert qemu_check(qemu_img, ceph, thin)["check-errors"] == 0
    assert "not supported" in virsh.fails("vol-wipe", "--pool", pool, thin)
    # thick: every cluster allocated, every object stored
    virsh.run("vol-create-as", pool, thick, "64M", "--format", "qcow2", "--allocation", "64M")
    check = qemu_check(qemu_img, ceph, thick)
    assert check["check-errors"] == 0 and check["allocated-clusters"] == check["total-clusters"]
    prov, used = rbd_du(ceph, thick)
    assert used == prov and prov >= 64 * MiB
    virsh.run("vol-delete", "--pool", pool, clone)


def test_create_refuses_what_rbd_cannot_be(virsh, pool, images):
    name = images()
    assert "raw images" in virsh.fails("vol-create-as", pool, name, "8M", "--format", "vmdk")
    assert "not an RBD image name" in virsh.fails("vol-create-as", pool, "a@b", "8M")
    virsh.run("vol-create-as", pool, name, "8M")
    assert "exists already" in virsh.fails("vol-create-as", pool, name, "8M")


def test_upload_download(virsh, ceph, pool, images, qemu_img, tmp_path):
    name = images()
    virsh.run("vol-create-as", pool, name, "8M")
    data = os.urandom(3 * MiB) + bytes(2 * MiB) + os.urandom(MiB)
    src = tmp_path / "in.bin"
    src.write_bytes(data)
    virsh.run("vol-upload", "--pool", pool, name, src, "--offset", str(MiB))
    expect = bytes(MiB) + data + bytes(8 * MiB - MiB - len(data))
    assert rbd_read(ceph, name, tmp_path) == expect
    whole = tmp_path / "expect.bin"
    whole.write_bytes(expect)
    assert qemu_compare(qemu_img, ceph, name, whole).returncode == 0
    out = tmp_path / "out.bin"
    virsh.run("vol-download", "--pool", pool, name, out, "--sparse")
    assert out.read_bytes() == expect
    assert os.stat(out).st_blocks * 512 < len(expect)      # holes kept
    virsh.run("vol-download", "--pool", pool, name, out, "--offset", str(MiB),
              "--length", str(3 * MiB))
    assert out.read_bytes() == data[:3 * MiB]


def test_snapshots(virsh, ceph, pool, images, tmp_path):
    name = images()
    virsh.run("vol-create-as", pool, name, "4M")
    first = tmp_path / "first.bin"
    first.write_bytes(b"\x11" * (4 * MiB))
    virsh.run("vol-upload", "--pool", pool, name, first)
    virsh.run("vol-snapshot-create", "--pool", pool, name, "s1")
    assert [s["name"] for s in rbd_json(ceph, "snap", "ls", name)] == ["s1"]
    assert "s1" in virsh.run("vol-snapshot-list", "--pool", pool, name).stdout
    second = tmp_path / "second.bin"
    second.write_bytes(b"\x22" * (4 * MiB))
    virsh.run("vol-upload", "--pool", pool, name, second)
    assert rbd_read(ceph, f"{name}@s1", tmp_path) == first.read_bytes()
    virsh.run("vol-snapshot-revert", "--pool", pool, name, "s1")
    assert rbd_read(ceph, name, tmp_path) == first.read_bytes()
    assert "no snapshot" in virsh.fails("vol-snapshot-delete", "--pool", pool, name, "nope")
    virsh.run("vol-snapshot-delete", "--pool", pool, name, "s1")
    assert rbd_json(ceph, "snap", "ls", name) == []


def test_clone_is_cow(virsh, ceph, pool, images, qemu_img, tmp_path):
    src, clone = images(), images("c")
    virsh.run("vol-create-as", pool, src, "32M")
    data = tmp_path / "d.bin"
    data.write_bytes(os.urandom(32 * MiB))
    virsh.run("vol-upload", "--pool", pool, src, data)
    virsh.run("vol-clone", "--pool", pool, src, clone)
    parent = rbd_json(ceph, "info", clone)["parent"]
    assert (parent["pool"], parent["image"]) == ("rbd", src)
    assert f"rbd/{clone}" in ceph.rbd("children", f"{src}@{parent['snapshot']}").stdout
    assert rbd_du(ceph, clone)[1] == 0                      # shares the parent's data
    assert qemu_compare(qemu_img, ceph, clone, data).returncode == 0
    # the source is refused while its clone depends on it, even with snapshots asked
    assert "snapshot" in virsh.fails("vol-delete", "--pool", pool, src)
    assert "clones" in virsh.fails("vol-delete", "--pool", pool, src, "--delete-snapshots")
    virsh.run("vol-delete", "--pool", pool, clone)
    virsh.run("vol-delete", "--pool", pool, src, "--delete-snapshots")
    assert src not in ceph.rbd("ls").stdout.split()


def test_resize(virsh, ceph, pool, images):
    name = images()
    virsh.run("vol-create-as", pool, name, "8M")
    virsh.run("vol-resize", "--pool", pool, name, "24M")
    assert rbd_json(ceph, "info", name)["size"] == 24 * MiB
    assert "shrink" in virsh.fails("vol-resize", "--pool", pool, name, "4M")
    virsh.run("vol-resize", "--pool", pool, name, "4M", "--shrink")
    assert rbd_json(ceph, "info", name)["size"] == 4 * MiB
    virsh.run("vol-resize", "--pool", pool, name, "12M", "--allocate")
    assert rbd_du(ceph, name)[1] >= 8 * MiB                 # the new part stored


@pytest.mark.parametrize("alg", ["zero", "trim", "random"])
def test_wipe(virsh, ceph, pool, images, tmp_path, alg):
    name = images()
    virsh.run("vol-create-as", pool, name, "8M")
    data = tmp_path / "d.bin"
    data.write_bytes(b"\x5a" * (3 * MiB))
    virsh.run("vol-upload", "--pool", pool, name, data)
    virsh.run("vol-wipe", "--pool", pool, name, "--algorithm", alg)
    after = rbd_read(ceph, name, tmp_path)
    assert len(after) == 8 * MiB
    assert b"\x5a" * 4096 not in after[:3 * MiB]
    if alg != "random":
        assert after == bytes(8 * MiB)
    if alg == "trim":
        assert rbd_du(ceph, name)[1] == 0


# ---- bad input ---------------------------------------------------------------------

def test_unreachable_monitor_fails_bounded(virsh):
    virsh.define("nomon", port=free_port())
    err = virsh.fails("pool-start", "nomon", timeout=120)   # hang guard only
    assert "nomon" in err and "connect" in err
    assert "inactive" in virsh.run("pool-list", "--all").stdout


def test_missing_rbd_pool(virsh):
    virsh.define("nopool", rbd_pool="no-such-pool")
    assert "Ceph pool 'no-such-pool' does not exist" in virsh.fails("pool-start", "nopool")


def auth(uuid_text, user="libvirt"):
    return (f"    <auth type='ceph' username='{user}'>\n"
            f"      <secret uuid='{uuid_text}'/>\n    </auth>\n")


def define_secret(virsh, usage_type, value_b64=None):
    u = str(uuid.uuid4())
    usage = ("<usage type='ceph'><name>client.libvirt</name></usage>" if usage_type == "ceph"
             else f"<usage type='volume'><volume>/x/{u}</volume></usage>")
    xml = virsh.tmp / f"secret-{u}.xml"
    xml.write_text(f"<secret ephemeral='no' private='yes'><uuid>{u}</uuid>{usage}</secret>")
    virsh.run("secret-define", xml)
    if value_b64 is not None:
        f = virsh.tmp / f"value-{u}"
        f.write_text(value_b64)
        virsh.run("secret-set-value", u, "--file", f)
    return u


def test_secrets(virsh, ceph, images):
    """The cluster runs without cephx, so a good key and a bad one both get
    in; what vdisk checks itself is tested: the secret exists, is of usage
    type ceph, has a value -- and the key appears in no message or argv."""
    missing = str(uuid.uuid4())
    virsh.define("s1", auth=auth(missing))
    assert f"the secret '{missing}' of Ceph user 'libvirt' is not defined" in \
        virsh.fails("pool-start", "s1")
    wrong = define_secret(virsh, "volume", "c2VjcmV0")
    virsh.define("s2", auth=auth(wrong))
    assert "usage type 'volume', not 'ceph'" in virsh.fails("pool-start", "s2")
    empty = define_secret(virsh, "ceph")
    virsh.define("s3", auth=auth(empty))
    assert "has no value" in virsh.fails("pool-start", "s3")
    key = subprocess.run(["ceph-authtool", "--gen-print-key"], capture_output=True, text=True,
                         check=True).stdout.strip()
    # a second ceph secret: the registry allows one per usage name
    good = str(uuid.uuid4())
    xml = virsh.tmp / "good.xml"
    xml.write_text(f"<secret ephemeral='no' private='yes'><uuid>{good}</uuid>"
                   "<usage type='ceph'><name>client.other</name></usage></secret>")
    virsh.run("secret-define", xml)
    (virsh.tmp / "key").write_text(key)
    virsh.run("secret-set-value", good, "--file", virsh.tmp / "key")
    virsh.define("s4", auth=auth(good))
    virsh.run("pool-start", "s4")
    name, q = images(), images("q")
    p = virsh.run("vol-create-as", "s4", name, "4M")
    bad = virsh.run("vol-info", "--pool", "s4", "nope", check=False)
    # a qcow2 volume is reached through an rbd: name that holds the key:
    # libvdisk's message about it must not show it
    virsh.run("vol-create-as", "s4", q, "4M", "--format", "qcow2")
    again = virsh.run("vol-create-as", "s4", q, "4M", "--format", "qcow2", check=False)
    assert again.returncode != 0 and f"rbd:rbd/{q}" in again.stderr
    for text in (p.stdout, p.stderr, bad.stdout, bad.stderr, again.stdout, again.stderr):
        assert key not in text and "key=" not in text


HOLDER = """
import sys, rados, rbd
c = rados.Rados(conffile=sys.argv[1]); c.connect()
io = c.open_ioctx('rbd'); img = rbd.Image(io, sys.argv[2])
img.lock_acquire(rbd.RBD_LOCK_MODE_EXCLUSIVE)
print('locked', flush=True)
sys.stdin.read()
img.close(); io.close(); c.shutdown()
"""


def test_image_locked_by_another_client(virsh, ceph, pool, images, tmp_path):
    name = images()
    virsh.run("vol-create-as", pool, name, "4M")
    holder = subprocess.Popen(["/usr/bin/python3", "-c", HOLDER, str(ceph.conf), name],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        data = tmp_path / "d.bin"
        data.write_bytes(b"x" * 4096)
        for verb in (["vol-delete", "--pool", pool, name],
                     ["vol-wipe", "--pool", pool, name],
                     ["vol-upload", "--pool", pool, name, data],
                     ["vol-snapshot-create", "--pool", pool, name, "s"]):
            assert "in use" in virsh.fails(*verb), verb
        assert name in ceph.rbd("ls").stdout.split()
        assert rbd_json(ceph, "snap", "ls", name) == []
    finally:
        holder.stdin.close()
        holder.wait(timeout=60)


def test_pool_xml_errors(virsh):
    cases = {
        "<source><name>rbd</name></source><target><path>/x</path></target>": "has no <target>",
        "<source><host name='a b'/><name>rbd</name></source>": "without ','",
        "<source><host name='h' port='70000'/><name>rbd</name></source>": "not a TCP port",
        "<source><name>rbd</name><auth type='chap' username='u'><secret uuid='"
        + str(uuid.uuid4()) + "'/></auth></source>": "type='ceph'",
        "<source><name>a/b</name></source>": "not an RBD pool name",
        "<target><path>/tmp/x</path></target><vdisk:config file='/etc/ceph/ceph.conf'/>":
            "belongs to a pool on Ceph",
        "<source><name>rbd</name></source><vdisk:config file='rel.conf'/>": "absolute",
    }
    for body, message in cases.items():
        xml = virsh.tmp / "bad.xml"
        xml.write_text(f"<pool type='vdisk' xmlns:vdisk='{NS}'><name>bad</name>{body}</pool>")
        assert message in virsh.fails("pool-define", xml), body
    xml.write_text("<pool type='rbd'><name>bad</name><target><path>/x</path></target></pool>")
    assert "needs <source><name>" in virsh.fails("pool-define", xml)
