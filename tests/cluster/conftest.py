"""Fixtures of the multi-host tests: a single-node Ceph cluster on loopback,
NBD servers (nbdkit with vdisk's plugin, qemu-nbd) on unix sockets, and
the oracles (qemu-img / qemu-io with rbd: and nbd: names, rbd, nbdinfo,
nbdcopy, nbdsh).

Run with Debian's python3 (python3 -m pytest tests/cluster).  The build
directory defaults to <repo>/build (VDISK_BUILD_DIR to change it).

ceph        CephCluster (session, memstore, no mgr; tests/cluster/ceph.py):
            .conf, .name(image, **opts) -> "rbd:rbd/IMAGE:conf=...",
            .rbd(*args), .ceph(*args).  Started once, stopped by pid at the
            end, pass or fail.
rbd_image   factory: rbd_image() -> a fresh image name in pool rbd (not
            created); every image made by a test is removed after it.
nbd_server  factory: nbd_server(argv_tail, kind="nbdkit"|"qemu-nbd",
            filters=()) -> Server (.uri, .socket, .pid, .stop()); started on
            a unix socket in the test's tmp_path, stopped by pid after it.
vdisk, qemu_img, qemu_io, nbdinfo, nbdcopy, nbdsh
            runners: f(*args, check=True, timeout=...) -> CompletedProcess.

A missing package is a loud skip naming it (pytest -rs shows the reason);
a vdisk built without librbd / libnbd / the plugin while the packages are
installed is a failure.
"""
import os
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
import ceph as ceph_mod  # noqa: E402
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "pyutil"))
from qemu_pbkdf import retry_pbkdf_flake  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
BUILD = Path(os.environ.get("VDISK_BUILD_DIR", REPO / "build"))
VDISK_VIRSH = BUILD / "tools" / "vdisk-virsh"
VDISK_IO = BUILD / "tests" / "helpers" / "vdisk-io"
PLUGIN = BUILD / "nbdkit" / "nbdkit-vdisk-plugin.so"
# Any command of these tests: far above what it needs, only a hang guard.
COMMAND_TIMEOUT = 180


def run(argv, check=True, timeout=COMMAND_TIMEOUT, **kw):
    """Run a command, capturing text output; fail with its output on an
    unexpected exit status."""
    kw.setdefault("capture_output", True)
    kw.setdefault("text", True)
    # A run lost to QEMU's PBKDF2 calibration flake is repeated
    # (tests/pyutil/qemu_pbkdf.py).
    p = retry_pbkdf_flake(lambda: subprocess.run([str(a) for a in argv], timeout=timeout, **kw))
    if check and p.returncode != 0:
        pytest.fail(f"{' '.join(map(str, argv))} exited {p.returncode}\n"
                    f"stdout:\n{p.stdout}\nstderr:\n{p.stderr}")
    return p


def need(*programs, package):
    missing = [p for p in programs if not shutil.which(p)]
    if missing:
        pytest.skip(f"NOT TESTED: {', '.join(missing)} missing -- install Debian package(s) "
                    f"{package} (scripts/install-deps.sh)")


def runner(path):
    def _run(*args, check=True, **kw):
        return run([path, *args], check=check, **kw)
    return _run


@pytest.fixture(scope="session")
def vdisk_bin():
    if not VDISK_VIRSH.exists():
        pytest.fail(f"{VDISK_VIRSH} is missing: build first (scripts/build.sh)")
    return VDISK_VIRSH


@pytest.fixture
def vdisk(vdisk_bin):
    return runner(vdisk_bin)


@pytest.fixture
def vdisk_io():
    if not VDISK_IO.exists():
        pytest.fail(f"{VDISK_IO} is missing: build with -Dtests=true")
    return runner(VDISK_IO)


@pytest.fixture
def qemu_img():
    need("qemu-img", package="qemu-utils")
    return runner("qemu-img")


@pytest.fixture
def qemu_io():
    need("qemu-io", package="qemu-utils")
    return runner("qemu-io")


@pytest.fixture
def nbdinfo():
    need("nbdinfo", package="libnbd-bin")
    return runner("nbdinfo")


@pytest.fixture
def nbdcopy():
    need("nbdcopy", package="libnbd-bin")
    return runner("nbdcopy")


@pytest.fixture
def nbdsh():
    """nbdsh through Debian's python3 (the script's `env python3` may find
    another interpreter first on PATH, without the nbd module)."""
    need("nbdsh", package="python3-libnbd")

    def _run(*args, check=True, **kw):
        return run(["/usr/bin/python3", "-m", "nbd", *args], check=check, **kw)
    return _run


def built_with(vdisk_bin, protocol, probe_name):
    """Does this vdisk open `protocol` names?  (Its error says when not.)"""
    p = run([vdisk_bin, "info", probe_name], check=False, timeout=60)
    return "need vdisk built with" not in p.stderr


# ---- Ceph --------------------------------------------------------------------

@pytest.fixture(scope="session")
def ceph(tmp_path_factory, vdisk_bin):
    missing = ceph_mod.missing_programs()
    if missing:
        pytest.skip(f"NOT TESTED: Ceph programs missing ({', '.join(missing)}) -- install "
                    "ceph-mon ceph-osd ceph-common (scripts/install-deps.sh)")
    if not built_with(vdisk_bin, "rbd", "rbd:p/i:conf=/nonexistent"):
        pytest.fail("vdisk was built without librbd although Ceph is installed: "
                    "install librbd-dev librados-dev and rebuild (meson -Drbd=enabled)")
    with ceph_mod.CephCluster(tmp_path_factory.mktemp("ceph"), store="memstore") as c:
        yield c


@pytest.fixture
def rbd_image(ceph):
    made = []

    def _new(prefix="t"):
        name = f"{prefix}-{uuid.uuid4().hex[:10]}"
        made.append(name)
        return name
    yield _new
    for name in made:
        ceph.rbd("rm", "--no-progress", name, check=False)


# ---- NBD servers ---------------------------------------------------------------

class Server:
    def __init__(self, proc, socket, log, export=""):
        self.proc = proc
        self.pid = proc.pid
        self.socket = socket
        self.log = log
        self.uri = f"nbd+unix:///{export}?socket={socket}"

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode

    def stderr(self):
        return Path(self.log).read_text(errors="replace")


def _wait_socket(proc, sock, log, what):
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"{what} exited {proc.returncode}: {Path(log).read_text()}")
        if Path(sock).exists():
            return
        time.sleep(0.05)
    proc.kill()
    pytest.fail(f"{what} did not create {sock}")


@pytest.fixture
def nbd_server(tmp_path):
    servers = []

    def _start(args, kind="nbdkit", filters=(), export="", wait=True):
        sock = tmp_path / f"nbd{len(servers)}.sock"
        if kind == "nbdkit":
            need("nbdkit", package="nbdkit")
            if not PLUGIN.exists() and args and args[0] == PLUGIN:
                pytest.fail(f"{PLUGIN} is missing although nbdkit is installed: install "
                            "nbdkit-plugin-dev and rebuild")
            argv = ["nbdkit", "-f", "--exit-with-parent", "--unix", sock]
            argv += [f"--filter={f}" for f in filters] + list(args)
        else:
            need("qemu-nbd", package="qemu-utils")
            argv = ["qemu-nbd", "-t", "-k", sock, "-x", export] + list(args)
        log = tmp_path / f"nbd{len(servers)}.log"
        with open(log, "w") as errf:
            proc = subprocess.Popen([str(a) for a in argv], stdout=subprocess.DEVNULL,
                                    stderr=errf)
        s = Server(proc, sock, log, export)
        servers.append(s)
        if wait:
            _wait_socket(proc, sock, log, kind)
        return s
    yield _start
    for s in servers:
        s.stop()


@pytest.fixture
def plugin():
    """Path of nbdkit-vdisk-plugin.so (fails if nbdkit is there but not it)."""
    need("nbdkit", package="nbdkit")
    if not PLUGIN.exists():
        pytest.fail(f"{PLUGIN} is missing although nbdkit is installed: install "
                    "nbdkit-plugin-dev and rebuild")
    return PLUGIN


@pytest.fixture(scope="session")
def nbd_client_built(vdisk_bin):
    if not built_with(vdisk_bin, "nbd", "nbd+unix:///x?socket=/nonexistent"):
        pytest.fail("vdisk was built without libnbd although libnbd-bin is installed: "
                    "install libnbd-dev and rebuild (meson -Dnbd=enabled)")
    return True


# ---- content helpers -------------------------------------------------------------

def pattern_qcow2(qemu_img, qemu_io, path, size="64M", writes=None):
    """A qcow2 with data, a zero cluster and holes (qemu-io writes it)."""
    qemu_img("create", "-q", "-f", "qcow2", path, size)
    cmds = writes or ["write -P 0x5a 0 3M", "write -P 0xa5 20M 1M", "write -z 40M 2M",
                      "write -P 0x33 63M 512k"]
    args = []
    for c in cmds:
        args += ["-c", c]
    qemu_io("-f", "qcow2", *args, path)
    return path
