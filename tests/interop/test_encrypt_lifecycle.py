"""Every lifecycle command on encrypted images (issue 4 across issue 3):
check (and -r all, which may rebuild the refcounts), snapshot, amend,
resize, rebase, commit, map, compare and measure take the same secret
options as qemu-img (--object secret + --image-opts ...key-secret=ID) plus
--passphrase-file, and work on LUKS-encrypted qcow2 and raw LUKS images.

qemu-img / qemu-io are the oracles both ways: they read what vdisk wrote
with the same passphrase, and their exit status and message for a missing
secret are what vdisk must match.  PBKDF2 iteration time: 10 ms.
"""
import json
import shutil
import struct

import pytest

from cli_common import assert_no_crash
from encrypt_common import ITER, PASS, luks_opts, pwfile, qcow2_opts, retry_qemu, secret
from test_check import Img, append_leak

C = 65536
MiB = 1 << 20
CRYPT_EXT = 0x0537be77


def ok(p):
    assert_no_crash(p)
    assert p.returncode == 0, p.stdout + p.stderr
    return p


def enc_qcow2(vdisk, tmp_path, name="e.qcow2", size="16M", extra=()):
    """A LUKS-encrypted qcow2 made by vdisk (passphrase PASS in tmp_path/pw)."""
    pw = pwfile(tmp_path)
    img = tmp_path / name
    ok(vdisk("create", "-q", "-f", "qcow2", "--passphrase-file", pw, *extra, "-o",
             f"encrypt.format=luks,encrypt.iter-time={ITER}", img, size))
    return pw, img


def qemu_enc(qemu_img, tmp_path, fmt, name, size="16M"):
    """The same made by qemu-img (retried: its PBKDF2 calibration is flaky here)."""
    pw = pwfile(tmp_path)
    img = tmp_path / name
    opts = (f"encrypt.format=luks,encrypt.key-secret=sec0,encrypt.iter-time={ITER}"
            if fmt == "qcow2" else f"key-secret=sec0,iter-time={ITER}")
    retry_qemu(qemu_img, "create", "-q", "-f", fmt, *secret(pw), "-o", opts, img, size)
    return pw, img


def qio(qemu_io, pw, img, *cmds, fmt="qcow2"):
    opts = qcow2_opts(img) if fmt == "qcow2" else luks_opts(img)
    args = []
    for c in cmds:
        args += ["-c", c]
    p = qemu_io(*secret(pw), "--image-opts", opts, *args)
    assert "failed" not in p.stdout, p.stdout
    return p


def qcheck(qemu_img, pw, img, opts=None):
    """qemu-img check --output json of an encrypted qcow2: (exit, dict)."""
    p = qemu_img("check", "--output", "json", *secret(pw), "--image-opts",
                 opts or qcow2_opts(img), check=False)
    return p.returncode, json.loads(p.stdout) if p.stdout.strip() else {}


def vcheck(vdisk, pw, img, *opts):
    p = vdisk("check", "--output", "json", *opts, *secret(pw), "--image-opts", qcow2_opts(img),
              check=False)
    assert_no_crash(p)
    return p.returncode, json.loads(p.stdout) if p.stdout.strip() else {}


def crypt_header(path):
    """(offset, length) of the LUKS header clusters from the header extension."""
    with open(path, "rb") as f:
        h = f.read(C)
    off = struct.unpack(">I", h[100:104])[0]
    while off + 8 <= len(h):
        typ, n = struct.unpack(">II", h[off:off + 8])
        if typ == 0:
            break
        if typ == CRYPT_EXT:
            return struct.unpack(">QQ", h[off + 8:off + 24])
        off += 8 + (n + 7) // 8 * 8
    pytest.fail(f"{path}: no LUKS header extension")


def qemu_encrypt_info(qemu_img, img):
    info = json.loads(qemu_img("info", "--output", "json", img).stdout)
    return info["format-specific"]["data"]["encrypt"]


# ---- missing secret: the same refusal as qemu-img, nothing written --------------

def qemu_message(p):
    """qemu-img's error line without its "qemu-img: " prefix."""
    line = p.stderr.strip().splitlines()[-1]
    return line.split(": ", 1)[1]


QCOW2_CMDS = [
    ["check"], ["snapshot", "-l"], ["snapshot", "-c", "s1"], ["amend", "-o", "lazy_refcounts=on"],
    ["resize", None, "+1M"], ["map"], ["rebase", "-u", "-b", ""], ["commit"],
    ["bench", "-c", "10"],
]


@pytest.mark.parametrize("cmd", QCOW2_CMDS, ids=lambda c: "-".join(x for x in c if x))
def test_missing_secret_qcow2_like_qemu(vdisk, qemu_img, tmp_path, cmd):
    pw, img = enc_qcow2(vdisk, tmp_path)
    before = img.read_bytes()
    argv = [str(img) if a is None else a for a in cmd]
    if None not in cmd:
        argv.append(str(img))
    q = qemu_img(*argv, check=False)
    v = vdisk(*argv, check=False)
    assert_no_crash(v)
    assert q.returncode == 1 and "'encrypt.key-secret' is required for cipher" in q.stderr
    assert v.returncode == q.returncode, v.stderr
    # qemu-img's whole message: "Could not open 'FILE': Parameter ... for cipher".
    assert qemu_message(q) in v.stderr
    assert img.read_bytes() == before


@pytest.mark.parametrize("cmd", [["check"], ["resize", None, "+1M"], ["map"]],
                         ids=lambda c: c[0])
def test_missing_secret_luks_like_qemu(vdisk, qemu_img, tmp_path, cmd):
    pw, img = qemu_enc(qemu_img, tmp_path, "luks", "l.luks")
    before = img.read_bytes()
    argv = [str(img) if a is None else a for a in cmd]
    if None not in cmd:
        argv.append(str(img))
    q = qemu_img(*argv, check=False)
    v = vdisk(*argv, check=False)
    assert_no_crash(v)
    assert q.returncode == 1 and "'key-secret' is required for cipher" in q.stderr
    assert v.returncode == 1 and qemu_message(q) in v.stderr
    assert img.read_bytes() == before


def test_wrong_passphrase_snapshot_writes_nothing(vdisk, qemu_img, tmp_path):
    pw, img = enc_qcow2(vdisk, tmp_path)
    bad = pwfile(tmp_path, b"not it", "bad")
    before = img.read_bytes()
    p = vdisk("snapshot", "-c", "s1", "--passphrase-file", bad, img, check=False)
    assert p.returncode == 1 and "Invalid password" in p.stderr
    assert img.read_bytes() == before
    args = ["--object", f"secret,id=s,file={bad}", "--image-opts", qcow2_opts(img, "s")]
    q = qemu_img("snapshot", "-l", *args, check=False)
    v = vdisk("snapshot", "-l", *args, check=False)
    assert q.returncode == v.returncode == 1
    assert qemu_message(q) in v.stderr


def test_image_opts_and_format_exclusive(vdisk, qemu_img, tmp_path):
    pw, img = enc_qcow2(vdisk, tmp_path)
    for cmd in (["check"], ["amend", "-o", "lazy_refcounts=on"]):
        args = [*cmd, "-f", "qcow2", *secret(pw), "--image-opts", qcow2_opts(img)]
        q, v = qemu_img(*args, check=False), vdisk(*args, check=False)
        assert q.returncode == v.returncode == 1
        assert "--image-opts and --format are mutually exclusive" in q.stderr
        assert "--image-opts and --format are mutually exclusive" in v.stderr


# ---- check -------------------------------------------------------------------

@pytest.mark.parametrize("maker", ["vdisk", "qemu"])
def test_check_clean_matches_qemu(vdisk, qemu_img, qemu_io, tmp_path, maker):
    if maker == "vdisk":
        pw, img = enc_qcow2(vdisk, tmp_path)
    else:
        pw, img = qemu_enc(qemu_img, tmp_path, "qcow2", "q.qcow2")
    qio(qemu_io, pw, img, "write -P 0x5a 0 1M", "write -P 0x17 9M 64k")
    q = qcheck(qemu_img, pw, img)
    assert q[0] == 0
    assert vcheck(vdisk, pw, img) == q
    # --passphrase-file and the human summary as well.
    hq = qemu_img("check", *secret(pw), "--image-opts", qcow2_opts(img)).stdout
    hv = ok(vdisk("check", "--passphrase-file", pw, img)).stdout
    assert hv == hq


def test_check_raw_luks_not_supported(vdisk, qemu_img, tmp_path):
    pw, img = qemu_enc(qemu_img, tmp_path, "luks", "l.luks")
    q = qemu_img("check", *secret(pw), "--image-opts", luks_opts(img), check=False)
    v = vdisk("check", *secret(pw), "--image-opts", luks_opts(img), check=False)
    assert q.returncode == v.returncode == 63
    assert "This image format does not support checks" in v.stderr


def test_check_counts_luks_header_clusters(vdisk, qemu_img, qemu_io, tmp_path):
    """The LUKS header clusters are referenced: a zero refcount there is a
    corruption for both tools, and -r all restores it."""
    pw, img = enc_qcow2(vdisk, tmp_path)
    qio(qemu_io, pw, img, "write -P 0x42 0 512k")
    hdr_off, hdr_len = crypt_header(img)
    assert hdr_off % C == 0 and hdr_len > 0
    Img(img).set_rc(hdr_off, 0)
    q = qcheck(qemu_img, pw, img)
    assert q[0] == 2 and q[1]["corruptions"] >= 1
    assert vcheck(vdisk, pw, img) == q
    rc, res = vcheck(vdisk, pw, img, "-r", "all")
    assert rc == 0 and res["corruptions-fixed"] == q[1]["corruptions"]
    assert qcheck(qemu_img, pw, img)[0] == 0
    assert Img(img).rc(hdr_off) == 1
    qio(qemu_io, pw, img, "read -P 0x42 0 512k")


def test_check_leak_repair_keeps_header(vdisk, qemu_img, qemu_io, tmp_path):
    pw, img = enc_qcow2(vdisk, tmp_path)
    qio(qemu_io, pw, img, "write -P 0x42 64k 256k")
    enc_before = qemu_encrypt_info(qemu_img, img)
    append_leak(img)
    q = qcheck(qemu_img, pw, img)
    assert q[0] == 3 and q[1]["leaks"] == 1
    assert vcheck(vdisk, pw, img) == q
    ok(vdisk("check", "-r", "leaks", "--passphrase-file", pw, img))
    assert qcheck(qemu_img, pw, img)[0] == 0
    assert qemu_encrypt_info(qemu_img, img) == enc_before
    qio(qemu_io, pw, img, "read -P 0x42 64k 256k", "read -P 0 0 64k")


def test_check_rebuild_refcounts_keeps_luks_header(vdisk, qemu_img, qemu_io, tmp_path):
    """A refcount block QEMU cannot trust makes -r all rebuild every refcount
    from the metadata: the LUKS header clusters must be counted in the
    rebuild, and the image must still open with its passphrase."""
    pw, img = enc_qcow2(vdisk, tmp_path)
    qio(qemu_io, pw, img, "write -P 0x42 0 1M", "write -P 0x43 8M 64k")
    enc_before = qemu_encrypt_info(qemu_img, img)
    im = Img(img)
    im.put64(im.rt, im.refblock(0) + 512)          # refcount block not cluster aligned
    qref = tmp_path / "q.qcow2"
    shutil.copy(img, qref)
    assert qcheck(qemu_img, pw, img)[0] != 0
    assert vcheck(vdisk, pw, img)[0] != 0
    rc, _ = vcheck(vdisk, pw, img, "-r", "all")
    assert rc == 0
    # QEMU repairs its copy the same way; both end clean and readable.
    qemu_img("check", "-r", "all", *secret(pw), "--image-opts", qcow2_opts(qref), check=False)
    assert qcheck(qemu_img, pw, img)[0] == 0
    hdr_off, hdr_len = crypt_header(img)
    assert all(Img(img).rc(hdr_off + i) == 1 for i in range(0, hdr_len, C))
    assert qemu_encrypt_info(qemu_img, img) == enc_before
    qio(qemu_io, pw, img, "read -P 0x42 0 1M", "read -P 0x43 8M 64k", "read -P 0 1M 7M")
    qemu_img("compare", *secret(pw), "--image-opts", qcow2_opts(img), qcow2_opts(qref))


def test_l2_table_on_luks_header_refused_on_write_open(vdisk, qemu_img, qemu_io, tmp_path):
    """An L1 entry pointing into the LUKS header: QEMU's check calls it a
    corruption; vdisk's overlap check refuses to open the image for writing
    (which would overwrite the key material) and writes nothing."""
    pw, img = enc_qcow2(vdisk, tmp_path)
    hdr_off, _ = crypt_header(img)
    im = Img(img)
    im.put64(im.l1, hdr_off | (1 << 63))
    assert qcheck(qemu_img, pw, img)[0] == 2
    before = img.read_bytes()
    p = vdisk("snapshot", "-c", "s1", "--passphrase-file", pw, img, check=False)
    assert_no_crash(p)
    assert p.returncode == 1 and "LUKS header" in p.stderr and "e.qcow2" in p.stderr
    assert img.read_bytes() == before


# ---- snapshots ----------------------------------------------------------------

def test_snapshot_create_apply_delete(vdisk, qemu_img, qemu_io, tmp_path):
    pw, img = enc_qcow2(vdisk, tmp_path)
    io = ["--image-opts", qcow2_opts(img)]
    qio(qemu_io, pw, img, "write -P 0x11 0 1M")
    ok(vdisk("snapshot", "-c", "s1", *secret(pw), *io))
    qio(qemu_io, pw, img, "write -P 0x22 512k 1M")
    ok(vdisk("snapshot", "-c", "s2", "--passphrase-file", pw, img))
    lq = qemu_img("snapshot", "-l", *secret(pw), *io).stdout
    assert " s1 " in lq and " s2 " in lq
    assert ok(vdisk("snapshot", "-l", *secret(pw), *io)).stdout == lq
    assert qcheck(qemu_img, pw, img)[0] == 0
    ok(vdisk("snapshot", "-a", "s1", *secret(pw), *io))
    qio(qemu_io, pw, img, "read -P 0x11 0 1M", "read -P 0 1M 1M")
    assert qcheck(qemu_img, pw, img)[0] == 0
    ok(vdisk("snapshot", "-a", "s2", *secret(pw), *io))
    qio(qemu_io, pw, img, "read -P 0x11 0 512k", "read -P 0x22 512k 1M")
    ok(vdisk("snapshot", "-d", "s1", *secret(pw), *io))
    ok(vdisk("snapshot", "-d", "s2", *secret(pw), *io))
    assert qemu_img("snapshot", "-l", *secret(pw), *io).stdout == ""
    assert qcheck(qemu_img, pw, img)[0] == 0
    qio(qemu_io, pw, img, "read -P 0x22 512k 1M")


def test_qemu_snapshot_applied_by_vdisk(vdisk, qemu_img, qemu_io, tmp_path):
    pw, img = qemu_enc(qemu_img, tmp_path, "qcow2", "q.qcow2")
    io = ["--image-opts", qcow2_opts(img)]
    qio(qemu_io, pw, img, "write -P 0x31 0 256k")
    qemu_img("snapshot", "-c", "qs", *secret(pw), *io)
    qio(qemu_io, pw, img, "write -P 0x32 0 256k")
    ok(vdisk("snapshot", "-a", "qs", *secret(pw), *io))
    qio(qemu_io, pw, img, "read -P 0x31 0 256k")
    ok(vdisk("snapshot", "-d", "qs", *secret(pw), *io))
    assert qcheck(qemu_img, pw, img)[0] == 0


def test_convert_snapshot_of_encrypted_image(vdisk, qemu_img, qemu_io, tmp_path):
    pw, img = enc_qcow2(vdisk, tmp_path)
    io = ["--image-opts", qcow2_opts(img)]
    qio(qemu_io, pw, img, "write -P 0x41 0 512k")
    ok(vdisk("snapshot", "-c", "s1", *secret(pw), *io))
    qio(qemu_io, pw, img, "write -P 0x42 256k 512k")
    vout, qout = tmp_path / "v.raw", tmp_path / "q.raw"
    ok(vdisk("convert", "-l", "s1", "--passphrase-file", pw, "-O", "raw", img, vout))
    qemu_img("convert", "-l", "s1", *secret(pw), *io, "-O", "raw", qout)
    assert vout.read_bytes() == qout.read_bytes()
    assert qout.read_bytes()[:512 * 1024] == b"\x41" * (512 * 1024)


def test_qemu_made_leak_repaired(vdisk, qemu_img, qemu_io, tmp_path):
    pw, img = qemu_enc(qemu_img, tmp_path, "qcow2", "q.qcow2")
    qio(qemu_io, pw, img, "write -P 0x51 0 192k")
    append_leak(img)
    q = qcheck(qemu_img, pw, img)
    assert q[0] == 3
    assert vcheck(vdisk, pw, img) == q
    rc, res = vcheck(vdisk, pw, img, "-r", "all")
    assert rc == 0 and res["leaks-fixed"] == q[1]["leaks"]
    assert qcheck(qemu_img, pw, img)[0] == 0
    qio(qemu_io, pw, img, "read -P 0x51 0 192k")


@pytest.mark.parametrize("cmd", [["snapshot", "-c", "x"], ["snapshot", "-a", "x"],
                                 ["snapshot", "-d", "x"], ["amend", "-o", "compat=1.1"]],
                         ids=lambda c: "-".join(c[:2]))
def test_raw_luks_has_no_snapshots_or_amend(vdisk, qemu_img, tmp_path, cmd):
    pw, img = qemu_enc(qemu_img, tmp_path, "luks", "l.luks")
    before = img.read_bytes()
    args = [*cmd, *secret(pw), "--image-opts", luks_opts(img)]
    q, v = qemu_img(*args, check=False), vdisk(*args, check=False)
    assert_no_crash(v)
    assert q.returncode == v.returncode == 1
    assert img.read_bytes() == before
    assert qemu_img("snapshot", "-l", *secret(pw), "--image-opts", luks_opts(img)).stdout == \
        ok(vdisk("snapshot", "-l", *secret(pw), "--image-opts", luks_opts(img))).stdout == ""


# ---- amend, dirty bit -----------------------------------------------------------

def test_amend_keeps_encryption(vdisk, qemu_img, qemu_io, tmp_path):
    pw, img = enc_qcow2(vdisk, tmp_path)
    qio(qemu_io, pw, img, "write -P 0x66 0 640k")
    enc = qemu_encrypt_info(qemu_img, img)
    for opts in ("lazy_refcounts=on", "lazy_refcounts=off,compat=0.10", "compat=1.1"):
        ok(vdisk("amend", "-o", opts, *secret(pw), "--image-opts", qcow2_opts(img)))
        assert qemu_encrypt_info(qemu_img, img) == enc
        assert qcheck(qemu_img, pw, img)[0] == 0
        qio(qemu_io, pw, img, "read -P 0x66 0 640k")
    info = json.loads(qemu_img("info", "--output", "json", img).stdout)
    assert info["format-specific"]["data"]["compat"] == "1.1"


def test_dirty_bit_repaired_on_write_open(vdisk, qemu_img, qemu_io, tmp_path):
    pw, img = enc_qcow2(vdisk, tmp_path, extra=["-o", "lazy_refcounts=on"])
    qio(qemu_io, pw, img, "write -P 0x71 0 256k")
    im = Img(img)
    im.put64(72, im.u64(72) | 1)
    append_leak(img)
    before = img.read_bytes()
    # Without the passphrase nothing is repaired (no write open happens).
    assert vdisk("snapshot", "-c", "s", img, check=False).returncode == 1
    assert img.read_bytes() == before
    ok(vdisk("snapshot", "-c", "s", "--passphrase-file", pw, img))
    assert Img(img).u64(72) & 1 == 0
    assert qcheck(qemu_img, pw, img)[0] == 0
    qio(qemu_io, pw, img, "read -P 0x71 0 256k")


# ---- resize, rebase, commit ------------------------------------------------------

def test_resize_qcow2(vdisk, qemu_img, qemu_io, tmp_path):
    pw, img = enc_qcow2(vdisk, tmp_path)
    qio(qemu_io, pw, img, "write -P 0x5c 15M 1M")
    assert ok(vdisk("resize", *secret(pw), "--image-opts", qcow2_opts(img), "+1G")).stdout == \
        "Image resized.\n"
    info = json.loads(qemu_img("info", "--output", "json", img).stdout)
    assert info["virtual-size"] == 16 * MiB + (1 << 30)
    assert qcheck(qemu_img, pw, img)[0] == 0
    qio(qemu_io, pw, img, "read -P 0x5c 15M 1M", "read -P 0 16M 1M", "write -P 1 1G 64k")
    ok(vdisk("resize", "--shrink", "--passphrase-file", pw, img, "16M"))
    assert qcheck(qemu_img, pw, img)[0] == 0
    qio(qemu_io, pw, img, "read -P 0x5c 15M 1M")


def test_resize_raw_luks(vdisk, qemu_img, qemu_io, tmp_path):
    pw, img = qemu_enc(qemu_img, tmp_path, "luks", "l.luks")
    qio(qemu_io, pw, img, "write -P 0x5c 15M 1M", fmt="luks")
    ref = tmp_path / "ref.luks"
    shutil.copy(img, ref)
    ok(vdisk("resize", *secret(pw), "--image-opts", luks_opts(img), "+8M"))
    qemu_img("resize", "-q", *secret(pw), "--image-opts", luks_opts(ref), "+8M")
    assert img.stat().st_size == ref.stat().st_size
    assert json.loads(qemu_img("info", "--output", "json", img).stdout)["virtual-size"] == 24 * MiB
    qio(qemu_io, pw, img, "read -P 0x5c 15M 1M", "write -P 0x11 20M 1M", "read -P 0x11 20M 1M",
        fmt="luks")
    # Full preallocation writes encrypted zeros: the new part reads as zeros.
    ok(vdisk("resize", "--preallocation=full", "--passphrase-file", pw, img, "32M"))
    qio(qemu_io, pw, img, "read -P 0 24M 8M", "read -P 0x11 20M 1M", fmt="luks")
    p = vdisk("resize", "--passphrase-file", pw, img, "16M", check=False)
    assert p.returncode == 1 and "--shrink" in p.stderr
    ok(vdisk("resize", "--shrink", "--passphrase-file", pw, img, "16M"))
    qemu_img("resize", "-q", "--shrink", *secret(pw), "--image-opts", luks_opts(ref), "16M")
    assert img.stat().st_size == ref.stat().st_size
    qio(qemu_io, pw, img, "read -P 0x5c 15M 1M", fmt="luks")


def chain(vdisk, tmp_path):
    pw, base = enc_qcow2(vdisk, tmp_path, "base.qcow2")
    _, base2 = enc_qcow2(vdisk, tmp_path, "base2.qcow2")
    _, ov = enc_qcow2(vdisk, tmp_path, "ov.qcow2", extra=["-b", "base.qcow2", "-F", "qcow2"])
    return pw, base, base2, ov


def ov_opts(ov):
    return qcow2_opts(ov) + ",backing.encrypt.key-secret=sec0"


def test_rebase_and_commit_encrypted_chain(vdisk, qemu_img, qemu_io, tmp_path):
    pw, base, base2, ov = chain(vdisk, tmp_path)
    qio(qemu_io, pw, base, "write -P 0xaa 0 2M")
    qemu_io(*secret(pw), "--image-opts", ov_opts(ov), "-c", "write -P 0xbb 1M 2M")
    ok(vdisk("rebase", *secret(pw), "--image-opts", ov_opts(ov), "-b", "base2.qcow2",
             "-F", "qcow2"))
    info = json.loads(qemu_img("info", "--output", "json", ov).stdout)
    assert info["backing-filename"] == "base2.qcow2"
    p = qemu_io(*secret(pw), "--image-opts", ov_opts(ov), "-c", "read -P 0xaa 0 1M",
                "-c", "read -P 0xbb 1M 2M", "-c", "read -P 0 3M 1M")
    assert "failed" not in p.stdout, p.stdout
    assert qcheck(qemu_img, pw, ov, ov_opts(ov))[0] == 0
    assert ok(vdisk("commit", "--passphrase-file", pw, ov)).stdout == "Image committed.\n"
    qio(qemu_io, pw, base2, "read -P 0xaa 0 1M", "read -P 0xbb 1M 2M")
    assert qcheck(qemu_img, pw, base2)[0] == 0
    assert qcheck(qemu_img, pw, ov, ov_opts(ov))[0] == 0


def test_backing_secret_must_be_the_same(vdisk, tmp_path):
    pw, base, base2, ov = chain(vdisk, tmp_path)
    other = pwfile(tmp_path, b"other", "other")
    p = vdisk("commit", *secret(pw), "--object", f"secret,id=b,file={other}", "--image-opts",
              qcow2_opts(ov) + ",backing.encrypt.key-secret=b", check=False)
    assert p.returncode == 1 and "backing key-secret" in p.stderr


def test_plain_overlay_on_encrypted_base(vdisk, qemu_img, qemu_io, tmp_path):
    """qemu-img's spelling for a plain overlay: only backing.encrypt.key-secret."""
    pw, base = enc_qcow2(vdisk, tmp_path, "base.qcow2")
    ov = tmp_path / "ov.qcow2"
    ok(vdisk("create", "-q", "-f", "qcow2", "-b", "base.qcow2", "-F", "qcow2", ov, "16M"))
    opts = f"driver=qcow2,file.filename={ov},backing.encrypt.key-secret=sec0"
    qemu_io(*secret(pw), "--image-opts", opts, "-c", "write -P 0x99 4M 1M")
    p = vdisk("commit", ov, check=False)
    assert p.returncode == 1 and "'encrypt.key-secret' is required for cipher" in p.stderr
    assert ok(vdisk("commit", *secret(pw), "--image-opts", opts)).stdout == "Image committed.\n"
    qio(qemu_io, pw, base, "read -P 0x99 4M 1M", "read -P 0 0 4M")
    assert qcheck(qemu_img, pw, base)[0] == 0


# ---- map, compare, measure -------------------------------------------------------

def test_map_compare_measure(vdisk, qemu_img, qemu_io, tmp_path):
    pw, img = enc_qcow2(vdisk, tmp_path)
    qio(qemu_io, pw, img, "write -P 0x5a 0 1M", "write -z 2M 1M", "write -P 0x17 9M 64k")
    io = ["--image-opts", qcow2_opts(img)]
    qmap = json.loads(qemu_img("map", "--output=json", *secret(pw), *io).stdout)
    vmap = json.loads(ok(vdisk("map", "--output=json", *secret(pw), *io)).stdout)
    assert vmap == qmap
    raw = tmp_path / "plain.raw"
    qemu_img("convert", *secret(pw), *io, "-O", "raw", raw)
    q = qemu_img("compare", *secret(pw), *io, f"driver=raw,file.filename={raw}", check=False)
    v = vdisk("compare", "--passphrase-file", pw, img, raw, check=False)
    assert q.returncode == v.returncode == 0
    with open(raw, "r+b") as f:
        f.seek(5 * MiB)
        f.write(b"x")
    q = qemu_img("compare", *secret(pw), *io, f"driver=raw,file.filename={raw}", check=False)
    v = vdisk("compare", "--passphrase-file", pw, img, raw, check=False)
    assert q.returncode == v.returncode == 1
    qm = json.loads(qemu_img("measure", "--output=json", *secret(pw), *io, "-O", "qcow2").stdout)
    vm = json.loads(ok(vdisk("measure", "--output=json", *secret(pw), *io, "-O", "qcow2")).stdout)
    assert vm == qm


def test_bench_writes_through_encryption(vdisk, qemu_img, qemu_io, tmp_path):
    pw, img = enc_qcow2(vdisk, tmp_path)
    ok(vdisk("bench", "-q", "-w", "-c", "16", "-d", "4", "-s", "64k", "--pattern", "171",
             *secret(pw), "--image-opts", qcow2_opts(img)))
    qio(qemu_io, pw, img, "read -P 0xab 0 1M", "read -P 0 1M 1M")
    assert qcheck(qemu_img, pw, img)[0] == 0
    ok(vdisk("bench", "-q", "-c", "16", "--passphrase-file", pw, img))


@pytest.mark.parametrize("cmd", [["check"], ["snapshot", "-c", "s1"],
                                 ["amend", "-o", "lazy_refcounts=on"], ["resize", None, "+1M"]],
                         ids=lambda c: c[0])
def test_passphrase_fd(vdisk, qemu_img, qemu_io, tmp_path, cmd):
    pw, img = enc_qcow2(vdisk, tmp_path)
    qio(qemu_io, pw, img, "write -P 0x3c 0 64k")
    with open(pw, "rb") as f:
        argv = [*[a for a in cmd if a is not None and a != "+1M"], "--passphrase-fd",
                str(f.fileno()), img, *(["+1M"] if None in cmd else [])]
        ok(vdisk(*argv, pass_fds=(f.fileno(),)))
    assert qcheck(qemu_img, pw, img)[0] == 0
    qio(qemu_io, pw, img, "read -P 0x3c 0 64k")


# ---- locking ----------------------------------------------------------------------

@pytest.mark.parametrize("cmd,force", [(["check"], False), (["check"], True),
                                       (["snapshot", "-l"], True), (["snapshot", "-c", "s"], False),
                                       (["resize"], False)],
                         ids=lambda x: "-".join(x) if isinstance(x, list) else ("U" if x else ""))
def test_locked_encrypted_image_like_qemu(vdisk, qemu_img, qemu_io, tmp_path, cmd, force):
    """While qemu-io has the encrypted image open for writing, vdisk refuses
    or (with -U, read-only) allows exactly what qemu-img does."""
    from test_locking import Holder
    pw, img = enc_qcow2(vdisk, tmp_path)
    tail = ["+1M"] if cmd == ["resize"] else []
    args = [*cmd, *(["-U"] if force else []), *secret(pw), "--image-opts", qcow2_opts(img), *tail]
    with Holder(["qemu-io", *secret(pw), "--image-opts", qcow2_opts(img)], img):
        q = qemu_img(*args, check=False)
        v = vdisk(*args, check=False)
    assert_no_crash(v)
    assert v.returncode == q.returncode, (q.stderr, v.stderr)
    assert (q.returncode == 0) == force, q.stderr
    if q.returncode:
        assert "image is in use" in v.stderr


# ---- legacy AES: the commands that write work as on qemu-img's images ----------------

def test_legacy_aes_check_and_writes(vdisk, qemu_img, qemu_io, tmp_path):
    pw = pwfile(tmp_path)
    img = tmp_path / "aes.qcow2"
    qemu_img("create", "-q", "-f", "qcow2", *secret(pw), "-o",
             "encrypt.format=aes,encrypt.key-secret=sec0", img, "2M")
    qio(qemu_io, pw, img, "write -P 7 0 64k")
    q = qcheck(qemu_img, pw, img)
    assert q[0] == 0 and vcheck(vdisk, pw, img) == q
    assert ok(vdisk("snapshot", "-l", "--passphrase-file", pw, img)).stdout == ""
    for args in (["check", "-r", "all", img], ["snapshot", "-c", "s", img],
                 ["amend", "-o", "compat=1.1", img], ["resize", img, "+1M"]):
        ok(vdisk(args[0], "--passphrase-file", pw, *args[1:]))
    # QEMU sees what vdisk did, and the data is intact
    info = json.loads(qemu_img("info", "--output=json", img).stdout)
    assert info["virtual-size"] == 3 * MiB and info["encrypted"]
    assert [s["name"] for s in info["snapshots"]] == ["s"]
    assert qcheck(qemu_img, pw, img)[0] == 0
    qio(qemu_io, pw, img, "read -P 7 0 64k", "read -P 0 64k 3008k")
