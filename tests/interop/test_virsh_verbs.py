"""The virsh verbs of issue 19 -- pool-create, pool-create-as, pool-edit,
pool-name, pool-uuid, vol-pool, pool-capabilities,
find-storage-pool-sources[-as], secret-get-value, secret-dumpxml -- and
--xpath/--wrap on the dumpxml verbs.

Two oracles:
- Debian's virsh 9.0 itself, on libvirt's test driver (test:///default and
  a test:///FILE node, in-process in libvirt0): the same command line run
  by virsh and by vdisk-virsh -c must print the same stdout and stderr and
  exit the same (the test driver keeps no state between processes, so
  each command starts from the same node);
- for the embedded registry: the XML the test wrote, Python's base64 and
  ElementTree, stat(2), and what the other verbs report.
"""
import base64
import os
import re
import subprocess
import xml.etree.ElementTree as ET

import pytest

from conftest import VDISK_VIRSH
from pool_common import virsh  # noqa: F401

VIRSH = "/usr/bin/virsh"

NODE = """<node>
  <pool type='dir'>
    <name>tp</name>
    <uuid>1c4b7d52-4a9e-4c5f-9f0e-7d2a1b3c4d5e</uuid>
    <capacity unit='G'>10</capacity>
    <allocation unit='M'>1536</allocation>
    <available unit='M'>8704</available>
    <target><path>/tp</path></target>
    <volume type='file'>
      <name>a.qcow2</name>
      <capacity unit='M'>64</capacity>
      <allocation unit='K'>196</allocation>
      <target><path>/tp/a.qcow2</path><format type='qcow2'/></target>
    </volume>
  </pool>
</node>
"""


@pytest.fixture
def env(tmp_path):
    """No URI from the environment, an empty registry, editors in tmp_path."""
    e = {k: v for k, v in os.environ.items()
         if not k.startswith(("LIBVIRT_", "VIRSH_")) and k not in ("EDITOR", "VISUAL")}
    e["VDISK_CONFIG_DIR"] = str(tmp_path / "registry")
    e["TMPDIR"] = str(tmp_path)
    return e


@pytest.fixture
def files(tmp_path):
    """The node, a pool XML and editor scripts the command lines name ({T}: tmp_path)."""
    (tmp_path / "node.xml").write_text(NODE)
    (tmp_path / "p.xml").write_text(f"<pool type='dir'>\n  <name>np</name>\n"
                                    f"  <target><path>{tmp_path}/np</path></target>\n</pool>\n")
    editors = {
        "same": "exit 0",
        "retarget": "sed -i 's|<path>/default-pool</path>|<path>/elsewhere</path>|' \"$1\"",
        "fails": "exit 3",
    }
    for name, body in editors.items():
        f = tmp_path / f"ed-{name}.sh"
        f.write_text(f"#!/bin/sh\n{body}\n")
        f.chmod(0o755)
    return tmp_path


def run(prog, args, env, uri):
    return subprocess.run([prog, "-c", uri, *args], capture_output=True, text=True, env=env,
                          stdin=subprocess.DEVNULL, timeout=120)


def scrub_tmp(text, tmp_path):
    """Temporary file names differ from run to run."""
    return re.sub(re.escape(str(tmp_path)) + r"/virsh\w{6}\.xml", "TMPFILE", text)


DEFAULT = "test:///default"
DRIVER_CASES = [
    # --xpath / --wrap (virshDumpXML)
    (DEFAULT, "pool-dumpxml default-pool --xpath //target/path", None),
    (DEFAULT, "pool-dumpxml default-pool --xpath //target --wrap", None),
    (DEFAULT, "pool-dumpxml default-pool --xpath //@type", None),
    (DEFAULT, "pool-dumpxml default-pool --xpath //nomatch --wrap", None),
    (DEFAULT, "pool-dumpxml default-pool --xpath //nomatch", None),
    (DEFAULT, "pool-dumpxml default-pool --xpath count(//target)", None),
    (DEFAULT, "pool-dumpxml default-pool --xpath ///", None),
    (DEFAULT, "pool-dumpxml default-pool --wrap", None),
    ("NODE", "vol-dumpxml --pool tp a.qcow2 --xpath //capacity", None),
    ("NODE", "vol-dumpxml /tp/a.qcow2 --xpath /volume/target --wrap", None),
    # pool-name (by UUID only), pool-uuid (by name only)
    ("NODE", "pool-name 1c4b7d52-4a9e-4c5f-9f0e-7d2a1b3c4d5e", None),
    ("NODE", "pool-name tp", None),
    ("NODE", "pool-name 1c4b7d52-4a9e-4c5f-9f0e-7d2a1b3c4d5f", None),
    ("NODE", "pool-uuid tp", None),
    ("NODE", "pool-uuid 1c4b7d52-4a9e-4c5f-9f0e-7d2a1b3c4d5e", None),
    ("NODE", "pool-uuid nosuch", None),
    # vol-pool
    ("NODE", "vol-pool /tp/a.qcow2", None),
    ("NODE", "vol-pool /tp/a.qcow2 --uuid", None),
    ("NODE", "vol-pool /tp/nosuch", None),
    # pool-capabilities: the test driver has none
    (DEFAULT, "pool-capabilities", None),
    # find-storage-pool-sources[-as]
    (DEFAULT, "find-storage-pool-sources logical", None),
    (DEFAULT, "find-storage-pool-sources dir", None),
    (DEFAULT, "find-storage-pool-sources bogus", None),
    (DEFAULT, "find-storage-pool-sources logical --srcSpec {T}/missing.xml", None),
    (DEFAULT, "find-storage-pool-sources-as logical", None),
    (DEFAULT, "find-storage-pool-sources-as netfs host.example 2049", None),
    # pool-create, pool-create-as
    (DEFAULT, "pool-create {T}/p.xml", None),
    (DEFAULT, "pool-create {T}/p.xml --build", None),
    (DEFAULT, "pool-create {T}/missing.xml", None),
    (DEFAULT, "pool-create {T}/p.xml --overwrite --no-overwrite", None),
    (DEFAULT, "pool-create-as cp dir --target {T}/cp", None),
    (DEFAULT, "pool-create-as cp dir - - - - {T}/cp", None),
    (DEFAULT, "pool-create-as cp dir --target {T}/cp --print-xml", None),
    (DEFAULT, "pool-create-as default-pool dir --target {T}/cp", None),
    # pool-edit: $VISUAL before $EDITOR, editors that change nothing, change
    # the target, fail, or are not there
    (DEFAULT, "pool-edit default-pool", {"EDITOR": "{T}/ed-same.sh"}),
    (DEFAULT, "pool-edit default-pool", {"EDITOR": "{T}/ed-retarget.sh"}),
    (DEFAULT, "pool-edit default-pool", {"VISUAL": "{T}/ed-same.sh", "EDITOR": "{T}/ed-fails.sh"}),
    (DEFAULT, "pool-edit default-pool", {"EDITOR": "{T}/ed-fails.sh"}),
    (DEFAULT, "pool-edit default-pool", {"EDITOR": "{T}/ed-same.sh --an-option"}),
    (DEFAULT, "pool-edit default-pool", {"EDITOR": "no-such-editor-here"}),
    (DEFAULT, "pool-edit nosuch", {"EDITOR": "{T}/ed-same.sh"}),
]


@pytest.mark.parametrize("uri,line,extra", DRIVER_CASES,
                         ids=[f"{c[1]}{'+' + '+'.join(c[2]) if c[2] else ''}" for c in DRIVER_CASES])
def test_as_virsh_on_the_test_driver(vdisk_bin, files, env, uri, line, extra):
    uri = f"test://{files}/node.xml" if uri == "NODE" else uri
    args = line.replace("{T}", str(files)).split()
    for k, v in (extra or {}).items():
        env[k] = v.replace("{T}", str(files))
    want = run(VIRSH, args, env, uri)
    got = run(str(VDISK_VIRSH), args, env, uri)
    assert (got.returncode, scrub_tmp(got.stdout, files), scrub_tmp(got.stderr, files)) == \
        (want.returncode, scrub_tmp(want.stdout, files), scrub_tmp(want.stderr, files))
    assert not list(files.glob("virsh*.xml"))          # pool-edit's temporary file is gone


# ---- the embedded registry ----

UUID = "0b8f4d3e-1a2b-4c5d-8e9f-a0b1c2d3e4f5"


def pool_doc(tmp_path, name="tp", uuid=UUID):
    f = tmp_path / f"{name}-def.xml"
    f.write_text(f"<pool type='vdisk'>\n  <name>{name}</name>\n  <uuid>{uuid}</uuid>\n"
                 f"  <target>\n    <path>{tmp_path / name}</path>\n  </target>\n</pool>\n")
    return f


def pool_names(virsh, *flags):
    return virsh.run("pool-list", "--name", *flags).stdout.split()


def test_pool_create_is_transient(virsh, tmp_path):
    doc = pool_doc(tmp_path)
    (tmp_path / "tp").mkdir()
    assert virsh.run("pool-create", doc).stdout == f"Pool tp created from {doc}\n\n"
    assert pool_names(virsh) == ["tp"]                       # active at once
    assert pool_names(virsh, "--transient") == ["tp"]
    assert pool_names(virsh, "--persistent") == []
    assert "Persistent:     no" in virsh.run("pool-info", "tp").stdout
    p = virsh.run("pool-undefine", "tp", check=False)        # as libvirt: still active
    assert p.returncode == 1 and "still active" in p.stderr
    virsh.run("pool-destroy", "tp")
    assert pool_names(virsh, "--all") == []                  # destroyed = forgotten
    assert (tmp_path / "tp").is_dir()                        # its directory stays


def test_pool_create_then_define_is_persistent(virsh, tmp_path):
    doc = pool_doc(tmp_path)
    virsh.run("pool-create", doc, "--build")
    assert (tmp_path / "tp").is_dir()                        # --build made it
    virsh.run("pool-define", doc)
    assert pool_names(virsh, "--persistent") == ["tp"]
    virsh.run("pool-destroy", "tp")
    assert pool_names(virsh, "--all") == ["tp"]              # kept, inactive


def test_pool_create_that_cannot_start_leaves_nothing(virsh, tmp_path):
    doc = pool_doc(tmp_path)                                 # its directory is missing, no --build
    p = virsh.run("pool-create", doc, check=False)
    assert p.returncode == 1
    assert p.stderr.startswith(f"error: Failed to create pool from {doc}\nerror: ")
    assert pool_names(virsh, "--all") == []
    assert sorted(os.listdir(virsh.registry / "pools")) == []


def test_pool_create_existing_name_refused(virsh, tmp_path):
    doc = pool_doc(tmp_path)
    virsh.run("pool-define", doc)
    p = virsh.run("pool-create", doc, check=False)
    assert p.returncode == 1 and "already exists" in p.stderr
    assert pool_names(virsh, "--persistent", "--all") == ["tp"]


def test_pool_create_as(virsh, tmp_path):
    target = tmp_path / "cp"
    out = virsh.run("pool-create-as", "cp", "dir", "--target", target, "--build").stdout
    assert out == "Pool cp created\n\n"
    assert target.is_dir() and pool_names(virsh, "--transient") == ["cp"]
    xml = virsh.run("pool-create-as", "xp", "dir", "--target", target, "--print-xml").stdout
    assert ET.fromstring(xml).find("target/path").text == str(target)
    assert "xp" not in pool_names(virsh, "--all")            # --print-xml makes nothing


def editor(tmp_path, body):
    f = tmp_path / "editor.sh"
    f.write_text(f"#!/bin/sh\n{body}\n")
    f.chmod(0o755)
    return f


def test_pool_edit_registry(virsh, tmp_path):
    virsh.make_pool("tp")
    virsh.env["EDITOR"] = str(editor(tmp_path, "sed -i 's|>lazy</vdisk:zeroing>|>eager</vdisk:zeroing>|' \"$1\""))
    virsh.env["TMPDIR"] = str(tmp_path)
    assert virsh.run("pool-edit", "tp").stdout == "Pool tp XML configuration edited.\n\n"
    assert virsh.json("pool-info", "tp", "--json")["zeroing"] == "eager"
    virsh.env["EDITOR"] = str(editor(tmp_path, "exit 0"))
    assert virsh.run("pool-edit", "tp").stdout == "Pool tp XML configuration not changed.\n\n"
    before = virsh.run("pool-dumpxml", "tp", "--inactive").stdout
    virsh.env["EDITOR"] = str(editor(tmp_path, "echo '<pool type=' > \"$1\""))
    p = virsh.run("pool-edit", "tp", check=False)
    assert p.returncode == 1 and p.stderr.startswith("error: Failed.\nerror: ")
    assert virsh.run("pool-dumpxml", "tp", "--inactive").stdout == before
    assert not list(tmp_path.glob("virsh*.xml"))


def test_pool_name_uuid_vol_pool_registry(virsh, tmp_path):
    doc = pool_doc(tmp_path)
    virsh.run("pool-define", doc)
    virsh.run("pool-build", "tp")
    virsh.run("pool-start", "tp")
    assert virsh.run("pool-uuid", "tp").stdout == UUID + "\n\n"
    assert virsh.run("pool-name", UUID).stdout == "tp\n\n"
    p = virsh.run("pool-name", "tp", check=False)           # by UUID only, as virsh
    assert (p.returncode, p.stderr) == (1, "error: failed to get pool 'tp'\n")
    virsh.run("vol-create-as", "tp", "v", "1M")
    vol = tmp_path / "tp" / "v"
    assert virsh.run("vol-pool", vol).stdout == "tp\n\n"
    assert virsh.run("vol-pool", vol, "--uuid").stdout == UUID + "\n\n"
    p = virsh.run("vol-pool", tmp_path / "tp" / "nosuch", check=False)
    assert p.returncode == 1
    assert p.stderr.startswith(f"error: failed to get vol '{tmp_path / 'tp' / 'nosuch'}'\n")


def test_pool_capabilities_lists_what_is_created(virsh):
    virsh.make_pool("tp")
    caps = ET.fromstring(virsh.run("pool-capabilities").stdout)
    assert caps.tag == "storagepoolCapabilities"
    pools = {p.get("type"): p for p in caps.findall("pool")}
    assert set(pools) == {"dir", "vdisk"} and all(p.get("supported") == "yes" for p in pools.values())
    formats = [v.text for v in pools["vdisk"].findall("volOptions/enum[@name='targetFormatType']/value")]
    assert pools["vdisk"].find("volOptions/defaultFormat").get("type") == "raw"
    assert "raw" in formats and "qcow2" in formats
    for fmt in formats:                                      # each one listed is created
        virsh.run("vol-create-as", "tp", f"v.{fmt}", "1M", "--format", fmt)
    for fmt in ("vdi", "qed", "parallels"):                  # read only: not listed
        assert fmt not in formats
        assert virsh.run("vol-create-as", "tp", f"v.{fmt}", "1M", "--format", fmt, check=False).returncode


@pytest.mark.parametrize("cmd", ["find-storage-pool-sources", "find-storage-pool-sources-as"])
def test_no_discovery_in_registry(virsh, cmd):
    p = virsh.run(cmd, "dir", check=False)
    assert p.returncode == 1
    assert p.stderr == ("error: Failed to find any dir pool sources\nerror: this function is not supported "
                        "by the connection driver: pool type 'dir' does not support source discovery\n")
    p = virsh.run(cmd, "logical", check=False)
    assert p.returncode == 1 and "unknown storage pool type logical" in p.stderr


def define_secret(virsh, tmp_path, private="no"):
    f = tmp_path / "secret.xml"
    f.write_text(f"<secret ephemeral='no' private='{private}'>\n  <description>disk key</description>\n"
                 f"  <usage type='volume'>\n    <volume>{tmp_path}/disk.img</volume>\n  </usage>\n</secret>\n")
    return virsh.run("secret-define", f).stdout.split()[1]


def test_secret_get_value(virsh, tmp_path):
    uuid = define_secret(virsh, tmp_path)
    p = virsh.run("secret-get-value", uuid, check=False)
    assert (p.returncode, p.stderr) == (1, f"error: secret '{uuid}' does not have a value\n")
    value = bytes(range(256)) + b"pass phrase\n"
    (tmp_path / "value").write_bytes(value)
    virsh.run("secret-set-value", uuid, "--file", tmp_path / "value", "--plain")
    assert virsh.run("secret-get-value", uuid).stdout == base64.b64encode(value).decode() + "\n"
    p = subprocess.run([str(VDISK_VIRSH), "secret-get-value", uuid, "--plain"], capture_output=True,
                       env=virsh.env, check=True)
    assert p.stdout == value + b"\n"                          # virsh's line after every command
    # By usage id too, as every secret verb.
    assert virsh.run("secret-get-value", f"{tmp_path}/disk.img").stdout.startswith(
        base64.b64encode(value).decode()[:16])


def test_secret_dumpxml(virsh, tmp_path):
    uuid = define_secret(virsh, tmp_path, private="yes")
    root = ET.fromstring(virsh.run("secret-dumpxml", uuid).stdout)
    assert root.tag == "secret" and root.get("private") == "yes" and root.get("ephemeral") == "no"
    assert root.find("uuid").text == uuid
    assert root.find("description").text == "disk key"
    assert root.find("usage").get("type") == "volume"
    assert root.find("usage/volume").text == f"{tmp_path}/disk.img"
    out = virsh.run("secret-dumpxml", uuid, "--xpath", "//usage/volume").stdout
    assert out == f"<volume>{tmp_path}/disk.img</volume>\n\n"
    p = virsh.run("secret-dumpxml", "0b8f4d3e-1a2b-4c5d-8e9f-000000000000", check=False)
    assert p.returncode == 1 and p.stderr.startswith("error: failed to get secret ")


def test_xpath_on_registry_dumpxml(virsh, tmp_path):
    path = virsh.make_pool("tp")
    virsh.run("vol-create-as", "tp", "v", "3M")
    assert virsh.run("pool-dumpxml", "tp", "--xpath", "/pool/target/path").stdout == \
        f"<path>{path}</path>\n\n"
    out = virsh.run("vol-dumpxml", "v", "--pool", "tp", "--xpath", "//capacity", "--wrap").stdout
    wrapped = ET.fromstring(out)
    assert wrapped.tag == "nodes" and [c.tag for c in wrapped] == ["capacity"]
    assert int(wrapped[0].text) == 3 << 20 and wrapped[0].get("unit") == "bytes"
    p = virsh.run("vol-dumpxml", "v", "--pool", "tp", "--xpath", "count(//capacity)", check=False)
    assert (p.returncode, p.stderr) == (1, "error: internal error: Incorrect xpath 'count(//capacity)'\n")
