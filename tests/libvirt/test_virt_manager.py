"""virt-manager 4.1 with vdisk's patch series (plugin/virt-manager), a
patched copy in a prefix of its own, run under Xvfb and driven through its
accessibility tree by dogtail (virt_manager_ui.py), connected to the
prefix's virtqemud as a user would connect it (the qemu:///system URI with
?socket=, Debian's libvirt client).  Through the create-pool wizard and
the new-volume dialog it makes a vdisk pool and volumes in vdisk pools;
qemu-img checks the volumes.  The dialog's picture is kept with the test
artifacts ($VDISK_TEST_ARTIFACTS, default build/test-artifacts).
"""
import json
import os
import shutil
import uuid
from pathlib import Path

import pytest

from conftest import BUILD, REPO, allocated, is_zero, qemu_check, qemu_info, run
from desktop import Desktop

GiB = 1 << 30
PATCHER = REPO / "plugin/virt-manager/patched-virt-manager.sh"
UI = Path(__file__).with_name("virt_manager_ui.py")
ARTIFACTS = Path(os.environ.get("VDISK_TEST_ARTIFACTS", BUILD / "test-artifacts"))


@pytest.fixture(scope="module")
def virt_manager(tmp_path_factory):
    """PREFIX/bin/virt-manager: the installed virt-manager, patched, in a
    temporary prefix (removed again with the script's own 'remove')."""
    prefix = tmp_path_factory.mktemp("virt-manager-prefix")
    run([PATCHER, prefix, "install"])
    yield prefix / "bin/virt-manager"
    run([PATCHER, prefix, "remove"])


@pytest.fixture
def desktop(tmp_path):
    d = Desktop(tmp_path)
    try:
        d.start()
        yield d
    finally:
        d.stop()


@pytest.fixture
def default_pool(dir_pool):
    """A pool named 'default' (in a test directory): virt-manager makes one
    in /var/lib/libvirt/images when it connects to a daemon without it."""
    return dir_pool("default")


def drive(desktop, hypervisor, virt_manager, tmp_path, *args):
    """Start virt-manager on the prefix's qemu:///system, showing its
    Connection Details window, run the UI driver with args; its JSON."""
    log = tmp_path / "virt-manager.log"
    desktop.spawn([virt_manager, "--no-fork", "--connect", hypervisor.client_uri,
                   "--show-host-summary", "--test-options=first-run"], log=log)
    # dogtail makes /tmp/dogtail-$LOGNAME when it loads: a name of our own,
    # removed afterwards
    logname = f"vdisk-ui-{uuid.uuid4().hex[:12]}"
    try:
        p = run(["/usr/bin/python3", UI, *args], env=dict(desktop.env, LOGNAME=logname),
                check=False, timeout=1200)
    finally:
        shutil.rmtree(f"/tmp/dogtail-{logname}", ignore_errors=True)
    if p.returncode != 0 or not p.stdout.strip():
        pytest.fail(f"the UI driver failed ({p.returncode}):\n{p.stdout}\n{p.stderr}\n"
                    f"virt-manager's output:\n{log.read_text(errors='replace')[-3000:]}")
    return json.loads(p.stdout.strip().splitlines()[-1])


def test_wizard_makes_a_vdisk_pool_and_dialog_a_thin_qcow2(hypervisor, daemon, pool_dir,
                                                           default_pool, desktop, virt_manager,
                                                           tmp_path):
    """The create-pool wizard offers type vdisk (libvirt reports it) and
    builds the pool; its new-volume button works and says a qcow2 volume
    left unallocated is thin."""
    name = "ui-wizard"
    target = pool_dir / name
    try:
        r = drive(desktop, hypervisor, virt_manager, tmp_path,
                  "--pool", name, "--new-pool-type", "vdisk", "--new-pool-path", target,
                  "--volume", "thin.qcow2", "--format", "qcow2", "--capacity", "0.5",
                  "--screenshot", tmp_path / "thin.png")
        assert "vdisk: vdisk Image Directory" in r["wizard_types"], r
        assert "dir: Filesystem Directory" in r["wizard_types"], r
        xml = daemon.virsh("pool-dumpxml", name).stdout
        assert "<pool type='vdisk'" in xml and f"<path>{target}</path>" in xml
        assert r["pool_provisioning"] == "Thin, or thick lazy-zeroed", r
        assert r["vol_add_sensitive"], r
        assert r["dialog_provisioning"].startswith("Thin:"), r
        assert r["listed"]
        path = target / "thin.qcow2"
        info = qemu_info(path)
        assert info["format"] == "qcow2"
        assert info["virtual-size"] == int(0.5 * GiB)
        qemu_check(path)
        assert allocated(path) < GiB // 8, "a thin volume was allocated"
    finally:
        daemon.virsh("pool-destroy", name, check=False)
        daemon.virsh("pool-undefine", name, check=False)


def test_dialog_makes_an_eager_thick_raw_volume(hypervisor, vdisk_pool, default_pool, desktop,
                                                virt_manager, tmp_path):
    """An eager pool: the pool details show its policy, the dialog says the
    allocated volume is thick and eager-zeroed, and it is (qemu-img, stat).
    The dialog's picture goes to the test artifacts."""
    pool = vdisk_pool(zeroing="eager", overcommit="2")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTIFACTS / "virt-manager-vdisk-new-volume.png"
    r = drive(desktop, hypervisor, virt_manager, tmp_path,
              "--pool", pool.name, "--volume", "thick.img", "--format", "raw",
              "--capacity", "0.1", "--allocate", "--screenshot", shot)
    assert r["pool_provisioning"] == "Thin, or thick eager-zeroed; overcommit up to 2\u00d7 " \
                                     "the pool size", r
    assert r["dialog_provisioning"].startswith("Thick, eager-zeroed"), r
    assert r["listed"]
    path = pool.vol_path("thick.img")
    info = qemu_info(path)
    assert info["format"] == "raw"
    # 0.1 GiB as virtinst writes it, in whole sectors (as qemu-img sizes it)
    assert info["virtual-size"] == -(-int(0.1 * GiB) // 512) * 512
    assert allocated(path) >= info["virtual-size"]
    assert is_zero(path)
    assert shot.stat().st_size > 1000 and shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_dir_pools_look_as_before(hypervisor, dir_pool, default_pool, desktop, virt_manager,
                                  tmp_path):
    """The series changes nothing for a dir pool: no provisioning row, no
    provisioning line; the volume is made as virt-manager always made it."""
    pool = dir_pool()
    r = drive(desktop, hypervisor, virt_manager, tmp_path,
              "--pool", pool.name, "--volume", "plain.qcow2", "--format", "qcow2",
              "--capacity", "0.5", "--screenshot", tmp_path / "dir.png")
    assert r["pool_provisioning"] is None and r["dialog_provisioning"] is None, r
    assert qemu_info(pool.vol_path("plain.qcow2"))["format"] == "qcow2"
