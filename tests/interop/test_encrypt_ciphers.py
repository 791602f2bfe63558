"""Every cipher / mode / IV generator / hash QEMU offers for LUKS
round-trips with QEMU, both ways: vdisk writes, qemu-img reads the same
bytes; qemu-io writes, vdisk reads the same bytes."""
import pytest

from cli_common import assert_no_crash
from encrypt_common import ITER, luks_opts, pwfile, retry_qemu, secret

ALGS = ["aes-128", "aes-192", "aes-256", "serpent-128", "serpent-192", "serpent-256",
        "twofish-128", "twofish-192", "twofish-256", "cast5-128"]
# (alg, mode): XTS needs a 16-byte block cipher, so not cast5.
BASIC = [f"cipher-alg={a},cipher-mode={m}" for a in ALGS for m in ("ecb", "cbc", "xts")
         if not (a == "cast5-128" and m == "xts")]
EXTRA = [
    "cipher-alg=aes-256,cipher-mode=cbc,ivgen-alg=plain",
    "cipher-alg=aes-256,cipher-mode=cbc,ivgen-alg=essiv,ivgen-hash-alg=sha256",
    "cipher-alg=aes-128,cipher-mode=xts,ivgen-alg=essiv,ivgen-hash-alg=md5",
    "cipher-alg=serpent-256,cipher-mode=cbc,ivgen-alg=essiv,ivgen-hash-alg=sha256",
    "cipher-alg=cast5-128,cipher-mode=cbc,ivgen-alg=essiv,ivgen-hash-alg=md5",
    "cipher-alg=twofish-256,cipher-mode=xts,ivgen-alg=plain,hash-alg=sha512",
    "cipher-alg=aes-256,cipher-mode=xts,hash-alg=sha1",
    "cipher-alg=aes-192,cipher-mode=cbc,hash-alg=sha512",
]

MiB = 1 << 20


def qemu_cannot(spec):
    """qemu-img 7.2 aborts on 192-bit keys outside XTS: the 96000-byte key
    material is not whole sectors (an assertion in crypto/block.c).  Those
    are checked against cryptsetup and vdisk itself instead."""
    return "-192," in spec and "cipher-mode=xts" not in spec


@pytest.mark.parametrize("spec", BASIC + EXTRA)
def test_roundtrip_with_qemu(vdisk, qemu_img, qemu_io, tmp_path, spec):
    pw = pwfile(tmp_path)
    # vdisk writes (unaligned runs included), qemu reads.
    v = tmp_path / "v.luks"
    src = tmp_path / "src.raw"
    data = bytes((i * 7 + 3) % 251 for i in range(300001))
    with open(src, "wb") as f:
        f.truncate(MiB)
        f.seek(1234)
        f.write(data)
    p = vdisk("convert", "--passphrase-file", pw, "-O", "luks", "-o", f"iter-time={ITER},{spec}", src, v,
              check=False)
    assert_no_crash(p)
    assert p.returncode == 0, p.stderr
    if qemu_cannot(spec):
        check_without_qemu(vdisk, tmp_path, pw, v, src, spec)
        return
    c = qemu_img("compare", *secret(pw), "--image-opts", luks_opts(v), f"driver=raw,file.filename={src}",
                 check=False)
    assert c.returncode == 0, c.stdout + c.stderr
    # qemu writes, vdisk reads.
    q = tmp_path / "q.luks"
    retry_qemu(qemu_img, "create", "-q", "-f", "luks", *secret(pw), "-o", f"key-secret=sec0,iter-time={ITER},{spec}",
               q, "1M")
    qemu_io(*secret(pw), "--image-opts", luks_opts(q), "-c", "write -P 0xa5 512 65536",
            "-c", "write -P 0x3c 700001 5")
    out = tmp_path / "out.raw"
    p = vdisk("convert", "--passphrase-file", pw, "-O", "raw", q, out, check=False)
    assert p.returncode == 0, p.stderr
    b = out.read_bytes()
    assert b[512:512 + 65536] == b"\xa5" * 65536
    assert b[700001:700006] == b"\x3c" * 5


def check_without_qemu(vdisk, tmp_path, pw, img, src, spec):
    from conftest import run
    from encrypt_common import cryptsetup_bin
    dump = run([cryptsetup_bin(), "luksDump", img]).stdout
    assert "MK bits:       \t192" in dump
    if "aes" in spec and "ecb" not in spec:
        run([cryptsetup_bin(), "luksOpen", "--test-passphrase", "--key-file", pw, img])
    out = tmp_path / "back.raw"
    p = vdisk("convert", "--passphrase-file", pw, "-O", "raw", img, out, check=False)
    assert p.returncode == 0, p.stderr
    assert out.read_bytes() == src.read_bytes()
