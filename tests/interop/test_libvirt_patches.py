"""plugin/libvirt/patches/ against Debian's libvirt source package.

Oracles: Debian's libvirt tree itself (the series must apply to it with
patch -p1, in order), libvirt's own RelaxNG schema and XML test data (every
pool document libvirt accepted before the series it still accepts after it),
and xmllint.  The vdisk namespace in the patched libvirt schema must agree
with vdisk's own grammar (xml-schemas/storagepool-vdisk.rng) on each
document below.  No libvirt build is needed: only the files the series
touches are copied and patched.
"""
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from xml_common import BUILD, POOL_RNG, REPO, NS, xmllint_valid

PATCHES = sorted((REPO / "plugin" / "libvirt" / "patches").glob("*.patch"))


@pytest.fixture(scope="session")
def debian_tree():
    """Debian's libvirt source, Debian's patches applied (dpkg-source -x)."""
    p = subprocess.run([REPO / "scripts" / "fetch-libvirt-source.sh", "--full", "--cache",
                        BUILD / "libvirt-src"], capture_output=True, text=True)
    if p.returncode != 0:
        pytest.fail(f"scripts/fetch-libvirt-source.sh --full failed:\n{p.stderr}")
    return Path(p.stdout.strip().splitlines()[-1])


def touched(patch):
    return re.findall(r"^\+\+\+ b/(\S+)", patch.read_text(), re.M)


@pytest.fixture(scope="session")
def patched(debian_tree, tmp_path_factory):
    """(before, after): copies of the schemas and of every file the series
    touches, unpatched and with the whole series applied in order."""
    before = tmp_path_factory.mktemp("libvirt-before")
    after = tmp_path_factory.mktemp("libvirt-after")
    files = {f for p in PATCHES for f in touched(p)}
    for root in (before, after):
        shutil.copytree(debian_tree / "src/conf/schemas", root / "src/conf/schemas")
        for f in files:
            if (debian_tree / f).exists():
                (root / f).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(debian_tree / f, root / f)
    for p in PATCHES:
        r = subprocess.run(["patch", "-p1", "--batch", "--forward", "-d", after, "-i", p],
                           capture_output=True, text=True)
        assert r.returncode == 0, f"{p.name} does not apply:\n{r.stdout}{r.stderr}"
        assert "fuzz" not in r.stdout and "offset" not in r.stdout, f"{p.name}: {r.stdout}"
    return before, after


def test_series_is_git_format_patch_with_messages():
    assert len(PATCHES) >= 4
    for i, p in enumerate(PATCHES, 1):
        text = p.read_text()
        assert p.name.startswith(f"{i:04d}-")
        subject = re.search(r"^Subject: \[PATCH (\d+)/(\d+)\] (.+)$", text, re.M)
        assert subject and int(subject.group(1)) == i and int(subject.group(2)) == len(PATCHES)
        body = text[subject.end():text.index("\n---\n")]
        assert len(body.strip().splitlines()) >= 3, f"{p.name}: no commit message"
        assert "Signed-off-by: " in body


def test_series_applies_to_debian_libvirt(patched):
    _, after = patched
    rng = (after / "src/conf/schemas/storagepool.rng").read_text()
    assert "<value>vdisk</value>" in rng and NS in rng


def test_libvirt_pool_test_data_keeps_its_verdict(debian_tree, patched):
    """Every pool document of libvirt's test data validates after the series
    exactly when it did before (the series only adds)."""
    before, after = patched
    docs = sorted((debian_tree / "tests").glob("storagepoolxml2xml*/*.xml"))
    docs += sorted((debian_tree / "tests/storagepoolschemadata").glob("*.xml"))
    assert len(docs) > 40
    for doc in docs:
        old, _ = xmllint_valid(before / "src/conf/schemas/storagepool.rng", doc)
        new, err = xmllint_valid(after / "src/conf/schemas/storagepool.rng", doc)
        assert old == new, f"{doc.name}: {old} before the series, {new} after\n{err}"


def pool(provisioning="", pool_type="vdisk", target="<target><path>/srv/vdisk</path></target>"):
    return (f"<pool type='{pool_type}' xmlns:vdisk='{NS}'>\n  <name>images</name>\n"
            f"  {target}\n  {provisioning}\n</pool>\n")


def prov(*children):
    return "<vdisk:provisioning>" + "".join(children) + "</vdisk:provisioning>"


CASES = {
    "plain": (pool(), True),
    "empty-provisioning": (pool(prov()), True),
    "lazy": (pool(prov("<vdisk:zeroing>lazy</vdisk:zeroing>")), True),
    "eager-and-ratio": (pool(prov("<vdisk:zeroing>eager</vdisk:zeroing>",
                                  "<vdisk:overcommit>1.5</vdisk:overcommit>")), True),
    "ratio-first": (pool(prov("<vdisk:overcommit>3</vdisk:overcommit>",
                              "<vdisk:zeroing>eager</vdisk:zeroing>")), True),
    "zeroing-bad": (pool(prov("<vdisk:zeroing>sometimes</vdisk:zeroing>")), False),
    "ratio-zero": (pool(prov("<vdisk:overcommit>0</vdisk:overcommit>")), False),
    "ratio-negative": (pool(prov("<vdisk:overcommit>-2</vdisk:overcommit>")), False),
    "ratio-word": (pool(prov("<vdisk:overcommit>lots</vdisk:overcommit>")), False),
    "unknown-child": (pool(prov("<vdisk:thin>yes</vdisk:thin>")), False),
    "no-namespace": (pool("<provisioning><zeroing>eager</zeroing></provisioning>"), False),
    "no-target": (pool(target=""), False),
    "backing-allow": (pool("<vdisk:backing><vdisk:outside>allow</vdisk:outside></vdisk:backing>"), True),
    "backing-and-provisioning": (pool(prov("<vdisk:zeroing>lazy</vdisk:zeroing>") +
                                      "<vdisk:backing><vdisk:outside>refuse</vdisk:outside>"
                                      "</vdisk:backing>"), True),
    "backing-empty": (pool("<vdisk:backing/>"), True),
    "backing-bad": (pool("<vdisk:backing><vdisk:outside>maybe</vdisk:outside></vdisk:backing>"), False),
    "backing-no-namespace": (pool("<backing><outside>allow</outside></backing>"), False),
}

# Pools on Ceph RBD and on shared filesystems (patch 0007): libvirt's rbd and
# netfs source grammars, as vdisk's parser takes them.
RBD_SOURCE = ("<source><host name='mon1' port='6789'/><name>rbd</name>"
              "<auth type='ceph' username='libvirt'>"
              "<secret uuid='2ec115d7-3a88-3ceb-bc12-0ac909a6fd87'/></auth></source>")
NETFS_SOURCE = ("<source><host name='gluster1'/><dir path='/vmvol'/>"
                "<format type='glusterfs'/></source>")
CASES.update({
    "rbd": (pool(RBD_SOURCE, target=""), True),
    "rbd-no-host-no-auth": (pool("<source><name>rbd</name></source>", target=""), True),
    "rbd-config": (pool(RBD_SOURCE + "<vdisk:config file='/etc/ceph/ceph.conf'/>", target=""), True),
    "rbd-config-relative": (pool(RBD_SOURCE + "<vdisk:config file='ceph.conf'/>", target=""), False),
    "rbd-with-target": (pool(RBD_SOURCE), False),
    "rbd-with-provisioning": (pool(RBD_SOURCE + prov("<vdisk:zeroing>eager</vdisk:zeroing>"),
                                   target=""), True),
    "rbd-auth-chap": (pool("<source><name>rbd</name><auth type='chap' username='u'>"
                           "<secret usage='x'/></auth></source>", target=""), False),
    "rbd-name-with-slash": (pool("<source><name>rbd/x</name></source>", target=""), False),
    "netfs": (pool(NETFS_SOURCE), True),
    "netfs-nfs-no-format": (pool("<source><host name='nfs1'/><dir path='/export'/></source>"), True),
    "netfs-no-target": (pool(NETFS_SOURCE, target=""), False),
    "netfs-port": (pool("<source><host name='nfs1' port='2049'/><dir path='/export'/></source>"),
                   False),
    "netfs-cifs": (pool("<source><host name='smb1'/><dir path='/share'/>"
                        "<format type='cifs'/></source>"), False),
    "netfs-relative-dir": (pool("<source><host name='nfs1'/><dir path='export'/></source>"), False),
    "config-on-local-pool": (pool("<vdisk:config file='/etc/ceph/ceph.conf'/>"), False),
})


@pytest.mark.parametrize("name", sorted(CASES))
def test_patched_schema_agrees_with_vdisk_grammar(patched, tmp_path, name):
    _, after = patched
    text, expected = CASES[name]
    doc = tmp_path / f"{name}.xml"
    doc.write_text(text)
    ours, our_err = xmllint_valid(POOL_RNG, doc)
    libvirt, lv_err = xmllint_valid(after / "src/conf/schemas/storagepool.rng", doc)
    assert ours == expected, f"xml-schemas/storagepool-vdisk.rng on {name}: {our_err}"
    assert libvirt == expected, f"patched storagepool.rng on {name}: {lv_err}"


def enum_body(text, name):
    m = re.search(r"typedef enum \{(.*?)\} " + name + ";", text, re.S)
    assert m, name
    return m.group(1)


def test_pool_type_enum_names_and_list_flag(patched):
    """The new pool type has a name at its enum position, the list flag takes
    the next free bit and is in the pool-type filter group."""
    _, after = patched
    conf_h = (after / "src/conf/storage_conf.h").read_text()
    types = re.findall(r"^\s*(VIR_STORAGE_POOL_[A-Z_]+),", enum_body(conf_h, "virStoragePoolType"),
                       re.M)
    impl = (after / "src/conf/storage_conf.c").read_text()
    names_src = re.search(r"VIR_ENUM_IMPL\(virStoragePool,\s*VIR_STORAGE_POOL_LAST,(.*?)\);",
                          impl, re.S).group(1)
    names = re.findall(r'"([^"]+)"', names_src)
    assert types[-1] == "VIR_STORAGE_POOL_LAST"
    assert len(names) == len(types) - 1
    assert names[types.index("VIR_STORAGE_POOL_VDISK")] == "vdisk"

    pub = (after / "include/libvirt/libvirt-storage.h").read_text()
    bits = {n: int(b) for n, b in re.findall(
        r"(VIR_CONNECT_LIST_STORAGE_POOLS_\w+)\s*=\s*1 << (\d+)",
        enum_body(pub, "virConnectListAllStoragePoolsFlags"))}
    assert bits["VIR_CONNECT_LIST_STORAGE_POOLS_VDISK"] == max(
        b for n, b in bits.items() if not n.endswith("_VDISK")) + 1
    group = re.search(r"FILTERS_POOL_TYPE \\(.*?)\n\n", conf_h, re.S).group(1)
    assert "VIR_CONNECT_LIST_STORAGE_POOLS_VDISK" in group
    obj = (after / "src/conf/virstorageobj.c").read_text()
    assert re.search(r"MATCH\(VIR_CONNECT_LIST_STORAGE_POOLS_VDISK\) &&\s*"
                     r"\(obj->def->type == VIR_STORAGE_POOL_VDISK\)", obj)


def test_capabilities_follow_the_backend(patched):
    """The pool capabilities skip the formats a backend module says it does
    not create (the hook the vdisk module registers), and the hook is exported
    to modules."""
    _, after = patched
    conf = (after / "src/conf/storage_conf.c").read_text()
    body = re.search(r"virStoragePoolOptionsFormatVolume\(.*?\n}\n", conf, re.S).group(0)
    assert re.search(r"formatCanCreate && !volOptions->formatCanCreate\(i\)\)\s*continue;", body)
    syms = (after / "src/libvirt_private.syms").read_text()
    assert "virStoragePoolOptionsPoolTypeSetVolFormatCanCreate;" in syms
    assert "virStoragePoolOptionsPoolTypeSetVolFormatCanCreate" in (
        after / "src/conf/storage_conf.h").read_text()
