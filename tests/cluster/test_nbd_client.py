"""Image commands on NBD exports (nbd+unix:///EXPORT?socket=PATH), served
by qemu-nbd and nbdkit on unix sockets.  Oracles: qemu-img with the same
URIs, nbdinfo, and the exported files themselves."""
import json
import socket
import subprocess
import time

import pytest

from conftest import COMMAND_TIMEOUT, pattern_qcow2

MiB = 1 << 20


@pytest.fixture(autouse=True)
def _built(nbd_client_built):
    pass


def no_filename(entries):
    return [{k: v for k, v in e.items() if k != "filename"} for e in entries]


def test_info_map_compare_on_a_qcow2_export(nbd_server, vdisk, qemu_img, qemu_io, tmp_path):
    src = pattern_qcow2(qemu_img, qemu_io, tmp_path / "src.qcow2")
    srv = nbd_server(["-r", "-f", "raw", "-e", "4", src], kind="qemu-nbd")
    ours = json.loads(vdisk("info", "--output=json", "-f", "qcow2", srv.uri).stdout)
    theirs = json.loads(qemu_img("info", "--output=json", "-f", "qcow2", srv.uri).stdout)
    assert ours["virtual-size"] == theirs["virtual-size"] == 64 * MiB
    assert "actual-size" not in ours and "actual-size" not in theirs
    assert "disk size: unavailable" in vdisk("info", "-f", "qcow2", srv.uri).stdout
    m_ours = json.loads(vdisk("map", "--output=json", "-f", "qcow2", srv.uri).stdout)
    m_theirs = json.loads(qemu_img("map", "--output=json", "-f", "qcow2", srv.uri).stdout)
    assert no_filename(m_ours) == no_filename(m_theirs)
    assert vdisk("compare", "-f", "qcow2", "-F", "qcow2", src, srv.uri).returncode == 0


def test_convert_from_and_into_exports(nbd_server, vdisk, qemu_img, qemu_io, tmp_path):
    src = pattern_qcow2(qemu_img, qemu_io, tmp_path / "src.qcow2")
    oracle = tmp_path / "oracle.raw"
    qemu_img("convert", "-O", "raw", src, oracle)
    # Into an export that held other data: every byte must be the source's.
    target = tmp_path / "target.raw"
    target.write_bytes(b"\xff" * (64 * MiB))
    srv = nbd_server(["-f", "raw", target], kind="qemu-nbd")
    vdisk("convert", "-O", "raw", src, srv.uri)
    srv.stop()
    assert target.read_bytes() == oracle.read_bytes()
    # And back out of an export into a qcow2.
    srv = nbd_server(["-r", "-f", "raw", "-e", "4", oracle], kind="qemu-nbd")
    back = tmp_path / "back.qcow2"
    vdisk("convert", "-f", "raw", "-O", "qcow2", srv.uri, back)
    qemu_img("check", back)
    assert "identical" in qemu_img("compare", back, oracle).stdout


def test_create_qcow2_in_an_export_and_check(nbd_server, vdisk, vdisk_io, qemu_img, tmp_path):
    disk = tmp_path / "disk.raw"
    qemu_img("create", "-q", "-f", "raw", disk, "64M")
    srv = nbd_server(["-f", "raw", "-e", "4", disk], kind="qemu-nbd")
    vdisk("create", "-f", "qcow2", srv.uri, "1G")
    vdisk_io("-f", "qcow2", srv.uri, "-c", "write -P 0x44 0 3M", "-c", "write -P 0x45 900M 64k")
    qemu_img("check", "-f", "qcow2", srv.uri)
    srv.stop()
    # The export's file is now that qcow2, as qemu-img sees it directly.
    qemu_img("check", disk)
    info = json.loads(qemu_img("info", "--output=json", disk).stdout)
    assert (info["format"], info["virtual-size"]) == ("qcow2", 1 << 30)


def test_exports_have_a_fixed_size(nbd_server, vdisk, vdisk_io, qemu_img, tmp_path):
    disk = tmp_path / "small.raw"
    qemu_img("create", "-q", "-f", "raw", disk, "4M")
    srv = nbd_server(["-f", "raw", "-e", "4", disk], kind="qemu-nbd")
    p = vdisk("resize", "-f", "raw", srv.uri, "8M", check=False)
    assert p.returncode != 0 and "cannot grow" in p.stderr
    p = vdisk("create", "-f", "raw", srv.uri, "8M", check=False)
    assert p.returncode != 0 and "too small" in p.stderr
    p = vdisk_io("-f", "raw", srv.uri, "-c", "write 4M 512", check=False)
    assert p.returncode != 0 and "past the end" in p.stderr


def test_read_only_export_refuses_writes(nbd_server, vdisk_io, qemu_img, tmp_path):
    disk = tmp_path / "ro.raw"
    qemu_img("create", "-q", "-f", "raw", disk, "1M")
    srv = nbd_server(["-r", "-f", "raw", disk], kind="qemu-nbd")
    p = vdisk_io("-f", "raw", srv.uri, "-c", "write 0 512", check=False)
    assert p.returncode != 0 and "read-only" in p.stderr


def test_no_server_is_an_immediate_error(vdisk, tmp_path):
    uri = f"nbd+unix:///x?socket={tmp_path}/nobody.sock"
    p = vdisk("info", uri, check=False, timeout=30)
    assert p.returncode != 0 and uri in p.stderr and "No such file" in p.stderr


def test_silent_server_times_out(vdisk, tmp_path):
    """A socket that accepts connections but never speaks NBD: the
    handshake deadline ends the wait with an error, not a hang."""
    path = tmp_path / "silent.sock"
    with socket.socket(socket.AF_UNIX) as s:
        s.bind(str(path))
        s.listen(8)
        p = vdisk("info", f"nbd+unix:///x?socket={path}", check=False, timeout=COMMAND_TIMEOUT)
    assert p.returncode != 0 and "did not complete the handshake" in p.stderr


def test_target_lost_mid_convert_is_reported(nbd_server, vdisk_bin, qemu_img, qemu_io, tmp_path):
    """Writes to the target start failing half-way (nbdkit's error filter,
    triggered by a file): the copy fails and says so."""
    src = pattern_qcow2(qemu_img, qemu_io, tmp_path / "src.qcow2", writes=["write -P 0x63 0 48M"])
    target = tmp_path / "target.raw"
    qemu_img("create", "-q", "-f", "raw", target, "64M")
    trigger = tmp_path / "cut"
    srv = nbd_server(["file", target, "wdelay=500ms", "error=EIO", "error-pwrite-rate=100%",
                      f"error-pwrite-file={trigger}"], filters=("error", "delay"))
    conv = subprocess.Popen([str(vdisk_bin), "convert", "-O", "raw", src, srv.uri],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    # Cut once the first data has arrived: the copy is under way.
    deadline = time.monotonic() + 60
    while target.stat().st_blocks == 0 and conv.poll() is None:
        assert time.monotonic() < deadline
        time.sleep(0.02)
    trigger.touch()
    out, err = conv.communicate(timeout=COMMAND_TIMEOUT)
    assert conv.returncode != 0, "a copy whose target failed was reported as done"
    assert srv.uri in err and "write failed" in err
