"""Legacy qcow2 AES encryption (crypt_method 1) made and written by vdisk.

vdisk-virsh refuses to create such images (weak encryption); run as
qemu-img it creates them as qemu-img 7.2 does.  QEMU is the oracle:
qemu-img / qemu-io read what vdisk wrote, vdisk reads what QEMU wrote, and
the "Formatting" lines and headers are compared with qemu-img's.
"""
import json
import struct

import pytest

from cli_common import assert_no_crash
from encrypt_common import pattern_raw, pwfile, qcow2_opts, secret

OPTS_ON = "encryption=on,encrypt.key-secret=sec0"
OPTS_AES = "encrypt.format=aes,encrypt.key-secret=sec0"


def ok(p):
    assert_no_crash(p)
    assert p.returncode == 0, p.stdout + p.stderr
    return p


def crypt_method(path):
    with open(path, "rb") as f:
        return struct.unpack(">I", f.read(36)[32:36])[0]


def qemu_view(qemu_img, pw, img, out):
    """The guest data of an AES image as QEMU reads it, into a raw file."""
    qemu_img("convert", *secret(pw), "--image-opts", qcow2_opts(img), "-O", "raw", out)
    return out.read_bytes()


@pytest.mark.parametrize("opts", [OPTS_ON, OPTS_AES])
def test_create_as_qemu_img_matches_qemu(as_qemu_img, qemu_img, tmp_path, opts):
    pw = pwfile(tmp_path, b"123456")
    mine, ref = tmp_path / "mine.qcow2", tmp_path / "ref.qcow2"
    v = ok(as_qemu_img("create", "-f", "qcow2", *secret(pw), "-o", opts, mine, "64M"))
    q = qemu_img("create", "-f", "qcow2", *secret(pw), "-o", opts, ref, "64M")
    assert v.stdout.replace(str(mine), "F") == q.stdout.replace(str(ref), "F")
    assert v.stderr == q.stderr == ""
    assert crypt_method(mine) == crypt_method(ref) == 1
    vi = json.loads(qemu_img("info", "--output=json", mine).stdout)
    qi = json.loads(qemu_img("info", "--output=json", ref).stdout)
    for i in (vi, qi):
        del i["filename"], i["actual-size"]
    assert vi == qi and vi["format-specific"]["data"]["encrypt"] == {"format": "aes"}
    assert qemu_img("check", *secret(pw), "--image-opts", qcow2_opts(mine)).returncode == 0


def test_create_without_secret_refused_as_qemu_img(as_qemu_img, qemu_img, tmp_path):
    mine, ref = tmp_path / "mine.qcow2", tmp_path / "ref.qcow2"
    v = as_qemu_img("create", "-f", "qcow2", "-o", "encryption=on", mine, "1M", check=False)
    q = qemu_img("create", "-f", "qcow2", "-o", "encryption=on", ref, "1M", check=False)
    assert v.returncode == q.returncode == 1
    assert "encrypt.key-secret" in v.stderr and "encrypt.key-secret" in q.stderr
    assert not mine.exists()


@pytest.mark.parametrize("extra", ["encrypt.cipher-alg=aes-256", "encrypt.iter-time=10"])
def test_luks_options_refused_with_aes(as_qemu_img, qemu_img, tmp_path, extra):
    pw = pwfile(tmp_path)
    mine, ref = tmp_path / "mine.qcow2", tmp_path / "ref.qcow2"
    args = ["create", "-f", "qcow2", *secret(pw), "-o", f"{OPTS_AES},{extra}"]
    v = as_qemu_img(*args, mine, "1M", check=False)
    q = qemu_img(*args, ref, "1M", check=False)
    assert v.returncode == q.returncode == 1
    key = extra.split("=")[0]
    assert f"Parameter '{key}' is unexpected" in q.stderr
    assert f"Parameter '{key}' is unexpected" in v.stderr
    assert not mine.exists()


@pytest.mark.parametrize("cmd", ["create", "convert"])
def test_vdisk_virsh_refuses_to_create(vdisk, tmp_path, cmd):
    pw = pwfile(tmp_path)
    src = pattern_raw(tmp_path / "src.raw", 1 << 20)
    new = tmp_path / "new.qcow2"
    if cmd == "create":
        args = ["create", "-f", "qcow2", *secret(pw), "-o", OPTS_ON, new, "1M"]
    else:
        args = ["convert", "-O", "qcow2", *secret(pw), "-o", OPTS_AES, src, new]
    p = vdisk(*args, check=False)
    assert_no_crash(p)
    assert p.returncode == 1 and "weak" in p.stderr and "encrypt.format=luks" in p.stderr, p.stderr
    assert not new.exists()


def test_qemu_reads_what_vdisk_wrote(as_qemu_img, qemu_img, qemu_io, tmp_path):
    """convert into AES (cluster writes), then QEMU reads it back."""
    pw = pwfile(tmp_path, b"a passphrase longer than sixteen bytes")
    src = pattern_raw(tmp_path / "src.raw")
    img = tmp_path / "aes.qcow2"
    ok(as_qemu_img("convert", "-O", "qcow2", *secret(pw), "-o", OPTS_AES, src, img))
    assert crypt_method(img) == 1
    assert qemu_view(qemu_img, pw, img, tmp_path / "back.raw") == src.read_bytes()
    # and the data really is encrypted on the host
    assert b"vdisk" * 100 not in img.read_bytes()
    # the wrong passphrase gives other bytes (the format has no key check)
    bad = pwfile(tmp_path, b"wrong", "bad")
    assert qemu_view(qemu_img, bad, img, tmp_path / "bad.raw") != src.read_bytes()


def test_partial_cluster_writes_over_encrypted_data(vdisk, qemu_img, qemu_io, tmp_path):
    """rebase writes only the sectors that differ: allocating writes into
    an AES overlay with copy-on-write of the rest of the cluster, and
    in-place rewrites of clusters already allocated."""
    pw = pwfile(tmp_path)
    old, new = tmp_path / "old.raw", tmp_path / "new.raw"
    pattern_raw(old, 2 << 20)
    data = bytearray(old.read_bytes())
    for off, n in ((512, 512), (70000 & ~511, 1536), ((1 << 20) + 65536 - 512, 1024)):
        data[off:off + n] = b"\xee" * n
    new.write_bytes(bytes(data))
    top = tmp_path / "top.qcow2"
    qemu_img("create", "-q", "-f", "qcow2", *secret(pw), "-o", OPTS_AES, "-b", old, "-F", "raw", top)
    # QEMU writes a cluster into the overlay first: vdisk's rebase then
    # rewrites part of it in place
    qemu_io(*secret(pw), "--image-opts", qcow2_opts(top), "-c", "write -P 0x3c 0 64k")
    before = qemu_view(qemu_img, pw, top, tmp_path / "before.raw")
    ok(vdisk("rebase", *secret(pw), "-F", "raw", "-b", new, "--image-opts", qcow2_opts(top)))
    after = qemu_view(qemu_img, pw, top, tmp_path / "after.raw")
    assert after == before
    assert qemu_img("check", *secret(pw), "--image-opts", qcow2_opts(top)).returncode == 0


def test_vdisk_reads_what_qemu_wrote(vdisk, qemu_img, qemu_io, tmp_path):
    pw = pwfile(tmp_path)
    img = tmp_path / "q.qcow2"
    qemu_img("create", "-q", "-f", "qcow2", *secret(pw), "-o", OPTS_ON, img, "4M")
    qemu_io(*secret(pw), "--image-opts", qcow2_opts(img), "-c", "write -P 0xb 512 512",
            "-c", "write -P 0xa 1M 100000")
    ref = qemu_view(qemu_img, pw, img, tmp_path / "ref.raw")
    out = tmp_path / "out.raw"
    ok(vdisk("convert", *secret(pw), "--image-opts", qcow2_opts(img), "-O", "raw", out))
    assert out.read_bytes() == ref
