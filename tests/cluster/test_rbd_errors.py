"""What goes wrong with RBD images: a cluster nobody answers for, wrong
credentials, missing pools and images, malformed names, an image another
client is writing, and a copy that loses its source half-way.  Each is a
clear error naming the image, within a bounded time, and leaves nothing
half-made behind."""
import json
import subprocess
import time

import pytest

from ceph import free_port
from conftest import COMMAND_TIMEOUT, VDISK_IO

MiB = 1 << 20


def test_unreachable_cluster_fails_within_the_default_timeout(ceph, vdisk):
    # A monitor address nobody listens on; no timeout in the name: vdisk's
    # own default bounds the wait (the subprocess timeout is only a guard).
    name = f"rbd:rbd/x:conf={ceph.conf}:mon_host=127.0.0.1\\:{free_port()}"
    p = vdisk("info", name, check=False, timeout=120)
    assert p.returncode != 0
    assert "cannot connect to the Ceph cluster" in p.stderr and "timed out" in p.stderr
    assert name in p.stderr


def test_wrong_credentials(ceph, vdisk, tmp_path):
    keyring = tmp_path / "keyring"
    keyring.write_text("[client.intruder]\nkey = AQBmV0pjAAAAABAAhD3Zl0VFTHVy3Z6nSBnyXw==\n")
    name = f"rbd:rbd/x:conf={ceph.conf}:id=intruder:auth_client_required=cephx:keyring={keyring}"
    p = vdisk("info", name, check=False)
    assert p.returncode != 0 and "authentication refused" in p.stderr


def test_missing_pool_image_and_conf(ceph, vdisk, tmp_path):
    p = vdisk("info", f"rbd:nopool/x:conf={ceph.conf}", check=False)
    assert p.returncode != 0 and "pool 'nopool' does not exist" in p.stderr
    p = vdisk("info", ceph.name("no-such-image"), check=False)
    assert p.returncode != 0 and "image 'no-such-image' does not exist in pool 'rbd'" in p.stderr
    p = vdisk("info", f"rbd:rbd/x:conf={tmp_path}/none.conf", check=False)
    assert p.returncode != 0 and "configuration file" in p.stderr


@pytest.mark.parametrize("name, why", [
    ("rbd:rbd", "no pool or no image"),
    ("rbd:/img", "no pool or no image"),
    ("rbd:a/b/c/d", "too many '/'"),
    ("rbd:rbd/img@", "empty snapshot name"),
    ("rbd:rbd/img:conf", "not KEY=VALUE"),
])
def test_malformed_names(vdisk, name, why):
    p = vdisk("info", name, check=False)
    assert p.returncode != 0 and why in p.stderr


def test_unknown_ceph_option_is_refused(ceph, vdisk):
    p = vdisk("info", ceph.name("x", no_such_option="1"), check=False)
    assert p.returncode != 0 and "'no_such_option' is not a Ceph option" in p.stderr


def test_create_over_an_existing_image_is_refused(ceph, rbd_image, vdisk, qemu_io):
    img = rbd_image()
    vdisk("create", "-f", "raw", ceph.name(img), "4M")
    qemu_io("-f", "raw", ceph.name(img), "-c", "write -P 0x42 0 4M")
    p = vdisk("create", "-f", "qcow2", ceph.name(img), "1G", check=False)
    assert p.returncode != 0 and "already exists" in p.stderr
    qemu_io("-f", "raw", ceph.name(img), "-c", "read -P 0x42 0 4M")   # untouched


class Holder:
    """vdisk-io keeping an image open read-write (commands on stdin)."""

    def __init__(self, name, fmt="raw"):
        self.p = subprocess.Popen([str(VDISK_IO), "-f", fmt, name], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.p.stdout.readline()
        assert line.strip() == "open", self.p.stderr.read()

    def close(self):
        self.p.stdin.close()
        assert self.p.wait(timeout=COMMAND_TIMEOUT) == 0


def test_second_writer_is_refused(ceph, rbd_image, vdisk, vdisk_io, qemu_io):
    img = rbd_image()
    vdisk("create", "-f", "raw", ceph.name(img), "4M")
    h = Holder(ceph.name(img))
    try:
        locks = json.loads(ceph.rbd("lock", "ls", "--format", "json", img).stdout)
        assert len(locks) == 1
        p = vdisk_io("-f", "raw", ceph.name(img), "-c", "write 0 4k", check=False)
        assert p.returncode != 0
        assert "image is in use" in p.stderr and "exclusive lock" in p.stderr
        # QEMU is kept out as well (its own words: the lock makes it read-only).
        p = qemu_io("-f", "raw", ceph.name(img), "-c", "write 0 4k", check=False)
        assert "Read-only file system" in p.stdout + p.stderr
        # Readers are welcome.
        vdisk_io("-r", "-f", "raw", ceph.name(img), "-c", "read 0 4k")
    finally:
        h.close()
    vdisk_io("-f", "raw", ceph.name(img), "-c", "write -P 0x9 0 4k")
    assert json.loads(ceph.rbd("lock", "ls", "--format", "json", img).stdout) in ([], {})


def test_a_qemu_writer_keeps_its_lock(ceph, rbd_image, vdisk, vdisk_io):
    """A running QEMU owns RBD's exclusive lock after its first write and
    would hand it over on request; vdisk never asks, it refuses."""
    img = rbd_image()
    vdisk("create", "-f", "raw", ceph.name(img), "4M")
    q = subprocess.Popen(["qemu-io", "-f", "raw", ceph.name(img)], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        q.stdin.write("write -P 0x12 0 4k\n")
        q.stdin.flush()
        line = ""
        while "wrote" not in line:
            line = q.stdout.readline()
            assert line, "qemu-io ended before writing"
        p = vdisk_io("-f", "raw", ceph.name(img), "-c", "write 0 4k", check=False)
        assert p.returncode != 0 and "image is in use" in p.stderr
    finally:
        q.stdin.close()
        q.wait(timeout=COMMAND_TIMEOUT)
    vdisk_io("-r", "-f", "raw", ceph.name(img), "-c", "read -P 0x12 0 4k")


def test_source_lost_mid_convert_removes_the_target(ceph, rbd_image, nbd_server, qemu_img, qemu_io,
                                                    tmp_path, vdisk_bin, nbd_client_built):
    """Network loss on the source side: nbdkit serves the source slowly
    (delay filter) and starts failing every read when the test creates a
    trigger file (error filter).  The copy must fail and the half-written
    RBD target must be gone."""
    src = tmp_path / "src.raw"
    qemu_img("create", "-q", "-f", "raw", src, "64M")
    qemu_io("-f", "raw", "-c", "write -P 0x61 0 64M", src)
    trigger = tmp_path / "cut"
    srv = nbd_server(["file", src, "rdelay=500ms", "error=EIO", "error-pread-rate=100%",
                      f"error-pread-file={trigger}"], filters=("error", "delay"))
    img = rbd_image()
    conv = subprocess.Popen([str(vdisk_bin), "convert", "-f", "raw", "-O", "raw", srv.uri, ceph.name(img)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while img not in ceph.rbd("ls").stdout.split() and conv.poll() is None:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    trigger.touch()
    out, err = conv.communicate(timeout=COMMAND_TIMEOUT)
    assert conv.returncode != 0, "a copy whose source failed was reported as done"
    assert "read failed" in err
    assert img not in ceph.rbd("ls").stdout.split()
