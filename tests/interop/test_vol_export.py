"""vdisk-virsh vol-export: a pool volume served over NBD by nbdkit with
vdisk's plugin, on a unix socket or a loopback TCP port.

Oracles: qemu-io and qemu-img reading and writing through the export
(`nbd+unix:` and `nbd://` names), nbdinfo, and the volume's file read by
qemu-io after the export stops.  Every nbdkit a test starts is stopped by
the pid vol-export printed (or its pid file), pass or fail.
"""
import os
import re
import shutil
import signal
import socket
import subprocess
import time

import pytest

from conftest import VDISK_VIRSH
from encrypt_common import PASS, image_opts, pwfile, retry_qemu, secret
from pool_common import virsh  # noqa: F401
from test_vol_encrypt import UUID_A, define_secret, enc_by_uuid, vol_xml

PID_RE = re.compile(r"\(nbdkit pid (\d+)\)")


@pytest.fixture
def nbdkit_bin():
    path = shutil.which("nbdkit")
    if not path:
        pytest.fail("nbdkit is missing (Debian package nbdkit): scripts/install-deps.sh installs it")
    return path


@pytest.fixture
def ex(virsh, tmp_path, nbdkit_bin):
    """virsh with a pool 'p'; the exports started are stopped at the end."""
    virsh.env["VDISK_LUKS_ITER_TIME"] = "10"
    virsh.pool = virsh.make_pool("p")
    virsh.pids = []
    yield virsh
    for pid in virsh.pids:
        stop(pid)


def stop(pid):
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    for _ in range(500):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.01)
    os.kill(pid, signal.SIGKILL)


def export(v, *args):
    """Run vol-export and remember the nbdkit it started."""
    p = v.run("vol-export", *args)
    m = PID_RE.search(p.stdout)
    assert m, p.stdout
    pid = int(m.group(1))
    v.pids.append(pid)
    return p, pid


def unix_uri(sock):
    return f"nbd+unix:///?socket={sock}"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_qcow2_volume_over_a_unix_socket(ex, tmp_path, qemu_io, qemu_img):
    ex.run("vol-create-as", "p", "v.qcow2", "64M", "--format", "qcow2")
    sock = tmp_path / "v.sock"
    p, pid = export(ex, "p", "v.qcow2", "--socket", sock, "--pidfile", tmp_path / "v.pid")
    assert unix_uri(sock) in p.stdout
    assert int((tmp_path / "v.pid").read_text()) == pid
    # The guest's view: 64 MiB of raw data, written through the export.
    info = qemu_img("info", "--output=json", unix_uri(sock)).stdout
    assert '"virtual-size": 67108864' in info
    qemu_io("-f", "raw", "-c", "write -P 0x5a 1M 2M", unix_uri(sock))
    stop(pid)
    qemu_io("-f", "qcow2", "-c", "read -P 0x5a 1M 2M", "-c", "read -P 0 0 1M",
            ex.pool / "v.qcow2")
    assert qemu_img("check", ex.pool / "v.qcow2").returncode == 0


def test_export_holds_the_image_lock(ex, tmp_path, qemu_io):
    ex.run("vol-create-as", "p", "v.qcow2", "8M", "--format", "qcow2")
    export(ex, "p", "v.qcow2", "--socket", tmp_path / "a.sock")
    second = ex.run("vol-export", "p", "v.qcow2", "--socket", tmp_path / "b.sock", check=False)
    assert second.returncode == 1
    assert "lock" in second.stderr and str(ex.pool / "v.qcow2") in second.stderr
    assert not (tmp_path / "b.sock").exists()
    q = qemu_io("-f", "qcow2", "-c", "write 0 64k", ex.pool / "v.qcow2", check=False)
    assert q.returncode != 0 and "lock" in q.stderr


def test_raw_volume_stays_raw_whatever_the_guest_wrote(ex, tmp_path, qemu_img):
    """A guest wrote a qcow2 header (naming a backing file) into its raw
    disk: the export serves the raw bytes, it does not open them as qcow2."""
    ex.run("vol-create-as", "p", "r.img", "8M", "--format", "raw")
    hdr = tmp_path / "hdr.qcow2"
    qemu_img("create", "-f", "qcow2", "-b", "/etc/passwd", "-F", "raw", hdr, "1G")
    with open(ex.pool / "r.img", "r+b") as f:
        f.write(hdr.read_bytes()[:4096])
    sock = tmp_path / "r.sock"
    export(ex, "p", "r.img", "--socket", sock)
    info = qemu_img("info", "-f", "raw", "--output=json", unix_uri(sock)).stdout
    assert '"virtual-size": 8388608' in info
    out = tmp_path / "out.raw"
    qemu_img("convert", "-f", "raw", "-O", "raw", unix_uri(sock), out)
    assert out.read_bytes()[:4096] == hdr.read_bytes()[:4096]


def test_encrypted_volume_passphrase_never_in_argv(ex, tmp_path, qemu_io):
    define_secret(ex, tmp_path, UUID_A, str(ex.pool / "l.img"))
    ex.run("vol-create", "p", vol_xml(tmp_path, "l.img", "raw", enc_by_uuid(UUID_A)))
    sock = tmp_path / "l.sock"
    _, pid = export(ex, "p", "l.img", "--socket", sock)
    cmdline = open(f"/proc/{pid}/cmdline", "rb").read()
    assert PASS not in cmdline and b"password=-" in cmdline
    qemu_io("-f", "raw", "-c", "write -P 0x33 0 1M", unix_uri(sock))
    stop(pid)
    pw = pwfile(tmp_path)
    p = retry_qemu(qemu_io, *secret(pw), "--image-opts", image_opts("luks", ex.pool / "l.img"),
                   "-c", "read -P 0x33 0 1M")
    assert "read 1048576/1048576" in p.stdout


def test_readonly_export_refuses_writes(ex, tmp_path, qemu_io):
    ex.run("vol-create-as", "p", "v.img", "8M")
    sock = tmp_path / "ro.sock"
    export(ex, "p", "v.img", "--socket", sock, "--readonly")
    q = qemu_io("-f", "raw", "-c", "write 0 64k", unix_uri(sock), check=False)
    assert q.returncode != 0 or "write failed" in q.stdout + q.stderr
    assert "Permission denied" in q.stderr or "write failed" in q.stdout + q.stderr
    qemu_io("-r", "-f", "raw", "-c", "read -P 0 0 64k", unix_uri(sock))
    with open(ex.pool / "v.img", "rb") as f:
        assert f.read(65536) == bytes(65536)


def test_loopback_tcp_port(ex, qemu_io):
    ex.run("vol-create-as", "p", "v.img", "4M")
    port = free_port()
    p, _ = export(ex, "p", "v.img", "--port", port, "--address", "127.0.0.1")
    uri = f"nbd://127.0.0.1:{port}/"
    assert uri in p.stdout
    qemu_io("-f", "raw", "-c", "write -P 7 0 4M", uri)
    qemu_io("-f", "raw", "-c", "read -P 7 0 4M", uri)


def test_foreground_runs_until_stopped(ex, tmp_path, qemu_io):
    ex.run("vol-create-as", "p", "v.img", "4M")
    sock = tmp_path / "fg.sock"
    proc = subprocess.Popen([str(VDISK_VIRSH), "vol-export", "p", "v.img", "--socket", str(sock),
                             "--foreground"],
                            env=ex.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        for _ in range(1000):
            if sock.exists() or proc.poll() is not None:
                break
            time.sleep(0.01)
        assert proc.poll() is None, proc.communicate()
        qemu_io("-f", "raw", "-c", "write -P 9 0 1M", unix_uri(sock))
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=60)
    assert unix_uri(sock) in out
    with open(ex.pool / "v.img", "rb") as f:
        assert f.read(1 << 20) == b"\x09" * (1 << 20)


@pytest.mark.parametrize("args,words", [
    ([], "exactly one of --socket PATH and --port N"),
    (["--socket", "s", "--port", "10809"], "exactly one of --socket PATH and --port N"),
    (["--socket", "s", "--address", "127.0.0.1"], "--address goes with --port"),
    (["--port", "0"], "from 1 to 65535"),
    (["--port", "70000"], "from 1 to 65535"),
    (["--port", "x"], "from 1 to 65535"),
])
def test_bad_arguments(ex, args, words):
    ex.run("vol-create-as", "p", "v.img", "4M")
    p = ex.run("vol-export", "p", "v.img", *args, check=False)
    assert p.returncode == 1 and words in p.stderr
    assert "nbdkit pid" not in p.stdout


def test_unknown_volume_and_pool(ex, tmp_path):
    p = ex.run("vol-export", "p", "nope", "--socket", tmp_path / "s", check=False)
    assert p.returncode == 1 and "failed to get vol 'nope'" in p.stderr
    p = ex.run("vol-export", "nopool", "nope", "--socket", tmp_path / "s", check=False)
    assert p.returncode == 1 and "failed to get pool 'nopool'" in p.stderr
