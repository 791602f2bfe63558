"""Encrypted volumes of an embedded pool (<encryption format='luks'> with a
secret of the registry), end to end through vdisk-virsh, as libvirt's dir
pool makes them: raw -> a LUKS container, qcow2 -> qcow2 with LUKS inside.

Oracles: qemu-img / qemu-io opening the volumes with the same passphrase
(`--object secret,... --image-opts ...`) and `cryptsetup luksDump` for raw
LUKS.  PBKDF2 time is kept small through VDISK_LUKS_ITER_TIME.
"""
import json
import os
import re

import pytest

from encrypt_common import (OTHER, PASS, cryptsetup_bin, have_cryptsetup, image_opts,
                            pwfile, retry_qemu, secret)
from pool_common import virsh  # noqa: F401
from xml_common import libvirt_src  # noqa: F401

UUID_A = "0a81f5b2-8403-7b23-c8d6-21ccc2f80d6f"
UUID_B = "1b92a6c3-9514-4c34-a9e7-32ddd3a91e70"


@pytest.fixture
def ev(virsh, tmp_path):
    """virsh with a pool 'p' and a small PBKDF2 time for new LUKS volumes."""
    virsh.env["VDISK_LUKS_ITER_TIME"] = "10"
    virsh.pool = virsh.make_pool("p")
    return virsh


def define_secret(v, tmp_path, uuid, usage, value=PASS):
    xml = tmp_path / f"{uuid}.xml"
    xml.write_text(f"<secret ephemeral='no' private='yes'><uuid>{uuid}</uuid>"
                   f"<usage type='volume'><volume>{usage}</volume></usage></secret>")
    v.run("secret-define", xml)
    if value is not None:
        val = tmp_path / f"{uuid}.value"
        val.write_bytes(value)
        v.run("secret-set-value", uuid, "--file", val, "--plain")


def vol_xml(tmp_path, name, fmt, enc="", capacity="8M"):
    xml = tmp_path / f"{name}.xml"
    xml.write_text(f"<volume><name>{name}</name><capacity unit='{capacity[-1]}'>{capacity[:-1]}"
                   f"</capacity><target><format type='{fmt}'/>{enc}</target></volume>")
    return xml


def enc_by_uuid(uuid, extra=""):
    return (f"<encryption format='luks'><secret type='passphrase' uuid='{uuid}'/>{extra}"
            "</encryption>")


def qinfo(qemu_img, fmt, path, pw):
    p = retry_qemu(qemu_img, "info", "--output=json", "-U", *secret(pw), "--image-opts",
                   image_opts(fmt, path))
    return json.loads(p.stdout)


def qio(qemu_io, fmt, path, pw, cmd):
    return retry_qemu(qemu_io, *secret(pw), "--image-opts", image_opts(fmt, path), "-c", cmd)


def test_create_raw_luks_and_qcow2(ev, tmp_path, qemu_img, qemu_io):
    pw = pwfile(tmp_path)
    raw, qc = ev.pool / "a.img", ev.pool / "b.qcow2"
    define_secret(ev, tmp_path, UUID_A, raw)
    define_secret(ev, tmp_path, UUID_B, qc)
    cipher = "<cipher name='aes' size='128' mode='cbc' hash='sha256'/><ivgen name='essiv' hash='sha256'/>"
    ev.run("vol-create", "p", vol_xml(tmp_path, "a.img", "raw", enc_by_uuid(UUID_A, cipher)))
    ev.run("vol-create", "p", vol_xml(tmp_path, "b.qcow2", "qcow2", enc_by_uuid(UUID_B)))
    i = qinfo(qemu_img, "raw", raw, pw)
    assert i["format"] == "luks" and i["virtual-size"] == 8 << 20 and i["encrypted"]
    d = i["format-specific"]["data"]
    assert (d["cipher-alg"], d["cipher-mode"], d["ivgen-alg"], d["ivgen-hash-alg"]) == \
        ("aes-128", "cbc", "essiv", "sha256")
    i = qinfo(qemu_img, "qcow2", qc, pw)
    assert i["format"] == "qcow2" and i["virtual-size"] == 8 << 20 and i["encrypted"]
    assert i["format-specific"]["data"]["encrypt"]["format"] == "luks"
    retry_qemu(qemu_img, "check", *secret(pw), "--image-opts", image_opts("qcow2", qc))
    for fmt, path in (("raw", raw), ("qcow2", qc)):
        qio(qemu_io, fmt, path, pw, "write -P 0x5a 1M 64k")
        assert "read 65536/65536" in qio(qemu_io, fmt, path, pw, "read -P 0x5a 1M 64k").stdout
    # The wrong passphrase does not open them.
    bad = pwfile(tmp_path, OTHER, "bad")
    assert qemu_io(*secret(bad), "--image-opts", image_opts("raw", raw), "-c", "read 0 512",
                   check=False).returncode != 0
    if have_cryptsetup():
        import subprocess
        p = subprocess.run([cryptsetup_bin(), "luksDump", str(raw)], capture_output=True, text=True)
        assert p.returncode == 0, p.stderr
        assert "cbc-essiv:sha256" in p.stdout and "Version:" in p.stdout


def test_thick_encrypted_qcow2_reads_zeros_with_its_space_reserved(ev, tmp_path, qemu_img, qemu_io):
    # QEMU's preallocated clusters of an encrypted qcow2 would read as garbage;
    # the thick volume gets its space reserved instead.
    pw = pwfile(tmp_path)
    qc = ev.pool / "t.qcow2"
    define_secret(ev, tmp_path, UUID_B, qc)
    xml = tmp_path / "t.xml"
    xml.write_text("<volume><name>t.qcow2</name><capacity unit='M'>8</capacity>"
                   "<allocation unit='M'>8</allocation><target><format type='qcow2'/>"
                   f"{enc_by_uuid(UUID_B)}</target></volume>")
    ev.run("vol-create", "p", xml)
    for step in ("created", "wiped"):
        assert os.stat(qc).st_blocks * 512 >= 8 << 20, step
        assert "read 8388608/8388608" in qio(qemu_io, "qcow2", qc, pw, "read -P 0 0 8M").stdout
        retry_qemu(qemu_img, "check", *secret(pw), "--image-opts", image_opts("qcow2", qc))
        if step == "created":
            qio(qemu_io, "qcow2", qc, pw, "write -P 0x44 0 1M")
            ev.run("vol-wipe", "--pool", "p", "t.qcow2")


def test_dumpxml_and_refresh_show_encryption(ev, tmp_path, qemu_img):
    pw = pwfile(tmp_path)
    raw = ev.pool / "a.img"
    define_secret(ev, tmp_path, UUID_A, raw)
    ev.run("vol-create", "p", vol_xml(tmp_path, "a.img", "raw", enc_by_uuid(UUID_A)))
    # A LUKS volume QEMU made, with no secret naming it.
    retry_qemu(qemu_img, "create", "-q", *secret(pw), "-f", "luks", "-o",
               "key-secret=sec0,iter-time=10", ev.pool / "q.luks", "4M")
    ev.run("pool-refresh", "p")
    xml = ev.run("vol-dumpxml", "--pool", "p", "a.img").stdout
    assert "<format type='raw'/>" in xml
    assert (f"<encryption format='luks'>\n      <secret type='passphrase' uuid='{UUID_A}'/>\n"
            "    </encryption>") in xml
    want = qinfo(qemu_img, "raw", raw, pw)["virtual-size"]
    assert f"<capacity unit='bytes'>{want}</capacity>" in xml
    assert f"<physical unit='bytes'>{os.path.getsize(raw)}</physical>" in xml
    xml = ev.run("vol-dumpxml", "--pool", "p", "q.luks").stdout
    assert "<format type='raw'/>" in xml and "<encryption format='luks'>" in xml
    assert "<secret" not in xml
    assert "<capacity unit='bytes'>4194304</capacity>" in xml
    listing = ev.run("vol-list", "p").stdout
    assert "a.img" in listing and "q.luks" in listing


@pytest.mark.parametrize("case", ["no-secret-element", "unknown-uuid", "no-value", "unknown-usage",
                                  "iso"])
def test_secret_problems_write_nothing(ev, tmp_path, case):
    enc = {
        "iso": enc_by_uuid(UUID_A),
        "no-secret-element": "<encryption format='luks'/>",
        "unknown-uuid": enc_by_uuid(UUID_B),
        "no-value": enc_by_uuid(UUID_A),
        "unknown-usage": "<encryption format='luks'><secret type='passphrase' usage='/nowhere'/></encryption>",
    }[case]
    define_secret(ev, tmp_path, UUID_A, ev.pool / "e.img", value=None)
    fmt = "iso" if case == "iso" else "raw"
    p = ev.run("vol-create", "p", vol_xml(tmp_path, "e.img", fmt, enc), check=False)
    assert p.returncode == 1 and "volume 'e.img'" in p.stderr
    expect = {
        "no-secret-element": "no secret provided for luks encryption",
        "unknown-uuid": f"no secret with matching uuid '{UUID_B}'",
        "no-value": f"secret '{UUID_A}' does not have a value",
        "unknown-usage": "no secret with matching usage '/nowhere'",
        "iso": "volume encryption unsupported with format iso",   # libvirt's words
    }[case]
    assert expect in p.stderr
    assert os.listdir(ev.pool) == []


def test_clone_and_create_from(ev, tmp_path, qemu_img, qemu_io):
    pw, other = pwfile(tmp_path), pwfile(tmp_path, OTHER, "other")
    src = ev.pool / "src.img"
    define_secret(ev, tmp_path, UUID_A, src)
    ev.run("vol-create", "p", vol_xml(tmp_path, "src.img", "raw", enc_by_uuid(UUID_A)))
    qio(qemu_io, "raw", src, pw, "write -P 0x33 100k 300k")
    # vol-clone: encrypted with the same secret, same content.
    ev.run("vol-clone", "--pool", "p", "src.img", "clone.img")
    assert qinfo(qemu_img, "raw", ev.pool / "clone.img", pw)["format"] == "luks"
    retry_qemu(qemu_img, "compare", *secret(pw), "--image-opts", image_opts("raw", src),
               image_opts("raw", ev.pool / "clone.img"))
    # vol-create-from into qcow2 under another secret (another passphrase).
    dst = ev.pool / "dst.qcow2"
    define_secret(ev, tmp_path, UUID_B, dst, OTHER)
    xml = vol_xml(tmp_path, "dst.qcow2", "qcow2", enc_by_uuid(UUID_B))
    ev.run("vol-create-from", "p", xml, "src.img", "--inputpool", "p")
    assert qinfo(qemu_img, "qcow2", dst, other)["encrypted"]
    retry_qemu(qemu_img, "compare", "--object", f"secret,id=s1,file={pw}", "--object",
               f"secret,id=s2,file={other}", "--image-opts", image_opts("raw", src, "s1"),
               image_opts("qcow2", dst, "s2"))
    # ... and into a plain raw volume: decrypted.
    ev.run("vol-create-from", "p", vol_xml(tmp_path, "plain.img", "raw"), "src.img",
           "--inputpool", "p")
    assert not json.loads(qemu_img("info", "--output=json", ev.pool / "plain.img").stdout).get("encrypted")
    retry_qemu(qemu_img, "compare", *secret(pw), "--image-opts", image_opts("raw", src),
               f"driver=raw,file.filename={ev.pool / 'plain.img'}")


def test_create_from_a_source_no_secret_names(ev, tmp_path, qemu_img):
    # The source's passphrase is then the new volume's (the same secret).
    pw = pwfile(tmp_path)
    retry_qemu(qemu_img, "create", "-q", *secret(pw), "-f", "luks", "-o",
               "key-secret=sec0,iter-time=10", ev.pool / "q.luks", "2M")
    p = ev.run("vol-create-from", "p", vol_xml(tmp_path, "plain.img", "raw", capacity="2M"),
               "q.luks", "--inputpool", "p", check=False)
    assert p.returncode == 1 and str(ev.pool / "q.luks") in p.stderr
    assert not (ev.pool / "plain.img").exists()
    define_secret(ev, tmp_path, UUID_B, "/elsewhere")
    xml = vol_xml(tmp_path, "copy.img", "raw", enc_by_uuid(UUID_B), "2M")
    ev.run("vol-create-from", "p", xml, "q.luks", "--inputpool", "p")
    retry_qemu(qemu_img, "compare", *secret(pw), "--image-opts", image_opts("raw", ev.pool / "q.luks"),
               image_opts("raw", ev.pool / "copy.img"))


def test_resize_as_libvirt(ev, tmp_path, qemu_img):
    pw = pwfile(tmp_path)
    raw, qc = ev.pool / "a.img", ev.pool / "b.qcow2"
    define_secret(ev, tmp_path, UUID_A, raw)
    define_secret(ev, tmp_path, UUID_B, qc)
    ev.run("vol-create", "p", vol_xml(tmp_path, "a.img", "raw", enc_by_uuid(UUID_A)))
    ev.run("vol-create", "p", vol_xml(tmp_path, "b.qcow2", "qcow2", enc_by_uuid(UUID_B)))
    ev.run("vol-resize", "--pool", "p", "a.img", "16M")
    ev.run("vol-resize", "--pool", "p", "b.qcow2", "16M")
    assert qinfo(qemu_img, "raw", raw, pw)["virtual-size"] == 16 << 20
    assert qinfo(qemu_img, "qcow2", qc, pw)["virtual-size"] == 16 << 20
    # libvirt: "preallocate is only supported for an unencrypted raw volume".
    before = os.path.getsize(raw)
    p = ev.run("vol-resize", "--pool", "p", "a.img", "32M", "--allocate", check=False)
    assert p.returncode == 1 and "unencrypted raw volume" in p.stderr
    assert os.path.getsize(raw) == before
    ev.run("vol-resize", "--pool", "p", "a.img", "4M", "--shrink")
    assert qinfo(qemu_img, "raw", raw, pw)["virtual-size"] == 4 << 20


def test_resize_without_a_secret_refused(ev, tmp_path, qemu_img):
    pw = pwfile(tmp_path)
    retry_qemu(qemu_img, "create", "-q", *secret(pw), "-f", "qcow2", "-o",
               "encrypt.format=luks,encrypt.key-secret=sec0,encrypt.iter-time=10",
               ev.pool / "q.qcow2", "4M")
    p = ev.run("vol-resize", "--pool", "p", "q.qcow2", "8M", check=False)
    assert p.returncode == 1 and str(ev.pool / "q.qcow2") in p.stderr and "secret" in p.stderr
    assert qinfo(qemu_img, "qcow2", ev.pool / "q.qcow2", pw)["virtual-size"] == 4 << 20


def test_wipe(ev, tmp_path, qemu_img, qemu_io):
    pw = pwfile(tmp_path)
    raw, qc = ev.pool / "a.img", ev.pool / "b.qcow2"
    define_secret(ev, tmp_path, UUID_A, raw)
    define_secret(ev, tmp_path, UUID_B, qc)
    cipher = "<cipher name='aes' size='256' mode='cbc' hash='sha256'/><ivgen name='plain64'/>"
    ev.run("vol-create", "p", vol_xml(tmp_path, "a.img", "raw", enc_by_uuid(UUID_A)))
    ev.run("vol-create", "p", vol_xml(tmp_path, "b.qcow2", "qcow2", enc_by_uuid(UUID_B, cipher)))
    qio(qemu_io, "qcow2", qc, pw, "write -P 0x77 0 1M")
    # qcow2: formatted again, still encrypted with its cipher and secret, reading zeros.
    ev.run("vol-wipe", "--pool", "p", "b.qcow2")
    i = qinfo(qemu_img, "qcow2", qc, pw)
    assert i["encrypted"] and i["virtual-size"] == 8 << 20
    enc = i["format-specific"]["data"]["encrypt"]
    assert (enc["cipher-alg"], enc["cipher-mode"]) == ("aes-256", "cbc")
    assert "read 1048576/1048576" in qio(qemu_io, "qcow2", qc, pw, "read -P 0 0 1M").stdout
    # raw LUKS: every byte overwritten, the header too, as libvirt's wipe does.
    size = os.path.getsize(raw)
    ev.run("vol-wipe", "--pool", "p", "a.img")
    assert os.path.getsize(raw) == size
    with open(raw, "rb") as f:
        assert f.read(4096) == bytes(4096)


def test_snapshots_of_an_encrypted_qcow2(ev, tmp_path, qemu_img, qemu_io):
    pw = pwfile(tmp_path)
    qc = ev.pool / "b.qcow2"
    define_secret(ev, tmp_path, UUID_B, qc)
    ev.run("vol-create", "p", vol_xml(tmp_path, "b.qcow2", "qcow2", enc_by_uuid(UUID_B)))
    qio(qemu_io, "qcow2", qc, pw, "write -P 0x11 0 64k")
    ev.run("vol-snapshot-create", "--pool", "p", "b.qcow2", "s1")
    qio(qemu_io, "qcow2", qc, pw, "write -P 0x22 0 64k")
    listed = retry_qemu(qemu_img, "snapshot", "-l", "-U", *secret(pw), "--image-opts",
                        image_opts("qcow2", qc)).stdout
    assert " s1 " in listed
    ev.run("vol-snapshot-revert", "--pool", "p", "b.qcow2", "s1")
    assert "read 65536/65536" in qio(qemu_io, "qcow2", qc, pw, "read -P 0x11 0 64k").stdout
    retry_qemu(qemu_img, "check", *secret(pw), "--image-opts", image_opts("qcow2", qc))
    # A raw LUKS volume has no internal snapshots.
    define_secret(ev, tmp_path, UUID_A, ev.pool / "a.img")
    ev.run("vol-create", "p", vol_xml(tmp_path, "a.img", "raw", enc_by_uuid(UUID_A), "1M"))
    p = ev.run("vol-snapshot-create", "--pool", "p", "a.img", "s1", check=False)
    assert p.returncode == 1 and "need a qcow2 volume" in p.stderr


def test_download_is_the_file_bytes(ev, tmp_path):
    raw = ev.pool / "a.img"
    define_secret(ev, tmp_path, UUID_A, raw)
    ev.run("vol-create", "p", vol_xml(tmp_path, "a.img", "raw", enc_by_uuid(UUID_A), "2M"))
    out = tmp_path / "out"
    ev.run("vol-download", "--pool", "p", "a.img", out)
    assert out.read_bytes() == raw.read_bytes()
    assert out.read_bytes()[:6] == b"LUKS\xba\xbe"


# libvirt's own encrypted volume XML (tests/storagevolxml2xmlin) and the
# qemu-img arguments its dir pool passes for it (tests/storagevolxml2argvdata).
LIBVIRT_CASES = [("vol-luks", "luks"), ("vol-luks-cipher", "luks-cipher"),
                 ("vol-qcow2-luks", "qcow2-luks")]


def without_random(data):
    """qemu-img info's format-specific data without what differs between two
    creations of the same image: UUID and PBKDF2 iteration counts."""
    if isinstance(data, dict):
        return {k: without_random(v) for k, v in data.items()
                if k not in ("uuid", "master-key-iters", "iters")}
    if isinstance(data, list):
        return [without_random(v) for v in data]
    return data


@pytest.mark.parametrize("vol,argv", LIBVIRT_CASES)
def test_like_libvirt_dir_pool(ev, tmp_path, qemu_img, libvirt_src, vol, argv):
    tests = libvirt_src / "tests"
    xml_in = (tests / "storagevolxml2xmlin" / f"{vol}.xml").read_text()
    text = (tests / "storagevolxml2argvdata" / f"{argv}.argv").read_text()
    args = text.replace("\\\n", "").split()
    pw = pwfile(tmp_path)
    base = tmp_path / "base.raw"
    qemu_img("create", "-f", "raw", base, "5G")
    xml_in = xml_in.replace("<path>/dev/null</path>", f"<path>{base}</path>")
    name = re.search(r"<name>([^<]+)</name>", xml_in).group(1)
    uuid = re.search(r"<secret type='passphrase' uuid='([^']+)'", xml_in).group(1)
    define_secret(ev, tmp_path, uuid, ev.pool / name)
    (tmp_path / "vol.xml").write_text(xml_in)
    ev.run("vol-create", "p", tmp_path / "vol.xml")
    # libvirt's command on a reference file, with a short PBKDF2 time.
    qcow2 = "-f qcow2" in " ".join(args)
    ref = tmp_path / "ref.img"
    args = [str(base) if a == "/dev/null" else a.replace("/path/to/secretFile", str(pw))
            for a in args]
    o = args.index("-o") + 1
    args[o] += ",encrypt.iter-time=10" if qcow2 else ",iter-time=10"
    assert args[:2] == ["qemu-img", "create"]
    retry_qemu(qemu_img, *args[1:-2], ref, args[-1])
    fmt = "qcow2" if qcow2 else "raw"
    mine, theirs = qinfo(qemu_img, fmt, ev.pool / name, pw), qinfo(qemu_img, fmt, ref, pw)
    for k in ("format", "virtual-size", "encrypted", "backing-filename", "backing-filename-format"):
        assert mine.get(k) == theirs.get(k), k
    assert without_random(mine["format-specific"]) == without_random(theirs["format-specific"])
    # And vdisk opens QEMU's image with the passphrase (e.g. its "cbc-plain64:sha256" mode).
    out = ev.run("info", "--output", "json", "--passphrase-file", pw, ref).stdout
    assert json.loads(out)["format"] == theirs["format"]
