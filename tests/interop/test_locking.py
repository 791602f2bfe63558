"""Image locking against the real QEMU tools, both ways.

A real qemu-io (reading commands from a pipe, so it keeps the image open) or
qemu-nbd (on a unix socket) holds an image while vdisk-io / vdisk-virsh try
to open it; and vdisk-io (its stdin mode holds the image) holds an image
while qemu-img / qemu-io try.  Who may open what is QEMU's verdict: the
expectations below are what QEMU's tools do to each other.  That a holder
really holds its locks is checked in /proc/locks, not through vdisk.
"""
import os
import shutil
import subprocess
import time

import pytest

from conftest import VDISK_IO, run

IN_USE = "image is in use"


def ofd_bytes(path):
    """The OFD lock bytes (100..203) anyone holds on path, from /proc/locks."""
    ino = os.stat(path).st_ino
    held = set()
    with open("/proc/locks") as f:
        for line in f:
            parts = line.split()
            if "OFDLCK" not in parts:
                continue
            i = parts.index("OFDLCK")
            dev_ino, start, end = parts[i + 4], parts[i + 5], parts[i + 6]
            if int(dev_ino.rsplit(":", 1)[1]) == ino and end != "EOF":
                held.update(range(int(start), int(end) + 1))
    return held


class Holder:
    """A process keeping an image open (and locked) until closed."""

    def __init__(self, argv, path, expect_byte=100, stop_by_signal=False):
        self.path = path
        self.stop_by_signal = stop_by_signal
        self.p = subprocess.Popen([str(a) for a in argv], stdin=subprocess.PIPE,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 20
        while expect_byte not in ofd_bytes(path):
            if self.p.poll() is not None:
                pytest.fail(f"{argv[0]} exited {self.p.returncode}: {self.p.stderr.read()}")
            if time.monotonic() > deadline:
                self.close()
                pytest.fail(f"{argv[0]} did not lock {path} in time")
            time.sleep(0.05)

    def close(self):
        if self.p.poll() is None and self.stop_by_signal:
            self.p.terminate()
            self.p.wait(timeout=10)
        if self.p.poll() is None:
            try:
                self.p.stdin.close()
            except OSError:
                pass
            try:
                self.p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.p.terminate()
                self.p.wait(timeout=5)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def qemu_io_holder(path, fmt, *opts):
    return Holder(["qemu-io", *opts, "-f", fmt, path], path)


QEMU_SYSTEM = shutil.which("qemu-system-x86_64")


def vm_argv(path, fmt):
    """A real VM with the image as its virtio disk, created paused (-S): the
    disk is attached, and locked, as in any running guest."""
    return [QEMU_SYSTEM, "-machine", "q35,accel=tcg", "-m", "32", "-nodefaults",
            "-display", "none", "-S", "-monitor", "none", "-serial", "none",
            "-drive", f"file={path},format={fmt},if=none,id=d0",
            "-device", "virtio-blk-pci,drive=d0"]


def vm_holder(path, fmt):
    # The disk's permissions are settled when the device attaches it: wait
    # for its "write not shared" byte, not just the first lock.
    return Holder(vm_argv(path, fmt), path, expect_byte=201, stop_by_signal=True)


def vdisk_io_holder(path, fmt, *opts):
    if not VDISK_IO.exists():
        pytest.fail(f"{VDISK_IO} is missing: build first")
    return Holder([VDISK_IO, *opts, "-f", fmt, path], path)


@pytest.fixture
def qcow2_image(tmp_path, qemu_img):
    path = tmp_path / "disk.qcow2"
    qemu_img("create", "-q", "-f", "qcow2", path, "64M")
    run(["qemu-io", "-f", "qcow2", "-c", "write -P 0x5a 0 1M", path])
    return path


@pytest.fixture
def raw_image(tmp_path, qemu_img):
    path = tmp_path / "disk.raw"
    qemu_img("create", "-q", "-f", "raw", path, "16M")
    return path


def assert_in_use(p, path, shared=False):
    assert p.returncode != 0, p.stdout
    assert p.returncode > 0, f"died of signal {-p.returncode}"
    assert IN_USE in p.stderr and path.name in p.stderr, p.stderr
    lock = 'Failed to get shared "write" lock' if shared else 'Failed to get "write" lock'
    assert lock in p.stderr, p.stderr
    assert "Is another process using the image" in p.stderr, p.stderr   # QEMU's words
    assert "-U" in p.stderr, p.stderr


# ---- QEMU holds, vdisk tries ------------------------------------------------

def test_qemu_io_writer_holds(qcow2_image, vio, vdisk):
    with qemu_io_holder(qcow2_image, "qcow2"):
        assert {100, 101, 103, 201, 203} <= ofd_bytes(qcow2_image)
        assert_in_use(vio("-f", "qcow2", qcow2_image, "-c", "read 0 512", check=False), qcow2_image)
        assert_in_use(vio("-r", "-f", "qcow2", qcow2_image, "-c", "read 0 512", check=False),
                      qcow2_image, shared=True)
        assert_in_use(vdisk("info", qcow2_image, check=False), qcow2_image, shared=True)
        # -U: read-only inspection is allowed, as with qemu-img -U.
        vio("-r", "-U", "-f", "qcow2", qcow2_image, "-c", "read -P 0x5a 0 1M")
        assert "qcow2" in vdisk("info", "-U", qcow2_image).stdout


@pytest.mark.parametrize("cmd", [
    ["info", "IMG"], ["map", "IMG"], ["measure", "-O", "qcow2", "IMG"],
    ["bench", "-c", "10", "-q", "IMG"], ["compare", "IMG", "IMG"],
    ["convert", "-O", "raw", "IMG", "OUT"],
])
def test_every_command_honours_locks(qcow2_image, tmp_path, vdisk, cmd):
    """Each vdisk-virsh command that opens an image is refused on an image a
    writer holds, and allowed with -U."""
    out = tmp_path / "out.raw"
    subst = {"IMG": qcow2_image, "OUT": out}
    args = [subst.get(a, a) for a in cmd[1:]]
    with qemu_io_holder(qcow2_image, "qcow2"):
        p = vdisk(cmd[0], *args, check=False)
        assert_in_use(p, qcow2_image, shared=True)
        assert not out.exists()
        p = vdisk(cmd[0], "-U", *args, check=False)
        assert p.returncode == 0, p.stderr
    if out.exists():
        run(["qemu-img", "compare", "-f", "qcow2", "-F", "raw", qcow2_image, out])


def test_qemu_io_reader_holds(qcow2_image, vio, vdisk):
    with qemu_io_holder(qcow2_image, "qcow2", "-r"):
        assert {100, 201, 203} <= ofd_bytes(qcow2_image)
        assert_in_use(vio("-f", "qcow2", qcow2_image, "-c", "read 0 512", check=False), qcow2_image)
        vio("-r", "-f", "qcow2", qcow2_image, "-c", "read -P 0x5a 0 1M")
        vdisk("info", qcow2_image)


@pytest.mark.skipif(not shutil.which("qemu-nbd"), reason="qemu-nbd not installed")
def test_qemu_nbd_holds(qcow2_image, tmp_path, vio, vdisk):
    sock = tmp_path / "nbd.sock"
    with Holder(["qemu-nbd", "-k", sock, "-f", "qcow2", qcow2_image], qcow2_image):
        assert_in_use(vio("-f", "qcow2", qcow2_image, "-c", "write 0 512", check=False), qcow2_image)
        assert_in_use(vdisk("info", qcow2_image, check=False), qcow2_image, shared=True)
        vdisk("info", "-U", qcow2_image)


@pytest.mark.skipif(not shutil.which("qemu-nbd"), reason="qemu-nbd not installed")
def test_qemu_nbd_holds_backing(tmp_path, qemu_img, vio):
    """A writer of a backing file makes a write to the overlay refused too:
    the backing file is locked as QEMU locks a read-only backing node."""
    base = tmp_path / "base.qcow2"
    top = tmp_path / "top.qcow2"
    qemu_img("create", "-q", "-f", "qcow2", base, "16M")
    qemu_img("create", "-q", "-f", "qcow2", "-b", "base.qcow2", "-F", "qcow2", top)
    with Holder(["qemu-nbd", "-k", tmp_path / "s", "-f", "qcow2", base], base):
        p = vio("-f", "qcow2", top, "-c", "write 0 512", check=False)
        assert p.returncode == 1 and IN_USE in p.stderr and "base.qcow2" in p.stderr, p.stderr


# ---- vdisk holds, QEMU tries ------------------------------------------------

def test_vdisk_writer_holds(qcow2_image, qemu_img, qemu_io):
    with vdisk_io_holder(qcow2_image, "qcow2"):
        # Exactly the bytes qemu-io takes for the same open.
        assert ofd_bytes(qcow2_image) == {100, 101, 103, 201, 203}
        p = qemu_img("info", qcow2_image, check=False)
        assert p.returncode != 0 and 'Failed to get shared "write" lock' in p.stderr, p.stderr
        p = qemu_io("-f", "qcow2", "-c", "read 0 512", qcow2_image, check=False)
        assert p.returncode != 0 and 'Failed to get "write" lock' in p.stderr, p.stderr
        p = qemu_img("convert", "-O", "raw", qcow2_image, qcow2_image.parent / "x.raw", check=False)
        assert p.returncode != 0 and "lock" in p.stderr, p.stderr
        assert "file format: qcow2" in qemu_img("info", "-U", qcow2_image).stdout
    # Released at close: QEMU may write again, and the image is sound.
    qemu_io("-f", "qcow2", "-c", "read -P 0x5a 0 1M", qcow2_image)
    qemu_img("check", qcow2_image)


def test_vdisk_reader_holds(qcow2_image, qemu_img, qemu_io):
    with vdisk_io_holder(qcow2_image, "qcow2", "-r"):
        assert ofd_bytes(qcow2_image) == {100, 201, 203}
        p = qemu_io("-f", "qcow2", "-c", "write 0 512", qcow2_image, check=False)
        assert p.returncode != 0 and 'Failed to get "write" lock' in p.stderr, p.stderr
        qemu_img("info", qcow2_image)
        qemu_io("-r", "-f", "qcow2", "-c", "read -P 0x5a 0 1M", qcow2_image)


def test_vdisk_force_share_holds(qcow2_image, qemu_io):
    with vdisk_io_holder(qcow2_image, "qcow2", "-r", "-U"):
        assert ofd_bytes(qcow2_image) == {100}   # as qemu-io -r -U
        qemu_io("-f", "qcow2", "-c", "write -P 0x11 0 512", qcow2_image)


def test_vdisk_overlay_locks_backing(tmp_path, qemu_img, qemu_io):
    base = tmp_path / "base.qcow2"
    top = tmp_path / "top.qcow2"
    qemu_img("create", "-q", "-f", "qcow2", base, "16M")
    qemu_img("create", "-q", "-f", "qcow2", "-b", "base.qcow2", "-F", "qcow2", top)
    with vdisk_io_holder(top, "qcow2"):
        assert ofd_bytes(base) == {100, 201, 203}
        p = qemu_io("-f", "qcow2", "-c", "write 0 512", base, check=False)
        assert p.returncode != 0 and 'Failed to get "write" lock' in p.stderr, p.stderr
        qemu_img("info", base)


def test_vdisk_raw_writer(raw_image, qemu_img):
    """raw: qemu-io shares writes of raw images, so vdisk does too; but
    qemu-img convert (which does not share its source) is refused."""
    with vdisk_io_holder(raw_image, "raw"):
        assert ofd_bytes(raw_image) == {100, 101}
        qemu_img("info", "-f", "raw", raw_image)
        p = qemu_img("convert", "-f", "raw", "-O", "raw", raw_image, raw_image.parent / "x.raw",
                     check=False)
        assert p.returncode != 0 and 'Failed to get shared "write" lock' in p.stderr, p.stderr


def test_convert_onto_image_in_use(qcow2_image, tmp_path, vdisk, qemu_img):
    """Creating over an image another process has open is refused and leaves
    it untouched (qemu-img create/convert refuse it the same way)."""
    src = tmp_path / "src.raw"
    qemu_img("create", "-q", "-f", "raw", src, "1M")
    before = qcow2_image.read_bytes()
    with qemu_io_holder(qcow2_image, "qcow2"):
        p = qemu_img("create", "-f", "raw", qcow2_image, "1M", check=False)
        assert p.returncode != 0   # the oracle's verdict
        p = vdisk("convert", "-O", "qcow2", src, qcow2_image, check=False)
        assert p.returncode != 0 and IN_USE in p.stderr, p.stderr
        p = vdisk("create", "-f", "raw", qcow2_image, "1M", check=False)
        assert p.returncode != 0 and IN_USE in p.stderr, p.stderr
    assert qcow2_image.read_bytes() == before
    qemu_img("check", qcow2_image)


def test_force_share_refused_for_writes(qcow2_image, vio):
    p = vio("-U", "-f", "qcow2", qcow2_image, "-c", "write 0 512", check=False)
    assert p.returncode == 1 and "read-only" in p.stderr, p.stderr


# ---- two processes of one tool: vdisk against vdisk, judged by QEMU ----------

OPEN_MODES = {"rw": [], "ro": ["-r"], "ro-shared": ["-r", "-U"]}


@pytest.mark.parametrize("holder", OPEN_MODES)
@pytest.mark.parametrize("contender", OPEN_MODES)
def test_two_vdisk_processes_as_two_qemu_io(qcow2_image, qemu_io, vio, holder, contender):
    """A second vdisk-io opening an image a first one holds is let in or
    refused exactly as a second qemu-io is by a first qemu-io."""
    argv = [*OPEN_MODES[contender], "-f", "qcow2", "-c", "read -P 0x5a 0 512"]
    with qemu_io_holder(qcow2_image, "qcow2", *OPEN_MODES[holder]):
        qemu_allows = qemu_io(*argv, qcow2_image, check=False).returncode == 0
    with vdisk_io_holder(qcow2_image, "qcow2", *OPEN_MODES[holder]):
        p = vio(*argv, qcow2_image, check=False)
        if qemu_allows:
            assert p.returncode == 0, p.stderr
        else:
            assert_in_use(p, qcow2_image, shared=contender != "rw")
    # The holder's locks went with it: a writer gets in again.
    vio("-f", "qcow2", qcow2_image, "-c", "read -P 0x5a 0 512")


# ---- a real VM ---------------------------------------------------------------

@pytest.mark.skipif(not QEMU_SYSTEM, reason="qemu-system-x86_64 not installed")
@pytest.mark.parametrize("fmt", ["raw", "qcow2"])
def test_vm_holds(tmp_path, qemu_img, vio, vdisk, fmt):
    """A running VM's disk: vdisk may not write it or copy it (convert does
    not share its source), but may look at it -- a raw disk without -U, as
    qemu-img info may; a qcow2 disk only with -U."""
    img = tmp_path / f"vm.{fmt}"
    qemu_img("create", "-q", "-f", fmt, img, "16M")
    with vm_holder(img, fmt):
        assert {100, 101, 201} <= ofd_bytes(img)
        assert_in_use(vio("-f", fmt, img, "-c", "write 0 512", check=False), img)
        assert_in_use(vdisk("convert", "-f", fmt, "-O", "qcow2", img, tmp_path / "copy.qcow2",
                            check=False), img, shared=True)
        assert not (tmp_path / "copy.qcow2").exists()
        info = vdisk("info", "-f", fmt, img, check=False)
        oracle = qemu_img("info", "-f", fmt, img, check=False)
        assert (info.returncode == 0) == (oracle.returncode == 0), info.stderr + oracle.stderr
        vdisk("info", "-U", "-f", fmt, img)


@pytest.mark.skipif(not QEMU_SYSTEM, reason="qemu-system-x86_64 not installed")
@pytest.mark.parametrize("fmt", ["raw", "qcow2"])
def test_vm_refuses_image_vdisk_writes(tmp_path, qemu_img, fmt):
    img = tmp_path / f"vm.{fmt}"
    qemu_img("create", "-q", "-f", fmt, img, "16M")
    with vdisk_io_holder(img, fmt):
        p = subprocess.run(vm_argv(img, fmt), capture_output=True, text=True, timeout=60)
        assert p.returncode != 0, "the VM started on an image vdisk is writing"
        assert "lock" in p.stderr and "Is another process using the image" in p.stderr, p.stderr


def test_force_share_write_refused_like_qemu_img(qcow2_image, vdisk, qemu_img):
    """qemu-img bench -w -U is refused (force-share is for read-only opens);
    so is vdisk-virsh's."""
    oracle = qemu_img("bench", "-w", "-U", "-c", "1", qcow2_image, check=False)
    assert oracle.returncode != 0
    p = vdisk("bench", "-w", "-U", "-c", "1", qcow2_image, check=False)
    assert p.returncode > 0 and "read-only" in p.stderr, p.stderr
