"""What the vdisk backend module (plugin/libvirt/storage_backend_vdisk*.c)
does beyond a dir pool: its XML namespace checked at pool-define and kept
across a daemon restart (the pool's state file is parsed again, and
checkPool decides the pool is still active), wipe algorithms it refuses,
volumes a running QEMU holds (its image locks), and which files of the
pool directory are volumes.  Oracles: the real virsh, qemu-img and qemu-io
(whose process holds QEMU's image locks)."""
import filecmp
import os
import subprocess
import time
import xml.etree.ElementTree as ET

import pytest

from conftest import MiB, NS, qemu_img, qemu_info

CAP = 4 * MiB


def vol_names(pool):
    out = pool.virsh("vol-list", "--pool", pool.name).stdout
    return {line.split()[0] for line in out.splitlines()[2:] if line.strip()}


def provisioning(daemon, name):
    """{tag: text} of <vdisk:provisioning> in pool-dumpxml, or None."""
    root = ET.fromstring(daemon.virsh("pool-dumpxml", name).stdout)
    prov = root.find(f"{{{NS}}}provisioning")
    if prov is None:
        return None
    return {child.tag.split("}")[1]: child.text for child in prov}


def restart_storage(daemon):
    """Stop virtstoraged (SIGTERM, as a host reboot or upgrade would) and start
    it again on the same state; virtsecretd keeps running."""
    proc = daemon.procs["virtstoraged"]
    proc.terminate()
    proc.wait(timeout=30)
    daemon._start_one("virtstoraged")


def test_restart_keeps_pool_policy_and_volumes(daemon, vdisk_pool):
    pool = vdisk_pool(zeroing="eager", overcommit="1.5")
    pool.virsh("vol-create-as", pool.name, "a.qcow2", str(CAP), "--format", "qcow2")
    restart_storage(daemon)
    listing = daemon.virsh("pool-list", "--all").stdout
    line = next(l for l in listing.splitlines() if l.split()[:1] == [pool.name])
    assert line.split()[1] == "active"
    assert provisioning(daemon, pool.name) == {"zeroing": "eager", "overcommit": "1.5"}
    assert "a.qcow2" in vol_names(pool)
    assert qemu_info(pool.vol_path("a.qcow2"))["format"] == "qcow2"
    # the policy still applies: an eager thick raw volume is fully written
    pool.virsh("vol-create-as", pool.name, "t.raw", str(CAP), "--allocation", str(CAP))
    assert os.stat(pool.vol_path("t.raw")).st_blocks * 512 >= CAP


def test_policy_round_trips_with_its_defaults(daemon, vdisk_pool):
    """What was written comes back; the zeroing mode in effect shows even
    when the pool did not name one (lazy: DESIGN.md's default)."""
    pool = vdisk_pool(overcommit="2")
    assert provisioning(daemon, pool.name) == {"zeroing": "lazy", "overcommit": "2"}
    plain = vdisk_pool()
    assert provisioning(daemon, plain.name) == {"zeroing": "lazy"}
    inactive = ET.fromstring(daemon.virsh("pool-dumpxml", "--inactive", plain.name).stdout)
    assert inactive.findtext(f"{{{NS}}}provisioning/{{{NS}}}zeroing") == "lazy"
    eager = vdisk_pool(zeroing="eager")
    assert provisioning(daemon, eager.name) == {"zeroing": "eager"}


@pytest.mark.parametrize("body, message", [
    ("<vdisk:zeroing>fast</vdisk:zeroing>", "'fast' is not a zeroing mode"),
    ("<vdisk:overcommit>-1</vdisk:overcommit>", "is not a positive ratio"),
    ("<zeroing>eager</zeroing>", "belongs to the vdisk namespace"),
    ("<vdisk:thickness>9</vdisk:thickness>", "unknown element of the vdisk namespace"),
])
def test_define_refuses_bad_policy(daemon, pool_dir, body, message):
    xml = pool_dir / "bad.xml"
    xml.write_text(f"<pool type='vdisk' xmlns:vdisk='{NS}'>\n  <name>badpolicy</name>\n"
                   f"  <target><path>{pool_dir / 'bad'}</path></target>\n"
                   f"  <vdisk:provisioning>{body}</vdisk:provisioning>\n</pool>\n")
    p = daemon.virsh("pool-define", xml, check=False)
    assert p.returncode != 0
    assert message in p.stderr
    assert "badpolicy" not in daemon.virsh("pool-list", "--all").stdout


def test_build_no_overwrite_message(vdisk_pool):
    pool = vdisk_pool()
    pool.virsh("pool-destroy", pool.name)
    p = pool.virsh("pool-build", pool.name, "--no-overwrite", check=False)
    assert p.returncode != 0
    assert "already exists" in p.stderr
    # vdisk's message already says what virsh puts in front of the error code
    assert p.stderr.count("Requested operation is not valid") <= 1


@pytest.mark.parametrize("alg", ["nnsa", "dod", "bsi", "gutmann", "schneier",
                                 "pfitzner7", "pfitzner33"])
def test_wipe_multi_pass_algorithms(vdisk_pool, tmp_path, alg):
    """The daemon runs libvirt's multi-pass algorithms on a vdisk pool as on
    a dir pool (scrub's passes, in vdisk's code: tests/interop/test_vol_wipe.py
    compares the patterns with scrub's): every byte of the data is gone and
    the volume keeps its size."""
    pool = vdisk_pool()
    pool.virsh("vol-create-as", pool.name, "w.raw", str(CAP), "--format", "raw")
    data = tmp_path / "data"
    data.write_bytes(os.urandom(CAP))
    pool.virsh("vol-upload", "--pool", pool.name, "w.raw", data)
    p = pool.virsh("vol-wipe", "--pool", pool.name, "w.raw", "--algorithm", alg, check=False)
    assert p.returncode == 0, p.stderr
    after = pool.vol_path("w.raw").read_bytes()
    assert len(after) == CAP
    old = data.read_bytes()
    # Random data left in place would match at every 4 KiB block.
    assert all(after[i:i + 4096] != old[i:i + 4096] for i in range(0, CAP, 4096))


@pytest.fixture
def qemu_holding():
    """Start qemu-io on an image and keep it open (QEMU's image locks held)
    until the test ends."""
    procs = []

    def hold(path, fmt):
        # qemu-io holds its locks once the image is open: until then
        # `qemu-img info` (which takes a lock against writers, as qemu-img
        # does without -U) succeeds.  The check itself may meet qemu-io's
        # open, which then fails to get its write lock: start it again.
        deadline = time.monotonic() + 30
        while True:
            proc = subprocess.Popen(["qemu-io", "-f", fmt, str(path)], stdin=subprocess.PIPE,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            procs.append(proc)
            while subprocess.run(["qemu-img", "info", "--output=json", str(path)],
                                 capture_output=True).returncode == 0:
                if time.monotonic() > deadline:
                    pytest.fail(f"qemu-io did not lock {path}")
                if proc.poll() is not None:
                    break
                time.sleep(0.1)
            if proc.poll() is None:
                return proc
            why = proc.stderr.read().decode(errors="replace")
            if 'Failed to get "write" lock' not in why or time.monotonic() > deadline:
                pytest.fail(f"qemu-io did not lock {path}: {why}")

    yield hold
    for proc in procs:
        proc.stdin.close()
        proc.terminate()
        proc.wait(timeout=30)


def test_volume_in_use_is_not_written(vdisk_pool, tmp_path, qemu_holding):
    pool = vdisk_pool()
    pool.virsh("vol-create-as", pool.name, "busy.qcow2", str(CAP), "--format", "qcow2")
    path = pool.vol_path("busy.qcow2")
    before = path.read_bytes()
    qemu_holding(path, "qcow2")
    data = tmp_path / "data"
    data.write_bytes(os.urandom(MiB))
    for args in (["vol-upload", "--pool", pool.name, "busy.qcow2", data],
                 ["vol-wipe", "--pool", pool.name, "busy.qcow2"]):
        p = pool.virsh(*args, check=False)
        assert p.returncode != 0, args
        assert "in use" in p.stderr, args
    assert path.read_bytes() == before


def test_refresh_lists_regular_files_only(vdisk_pool, tmp_path):
    pool = vdisk_pool()
    qemu_img("create", "-f", "qcow2", pool.vol_path("made.qcow2"), str(CAP))
    os.symlink("/etc/hostname", pool.vol_path("link"))
    os.mkdir(pool.vol_path("subdir"))
    pool.virsh("pool-refresh", pool.name)
    assert vol_names(pool) == {"made.qcow2"}
    root = ET.fromstring(pool.vol_xml("made.qcow2"))
    assert root.find("target/format").get("type") == qemu_info(pool.vol_path("made.qcow2"))["format"]
    assert int(root.find("capacity").text) == qemu_info(pool.vol_path("made.qcow2"))["virtual-size"]
    assert root.find("key").text == str(pool.vol_path("made.qcow2"))


@pytest.mark.parametrize("fmt", ["raw", "qcow2"])
def test_create_from_grows_to_the_capacity_asked(vdisk_pool, fmt):
    pool = vdisk_pool()
    pool.virsh("vol-create-as", pool.name, "src.raw", str(CAP), "--format", "raw")
    subprocess.run(["qemu-io", "-f", "raw", "-c", f"write -P 0x5a 0 {MiB}",
                    str(pool.vol_path("src.raw"))], check=True, capture_output=True)
    xml = (f"<volume><name>big.{fmt}</name><capacity unit='bytes'>{2 * CAP}</capacity>"
           f"<target><format type='{fmt}'/></target></volume>")
    f = pool.path.parent / f"big-{fmt}.xml"
    f.write_text(xml)
    pool.virsh("vol-create-from", pool.name, f, "src.raw", "--inputpool", pool.name)
    info = qemu_info(pool.vol_path(f"big.{fmt}"))
    assert info["format"] == fmt
    assert info["virtual-size"] == 2 * CAP
    # the first CAP bytes are the source's, the rest reads as zeros
    qemu_img("compare", "-f", "raw", "-F", fmt, pool.vol_path("src.raw"),
             pool.vol_path(f"big.{fmt}"))
