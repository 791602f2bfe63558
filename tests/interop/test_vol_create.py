"""vol-create-as / vol-create: provisioning checked with qemu-img (info,
check, map) and stat(2); refusals leave nothing behind."""
import os

import pytest

from pool_common import allocated, qemu_info, qemu_map, virsh  # noqa: F401

MiB = 1 << 20


def data_bytes(qemu_img, path):
    return sum(e["length"] for e in qemu_map(qemu_img, path) if e["data"])


@pytest.mark.parametrize("zeroing", ["lazy", "eager"])
def test_thin_and_thick_raw_and_qcow2(virsh, qemu_img, zeroing):
    path = virsh.make_pool("p", zeroing=zeroing)
    assert virsh.run("vol-create-as", "p", "thin.raw", "64M").stdout == "Vol thin.raw created\n\n"
    virsh.run("vol-create-as", "p", "thick.raw", "64M", "--allocation", "64M")
    virsh.run("vol-create-as", "p", "thin.qcow2", "64M", "--format", "qcow2")
    virsh.run("vol-create-as", "p", "thick.qcow2", "64M", "--allocation", "64MiB", "--format", "qcow2")
    for name in ("thin.raw", "thick.raw"):
        info = qemu_info(qemu_img, path / name)
        assert info["format"] == "raw" and info["virtual-size"] == 64 * MiB
    for name in ("thin.qcow2", "thick.qcow2"):
        info = qemu_info(qemu_img, path / name)
        assert info["format"] == "qcow2" and info["virtual-size"] == 64 * MiB
        qemu_img("check", path / name)
    assert allocated(path / "thin.raw") == 0
    assert allocated(path / "thick.raw") >= 64 * MiB
    assert allocated(path / "thin.qcow2") < MiB
    assert allocated(path / "thick.qcow2") >= 64 * MiB
    # Eager zeroing writes the data clusters (preallocation=full); lazy only reserves them.
    if zeroing == "eager":
        assert data_bytes(qemu_img, path / "thick.qcow2") == 64 * MiB
    assert data_bytes(qemu_img, path / "thin.qcow2") == 0


def test_partial_allocation_reserves(virsh):
    path = virsh.make_pool("p")
    virsh.run("vol-create-as", "p", "v", "64M", "--allocation", "16M")
    assert os.stat(path / "v").st_size == 64 * MiB
    assert 16 * MiB <= allocated(path / "v") < 32 * MiB


def test_from_xml_with_qcow2_options(virsh, qemu_img, tmp_path):
    path = virsh.make_pool("p")
    xml = tmp_path / "vol.xml"
    xml.write_text("""<volume>
  <name>opts.qcow2</name>
  <capacity unit='MiB'>32</capacity>
  <target>
    <path>/ignored/as/libvirt/does</path>
    <format type='qcow2'/>
    <permissions><mode>0640</mode></permissions>
    <compat>0.10</compat>
    <clusterSize unit='KiB'>4</clusterSize>
  </target>
</volume>
""")
    assert virsh.run("vol-create", "p", xml).stdout == f"Vol opts.qcow2 created from {xml}\n\n"
    info = qemu_info(qemu_img, path / "opts.qcow2")
    assert info["virtual-size"] == 32 * MiB
    assert info["cluster-size"] == 4096
    assert info["format-specific"]["data"]["compat"] == "0.10"
    assert oct(os.stat(path / "opts.qcow2").st_mode & 0o777) == oct(0o640)
    assert not os.path.exists("/ignored/as/libvirt/does")


def test_lazy_refcounts_from_xml(virsh, qemu_img, tmp_path):
    path = virsh.make_pool("p")
    xml = tmp_path / "vol.xml"
    xml.write_text("<volume><name>l.qcow2</name><capacity>1048576</capacity><target>"
                   "<format type='qcow2'/><features><lazy_refcounts/></features></target></volume>")
    virsh.run("vol-create", "p", xml)
    data = qemu_info(qemu_img, path / "l.qcow2")["format-specific"]["data"]
    assert data["lazy-refcounts"] is True and data["compat"] == "1.1"


def test_backing_vol_and_prealloc_metadata(virsh, qemu_img):
    path = virsh.make_pool("p")
    virsh.run("vol-create-as", "p", "base.qcow2", "16M", "--format", "qcow2")
    virsh.run("vol-create-as", "p", "top.qcow2", "16M", "--format", "qcow2",
              "--backing-vol", "base.qcow2", "--backing-vol-format", "qcow2")
    info = qemu_info(qemu_img, path / "top.qcow2")
    assert info["backing-filename"] == str(path / "base.qcow2")
    assert info["backing-filename-format"] == "qcow2"
    virsh.run("vol-create-as", "p", "meta.qcow2", "64M", "--format", "qcow2", "--prealloc-metadata")
    qemu_img("check", path / "meta.qcow2")
    assert allocated(path / "meta.qcow2") > allocated(path / "base.qcow2")


def test_refusals_leave_nothing(virsh, tmp_path):
    path = virsh.make_pool("p", overcommit="1")
    sv = os.statvfs(path)
    free = sv.f_frsize * sv.f_bavail
    big = f"{free // MiB + 1024}M"
    p = virsh.run("vol-create-as", "p", "thick", big, "--allocation", big, check=False)
    assert p.returncode == 1
    assert p.stderr.startswith("error: Failed to create vol thick\nerror: ")
    assert "available" in p.stderr
    cap = f"{sv.f_frsize * sv.f_blocks // MiB + 1}M"
    p = virsh.run("vol-create-as", "p", "thin", cap, check=False)
    assert p.returncode == 1 and "overcommit" in p.stderr
    for bad in ("../escape", "a/b", "x" * 256, "tab\there"):
        p = virsh.run("vol-create-as", "p", bad, "1M", check=False)
        assert p.returncode == 1, bad
    p = virsh.run("vol-create-as", "p", "bad.qcow2", "1M", "--format", "qed", check=False)
    assert p.returncode == 1
    assert os.listdir(path) == []
    assert not (tmp_path / "escape").exists()


def test_symlink_in_pool_cannot_redirect_create(virsh, tmp_path):
    path = virsh.make_pool("p")
    victim = tmp_path / "victim"
    victim.write_bytes(b"precious")
    os.symlink(victim, path / "evil")
    p = virsh.run("vol-create-as", "p", "evil", "1M", "--allocation", "1M", check=False)
    assert p.returncode == 1 and "already in use" in p.stderr
    assert victim.read_bytes() == b"precious"


def test_encrypted_volume_without_its_secret_refused_clearly(virsh, tmp_path):
    # test_vol_encrypt.py covers encrypted volumes; here the secret is not defined.
    path = virsh.make_pool("p")
    xml = tmp_path / "enc.xml"
    xml.write_text("<volume><name>e.qcow2</name><capacity>1048576</capacity><target>"
                   "<format type='qcow2'/><encryption format='luks'>"
                   "<secret type='passphrase' uuid='0a81f5b2-8403-7b23-c8d6-21ccc2f80d6f'/>"
                   "</encryption></target></volume>")
    p = virsh.run("vol-create", "p", xml, check=False)
    assert p.returncode == 1 and "Secret not found" in p.stderr
    assert "0a81f5b2-8403-7b23-c8d6-21ccc2f80d6f" in p.stderr
    assert os.listdir(path) == []


def test_qcow2_without_compat_is_0_10_as_libvirt(virsh, qemu_img):
    # libvirt's dir pool passes compat=0.10 to qemu-img when the volume XML
    # names no compat (src/storage/storage_util.c); features imply 1.1.
    path = virsh.make_pool("p")
    virsh.run("vol-create-as", "p", "d.qcow2", "1M", "--format", "qcow2")
    assert qemu_info(qemu_img, path / "d.qcow2")["format-specific"]["data"]["compat"] == "0.10"


def test_iso_volume_is_a_plain_file(virsh, qemu_img):
    path = virsh.make_pool("p")
    virsh.run("vol-create-as", "p", "cd.iso", "2M", "--format", "iso")
    info = qemu_info(qemu_img, path / "cd.iso")
    assert info["format"] == "raw" and info["virtual-size"] == 2 * MiB


def test_concurrent_creates_of_one_name(virsh):
    from concurrent.futures import ThreadPoolExecutor
    path = virsh.make_pool("p")
    with ThreadPoolExecutor(8) as ex:
        results = list(ex.map(lambda i: virsh.run("vol-create-as", "p", "same", f"{i + 1}M", check=False),
                              range(8)))
    ok = [r for r in results if r.returncode == 0]
    assert len(ok) == 1
    assert all("already in use" in r.stderr for r in results if r.returncode != 0)
    # no hidden leftovers either: only vdisk's record of the volume formats
    assert sorted(os.listdir(path)) == [".vdisk-volumes", "same"]


def test_concurrent_creates_respect_overcommit_cap(virsh):
    from concurrent.futures import ThreadPoolExecutor
    path = virsh.make_pool("p", overcommit="1")
    sv = os.statvfs(path)
    quarter = sv.f_frsize * sv.f_blocks // 4 // MiB
    with ThreadPoolExecutor(8) as ex:
        results = list(ex.map(lambda i: virsh.run("vol-create-as", "p", f"v{i}", f"{quarter}M", check=False),
                              range(8)))
    assert sum(r.returncode == 0 for r in results) == 4  # the cap lets exactly four in
    assert sum(os.path.getsize(path / f) for f in os.listdir(path)) <= sv.f_frsize * sv.f_blocks


@pytest.mark.skipif(os.geteuid() != 0, reason="changing a file's owner needs root")
def test_owner_group_and_mode_applied(virsh, tmp_path):
    path = virsh.make_pool("p")
    xml = tmp_path / "v.xml"
    xml.write_text("<volume><name>owned</name><capacity>1048576</capacity><target>"
                   "<permissions><mode>0604</mode><owner>65534</owner><group>65533</group>"
                   "</permissions></target></volume>")
    virsh.run("vol-create", "p", xml)
    st = os.stat(path / "owned")
    assert (st.st_uid, st.st_gid, st.st_mode & 0o7777) == (65534, 65533, 0o604)


def test_progress_only_for_long_work_on_a_terminal(virsh):
    from pool_common import run_on_pty
    virsh.make_pool("p", zeroing="eager")
    thin = run_on_pty(virsh, "vol-create-as", "p", "thin", "64M")
    assert "%)" not in thin and "Vol thin created" in thin
    eager = run_on_pty(virsh, "vol-create-as", "p", "eager", "64M", "--allocation", "64M")
    assert "(100.00/100%)" in eager and "Vol eager created" in eager
    # Not on a terminal: no progress at all.
    assert "%" not in virsh.run("vol-create-as", "p", "eager2", "64M", "--allocation", "64M").stdout


def test_create_killed_half_way_leaves_nothing(virsh):
    import signal
    import subprocess
    import time
    from conftest import VDISK_VIRSH
    path = virsh.make_pool("p", zeroing="eager")
    p = subprocess.Popen([str(VDISK_VIRSH), "vol-create-as", "p", "big", "2G", "--allocation", "2G"],
                         env=virsh.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    # Wait until the hidden file is being filled, then kill the create.
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not any(
            f.startswith(".vdisk-tmp-") and os.path.getsize(path / f) > 0 for f in os.listdir(path)):
        time.sleep(0.01)
    p.send_signal(signal.SIGKILL)
    p.wait()
    assert "big" not in os.listdir(path)
    assert virsh.json("vol-list", "p", "--json") == []       # refresh reaps the hidden file
    assert os.listdir(path) == []
