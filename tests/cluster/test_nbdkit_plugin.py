"""nbdkit-vdisk-plugin: images exported over NBD on unix sockets.
Oracles: qemu-nbd serving the same image (nbdinfo --map), qemu-img /
qemu-io (convert, check, compare, and the same writes applied directly),
nbdcopy, nbdsh, rbd."""
import json
import shutil
import subprocess

import pytest

from conftest import pattern_qcow2, run

MiB = 1 << 20
PASS = b"vdisk nbdkit passphrase"


def chain(qemu_img, qemu_io, tmp_path):
    """base.qcow2 <- top.qcow2, data in both layers, a zero cluster on top."""
    base = pattern_qcow2(qemu_img, qemu_io, tmp_path / "base.qcow2",
                         writes=["write -P 1 0 4M", "write -P 2 20M 1M", "write -P 3 60M 64k"])
    top = tmp_path / "top.qcow2"
    qemu_img("create", "-q", "-f", "qcow2", "-b", base, "-F", "qcow2", top)
    qemu_io("-f", "qcow2", top, "-c", "write -P 4 2M 4M", "-c", "write -z 20M 512k")
    return top


def test_qcow2_chain_export_matches_qemu_nbd(plugin, nbd_server, qemu_img, qemu_io, nbdinfo, nbdcopy,
                                             tmp_path):
    top = chain(qemu_img, qemu_io, tmp_path)
    srv = nbd_server([plugin, top, "format=qcow2", "readonly=true"])
    ours = nbdinfo("--map", srv.uri).stdout
    info = json.loads(nbdinfo("--json", srv.uri).stdout)["exports"][0]
    for cap in ("can_multi_conn", "can_flush", "can_fua", "can_zero", "can_trim"):
        assert cap in info
    copy = tmp_path / "copy.raw"
    nbdcopy(srv.uri, copy)
    srv.stop()
    ref = nbd_server(["-r", "-f", "qcow2", top], kind="qemu-nbd")
    assert ours == nbdinfo("--map", ref.uri).stdout
    ref.stop()
    oracle = tmp_path / "oracle.raw"
    qemu_img("convert", "-O", "raw", top, oracle)
    assert copy.read_bytes() == oracle.read_bytes()


def test_writes_through_the_export_leave_a_clean_image(plugin, nbd_server, qemu_img, qemu_io, tmp_path):
    top = chain(qemu_img, qemu_io, tmp_path)
    mirror = tmp_path / "mirror.qcow2"
    shutil.copy(top, mirror)
    ops = ["write -P 0x51 1M 3M", "write -f -P 0x52 30M 64k", "write -z 2M 1M", "write -z -u 61M 2M",
           "discard 3M 512k", "write -P 0x53 63M 1M", "flush"]
    args = [a for op in ops for a in ("-c", op)]
    srv = nbd_server([plugin, top, "format=qcow2"])
    qemu_io("-f", "raw", srv.uri, *args)
    srv.stop()
    qemu_io("-f", "qcow2", mirror, *args)
    qemu_img("check", top)
    assert "identical" in qemu_img("compare", top, mirror).stdout


def test_nbdsh_zero_trim_flush_fua(plugin, nbd_server, qemu_img, qemu_io, nbdsh, tmp_path):
    disk = tmp_path / "disk.qcow2"
    qemu_img("create", "-q", "-f", "qcow2", disk, "16M")
    srv = nbd_server([plugin, disk, "format=qcow2"])
    script = """
h.pwrite(b"\\x71" * 65536, 0, nbd.CMD_FLAG_FUA)
h.pwrite(b"\\x72" * 1048576, 1048576)
h.zero(65536, 1048576, nbd.CMD_FLAG_NO_HOLE)
h.zero(65536, 1114112)
h.trim(65536, 2031616)
h.flush()
assert h.pread(4, 1048576) == bytes(4)
assert h.pread(4, 1179648) == b"\\x72" * 4
"""
    nbdsh("-u", srv.uri, "-c", script)
    srv.stop()
    qemu_img("check", disk)
    qemu_io("-f", "qcow2", disk, "-c", "read -P 0x71 0 64k", "-c", "read -P 0 1M 128k",
            "-c", "read -P 0x72 1152k 832k")


def test_the_image_lock_is_held_for_the_whole_export(plugin, nbd_server, qemu_img, qemu_io, vdisk_io,
                                                      tmp_path):
    disk = tmp_path / "busy.qcow2"
    qemu_img("create", "-q", "-f", "qcow2", disk, "16M")
    srv = nbd_server([plugin, disk, "format=qcow2"])
    # No client is connected: the server itself holds the image.
    p = qemu_io("-f", "qcow2", disk, "-c", "write 0 4k", check=False)
    assert p.returncode != 0 and "lock" in p.stderr
    p = vdisk_io("-f", "qcow2", disk, "-c", "write 0 4k", check=False)
    assert p.returncode != 0 and "image is in use" in p.stderr
    srv.stop()
    qemu_io("-f", "qcow2", disk, "-c", "write 0 4k")


def test_luks_with_a_password_file(plugin, nbd_server, qemu_img, qemu_io, nbdcopy, tmp_path):
    pw = tmp_path / "pw"
    pw.write_bytes(PASS)
    disk = tmp_path / "disk.luks"
    sec = ["--object", f"secret,id=s0,file={pw}"]
    qemu_img("create", "-q", "-f", "luks", *sec, "-o", "key-secret=s0,iter-time=10", disk, "8M")
    opts = f"driver=luks,file.filename={disk},key-secret=s0"
    qemu_io(*sec, "--image-opts", opts, "-c", "write -P 0x5c 1M 2M")
    srv = nbd_server([plugin, disk, "format=luks", f"password=+{pw}", "readonly=true"])
    copy = tmp_path / "copy.raw"
    nbdcopy(srv.uri, copy)
    srv.stop()
    oracle = tmp_path / "oracle.raw"
    qemu_img("convert", *sec, "--image-opts", opts, "-O", "raw", oracle)
    assert copy.read_bytes() == oracle.read_bytes()
    # A wrong passphrase: nbdkit refuses to start, saying why.
    bad = tmp_path / "bad"
    bad.write_bytes(b"wrong")
    p = run(["nbdkit", "-f", "--unix", tmp_path / "x.sock", plugin, disk, "format=luks",
             f"password=+{bad}"], check=False, timeout=60)
    assert p.returncode != 0 and str(disk) in p.stderr


def test_iso_is_exported_read_only(plugin, nbd_server, nbdinfo, nbdcopy, nbdsh, tmp_path):
    if not shutil.which("xorriso"):
        pytest.skip("NOT TESTED: xorriso missing -- install Debian package xorriso")
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "hello.txt").write_text("hello over NBD\n" * 1000)
    iso = tmp_path / "cd.iso"
    run(["xorriso", "-as", "mkisofs", "-quiet", "-J", "-R", "-o", iso, tree])
    srv = nbd_server([plugin, iso])     # format probed; read-only without being asked
    info = json.loads(nbdinfo("--json", srv.uri).stdout)["exports"][0]
    assert info["is_read_only"] is True
    copy = tmp_path / "copy.iso"
    nbdcopy(srv.uri, copy)
    assert copy.read_bytes() == iso.read_bytes()
    p = nbdsh("-u", srv.uri, "-c", "h.pwrite(b'x' * 512, 0)", check=False)
    assert p.returncode != 0 and "does not support write" in p.stderr


def test_rbd_image_export(plugin, nbd_server, ceph, rbd_image, vdisk, vdisk_io, qemu_io, tmp_path):
    img = rbd_image()
    vdisk("create", "-f", "raw", ceph.name(img), "16M")
    srv = nbd_server([plugin, ceph.name(img), "format=raw"])
    # The export holds RBD's exclusive lock: another writer is refused.
    locks = json.loads(ceph.rbd("lock", "ls", "--format", "json", img).stdout)
    assert len(locks) == 1
    p = vdisk_io("-f", "raw", ceph.name(img), "-c", "write 0 4k", check=False)
    assert p.returncode != 0 and "image is in use" in p.stderr
    qemu_io("-f", "raw", srv.uri, "-c", "write -P 0x6d 4M 1M", "-c", "write -z 5M 1M")
    srv.stop()
    out = tmp_path / "rbd.raw"
    ceph.rbd("export", "--no-progress", img, out)
    data = out.read_bytes()
    assert data[4 * MiB:5 * MiB] == b"\x6d" * MiB and data[5 * MiB:6 * MiB] == bytes(MiB)


@pytest.mark.parametrize("args, message", [
    (["nosuch=1"], "unknown parameter 'nosuch'"),
    ([], "No such file"),
    (["force-share=true"], "needs readonly=true"),
])
def test_bad_configuration_is_refused(plugin, tmp_path, args, message):
    disk = tmp_path / "missing.qcow2"
    p = run(["nbdkit", "-f", "--unix", tmp_path / "x.sock", plugin, disk, *args], check=False, timeout=60)
    assert p.returncode != 0 and message in p.stderr
