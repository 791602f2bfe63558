"""A single-node Ceph cluster on loopback, for tests and benchmarks.

One monitor and one OSD on 127.0.0.1, no cephx, pool 'rbd' ready for RBD
images; everything (config, data, logs, sockets, pid files) under one
directory.  store='memstore' (RAM, ~70 MB, no mgr) is enough for functional
tests; store='bluestore' keeps the data in a sparse file and starts a mgr,
for data-heavy runs and capacity figures.

    with CephCluster(workdir, store="memstore") as c:
        c.conf                  # path of its ceph.conf
        c.rbd("info", "rbd/x")  # CompletedProcess of rbd -c conf ...
        c.name("vm1")           # "rbd:rbd/vm1:conf=<conf>"

Every daemon is started with a pid file and stopped by that pid
(SIGTERM, then SIGKILL), pass or fail; stop() also runs at interpreter exit
for interrupted runs.  Facts behind the configuration: the project's notes
on shared storage (single-node Ceph starts in 11-25 s from Debian's
packages with exactly these settings).
"""
import atexit
import os
import shutil
import signal
import socket
import subprocess
import time
import uuid
from pathlib import Path

DAEMONS = ("ceph-mon", "ceph-osd", "monmaptool", "ceph", "rbd")
START_TIMEOUT = 120


def missing_programs(mgr=False):
    """Programs the cluster needs that are not installed."""
    need = list(DAEMONS) + (["ceph-mgr"] if mgr else [])
    return [p for p in need if not shutil.which(p)]


def free_port():
    """A TCP port on 127.0.0.1 nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class CephError(RuntimeError):
    pass


class CephCluster:
    def __init__(self, workdir, store="memstore", mgr=None, block_size=4 << 30):
        self.dir = Path(workdir)
        self.store = store
        self.mgr = (store == "bluestore") if mgr is None else mgr
        self.block_size = block_size
        self.port = free_port()
        self.conf = self.dir / "ceph.conf"
        self.pids = []          # pid files of the daemons we started
        self.fsid = str(uuid.uuid4())
        atexit.register(self.stop)

    # -- helpers ---------------------------------------------------------
    def env(self):
        e = dict(os.environ)
        e["CEPH_CONF"] = str(self.conf)
        return e

    def run(self, argv, check=True, timeout=60, input=None):
        p = subprocess.run([str(a) for a in argv], capture_output=True, text=True,
                           timeout=timeout, env=self.env(), input=input)
        if check and p.returncode != 0:
            raise CephError(f"{' '.join(map(str, argv))} exited {p.returncode}:\n"
                            f"{p.stdout}\n{p.stderr}\n{self.log_tail()}")
        return p

    def ceph(self, *args, check=True, timeout=60):
        return self.run(["ceph", "-c", self.conf, *args], check=check, timeout=timeout)

    def rbd(self, *args, check=True, timeout=120, input=None):
        return self.run(["rbd", "-c", self.conf, *args], check=check, timeout=timeout, input=input)

    def name(self, image, pool="rbd", **opts):
        """vdisk's / qemu-img's name of an image of this cluster."""
        s = f"rbd:{pool}/{image}:conf={self.conf}"
        for k, v in opts.items():
            s += f":{k}={v}"
        return s

    def log_tail(self, n=30):
        out = []
        for log in sorted((self.dir / "log").glob("*.log")) if (self.dir / "log").exists() else []:
            lines = log.read_text(errors="replace").splitlines()[-n:]
            out.append(f"--- {log.name}\n" + "\n".join(lines))
        return "\n".join(out)

    # -- configuration ---------------------------------------------------
    def write_conf(self):
        d = self.dir
        osd_store = {
            "memstore": "osd objectstore = memstore\nmemstore device bytes = 4294967296\n",
            "bluestore": ("osd objectstore = bluestore\n"
                          f"bluestore block path = {d}/osd/block.img\n"
                          "bluestore block create = true\n"
                          f"bluestore block size = {self.block_size}\n"
                          "bluestore block db create = false\n"
                          "bluestore block wal create = false\n"
                          # a small cache: the machine is shared
                          "bluestore cache size = 134217728\n"
                          "osd memory target = 536870912\n"),
        }[self.store]
        self.conf.write_text(f"""[global]
fsid = {self.fsid}
mon host = v2:127.0.0.1:{self.port}
mon initial members = a
public network = 127.0.0.0/8
auth cluster required = none
auth service required = none
auth client required = none
osd pool default size = 1
osd pool default min size = 1
osd pool default pg autoscale mode = off
mon allow pool size one = true
mon allow pool delete = true
mon warn on pool no redundancy = false
osd crush chooseleaf type = 0
ms bind ipv6 = false
ms bind ipv4 = true
run dir = {d}/run
log file = {d}/log/$name.log
admin socket = {d}/run/$name.asok
pid file = {d}/run/$name.pid
mon data = {d}/mon/$name
osd data = {d}/osd
mgr data = {d}/mgr/$name
keyring = {d}/keyring
{osd_store}
[mon]
mon data avail crit = 0
mon data avail warn = 0
[client]
# clients (vdisk, qemu-img, rbd) share no admin socket, and log aside
admin socket =
log file = {d}/log/client.log
[osd]
osd max object name len = 256
osd max object namespace len = 64
""")

    # -- lifecycle -------------------------------------------------------
    def start(self):
        d = self.dir
        for sub in ("run", "log", "mon", "osd", "mgr"):
            (d / sub).mkdir(parents=True, exist_ok=True)
        self.write_conf()
        c = self.conf
        self.run(["monmaptool", "--create", "--fsid", self.fsid, "--addv", "a",
                  f"[v2:127.0.0.1:{self.port}]", d / "monmap"])
        self.run(["ceph-mon", "-c", c, "--mkfs", "-i", "a", "--monmap", d / "monmap"])
        self.daemon(["ceph-mon", "-c", c, "-i", "a"], "mon.a")
        osd_uuid = str(uuid.uuid4())
        osd_id = self.ceph("osd", "create", osd_uuid).stdout.strip()
        self.run(["ceph-osd", "-c", c, "-i", osd_id, "--mkfs", "--osd-uuid", osd_uuid], timeout=120)
        self.ceph("osd", "crush", "add", f"osd.{osd_id}", "1.0", "host=localhost", "root=default")
        self.daemon(["ceph-osd", "-c", c, "-i", osd_id], f"osd.{osd_id}")
        if self.mgr:
            self.daemon(["ceph-mgr", "-c", c, "-i", "x"], "mgr.x")
        self.ceph("osd", "pool", "create", "rbd", "8", "8")
        self.rbd("pool", "init", "rbd", timeout=START_TIMEOUT)
        self.wait_osd_up()
        return self

    def daemon(self, argv, name):
        """Start a daemon (it forks; its pid file is in run/)."""
        self.run(argv)
        pidfile = self.dir / "run" / f"{name}.pid"
        deadline = time.monotonic() + 30
        while not pidfile.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        if not pidfile.exists():
            raise CephError(f"{name} wrote no pid file\n{self.log_tail()}")
        self.pids.append(pidfile)

    def wait_osd_up(self):
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            p = self.ceph("osd", "stat", check=False)
            if "1 up" in p.stdout and "1 in" in p.stdout:
                return
            time.sleep(0.5)
        raise CephError(f"the OSD did not come up\n{self.log_tail()}")

    def pid_of(self, name):
        return int((self.dir / "run" / f"{name}.pid").read_text().split()[0])

    def stop(self):
        """Stop every daemon we started, by pid; idempotent."""
        pidfiles, self.pids = self.pids, []
        pids = []
        for pf in reversed(pidfiles):
            try:
                pids.append(int(pf.read_text().split()[0]))
            except (OSError, ValueError, IndexError):
                continue
        for pid in pids:
            try:
                os.kill(pid, signal.SIGCONT)   # a test may have paused it
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + 15
        for pid in pids:
            while time.monotonic() < deadline and _alive(pid):
                time.sleep(0.1)
            if _alive(pid):
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass

    def __enter__(self):
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc):
        self.stop()


def _alive(pid):
    """Is pid a running (not zombie) process?"""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    if state == "Z":
        try:
            os.waitpid(pid, os.WNOHANG)   # ours: reap it
        except ChildProcessError:
            pass
        return False
    return True
