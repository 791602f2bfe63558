"""vdisk pools whose <source> is not a local directory, through the patched
daemon (patch 0007): on a Ceph RBD pool (libvirt's rbd-pool source: hosts,
name, ceph auth; no target) and on a shared filesystem (libvirt's netfs
source: host, dir, format; mounted on the target while the pool is active).

The clusters are the ones tests/cluster starts (ceph.py: one monitor and
one OSD on 127.0.0.1, memstore, no cephx; gluster.py: glusterd in a private
network namespace), stopped by pid at the end, pass or fail.  Oracles:
Ceph's own rbd tool (ls, info, export), qemu-io and qemu-img with rbd:
names, /proc/mounts, and a plain GlusterFS FUSE mount of the volume made by
the test -- never the daemon's own answers.
"""
import contextlib
import json
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import xml.etree.ElementTree as ET

import pytest

from conftest import MiB, NS, run

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "cluster"))
import ceph as ceph_mod       # noqa: E402  (tests/cluster/ceph.py)
import gluster as gluster_mod  # noqa: E402  (tests/cluster/gluster.py)


@pytest.fixture(scope="module")
def ceph(tmp_path_factory):
    missing = ceph_mod.missing_programs()
    if missing:
        pytest.skip(f"NOT TESTED: Ceph programs missing ({', '.join(missing)}) -- install "
                    "ceph-mon ceph-osd ceph-common (scripts/install-deps.sh)")
    with ceph_mod.CephCluster(tmp_path_factory.mktemp("ceph"), store="memstore") as c:
        yield c


def rbd_pool_xml(ceph, name, auth="", rbd_pool="rbd", config=False):
    """A vdisk pool on the cluster's RBD pool; with config, <vdisk:config
    file=> naming the cluster's ceph.conf."""
    conf = f"  <vdisk:config file='{ceph.conf}'/>\n" if config else ""
    return (f"<pool type='vdisk' xmlns:vdisk='{NS}'>\n  <name>{name}</name>\n"
            f"  <source>\n    <host name='127.0.0.1' port='{ceph.port}'/>\n"
            f"    <name>{rbd_pool}</name>\n{auth}  </source>\n{conf}</pool>\n")


@pytest.fixture
def rbd_pools(daemon, tmp_path):
    """define(name, **kw) -> name: a vdisk pool on the cluster's 'rbd' pool;
    every one destroyed and undefined after the test."""
    names = []

    def define(name, ceph, start=True, **kw):
        xml = tmp_path / f"{name}.xml"
        xml.write_text(rbd_pool_xml(ceph, name, **kw))
        daemon.virsh("pool-define", xml)
        names.append(name)
        if start:
            daemon.virsh("pool-start", name)
        return name
    yield define
    for name in names:
        daemon.virsh("pool-destroy", name, check=False)
        daemon.virsh("pool-undefine", name, check=False)


@pytest.fixture
def images(ceph):
    """image(prefix) -> a fresh RBD image name; removed after the test."""
    made = []

    def new(prefix="v"):
        made.append(f"{prefix}-{uuid.uuid4().hex[:8]}")
        return made[-1]
    yield new
    for name in reversed(made):         # clones before their parents
        for snap in rbd_json(ceph, "snap", "ls", name, check=False):
            ceph.rbd("snap", "unprotect", f"{name}@{snap['name']}", check=False)
        ceph.rbd("snap", "purge", "--no-progress", name, check=False)
        ceph.rbd("rm", "--no-progress", name, check=False)


def rbd_json(ceph, *args, check=True):
    p = ceph.rbd(*args, "--format", "json", check=check)
    if p.returncode != 0:
        return []
    return json.loads(p.stdout or "[]")


def rbd_ls(ceph):
    return set(rbd_json(ceph, "ls"))


def rbd_bytes(ceph, image, tmp_path):
    out = tmp_path / f"export-{image}.bin"
    ceph.rbd("export", "--no-progress", image, out)
    data = out.read_bytes()
    out.unlink()
    return data


def qemu_io(*args):
    path = shutil.which("qemu-io")
    if not path:
        pytest.fail("qemu-io is missing (Debian package qemu-utils)")
    return run([path, *args])


def test_rbd_pool_lifecycle(daemon, ceph, rbd_pools, images, tmp_path):
    """define/start, vol-create (raw and qcow2), vol-list, vol-dumpxml,
    vol-resize, vol-wipe, vol-clone, vol-delete, refresh, stop -- each
    checked with Ceph's rbd tool or qemu-img/qemu-io."""
    pool = rbd_pools("ceph1", ceph, start=False)
    inactive = daemon.virsh("pool-dumpxml", pool).stdout
    assert f"<host name='127.0.0.1' port='{ceph.port}'/>" in inactive
    assert "<name>rbd</name>" in inactive and "<target>" not in inactive
    daemon.virsh("pool-start", pool)
    assert "running" in daemon.virsh("pool-info", pool).stdout

    raw, q = images("raw"), images("q")
    daemon.virsh("vol-create-as", pool, raw, "8M")
    info = rbd_json(ceph, "info", raw)
    assert info["size"] == 8 * MiB
    daemon.virsh("vol-create-as", pool, q, "16M", "--format", "qcow2")
    qinfo = json.loads(run(["qemu-img", "info", "--output=json", ceph.name(q)]).stdout)
    assert qinfo["format"] == "qcow2" and qinfo["virtual-size"] == 16 * MiB
    assert {raw, q} <= rbd_ls(ceph)

    listed = daemon.virsh("vol-list", pool).stdout
    assert f"rbd/{raw}" in listed and f"rbd/{q}" in listed
    xml = daemon.virsh("vol-dumpxml", "--pool", pool, raw).stdout
    assert "<volume type='network'>" in xml
    assert f"<key>rbd/{raw}</key>" in xml and f"<path>rbd/{raw}</path>" in xml
    assert f"<capacity unit='bytes'>{8 * MiB}</capacity>" in xml
    assert daemon.virsh("vol-path", "--pool", pool, raw).stdout.strip() == f"rbd/{raw}"

    daemon.virsh("vol-resize", "--pool", pool, raw, "12M")
    assert rbd_json(ceph, "info", raw)["size"] == 12 * MiB

    qemu_io("-f", "raw", "-c", "write -P 0xab 0 1M", ceph.name(raw))
    data = rbd_bytes(ceph, raw, tmp_path)
    assert data[:MiB] == b"\xab" * MiB

    clone = images("clone")
    daemon.virsh("vol-clone", "--pool", pool, raw, clone)
    assert clone in rbd_ls(ceph)
    assert rbd_bytes(ceph, clone, tmp_path) == data
    assert rbd_json(ceph, "info", clone).get("parent", {}).get("image") == raw, \
        "vol-clone of an RBD image is an RBD clone (copy-on-write)"

    daemon.virsh("vol-wipe", "--pool", pool, raw)
    assert rbd_bytes(ceph, raw, tmp_path) == bytes(12 * MiB)
    assert rbd_bytes(ceph, clone, tmp_path) == data, "the clone keeps its bytes"

    up = daemon.virsh("vol-upload", "--pool", pool, raw, tmp_path / "ceph1.xml", check=False)
    assert up.returncode != 0 and "RBD image" in up.stderr and "vol-upload" in up.stderr

    daemon.virsh("vol-delete", "--pool", pool, q)
    assert q not in rbd_ls(ceph)

    # an image made outside the daemon shows after pool-refresh
    ext = images("ext")
    ceph.rbd("create", "--size", "4M", ext)
    daemon.virsh("pool-refresh", pool)
    assert f"rbd/{ext}" in daemon.virsh("vol-list", pool).stdout

    daemon.virsh("pool-destroy", pool)
    assert "inactive" in daemon.virsh("pool-info", pool).stdout
    assert {raw, clone, ext} <= rbd_ls(ceph), "stopping a pool leaves its images"


def test_rbd_pool_survives_daemon_restart_and_duplicates(daemon, ceph, rbd_pools, images):
    """Two vdisk pools on the same Ceph pool (no target path to compare),
    and an active one found active again by a restarted daemon (checkPool
    connects to the cluster)."""
    a = rbd_pools("cepha", ceph)
    b = rbd_pools("cephb", ceph)
    name = images()
    daemon.virsh("vol-create-as", a, name, "4M")
    daemon.virsh("pool-refresh", b)
    assert f"rbd/{name}" in daemon.virsh("vol-list", b).stdout
    daemon.restart()
    assert "running" in daemon.virsh("pool-info", a).stdout
    assert f"rbd/{name}" in daemon.virsh("vol-list", a).stdout


@contextlib.contextmanager
def ceph_secret(daemon, tmp_path, name):
    """A fresh cephx key (ceph-authtool) and a private ceph secret of the
    daemon's named client.libvirt NAME, without a value yet: (uuid, key),
    undefined at the end."""
    key = subprocess.run(["ceph-authtool", "--gen-print-key"], capture_output=True, text=True,
                         check=True).stdout.strip()
    uid = str(uuid.uuid4())
    sxml = tmp_path / "secret.xml"
    sxml.write_text(f"<secret ephemeral='no' private='yes'><uuid>{uid}</uuid>"
                    f"<usage type='ceph'><name>client.libvirt {name}</name></usage></secret>")
    daemon.virsh("secret-define", sxml, uri=daemon.secret_uri)
    try:
        yield uid, key
    finally:
        daemon.virsh("secret-undefine", uid, uri=daemon.secret_uri, check=False)


def ceph_auth(uid):
    """A pool source's <auth> naming the secret uid for user libvirt."""
    return (f"    <auth type='ceph' username='libvirt'>\n"
            f"      <secret uuid='{uid}'/>\n    </auth>\n")


def test_rbd_pool_reads_its_cephx_key_from_the_secret_driver(daemon, ceph, rbd_pools, images,
                                                            tmp_path):
    """The cluster runs without cephx: a key gets in whatever it is; what
    is checked is that the daemon's secret is read (a missing one and one
    without a value are refused, naming it) and the key shows nowhere."""
    with ceph_secret(daemon, tmp_path, "vdisk-test") as (uid, key):
        auth = ceph_auth
        novalue = rbd_pools("cephnovalue", ceph, start=False, auth=auth(uid))
        err = daemon.virsh("pool-start", novalue, check=False).stderr
        assert uid in err and "value" in err
        missing = str(uuid.uuid4())
        nosecret = rbd_pools("cephnosecret", ceph, start=False, auth=auth(missing))
        err = daemon.virsh("pool-start", nosecret, check=False).stderr
        assert missing in err

        # secret-set-value takes the base64 text: the secret's value is the
        # key's bytes, which vdisk hands to Ceph base64-encoded again
        daemon.virsh("secret-set-value", uid, key, uri=daemon.secret_uri)
        pool = rbd_pools("cephkey", ceph, auth=auth(uid))
        name = images()
        p = daemon.virsh("vol-create-as", pool, name, "4M")
        assert name in rbd_ls(ceph)
        dumped = daemon.virsh("pool-dumpxml", pool).stdout
        assert f"<secret uuid='{uid}'/>" in dumped and "username='libvirt'" in dumped
        for text in (p.stdout, p.stderr, dumped, daemon.log_tail("virtstoraged", 400)):
            assert key not in text


def test_rbd_source_refusals(daemon, ceph, tmp_path):
    """What vdisk's parser refuses is refused at pool-define, with its words."""
    cases = {
        "<source><name>rbd</name><dir path='/x'/></source>": "not both",
        "<source><host name='127.0.0.1' port='70000'/><name>rbd</name></source>": "70000",
        "<source><name>rbd</name><auth type='chap' username='u'><secret usage='x'/></auth>"
        "</source>": "auth type 'chap'",
    }
    for i, (source, words) in enumerate(cases.items()):
        xml = tmp_path / f"bad{i}.xml"
        xml.write_text(f"<pool type='vdisk'><name>bad{i}</name>{source}</pool>")
        p = daemon.virsh("pool-define", xml, check=False)
        assert p.returncode != 0 and words in p.stderr, f"{source}: {p.stderr}"
    assert "bad0" not in daemon.virsh("pool-list", "--all").stdout


def test_capabilities_offer_only_what_vdisk_mounts(daemon, tmp_path):
    """pool-capabilities' shared-filesystem formats for a vdisk pool are the
    ones a vdisk pool takes (virt-manager offers that list): each one listed
    defines, each other of the netfs pool's own list is refused."""
    root = ET.fromstring(daemon.virsh("pool-capabilities").stdout)
    def formats(kind):
        pool = root.find(f"pool[@type='{kind}']")
        return {v.text for v in pool.findall("poolOptions/enum[@name='sourceFormatType']/value")}
    offered, netfs = formats("vdisk"), formats("netfs")
    assert offered and offered < netfs
    for i, fmt in enumerate(sorted(netfs)):
        xml = tmp_path / f"fs{i}.xml"
        xml.write_text(f"<pool type='vdisk'><name>fs{i}</name><source><host name='srv'/>"
                       f"<dir path='/export'/><format type='{fmt}'/></source>"
                       f"<target><path>{tmp_path / f'mnt{i}'}</path></target></pool>")
        p = daemon.virsh("pool-define", xml, check=False)
        try:
            assert (p.returncode == 0) == (fmt in offered), f"{fmt}: {p.stderr}"
        finally:
            if p.returncode == 0:
                daemon.virsh("pool-undefine", f"fs{i}")


# ---- a shared filesystem (GlusterFS from a private network namespace) ----------

@pytest.fixture(scope="module")
def gl(tmp_path_factory):
    why = gluster_mod.not_testable()
    if why:
        pytest.skip(why)
    with gluster_mod.Gluster(tmp_path_factory.mktemp("gluster")) as g:
        yield g


def mounts_on(target):
    """(source, fstype) of every mount on target."""
    return [m[:2] for m in gluster_mod.mounts_on(target)]


@pytest.fixture
def storaged_in_netns(daemon, gl):
    """virtstoraged restarted inside the server's network namespace (its
    mount.glusterfs must reach the server; its unix socket and the mounts
    it makes are seen from here), and back outside after the test."""
    daemon.stop_one("virtstoraged")
    daemon._start_one("virtstoraged", wrap=gl.netns_prefix)
    try:
        yield daemon
    finally:
        daemon.stop_one("virtstoraged")
        daemon._start_one("virtstoraged")


def test_netfs_pool_mounts_and_serves_volumes(storaged_in_netns, gl, tmp_path):
    daemon = storaged_in_netns
    target = tmp_path / "pool"
    other = tmp_path / "other-host"
    gl.track(target)
    xml = tmp_path / "shared.xml"
    xml.write_text(f"<pool type='vdisk'>\n  <name>shared</name>\n  <source>\n"
                   f"    <host name='{gl.addr}'/>\n    <dir path='/{gl.volume}'/>\n"
                   f"    <format type='glusterfs'/>\n  </source>\n"
                   f"  <target><path>{target}</path></target>\n</pool>\n")
    daemon.virsh("pool-define", xml)
    try:
        dumped = daemon.virsh("pool-dumpxml", "shared").stdout
        assert f"<dir path='/{gl.volume}'/>" in dumped and "<format type='glusterfs'/>" in dumped
        daemon.virsh("pool-build", "shared")
        daemon.virsh("pool-start", "shared")
        assert mounts_on(target) == [(gl.source, "fuse.glusterfs")], mounts_on(target)

        daemon.virsh("vol-create-as", "shared", "disk.qcow2", "8M", "--format", "qcow2")
        gl.mount(other)                   # another host's view of the volume
        info = json.loads(run(["qemu-img", "info", "--output=json", "-U",
                               other / "disk.qcow2"]).stdout)
        assert info["format"] == "qcow2" and info["virtual-size"] == 8 * MiB
        assert daemon.virsh("vol-path", "--pool", "shared", "disk.qcow2").stdout.strip() == \
            str(target / "disk.qcow2")
        brick = gl.dir / "brick"           # the server's own storage
        assert (brick / "disk.qcow2").is_file()
        daemon.virsh("vol-delete", "--pool", "shared", "disk.qcow2")
        assert not (brick / "disk.qcow2").exists()

        daemon.virsh("pool-destroy", "shared")
        assert mounts_on(target) == []
    finally:
        if mounts_on(target):
            daemon.virsh("pool-destroy", "shared", check=False)
        if mounts_on(other):
            gl.umount(other)
        daemon.virsh("pool-undefine", "shared", check=False)
