"""vdisk-virsh amend of LUKS key slots against qemu-img amend:
encrypt.state=active|inactive (qcow2 encrypt.format=luks) and state=...
(raw luks images), with encrypt.new-secret / old-secret / keyslot /
iter-time and --force.

Oracles: qemu-img info (slot states), qemu-img compare / qemu-io with the
old and the new passphrase (the guest data must not change), cryptsetup
luksDump and open --test-passphrase for raw LUKS, and qemu-img amend itself
run on a byte-identical copy for every refusal (same exit status, same
message, the file left as it was).  PBKDF2 iteration time: 10 ms.
"""
import json
import shutil

import pytest

from cli_common import assert_no_crash
from conftest import run
from encrypt_common import ITER, cryptsetup_bin, have_cryptsetup, retry_qemu

PW = {"sec0": b"old passphrase", "sec1": b"new passphrase", "sec2": b"third one"}
WRITES = ["write -P 0x5a 0 64k", "write -P 0xc3 1M 200k", "write -P 0x11 3M 4k"]


@pytest.fixture
def objs(tmp_path):
    """--object arguments for sec0..sec2, each in its own file."""
    args = []
    for sid, data in PW.items():
        f = tmp_path / sid
        f.write_bytes(data)
        args += ["--object", f"secret,id={sid},file={f}"]
    return args


def prefix(fmt):
    return "encrypt." if fmt == "qcow2" else ""


def opts(fmt, path, sid="sec0"):
    key = "encrypt.key-secret" if fmt == "qcow2" else "key-secret"
    return f"driver={fmt},file.filename={path},{key}={sid}"


def amend_args(objs, fmt, path, o, sid="sec0", force=False):
    """amend arguments with -o keys written without the prefix ("state=active")."""
    p = prefix(fmt)
    o = ",".join(p + kv for kv in o.split(",")) if o else o
    return ["amend", *objs, *(["--force"] if force else []), "-o", o, "--image-opts", opts(fmt, path, sid)]


def make(qemu_img, qemu_io, objs, fmt, path):
    """An encrypted image by qemu-img (sec0 in slot 0) with data by qemu-io."""
    p = prefix(fmt)
    o = f"{p}key-secret=sec0,{p}iter-time={ITER}" + (",encrypt.format=luks" if fmt == "qcow2" else "")
    retry_qemu(qemu_img, "create", "-q", "-f", fmt, *objs, "-o", o, path, "4M")
    for w in WRITES:
        qemu_io(*objs, "--image-opts", opts(fmt, path), "-c", w)
    return path


def plain_copy(qemu_img, objs, fmt, path, out):
    qemu_img("convert", *objs, "--image-opts", opts(fmt, path), "-O", "raw", out)
    return out


def slots(qemu_img, objs, fmt, path, sid):
    info = json.loads(qemu_img("info", "--output", "json", *objs, "--image-opts",
                               opts(fmt, path, sid)).stdout)
    data = info["format-specific"]["data"]
    data = data["encrypt"] if fmt == "qcow2" else data
    return [s["active"] for s in data["slots"]]


def same_data(qemu_img, objs, fmt, path, sid, raw):
    p = qemu_img("compare", *objs, "--image-opts", opts(fmt, path, sid),
                 f"driver=raw,file.filename={raw}", check=False)
    assert p.returncode == 0, p.stdout + p.stderr


def qemu_refuses(qemu_img, objs, fmt, path, sid):
    """qemu-img cannot read the data with this passphrase (info does not
    unlock the image; convert does)."""
    out = path.parent / "refused.raw"
    p = qemu_img("convert", *objs, "--image-opts", opts(fmt, path, sid), "-O", "raw", out, check=False)
    assert p.returncode == 1 and "Invalid password, cannot unlock any keyslot" in p.stderr, p.stderr


def made(qemu_img, qemu_io, objs, fmt, tmp_path):
    """make() plus a plain raw copy of its guest data."""
    img = make(qemu_img, qemu_io, objs, fmt, tmp_path / f"a.{fmt}")
    return img, plain_copy(qemu_img, objs, fmt, img, tmp_path / "a.raw")


def only_sec1_opens(qemu_img, objs, fmt, img, raw):
    qemu_refuses(qemu_img, objs, fmt, img, "sec0")
    same_data(qemu_img, objs, fmt, img, "sec1", raw)


def ok(p):
    assert_no_crash(p)
    assert p.returncode == 0, p.stdout + p.stderr
    return p


def cryptsetup_opens(tmp_path, img, sid):
    p = run([cryptsetup_bin(), "open", "--test-passphrase", "--key-file", tmp_path / sid, img], check=False)
    return p.returncode == 0


FMTS = ["qcow2", "luks"]


@pytest.mark.parametrize("fmt", FMTS)
def test_add_slot_both_passphrases_open(vdisk, qemu_img, qemu_io, objs, tmp_path, fmt):
    img, raw = made(qemu_img, qemu_io, objs, fmt, tmp_path)
    ok(vdisk(*amend_args(objs, fmt, img, f"state=active,new-secret=sec1,iter-time={ITER}")))
    assert slots(qemu_img, objs, fmt, img, "sec1") == [True, True] + [False] * 6
    same_data(qemu_img, objs, fmt, img, "sec1", raw)
    same_data(qemu_img, objs, fmt, img, "sec0", raw)
    qemu_refuses(qemu_img, objs, fmt, img, "sec2")
    if fmt == "qcow2":
        assert qemu_img("check", *objs, "--image-opts", opts(fmt, img)).returncode == 0
    # the image is still writable with the new passphrase
    qemu_io(*objs, "--image-opts", opts(fmt, img, "sec1"), "-c", "write -P 0x77 2M 4k")
    qemu_io(*objs, "--image-opts", opts(fmt, img, "sec0"), "-c", "read -P 0x77 2M 4k")


@pytest.mark.parametrize("fmt", FMTS)
def test_add_explicit_slot_then_erase_by_index(vdisk, qemu_img, qemu_io, objs, tmp_path, fmt):
    img, raw = made(qemu_img, qemu_io, objs, fmt, tmp_path)
    ok(vdisk(*amend_args(objs, fmt, img, f"state=active,new-secret=sec1,keyslot=5,iter-time={ITER}")))
    assert slots(qemu_img, objs, fmt, img, "sec1") == [True] + [False] * 4 + [True] + [False] * 2
    ok(vdisk(*amend_args(objs, fmt, img, "state=inactive,keyslot=0", sid="sec1")))
    assert slots(qemu_img, objs, fmt, img, "sec1") == [False] * 5 + [True] + [False] * 2
    only_sec1_opens(qemu_img, objs, fmt, img, raw)


@pytest.mark.parametrize("fmt", FMTS)
def test_erase_by_old_secret(vdisk, qemu_img, qemu_io, objs, tmp_path, fmt):
    """old-secret erases every slot it opens (two here), the other stays."""
    img, raw = made(qemu_img, qemu_io, objs, fmt, tmp_path)
    for sid in ("sec1", "sec0"):
        retry_qemu(qemu_img, *amend_args(objs, fmt, img, f"state=active,new-secret={sid},iter-time={ITER}"))
    assert slots(qemu_img, objs, fmt, img, "sec0") == [True] * 3 + [False] * 5
    ok(vdisk(*amend_args(objs, fmt, img, "state=inactive,old-secret=sec0")))
    assert slots(qemu_img, objs, fmt, img, "sec1") == [False, True] + [False] * 6
    only_sec1_opens(qemu_img, objs, fmt, img, raw)


@pytest.mark.parametrize("fmt", FMTS)
def test_qemu_amended_images_open_in_vdisk(vdisk, qemu_img, qemu_io, objs, tmp_path, fmt):
    img, raw = made(qemu_img, qemu_io, objs, fmt, tmp_path)
    retry_qemu(qemu_img, *amend_args(objs, fmt, img, f"state=active,new-secret=sec1,keyslot=3,iter-time={ITER}"))
    qemu_img(*amend_args(objs, fmt, img, "state=inactive,keyslot=0", sid="sec1"))
    out = tmp_path / "v.raw"
    ok(vdisk("convert", *objs, "--image-opts", opts(fmt, img, "sec1"), "-O", "raw", out))
    assert out.read_bytes() == raw.read_bytes()
    p = vdisk("convert", *objs, "--image-opts", opts(fmt, img, "sec0"), "-O", "raw", tmp_path / "w.raw",
              check=False)
    assert_no_crash(p)
    assert p.returncode == 1 and "Invalid password, cannot unlock any keyslot" in p.stderr
    # and vdisk can go on amending what qemu-img amended
    ok(vdisk(*amend_args(objs, fmt, img, f"state=active,new-secret=sec2,iter-time={ITER}", sid="sec1")))
    assert slots(qemu_img, objs, fmt, img, "sec2") == [True, False, False, True] + [False] * 4


def test_raw_luks_cryptsetup_sees_the_slots(vdisk, qemu_img, qemu_io, objs, tmp_path):
    if not have_cryptsetup():
        pytest.fail("cryptsetup is missing (Debian package cryptsetup-bin)")
    img = make(qemu_img, qemu_io, objs, "luks", tmp_path / "a.luks")
    ok(vdisk(*amend_args(objs, "luks", img, f"state=active,new-secret=sec1,keyslot=2,iter-time={ITER}")))
    dump = run([cryptsetup_bin(), "luksDump", img]).stdout
    assert "Key Slot 2: ENABLED" in dump and "Key Slot 1: DISABLED" in dump, dump
    assert cryptsetup_opens(tmp_path, img, "sec0") and cryptsetup_opens(tmp_path, img, "sec1")
    assert not cryptsetup_opens(tmp_path, img, "sec2")
    ok(vdisk(*amend_args(objs, "luks", img, "state=inactive,old-secret=sec0")))
    dump = run([cryptsetup_bin(), "luksDump", img]).stdout
    assert "Key Slot 0: DISABLED" in dump and "Key Slot 2: ENABLED" in dump, dump
    assert not cryptsetup_opens(tmp_path, img, "sec0") and cryptsetup_opens(tmp_path, img, "sec1")


@pytest.mark.parametrize("fmt", FMTS)
def test_force_erases_last_slot_and_overwrites_active(vdisk, qemu_img, qemu_io, objs, tmp_path, fmt):
    img, raw = made(qemu_img, qemu_io, objs, fmt, tmp_path)
    # overwrite the only (active) slot with another passphrase
    ok(vdisk(*amend_args(objs, fmt, img, f"state=active,new-secret=sec1,keyslot=0,iter-time={ITER}",
                         force=True)))
    only_sec1_opens(qemu_img, objs, fmt, img, raw)
    ok(vdisk(*amend_args(objs, fmt, img, "state=inactive,keyslot=0", sid="sec1", force=True)))
    qemu_refuses(qemu_img, objs, fmt, img, "sec1")


# Refusals: (setup adds sec1 to slot 1 when True, -o keys without prefix, secret
# that opens the image).  qemu-img runs on one copy, vdisk on another.
REFUSALS = [
    (False, f"state=active,new-secret=sec1,keyslot=0,iter-time={ITER}", "sec0"),
    (False, f"state=active,new-secret=sec1,keyslot=8,iter-time={ITER}", "sec0"),
    (False, f"state=active,new-secret=sec1,keyslot=-1,iter-time={ITER}", "sec0"),
    (False, "state=active", "sec0"),
    (False, "state=active,new-secret=sec1,old-secret=sec0", "sec0"),
    (False, "state=active,new-secret=nosuch", "sec0"),
    (False, "state=inactive,keyslot=0", "sec0"),
    (False, "state=inactive,old-secret=sec0", "sec0"),
    (False, "state=inactive,old-secret=sec2", "sec0"),
    (False, "state=inactive,keyslot=9", "sec0"),
    (False, "state=inactive,keyslot=3", "sec0"),
    (False, "state=inactive", "sec0"),
    (False, "state=inactive,keyslot=1,iter-time=5", "sec0"),
    (False, "state=inactive,keyslot=1,new-secret=sec1", "sec0"),
    (False, "state=bogus", "sec0"),
    (False, "keyslot=1", "sec0"),
    (False, "state=inactive,keyslot=one", "sec0"),
    (True, "state=inactive,keyslot=1,old-secret=sec0", "sec0"),
    (True, "state=inactive,old-secret=sec2", "sec1"),
    (False, "cipher-alg=aes-128", "sec0"),
]


@pytest.mark.parametrize("fmt", FMTS)
@pytest.mark.parametrize("two,o,sid", REFUSALS, ids=[r[1].split(",iter")[0] for r in REFUSALS])
def test_refusals_match_qemu_img(vdisk, qemu_img, qemu_io, objs, tmp_path, fmt, two, o, sid):
    a = make(qemu_img, qemu_io, objs, fmt, tmp_path / f"a.{fmt}")
    if two:
        retry_qemu(qemu_img, *amend_args(objs, fmt, a, f"state=active,new-secret=sec1,iter-time={ITER}"))
    b = shutil.copy(a, tmp_path / f"b.{fmt}")
    before = open(a, "rb").read()
    q = qemu_img(*amend_args(objs, fmt, a, o, sid=sid), check=False)
    v = vdisk(*amend_args(objs, fmt, b, o, sid=sid), check=False)
    assert_no_crash(v)
    assert q.returncode == 1, q.stderr
    assert v.returncode == q.returncode, v.stderr
    msg = q.stderr.strip().split("qemu-img: ", 1)[1].splitlines()[0].strip()
    assert msg in v.stderr, (q.stderr, v.stderr)
    assert open(a, "rb").read() == before
    assert open(b, "rb").read() == before


def test_all_slots_in_use(vdisk, qemu_img, qemu_io, objs, tmp_path):
    a = make(qemu_img, qemu_io, objs, "luks", tmp_path / "a.luks")
    for _ in range(7):
        retry_qemu(qemu_img, *amend_args(objs, "luks", a, f"state=active,new-secret=sec1,iter-time={ITER}"))
    b = shutil.copy(a, tmp_path / "b.luks")
    before = open(a, "rb").read()
    o = f"state=active,new-secret=sec2,iter-time={ITER}"
    q = qemu_img(*amend_args(objs, "luks", a, o), check=False)
    v = vdisk(*amend_args(objs, "luks", b, o), check=False)
    assert_no_crash(v)
    assert q.returncode == v.returncode == 1
    assert "Can't add a keyslot - all keyslots are in use" in q.stderr
    assert "Can't add a keyslot - all keyslots are in use" in v.stderr
    assert open(b, "rb").read() == before


@pytest.mark.parametrize("fmt,o", [("qcow2", "state=active,new-secret=sec1"),
                                   ("luks", "encrypt.state=active,encrypt.new-secret=sec1"),
                                   ("qcow2", "encrypt.cipher-alg=aes-128"),
                                   ("qcow2", "encrypt.secret=sec0")])
def test_wrong_spelling_for_the_format(vdisk, qemu_img, qemu_io, objs, tmp_path, fmt, o):
    a = make(qemu_img, qemu_io, objs, fmt, tmp_path / f"a.{fmt}")
    before = a.read_bytes()
    args = ["amend", *objs, "-o", o, "--image-opts", opts(fmt, a)]
    q, v = qemu_img(*args, check=False), vdisk(*args, check=False)
    assert_no_crash(v)
    assert q.returncode == v.returncode == 1
    msg = q.stderr.split("qemu-img: ", 1)[1].splitlines()[0].strip()
    assert msg in v.stderr, (q.stderr, v.stderr)
    assert a.read_bytes() == before


def test_plain_qcow2_has_no_encryption_to_amend(vdisk, qemu_img, objs, tmp_path):
    a = tmp_path / "p.qcow2"
    qemu_img("create", "-q", "-f", "qcow2", a, "1M")
    before = a.read_bytes()
    args = ["amend", *objs, "-o", "encrypt.state=active,encrypt.new-secret=sec1", a]
    q, v = qemu_img(*args, check=False), vdisk(*args, check=False)
    assert_no_crash(v)
    assert q.returncode == v.returncode == 1
    assert "Can't amend encryption options - encryption not present" in q.stderr
    assert "Can't amend encryption options - encryption not present" in v.stderr
    assert a.read_bytes() == before
