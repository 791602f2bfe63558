"""Encrypted images (issue 4): vdisk-made LUKS qcow2 and raw LUKS images open
in qemu-img/qemu-io with the same passphrase and read the same bytes; QEMU's
open in vdisk; cryptsetup accepts vdisk's raw LUKS headers; legacy AES
images read and convert out; errors leave nothing behind."""
import json

import pytest

from cli_common import assert_no_crash
from encrypt_common import (ITER, OTHER, PASS, cryptsetup_bin, have_cryptsetup, image_opts,
                            luks_opts, pattern_raw, pwfile, qcow2_opts, retry_qemu, secret)

MiB = 1 << 20


def ok(p):
    assert_no_crash(p)
    assert p.returncode == 0, p.stderr
    return p


def qemu_compare(qemu_img, pw, fmt, image, raw):
    p = qemu_img("compare", *secret(pw), "--image-opts", image_opts(fmt, image),
                 f"driver=raw,file.filename={raw}", check=False)
    assert p.returncode == 0, p.stdout + p.stderr


@pytest.mark.parametrize("fmt,opts", [
    ("qcow2", f"encrypt.format=luks,encrypt.key-secret=sec0,encrypt.iter-time={ITER}"),
    ("luks", f"key-secret=sec0,iter-time={ITER}"),
])
def test_vdisk_made_opens_in_qemu(vdisk, qemu_img, tmp_path, fmt, opts):
    pw = pwfile(tmp_path)
    src = pattern_raw(tmp_path / "src.raw")
    dst = tmp_path / f"enc.{fmt}"
    ok(vdisk("convert", *secret(pw), "-O", fmt, "-o", opts, src, dst))
    qemu_compare(qemu_img, pw, fmt, dst, src)
    if fmt == "qcow2":
        qemu_img("check", *secret(pw), "--image-opts", qcow2_opts(dst))
    # The file holds no plaintext.
    assert b"vdisk" * 100 not in dst.read_bytes()


def test_vdisk_create_then_qemu_io_writes_vdisk_reads(vdisk, qemu_io, qemu_img, tmp_path):
    pw = pwfile(tmp_path)
    img = tmp_path / "c.qcow2"
    ok(vdisk("create", "-f", "qcow2", *secret(pw), "-o",
             f"encrypt.format=luks,encrypt.key-secret=sec0,encrypt.iter-time={ITER}", img, "8M"))
    qemu_io(*secret(pw), "--image-opts", qcow2_opts(img), "-c", "write -P 0x5a 65536 1M",
            "-c", "write -P 0x17 3M 4096")
    out, ref = tmp_path / "v.raw", tmp_path / "q.raw"
    ok(vdisk("convert", "--passphrase-file", pw, "-O", "raw", img, out))
    qemu_img("convert", *secret(pw), "--image-opts", qcow2_opts(img), "-O", "raw", ref)
    assert out.read_bytes() == ref.read_bytes()


@pytest.mark.parametrize("fmt", ["qcow2", "luks"])
def test_qemu_made_opens_in_vdisk(vdisk, qemu_img, qemu_io, tmp_path, fmt):
    pw = pwfile(tmp_path)
    img = tmp_path / f"q.{fmt}"
    o = (f"encrypt.format=luks,encrypt.key-secret=sec0,encrypt.iter-time={ITER}" if fmt == "qcow2"
         else f"key-secret=sec0,iter-time={ITER}")
    retry_qemu(qemu_img, "create", "-q", "-f", fmt, *secret(pw), "-o", o, img, "4M")
    qemu_io(*secret(pw), "--image-opts", image_opts(fmt, img), "-c", "write -P 0x33 4096 100k",
            "-c", "write -P 0x44 700k 7", "-c", "write -P 0x55 3M 64k")
    ref, out = tmp_path / "ref.raw", tmp_path / "out.raw"
    qemu_img("convert", *secret(pw), "--image-opts", image_opts(fmt, img), "-O", "raw", ref)
    ok(vdisk("convert", *secret(pw), "--image-opts", "-O", "raw", image_opts(fmt, img), out))
    if fmt == "qcow2":
        assert out.read_bytes() == ref.read_bytes()
    else:
        # Unwritten LUKS payload reads as noise; compare what was written.
        o_b, r_b = out.read_bytes(), ref.read_bytes()
        for off, n in [(4096, 100 * 1024), (700 * 1024, 7), (3 * MiB, 64 * 1024)]:
            assert o_b[off:off + n] == r_b[off:off + n]
    p = vdisk("compare", "--passphrase-file", pw, img, ref, check=False)
    assert p.returncode == 0, p.stdout + p.stderr


@pytest.mark.parametrize("fmt", ["qcow2", "luks"])
def test_info_matches_qemu(vdisk, qemu_img, tmp_path, fmt):
    pw = pwfile(tmp_path)
    img = tmp_path / f"i.{fmt}"
    o = (f"encrypt.format=luks,encrypt.key-secret=sec0,encrypt.iter-time={ITER},encrypt.cipher-mode=cbc,"
         "encrypt.ivgen-alg=essiv,encrypt.hash-alg=sha1" if fmt == "qcow2"
         else f"key-secret=sec0,iter-time={ITER},cipher-alg=twofish-256")
    ok(vdisk("create", "-q", "-f", fmt, *secret(pw), "-o", o, img, "2M"))
    for args in (["--output=json"], []):
        q = qemu_img("info", *args, img).stdout
        v = ok(vdisk("info", *args, img)).stdout
        if args:
            q, v = json.loads(q), json.loads(v)
            q.pop("actual-size"), v.pop("actual-size")
        else:
            q = [line for line in q.splitlines() if not line.startswith("disk size")]
            v = [line for line in v.splitlines() if not line.startswith("disk size")]
        assert v == q


def test_cryptsetup_accepts_raw_luks(vdisk, tmp_path):
    if not have_cryptsetup():
        pytest.fail("cryptsetup is missing (Debian package cryptsetup-bin)")
    pw = pwfile(tmp_path)
    img = tmp_path / "c.luks"
    ok(vdisk("create", "-q", "-f", "luks", "--passphrase-file", pw, "-o",
             f"iter-time={ITER},cipher-alg=serpent-256,cipher-mode=cbc,ivgen-alg=essiv", img, "1M"))
    from conftest import run
    dump = run([cryptsetup_bin(), "luksDump", img]).stdout
    assert "Cipher name:   \tserpent" in dump and "cbc-essiv:sha256" in dump
    # Unlocking without device-mapper works for ciphers the kernel's AF_ALG
    # offers to user space: check the passphrase on an aes-xts image.
    img = tmp_path / "x.luks"
    ok(vdisk("create", "-q", "-f", "luks", "--passphrase-file", pw, "-o", f"iter-time={ITER}", img, "1M"))
    run([cryptsetup_bin(), "luksOpen", "--test-passphrase", "--key-file", pw, img])
    bad = pwfile(tmp_path, OTHER, "bad")
    assert run([cryptsetup_bin(), "luksOpen", "--test-passphrase", "--key-file", bad, img],
               check=False).returncode != 0


def test_reencrypt_with_new_passphrase(vdisk, qemu_img, tmp_path):
    pw, pw2 = pwfile(tmp_path), pwfile(tmp_path, OTHER, "pw2")
    src = pattern_raw(tmp_path / "src.raw")
    a, b = tmp_path / "a.qcow2", tmp_path / "b.luks"
    ok(vdisk("convert", "--passphrase-file", pw, "-O", "qcow2", "-o",
             f"encrypt.format=luks,encrypt.iter-time={ITER}", src, a))
    ok(vdisk("convert", *secret(pw), *secret(pw2, "new"), "--image-opts", "-O", "luks",
             "-o", f"key-secret=new,iter-time={ITER},cipher-mode=cbc", qcow2_opts(a), b))
    qemu_compare(qemu_img, pw2, "luks", b, src)
    p = qemu_img("compare", *secret(pw), "--image-opts", luks_opts(b),
                 f"driver=raw,file.filename={src}", check=False)
    assert p.returncode != 0 and "Invalid password" in p.stderr


def test_legacy_aes_reads_and_converts_out(vdisk, qemu_img, qemu_io, tmp_path):
    pw = pwfile(tmp_path, b"aespass")
    img = tmp_path / "aes.qcow2"
    retry_qemu(qemu_img, "create", "-q", "-f", "qcow2", *secret(pw), "-o",
               "encrypt.format=aes,encrypt.key-secret=sec0", img, "2M")
    qemu_io(*secret(pw), "--image-opts", qcow2_opts(img), "-c", "write -P 0x77 1000 70000")
    ref, out, luks = tmp_path / "ref.raw", tmp_path / "out.raw", tmp_path / "out.luks"
    qemu_img("convert", *secret(pw), "--image-opts", qcow2_opts(img), "-O", "raw", ref)
    ok(vdisk("convert", "--passphrase-file", pw, "-O", "raw", img, out))
    assert out.read_bytes() == ref.read_bytes()
    ok(vdisk("convert", "--passphrase-file", pw, "-O", "luks", "-o", f"iter-time={ITER}", img, luks))
    qemu_compare(qemu_img, pw, "luks", luks, ref)
    info = json.loads(ok(vdisk("info", "--output=json", img)).stdout)
    assert info["format-specific"]["data"]["encrypt"] == {"format": "aes"}
    # Creating AES images is refused by vdisk-virsh (test_encrypt_aes.py:
    # created only when run as qemu-img), and leaves no file.
    new = tmp_path / "new.qcow2"
    p = vdisk("create", "-f", "qcow2", "--passphrase-file", pw, "-o", "encrypt.format=aes", new, "1M",
              check=False)
    assert p.returncode == 1 and "aes" in p.stderr.lower() and not new.exists()


def test_errors_leave_nothing(vdisk, qemu_img, tmp_path):
    pw, bad = pwfile(tmp_path), pwfile(tmp_path, OTHER, "bad")
    img = tmp_path / "e.qcow2"
    ok(vdisk("create", "-q", "-f", "qcow2", "--passphrase-file", pw, "-o",
             f"encrypt.format=luks,encrypt.iter-time={ITER}", img, "1M"))
    out = tmp_path / "out.raw"
    p = vdisk("convert", "--passphrase-file", bad, "-O", "raw", img, out, check=False)
    assert p.returncode == 1 and "Invalid password" in p.stderr and not out.exists()
    assert OTHER.decode() not in p.stderr
    p = vdisk("convert", "-O", "raw", img, out, check=False)
    assert p.returncode == 1 and "passphrase" in p.stderr and not out.exists()
    p = vdisk("create", "-f", "qcow2", "-o", "encrypt.format=luks", tmp_path / "n.qcow2", "1M", check=False)
    assert p.returncode == 1 and "key-secret" in p.stderr and not (tmp_path / "n.qcow2").exists()
    p = vdisk("create", "-f", "luks", "--passphrase-file", pw, "-o",
              "cipher-alg=cast5-128,cipher-mode=xts", tmp_path / "n.luks", "1M", check=False)
    assert p.returncode == 1 and "xts" in p.stderr.lower() and not (tmp_path / "n.luks").exists()
    p = vdisk("create", "-f", "qcow2", *secret(pw), "-o", "encrypt.format=luks,encrypt.key-secret=nope",
              tmp_path / "n.qcow2", "1M", check=False)
    assert p.returncode == 1 and "nope" in p.stderr and not (tmp_path / "n.qcow2").exists()
    p = vdisk("create", "-f", "qcow2", "--object", "secret,id=s,data=hunter2", "-o",
              "encrypt.format=luks,encrypt.key-secret=s", tmp_path / "n.qcow2", "1M", check=False)
    assert p.returncode == 1 and "data=" in p.stderr and not (tmp_path / "n.qcow2").exists()
    # A corrupt LUKS header: a clear error naming the file and the slot.
    raw = bytearray(img.read_bytes())
    hdr = json.loads(qemu_img("info", "--output=json", img).stdout)
    assert hdr["encrypted"]
    off = raw.find(b"LUKS\xba\xbe")
    raw[off + 208 + 44:off + 208 + 48] = (7).to_bytes(4, "big")   # slot 0 stripes
    img.write_bytes(bytes(raw))
    p = vdisk("info", img, check=False)
    assert p.returncode == 1 and "e.qcow2" in p.stderr and "stripes" in p.stderr


def test_map_and_measure_match_qemu(vdisk, qemu_img, tmp_path):
    pw = pwfile(tmp_path)
    src = pattern_raw(tmp_path / "src.raw")
    img = tmp_path / "m.qcow2"
    ok(vdisk("convert", "--passphrase-file", pw, "-O", "qcow2", "-o",
             f"encrypt.format=luks,encrypt.iter-time={ITER}", src, img))
    q = qemu_img("map", "--output=json", *secret(pw), "--image-opts", qcow2_opts(img)).stdout
    v = ok(vdisk("map", "--output=json", "--passphrase-file", pw, img)).stdout
    assert json.loads(v) == json.loads(q)
    for fmt, o in [("qcow2", f"encrypt.format=luks,encrypt.key-secret=sec0,encrypt.iter-time={ITER}"),
                   ("qcow2", f"encrypt.format=luks,encrypt.key-secret=sec0,encrypt.cipher-mode=cbc,encrypt.iter-time={ITER}"),
                   ("luks", f"key-secret=sec0,iter-time={ITER}")]:
        args = ["measure", "--output=json", "-O", fmt, *secret(pw), "-o", o, "--size", "1G"]
        assert json.loads(ok(vdisk(*args)).stdout) == json.loads(retry_qemu(qemu_img, *args).stdout)


@pytest.mark.parametrize("fmt,opts", [
    ("luks", "key-secret=sec0,iter-time=10,cipher-alg=aes-128,cipher-mode=cbc,ivgen-alg=essiv,"
             "ivgen-hash-alg=sha256,hash-alg=sha1"),
    ("qcow2", "encrypt.format=luks,encrypt.key-secret=sec0,encrypt.cipher-mode=cbc,encrypt.ivgen-alg=essiv,"
              "encrypt.iter-time=10"),
])
def test_create_prints_qemu_formatting_line(vdisk, qemu_img, tmp_path, fmt, opts):
    pw = pwfile(tmp_path)
    from cli_common import run_in
    q = run_in(tmp_path, retry_qemu, qemu_img, "create", "-f", fmt, *secret(pw), "-o", opts, "x.img", "1M").stdout
    (tmp_path / "x.img").unlink()
    v = ok(run_in(tmp_path, vdisk, "create", "-f", fmt, *secret(pw), "-o", opts, "x.img", "1M", check=False)).stdout
    assert v == q


def test_passphrase_fd(vdisk, qemu_img, tmp_path):
    pw = pwfile(tmp_path)
    img = tmp_path / "fd.luks"
    with open(pw, "rb") as f:
        ok(vdisk("create", "-q", "-f", "luks", "--passphrase-fd", str(f.fileno()), "-o", f"iter-time={ITER}",
                 img, "1M", pass_fds=(f.fileno(),)))
    qemu_img("info", *secret(pw), "--image-opts", luks_opts(img))
    p = qemu_img("convert", *secret(pw), "--image-opts", luks_opts(img), "-O", "raw", tmp_path / "o.raw",
                 check=False)
    assert p.returncode == 0, p.stderr


@pytest.mark.parametrize("fmt,opts,backing", [
    ("qcow2", f"encrypt.format=luks,encrypt.key-secret=sec0,encrypt.iter-time={ITER}", False),
    ("qcow2", f"encrypt.format=luks,encrypt.key-secret=sec0,encrypt.iter-time={ITER},extended_l2=on,"
              "cluster_size=32k", True),
    ("qcow2", f"encrypt.format=luks,encrypt.key-secret=sec0,encrypt.iter-time={ITER},compat=0.10,"
              "cluster_size=4k,encrypt.cipher-alg=serpent-128,encrypt.cipher-mode=cbc", True),
    ("luks", f"key-secret=sec0,iter-time={ITER},cipher-alg=twofish-256", False),
])
def test_vdisk_unaligned_writes_read_by_qemu_io(vdisk, qemu_io, tmp_path, fmt, opts, backing):
    """Partial-sector and partial-cluster writes (read-modify-write of
    sectors, copy-on-write from the backing file) through libvdisk, then
    every byte checked by qemu-io."""
    from conftest import vdisk_io
    pw = pwfile(tmp_path)
    img = tmp_path / f"w.{fmt}"
    args = ["create", "-q", "-f", fmt, *secret(pw), "-o", opts]
    if backing:
        base = tmp_path / "base.raw"
        with open(base, "wb") as f:
            f.write(b"\x11" * (2 * MiB))
        args += ["-b", base, "-F", "raw"]
    ok(vdisk(*args, img, "2M"))
    writes = [(0x5a, 1, 700), (0x6b, 4000, 70000), (0x7c, 1 * MiB - 3, 9), (0x8d, 2 * MiB - 512, 512)]
    vdisk_io("-s", pw, "-f", fmt, img, *[a for p, o, n in writes for a in ("-c", f"write -P {p} {o} {n}")])
    cmds = [f"read -P {p} {o} {n}" for p, o, n in writes]
    if backing:
        cmds += ["read -P 0x11 701 3299", "read -P 0x11 74000 8000"]
    elif fmt == "qcow2":
        cmds += ["read -P 0 701 3299"]
    p = qemu_io(*secret(pw), "--image-opts", image_opts(fmt, img), *[a for c in cmds for a in ("-c", c)],
                check=False)
    assert p.returncode == 0 and "Pattern verification failed" not in p.stdout, p.stdout + p.stderr


def test_encrypted_overlay_on_encrypted_base(vdisk, qemu_img, qemu_io, tmp_path):
    """The backing file is tried with the overlay's passphrase; QEMU reads
    the chain with backing.encrypt.key-secret."""
    from conftest import vdisk_io
    pw = pwfile(tmp_path)
    base, top = tmp_path / "base.qcow2", tmp_path / "top.qcow2"
    o = f"encrypt.format=luks,encrypt.key-secret=sec0,encrypt.iter-time={ITER}"
    retry_qemu(qemu_img, "create", "-q", "-f", "qcow2", *secret(pw), "-o", o, base, "2M")
    qemu_io(*secret(pw), "--image-opts", qcow2_opts(base), "-c", "write -P 0x61 0 2M")
    ok(vdisk("create", "-q", "-f", "qcow2", *secret(pw), "-o", o, "-b", base, "-F", "qcow2", top))
    vdisk_io("-s", pw, "-f", "qcow2", top, "-c", "write -P 0x62 1000 5000")
    v, q = tmp_path / "v.raw", tmp_path / "q.raw"
    ok(vdisk("convert", "--passphrase-file", pw, "-O", "raw", top, v))
    qemu_img("convert", *secret(pw), "--image-opts", qcow2_opts(top) + ",backing.encrypt.key-secret=sec0",
             "-O", "raw", q)
    assert v.read_bytes() == q.read_bytes()
    assert v.read_bytes()[1000:6000] == b"\x62" * 5000 and v.read_bytes()[:1000] == b"\x61" * 1000
