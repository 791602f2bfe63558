"""Fixtures of the end-to-end libvirt tests: the patched libvirt built by
plugin/libvirt/build-libvirt.sh, its virtsecretd and virtstoraged started
fresh on the prefix's private sockets, the prefix's real virsh, and pools.

Run as root with Debian's python3:

    VDISK_LIBVIRT_PREFIX=build/libvirt-prefix /usr/bin/python3 -m pytest -v tests/libvirt

The prefix defaults to $VDISK_BUILD_DIR/libvirt-prefix (build/libvirt-prefix),
where scripts/test.sh builds it.  VDISK_STORAGE_BACKEND_MODULE=
build/plugin/libvirt/libvirt_storage_backend_vdisk.so runs the backend module of
this tree's build (meson -Dlibvirt_build=DIR, DIR the work area of that prefix's
build-libvirt.sh) instead of the prefix's own.

Stable fixtures (other test files rely on them; keep them compatible):

libvirt_prefix  Path of the prefix (session); fails if its daemons or virsh
                are missing.
daemon          Daemon (session): virtsecretd + virtstoraged running with
                fresh state.  Attributes: .prefix, .env (environment for the
                prefix's programs: LD_LIBRARY_PATH, VDISK_LUKS_ITER_TIME),
                .uri ("storage:///system"), .secret_uri ("secret:///system"),
                .socket (virtstoraged's socket), .client_uri (the storage URI
                with ?socket=, for clients linked against another libvirt,
                e.g. Debian's python3-libvirt), .virsh(*args, check=True,
                uri=None, input=None) -> CompletedProcess of PREFIX/bin/virsh,
                .restart(name="virtstoraged") (SIGTERM, start again on the
                same state), .log_tail(name).  Stopped by pid and its files removed at the end, pass or fail
                (atexit too, for interrupted runs).
hypervisor      Hypervisor (session, guest.py): virtnetworkd + virtqemud of
                the prefix started on top of `daemon`, in a private network
                namespace; .uri ("qemu:///system"), .client_uri (with
                ?socket=), .virsh(...), .accels() ("tcg", and "kvm" where
                /dev/kvm works), .start_guest(...).  Its guests, networks
                and daemons are stopped by pid at the end, pass or fail.
pool_dir        a fresh directory (per test) under which pools put their
                targets.
vdisk_pool      factory: vdisk_pool(name=None, zeroing=None, overcommit=None)
                -> Pool; defines (type vdisk, vdisk XML namespace), builds
                and starts a pool under pool_dir; destroyed and undefined
                after the test (its directory goes with pool_dir).  A daemon
                that does not know pool type 'vdisk' is a failure, not a skip.
dir_pool        factory: dir_pool(name=None) -> Pool, the same for libvirt's
                own 'dir' pools.
any_pool        one started Pool, parametrized: a vdisk pool, then a dir pool
                (behaviour the two share; the dir run checks the test).
Pool            .name .path .kind .daemon; .virsh(*args), .vol_path(vol),
                .info() (pool-info --bytes), .create_xml(xml, *flags,
                check=True) (vol-create), .vol_xml(vol), .vol_info(vol).
secret          factory: secret(passphrase, usage=None, uid=None) -> uuid of
                a secret-define'd + secret-set-value'd volume secret (a new
                uuid unless uid is given); undefined after the test.
"""
import atexit
import errno
import fcntl
import itertools
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid as uuidlib
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "pyutil"))
from qemu_pbkdf import retry_pbkdf_flake  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
BUILD = Path(os.environ.get("VDISK_BUILD_DIR", REPO / "build"))
PREFIX = Path(os.environ.get("VDISK_LIBVIRT_PREFIX", BUILD / "libvirt-prefix")).absolute()
NS = "http://libvirt.org/schemas/storagepool/vdisk/1.0"
MiB = 1024 * 1024

# The daemons' state under the prefix: removed before they start and after
# they stop, so every session starts with no pool, volume or secret.
# (var/cache/libvirt, QEMU's probed capabilities, is no state: kept.)
STATE = ("etc/libvirt/storage", "etc/libvirt/secrets", "var/lib/libvirt",
         "var/run/libvirt")
DAEMONS = ("virtsecretd", "virtstoraged")


def run(argv, check=True, **kw):
    """Run a command, capturing text output; on an unexpected exit status
    fail with the command's own output so the reason is visible."""
    kw.setdefault("capture_output", True)
    kw.setdefault("text", True)
    kw.setdefault("timeout", 600)
    # A run lost to QEMU's PBKDF2 calibration flake -- also when libvirt's
    # own dir pool runs qemu-img -- is repeated (tests/pyutil/qemu_pbkdf.py;
    # a failed create leaves nothing).
    p = retry_pbkdf_flake(lambda: subprocess.run([str(a) for a in argv], **kw))
    if p.returncode < 0:
        pytest.fail(f"{argv[0]} died with signal {-p.returncode}\n{p.stderr}")
    if check and p.returncode != 0:
        pytest.fail(f"{' '.join(map(str, argv))} exited {p.returncode}\n"
                    f"stdout:\n{p.stdout}\nstderr:\n{p.stderr}")
    return p


def qemu_img(*args, check=True):
    """The real qemu-img (the oracle)."""
    path = shutil.which("qemu-img")
    if not path:
        pytest.fail("qemu-img is missing (Debian package qemu-utils)")
    return run([path, *args], check=check)


def qemu_info(path, *extra):
    """qemu-img info --output=json of path, as a dict."""
    return json.loads(qemu_img("info", "--output=json", "-U", *extra, path).stdout)


def qemu_check(path, *opts):
    """qemu-img check must find the qcow2 image clean (no leaks either);
    opts go before the image (e.g. --object ... --image-opts, path then
    being the image options)."""
    out = json.loads(qemu_img("check", "--output=json", "-U", *opts, path).stdout)
    for key in ("corruptions", "leaks", "check-errors"):
        assert out.get(key, 0) == 0, f"qemu-img check {path}: {out}"
    return out


def passphrase_file(directory, text):
    """A 0600 file holding text, for qemu-img's --object secret,file=."""
    path = Path(directory) / f"pass-{uuidlib.uuid4().hex}"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    return path


def luks_opts(fmt, path, pwfile):
    """qemu-img arguments that open an encrypted image (raw LUKS or qcow2
    with LUKS) with the passphrase in pwfile: [--object ..., --image-opts,
    SPEC] (SPEC last, where the image name goes)."""
    key = "key-secret" if fmt == "raw" else "encrypt.key-secret"
    driver = "luks" if fmt == "raw" else "qcow2"
    return ["--object", f"secret,id=s0,file={pwfile}", "--image-opts",
            f"driver={driver},{key}=s0,file.filename={path}"]


def allocated(path):
    """Bytes the file system allocated for path (stat's st_blocks)."""
    return os.stat(path).st_blocks * 512


def is_zero(path, length=None):
    """True if the first length bytes (all by default) of path are zero."""
    with open(path, "rb") as f:
        left = length if length is not None else os.fstat(f.fileno()).st_size
        while left > 0:
            chunk = f.read(min(left, 4 * MiB))
            if not chunk:
                break
            if chunk.count(0) != len(chunk):
                return False
            left -= len(chunk)
    return True


def libdir_of(prefix):
    """The directory of the prefix's libvirt.so.0 (lib/<triplet>, lib64 or lib)."""
    for cand in sorted(prefix.glob("lib*/**/libvirt.so.0")):
        return cand.parent
    return prefix / "lib"


class Daemon:
    """The prefix's virtsecretd and virtstoraged, started with fresh state."""

    def __init__(self, prefix, logdir):
        self.prefix = prefix
        self.logdir = Path(logdir)
        self.rundir = prefix / "var/run/libvirt"
        self.socket = self.rundir / "virtstoraged-sock"
        self.uri = "storage:///system"
        self.secret_uri = "secret:///system"
        self.client_uri = f"storage:///system?socket={self.socket}"
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("LIBVIRT_", "VIRSH_"))}
        lib = str(libdir_of(prefix))
        env["LD_LIBRARY_PATH"] = lib + (":" + env["LD_LIBRARY_PATH"]
                                        if env.get("LD_LIBRARY_PATH") else "")
        # vdisk's LUKS key derivation: 10 ms of PBKDF2 instead of 2 s.
        env.setdefault("VDISK_LUKS_ITER_TIME", "10")
        # The backend module of a build of this tree (meson -Dlibvirt_build)
        # instead of the one installed in the prefix: a directory of the
        # prefix's other backend modules (dir's, ...) and that one.
        module = os.environ.get("VDISK_STORAGE_BACKEND_MODULE")
        if module:
            mods = self.logdir / "storage-backend"
            mods.mkdir()
            for m in (prefix / "lib/libvirt/storage-backend").glob("*.so"):
                if m.name != "libvirt_storage_backend_vdisk.so":
                    (mods / m.name).symlink_to(m)
            (mods / "libvirt_storage_backend_vdisk.so").symlink_to(Path(module).absolute())
            env["LIBVIRT_STORAGE_BACKEND_DIR"] = str(mods)
        self.env = env
        self.procs = {}           # name -> Popen, in start order
        self.wraps = {}           # name -> argv it was started under
        self.lock = None
        self.owns_state = False   # True once this session has wiped the state

    def virsh(self, *args, check=True, uri=None, input=None, timeout=600):
        """PREFIX/bin/virsh -c URI ARGS... -> CompletedProcess."""
        argv = [self.prefix / "bin/virsh", "-c", uri or self.uri, *args]
        return run(argv, check=check, env=self.env, input=input, timeout=timeout)

    def clean_state(self):
        """Remove the daemons' configuration, state, sockets and pid files."""
        for rel in STATE:
            shutil.rmtree(self.prefix / rel, ignore_errors=True)
        for name in DAEMONS:
            for pidfile in (self.prefix / f"var/run/{name}.pid",):
                try:
                    pidfile.unlink()
                except FileNotFoundError:
                    pass

    def take_lock(self, wait=900):
        """One test session per prefix at a time: others wait for it."""
        lock = open(self.prefix / ".vdisk-tests.lock", "w")
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                self.lock = lock
                return
            except OSError as e:
                if e.errno not in (errno.EAGAIN, errno.EACCES) or time.monotonic() > deadline:
                    lock.close()
                    pytest.fail(f"{self.prefix}: another test session holds "
                                f".vdisk-tests.lock for more than {wait}s")
                time.sleep(1)

    def _busy(self, sock):
        """True if something already answers on sock."""
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            s.connect(str(sock))
            return True
        except OSError:
            return False
        finally:
            s.close()

    def start(self):
        self.take_lock()
        for name in DAEMONS:
            sock = self.rundir / f"{name}-sock"
            if self._busy(sock):
                pytest.fail(f"{sock}: a {name} already runs on this prefix; stop it first "
                            "(plugin/libvirt/run-daemon.sh PREFIX stop): the tests need fresh "
                            "state and stop only the daemons they started")
        self.owns_state = True
        self.clean_state()
        for name in DAEMONS:
            self._start_one(name)

    def _start_one(self, name, wrap=()):
        """Start PREFIX/sbin/NAME (after the wrap argv, e.g. nsenter, which
        must exec it: the pid is the daemon's) and wait for its socket."""
        self.wraps[name] = tuple(wrap)
        log = open(self.logdir / f"{name}.log", "w")
        proc = subprocess.Popen([*wrap, str(self.prefix / "sbin" / name)], env=self.env,
                                stdin=subprocess.DEVNULL, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)
        log.close()
        self.procs[name] = proc
        sock = self.rundir / f"{name}-sock"
        deadline = time.monotonic() + 60
        while not self._busy(sock):
            if proc.poll() is not None:
                pytest.fail(f"{name} exited {proc.returncode} before creating {sock}:\n"
                            + self.log_tail(name))
            if time.monotonic() > deadline:
                pytest.fail(f"{name} did not create {sock} within 60 s:\n" + self.log_tail(name))
            time.sleep(0.05)

    def restart(self, name="virtstoraged"):
        """Stop one daemon (SIGTERM, as a host shutdown would) and start it
        again on the same state; the other keeps running."""
        self.stop_one(name)
        self._start_one(name, self.wraps.get(name, ()))

    def stop_one(self, name):
        """Stop one daemon this session started, by pid (TERM, then KILL)."""
        proc = self.procs.pop(name, None)
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    def log_tail(self, name, lines=40):
        try:
            text = (self.logdir / f"{name}.log").read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def stop(self):
        """Stop the daemons by pid (TERM, then KILL) and remove their files.
        Idempotent: runs from the fixture's finally and from atexit."""
        for name in reversed(list(self.procs)):
            self.stop_one(name)
        if self.owns_state:
            self.clean_state()
            self.owns_state = False
        if self.lock is not None:
            self.lock.close()
            self.lock = None


@pytest.fixture(scope="session")
def libvirt_prefix():
    """The patched libvirt's prefix ($VDISK_LIBVIRT_PREFIX)."""
    if os.geteuid() != 0:
        pytest.fail("the libvirt tests run the system daemons: run them as root")
    need = [PREFIX / "sbin/virtstoraged", PREFIX / "sbin/virtsecretd", PREFIX / "bin/virsh"]
    missing = [str(p) for p in need if not os.access(p, os.X_OK)]
    if missing:
        pytest.fail("patched libvirt not built: missing " + ", ".join(missing) +
                    " (plugin/libvirt/build-libvirt.sh PREFIX; set VDISK_LIBVIRT_PREFIX)")
    return PREFIX


def _sigterm_to_interrupt(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")


@pytest.fixture(scope="session")
def daemon(libvirt_prefix):
    """virtsecretd + virtstoraged of the prefix, fresh state, for the session."""
    logdir = Path(tempfile.mkdtemp(prefix="vdisk-libvirt-logs-"))
    d = Daemon(libvirt_prefix, logdir)
    atexit.register(d.stop)
    # A killed run (timeout's SIGTERM) still stops the daemons on the way out.
    if signal.getsignal(signal.SIGTERM) == signal.SIG_DFL:
        signal.signal(signal.SIGTERM, _sigterm_to_interrupt)
    try:
        d.start()
        yield d
    finally:
        d.stop()
        shutil.rmtree(logdir, ignore_errors=True)


@pytest.fixture(scope="session")
def hypervisor(daemon):
    """virtnetworkd + virtqemud of the prefix (guest.py), for the session."""
    from guest import Hypervisor
    tmpdir = Path(tempfile.mkdtemp(prefix="vdisk-guests-"))
    hv = Hypervisor(daemon, tmpdir)
    atexit.register(hv.stop)
    try:
        hv.start()
        yield hv
    finally:
        hv.stop()
        shutil.rmtree(tmpdir, ignore_errors=True)


@pytest.fixture
def pool_dir():
    """A fresh directory for pool targets (removed after the test)."""
    path = Path(tempfile.mkdtemp(prefix="vdisk-lv-pools-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


class Pool:
    """A defined, built and started pool: .name, .path, .kind, .daemon."""

    def __init__(self, daemon, name, path, kind):
        self.daemon, self.name, self.path, self.kind = daemon, name, Path(path), kind

    def virsh(self, *args, **kw):
        return self.daemon.virsh(*args, **kw)

    def vol_path(self, vol):
        return self.path / vol

    def info(self):
        """pool-info as a dict of its fields."""
        out = self.virsh("pool-info", "--bytes", self.name).stdout
        return dict((k.strip(), v.strip()) for k, v in
                    (line.split(":", 1) for line in out.splitlines() if ":" in line))

    def create_xml(self, xml, *flags, check=True):
        """vol-create POOL FILE [flags] with xml written to a file."""
        f = tempfile.NamedTemporaryFile("w", suffix=".xml", delete=False)
        try:
            f.write(xml)
            f.close()
            return self.virsh("vol-create", self.name, f.name, *flags, check=check)
        finally:
            os.unlink(f.name)

    def vol_xml(self, vol):
        return self.virsh("vol-dumpxml", "--pool", self.name, vol).stdout

    def vol_info(self, vol):
        """vol-info --bytes: {'Name': ..., 'Type': 'file', 'Capacity': int,
        'Allocation': int}."""
        out = self.virsh("vol-info", "--bytes", "--pool", self.name, vol).stdout
        info = {}
        for line in out.splitlines():
            if ":" in line:
                key, value = (x.strip() for x in line.split(":", 1))
                sized = key in ("Capacity", "Allocation", "Physical")
                info[key] = int(value.split()[0]) if sized else value
        return info


def pool_xml(kind, name, path, zeroing=None, overcommit=None):
    """Pool XML of a file pool; for vdisk pools with the vdisk namespace."""
    if kind != "vdisk":
        return (f"<pool type='{kind}'>\n  <name>{name}</name>\n"
                f"  <target>\n    <path>{path}</path>\n  </target>\n</pool>\n")
    prov = "  <vdisk:provisioning>\n"
    if zeroing:
        prov += f"    <vdisk:zeroing>{zeroing}</vdisk:zeroing>\n"
    if overcommit:
        prov += f"    <vdisk:overcommit>{overcommit}</vdisk:overcommit>\n"
    prov += "  </vdisk:provisioning>\n"
    if not (zeroing or overcommit):
        prov = ""
    return (f"<pool type='vdisk' xmlns:vdisk='{NS}'>\n  <name>{name}</name>\n"
            f"  <target>\n    <path>{path}</path>\n  </target>\n{prov}</pool>\n")


_names = itertools.count(1)


def _pool_factory(daemon, pool_dir, kind):
    made = []

    def make(name=None, zeroing=None, overcommit=None):
        name = name or f"{kind}{next(_names)}"
        path = pool_dir / name
        xml = pool_dir / f"{name}.xml"
        xml.write_text(pool_xml(kind, name, path, zeroing, overcommit))
        p = daemon.virsh("pool-define", xml, check=False)
        if p.returncode != 0:
            pytest.fail(f"pool-define of a '{kind}' pool failed"
                        + (" (is the vdisk patch applied and the backend module "
                           "installed in the prefix?)" if kind == "vdisk" else "")
                        + f":\n{p.stderr}{daemon.log_tail('virtstoraged')}")
        made.append(name)
        daemon.virsh("pool-build", name)
        daemon.virsh("pool-start", name)
        return Pool(daemon, name, path, kind)

    return make, made


def _drop_pools(daemon, names):
    for name in names:
        daemon.virsh("pool-destroy", name, check=False)
        daemon.virsh("pool-undefine", name, check=False)


@pytest.fixture
def vdisk_pool(daemon, pool_dir):
    """Factory of started pools of type vdisk; torn down after the test."""
    make, made = _pool_factory(daemon, pool_dir, "vdisk")
    yield make
    _drop_pools(daemon, made)


@pytest.fixture
def dir_pool(daemon, pool_dir):
    """Factory of started pools of libvirt's own type dir."""
    make, made = _pool_factory(daemon, pool_dir, "dir")
    yield make
    _drop_pools(daemon, made)


@pytest.fixture(params=["vdisk", "dir"])
def any_pool(request, vdisk_pool, dir_pool):
    """One started pool of each kind, for behaviour vdisk shares with dir:
    the dir run checks the test against libvirt's own backend."""
    return (vdisk_pool if request.param == "vdisk" else dir_pool)()


@pytest.fixture
def secret(daemon, tmp_path):
    """Factory: secret(passphrase, usage=None, uid=None) -> uuid of a defined
    secret (usage type volume) holding passphrase; undefined after the test."""
    made = []

    def make(passphrase, usage=None, uid=None):
        uid = uid or str(uuidlib.uuid4())
        usage = usage or f"/vdisk-test/{uid}"
        xml = tmp_path / f"secret-{uid}.xml"
        xml.write_text(f"<secret ephemeral='no' private='yes'>\n  <uuid>{uid}</uuid>\n"
                       f"  <usage type='volume'>\n    <volume>{usage}</volume>\n"
                       f"  </usage>\n</secret>\n")
        daemon.virsh("secret-define", xml, uri=daemon.secret_uri)
        made.append(uid)
        value = tmp_path / f"secret-{uid}.value"
        fd = os.open(value, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(passphrase)
        daemon.virsh("secret-set-value", uid, "--file", value, "--plain",
                     uri=daemon.secret_uri)
        return uid

    yield make
    for uid in made:
        daemon.virsh("secret-undefine", uid, uri=daemon.secret_uri, check=False)
