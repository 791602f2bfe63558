"""vdisk pools on a shared filesystem (libvirt's netfs pools): a GlusterFS
volume served from a private network namespace (gluster.py), two FUSE
mounts of it acting as two hosts, A and B, each with its own vdisk
registry (VDISK_CONFIG_DIR) and its own pool on the volume.

Oracles: /proc/mounts (what is mounted, from where, with which options),
statvfs of the mount point, plain FUSE mounts made by the test, qemu-io
(QEMU's own image locks and reads), the bytes written.  Kernel NFS cannot
be tested here (no NFS client in this kernel): only the GlusterFS path is.
"""
import os
import subprocess
import time
from pathlib import Path

import pytest

import gluster as gluster_mod
from conftest import VDISK_IO, VDISK_VIRSH, run

LOCKED = 'Failed to get "write" lock'
IN_USE = "image is in use"


@pytest.fixture(scope="module")
def gl(tmp_path_factory):
    why = gluster_mod.not_testable()
    if why:
        pytest.skip(why)
    if not VDISK_VIRSH.exists() or not VDISK_IO.exists():
        pytest.fail("vdisk-virsh / vdisk-io missing: build first with -Dtests=true")
    with gluster_mod.Gluster(tmp_path_factory.mktemp("gluster")) as g:
        yield g


mounts_on = gluster_mod.mounts_on


def fuse_client_argv(mountpoint):
    """The argv of the glusterfs FUSE client serving mountpoint."""
    mountpoint = str(Path(mountpoint).resolve())
    for entry in Path("/proc").iterdir():
        try:
            argv = [a.decode() for a in (entry / "cmdline").read_bytes().split(b"\0") if a]
        except (OSError, ValueError):
            continue
        if argv and argv[0].endswith("glusterfs") and mountpoint in argv:
            return argv
    pytest.fail(f"no glusterfs client serves {mountpoint}")


class Host:
    """vdisk-virsh with its own registry, run inside the server's network
    namespace (its mounts are seen by everyone: only the network is
    shared with the namespace)."""

    def __init__(self, gl, tmp, name):
        self.gl = gl
        self.target = Path(tmp) / f"mnt-{name}"
        self.env = dict(os.environ, VDISK_CONFIG_DIR=str(Path(tmp) / f"registry-{name}"))
        gl.track(self.target)

    def run(self, *args, check=True):
        p = run([*self.gl.netns_prefix, VDISK_VIRSH, *args], check=False, env=self.env)
        if p.returncode < 0 or (check and p.returncode != 0):
            pytest.fail(f"vdisk-virsh {' '.join(map(str, args))} exited {p.returncode}\n"
                        f"stdout:\n{p.stdout}\nstderr:\n{p.stderr}")
        return p

    def fails(self, *args):
        p = self.run(*args, check=False)
        assert p.returncode == 1, f"vdisk-virsh {' '.join(map(str, args))}: {p.stdout}{p.stderr}"
        return p.stderr

    def path(self, vol):
        return self.target / vol


@pytest.fixture
def hosts(gl, tmp_path):
    """Host A: a pool from libvirt-style netfs XML; host B: one from
    pool-define-as.  Both built and started; destroyed after the test."""
    a, b = Host(gl, tmp_path, "a"), Host(gl, tmp_path, "b")
    xml = tmp_path / "shared.xml"
    xml.write_text(f"<pool type='netfs'>\n  <name>shared</name>\n  <source>\n"
                   f"    <host name='{gl.addr}'/>\n    <dir path='/{gl.volume}'/>\n"
                   f"    <format type='glusterfs'/>\n  </source>\n"
                   f"  <target><path>{a.target}</path></target>\n</pool>\n")
    a.run("pool-define", xml)
    b.run("pool-define-as", "shared", "netfs", "--source-host", gl.addr, "--source-path",
          f"/{gl.volume}", "--source-format", "glusterfs", "--target", b.target)
    try:
        for h in (a, b):
            h.run("pool-build", "shared")
            h.run("pool-start", "shared")
        yield a, b
    finally:
        for h in (a, b):
            if mounts_on(h.target):
                h.run("pool-destroy", "shared", check=False)


class Holder:
    """qemu-io or vdisk-io reading commands from a pipe: the image stays
    open, and locked, until close().  ready: text of a line that says the
    image is open."""

    def __init__(self, argv, first_command, ready):
        self.p = subprocess.Popen([str(a) for a in argv], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.p.stdin.write(first_command + "\n")
        self.p.stdin.flush()
        seen = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = self.p.stdout.readline()
            if not line:
                self.close()
                pytest.fail(f"{argv[0]} exited: {''.join(seen)}{self.p.stderr.read()}")
            seen.append(line)
            if ready in line:
                return
        self.close()
        pytest.fail(f"{argv[0]} did not open the image: {''.join(seen)}")

    def close(self):
        if self.p.poll() is None:
            try:
                self.p.stdin.close()
            except OSError:
                pass
            try:
                self.p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
        return self.p.returncode

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def assert_locked(p, name):
    assert p.returncode > 0, f"died of signal {-p.returncode}" if p.returncode < 0 else p.stdout
    assert LOCKED in p.stderr and name in p.stderr, p.stderr


# ---- mount and unmount -----------------------------------------------------------

def test_start_mounts_destroy_unmounts(gl, tmp_path):
    a = Host(gl, tmp_path, "a")
    a.run("pool-define-as", "shared", "vdisk", "--source-host", gl.addr, "--source-path",
          f"/{gl.volume}", "--source-format", "glusterfs", "--target", a.target)
    assert not a.target.exists()
    a.run("pool-build", "shared")                    # makes the mount point
    assert a.target.is_dir() and mounts_on(a.target) == []
    try:
        a.run("pool-start", "shared")
        [(source, fstype, opts)] = mounts_on(a.target)
        assert (source, fstype) == (gl.source, "fuse.glusterfs")
        assert {"nodev", "nosuid", "noexec"} <= opts          # libvirt's netfs options
        # ...and direct-io-mode=1 for GlusterFS, seen in the FUSE client's argv
        assert "--direct-io-mode=1" in fuse_client_argv(a.target)
        assert "running" in a.run("pool-info", "shared").stdout.split("State:")[1].split("\n")[0]

        # pool-info's capacity is the mounted filesystem's (statvfs oracle)
        xml = a.run("pool-dumpxml", "shared").stdout
        cap = int(xml.split("<capacity unit='bytes'>")[1].split("<")[0])
        st = os.statvfs(a.target)
        assert cap == st.f_blocks * st.f_frsize

        # a volume made through the pool lands on the shared volume: another
        # client of the volume sees it
        a.run("vol-create-as", "shared", "v1", "1M", "--format", "raw")
        other = tmp_path / "plain"
        gl.mount(other)
        try:
            assert (other / "v1").stat().st_size == 1 << 20
        finally:
            gl.umount(other)

        a.fails("pool-start", "shared")                       # already active
        a.run("pool-destroy", "shared")
        assert mounts_on(a.target) == []
        assert a.target.is_dir() and not (a.target / "v1").exists()

        # someone mounted it already: pool-start keeps that mount, adds none
        gl.mount(a.target)
        a.run("pool-start", "shared")
        assert len(mounts_on(a.target)) == 1
        assert "v1" in a.run("vol-list", "shared").stdout
        a.run("pool-destroy", "shared")
        assert mounts_on(a.target) == []
    finally:
        if mounts_on(a.target):
            a.run("pool-destroy", "shared", check=False)


def test_start_refused_cleanly(gl, tmp_path):
    """A volume the server does not have: pool-start fails naming the
    mount, nothing is mounted, the pool stays inactive."""
    a = Host(gl, tmp_path, "a")
    a.run("pool-define-as", "nope", "netfs", "--source-host", gl.addr, "--source-path",
          "/no-such-volume", "--source-format", "glusterfs", "--target", a.target)
    a.run("pool-build", "nope")
    err = a.fails("pool-start", "nope")
    assert f"cannot mount {gl.addr}:/no-such-volume on {a.target}" in err, err
    assert mounts_on(a.target) == []
    assert "inactive" in a.run("pool-list", "--all").stdout
    # a target that is not there: refused before any mount
    a.run("pool-define-as", "gone", "netfs", "--source-host", gl.addr, "--source-path",
          f"/{gl.volume}", "--source-format", "glusterfs", "--target", tmp_path / "missing")
    err = a.fails("pool-start", "gone")
    assert "missing" in err and "cannot open directory" in err, err
    assert mounts_on(tmp_path / "missing") == []


# ---- image locks across the two hosts ---------------------------------------------

def test_vdisk_writer_on_a_refuses_b(hosts):
    a, b = hosts
    a.run("vol-create-as", "shared", "disk.qcow2", "16M", "--format", "qcow2")
    assert b.path("disk.qcow2").exists()              # the same file, seen from host B
    with Holder([VDISK_IO, "-f", "qcow2", a.path("disk.qcow2")], "write -P 0x5a 0 64k", "open"):
        # (1) vdisk on host B
        p = run([VDISK_IO, "-f", "qcow2", b.path("disk.qcow2"), "-c", "write 0 512"], check=False)
        assert_locked(p, "disk.qcow2")
        assert IN_USE in p.stderr
        err = b.fails("vol-wipe", "disk.qcow2", "--pool", "shared")
        assert LOCKED in err or IN_USE in err, err
        # (2) qemu-io on host B
        p = run(["qemu-io", "-f", "qcow2", "-c", "write 0 512", b.path("disk.qcow2")], check=False)
        assert_locked(p, "disk.qcow2")
        # an image open on the mount: pool-destroy fails with umount's words
        # and leaves the pool running and mounted
        err = a.fails("pool-destroy", "shared")
        assert f"cannot unmount {a.target}: umount failed" in err, err
        assert len(mounts_on(a.target)) == 1
        assert "running" in a.run("pool-info", "shared").stdout
    # the writer gone, host B writes, and reads what host A wrote (QEMU's reader)
    run(["qemu-io", "-f", "qcow2", "-c", "read -P 0x5a 0 64k", "-c", "write -P 0x11 1M 4k",
         b.path("disk.qcow2")])


def test_qemu_writer_on_b_refuses_a(hosts):
    a, b = hosts
    a.run("vol-create-as", "shared", "guest.qcow2", "16M", "--format", "qcow2")
    with Holder(["qemu-io", "-f", "qcow2", b.path("guest.qcow2")], "write -P 0x22 0 64k",
                "wrote 65536/65536"):
        p = run([VDISK_IO, "-f", "qcow2", a.path("guest.qcow2"), "-c", "write 0 512"], check=False)
        assert_locked(p, "guest.qcow2")
        err = a.fails("vol-wipe", "guest.qcow2", "--pool", "shared")
        assert LOCKED in err or IN_USE in err, err
        p = run([VDISK_IO, "-r", "-f", "qcow2", a.path("guest.qcow2"), "-c", "read 0 512"],
                check=False)
        assert p.returncode == 1 and 'Failed to get shared "write" lock' in p.stderr, p.stderr
    run([VDISK_IO, "-f", "qcow2", a.path("guest.qcow2"), "-c", "read -P 0x22 0 64k"])
