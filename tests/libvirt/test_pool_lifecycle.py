"""Pools through the patched virtstoraged and the real virsh: pool-define
(type vdisk, with the vdisk XML namespace), pool-build, pool-start,
pool-info, pool-refresh after files appear, pool-destroy, pool-delete,
pool-undefine.  Figures come from statvfs(2), stat(2) and qemu-img."""
import os
import xml.etree.ElementTree as ET

import pytest

from conftest import MiB, NS, pool_xml, qemu_img, qemu_info


def pool_names(daemon, *flags):
    out = daemon.virsh("pool-list", "--name", *flags).stdout
    return {line.strip() for line in out.splitlines() if line.strip()}


def vol_names(pool):
    out = pool.virsh("vol-list", "--pool", pool.name).stdout
    return {line.split()[0] for line in out.splitlines()[2:] if line.strip()}


@pytest.mark.parametrize("kind", ["vdisk", "dir"])
def test_lifecycle(daemon, pool_dir, kind):
    name, path = f"life-{kind}", pool_dir / f"life-{kind}"
    xml = pool_dir / "pool.xml"
    xml.write_text(pool_xml(kind, name, path))
    try:
        daemon.virsh("pool-define", xml)
        assert name in pool_names(daemon, "--inactive")
        assert not path.exists()
        daemon.virsh("pool-build", name)
        assert path.is_dir()
        daemon.virsh("pool-start", name)
        assert name in pool_names(daemon)
        info = dict(line.split(":", 1) for line in
                    daemon.virsh("pool-info", name).stdout.splitlines() if ":" in line)
        assert info["State"].strip() == "running"
        daemon.virsh("pool-destroy", name)
        assert name in pool_names(daemon, "--inactive")
        assert path.is_dir(), "pool-destroy must keep the directory"
        daemon.virsh("pool-delete", name)
        assert not path.exists(), "pool-delete must remove the empty directory"
        daemon.virsh("pool-undefine", name)
        assert name not in pool_names(daemon, "--all")
    finally:
        daemon.virsh("pool-destroy", name, check=False)
        daemon.virsh("pool-undefine", name, check=False)


def test_dumpxml_keeps_vdisk_namespace(daemon, pool_dir):
    name, path = "nsp", pool_dir / "nsp"
    xml = pool_dir / "pool.xml"
    xml.write_text(pool_xml("vdisk", name, path, zeroing="eager", overcommit="2.5"))
    p = daemon.virsh("pool-define", xml, check=False)
    assert p.returncode == 0, f"pool type vdisk refused: {p.stderr}"
    try:
        for flags in (["--inactive"], []):
            root = ET.fromstring(daemon.virsh("pool-dumpxml", *flags, name).stdout)
            assert root.get("type") == "vdisk"
            assert root.findtext("target/path") == str(path)
            prov = root.find(f"{{{NS}}}provisioning")
            assert prov is not None, "pool-dumpxml lost <vdisk:provisioning>"
            assert prov.findtext(f"{{{NS}}}zeroing") == "eager"
            assert float(prov.findtext(f"{{{NS}}}overcommit")) == 2.5
            if not flags:
                daemon.virsh("pool-build", name)
                daemon.virsh("pool-start", name)
        # The daemon's config file keeps the policy (it is what a restarted
        # daemon reads).
        conf = daemon.prefix / "etc/libvirt/storage" / f"{name}.xml"
        saved = ET.parse(conf).getroot()
        assert saved.findtext(f"{{{NS}}}provisioning/{{{NS}}}zeroing") == "eager"
        # Defined again from its own dumpxml, it keeps it too.
        again = pool_dir / "again.xml"
        again.write_text(daemon.virsh("pool-dumpxml", "--inactive", name).stdout)
        daemon.virsh("pool-define", again)
        root = ET.fromstring(daemon.virsh("pool-dumpxml", "--inactive", name).stdout)
        assert root.find(f"{{{NS}}}provisioning/{{{NS}}}zeroing").text == "eager"
    finally:
        daemon.virsh("pool-destroy", name, check=False)
        daemon.virsh("pool-undefine", name, check=False)


@pytest.mark.parametrize("bad", ["<vdisk:zeroing>sometimes</vdisk:zeroing>",
                                 "<vdisk:overcommit>-1</vdisk:overcommit>"])
def test_define_refuses_bad_provisioning(daemon, pool_dir, bad):
    xml = pool_dir / "bad.xml"
    xml.write_text(f"<pool type='vdisk' xmlns:vdisk='{NS}'><name>badprov</name>"
                   f"<target><path>{pool_dir / 'badprov'}</path></target>"
                   f"<vdisk:provisioning>{bad}</vdisk:provisioning></pool>")
    p = daemon.virsh("pool-define", xml, check=False)
    daemon.virsh("pool-undefine", "badprov", check=False)
    assert p.returncode != 0, "a bad provisioning policy was accepted"
    assert "error" in p.stderr


def test_info_matches_statvfs(vdisk_pool, dir_pool):
    """pool-info's capacity is the file system's size, as for a dir pool on
    the same file system."""
    pool = vdisk_pool()
    ref = dir_pool()
    st = os.statvfs(pool.path)
    info, refinfo = pool.info(), ref.info()
    assert info["State"] == "running"
    cap = int(info["Capacity"].split()[0])
    assert cap == st.f_blocks * st.f_frsize
    assert cap == int(refinfo["Capacity"].split()[0])
    avail = int(info["Available"].split()[0])
    # free space moves with other writers on the machine: close, not equal;
    # both count root's reserve as libvirt's dir pool does (f_bfree)
    assert 0 < avail <= cap
    reserve = (st.f_bfree - st.f_bavail) * st.f_frsize
    assert abs(avail - int(refinfo["Available"].split()[0])) < max(reserve // 2, 256 * MiB)


def test_refresh_finds_new_files(any_pool, tmp_path):
    """Files qemu-img creates in the directory show up after pool-refresh
    with qemu-img's format and capacity."""
    pool = any_pool
    qemu_img("create", "-f", "raw", pool.path / "a.raw", "3M")
    qemu_img("create", "-f", "qcow2", pool.path / "b.qcow2", "5M")
    qemu_img("create", "-f", "qcow2", "-b", pool.path / "b.qcow2", "-F", "qcow2",
             pool.path / "c.qcow2")
    assert not {"a.raw", "b.qcow2", "c.qcow2"} & vol_names(pool)
    pool.virsh("pool-refresh", pool.name)
    assert {"a.raw", "b.qcow2", "c.qcow2"} <= vol_names(pool)
    for vol in ("a.raw", "b.qcow2", "c.qcow2"):
        info = qemu_info(pool.path / vol)
        root = ET.fromstring(pool.vol_xml(vol))
        assert root.find("target/format").get("type") == info["format"]
        cap = root.find("capacity")
        assert cap.get("unit", "bytes") == "bytes"
        assert int(cap.text) == info["virtual-size"]
        assert root.findtext("target/path") == str(pool.path / vol)
    back = ET.fromstring(pool.vol_xml("c.qcow2")).find("backingStore")
    assert back is not None and back.findtext("path") == str(pool.path / "b.qcow2")
    os.unlink(pool.path / "a.raw")
    pool.virsh("pool-refresh", pool.name)
    assert "a.raw" not in vol_names(pool)


def test_delete_refuses_nonempty_pool(any_pool):
    pool = any_pool
    pool.virsh("vol-create-as", pool.name, "keep.raw", str(MiB), "--format", "raw")
    pool.virsh("pool-destroy", pool.name)
    p = pool.virsh("pool-delete", pool.name, check=False)
    assert p.returncode != 0
    assert (pool.path / "keep.raw").exists()


def test_capabilities_list_vdisk(daemon):
    """pool-capabilities: type vdisk is supported (its backend module
    loaded) and offers the file-pool volume formats."""
    root = ET.fromstring(daemon.virsh("pool-capabilities").stdout)
    pool = root.find("pool[@type='vdisk']")
    assert pool is not None, "pool-capabilities does not know type vdisk"
    assert pool.get("supported") == "yes", "the vdisk backend module did not load"
    formats = {v.text for v in pool.findall("volOptions/enum[@name='targetFormatType']/value")}
    assert {"raw", "qcow2"} <= formats


def test_list_by_type(vdisk_pool, dir_pool, daemon):
    """pool-list --type vdisk / --type dir (the list-all flag of the type)."""
    mine, theirs = vdisk_pool(), dir_pool()
    vdisk_names = pool_names(daemon, "--all", "--type", "vdisk")
    dir_names = pool_names(daemon, "--all", "--type", "dir")
    assert mine.name in vdisk_names and theirs.name not in vdisk_names
    assert theirs.name in dir_names and mine.name not in dir_names


def test_restart_keeps_pools(daemon, vdisk_pool, dir_pool):
    """A restarted virtstoraged reads its pools back: both kinds still
    active, the vdisk policy kept, the volumes listed."""
    mine, theirs = vdisk_pool(zeroing="eager"), dir_pool()
    for pool in (mine, theirs):
        pool.virsh("vol-create-as", pool.name, "kept.qcow2", str(MiB), "--format", "qcow2")
    daemon.restart()
    active = pool_names(daemon)
    assert mine.name in active and theirs.name in active
    root = ET.fromstring(daemon.virsh("pool-dumpxml", mine.name).stdout)
    assert root.findtext(f"{{{NS}}}provisioning/{{{NS}}}zeroing") == "eager"
    for pool in (mine, theirs):
        assert "kept.qcow2" in vol_names(pool)
        assert qemu_info(pool.vol_path("kept.qcow2"))["format"] == "qcow2"
