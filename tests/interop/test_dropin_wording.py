"""vdisk-virsh run as `qemu-img` says what qemu-img 7.2 says (issue 19, the
wording QEMU's iotests 043, 049, 054, 080 and 126 compare), and keeps its
own clearer messages when run as vdisk-virsh.  Each case runs the real
qemu-img on the same input as the oracle: same stdout, stderr and exit
status."""
import base64
import json

import pytest

from conftest import run, vdisk_io


def both(qemu_img, as_qemu_img, *args, cwd):
    pq = qemu_img(*args, check=False, cwd=cwd)
    pv = as_qemu_img(*args, check=False, cwd=cwd)
    return pq, pv


def assert_same(pq, pv):
    assert (pv.returncode, pv.stdout, pv.stderr) == (pq.returncode, pq.stdout, pq.stderr)


# 049: a value compat= or preallocation= does not take is reported after the
# "Formatting" line (which shows it as typed); lazy refcounts and refcount
# widths on compat=0.10 in qemu-img's words.
@pytest.mark.parametrize("opts", [
    "compat=0.42", "compat=foobar", "preallocation=1234",
    "compat=0.10,lazy_refcounts=on", "compat=0.10,refcount_bits=8",
    "encryption=off",
])
def test_create_option_values(as_qemu_img, qemu_img, tmp_path, opts):
    pq, pv = both(qemu_img, as_qemu_img, "create", "-f", "qcow2", "-o", opts, "n.qcow2", "64M",
                  cwd=tmp_path)
    assert_same(pq, pv)


def test_own_name_keeps_vdisk_wording(vdisk, tmp_path):
    p = vdisk("create", "-f", "qcow2", "-o", "compat=0.42", "n.qcow2", "64M", check=False,
              cwd=tmp_path)
    assert p.returncode == 1 and p.stdout == ""
    assert "expected 0.10 or 1.1" in p.stderr
    p = vdisk("create", "-f", "qcow2", "-o", "compat=0.10,lazy_refcounts=on", "n.qcow2", "64M",
              check=False, cwd=tmp_path)
    assert p.returncode == 1 and "use compat=1.1 or greater" in p.stderr
    assert not (tmp_path / "n.qcow2").exists()


# --object secret,data=: qemu-img's scripts pass passphrases so (raw or
# base64); run as qemu-img it is taken, run as vdisk-virsh refused.
@pytest.mark.parametrize("secret", [
    "data=hunter2",
    "data=" + base64.b64encode(b"hunter2").decode() + ",format=base64",
])
def test_object_secret_data_as_qemu_img(as_qemu_img, qemu_img, tmp_path, secret):
    args = ["create", "-f", "qcow2", "--object", f"secret,id=sec0,{secret}",
            "-o", "encrypt.format=luks,encrypt.key-secret=sec0,encrypt.iter-time=10"]
    for name, tool in (("q", qemu_img), ("v", as_qemu_img)):
        tool(*args, f"{name}.qcow2", "1M", cwd=tmp_path)
    # each opens with the other's image and the plain passphrase
    for img in ("q.qcow2", "v.qcow2"):
        p = qemu_img("info", "--object", "secret,id=sec0,data=hunter2", "--image-opts",
                     f"driver=qcow2,file.filename={img},encrypt.key-secret=sec0", cwd=tmp_path)
        assert "encrypted: yes" in p.stdout
        run(["qemu-io", "--object", "secret,id=sec0,data=hunter2", "--image-opts",
             f"driver=qcow2,file.filename={img},encrypt.key-secret=sec0", "-c", "read 0 64k"],
            cwd=tmp_path)


def test_object_secret_data_refused_as_vdisk(vdisk, tmp_path):
    p = vdisk("create", "-f", "qcow2", "--object", "secret,id=sec0,data=hunter2",
              "-o", "encrypt.format=luks,encrypt.key-secret=sec0", "n.qcow2", "1M",
              check=False, cwd=tmp_path)
    assert p.returncode == 1 and "data=" in p.stderr
    assert not (tmp_path / "n.qcow2").exists()


def test_object_secret_bad_base64(as_qemu_img, qemu_img, tmp_path):
    args = ["create", "-f", "qcow2", "--object", "secret,id=sec0,data=!!,format=base64",
            "-o", "encrypt.format=luks,encrypt.key-secret=sec0", "n.qcow2", "1M"]
    pq, pv = both(qemu_img, as_qemu_img, *args, cwd=tmp_path)
    assert pq.returncode == 1
    assert_same(pq, pv)
    assert not (tmp_path / "n.qcow2").exists()


# 043: info --backing-chain over a chain that loops names the image that
# comes back.
@pytest.mark.parametrize("loop", ["self", "parent", "ancestor"])
def test_backing_chain_loop(as_qemu_img, qemu_img, tmp_path, loop):
    def mk(name, backing=None):
        extra = ["-b", backing, "-F", "qcow2"] if backing else []
        qemu_img("create", "-q", "-f", "qcow2", *extra, name, "1M", cwd=tmp_path)

    def rebase(name, backing):
        qemu_img("rebase", "-u", "-b", backing, "-F", "qcow2", name, cwd=tmp_path)

    if loop == "self":
        mk("t.qcow2")
        rebase("t.qcow2", "t.qcow2")
    elif loop == "parent":
        mk("t.base")
        mk("t.qcow2", "t.base")
        rebase("t.base", "t.qcow2")
    else:
        mk("1.base")
        mk("2.base", "1.base")
        mk("3.base", "2.base")
        mk("t.qcow2", "3.base")
        rebase("1.base", "2.base")
    for output in ("human", "json"):
        pq, pv = both(qemu_img, as_qemu_img, "info", "--backing-chain", "--output", output,
                      str(tmp_path / "t.qcow2"), cwd=tmp_path)
        assert pq.returncode == 1 and "infinite loop" in pq.stderr
        assert_same(pq, pv)


# 126: "file:NAME" names the host file NAME; qemu-img shows it as NAME, with
# "./" before it when NAME reads as "proto:..." (a ':' before any '/'), and
# resolves relative backing names against its directory.
@pytest.mark.parametrize("name", ["file:image:top.qcow2", "file:plain.qcow2", "file:d/x:y.qcow2",
                                  "file:./image:top.qcow2", "file:ABS/image:top.qcow2"])
@pytest.mark.parametrize("output", ["human", "json"])
def test_file_prefix_names(as_qemu_img, qemu_img, tmp_path, name, output):
    name = name.replace("ABS", str(tmp_path))
    (tmp_path / "d").mkdir()
    qemu_img("create", "-q", "-f", "qcow2", "base.qcow2", "1M", cwd=tmp_path)
    backing = "../base.qcow2" if "d/" in name else "base.qcow2"
    qemu_img("create", "-q", "-f", "qcow2", "-b", backing, "-F", "qcow2", name, cwd=tmp_path)
    pq, pv = both(qemu_img, as_qemu_img, "info", "--output", output, name, cwd=tmp_path)
    assert pq.returncode == 0
    assert_same(pq, pv)
    pq, pv = both(qemu_img, as_qemu_img, "info", "--backing-chain", name, cwd=tmp_path)
    assert_same(pq, pv)


# measure -l: the space a copy of an internal snapshot needs.
@pytest.mark.parametrize("param", ["s1", "snapshot.name=s1", "snapshot.id=1", "s2", "nope"])
@pytest.mark.parametrize("target", [["-O", "qcow2"], ["-O", "raw"],
                                    ["-O", "qcow2", "-o", "cluster_size=4k"]])
def test_measure_snapshot(as_qemu_img, qemu_img, tmp_path, param, target):
    qemu_img("create", "-q", "-f", "qcow2", "a.qcow2", "10M", cwd=tmp_path)
    run(["qemu-io", "-f", "qcow2", "-c", "write 0 1M", "a.qcow2"], cwd=tmp_path)
    qemu_img("snapshot", "-c", "s1", "a.qcow2", cwd=tmp_path)
    run(["qemu-io", "-f", "qcow2", "-c", "write 2M 3M", "a.qcow2"], cwd=tmp_path)
    qemu_img("snapshot", "-c", "s2", "a.qcow2", cwd=tmp_path)
    run(["qemu-io", "-f", "qcow2", "-c", "write 6M 3M", "a.qcow2"], cwd=tmp_path)
    for output in ("human", "json"):
        args = ["measure", "--output", output, *target, "-l", param, "a.qcow2"]
        pq, pv = both(qemu_img, as_qemu_img, *args, cwd=tmp_path)
        assert pq.returncode == (1 if param == "nope" else 0)
        if param == "nope":
            assert pv.returncode == 1 and pv.stdout == ""
        else:
            assert_same(pq, pv)


@pytest.mark.parametrize("args", [["-f", "qcow2"], ["-l", "s1"], ["--image-opts"]])
def test_measure_needs_a_file(as_qemu_img, qemu_img, tmp_path, args):
    pq, pv = both(qemu_img, as_qemu_img, "measure", "-O", "qcow2", *args, "--size", "1M",
                  cwd=tmp_path)
    assert pq.returncode == 1
    assert_same(pq, pv)


# 080: snapshot -c on damaged images.  qemu-img reads a snapshot table past
# the end of the file as zeros (a full table of 65536 empty entries: EFBIG
# before anything is written) and fails with EFBIG for an L2 entry no
# refcount table could cover, EAGAIN for one whose refcount block is missing.
# Each image is damaged twice (one copy per program); vdisk changes nothing.
def poke(path, off, data):
    with open(path, "r+b") as f:
        f.seek(off)
        f.write(data)


def snapshot_damage(kind, path, qemu_img):
    qemu_img("create", "-q", "-f", "qcow2", path, "64M")
    if kind == "full-table-past-eof":
        poke(path, 64, (16 << 20).to_bytes(8, "big"))      # snapshots_offset: 16 MiB
        poke(path, 60, (65536).to_bytes(4, "big"))         # nb_snapshots: the maximum
        return
    run(["qemu-io", "-f", "qcow2", "-c", "write 0 512", path])
    with open(path, "rb") as f:
        h = f.read(104)
        l1 = int.from_bytes(h[40:48], "big")
        f.seek(l1)
        l2 = int.from_bytes(f.read(8), "big") & 0x00fffffffffffe00
    poke(path, l2, bytes.fromhex("bfffffffffff0000" if kind == "l2-beyond-any-reftable"
                                 else "800000ffffff0000"))


@pytest.mark.parametrize("kind,errno_text", [
    ("full-table-past-eof", "-27 (File too large)"),
    ("l2-beyond-any-reftable", "-27 (File too large)"),
    ("l2-without-refcount-block", "-11 (Resource temporarily unavailable)"),
])
def test_snapshot_create_on_damaged_image(as_qemu_img, qemu_img, vdisk, tmp_path, kind, errno_text):
    q, v, own = tmp_path / "q.qcow2", tmp_path / "v.qcow2", tmp_path / "own.qcow2"
    for p in (q, v, own):
        snapshot_damage(kind, p, qemu_img)
    before = v.read_bytes()
    pq = qemu_img("snapshot", "-c", "test", q, check=False)
    pv = as_qemu_img("snapshot", "-c", "test", v, check=False)
    assert errno_text in pq.stderr
    assert (pv.returncode, pv.stdout, pv.stderr.replace(str(v), str(q))) == \
        (pq.returncode, pq.stdout, pq.stderr)
    assert v.read_bytes() == before
    p = vdisk("snapshot", "-c", "test", own, check=False)
    assert p.returncode == 1 and str(own.name) in p.stderr
    assert ("65536 snapshots" if kind == "full-table-past-eof" else "refcount") in p.stderr


# ... and such an image, opened for writing as QEMU opens it, gets no new
# cluster from vdisk: one could land where the header says the table is,
# and guest bytes would then be read as snapshots.  Writes in place go on.
def test_no_allocation_under_a_table_past_eof(qemu_img, tmp_path):
    img = tmp_path / "v.qcow2"
    snapshot_damage("full-table-past-eof", img, qemu_img)
    run(["qemu-io", "-f", "qcow2", "-c", "write -P 0x11 0 64k", img])   # QEMU allocates
    size = img.stat().st_size
    p = vdisk_io("-f", "qcow2", str(img), "-c", "write -P 0x22 1M 64k", check=False)
    assert p.returncode != 0
    assert "v.qcow2" in p.stderr and "past the end of the file" in p.stderr
    assert img.stat().st_size == size
    vdisk_io("-f", "qcow2", str(img), "-c", "write -P 0x33 0 4k")
    run(["qemu-io", "-f", "qcow2", "-r", "-c", "read -P 0x33 0 4k", "-c", "read -P 0x11 4k 60k",
         "-c", "read -P 0 1M 64k", img])
