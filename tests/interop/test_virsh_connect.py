"""vdisk-virsh -c URI with no daemon: libvirt's test driver (test:///default,
and test:///FILE with a node of our own), in-process in libvirt0.  The
oracle is libvirt's own API through python3-libvirt: the sizes, XML and
error messages vdisk-virsh prints must be what libvirt reports.  Also: how
the URI is chosen (-c, $VIRSH_DEFAULT_CONNECT_URI, $LIBVIRT_DEFAULT_URI,
else the embedded registry) and that image commands ignore it.
The full command set against a real daemon is in tests/libvirt.
"""
import os
import re
import subprocess

import pytest

try:
    import libvirt
except ImportError:       # the oracle is missing: a failure, not a skip
    pytest.fail("python3-libvirt (Debian package python3-libvirt) is missing", pytrace=False)

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
    <volume type='file'>
      <name>b.raw</name>
      <capacity unit='G'>2</capacity>
      <allocation unit='G'>2</allocation>
      <target><path>/tp/b.raw</path><format type='raw'/></target>
    </volume>
  </pool>
</node>
"""


@pytest.fixture
def node(tmp_path):
    """A test-driver URI whose node holds pool 'tp' with two volumes."""
    path = tmp_path / "node.xml"
    path.write_text(NODE)
    return f"test://{path}"


@pytest.fixture
def env(tmp_path):
    """An environment with no URI and an empty embedded registry."""
    e = {k: v for k, v in os.environ.items() if not k.startswith(("LIBVIRT_", "VIRSH_"))}
    e["VDISK_CONFIG_DIR"] = str(tmp_path / "registry")
    return e


def field(out, label):
    """The value of 'Label:   value' in pool-info / vol-info output."""
    for line in out.splitlines():
        if line.startswith(label + ":"):
            return line.split(":", 1)[1].strip()
    raise AssertionError(f"no {label} in {out!r}")


def test_pool_info_is_libvirts(vdisk, node, env):
    conn = libvirt.open(node)
    pool = conn.storagePoolLookupByName("tp")
    state, cap, alloc, avail = pool.info()
    out = vdisk("-c", node, "pool-info", "--bytes", "tp", env=env).stdout
    assert field(out, "Name") == "tp"
    assert field(out, "UUID") == pool.UUIDString()
    assert field(out, "State") == "running" and state == libvirt.VIR_STORAGE_POOL_RUNNING
    assert int(field(out, "Capacity")) == cap
    assert int(field(out, "Allocation")) == alloc
    assert int(field(out, "Available")) == avail
    vols = pool.listAllVolumes()
    assert int(field(out, "Volumes")) == len(vols)
    assert int(field(out, "Provisioned")) == sum(v.info()[1] for v in vols)
    p = vdisk("--connect", node, "pool-dumpxml", "tp", env=env)
    assert p.stdout == pool.XMLDesc(0) + "\n"


def test_pool_list(vdisk, node, env):
    conn = libvirt.open(node)
    out = vdisk("-c", node, "pool-list", "--all", "--details", env=env).stdout
    lines = out.splitlines()
    assert lines[0].split() == ["Name", "State", "Autostart", "Persistent", "Capacity",
                                "Allocation", "Available"]
    rows = {line.split()[0]: line.split() for line in lines[2:] if line.strip()}
    assert set(rows) == {p.name() for p in conn.listAllStoragePools()}
    assert rows["tp"][1:4] == ["running", "no", "yes"]
    assert vdisk("-c", node, "pool-list", "--name", env=env).stdout.split() == ["tp"]
    uuid = conn.storagePoolLookupByName("tp").UUIDString()
    assert vdisk("-c", node, "pool-list", "--uuid", env=env).stdout.split() == [uuid]


def test_volumes_are_libvirts(vdisk, node, env):
    conn = libvirt.open(node)
    pool = conn.storagePoolLookupByName("tp")
    out = vdisk("-c", node, "vol-list", "tp", env=env).stdout
    rows = [line.split() for line in out.splitlines()[2:] if line.strip()]
    assert rows == sorted([v.name(), v.path()] for v in pool.listAllVolumes())
    for vol in pool.listAllVolumes():
        vtype, cap, alloc = vol.info()
        out = vdisk("-c", node, "vol-info", "--bytes", "--pool", "tp", vol.name(), env=env).stdout
        assert field(out, "Name") == vol.name()
        assert field(out, "Type") == "file" and vtype == libvirt.VIR_STORAGE_VOL_FILE
        assert field(out, "Capacity") == f"{cap} bytes"
        assert field(out, "Allocation") == f"{alloc} bytes"
        # By path, without --pool, as virsh resolves it.
        assert vdisk("-c", node, "vol-name", vol.path(), env=env).stdout == vol.name() + "\n\n"
        assert vdisk("-c", node, "vol-key", vol.path(), env=env).stdout == vol.key() + "\n\n"
        p = vdisk("-c", node, "vol-dumpxml", "--pool", "tp", vol.name(), env=env)
        assert p.stdout == vol.XMLDesc(0) + "\n"


def libvirt_message(fn, *args):
    """The message of the libvirtError fn(*args) raises."""
    with pytest.raises(libvirt.libvirtError) as e:
        fn(*args)
    return e.value.get_error_message()


def test_errors_are_libvirts(vdisk, node, env):
    conn = libvirt.open(node)
    p = vdisk("-c", node, "pool-info", "nope", check=False, env=env)
    assert p.returncode == 1
    assert p.stderr == ("error: failed to get pool 'nope'\n"
                        f"error: {libvirt_message(conn.storagePoolLookupByName, 'nope')}\n")
    pool = conn.storagePoolLookupByName("tp")
    p = vdisk("-c", node, "vol-info", "--pool", "tp", "nope", check=False, env=env)
    assert p.returncode == 1
    assert p.stderr == ("error: failed to get vol 'nope'\n"
                        f"error: {libvirt_message(conn.storageVolLookupByPath, 'nope')}\n")
    assert libvirt_message(pool.storageVolLookupByName, "nope")     # by name failed first
    p = vdisk("-c", node, "vol-info", "/tp/nope", check=False, env=env)
    assert p.stderr.startswith("error: failed to get vol '/tp/nope', specifying --pool might help\n")
    # A daemon that is not there: virsh's two lines.
    p = vdisk("-c", "qemu+unix:///system?socket=/nonexistent/sock", "pool-list", check=False, env=env)
    assert p.returncode == 1
    assert p.stderr.startswith("error: failed to connect to the hypervisor\nerror: ")


def test_uri_choice(vdisk, node, env):
    # No URI: the embedded registry (empty here).
    assert vdisk("pool-list", "--all", "--name", env=env).stdout.split() == []
    e = dict(env, LIBVIRT_DEFAULT_URI="test:///default")
    assert vdisk("pool-list", "--name", env=e).stdout.split() == ["default-pool"]
    # virsh's order: $VIRSH_DEFAULT_CONNECT_URI before $LIBVIRT_DEFAULT_URI, -c first.
    e["VIRSH_DEFAULT_CONNECT_URI"] = node
    assert vdisk("pool-list", "--name", env=e).stdout.split() == ["tp"]
    assert vdisk("-c", "test:///default", "pool-list", "--name", env=e).stdout.split() == ["default-pool"]
    p = vdisk("-c", check=False, env=env)
    assert p.returncode == 1 and "-c" in p.stderr


def test_image_commands_ignore_the_uri(vdisk, node, env, tmp_path, qemu_img):
    img = tmp_path / "i.qcow2"
    vdisk("-c", node, "create", "-f", "qcow2", img, "1M", env=env)
    assert '"virtual-size": 1048576' in qemu_img("info", "--output=json", img).stdout


def test_help_needs_no_daemon(vdisk, env):
    p = vdisk("-c", "qemu+unix:///system?socket=/nonexistent/sock", "vol-info", "--help", env=env)
    assert p.stdout.startswith("usage: vdisk-virsh vol-info")


def loaded_libraries(vdisk_bin, env, *args):
    """The shared objects the dynamic loader maps for one run (LD_DEBUG)."""
    p = subprocess.run([str(vdisk_bin), *args], env=dict(env, LD_DEBUG="files"),
                       capture_output=True, text=True)
    return set(re.findall(r"file=(\S+) \[\d+\];", p.stderr))


def test_image_commands_do_not_load_libvirt(vdisk_bin, env, tmp_path):
    """libvirt's client library (and the ~40 libraries under it) is loaded
    only by a command that connects to a daemon: start-up of the image
    commands stays as cheap as qemu-img's."""
    img = tmp_path / "a.raw"
    img.write_bytes(bytes(4096))
    libs = loaded_libraries(vdisk_bin, env, "info", img)
    assert libs and "libvdisk.so.0" in libs
    assert not any(lib.startswith("libvirt") for lib in libs), libs


def test_a_connection_loads_libvirt(vdisk_bin, node, env):
    libs = loaded_libraries(vdisk_bin, env, "-c", node, "pool-list")
    assert "libvirt.so.0" in libs
