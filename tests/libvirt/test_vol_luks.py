"""Encrypted volumes through the daemon: <encryption format='luks'> with a
secret made by secret-define + secret-set-value (virtsecretd).  qemu-img
must see an encrypted image and open it with the same passphrase given as
--object secret,file=; a wrong passphrase must not open it.  A volume whose
secret does not exist is refused and leaves no file."""
import os
import shutil
import uuid

import pytest

from conftest import MiB, luks_opts, passphrase_file, qemu_check, qemu_img, qemu_info, run

CAP = 8 * MiB


def luks_xml(name, fmt, secret_uuid, capacity=CAP):
    return (f"<volume><name>{name}</name><capacity unit='bytes'>{capacity}</capacity>"
            f"<target><format type='{fmt}'/><encryption format='luks'>"
            f"<secret type='passphrase' uuid='{secret_uuid}'/></encryption>"
            f"</target></volume>")


def read_with(fmt, path, pw, out, check=True):
    """qemu-img convert of the decrypted guest view to out (raw)."""
    return qemu_img("convert", "-U", *luks_opts(fmt, path, pw), "-O", "raw", out, check=check)


@pytest.mark.parametrize("fmt", ["raw", "qcow2"])
def test_luks_volume(vdisk_pool, secret, tmp_path, fmt):
    pool = vdisk_pool()
    phrase = "correct horse battery staple"
    uid = secret(phrase)
    pool.create_xml(luks_xml("enc", fmt, uid))
    path = pool.vol_path("enc")
    pw = passphrase_file(tmp_path, phrase)
    info = qemu_info(path)
    if fmt == "raw":
        assert info["format"] == "luks"
    else:
        assert info["format"] == "qcow2"
        assert info.get("encrypted") is True
        assert info["format-specific"]["data"]["encrypt"]["format"] == "luks"
        opts = luks_opts(fmt, path, pw)
        qemu_check(opts[-1], *opts[:-1])
    # the LUKS header on disk: the file starts with LUKS's magic
    with open(path, "rb") as f:
        head = f.read(6)
    if fmt == "raw":
        assert head == b"LUKS\xba\xbe"
    # same passphrase opens it: the guest sees CAP bytes (zeros through
    # qcow2; a raw LUKS payload never written decrypts to noise, as QEMU's)
    out = tmp_path / "plain.raw"
    read_with(fmt, path, pw, out)
    assert os.path.getsize(out) == CAP
    if fmt == "qcow2":
        with open(out, "rb") as f:
            assert f.read().count(0) == CAP
    # a wrong one does not
    bad = read_with(fmt, path, passphrase_file(tmp_path, "wrong"), tmp_path / "x.raw",
                    check=False)
    assert bad.returncode != 0
    # the volume XML says it is encrypted (libvirt's dir pool names the
    # secret only until the next refresh: not required here)
    xml = pool.vol_xml("enc")
    assert "<encryption format='luks'>" in xml.replace('"', "'")


def test_missing_secret(vdisk_pool):
    pool = vdisk_pool()
    before = sorted(os.listdir(pool.path))
    ghost = str(uuid.uuid4())
    p = pool.create_xml(luks_xml("noenc", "raw", ghost), check=False)
    assert p.returncode != 0, "a LUKS volume without its secret was created"
    assert p.stderr.startswith("error:")
    assert ghost in p.stderr and "noenc" in p.stderr, p.stderr
    assert sorted(os.listdir(pool.path)) == before


def test_luks_resize(vdisk_pool, secret, tmp_path):
    """vol-resize of a raw LUKS volume: the payload grows, the header and
    the key stay (qemu-img opens it with the same passphrase, new size)."""
    pool = vdisk_pool()
    phrase = "resize me " + uuid.uuid4().hex
    # the secret's usage is the volume's path: libvirt's way of finding it
    # again once the volume's definition is re-read from the file
    pool.create_xml(luks_xml("grow", "raw", secret(phrase, usage=str(pool.vol_path("grow")))))
    path = pool.vol_path("grow")
    pool.virsh("vol-resize", "--pool", pool.name, "grow", str(2 * CAP))
    opts = luks_opts("raw", path, passphrase_file(tmp_path, phrase))
    info = qemu_info(opts[-1], *opts[:-1])
    assert info["virtual-size"] == 2 * CAP
    assert qemu_info(path)["format"] == "luks"
    assert pool.vol_info("grow")["Capacity"] == 2 * CAP


def test_luks_wipe_keeps_encryption(vdisk_pool, secret, tmp_path):
    """vol-wipe of an encrypted qcow2: still encrypted with the volume's
    secret, the guest reads zeros."""
    pool = vdisk_pool()
    phrase = "wipe me " + uuid.uuid4().hex
    pool.create_xml(luks_xml("wiped", "qcow2",
                             secret(phrase, usage=str(pool.vol_path("wiped")))))
    path = pool.vol_path("wiped")
    pw = passphrase_file(tmp_path, phrase)
    opts = luks_opts("qcow2", path, pw)
    # guest data written by qemu-io through the encryption
    run([shutil.which("qemu-io") or "qemu-io", *opts, "-c", "write -P 0xab 0 1M"])
    out = tmp_path / "plain.raw"
    read_with("qcow2", path, pw, out)
    with open(out, "rb") as f:
        assert f.read(MiB) == b"\xab" * MiB
    pool.virsh("vol-wipe", "--pool", pool.name, "wiped")
    info = qemu_info(path)
    assert info["format"] == "qcow2" and info.get("encrypted") is True
    qemu_check(opts[-1], *opts[:-1])
    read_with("qcow2", path, pw, out)
    assert os.path.getsize(out) == CAP
    with open(out, "rb") as f:
        assert f.read().count(0) == CAP


@pytest.mark.parametrize("fmt", ["raw", "qcow2"])
def test_luks_secret_by_uuid_kept(vdisk_pool, secret, tmp_path, fmt):
    """A volume created with a secret named only by uuid (its usage is not
    the volume's path): vol-dumpxml names that secret after the create, and
    vol-resize finds the passphrase through it, as libvirt's dir pools do
    until the next pool refresh."""
    pool = vdisk_pool()
    phrase = "by uuid " + uuid.uuid4().hex
    uid = secret(phrase)
    pool.create_xml(luks_xml("byuuid", fmt, uid))
    xml = pool.vol_xml("byuuid").replace('"', "'")
    assert f"uuid='{uid}'" in xml, xml
    path = pool.vol_path("byuuid")
    pool.virsh("vol-resize", "--pool", pool.name, "byuuid", str(2 * CAP))
    opts = luks_opts(fmt, path, passphrase_file(tmp_path, phrase))
    assert qemu_info(opts[-1], *opts[:-1])["virtual-size"] == 2 * CAP
    pool.virsh("vol-wipe", "--pool", pool.name, "byuuid")
    if fmt == "qcow2":
        qemu_check(opts[-1], *opts[:-1])


@pytest.mark.parametrize("fmt", ["raw", "qcow2"])
def test_luks_copy_grown_with_secret_by_uuid(vdisk_pool, secret, tmp_path, fmt):
    """vol-create-from into an encrypted volume larger than its input: the
    copy is grown with the passphrase of the secret its XML names by uuid
    (no secret's usage is its path), and reads back as the input."""
    pool = vdisk_pool()
    phrase = "grown copy " + uuid.uuid4().hex
    uid = secret(phrase)
    data = tmp_path / "in.raw"
    data.write_bytes(os.urandom(MiB))
    pool.virsh("vol-create-as", pool.name, "in.raw", str(MiB), "--format", "raw")
    pool.virsh("vol-upload", "--pool", pool.name, "in.raw", data)
    xml = tmp_path / "copy.xml"
    xml.write_text(luks_xml("copy", fmt, uid, capacity=CAP))
    pool.virsh("vol-create-from", pool.name, xml, "in.raw", "--inputpool", pool.name)
    out = tmp_path / "plain.raw"
    read_with(fmt, pool.vol_path("copy"), passphrase_file(tmp_path, phrase), out)
    plain = out.read_bytes()
    assert len(plain) == CAP
    assert plain[:MiB] == data.read_bytes()
    if fmt == "qcow2":      # (a raw LUKS payload never written decrypts to noise, as QEMU's)
        assert plain[MiB:].count(0) == CAP - MiB
