"""What vdisk-virsh maps at start-up (issue 18): the image commands run
without libvdisk-plugin, libxml2 (and the ICU, liblzma and libstdc++ under
it) and libnbd; the pool, volume and secret commands load them with their
module (vdisk-virsh-stores.so, tools/common/store-module.h), and an NBD
URI loads libnbd.  The dynamic loader's own record (LD_DEBUG=files: every
object it maps or is asked to dlopen) is the oracle.  Also the errors when
the module or libnbd cannot be loaded."""
import os
import re
import shutil
import subprocess
import time

import pytest

from conftest import BUILD, VDISK_VIRSH, run

HEAVY = ("libvdisk-plugin.so", "libxml2.so", "libicuuc.so", "libicudata.so", "libstdc++.so",
         "libnbd.so", "vdisk-virsh-stores.so")


def loaded(args, env=None):
    """(CompletedProcess, the set of file names the dynamic loader mapped)."""
    e = dict(os.environ if env is None else env, LD_DEBUG="files")
    p = subprocess.run([str(a) for a in args], capture_output=True, text=True, env=e)
    names = {os.path.basename(m) for m in re.findall(r"\bfile=(\S+)\s+\[", p.stderr)}
    return p, names


def heavy(names):
    return sorted(n for n in names if n.startswith(HEAVY))


@pytest.fixture
def qcow2(qemu_img, tmp_path):
    path = tmp_path / "s.qcow2"
    qemu_img("create", "-q", "-f", "qcow2", path, "64M")
    return path


@pytest.fixture
def registry_env(tmp_path):
    return dict(os.environ, VDISK_CONFIG_DIR=str(tmp_path / "registry"))


def test_image_commands_map_no_xml_nor_nbd(qcow2, tmp_path):
    for args in (["info", qcow2], ["check", qcow2], ["map", qcow2],
                 ["create", "-q", "-f", "qcow2", tmp_path / "n.qcow2", "1G"],
                 ["create", "-q", "-f", "raw", tmp_path / "n.raw", "1G"]):
        p, names = loaded([VDISK_VIRSH, *args])
        assert p.returncode == 0, p.stderr[-2000:]
        assert "libvdisk.so.0" in names          # the oracle sees what it should
        assert heavy(names) == [], args


def test_pool_command_loads_the_module(registry_env):
    p, names = loaded([VDISK_VIRSH, "pool-list", "--all"], env=registry_env)
    assert p.returncode == 0, p.stderr[-2000:]
    assert p.stdout.split()[:3] == ["Name", "State", "Autostart"]
    for lib in ("vdisk-virsh-stores.so", "libvdisk-plugin.so.0", "libxml2.so.2"):
        assert lib in names
    assert "libnbd.so.0" not in names


def test_pool_command_help_through_the_module(registry_env):
    p = run([VDISK_VIRSH, "pool-list", "-h"], env=registry_env)
    assert p.stdout.startswith("usage: vdisk-virsh pool-list ")


@pytest.fixture
def nbd_export(qcow2, tmp_path):
    sock = tmp_path / "nbd.sock"
    nbd = subprocess.Popen(["qemu-nbd", "-t", "-r", "-f", "qcow2", "-x", "e", "-k", str(sock),
                            str(qcow2)], stderr=subprocess.PIPE)
    uri = f"nbd+unix:///e?socket={sock}"
    try:
        for _ in range(200):
            if run(["qemu-img", "info", uri], check=False).returncode == 0:
                break
            if nbd.poll() is not None:
                pytest.fail(f"qemu-nbd failed: {nbd.stderr.read().decode()}")
            time.sleep(0.05)
        yield uri
    finally:
        nbd.terminate()
        nbd.wait()


def test_nbd_uri_loads_libnbd(nbd_export):
    p, names = loaded([VDISK_VIRSH, "info", "--output=json", nbd_export])
    assert p.returncode == 0, p.stderr[-2000:]
    assert '"virtual-size": 67108864' in p.stdout
    assert "libnbd.so.0" in names
    assert "vdisk-virsh-stores.so" not in names


def test_unloadable_libnbd_is_named_with_its_package(tmp_path):
    # a file that is no ELF object where the loader looks first for libnbd
    fake = tmp_path / "lib"
    fake.mkdir()
    (fake / "libnbd.so.0").write_text("not a library\n")
    uri = f"nbd+unix:///e?socket={tmp_path / 'none.sock'}"
    env = dict(os.environ, LD_LIBRARY_PATH=str(fake))
    p = subprocess.run([str(VDISK_VIRSH), "info", uri], capture_output=True, text=True, env=env)
    assert p.returncode == 1
    assert "cannot load the NBD client library (install libnbd0)" in p.stderr
    assert uri in p.stderr
    assert "libnbd.so.0" in p.stderr


def test_missing_module_is_named(qcow2, tmp_path, registry_env):
    # the executable alone, away from its module (its libraries by path)
    bindir = tmp_path / "bin"
    bindir.mkdir()
    exe = bindir / "vdisk-virsh"
    shutil.copy(VDISK_VIRSH, exe)
    env = dict(registry_env, LD_LIBRARY_PATH=f"{BUILD / 'core'}:{BUILD / 'plugin'}")
    assert run([exe, "info", qcow2], env=env).returncode == 0
    p = subprocess.run([str(exe), "pool-list"], capture_output=True, text=True, env=env)
    assert p.returncode == 1
    assert p.stdout == ""
    m = re.fullmatch(r"error: pool-list: cannot load vdisk-virsh's pool, volume and secret "
                     r"commands: (\S+): (.+)\n", p.stderr)
    assert m, p.stderr
    assert m.group(1).startswith(str(bindir) + "/")
    assert m.group(1).endswith("/vdisk/vdisk-virsh-stores.so")
    assert "No such file" in m.group(2)
    # a file that is not a module: dlopen's reason, and the file
    (bindir / "vdisk-virsh-stores.so").write_text("not a module\n")
    p = subprocess.run([str(exe), "pool-list"], capture_output=True, text=True, env=env)
    assert p.returncode == 1
    assert f"{bindir}/vdisk-virsh-stores.so: " in p.stderr
    assert "invalid ELF header" in p.stderr or "too short" in p.stderr
