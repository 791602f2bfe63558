"""vdisk pools on Ceph RBD: the sizes the cluster reports, which need a mgr
(issue 17, section 2: pool-info from the cluster; the overcommit policy of
file pools).  One bluestore cluster with a mgr for this module, stopped by
pid at its end.  Oracle: `ceph df` (the cluster's own figures) and `rbd du`.
"""
import json
import sys
import time
import uuid
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
import ceph as ceph_mod  # noqa: E402
from conftest import built_with  # noqa: E402
from rbd_pool_common import Virsh, rbd_du  # noqa: E402

MiB = 1 << 20


@pytest.fixture(scope="module")
def mgr_ceph(tmp_path_factory, vdisk_bin):
    missing = ceph_mod.missing_programs(mgr=True)
    if missing:
        pytest.skip(f"NOT TESTED: Ceph programs missing ({', '.join(missing)}) -- install "
                    "ceph-mon ceph-osd ceph-mgr ceph-common (scripts/install-deps.sh)")
    if not built_with(vdisk_bin, "rbd", "rbd:p/i:conf=/nonexistent"):
        pytest.fail("vdisk was built without librbd although Ceph is installed")
    with ceph_mod.CephCluster(tmp_path_factory.mktemp("ceph-mgr"), store="bluestore") as c:
        # the mgr reports the OSD's sizes a little after it starts: wait for
        # them (a readiness poll, not a timing assertion)
        deadline = time.monotonic() + 120
        while df(c)["stats"]["total_bytes"] == 0:
            if time.monotonic() > deadline:
                pytest.fail("the mgr never reported the cluster's size\n" + c.log_tail())
            time.sleep(1)
        yield c


def df(c):
    return json.loads(c.ceph("df", "--format", "json").stdout)


@pytest.fixture
def virsh(tmp_path, mgr_ceph):
    return Virsh(tmp_path, mgr_ceph)


def info_fields(virsh, pool):
    """pool-info --bytes as a dict of integers where they are numbers."""
    out = {}
    for line in virsh.run("pool-info", "--bytes", pool).stdout.splitlines():
        key, _, value = line.partition(":")
        value = value.strip().split()[0] if value.strip() else ""
        out[key.strip()] = int(value) if value.isdigit() else value
    return out


def test_pool_info_from_the_cluster(virsh, mgr_ceph):
    pool = virsh.make_pool("sized")
    name = f"v-{uuid.uuid4().hex[:8]}"
    virsh.run("vol-create-as", pool, name, "64M", "--allocation", "64M")
    try:
        info = info_fields(virsh, pool)
        stats = df(mgr_ceph)["stats"]
        assert info["Capacity"] == stats["total_bytes"]
        # the cluster's free space moves as the OSD settles: same order, not the same byte
        assert abs(info["Available"] - stats["total_avail_bytes"]) < 64 * MiB
        assert info["Volumes"] == 1
        prov, used = rbd_du(mgr_ceph, name)
        assert (prov, used) == (64 * MiB, 64 * MiB)
        xml = virsh.run("pool-dumpxml", pool).stdout
        assert f"<capacity unit='bytes'>{stats['total_bytes']}</capacity>" in xml
    finally:
        virsh.run("vol-delete", "--pool", pool, name)


def test_overcommit_cap(virsh, mgr_ceph):
    total = df(mgr_ceph)["stats"]["total_bytes"]
    # a cap that lets 1.5 x the cluster's size be provisioned
    pool = virsh.make_pool("capped", extra=(
        "  <vdisk:provisioning><vdisk:overcommit>1.5</vdisk:overcommit></vdisk:provisioning>\n"))
    a, b = f"a-{uuid.uuid4().hex[:8]}", f"b-{uuid.uuid4().hex[:8]}"
    try:
        virsh.run("vol-create-as", pool, a, str(total), "--allocation", "0")
        err = virsh.fails("vol-create-as", pool, b, str(total))        # 2.0 > 1.5
        assert "overcommit" in err and "1.5" in err
        assert b not in mgr_ceph.rbd("ls").stdout.split()
        virsh.run("vol-create-as", pool, b, str(total // 4))           # 1.25: fits
        assert "overcommit" in virsh.fails("vol-resize", "--pool", pool, b, str(total))
    finally:
        for v in (a, b):
            virsh.run("vol-delete", "--pool", pool, v, check=False)


def test_thick_volume_larger_than_the_cluster_refused(virsh, mgr_ceph):
    avail = df(mgr_ceph)["stats"]["total_avail_bytes"]
    pool = virsh.make_pool("roomy")
    name = f"big-{uuid.uuid4().hex[:8]}"
    size = avail + 256 * MiB
    err = virsh.fails("vol-create-as", pool, name, str(size), "--allocation", str(size))
    assert "available" in err
    assert name not in mgr_ceph.rbd("ls").stdout.split()               # nothing written
