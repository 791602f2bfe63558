"""Options of the embedded registry's verbs that issue 19 found accepted
and ignored: --validate (pool-define, vol-create, vol-create-from,
secret-define) against vdisk's RelaxNG schemas, and --reflink (vol-clone,
vol-create-from) sharing extents with FICLONE or refused.

Oracles: xmllint --relaxng (the same verdict), Debian's virsh 9.0 on the
test driver (the words of a failed validation), libvirt's own secret test
data, cmp and filefrag (the clone's bytes and its shared extents).
"""
import os
import shutil
import subprocess

import pytest

from conftest import REPO
from pool_common import virsh  # noqa: F401
from xml_common import libvirt_src  # noqa: F401

SCHEMAS = REPO / "xml-schemas"
MiB = 1 << 20


@pytest.fixture
def vs(virsh):
    virsh.env["VDISK_SCHEMA_DIR"] = str(SCHEMAS)
    return virsh


def xmllint_ok(schema, doc):
    return subprocess.run(["xmllint", "--noout", "--relaxng", str(SCHEMAS / schema), str(doc)],
                          capture_output=True).returncode == 0


def pool_names(v):
    return v.run("pool-list", "--all", "--name").stdout.split()


def test_pool_define_validate(vs, tmp_path):
    bad = tmp_path / "bad.xml"       # an element no schema has: the parser ignores it, the schema does not
    bad.write_text(f"<pool type='vdisk'><name>b</name><bogus/><target><path>{tmp_path}/b</path></target></pool>")
    assert not xmllint_ok("storagepool-vdisk.rng", bad)
    p = vs.run("pool-define", bad, "--validate", check=False)
    assert p.returncode == 1
    lines = p.stderr.splitlines()
    assert lines[0] == f"error: Failed to define pool from {bad}"
    assert lines[1] == ("error: XML document failed to validate against schema: Unable to validate doc "
                        f"against {SCHEMAS}/storagepool-vdisk.rng")
    assert pool_names(vs) == []
    vs.run("pool-define", bad)                              # without --validate: defined
    assert pool_names(vs) == ["b"]
    good = tmp_path / "good.xml"
    good.write_text(f"<pool type='vdisk'><name>g</name><target><path>{tmp_path}/g</path></target></pool>")
    assert xmllint_ok("storagepool-vdisk.rng", good)
    vs.run("pool-define", good, "--validate")
    assert "g" in pool_names(vs)


def test_validate_words_are_virshs(vs, tmp_path):
    """The same document refused by virsh (libvirt's schema, test driver)
    and by vdisk-virsh (vdisk's): the same first line and message start."""
    doc = tmp_path / "v.xml"
    doc.write_text("<volume><name>v</name><capacity>x1</capacity></volume>")
    vs.make_pool("p")
    mine = vs.run("vol-create", "p", doc, "--validate", check=False)
    real = subprocess.run(["virsh", "-c", "test:///default", "vol-create", "default-pool", doc, "--validate"],
                          capture_output=True, text=True)
    assert mine.returncode == real.returncode == 1
    head = "error: XML document failed to validate against schema: Unable to validate doc against "
    for p in (mine, real):
        lines = p.stderr.splitlines()
        assert lines[0] == f"error: Failed to create vol from {doc}" and lines[1].startswith(head)
    assert not (tmp_path / "p" / "v").exists()


def test_vol_create_and_create_from_validate(vs, tmp_path):
    path = vs.make_pool("p")
    vs.run("vol-create-as", "p", "src", "1M")
    doc = tmp_path / "v.xml"
    doc.write_text("<volume><name>v</name><capacity unit='M'>1</capacity><extra/></volume>")
    assert not xmllint_ok("storagevol.rng", doc)
    for args in (("vol-create", "p", doc), ("vol-create-from", "p", doc, "src", "--inputpool", "p")):
        p = vs.run(*args, "--validate", check=False)
        assert p.returncode == 1 and "failed to validate against schema" in p.stderr
        assert not (path / "v").exists()
        vs.run(*args)                                         # accepted without
        vs.run("vol-delete", "v", "--pool", "p")


def test_secret_define_validate(vs, tmp_path):
    bad = tmp_path / "s.xml"
    bad.write_text("<secret ephemeral='no' private='no'><usage type='volume'><name>x</name></usage></secret>")
    assert not xmllint_ok("secret.rng", bad)
    p = vs.run("secret-define", bad, "--validate", check=False)
    assert p.returncode == 1
    assert p.stderr.splitlines()[0] == f"error: Failed to set attributes from {bad}"
    assert "failed to validate against schema" in p.stderr
    assert vs.run("secret-list", "--json").stdout.strip() in ("[]", "[\n]")


def test_secret_schema_takes_libvirts_test_data(vs, libvirt_src):
    """libvirt's own secret XML test data validates, by xmllint and by secret-define --validate."""
    docs = sorted((libvirt_src / "tests" / "secretxml2xmlin").glob("*.xml"))
    assert len(docs) >= 5
    for doc in docs:
        assert xmllint_ok("secret.rng", doc), doc
        p = vs.run("secret-define", doc, "--validate", check=False)
        assert "failed to validate" not in p.stderr, (doc, p.stderr)


def test_reflink_refused_where_the_file_system_cannot(virsh):
    path = virsh.make_pool("p")             # the test's tmp directory: not a reflink file system here
    virsh.run("vol-create-as", "p", "r", "2M")
    (path / "r").write_bytes(os.urandom(2 * MiB))
    probe = subprocess.run(["cp", "--reflink=always", str(path / "r"), str(virsh.tmp / "probe")],
                           capture_output=True)
    if probe.returncode == 0:
        pytest.skip("this file system shares extents; the refusal is not reachable here")
    before = sorted(os.listdir(path))
    p = virsh.run("vol-clone", "r", "r2", "--pool", "p", "--reflink", check=False)
    assert p.returncode == 1
    assert p.stderr == (f"error: Failed to clone vol from r\nerror: failed to clone files from "
                        f"'{path / 'r'}': Operation not supported\n")
    assert sorted(os.listdir(path)) == before                 # nothing half-made
    assert "r2" not in virsh.run("vol-list", "p").stdout
    virsh.run("vol-create-as", "p", "q", "2M", "--format", "qcow2")
    p = virsh.run("vol-clone", "q", "q2", "--pool", "p", "--reflink", check=False)
    assert p.returncode == 1 and "raw volumes only" in p.stderr
    assert not (path / "q2").exists()


@pytest.fixture
def xfs_dir(tmp_path):
    """A loop-mounted XFS (it shares extents), unmounted after the test."""
    if os.geteuid() != 0 or not shutil.which("mkfs.xfs"):
        pytest.skip("needs root and mkfs.xfs (xfsprogs) for a loop-mounted XFS")
    img, mnt = tmp_path / "xfs.img", tmp_path / "mnt"
    mnt.mkdir()
    with open(img, "wb") as f:
        f.truncate(300 * MiB)
    subprocess.run(["mkfs.xfs", "-q", "-f", str(img)], check=True)
    if subprocess.run(["mount", "-o", "loop", str(img), str(mnt)], capture_output=True).returncode != 0:
        pytest.skip("cannot loop-mount here")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", str(mnt)], check=False)


def test_reflink_clone_shares_extents(virsh, xfs_dir):
    pool = xfs_dir / "pool"
    xml = virsh.tmp / "p.xml"
    xml.write_text(virsh.pool_xml("p", pool))
    virsh.run("pool-define", xml)
    virsh.run("pool-build", "p")
    virsh.run("pool-start", "p")
    virsh.run("vol-create-as", "p", "r", "4M")
    (pool / "r").write_bytes(os.urandom(4 * MiB))
    os.sync()
    assert virsh.run("vol-clone", "r", "r2", "--pool", "p", "--reflink").stdout == "Vol r2 cloned from r\n\n"
    assert (pool / "r2").read_bytes() == (pool / "r").read_bytes()
    frag = subprocess.run(["filefrag", "-v", str(pool / "r2")], capture_output=True, text=True, check=True).stdout
    assert "shared" in frag, frag
    # vol-create-from --reflink too, into a larger capacity.
    doc = virsh.tmp / "v.xml"
    doc.write_text("<volume><name>r3</name><capacity unit='M'>8</capacity></volume>")
    virsh.run("vol-create-from", "p", doc, "r", "--inputpool", "p", "--reflink")
    assert os.path.getsize(pool / "r3") == 8 * MiB
    assert (pool / "r3").read_bytes()[:4 * MiB] == (pool / "r").read_bytes()
    virsh.run("pool-destroy", "p")
