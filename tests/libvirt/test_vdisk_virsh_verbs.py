"""The virsh verbs of issue 19 through vdisk-virsh -c URI against the
patched daemon, held to the prefix's real virsh on the same daemon:
pool-create, pool-create-as, pool-edit, pool-name, pool-uuid, vol-pool,
pool-capabilities, find-storage-pool-sources[-as], secret-get-value,
secret-dumpxml, --xpath/--wrap, and vol-wipe's multi-pass algorithms on
libvirt's dir pools (the daemon runs scrub for them).
"""
import base64
import re
import uuid as uuidlib

import pytest

from conftest import MiB, pool_xml, run
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
