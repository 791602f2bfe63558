"""vol-wipe: libvirt's algorithm names; the data is gone (read back through
qemu-io / the file itself) and a qcow2 volume stays a valid, empty qcow2
(qemu-img check)."""
import os
import subprocess

import pytest

from pool_common import qemu_info, virsh  # noqa: F401

MiB = 1 << 20


@pytest.mark.parametrize("alg", [None, "zero", "random", "trim"])
def test_raw_wipe(virsh, qemu_io, alg):
    path = virsh.make_pool("p")
    virsh.run("vol-create-as", "p", "v", "8M")
    qemu_io("-f", "raw", "-c", "write -P 0xee 1M 1M", path / "v")
    args = ["vol-wipe", "v", "--pool", "p"] + (["--algorithm", alg] if alg else [])
    assert virsh.run(*args).stdout == "Vol v wiped\n\n"
    data = (path / "v").read_bytes()
    assert len(data) == 8 * MiB
    assert b"\xee" * 4096 not in data
    if alg != "random":
        assert data == bytes(8 * MiB)


def test_qcow2_wipe_keeps_a_valid_image(virsh, qemu_img, qemu_io):
    path = virsh.make_pool("p")
    virsh.run("vol-create-as", "p", "q.qcow2", "16M", "--format", "qcow2")
    qemu_io("-f", "qcow2", "-c", "write -P 0xee 0 4M", path / "q.qcow2")
    virsh.run("vol-wipe", "q.qcow2", "--pool", "p")
    qemu_img("check", path / "q.qcow2")
    assert qemu_info(qemu_img, path / "q.qcow2")["virtual-size"] == 16 * MiB
    qemu_io("-f", "qcow2", "-c", "read -P 0 0 16M", path / "q.qcow2")


def _scrubbed(tmp_path, data, alg):
    """What scrub(1) -- the program libvirt's dir pools run for these
    algorithms -- leaves in a file of these bytes (-S: without the
    signature it writes at the start of a file)."""
    f = tmp_path / f"oracle-{alg}"
    f.write_bytes(data)
    subprocess.run(["scrub", "-S", "-f", "-p", alg, str(f)], check=True, capture_output=True)
    return f.read_bytes()


@pytest.mark.parametrize("alg", ["nnsa", "dod", "bsi", "gutmann", "schneier", "pfitzner7", "pfitzner33"])
def test_multipass_algorithms_as_scrub(virsh, qemu_io, tmp_path, alg):
    """Every byte of the file is written, sparse parts too (scrub writes
    them all); the last pass is scrub's: the same bytes where it is a
    pattern, noise (not the old data, not zeros) where it is random."""
    path = virsh.make_pool("p")
    virsh.run("vol-create-as", "p", "v", "4M")
    qemu_io("-f", "raw", "-c", "write -P 0xee 1M 1M", path / "v")
    before = (path / "v").read_bytes()
    p = virsh.run("vol-wipe", "v", "--pool", "p", "--algorithm", alg)
    assert p.stdout == "Vol v wiped\n\n"
    data = (path / "v").read_bytes()
    oracle = _scrubbed(tmp_path, before, alg)
    assert len(data) == len(oracle) == 4 * MiB
    if len(set(oracle)) == 1:           # a pattern last: nnsa 00, dod ff, bsi 7f
        assert data == oracle
    else:                               # a random pass last
        assert b"\xee" * 4096 not in data and data[:MiB] != bytes(MiB)
        assert data != oracle
    assert os.stat(path / "v").st_blocks * 512 >= 4 * MiB     # the holes were written too


def test_unknown_algorithm_refused(virsh):
    path = virsh.make_pool("p")
    virsh.run("vol-create-as", "p", "v", "1M")
    (path / "v").write_bytes(b"\x01" * MiB)
    p = virsh.run("vol-wipe", "v", "--pool", "p", "--algorithm", "bogus", check=False)
    assert p.returncode == 1
    assert (path / "v").read_bytes() == b"\x01" * MiB


def test_symlink_not_wiped(virsh, tmp_path):
    path = virsh.make_pool("p")
    victim = tmp_path / "victim"
    victim.write_bytes(b"\x02" * 4096)
    os.symlink(victim, path / "link")
    p = virsh.run("vol-wipe", "link", "--pool", "p", check=False)
    assert p.returncode == 1
    assert victim.read_bytes() == b"\x02" * 4096


def test_thick_qcow2_stays_thick(virsh, qemu_img):
    path = virsh.make_pool("p")
    virsh.run("vol-create-as", "p", "t.qcow2", "16M", "--allocation", "16M", "--format", "qcow2")
    virsh.run("vol-wipe", "t.qcow2", "--pool", "p")
    qemu_img("check", path / "t.qcow2")
    assert os.stat(path / "t.qcow2").st_blocks * 512 >= 16 * MiB


def test_volume_in_use_by_qemu_is_not_written(virsh, vdisk):
    """qemu-io holds the image open for writing (as a running VM would):
    vol-wipe and vol-upload must refuse it, as QEMU's image locks say."""
    import subprocess
    path = virsh.make_pool("p")
    virsh.run("vol-create-as", "p", "busy.qcow2", "8M", "--format", "qcow2")
    holder = subprocess.Popen(["qemu-io", "-f", "qcow2", str(path / "busy.qcow2")],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        holder.stdin.write(b"write -P 0x42 0 64k\n")
        holder.stdin.flush()
        holder.stdout.readline()                    # the write happened: the image is open
        if vdisk("info", path / "busy.qcow2", check=False).returncode == 0:
            pytest.skip("this build's libvdisk does not take QEMU's image locks yet")
        before = (path / "busy.qcow2").read_bytes()
        p = virsh.run("vol-wipe", "busy.qcow2", "--pool", "p", check=False)
        assert p.returncode == 1 and "in use" in p.stderr
        p = virsh.run("vol-upload", "busy.qcow2", "/dev/null", "--pool", "p", check=False)
        assert p.returncode == 1 and "in use" in p.stderr
        assert (path / "busy.qcow2").read_bytes() == before
    finally:
        holder.stdin.close()
        holder.wait()
