"""A one-brick GlusterFS volume served from a private network namespace,
for the tests of pools on shared filesystems (no tests here).

GlusterFS 10 refuses bricks on loopback addresses, so the test makes its
own namespace with a veth pair: the server end (ADDR, a private address)
inside, the other end up but without an address, so that nothing of the
namespace is reachable from the host's network.  glusterd and the brick
daemon (glusterfsd) run inside it; clients reach it with
`nsenter --net=/run/netns/NS` (not `ip netns exec`, whose private mount
namespace would hide their FUSE mounts from the rest of the test).

Every daemon is stopped by pid (glusterd's and the brick's pid files, the
FUSE clients found by their mount points) and the namespace removed, pass
or fail.
"""
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

PROGRAMS = ("glusterd", "gluster", "mount.glusterfs", "glusterfs", "nsenter", "ip")
VOLUME = "vdiskvol"
PORT = 24007


def missing_programs():
    missing = [p for p in PROGRAMS if not shutil.which(p)]
    if not os.path.exists("/dev/fuse"):
        missing.append("/dev/fuse")
    return missing


def not_testable():
    """Why the GlusterFS tests cannot run here, as a skip reason; None when they can."""
    missing = missing_programs()
    if missing:
        return (f"NOT TESTED: GlusterFS programs missing ({', '.join(missing)}) -- install "
                "glusterfs-server glusterfs-client (scripts/install-deps.sh)")
    if os.geteuid() != 0:
        return "NOT TESTED: network namespaces and FUSE mounts need root"
    return None


def mounts_on(target):
    """(source, fstype, options) of every mount on target, from /proc/mounts."""
    target = str(Path(target).resolve())
    with open("/proc/mounts") as f:
        return [(p[0], p[2], set(p[3].split(","))) for p in (line.split() for line in f)
                if p[1] == target]


def _run(argv, check=True, timeout=120):
    p = subprocess.run([str(a) for a in argv], capture_output=True, text=True, timeout=timeout)
    if check and p.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, argv))} exited {p.returncode}:\n"
                           f"{p.stdout}{p.stderr}")
    return p


def _pid_from(path):
    try:
        return int(Path(path).read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def _alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False


def _stop_pid(pid, timeout=15):
    if not pid or not _alive(pid):
        return
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while _alive(pid) and time.monotonic() < deadline:
        try:                                  # reap it if it is our child
            os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            pass
        time.sleep(0.05)
    if _alive(pid):
        os.kill(pid, signal.SIGKILL)


class Gluster:
    """Use as a context manager: .ns, .addr, .volume, .source ("ADDR:/VOL"),
    .netns_prefix (argv prefix to run a client in the namespace),
    .mount(dir) / .umount(dir) for a plain client mount."""

    def __init__(self, workdir):
        self.dir = Path(workdir)
        tag = f"{os.getpid() % 100000}"
        self.ns = f"vdisk-gl-{tag}"
        self.veth = (f"vdgl{tag}a", f"vdgl{tag}b")
        # a private /30 chosen by pid, unlikely to meet another test's
        self.addr = f"10.{200 + os.getpid() % 50}.{os.getpid() % 250}.2"
        self.volume = VOLUME
        self.source = f"{self.addr}:/{VOLUME}"
        self.netns_prefix = ["nsenter", f"--net=/run/netns/{self.ns}"]
        self.sock = self.dir / "glusterd.socket"
        self.mountpoints = set()
        # from the mount table: a directory bind-mounted on itself (as `ip
        # netns add` does to /run/netns) has the device of its parent, so
        # os.path.ismount does not see it
        self.netns_dir_was_mounted = bool(mounts_on("/run/netns"))

    def __enter__(self):
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc):
        self.stop()

    def gluster(self, *args):
        return _run(["gluster", "--mode=script", f"--glusterd-sock={self.sock}",
                     f"--log-file={self.dir / 'cli.log'}", *args])

    def _start(self):
        for sub in ("glusterd", "run", "brick"):
            (self.dir / sub).mkdir(parents=True, exist_ok=True)
        a, b = self.veth
        _run(["ip", "netns", "add", self.ns])
        _run(["ip", "link", "add", a, "type", "veth", "peer", "name", b])
        _run(["ip", "link", "set", b, "netns", self.ns])
        _run(["ip", "link", "set", a, "up"])          # carrier only: no address outside
        # not `ip -n`: it also makes / a slave mount, which fails where /
        # is no mount point (a chroot)
        inside = [*self.netns_prefix, "ip"]
        _run([*inside, "addr", "add", f"{self.addr}/30", "dev", b])
        _run([*inside, "link", "set", b, "up"])
        _run([*inside, "link", "set", "lo", "up"])
        vol = self.dir / "glusterd.vol"
        vol.write_text("volume management\n"
                       "    type mgmt/glusterd\n"
                       f"    option working-directory {self.dir / 'glusterd'}\n"
                       f"    option run-directory {self.dir / 'run'}\n"
                       f"    option glusterd-sockfile {self.sock}\n"
                       "    option transport-type socket\n"
                       f"    option transport.socket.bind-address {self.addr}\n"
                       f"    option transport.socket.listen-port {PORT}\n"
                       "    option ping-timeout 0\n"
                       "    option event-threads 1\n"
                       "end-volume\n")
        _run([*self.netns_prefix, "glusterd", "-f", vol, "-p", self.dir / "glusterd.pid",
              "-S", self.dir / "glusterd-self.socket", f"--log-file={self.dir / 'glusterd.log'}"])
        deadline = time.monotonic() + 60
        while True:         # glusterd daemonizes before it listens
            p = _run(["gluster", "--mode=script", f"--glusterd-sock={self.sock}",
                      f"--log-file={self.dir / 'cli.log'}", "volume", "info"], check=False)
            if p.returncode == 0:
                break
            if time.monotonic() > deadline:
                log = (self.dir / "glusterd.log").read_text(errors="replace").splitlines()
                raise RuntimeError(f"glusterd did not answer: {p.stdout}{p.stderr}\n"
                                   + "\n".join(log[-20:]))
            time.sleep(0.2)
        # force: the brick is on the root filesystem
        self.gluster("volume", "create", VOLUME, f"{self.addr}:{self.dir / 'brick'}", "force")
        self.gluster("volume", "start", VOLUME)

    def mount(self, mountpoint):
        """A plain FUSE client mount, as another host would have."""
        Path(mountpoint).mkdir(parents=True, exist_ok=True)
        self.track(mountpoint)
        _run([*self.netns_prefix, "mount", "-t", "glusterfs", self.source, mountpoint])

    def track(self, mountpoint):
        """Remember a mount point to clean up (vdisk's pool mounts too)."""
        self.mountpoints.add(str(Path(mountpoint).resolve()))

    def umount(self, mountpoint):
        _run(["umount", mountpoint])

    def _fuse_client_pids(self):
        """The glusterfs client processes serving our mount points."""
        pids = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                argv = (entry / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if argv and argv[0].endswith(b"glusterfs") and \
                    any(a.decode(errors="replace") in self.mountpoints for a in argv):
                pids.append(int(entry.name))
        return pids

    def _mounted(self):
        with open("/proc/self/mounts") as f:
            return [line.split()[1] for line in f if line.split()[1] in self.mountpoints]

    def stop(self):
        """Everything this fixture (or a test) started, by pid; the namespace."""
        for mp in self._mounted():
            _run(["umount", mp], check=False)
        for mp in self._mounted():                   # a client still busy: detach it
            _run(["umount", "-l", mp], check=False)
        for pid in self._fuse_client_pids():
            _stop_pid(pid)
        for pidfile in (self.dir / "run").glob("vols/*/*.pid"):
            _stop_pid(_pid_from(pidfile))
        _stop_pid(_pid_from(self.dir / "glusterd.pid"))
        _run(["ip", "link", "del", self.veth[0]], check=False)
        _run(["ip", "netns", "del", self.ns], check=False)
        # `ip netns add` bind-mounts /run/netns on itself the first time:
        # undo that when it was not so before and no other namespace is left
        if not self.netns_dir_was_mounted and mounts_on("/run/netns") and \
                not any(Path("/run/netns").iterdir()):
            _run(["umount", "/run/netns"], check=False)
        # glusterd names the brick's log after the brick path, under the
        # system's log directory (no option moves it)
        # (and each FUSE client's, after its mount point): ours go with us
        brick = str(self.dir / "brick").strip("/").replace("/", "-")
        Path(f"/var/log/glusterfs/bricks/{brick}.log").unlink(missing_ok=True)
        for mp in self.mountpoints:
            Path(f"/var/log/glusterfs/{mp.strip('/').replace('/', '-')}.log").unlink(missing_ok=True)
