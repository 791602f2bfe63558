"""vdisk's RelaxNG schemas (xml-schemas/) and its XML parser agree: xmllint
accepts exactly the documents vdisk accepts, over a set of good and bad pool
and volume documents.  Hostile documents (XXE, billion laughs) are refused
with an error naming the file and line, and nothing of the targets leaks.
"""
import re

import pytest

from xml_common import NS, POOL_RNG, VOL_RNG, vdisk_xml, xmllint_valid

VOL = """<volume>
  <name>{name}</name>
  <capacity unit='{unit}'>{capacity}</capacity>
  <target>
    <format type='{format}'/>{target}
  </target>{extra}
</volume>
"""


def vol(name="disk.qcow2", unit="GiB", capacity="5", format="qcow2", target="", extra=""):
    return VOL.format(name=name, unit=unit, capacity=capacity, format=format, target=target,
                      extra=extra)


POOL = """<pool type='{type}' xmlns:vdisk='{ns}'>
  <name>{name}</name>
  <target><path>{path}</path></target>
  <vdisk:provisioning>{prov}</vdisk:provisioning>{extra}
</pool>
"""


def pool(type="vdisk", name="images", path="/srv/images",
         prov="<vdisk:zeroing>eager</vdisk:zeroing><vdisk:overcommit>1.5</vdisk:overcommit>",
         extra=""):
    return POOL.format(type=type, ns=NS, name=name, path=path, prov=prov, extra=extra)


RBD_POOL = """<pool type='{type}' xmlns:vdisk='{ns}'>
  <name>ceph</name>
  <source>{hosts}<name>{rbd}</name>{auth}</source>{extra}
</pool>
"""
AUTH = ("<auth type='ceph' username='libvirt'>"
        "<secret uuid='2ec115d7-3a88-3ceb-bc12-0ac909a6fd87'/></auth>")


def rbd_pool(type="vdisk", hosts="<host name='10.0.0.1' port='6789'/><host name='mon2'/>",
             rbd="rbd", auth=AUTH, extra=""):
    return RBD_POOL.format(type=type, ns=NS, hosts=hosts, rbd=rbd, auth=auth, extra=extra)


GOOD_VOLS = {
    "plain": vol(),
    "raw-bytes": vol(format="raw", unit="bytes", capacity="1048576"),
    "iso": vol(name="cidata.iso", format="iso", unit="MiB", capacity="1"),
    "decimal-unit": vol(unit="GB", capacity="10"),
    "lowercase-unit": vol(unit="kib", capacity="64"),
    "features": vol(target="<compat>1.1</compat><clusterSize unit='KiB'>128</clusterSize>"
                           "<features><lazy_refcounts/><extended_l2/></features><nocow/>"),
    "permissions": vol(target="<permissions><mode>0640</mode><owner>107</owner><group>-1</group>"
                              "<label>virt_image_t</label></permissions>"),
    "luks": vol(target="<encryption format='luks'><secret type='passphrase' "
                       "uuid='f52a81b2-424e-490c-823d-6bd4235bc572'/><cipher name='aes' size='256' "
                       "mode='xts' hash='sha256'/><ivgen name='plain64' hash='sha256'/></encryption>"),
    "backing": vol(extra="\n  <backingStore><path>/srv/base.img</path><format type='vmdk'/></backingStore>"),
    "vmdk-target": vol(name="disk.vmdk", format="vmdk"),
    "vhdx-target": vol(name="disk.vhdx", format="vhdx"),
    "dots-inside-name": vol(name="a..b.img"),
    "long-name": vol(name="n" * 255),
}

BAD_VOLS = {
    "slash-in-name": (vol(name="../etc/passwd"), "contains '/'"),
    "dotdot-name": (vol(name=".."), "not allowed"),
    "name-too-long": (vol(name="n" * 256), "more than 255"),
    "control-char": (vol(name="a&#x1b;b"), None),     # ESC is not even an XML character
    "tab-in-name": (vol(name="a&#9;b"), "control character"),
    "unknown-unit": (vol(unit="XB"), ":3: <capacity unit='XB'>: unknown unit"),
    "negative": (vol(capacity="-5"), "not a non-negative"),
    "fraction": (vol(capacity="1.5"), "not a non-negative"),
    "qed-target": (vol(format="qed"), "not supported"),
    "bad-compat": (vol(target="<compat>2.0</compat>"), "compat '2.0'"),
    "bad-mode": (vol(target="<permissions><mode>0999</mode></permissions>"), "octal mode"),
    "unknown-feature": (vol(target="<features><zstd/></features>"), "unsupported feature"),
    "luks2": (vol(target="<encryption format='luks2'/>"), "luks2"),
    "block-type": (vol().replace("<volume>", "<volume type='block'>"), "volume type 'block'"),
    "no-name": (vol().replace("<name>disk.qcow2</name>", ""), "missing <name>"),
}



def netfs_pool(type="vdisk", source="<host name='gluster1'/><dir path='/vmvol'/>"
                                    "<format type='glusterfs'/>", extra=""):
    """A pool on a shared filesystem (libvirt's netfs grammar)."""
    return pool(type=type, extra=f"\n  <source>{source}</source>{extra}")


GOOD_POOLS = {
    "vdisk": pool(),
    "netfs": netfs_pool(),
    "netfs-libvirt-type": netfs_pool(type="netfs"),
    "netfs-nfs": netfs_pool(source="<format type='nfs'/><dir path='/export/vms'/><host name='nas'/>"),
    "netfs-auto": netfs_pool(source="<host name='10.0.0.5'/><dir path='/export'/>"),
    "rbd": rbd_pool(),
    "rbd-libvirt-type": rbd_pool(type="rbd"),
    "rbd-no-auth-no-host": rbd_pool(hosts="", auth="",
                                    extra="<vdisk:config file='/etc/ceph/ceph.conf'/>"),
    "rbd-secret-usage": rbd_pool(auth="<auth type='ceph' username='u'><secret usage='client.u'/></auth>",
                                 extra="<vdisk:provisioning><vdisk:overcommit>2</vdisk:overcommit>"
                                       "</vdisk:provisioning>"),
    "dir": pool(type="dir"),
    "lazy-only": pool(prov="<vdisk:zeroing>lazy</vdisk:zeroing>"),
    "fractional-cap": pool(prov="<vdisk:overcommit>0.75</vdisk:overcommit>"),
    "empty-provisioning": pool(prov=""),
    "backing-allow": pool(extra="<vdisk:backing><vdisk:outside>allow</vdisk:outside></vdisk:backing>"),
    "backing-refuse": pool(extra="<vdisk:backing><vdisk:outside>refuse</vdisk:outside></vdisk:backing>"),
    "backing-empty": pool(extra="<vdisk:backing/>"),
}

BAD_POOLS = {
    "logical": (pool(type="logical"), "pool type 'logical'"),
    "slash-name": (pool(name="a/b"), "contains '/'"),
    "relative-path": (pool(path="srv/images"), "not absolute"),
    "zeroing": (pool(prov="<vdisk:zeroing>fast</vdisk:zeroing>"), "lazy or eager"),
    "zero-cap": (pool(prov="<vdisk:overcommit>0</vdisk:overcommit>"), "positive ratio"),
    "comma-cap": (pool(prov="<vdisk:overcommit>1,5</vdisk:overcommit>"), "positive ratio"),
    "unknown-vdisk-element": (pool(prov="<vdisk:thin/>"), "unknown element of the vdisk namespace"),
    "backing-policy": (pool(extra="<vdisk:backing><vdisk:outside>sometimes</vdisk:outside>"
                                  "</vdisk:backing>"), "allow or refuse"),
    "backing-no-ns": (pool(extra="<backing><outside>allow</outside></backing>"),
                      "belongs to the vdisk namespace"),
    "backing-child": (pool(extra="<vdisk:backing><vdisk:depth>2</vdisk:depth></vdisk:backing>"),
                      "unknown element of the vdisk namespace"),
    "rbd-with-target": (rbd_pool(extra="<target><path>/srv</path></target>"), "has no <target>"),
    "rbd-slash-name": (rbd_pool(rbd="a/b"), "not an RBD pool name"),
    "rbd-bad-port": (rbd_pool(hosts="<host name='m' port='0'/>"), "not a TCP port"),
    "rbd-chap": (rbd_pool(auth=AUTH.replace("'ceph'", "'chap'")), "type='ceph'"),
    "rbd-no-secret": (rbd_pool(auth="<auth type='ceph' username='u'/>"), "needs a username and"),
    "rbd-relative-config": (rbd_pool(extra="<vdisk:config file='ceph.conf'/>"), "absolute"),
    "dir-with-config": (pool(extra="<vdisk:config file='/etc/ceph/ceph.conf'/>"),
                        "belongs to a pool on Ceph"),
    "rbd-type-without-source": (pool(type="rbd"), "needs <source><name>"),
    "netfs-type-without-source": (pool(type="netfs"), "needs <source><host/><dir/>"),
    "netfs-no-host": (netfs_pool(source="<dir path='/v'/>"), "exactly one <host>"),
    "netfs-two-hosts": (netfs_pool(source="<host name='a'/><host name='b'/><dir path='/v'/>"),
                        "exactly one <host>"),
    "netfs-port": (netfs_pool(source="<host name='a' port='2049'/><dir path='/v'/>"), "no port"),
    "netfs-relative-dir": (netfs_pool(source="<host name='a'/><dir path='v'/>"), "absolute path"),
    "netfs-cifs": (netfs_pool(source="<host name='a'/><dir path='/v'/><format type='cifs'/>"),
                   "'cifs' is not supported"),
    "netfs-protocol": (netfs_pool(source="<host name='a'/><dir path='/v'/><protocol ver='3'/>"),
                       "<protocol"),
    "netfs-and-rbd": (netfs_pool(source="<host name='a'/><dir path='/v'/><name>rbd</name>"),
                      "not both"),
    "netfs-config": (netfs_pool(extra="<vdisk:config file='/etc/ceph/ceph.conf'/>"),
                     "belongs to a pool on Ceph"),
}


def check(kind, rng, text, tmp_path):
    path = tmp_path / f"{kind}.xml"
    path.write_text(text)
    schema_ok, schema_err = xmllint_valid(rng, path)
    p = vdisk_xml(kind, path, check=False)
    return path, schema_ok, schema_err, p


@pytest.mark.parametrize("case", sorted(GOOD_VOLS))
def test_good_volume(case, tmp_path):
    path, ok, err, p = check("vol", VOL_RNG, GOOD_VOLS[case], tmp_path)
    assert ok, err
    assert p.returncode == 0, p.stderr
    (tmp_path / "out.xml").write_text(p.stdout)
    ok, err = xmllint_valid(VOL_RNG, tmp_path / "out.xml")
    assert ok, err


@pytest.mark.parametrize("case", sorted(BAD_VOLS))
def test_bad_volume(case, tmp_path):
    text, msg = BAD_VOLS[case]
    path, ok, _, p = check("vol", VOL_RNG, text, tmp_path)
    assert not ok, "the schema accepts it"
    assert p.returncode == 1 and p.stdout == ""
    assert p.stderr.startswith(f"vdisk-xml: {path}:"), p.stderr     # file and line first
    if msg:
        assert msg in p.stderr


@pytest.mark.parametrize("case", sorted(GOOD_POOLS))
def test_good_pool(case, tmp_path):
    path, ok, err, p = check("pool", POOL_RNG, GOOD_POOLS[case], tmp_path)
    assert ok, err
    assert p.returncode == 0, p.stderr
    (tmp_path / "out.xml").write_text(p.stdout)
    ok, err = xmllint_valid(POOL_RNG, tmp_path / "out.xml")
    assert ok, err


@pytest.mark.parametrize("case", sorted(BAD_POOLS))
def test_bad_pool(case, tmp_path):
    text, msg = BAD_POOLS[case]
    path, ok, _, p = check("pool", POOL_RNG, text, tmp_path)
    assert not ok, "the schema accepts it"
    assert p.returncode == 1 and p.stdout == ""
    assert msg in p.stderr and p.stderr.startswith(f"vdisk-xml: {path}:")


# libvirt's units (docs/formatstorage: KB = 10^3 ... EB; K = KiB = 2^10 ... E = EiB)
UNITS = {"b": 1, "bytes": 1, "byte": 1}
for i, letter in enumerate("KMGTPE", start=1):
    UNITS.update({letter + "B": 1000 ** i, letter: 1024 ** i, letter + "iB": 1024 ** i})


@pytest.mark.parametrize("unit", sorted(UNITS))
def test_every_libvirt_unit(unit, tmp_path):
    path = tmp_path / "v.xml"
    path.write_text(vol(unit=unit, capacity="3"))
    out = vdisk_xml("vol", path).stdout
    assert f"<capacity unit='bytes'>{3 * UNITS[unit]}</capacity>" in out
    assert xmllint_valid(VOL_RNG, path)[0]


def test_unit_overflow(tmp_path):
    path = tmp_path / "v.xml"
    path.write_text(vol(unit="EiB", capacity="8"))       # 2^63: no file is that large
    p = vdisk_xml("vol", path, check=False)
    assert p.returncode == 1 and "too large" in p.stderr
    path.write_text(vol(unit="bytes", capacity=str(2 ** 64)))
    assert "too large" in vdisk_xml("vol", path, check=False).stderr


def test_xxe_refused(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-CONTENT\n")
    path = tmp_path / "xxe.xml"
    path.write_text(f"""<?xml version="1.0"?>
<!DOCTYPE volume [
  <!ENTITY xxe SYSTEM "file://{secret}">
]>
<volume><name>&xxe;</name><capacity>1</capacity></volume>
""")
    p = vdisk_xml("vol", path, check=False)
    assert p.returncode == 1
    assert f"{path}:3: entity declarations are not allowed" in p.stderr
    assert "TOP-SECRET" not in p.stderr + p.stdout


def test_billion_laughs_refused(tmp_path):
    ents = ['<!ENTITY lol0 "lol">'] + [
        f'<!ENTITY lol{i} "{("&lol%d;" % (i - 1)) * 10}">' for i in range(1, 10)]
    path = tmp_path / "lol.xml"
    path.write_text("<?xml version='1.0'?>\n<!DOCTYPE pool [\n" + "\n".join(ents) +
                    "\n]>\n<pool type='vdisk'><name>&lol9;</name></pool>\n")
    p = vdisk_xml("pool", path, check=False)
    assert p.returncode == 1 and "entity declarations are not allowed" in p.stderr


def test_oversize_refused(tmp_path):
    path = tmp_path / "big.xml"
    path.write_text("<volume><name>a</name><capacity>1</capacity>" + " " * (1 << 20) + "</volume>")
    p = vdisk_xml("vol", path, check=False)
    assert p.returncode == 1 and re.search(r"big\.xml: .*limit", p.stderr)
