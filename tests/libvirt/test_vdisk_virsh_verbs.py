"""The virsh verbs of issue 19 through vdisk-virsh -c URI against the
patched daemon, held to the prefix's real virsh on the same daemon:
pool-create, pool-create-as, pool-edit, pool-name, pool-uuid, vol-pool,
pool-capabilities, find-storage-pool-sources[-as], secret-get-value,
secret-dumpxml, --xpath/--wrap, and vol-wipe's multi-pass algorithms on
libvirt's dir pools (the daemon runs scrub for them).
"""
import base64
import os
import re
import uuid as uuidlib

import pytest

from conftest import MiB, pool_xml, qemu_img, qemu_info, run
from test_vdisk_virsh_remote import VDISK_VIRSH, same_as_virsh, vv


def same_result(daemon, *args, uri=None, env=None):
    """Both run; exit status, stdout and stderr must be the same."""
    mine = vv(daemon, *args, uri=uri, check=False, env=env)
    real = daemon.virsh(*args, uri=uri, check=False) if env is None else \
        run([daemon.prefix / "bin" / "virsh", "-c", uri or daemon.uri, *args], check=False, env=env)
    def norm(text):     # pool-edit's temporary file names differ from run to run
        return re.sub(r"/virsh\w{6}\.xml", "/virshXXXXXX.xml", text)
    assert (mine.returncode, mine.stdout, norm(mine.stderr)) == (real.returncode, real.stdout, norm(real.stderr))
    return mine


def transient_names(daemon):
    out = daemon.virsh("pool-list", "--transient", "--name").stdout
    return set(out.split())


@pytest.mark.parametrize("kind", ["dir", "vdisk"])
def test_pool_create_from_xml(daemon, pool_dir, kind):
    """The same transient pool made by virsh and by vdisk-virsh, in turn."""
    name = f"tc-{kind}"
    xml = pool_dir / f"{name}.xml"
    xml.write_text(pool_xml(kind, name, pool_dir / name))
    outs = []
    for tool in ("virsh", "vdisk-virsh"):
        args = ("pool-create", xml, "--build")
        p = daemon.virsh(*args) if tool == "virsh" else vv(daemon, *args)
        outs.append(p.stdout)
        assert name in transient_names(daemon)
        info = daemon.virsh("pool-info", name).stdout
        assert "Persistent:     no" in info and "State:          running" in info
        daemon.virsh("pool-destroy", name)
        assert name not in daemon.virsh("pool-list", "--all", "--name").stdout.split()
    assert outs[0] == outs[1] == f"Pool {name} created from {xml}\n\n"
    # A pool that cannot start (no directory, no --build): the same refusal.
    xml.write_text(pool_xml(kind, name, pool_dir / "missing" / name))
    p = same_result(daemon, "pool-create", xml)
    assert p.returncode == 1 and p.stderr.startswith(f"error: Failed to create pool from {xml}\n")


@pytest.mark.parametrize("kind", ["dir", "vdisk"])
def test_pool_create_as(daemon, pool_dir, kind):
    name = f"tca-{kind}"
    target = pool_dir / name
    same_as_virsh(daemon, "pool-create-as", name, kind, "--target", target, "--print-xml")
    for tool in ("virsh", "vdisk-virsh"):
        args = ("pool-create-as", name, kind, "--target", target, "--build")
        p = daemon.virsh(*args) if tool == "virsh" else vv(daemon, *args)
        assert p.stdout == f"Pool {name} created\n\n"
        assert name in transient_names(daemon)
        daemon.virsh("pool-destroy", name)
    same_result(daemon, "pool-create-as", name, kind, "--target", target, "--overwrite", "--no-overwrite")


def editor(tmp_path, body):
    f = tmp_path / "editor.sh"
    f.write_text(f"#!/bin/sh\n{body}\n")
    f.chmod(0o755)
    return f


def test_pool_edit(any_pool, tmp_path):
    pool = any_pool
    daemon = pool.daemon
    env = dict(daemon.env, TMPDIR=str(tmp_path))
    env.pop("VISUAL", None)
    env["EDITOR"] = str(editor(tmp_path, "exit 0"))
    p = same_result(daemon, "pool-edit", pool.name, env=env)
    assert p.stdout == f"Pool {pool.name} XML configuration not changed.\n\n"
    # virsh sets the mode, vdisk-virsh sets another: each edit lands.
    for tool, mode in (("virsh", "0750"), ("vdisk-virsh", "0711")):
        env["EDITOR"] = str(editor(tmp_path, f"sed -i 's|<mode>[0-7]*</mode>|<mode>{mode}</mode>|' \"$1\""))
        argv = [daemon.prefix / "bin" / "virsh", "-c", daemon.uri] if tool == "virsh" else \
            [VDISK_VIRSH, "-c", daemon.uri]
        p = run([*argv, "pool-edit", pool.name], env=env)
        assert p.stdout == f"Pool {pool.name} XML configuration edited.\n\n"
        assert f"<mode>{mode}</mode>" in daemon.virsh("pool-dumpxml", "--inactive", pool.name).stdout
    env["EDITOR"] = str(editor(tmp_path, "exit 3"))
    same_result(daemon, "pool-edit", pool.name, env=env)
    assert not list(tmp_path.glob("virsh*.xml"))


def test_pool_and_volume_ids(any_pool):
    pool = any_pool
    daemon = pool.daemon
    vv(daemon, "vol-create-as", pool.name, "v.raw", "1M")
    uuid = same_as_virsh(daemon, "pool-uuid", pool.name).split()[0]
    assert same_as_virsh(daemon, "pool-name", uuid) == f"{pool.name}\n\n"
    path = pool.vol_path("v.raw")
    assert same_as_virsh(daemon, "vol-pool", path) == f"{pool.name}\n\n"
    assert same_as_virsh(daemon, "vol-pool", path, "--uuid") == f"{uuid}\n\n"
    for args in (("pool-name", pool.name), ("pool-uuid", uuid), ("pool-name", str(uuidlib.uuid4())),
                 ("vol-pool", f"{path}.missing")):
        assert same_result(daemon, *args).returncode == 1


def test_pool_capabilities(daemon):
    out = same_as_virsh(daemon, "pool-capabilities")
    assert "<pool type='vdisk' supported='yes'>" in out


@pytest.mark.parametrize("args", [("dir",), ("vdisk",), ("logical",), ("bogus",)])
@pytest.mark.parametrize("cmd", ["find-storage-pool-sources", "find-storage-pool-sources-as"])
def test_find_storage_pool_sources(daemon, cmd, args):
    p = same_result(daemon, cmd, *args)
    assert p.returncode == 1 and p.stderr.startswith(f"error: Failed to find any {args[0]} pool sources\n")


def test_secret_value_and_xml(daemon, tmp_path):
    uid = str(uuidlib.uuid4())
    uri = daemon.secret_uri
    xml = tmp_path / "s.xml"
    xml.write_text(f"<secret ephemeral='no' private='no'><uuid>{uid}</uuid><description>k</description>"
                   f"<usage type='volume'><volume>{tmp_path}/disk</volume></usage></secret>")
    daemon.virsh("secret-define", xml, uri=uri)
    try:
        p = same_result(daemon, "secret-get-value", uid, uri=uri)      # no value yet
        assert p.returncode == 1
        value = bytes(range(40))
        (tmp_path / "v.b64").write_text(base64.b64encode(value).decode())
        daemon.virsh("secret-set-value", uid, "--file", tmp_path / "v.b64", uri=uri)
        assert same_as_virsh(daemon, "secret-get-value", uid, uri=uri) == base64.b64encode(value).decode() + "\n"
        same_as_virsh(daemon, "secret-get-value", uid, "--plain", uri=uri)
        same_as_virsh(daemon, "secret-dumpxml", uid, uri=uri)
        same_as_virsh(daemon, "secret-dumpxml", uid, "--xpath", "//usage", "--wrap", uri=uri)
        same_result(daemon, "secret-dumpxml", str(uuidlib.uuid4()), uri=uri)
    finally:
        daemon.virsh("secret-undefine", uid, uri=uri, check=False)


def test_xpath_on_the_daemons_xml(any_pool):
    pool = any_pool
    daemon = pool.daemon
    vv(daemon, "vol-create-as", pool.name, "x.qcow2", "2M", "--format", "qcow2")
    same_as_virsh(daemon, "pool-dumpxml", pool.name, "--xpath", "/pool/target")
    same_as_virsh(daemon, "pool-dumpxml", pool.name, "--inactive", "--xpath", "//@type", "--wrap")
    same_as_virsh(daemon, "vol-dumpxml", "--pool", pool.name, "x.qcow2", "--xpath", "//format|//capacity")
    same_as_virsh(daemon, "vol-dumpxml", pool.vol_path("x.qcow2"), "--xpath", "//nothing", "--wrap")
    same_result(daemon, "vol-dumpxml", pool.vol_path("x.qcow2"), "--xpath", "string(//name)")


@pytest.mark.parametrize("alg", ["nnsa", "dod", "bsi", "random"])
def test_wipe_algorithms_in_a_dir_pool(dir_pool, alg):
    """libvirt's dir pool wipes with scrub: the algorithm reaches it from
    vdisk-virsh as from virsh, and the volumes end up alike."""
    pool = dir_pool()
    daemon = pool.daemon
    for name in ("a", "b"):
        vv(daemon, "vol-create-as", pool.name, name, "1M")
        pool.vol_path(name).write_bytes(b"\xee" * MiB)
    mine = vv(daemon, "vol-wipe", "--pool", pool.name, "a", "--algorithm", alg)
    real = daemon.virsh("vol-wipe", "--pool", pool.name, "b", "--algorithm", alg)
    assert mine.stdout == "Vol a wiped\n\n" and real.stdout == "Vol b wiped\n\n"
    a, b = pool.vol_path("a").read_bytes(), pool.vol_path("b").read_bytes()
    assert len(a) == len(b) and b"\xee" * 4096 not in a
    if alg != "random":
        assert a == b


# ---- the embedded registry held to libvirt's dir pool (issue 19, part 3) ----

class Registry:
    """vdisk-virsh on an embedded registry of its own (no -c)."""

    def __init__(self, tmp_path, daemon):
        self.env = {k: v for k, v in daemon.env.items() if not k.startswith(("LIBVIRT_", "VIRSH_"))}
        self.env["VDISK_CONFIG_DIR"] = str(tmp_path / "registry")
        self.env.setdefault("VDISK_LUKS_ITER_TIME", "10")

    def run(self, *args, check=True):
        return run([VDISK_VIRSH, *args], check=check, env=self.env)


def field(out, label):
    for line in out.splitlines():
        if line.startswith(label + ":"):
            return line.split(":", 1)[1].split()[0]
    raise AssertionError(f"no {label} in {out!r}")


@pytest.fixture
def registry_pool(tmp_path, pool_dir, daemon):
    reg = Registry(tmp_path, daemon)
    reg.run("pool-create-as", "emb", "vdisk", "--target", pool_dir / "emb", "--build")
    return reg


def test_available_as_the_dir_pool(registry_pool, dir_pool):
    """Two pools on one file system show the same free space (f_bfree)."""
    ref = dir_pool()
    st = os.statvfs(ref.path)
    mine = int(field(registry_pool.run("pool-info", "emb", "--bytes").stdout, "Available"))
    real = int(ref.info()["Available"].split()[0])
    reserve = (st.f_bfree - st.f_bavail) * st.f_frsize
    assert abs(mine - real) < max(reserve // 2, 256 * MiB)


def copy_both(registry_pool, ref, pool_dir, xml, src_setup, *flags):
    """The same vol-create-from in libvirt's dir pool (daemon) and in the
    registry: the source made by src_setup(run, pool, dir), then copied."""
    daemon = ref.daemon
    doc = pool_dir / "new.xml"
    doc.write_text(xml)
    src_setup(lambda *a: daemon.virsh(*a), ref.name, ref.path)
    daemon.virsh("vol-create-from", ref.name, doc, "src", "--inputpool", ref.name, *flags)
    emb = pool_dir / "emb"
    src_setup(lambda *a: registry_pool.run(*a), "emb", emb)
    registry_pool.run("vol-create-from", "emb", doc, "src", "--inputpool", "emb", *flags)
    return ref.path / "new", emb / "new"


def raw_source(run_, pool, path):
    run_("vol-create-as", pool, "src", "4M")


@pytest.mark.parametrize("fmt", ["raw", "qcow2"])
def test_copy_capacity(registry_pool, dir_pool, pool_dir, fmt):
    """A raw copy gets the larger capacity; a qcow2 one keeps the source's
    size in libvirt's dir pool (qemu-img convert): the same in the registry."""
    ref = dir_pool()
    xml = f"<volume><name>new</name><capacity unit='M'>8</capacity><target><format type='{fmt}'/></target></volume>"
    theirs, mine = copy_both(registry_pool, ref, pool_dir, xml, raw_source)
    assert qemu_info(mine)["virtual-size"] == qemu_info(theirs)["virtual-size"]
    assert qemu_info(mine)["virtual-size"] == (8 * MiB if fmt == "raw" else 4 * MiB)


def test_copy_drops_the_backing_store(registry_pool, dir_pool, pool_dir):
    ref = dir_pool()
    base = pool_dir / "base.qcow2"
    qemu_img("create", "-q", "-f", "qcow2", base, "4M")
    xml = (f"<volume><name>new</name><capacity unit='M'>4</capacity><target><format type='qcow2'/></target>"
           f"<backingStore><path>{base}</path><format type='qcow2'/></backingStore></volume>")
    theirs, mine = copy_both(registry_pool, ref, pool_dir, xml, raw_source)
    assert "backing-filename" not in qemu_info(theirs)
    assert "backing-filename" not in qemu_info(mine)


def test_copy_prealloc_metadata_into_qcow2(registry_pool, dir_pool, pool_dir):
    ref = dir_pool()
    xml = "<volume><name>new</name><capacity unit='M'>16</capacity><target><format type='qcow2'/></target></volume>"
    theirs, mine = copy_both(registry_pool, ref, pool_dir, xml, raw_source, "--prealloc-metadata")
    # libvirt's dir pool converts with preallocation=falloc: the clusters
    # of the copy allocated (a sparse image holds only its metadata)
    ti, mi = qemu_info(theirs), qemu_info(mine)
    assert mi["virtual-size"] == ti["virtual-size"]
    assert os.stat(theirs).st_blocks * 512 >= 4 * MiB
    assert os.stat(mine).st_blocks * 512 >= 4 * MiB
    qemu_img("check", mine)


def enc_xml(name, size_m, fmt, uid):
    return (f"<volume><name>{name}</name><capacity unit='M'>{size_m}</capacity><target><format type='{fmt}'/>"
            f"<encryption format='luks'><secret type='passphrase' uuid='{uid}'/></encryption></target></volume>")


def registry_secret(reg, tmp_path, usage, passphrase):
    doc = tmp_path / "rs.xml"
    doc.write_text(f"<secret ephemeral='no' private='no'><usage type='volume'><volume>{usage}</volume></usage>"
                   "</secret>")
    uid = reg.run("secret-define", doc).stdout.split()[1]
    (tmp_path / "rs.b64").write_text(base64.b64encode(passphrase.encode()).decode())
    reg.run("secret-set-value", uid, "--file", tmp_path / "rs.b64")
    return uid


@pytest.mark.parametrize("fmt", ["raw", "qcow2"])
def test_copy_of_an_encrypted_source_gets_the_larger_capacity(registry_pool, dir_pool, pool_dir, secret,
                                                               tmp_path, fmt):
    """LUKS source (4M), encrypted copy of 8M: libvirt's dir pool makes it
    8M, whatever the output format; so does the registry."""
    ref = dir_pool()
    daemon = ref.daemon
    sizes = []
    for side in ("libvirt", "registry"):
        where = ref.path if side == "libvirt" else pool_dir / "emb"
        if side == "libvirt":
            u_src = secret("src-pass", usage=str(where / "src"))
            u_new = secret("new-pass", usage=str(where / "new"))
            run_, pool = (lambda *a: daemon.virsh(*a)), ref.name
        else:
            u_src = registry_secret(registry_pool, tmp_path, where / "src", "src-pass")
            u_new = registry_secret(registry_pool, tmp_path, where / "new", "new-pass")
            run_, pool = registry_pool.run, "emb"
        (tmp_path / "src.xml").write_text(enc_xml("src", 4, "raw", u_src))
        (tmp_path / "new.xml").write_text(enc_xml("new", 8, fmt, u_new))
        run_("vol-create", pool, tmp_path / "src.xml")
        run_("vol-create-from", pool, tmp_path / "new.xml", "src", "--inputpool", pool)
        sizes.append(field(run_("vol-info", "--bytes", "--pool", pool, "new").stdout, "Capacity"))
    assert sizes[0] == sizes[1] == str(8 * MiB)


def test_reflink_refusal_as_the_dir_pool(vdisk_pool, dir_pool):
    """vol-clone --reflink of a raw volume where the file system cannot
    share extents (the pools' file system here): a vdisk pool refuses it in
    the words of libvirt's dir pool, not as an internal error; nothing is
    left.  (Needs the prefix built from this tree: scripts/test.sh.)"""
    errors = []
    for pool in (dir_pool(), vdisk_pool()):
        vv(pool.daemon, "vol-create-as", pool.name, "r", "1M")
        probe = run(["cp", "--reflink=always", pool.vol_path("r"), pool.path / ".probe"], check=False)
        if probe.returncode == 0:
            pytest.skip("the pools' file system shares extents: the refusal is not reachable")
        (pool.path / ".probe").unlink(missing_ok=True)
        p = vv(pool.daemon, "vol-clone", "--pool", pool.name, "r", "r2", "--reflink", check=False)
        assert p.returncode == 1
        errors.append(p.stderr.replace(str(pool.path), "POOL"))
        assert "r2" not in pool.daemon.virsh("vol-list", pool.name).stdout
        assert not pool.vol_path("r2").exists()
    assert "unsupported flags" not in errors[1]
    assert errors[0] == errors[1]
