"""Encrypted volumes through the daemon: <encryption format='luks'> with a
secret made by secret-define + secret-set-value (virtsecretd).  qemu-img
must see an encrypted image and open it with the same passphrase given as
--object secret,file=; a wrong passphrase must not open it.  A volume whose
secret does not exist is refused and leaves no file."""
import os
import uuid

import pytest

from conftest import MiB, qemu_check, qemu_img, qemu_info

CAP = 8 * MiB


def luks_xml(name, fmt, secret_uuid, capacity=CAP):
    return (f"<volume><name>{name}</name><capacity unit='bytes'>{capacity}</capacity>"
            f"<target><format type='{fmt}'/><encryption format='luks'>"
            f"<secret type='passphrase' uuid='{secret_uuid}'/></encryption>"
            f"</target></volume>")


def passfile(tmp_path, text):
    path = tmp_path / f"pass-{uuid.uuid4().hex}"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    return path


def image_opts(fmt, path):
    if fmt == "raw":
        return f"driver=luks,key-secret=s0,file.filename={path}"
    return f"driver=qcow2,encrypt.key-secret=s0,file.filename={path}"


def read_with(fmt, path, pw, out, check=True):
    """qemu-img convert of the decrypted guest view to out (raw)."""
    return qemu_img("convert", "-U", "--object", f"secret,id=s0,file={pw}",
                    "--image-opts", image_opts(fmt, path), "-O", "raw", out, check=check)


@pytest.mark.parametrize("fmt", ["raw", "qcow2"])
def test_luks_volume(vdisk_pool, secret, tmp_path, fmt):
    pool = vdisk_pool()
    phrase = "correct horse battery staple"
    uid = secret(phrase)
    pool.create_xml(luks_xml("enc", fmt, uid))
    path = pool.vol_path("enc")
    info = qemu_info(path)
    if fmt == "raw":
        assert info["format"] == "luks"
    else:
        assert info["format"] == "qcow2"
        assert info.get("encrypted") is True
        assert info["format-specific"]["data"]["encrypt"]["format"] == "luks"
        qemu_check(path)
    # the LUKS header on disk: the file starts with LUKS's magic
    with open(path, "rb") as f:
        head = f.read(6)
    if fmt == "raw":
        assert head == b"LUKS\xba\xbe"
    # same passphrase opens it: the guest sees CAP bytes of zeros
    out = tmp_path / "plain.raw"
    read_with(fmt, path, passfile(tmp_path, phrase), out)
    assert os.path.getsize(out) == CAP
    with open(out, "rb") as f:
        assert f.read().count(0) == CAP
    # a wrong one does not
    bad = read_with(fmt, path, passfile(tmp_path, "wrong"), tmp_path / "x.raw", check=False)
    assert bad.returncode != 0
    # the volume XML says it is encrypted, with the secret's uuid
    xml = pool.vol_xml("enc")
    assert "<encryption format='luks'>" in xml.replace('"', "'")
    assert uid in xml


def test_missing_secret(vdisk_pool):
    pool = vdisk_pool()
    before = sorted(os.listdir(pool.path))
    ghost = str(uuid.uuid4())
    p = pool.create_xml(luks_xml("noenc", "raw", ghost), check=False)
    assert p.returncode != 0, "a LUKS volume without its secret was created"
    assert p.stderr.startswith("error:")
    assert ghost in p.stderr or "secret" in p.stderr.lower(), p.stderr
    assert sorted(os.listdir(pool.path)) == before
