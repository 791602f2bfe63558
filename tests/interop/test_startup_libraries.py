"""What vdisk-virsh maps at start-up (issue 18): the image commands run
without libvdisk-plugin, libxml2 (and the ICU, liblzma and libstdc++ under
it), libnbd and GnuTLS (and p11-kit, GMP, libunistring ... under it); the
pool, volume and secret commands load them with their module
(vdisk-virsh-stores.so, tools/common/store-module.h), an NBD URI loads
libnbd, and encryption (a LUKS create, convert or unlock) GnuTLS.  The
dynamic loader's own record (LD_DEBUG=files: every object it maps or is
asked to dlopen) is the oracle.  Also the errors when the module, libnbd
or GnuTLS cannot be loaded."""
import os
import re
import shutil
import subprocess
import time

import pytest

from conftest import BUILD, VDISK_VIRSH, run
from encrypt_common import ITER, pwfile, qcow2_opts, secret

HEAVY = ("libvdisk-plugin.so", "libxml2.so", "libicuuc.so", "libicudata.so", "libstdc++.so",
         "libnbd.so", "vdisk-virsh-stores.so", "libgnutls.so", "libp11-kit.so")


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


def test_image_commands_map_no_xml_nor_nbd_nor_gnutls(qcow2, tmp_path):
    raw = tmp_path / "plain.raw"
    with open(raw, "wb") as f:
        f.truncate(8 << 20)
        f.write(b"vdisk" * 1000)
    for args in (["info", qcow2], ["check", qcow2], ["map", qcow2],
                 ["create", "-q", "-f", "qcow2", tmp_path / "n.qcow2", "1G"],
                 ["create", "-q", "-f", "raw", tmp_path / "n.raw", "1G"],
                 # random identifiers, not keys: getrandom, not GnuTLS
                 ["create", "-q", "-f", "vhdx", tmp_path / "n.vhdx", "1G"],
                 ["create", "-q", "-f", "vpc", tmp_path / "n.vhd", "1G"],
                 ["convert", "-O", "qcow2", "-c", raw, tmp_path / "c.qcow2"],
                 ["convert", "-O", "raw", qcow2, tmp_path / "c.raw"]):
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
    assert "libgnutls.so.30" not in names


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


def luks_convert_args(src, dst, pw):
    return ["convert", "-O", "qcow2", *secret(pw, "s0"), "-o",
            f"encrypt.format=luks,encrypt.key-secret=s0,encrypt.iter-time={ITER}", src, dst]


def test_encryption_loads_gnutls(qcow2, qemu_img, tmp_path):
    pw = pwfile(tmp_path)
    enc = tmp_path / "e.qcow2"
    p, names = loaded([VDISK_VIRSH, *luks_convert_args(qcow2, enc, pw)])
    assert p.returncode == 0, p.stderr[-2000:]
    assert "libgnutls.so.30" in names
    # QEMU reads back what was encrypted
    qemu_img("compare", "-q", *secret(pw), "--image-opts", qcow2_opts(enc),
             f"driver=qcow2,file.filename={qcow2}")
    # info without the key reads the LUKS header only: no GnuTLS
    p, names = loaded([VDISK_VIRSH, "info", enc])
    assert p.returncode == 0, p.stderr[-2000:]
    assert "encrypted: yes" in p.stdout
    assert "libgnutls.so.30" not in names
    # unlocking it does
    p, names = loaded([VDISK_VIRSH, "info", *secret(pw), "--image-opts", qcow2_opts(enc)])
    assert p.returncode == 0, p.stderr[-2000:]
    assert "libgnutls.so.30" in names
    # and a raw LUKS container
    p, names = loaded([VDISK_VIRSH, "create", "-q", "-f", "luks", *secret(pw), "-o",
                       f"key-secret=sec0,iter-time={ITER}", tmp_path / "l.luks", "16M"])
    assert p.returncode == 0, p.stderr[-2000:]
    assert "libgnutls.so.30" in names


def test_unloadable_gnutls_is_named_with_its_package(qcow2, tmp_path):
    # a file that is no ELF object where the loader looks first for GnuTLS
    fake = tmp_path / "lib"
    fake.mkdir()
    (fake / "libgnutls.so.30").write_text("not a library\n")
    env = dict(os.environ, LD_LIBRARY_PATH=str(fake))
    pw = pwfile(tmp_path)
    # plain images do not need it
    assert run([VDISK_VIRSH, "info", qcow2], env=env).returncode == 0
    enc = tmp_path / "e.qcow2"
    p = subprocess.run([str(a) for a in [VDISK_VIRSH, *luks_convert_args(qcow2, enc, pw)]],
                       capture_output=True, text=True, env=env)
    assert p.returncode == 1
    assert f"{enc}: cannot load GnuTLS (install libgnutls30): " in p.stderr
    assert f"{fake}/libgnutls.so.30" in p.stderr
    assert not enc.exists()
    # unlocking an encrypted image names the image too
    assert run([VDISK_VIRSH, *luks_convert_args(qcow2, enc, pw)]).returncode == 0
    p = subprocess.run([str(VDISK_VIRSH), "info", *map(str, secret(pw)), "--image-opts",
                        qcow2_opts(enc)], capture_output=True, text=True, env=env)
    assert p.returncode == 1
    assert "cannot load GnuTLS (install libgnutls30)" in p.stderr
    assert str(enc) in p.stderr
