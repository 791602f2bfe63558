"""vdisk-virsh -c URI against the patched daemon (fixtures of conftest.py):
the pool, volume and secret commands go through libvirt's public API, on
libvirt's own 'dir' pools and on 'vdisk' pools.  Their output is held to
the prefix's real virsh on the same daemon (list tables, pool-info,
vol-info, dumpxml, errors); images are checked with qemu-img / qemu-io.
vol-snapshot-* and vol-convert act on the volume's file: snapshots must
show in `qemu-img snapshot -l`, converted volumes must pass
`qemu-img compare` and appear in the daemon's vol-list without a manual
pool-refresh, and a qemu-io holding the image makes them fail with QEMU's
lock message.
"""
import json
import os
import subprocess
import time
import uuid as uuidlib

import pytest

from conftest import BUILD, MiB, qemu_check, qemu_img, qemu_info, run

VDISK_VIRSH = BUILD / "tools" / "vdisk-virsh"


def vv(daemon, *args, uri=None, check=True, env=None):
    """vdisk-virsh -c URI ARGS... with the prefix's libvirt."""
    return run([VDISK_VIRSH, "-c", uri or daemon.uri, *args], check=check,
               env=env or daemon.env)


def both(daemon, *args, uri=None):
    """The same command through vdisk-virsh and the real virsh: both
    CompletedProcesses (exit status, stdout, stderr)."""
    return vv(daemon, *args, uri=uri, check=False), daemon.virsh(*args, uri=uri, check=False)


def same_as_virsh(daemon, *args, uri=None):
    """Run both; they must succeed with identical output."""
    mine, real = both(daemon, *args, uri=uri)
    assert real.returncode == 0, real.stderr
    assert mine.returncode == 0, mine.stderr
    assert mine.stdout == real.stdout, f"vdisk-virsh:\n{mine.stdout}\nvirsh:\n{real.stdout}"
    return mine.stdout


def names_in(listing):
    """The first column of a virsh table (after the header and dashes)."""
    return {line.split()[0] for line in listing.splitlines()[2:] if line.strip()}


def qcow2_vol(pool, name, size="16M"):
    """A qcow2 volume made by vdisk-virsh -c, with 0x5a at 0..1M (qemu-io)."""
    vv(pool.daemon, "vol-create-as", pool.name, name, size, "--format", "qcow2")
    path = pool.vol_path(name)
    run(["qemu-io", "-f", "qcow2", "-c", "write -P 0x5a 0 1M", path])
    return path


class Holder:
    """qemu-io keeping an image open, and so locked, until closed."""

    def __init__(self, path):
        self.p = subprocess.Popen(["qemu-io", "-f", "qcow2", str(path)], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        # qemu-io answers a command only once the image is open (and locked).
        self.p.stdin.write("info\n")
        self.p.stdin.flush()
        deadline = time.monotonic() + 20
        while "format name" not in self.p.stdout.readline():
            if self.p.poll() is not None or time.monotonic() > deadline:
                self.close()
                pytest.fail(f"qemu-io did not open {path}: {self.p.stderr.read()}")

    def close(self):
        if self.p.poll() is None:
            self.p.stdin.close()
            try:
                self.p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


# ---- pools -----------------------------------------------------------------

@pytest.mark.parametrize("kind", ["dir", "vdisk"])
def test_pool_life_cycle(daemon, pool_dir, kind):
    name = f"lvc-{kind}-life"
    target = pool_dir / name
    p = vv(daemon, "pool-define-as", name, kind, "--target", str(target))
    assert p.stdout == f"Pool {name} defined\n\n"
    try:
        assert vv(daemon, "pool-build", name).stdout == f"Pool {name} built\n\n"
        assert target.is_dir()
        assert vv(daemon, "pool-start", name).stdout == f"Pool {name} started\n\n"
        assert vv(daemon, "pool-autostart", name).stdout == f"Pool {name} marked as autostarted\n\n"
        same_as_virsh(daemon, "pool-list")
        same_as_virsh(daemon, "pool-list", "--all", "--details")
        same_as_virsh(daemon, "pool-list", "--autostart", "--name")
        same_as_virsh(daemon, "pool-list", "--all", "--type", kind)
        same_as_virsh(daemon, "pool-dumpxml", name)
        same_as_virsh(daemon, "pool-dumpxml", "--inactive", name)
        # vdisk-virsh's pool-info adds the provisioning lines after virsh's.
        mine, real = both(daemon, "pool-info", "--bytes", name)
        assert real.returncode == 0 and mine.returncode == 0, mine.stderr
        assert mine.stdout.startswith(real.stdout.rstrip("\n") + "\n"), mine.stdout
        assert "Volumes:        0\n" in mine.stdout
        # A file dropped into the directory shows after pool-refresh.
        qemu_img("create", "-f", "qcow2", target / "dropped.qcow2", "1M")
        assert vv(daemon, "pool-refresh", name).stdout == f"Pool {name} refreshed\n\n"
        assert "dropped.qcow2" in names_in(daemon.virsh("vol-list", name).stdout)
        os.unlink(target / "dropped.qcow2")
        assert vv(daemon, "pool-autostart", "--disable", name).stdout == \
            f"Pool {name} unmarked as autostarted\n\n"
        assert vv(daemon, "pool-destroy", name).stdout == f"Pool {name} destroyed\n\n"
        same_as_virsh(daemon, "pool-list", "--inactive", "--details")
        same_as_virsh(daemon, "pool-info", name)     # inactive: virsh's lines only
        assert vv(daemon, "pool-delete", name).stdout == f"Pool {name} deleted\n\n"
        assert not target.exists()
    finally:
        daemon.virsh("pool-destroy", name, check=False)
        p = vv(daemon, "pool-undefine", name, check=False)
    assert p.stdout == f"Pool {name} has been undefined\n\n", p.stderr
    assert name not in daemon.virsh("pool-list", "--all", "--name").stdout


def test_pool_define_from_xml_and_errors(daemon, pool_dir, tmp_path):
    xml = tmp_path / "p.xml"
    xml.write_text(f"<pool type='dir'><name>lvc-xml</name><target><path>{pool_dir / 'x'}"
                   "</path></target></pool>")
    assert vv(daemon, "pool-define", xml).stdout == f"Pool lvc-xml defined from {xml}\n\n"
    try:
        # Same errors as virsh: its own line, then libvirt's message.
        for args in (["pool-info", "lvc-nope"], ["pool-start", "lvc-nope"],
                     ["vol-info", "--pool", "lvc-xml", "v"], ["vol-info", "/nonexistent/v"],
                     ["pool-define", xml]):
            mine, real = both(daemon, *args)
            assert real.returncode == 1 and mine.returncode == 1, (args, mine.stdout)
            assert mine.stderr == real.stderr, (args, mine.stderr, real.stderr)
            assert mine.stderr.startswith("error: ")
    finally:
        daemon.virsh("pool-undefine", "lvc-xml", check=False)


def test_uri_from_environment(daemon, dir_pool):
    """No -c: LIBVIRT_DEFAULT_URI names the daemon, as for virsh."""
    pool = dir_pool()
    env = dict(daemon.env, LIBVIRT_DEFAULT_URI=daemon.uri)
    p = run([VDISK_VIRSH, "pool-list", "--name"], env=env)
    assert pool.name in p.stdout.split()


def test_debians_libvirt_client(daemon, dir_pool):
    """vdisk-virsh linked with Debian's libvirt0 (no LD_LIBRARY_PATH) reaches
    the prefix's daemon through the socket named in the URI."""
    pool = dir_pool()
    env = {k: v for k, v in daemon.env.items() if k != "LD_LIBRARY_PATH"}
    p = run([VDISK_VIRSH, "-c", daemon.client_uri, "pool-list", "--name"], env=env)
    assert pool.name in p.stdout.split()


# ---- volumes ---------------------------------------------------------------

def test_vol_create_and_show(any_pool, tmp_path):
    pool = any_pool
    xml = tmp_path / "v.xml"
    xml.write_text("<volume><name>x.qcow2</name><capacity unit='M'>32</capacity>"
                   "<target><format type='qcow2'/></target></volume>")
    assert vv(pool.daemon, "vol-create", pool.name, xml).stdout == f"Vol x.qcow2 created from {xml}\n\n"
    p = vv(pool.daemon, "vol-create-as", pool.name, "thick.raw", "8M", "--allocation", "8M")
    assert p.stdout == "Vol thick.raw created\n\n"
    vv(pool.daemon, "vol-create-as", pool.name, "ov.qcow2", "64M", "--format", "qcow2",
       "--backing-vol", "x.qcow2", "--backing-vol-format", "qcow2")
    info = qemu_info(pool.vol_path("x.qcow2"))
    assert (info["format"], info["virtual-size"]) == ("qcow2", 32 * MiB)
    qemu_check(pool.vol_path("x.qcow2"))
    info = qemu_info(pool.vol_path("ov.qcow2"))
    assert info["backing-filename"] == str(pool.vol_path("x.qcow2"))
    assert os.stat(pool.vol_path("thick.raw")).st_blocks * 512 >= 8 * MiB
    same_as_virsh(pool.daemon, "vol-list", pool.name)
    same_as_virsh(pool.daemon, "vol-list", "--details", pool.name)
    for vol in ("x.qcow2", "thick.raw", "ov.qcow2"):
        for extra in ([], ["--bytes"], ["--physical", "--bytes"]):
            same_as_virsh(pool.daemon, "vol-info", "--pool", pool.name, vol, *extra)
        same_as_virsh(pool.daemon, "vol-dumpxml", "--pool", pool.name, vol)
        same_as_virsh(pool.daemon, "vol-path", "--pool", pool.name, vol)
        same_as_virsh(pool.daemon, "vol-key", "--pool", pool.name, vol)
        same_as_virsh(pool.daemon, "vol-name", str(pool.vol_path(vol)))
        same_as_virsh(pool.daemon, "vol-info", str(pool.vol_path(vol)))     # by path, no --pool
    # --print-xml: the XML virsh would send, byte for byte (backing volume
    # by name, key or path; names as given, which virsh does not escape),
    # and nothing is created
    for extra in ([], ["--allocation", "4M", "--format", "raw"],
                  ["--format", "qcow2", "--backing-vol", "x.qcow2", "--backing-vol-format", "qcow2"],
                  ["--backing-vol", str(pool.vol_path("thick.raw"))]):
        same_as_virsh(pool.daemon, "vol-create-as", pool.name, "p<&'>.img", "8M", *extra,
                      "--print-xml")
    assert not any(n.startswith("p<") for n in os.listdir(pool.path))
    mine, real = both(pool.daemon, "vol-create-as", pool.name, "q", "8M", "--backing-vol",
                      "/no/such/vol", "--print-xml")
    assert mine.returncode == real.returncode == 1
    assert mine.stderr == real.stderr, (mine.stderr, real.stderr)


def test_directory_volume_of_a_dir_pool(dir_pool):
    """libvirt's dir pools list subdirectories as volumes of type 'dir'."""
    pool = dir_pool()
    (pool.path / "sub").mkdir()
    vv(pool.daemon, "pool-refresh", pool.name)
    out = same_as_virsh(pool.daemon, "vol-list", "--details", pool.name)
    assert " dir " in out
    same_as_virsh(pool.daemon, "vol-info", "--pool", pool.name, "sub")


def test_vol_copies(any_pool, tmp_path):
    pool = any_pool
    src = qcow2_vol(pool, "src.qcow2")
    xml = tmp_path / "raw.xml"
    xml.write_text("<volume><name>copy.raw</name><capacity unit='bytes'>0</capacity>"
                   "<target><format type='raw'/></target></volume>")
    p = vv(pool.daemon, "vol-create-from", pool.name, xml, "src.qcow2", "--inputpool", pool.name)
    assert p.stdout == "Vol copy.raw created from input vol src.qcow2\n\n"
    assert qemu_info(pool.vol_path("copy.raw"))["format"] == "raw"
    qemu_img("compare", "-f", "qcow2", "-F", "raw", src, pool.vol_path("copy.raw"))
    # From another pool (libvirt's own dir pool), by --inputpool.
    other = pool.daemon
    vv(other, "pool-define-as", "lvc-input", "dir", "--target", str(tmp_path / "input"))
    try:
        vv(other, "pool-start", "--build", "lvc-input")
        vv(other, "vol-create-as", "lvc-input", "in.raw", "4M")
        (tmp_path / "input" / "in.raw").write_bytes(os.urandom(4 * MiB))
        xml.write_text("<volume><name>from-other.qcow2</name><capacity unit='bytes'>0</capacity>"
                       "<target><format type='qcow2'/></target></volume>")
        vv(other, "vol-create-from", pool.name, xml, "--inputpool", "lvc-input", "in.raw")
        qemu_img("compare", "-f", "raw", "-F", "qcow2", tmp_path / "input" / "in.raw",
                 pool.vol_path("from-other.qcow2"))
    finally:
        other.virsh("pool-destroy", "lvc-input", check=False)
        other.virsh("pool-undefine", "lvc-input", check=False)
    p = vv(pool.daemon, "vol-clone", "--pool", pool.name, "src.qcow2", "clone.qcow2")
    assert p.stdout == "Vol clone.qcow2 cloned from src.qcow2\n\n"
    assert qemu_info(pool.vol_path("clone.qcow2"))["format"] == "qcow2"
    qemu_img("compare", src, pool.vol_path("clone.qcow2"))


def test_vol_resize_wipe_delete(any_pool):
    pool = any_pool
    vv(pool.daemon, "vol-create-as", pool.name, "r.raw", "4M")
    path = pool.vol_path("r.raw")
    with open(path, "r+b") as f:
        f.write(b"\xa5" * MiB)
    p = vv(pool.daemon, "vol-resize", "--pool", pool.name, "r.raw", "8M")
    assert p.stdout == "Size of volume 'r.raw' successfully changed to 8M\n\n"
    assert qemu_info(path)["virtual-size"] == 8 * MiB
    p = vv(pool.daemon, "vol-resize", "--pool", pool.name, "r.raw", "--shrink", "--", "-2M")
    assert p.stdout == "Size of volume 'r.raw' successfully changed by 2M\n\n"
    assert os.path.getsize(path) == 6 * MiB
    assert vv(pool.daemon, "vol-wipe", "--pool", pool.name, "r.raw").stdout == "Vol r.raw wiped\n\n"
    with open(path, "rb") as f:
        assert f.read(MiB) == bytes(MiB)
    mine, real = both(pool.daemon, "vol-wipe", "--pool", pool.name, "r.raw", "--algorithm", "nope")
    assert mine.returncode == 1 and "Unsupported algorithm 'nope'" in mine.stderr
    assert vv(pool.daemon, "vol-delete", "--pool", pool.name, "r.raw").stdout == "Vol r.raw deleted\n\n"
    assert not path.exists()
    assert "r.raw" not in names_in(pool.virsh("vol-list", pool.name).stdout)


@pytest.mark.parametrize("sparse", [False, True])
def test_upload_download(any_pool, tmp_path, sparse):
    pool = any_pool
    flag = ["--sparse"] if sparse else []
    vv(pool.daemon, "vol-create-as", pool.name, "t.raw", "8M")
    up = tmp_path / "up.bin"
    with open(up, "wb") as f:
        f.truncate(8 * MiB)
        f.seek(3 * MiB)
        f.write(os.urandom(MiB))
    p = vv(pool.daemon, "vol-upload", "--pool", pool.name, "t.raw", up, *flag)
    assert p.stdout == "\n"
    assert pool.vol_path("t.raw").read_bytes() == up.read_bytes()
    down = tmp_path / "down.bin"
    vv(pool.daemon, "vol-download", "--pool", pool.name, "t.raw", down, *flag)
    assert down.read_bytes() == up.read_bytes()
    if sparse:
        assert os.stat(down).st_blocks * 512 < 4 * MiB     # the holes stayed holes
    part = tmp_path / "part.bin"
    vv(pool.daemon, "vol-download", "--pool", pool.name, "t.raw", part,
       "--offset", str(3 * MiB), "--length", str(MiB))
    assert part.read_bytes() == up.read_bytes()[3 * MiB:4 * MiB]
    # A volume that is not there: no local file is left behind.
    gone = tmp_path / "gone.bin"
    p = vv(pool.daemon, "vol-download", "--pool", pool.name, "nope.raw", gone, check=False)
    assert p.returncode == 1 and not gone.exists()


# ---- what acts on the file -------------------------------------------------

def test_snapshots_on_the_file(any_pool):
    pool = any_pool
    path = qcow2_vol(pool, "s.qcow2")
    args = ["--pool", pool.name, "s.qcow2"]
    p = vv(pool.daemon, "vol-snapshot-create", *args, "before")
    assert p.stdout == "Snapshot before of vol s.qcow2 created\n\n"
    assert "before" in qemu_img("snapshot", "-l", "-U", path).stdout
    run(["qemu-io", "-f", "qcow2", "-c", "write -P 0x11 0 1M", path])
    listing = vv(pool.daemon, "vol-snapshot-list", *args).stdout
    assert listing.splitlines()[0].split() == ["ID", "Name", "Creation", "Time", "Disk", "size"]
    assert "before" in listing
    p = vv(pool.daemon, "vol-snapshot-revert", *args, "before")
    assert p.stdout == "Vol s.qcow2 reverted to snapshot before\n\n"
    run(["qemu-io", "-f", "qcow2", "-c", "read -P 0x5a 0 1M", path])
    assert vv(pool.daemon, "vol-snapshot-delete", *args, "before").stdout == \
        "Snapshot before of vol s.qcow2 deleted\n\n"
    assert "before" not in qemu_img("snapshot", "-l", "-U", path).stdout
    qemu_check(path)
    # The daemon still describes the volume as virsh shows it.
    same_as_virsh(pool.daemon, "vol-info", "--bytes", *args)


def test_convert_on_the_file(any_pool):
    pool = any_pool
    src = qcow2_vol(pool, "c.qcow2")
    p = vv(pool.daemon, "vol-convert", "--pool", pool.name, "c.qcow2", "c.raw", "--format", "raw")
    assert p.stdout == "Vol c.raw converted from c.qcow2\n\n"
    # The daemon was refreshed: it lists the new volume by itself.
    assert "c.raw" in names_in(pool.virsh("vol-list", pool.name).stdout)
    dst = pool.vol_path("c.raw")
    assert qemu_info(dst)["format"] == "raw"
    qemu_img("compare", "-f", "qcow2", "-F", "raw", src, dst)
    same_as_virsh(pool.daemon, "vol-info", "--pool", pool.name, "c.raw")
    # Names are checked, and nothing is made outside the pool's directory.
    p = vv(pool.daemon, "vol-convert", "--pool", pool.name, "c.qcow2", "../out.raw",
           "--format", "raw", check=False)
    assert p.returncode == 1 and p.stderr.startswith("error: ")
    assert not (pool.path.parent / "out.raw").exists()


@pytest.mark.parametrize("cmd", [["vol-snapshot-create", "held"],
                                 ["vol-convert", "held.raw", "--format", "raw"]])
def test_file_commands_respect_locks(any_pool, cmd):
    pool = any_pool
    path = qcow2_vol(pool, "h.qcow2")
    with Holder(path):
        p = vv(pool.daemon, cmd[0], "--pool", pool.name, "h.qcow2", *cmd[1:], check=False)
    assert p.returncode == 1, p.stdout
    assert 'Failed to get "write" lock' in p.stderr or 'Failed to get shared "write" lock' in p.stderr, \
        p.stderr
    assert "Is another process using the image" in p.stderr, p.stderr
    assert "held" not in qemu_img("snapshot", "-l", "-U", path).stdout
    assert not pool.vol_path("held.raw").exists()


def test_not_a_file_pool_is_refused(daemon):
    """vol-snapshot-* needs a volume; a name that is nowhere fails as virsh would."""
    p = vv(daemon, "vol-snapshot-list", "/nonexistent/x.qcow2", check=False)
    assert p.returncode == 1
    assert p.stderr.startswith("error: failed to get vol '/nonexistent/x.qcow2'")


def test_encrypted_volume_uses_the_daemons_secret(any_pool, tmp_path):
    """vol-convert of a LUKS qcow2 volume: the passphrase comes from the
    daemon's (non-private) volume secret; the copy is encrypted with it."""
    pool = any_pool
    daemon = pool.daemon
    uid = str(uuidlib.uuid4())
    src = pool.vol_path("e.qcow2")
    sxml = tmp_path / "s.xml"
    sxml.write_text(f"<secret ephemeral='no' private='no'><uuid>{uid}</uuid>"
                    f"<usage type='volume'><volume>{src}</volume></usage></secret>")
    pw = tmp_path / "pw"
    fd = os.open(pw, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.write(fd, b"vdisk-remote-test")
    os.close(fd)
    vv(daemon, "secret-define", sxml, uri=daemon.secret_uri)
    try:
        vv(daemon, "secret-set-value", uid, "--file", pw, "--plain", uri=daemon.secret_uri)
        vxml = tmp_path / "v.xml"
        vxml.write_text("<volume><name>e.qcow2</name><capacity unit='M'>8</capacity><target>"
                        "<format type='qcow2'/><encryption format='luks'>"
                        f"<secret type='passphrase' uuid='{uid}'/></encryption></target></volume>")
        # libvirt's dir backend runs qemu-img; run() repeats a run lost to
        # QEMU's PBKDF2 calibration flake
        vv(daemon, "vol-create", pool.name, vxml)
        vv(daemon, "vol-convert", "--pool", pool.name, "e.qcow2", "e2.qcow2", "--format", "qcow2")
        dst = pool.vol_path("e2.qcow2")
        assert qemu_info(dst)["encrypted"] is True
        obj = f"secret,id=k,file={pw}"
        qemu_img("compare", "--object", obj, "--image-opts",
                 f"driver=qcow2,encrypt.key-secret=k,file.filename={src}",
                 f"driver=qcow2,encrypt.key-secret=k,file.filename={dst}")
    finally:
        daemon.virsh("secret-undefine", uid, uri=daemon.secret_uri, check=False)


def test_private_secret_is_refused_with_a_hint(vdisk_pool, secret, tmp_path):
    """A private secret serves the daemon only: the file commands say so."""
    pool = vdisk_pool()
    path = pool.vol_path("p.qcow2")
    uid = secret("private-pass", usage=str(path))
    vxml = tmp_path / "v.xml"
    vxml.write_text("<volume><name>p.qcow2</name><capacity unit='M'>8</capacity><target>"
                    "<format type='qcow2'/><encryption format='luks'>"
                    f"<secret type='passphrase' uuid='{uid}'/></encryption></target></volume>")
    vv(pool.daemon, "vol-create", pool.name, vxml)
    p = vv(pool.daemon, "vol-snapshot-create", "--pool", pool.name, "p.qcow2", "s1", check=False)
    assert p.returncode == 1
    assert p.stderr.startswith("error: Failed to create snapshot s1 of vol p.qcow2\n"), p.stderr
    assert "secret is private" in p.stderr and "private='no'" in p.stderr, p.stderr
    pw = tmp_path / "pw"
    pw.write_text("private-pass")
    listing = qemu_img("snapshot", "-l", "-U", "--object", f"secret,id=k,file={pw}", "--image-opts",
                       f"driver=qcow2,encrypt.key-secret=k,file.filename={path}").stdout
    assert "s1" not in listing


# ---- secrets ---------------------------------------------------------------

def test_secrets(daemon, tmp_path):
    uid = str(uuidlib.uuid4())
    xml = tmp_path / "s.xml"
    xml.write_text(f"<secret ephemeral='no' private='yes'><uuid>{uid}</uuid>"
                   "<usage type='volume'><volume>/lvc/secret-test</volume></usage></secret>")
    uri = daemon.secret_uri
    assert vv(daemon, "secret-define", xml, uri=uri).stdout == f"Secret {uid} created\n\n"
    try:
        value = tmp_path / "v.b64"
        value.write_text("c2VjcmV0\n")
        assert vv(daemon, "secret-set-value", uid, "--file", value, uri=uri).stdout == \
            "Secret value set\n\n"
        # Never from argv.
        p = vv(daemon, "secret-set-value", uid, "c2VjcmV0", uri=uri, check=False)
        assert p.returncode == 1 and "insecure" in p.stderr
        same_as_virsh(daemon, "secret-list", uri=uri)
        same_as_virsh(daemon, "secret-list", "--private", uri=uri)
        p = vv(daemon, "secret-undefine", uid, uri=uri)
        assert p.stdout == f"Secret {uid} deleted\n\n"
        assert uid not in daemon.virsh("secret-list", uri=uri).stdout
    finally:
        daemon.virsh("secret-undefine", uid, uri=uri, check=False)


def test_vol_export_through_the_daemon(any_pool, tmp_path):
    """vol-export with -c: the daemon's pool names the file and its format;
    nbdkit serves it on a unix socket until stopped by its pid."""
    pool = any_pool
    path = qcow2_vol(pool, "e.qcow2")
    sock = tmp_path / "e.sock"
    p = vv(pool.daemon, "vol-export", pool.name, "e.qcow2", "--socket", sock,
           "--pidfile", tmp_path / "e.pid")
    pid = int((tmp_path / "e.pid").read_text())
    try:
        assert f"(nbdkit pid {pid})" in p.stdout
        uri = f"nbd+unix:///?socket={sock}"
        run(["qemu-io", "-f", "raw", "-c", "read -P 0x5a 0 1M", "-c", "write -P 0x6b 1M 1M", uri])
    finally:
        os.kill(pid, 15)
        for _ in range(500):
            if not os.path.exists(f"/proc/{pid}"):
                break
            time.sleep(0.01)
    run(["qemu-io", "-f", "qcow2", "-c", "read -P 0x6b 1M 1M", path])
    qemu_check(path)


def test_provisioning_moves_through_the_daemon(any_pool, tmp_path):
    """vol-inflate, vol-eagerzero, vol-sparsify, vol-map and pool-info
    --details with -c: libvirt has no such verbs, so vdisk-virsh acts on the
    volume's file, then the daemon refreshes; the real virsh then reports
    the new allocation, and the guest's bytes never change."""
    pool = any_pool
    vv(pool.daemon, "vol-create-as", pool.name, "p.raw", "16M", "--format", "raw")
    path = pool.vol_path("p.raw")
    run(["qemu-io", "-f", "raw", "-c", "write -P 0x5a 2M 1M", path])
    ref = tmp_path / "ref.raw"
    ref.write_bytes(open(path, "rb").read())

    def allocation():
        out = pool.virsh("vol-info", "--pool", pool.name, "p.raw", "--bytes").stdout
        return int(out.split("Allocation:")[1].split()[0])

    vv(pool.daemon, "vol-inflate", "p.raw", "--pool", pool.name)
    assert os.stat(path).st_blocks * 512 >= 16 * MiB
    assert allocation() == os.stat(path).st_blocks * 512
    vv(pool.daemon, "vol-eagerzero", "p.raw", "--pool", pool.name)
    details = json.loads(vv(pool.daemon, "pool-info", pool.name, "--details", "--json").stdout)
    row = {d["name"]: d for d in details["details"]}["p.raw"]
    assert row["kind"] == "eager-zeroed thick" and row["capacity"] == 16 * MiB
    vv(pool.daemon, "vol-sparsify", "p.raw", "--pool", pool.name, "--zero-detect")
    assert os.stat(path).st_blocks * 512 < 2 * MiB
    assert allocation() == os.stat(path).st_blocks * 512
    qemu_img("compare", "-f", "raw", "-F", "raw", ref, path)
    bar = json.loads(vv(pool.daemon, "vol-map", "p.raw", "--pool", pool.name, "--width", "16",
                        "--json").stdout)
    assert bar["bytes"]["data"] == MiB and bar["bar"][2] == "#"
