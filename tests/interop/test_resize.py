"""vdisk-virsh resize against qemu-img resize.

Every case runs the same command with both tools on twin copies of one
image (made by qemu-img / qemu-io) and compares: exit status, message,
`qemu-img check` of the result, virtual size and guest content
(`qemu-img compare` between the twins), and which parts are allocated.
"""
import hashlib
import json
import os
import shutil

import pytest

MiB = 1 << 20
GiB = 1 << 30


def sha(path):
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


def qcow2_with_data(qemu_img, qemu_io, path, size, opts="", writes=()):
    args = ["create", "-q", "-f", "qcow2"]
    if opts:
        args += ["-o", opts]
    qemu_img(*args, path, str(size))
    for pattern, off, length in writes:
        qemu_io("-c", f"write -P {pattern} {off} {length}", path)


def twins(src, tmp_path, ext="qcow2"):
    v = tmp_path / f"vdisk.{ext}"
    q = tmp_path / f"qemu.{ext}"
    shutil.copy(src, v)
    shutil.copy(src, q)
    return v, q


def check_clean(qemu_img, path, fmt="qcow2"):
    p = qemu_img("check", "-f", fmt, "--output", "json", path, check=False)
    assert p.returncode == 0, p.stdout + p.stderr
    d = json.loads(p.stdout)
    assert d.get("leaks", 0) == 0 and d.get("corruptions", 0) == 0, d


def vsize(qemu_img, path, fmt="qcow2"):
    return json.loads(qemu_img("info", "-f", fmt, "--output", "json", path).stdout)["virtual-size"]


def same_content(qemu_img, a, b, fmt="qcow2"):
    p = qemu_img("compare", "-f", fmt, "-F", fmt, a, b, check=False)
    assert p.returncode == 0, p.stdout + p.stderr


def map_shape(qemu_img, path):
    """(start, length, data, zero) of every extent: where things are, not
    at which host offset."""
    m = json.loads(qemu_img("map", "--output", "json", path).stdout)
    out = []
    for e in m:
        t = (e["data"], e["zero"])
        if out and out[-1][2:] == t and out[-1][0] + out[-1][1] == e["start"]:
            out[-1] = (out[-1][0], out[-1][1] + e["length"], *t)
        else:
            out.append((e["start"], e["length"], *t))
    return out


def both(vdisk, qemu_img, args_v, args_q):
    pv = vdisk(*args_v, check=False)
    pq = qemu_img(*args_q, check=False)
    assert pv.returncode >= 0, pv.stderr
    return pv, pq


def same_error(pv, pq):
    assert pv.returncode == pq.returncode == 1
    assert pv.stderr.replace("vdisk-virsh: ", "") == pq.stderr.replace("qemu-img: ", "")


# ---- growing -----------------------------------------------------------------

@pytest.mark.parametrize("cluster,start,grow", [
    (65536, 1 * MiB, "+3G"),
    (512, 1 * MiB, "1G"),          # the L1 table must move to new clusters
    (4096, 100 * MiB, "+20G"),
    (2 * MiB, 10 * MiB, "+100G"),
    (65536, 1 * MiB, "+512"),      # L1 unchanged, size only
])
def test_grow_qcow2(vdisk, qemu_img, qemu_io, tmp_path, cluster, start, grow):
    src = tmp_path / "src.qcow2"
    qcow2_with_data(qemu_img, qemu_io, src, start, f"cluster_size={cluster}",
                    [(0x11, 0, 4096), (0x22, start - 8192, 8192)])
    v, q = twins(src, tmp_path)
    pv, pq = both(vdisk, qemu_img, ["resize", v, grow], ["resize", q, grow])
    assert pv.returncode == pq.returncode == 0, pv.stderr
    assert pv.stdout == pq.stdout == "Image resized.\n"
    check_clean(qemu_img, v)
    assert vsize(qemu_img, v) == vsize(qemu_img, q)
    same_content(qemu_img, v, q)
    qemu_io("-c", f"read -P 0x22 {start - 8192} 8192", v)
    # and the grown image takes writes at its new end (qemu-io as the writer)
    end = vsize(qemu_img, v)
    qemu_io("-c", f"write -P 0x33 {end - 4096} 4096", v)
    check_clean(qemu_img, v)


def test_grow_v2_and_refcount_widths(vdisk, qemu_img, qemu_io, tmp_path):
    for opts in ("compat=0.10", "refcount_bits=1", "refcount_bits=64", "extended_l2=on"):
        src = tmp_path / "src.qcow2"
        qcow2_with_data(qemu_img, qemu_io, src, 4 * MiB, opts, [(0x5a, MiB, MiB)])
        v, q = twins(src, tmp_path)
        vdisk("resize", v, "+5G")
        qemu_img("resize", q, "+5G")
        check_clean(qemu_img, v)
        same_content(qemu_img, v, q)


@pytest.mark.parametrize("mode", ["metadata", "falloc", "full"])
def test_grow_qcow2_preallocated(vdisk, qemu_img, qemu_io, tmp_path, mode):
    src = tmp_path / "src.qcow2"
    qcow2_with_data(qemu_img, qemu_io, src, 3 * MiB, "", [(0x44, 0, MiB)])
    v, q = twins(src, tmp_path)
    pv, pq = both(vdisk, qemu_img, ["resize", f"--preallocation={mode}", v, "+20M"],
                  ["resize", f"--preallocation={mode}", q, "+20M"])
    assert pv.returncode == pq.returncode == 0, pv.stderr
    check_clean(qemu_img, v)
    same_content(qemu_img, v, q)
    # the new part is allocated (data, reading zeros) exactly where qemu-img allocates
    assert map_shape(qemu_img, v) == map_shape(qemu_img, q)
    qemu_io("-c", f"read -P 0 {3 * MiB} {20 * MiB}", v)


def test_grow_overlay_hides_longer_backing(vdisk, qemu_img, qemu_io, tmp_path):
    """A backing file longer than the overlay must not show through the new
    part: it reads as zeros, as with qemu-img."""
    base = tmp_path / "base.qcow2"
    qcow2_with_data(qemu_img, qemu_io, base, 8 * MiB, "", [(0x77, 0, 8 * MiB)])
    ov = tmp_path / "ov.qcow2"
    qemu_img("create", "-q", "-f", "qcow2", "-b", "base.qcow2", "-F", "qcow2", ov, str(2 * MiB))
    v, q = tmp_path / "v.qcow2", tmp_path / "q.qcow2"
    shutil.copy(ov, v)
    shutil.copy(ov, q)
    vdisk("resize", v, "6M")
    qemu_img("resize", q, "6M")
    check_clean(qemu_img, v)
    same_content(qemu_img, v, q)
    qemu_io("-c", f"read -P 0x77 0 {2 * MiB}", "-c", f"read -P 0 {2 * MiB} {4 * MiB}", v)


def test_grow_raw(vdisk, qemu_img, tmp_path):
    v = tmp_path / "v.raw"
    q = tmp_path / "q.raw"
    for f in (v, q):
        with open(f, "wb") as fh:
            fh.write(b"\x5a" * 4096)
            fh.truncate(MiB)
    pv, pq = both(vdisk, qemu_img, ["resize", "-f", "raw", v, "+1M"], ["resize", "-f", "raw", q, "+1M"])
    assert pv.returncode == pq.returncode == 0
    assert pv.stdout == pq.stdout
    assert os.path.getsize(v) == os.path.getsize(q) == 2 * MiB
    assert sha(v) == sha(q)


@pytest.mark.parametrize("mode", ["falloc", "full"])
def test_grow_raw_preallocated(vdisk, qemu_img, tmp_path, mode):
    v = tmp_path / "v.raw"
    q = tmp_path / "q.raw"
    for f in (v, q):
        open(f, "wb").truncate(MiB)
    vdisk("resize", "-f", "raw", f"--preallocation={mode}", v, "+8M")
    qemu_img("resize", "-f", "raw", f"--preallocation={mode}", q, "+8M")
    assert os.path.getsize(v) == os.path.getsize(q) == 9 * MiB
    assert sha(v) == sha(q)
    # the new part has blocks behind it, as with qemu-img
    assert os.stat(v).st_blocks * 512 >= 8 * MiB
    assert os.stat(q).st_blocks * 512 >= 8 * MiB


# ---- shrinking ---------------------------------------------------------------

@pytest.mark.parametrize("opts", ["cluster_size=4096", "cluster_size=4096,refcount_bits=1",
                                  "cluster_size=4096,compat=0.10",
                                  "cluster_size=16384,extended_l2=on",
                                  "cluster_size=512,refcount_bits=64"])
def test_shrink_qcow2_drops_data_and_frees_clusters(vdisk, qemu_img, qemu_io, tmp_path, opts):
    src = tmp_path / "src.qcow2"
    qcow2_with_data(qemu_img, qemu_io, src, 64 * MiB, opts,
                    [(0x11, 0, MiB), (0x22, 20 * MiB, 4 * MiB), (0x33, 60 * MiB, 4 * MiB)])
    v, q = twins(src, tmp_path)
    pv, pq = both(vdisk, qemu_img, ["resize", "--shrink", v, "21M"], ["resize", "--shrink", q, "21M"])
    assert pv.returncode == pq.returncode == 0, pv.stderr
    assert pv.stdout == pq.stdout
    check_clean(qemu_img, v)
    assert vsize(qemu_img, v) == vsize(qemu_img, q) == 21 * MiB
    same_content(qemu_img, v, q)
    # the dropped clusters are freed (as many clusters in use as with
    # qemu-img) and the file is cut at least as short as qemu-img cuts it
    def allocated(path):
        return json.loads(qemu_img("check", "--output", "json", path).stdout)["allocated-clusters"]
    assert allocated(v) == allocated(q)
    assert os.path.getsize(v) <= os.path.getsize(q)
    # grown again, the dropped part reads zeros (no stale data comes back)
    vdisk("resize", v, "64M")
    qemu_img("resize", q, "64M")
    check_clean(qemu_img, v)
    same_content(qemu_img, v, q)
    qemu_io("-c", f"read -P 0 {21 * MiB} {43 * MiB}", v)


def test_shrink_relative(vdisk, qemu_img, qemu_io, tmp_path):
    src = tmp_path / "src.qcow2"
    qcow2_with_data(qemu_img, qemu_io, src, 10 * MiB, "", [(0x11, 0, 10 * MiB)])
    v, q = twins(src, tmp_path)
    vdisk("resize", "--shrink", v, "-3M")
    qemu_img("resize", "--shrink", q, "-3M")
    check_clean(qemu_img, v)
    same_content(qemu_img, v, q)
    assert vsize(qemu_img, v) == 7 * MiB


@pytest.mark.parametrize("fmt", ["qcow2", "raw"])
def test_shrink_needs_the_option(vdisk, qemu_img, tmp_path, fmt):
    src = tmp_path / f"src.{fmt}"
    qemu_img("create", "-q", "-f", fmt, src, "4M")
    v, q = twins(src, tmp_path, fmt)
    before = sha(v)
    pv, pq = both(vdisk, qemu_img, ["resize", "-f", fmt, v, "2M"], ["resize", "-f", fmt, q, "2M"])
    same_error(pv, pq)
    assert sha(v) == before


def test_shrink_raw(vdisk, qemu_img, tmp_path):
    v = tmp_path / "v.raw"
    q = tmp_path / "q.raw"
    data = os.urandom(3 * MiB)
    for f in (v, q):
        open(f, "wb").write(data)
    vdisk("resize", "-f", "raw", "--shrink", v, "1M")
    qemu_img("resize", "-f", "raw", "--shrink", q, "1M")
    assert os.path.getsize(v) == os.path.getsize(q) == MiB
    assert sha(v) == sha(q)


# ---- snapshots ---------------------------------------------------------------

def test_grow_with_qemu_snapshot(vdisk, qemu_img, qemu_io, tmp_path):
    """qemu-img grows a v3 image with internal snapshots; so does vdisk, and
    the snapshot still applies."""
    src = tmp_path / "src.qcow2"
    qcow2_with_data(qemu_img, qemu_io, src, 4 * MiB, "", [(0x11, 0, MiB)])
    qemu_img("snapshot", "-c", "s1", src)
    qemu_io("-c", f"write -P 0x22 0 {MiB}", src)
    v, q = twins(src, tmp_path)
    pv, pq = both(vdisk, qemu_img, ["resize", v, "+4M"], ["resize", q, "+4M"])
    assert pv.returncode == pq.returncode == 0, pv.stderr
    check_clean(qemu_img, v)
    same_content(qemu_img, v, q)
    qemu_img("snapshot", "-a", "s1", v)
    check_clean(qemu_img, v)
    qemu_io("-c", f"read -P 0x11 0 {MiB}", v)


def test_shrink_refused_with_snapshots(vdisk, qemu_img, qemu_io, tmp_path):
    """Shrinking would cut snapshot data out from under the snapshot: vdisk
    refuses (a documented difference from qemu-img 7.2, which shrinks) and
    leaves the image as it was."""
    src = tmp_path / "src.qcow2"
    qcow2_with_data(qemu_img, qemu_io, src, 4 * MiB, "", [(0x11, 0, 4 * MiB)])
    qemu_img("snapshot", "-c", "s1", src)
    before = sha(src)
    p = vdisk("resize", "--shrink", src, "1M", check=False)
    assert p.returncode == 1
    assert "snapshot" in p.stderr and str(src.name) in p.stderr
    assert sha(src) == before


def test_v2_with_snapshots_refused_as_qemu(vdisk, qemu_img, qemu_io, tmp_path):
    src = tmp_path / "src.qcow2"
    qcow2_with_data(qemu_img, qemu_io, src, 4 * MiB, "compat=0.10", [(0x11, 0, MiB)])
    qemu_img("snapshot", "-c", "s1", src)
    v, q = twins(src, tmp_path)
    before = sha(v)
    pv, pq = both(vdisk, qemu_img, ["resize", v, "+1M"], ["resize", q, "+1M"])
    assert pv.returncode == pq.returncode == 1
    assert "Can't resize a v2 image which has snapshots" in pq.stderr
    assert "Can't resize a v2 image which has snapshots" in pv.stderr
    assert sha(v) == before


# ---- errors ------------------------------------------------------------------

@pytest.mark.parametrize("args", [
    ["--preallocation=full", "{f}", "-1M"],   # preallocation when not growing
    ["{f}", "-8M"],                            # not positive
    ["{f}", "0"],
    ["--preallocation=bogus", "{f}", "+1M"],
])
def test_errors_as_qemu(vdisk, qemu_img, tmp_path, args):
    src = tmp_path / "src.qcow2"
    qemu_img("create", "-q", "-f", "qcow2", src, "4M")
    v, q = twins(src, tmp_path)
    before = sha(v)
    pv, pq = both(vdisk, qemu_img, [a.format(f=v) for a in ["resize", *args]],
                  [a.format(f=q) for a in ["resize", *args]])
    same_error(pv, pq)
    assert sha(v) == before


def test_unaligned_qcow2_size_refused(vdisk, qemu_img, tmp_path):
    src = tmp_path / "src.qcow2"
    qemu_img("create", "-q", "-f", "qcow2", src, "4M")
    v, q = twins(src, tmp_path)
    before = sha(v)
    pv, pq = both(vdisk, qemu_img, ["resize", v, "+1"], ["resize", q, "+1"])
    assert pv.returncode == pq.returncode == 1
    assert "The new size must be a multiple of 512" in pv.stderr
    assert sha(v) == before


def test_missing_arguments(vdisk, qemu_img, tmp_path):
    pv, pq = both(vdisk, qemu_img, ["resize", "x"], ["resize", "x"])
    assert pv.returncode == pq.returncode == 1
    p = vdisk("resize", "-q", tmp_path / "nope.qcow2", "+1M", check=False)
    assert p.returncode == 1 and "nope.qcow2" in p.stderr


def test_quiet(vdisk, qemu_img, tmp_path):
    src = tmp_path / "src.qcow2"
    qemu_img("create", "-q", "-f", "qcow2", src, "4M")
    p = vdisk("resize", "-q", src, "+1M")
    assert p.stdout == "" and p.stderr == ""


def test_vdisk_reads_qemu_resized(vdisk, qemu_img, qemu_io, tmp_path):
    """The other way round: qemu-img resizes, vdisk reads the result."""
    src = tmp_path / "src.qcow2"
    qcow2_with_data(qemu_img, qemu_io, src, 8 * MiB, "cluster_size=512", [(0x66, 7 * MiB, MiB)])
    qemu_img("resize", "--shrink", src, "7.5M")
    qemu_img("resize", src, "1G")
    raw = tmp_path / "out.raw"
    vdisk("convert", "-O", "raw", src, raw)
    qemu_img("compare", "-f", "qcow2", "-F", "raw", src, raw)


def limited_fsize(limit):
    """preexec_fn: the file size limit makes writes past `limit` fail with
    EFBIG (the signal ignored), as a full disk would."""
    import resource
    import signal

    def _set():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return _set


@pytest.mark.parametrize("fmt", ["qcow2", "raw"])
def test_failed_preallocation_leaves_image(vdisk, qemu_img, qemu_io, tmp_path, fmt):
    f = tmp_path / f"f.{fmt}"
    qemu_img("create", "-q", "-f", fmt, f, "4M")
    qemu_io("-f", fmt, "-c", "write -P 3 0 4M", f)
    before = tmp_path / "before.raw"
    qemu_img("convert", "-f", fmt, "-O", "raw", f, before)
    size_before = os.path.getsize(f)
    p = vdisk("resize", "-f", fmt, "--preallocation=full", f, "+100M", check=False,
              preexec_fn=limited_fsize(20 * MiB))
    assert p.returncode == 1 and f.name in p.stderr and "Image resized" not in p.stdout
    assert vsize(qemu_img, f, fmt) == 4 * MiB
    qemu_img("compare", "-f", fmt, "-F", "raw", f, before)
    if fmt == "qcow2":
        check_clean(qemu_img, f)
        # at most the refcount structures the attempt moved stay behind
        assert os.path.getsize(f) <= size_before + 2 * 65536
    else:
        assert os.path.getsize(f) == size_before


@pytest.mark.parametrize("seed", [0, 1, 2, 3, 54, 58])
def test_random_resize_sequences(vdisk, qemu_img, qemu_io, tmp_path, seed):
    """Random grow / shrink / preallocation / write sequences (fixed seeds)
    on twins: after every step both twins read the same and vdisk's is
    clean."""
    import random
    rnd = random.Random(seed)
    opts = rnd.choice(["cluster_size=512", "cluster_size=4096", "", "compat=0.10",
                       "cluster_size=16384,extended_l2=on", "refcount_bits=2"])
    src = tmp_path / "src.qcow2"
    size = rnd.randrange(1, 64) * 512 * 1024
    qcow2_with_data(qemu_img, qemu_io, src, size, opts, [(0x21, 0, min(size, MiB))])
    v, q = twins(src, tmp_path)
    for step in range(6):
        op = rnd.choice(["grow", "shrink", "write", "prealloc"])
        if op == "write":
            off = rnd.randrange(0, size // 512) * 512
            n = min(size - off, rnd.randrange(1, 256) * 512)
            pat = rnd.randrange(1, 255)
            for f in (v, q):
                qemu_io("-c", f"write -P {pat} {off} {n}", f)
            continue
        if op == "shrink" and size > 1024:
            new = rnd.randrange(1, size // 512) * 512
            args = ["--shrink", str(new)]
        else:
            new = size + rnd.randrange(1, 4096) * 512 * rnd.choice([1, 16])
            args = [str(new)]
            if op == "prealloc":
                # not metadata: qemu-img 7.2 then links clusters that freed
                # tables used without zeroing them, and its twin reads their
                # stale bytes (vdisk zeroes them; see test_metadata_prealloc_zeroes_reused)
                args = [f"--preallocation={rnd.choice(['falloc', 'full'])}"] + args
        pv = vdisk("resize", *args[:-1], v, args[-1], check=False)
        pq = qemu_img("resize", *args[:-1], q, args[-1], check=False)
        assert pv.returncode == pq.returncode, (step, args, pv.stderr, pq.stderr)
        if pv.returncode == 0:
            size = new
        check_clean(qemu_img, v)
        assert vsize(qemu_img, v) == vsize(qemu_img, q) == size
        same_content(qemu_img, v, q)


@pytest.mark.parametrize("mode", ["metadata", "falloc"])
def test_prealloc_zeroes_reused_space(vdisk, qemu_img, qemu_io, tmp_path, mode):
    """Preallocation that places clusters where the file already has bytes
    (free space a freed table or a crash left behind, here appended by hand)
    must still give a new part that reads as zeros.  (qemu-img 7.2 maps such
    stale bytes into the guest, so it is no oracle here: first principles.)"""
    f = tmp_path / "f.qcow2"
    qemu_img("create", "-q", "-f", "qcow2", f, "1M")
    qemu_io("-c", "write -P 0x11 0 1M", f)
    with open(f, "ab") as fh:
        fh.write(b"\xa5" * (8 * 65536))
    vdisk("resize", f"--preallocation={mode}", f, "+2M")
    check_clean(qemu_img, f)
    qemu_io("-c", f"read -P 0x11 0 {MiB}", "-c", f"read -P 0 {MiB} {2 * MiB}", f)


def test_encrypted_qcow2(vdisk, qemu_img, qemu_io, tmp_path):
    """A LUKS-encrypted qcow2 made by qemu-img, resized with the passphrase
    from a file: qemu-io reads the old data and zeros in the new part;
    preallocation (which would not decrypt to zeros) is refused."""
    pw = tmp_path / "pw"
    pw.write_bytes(b"secret words")
    f = tmp_path / "e.qcow2"
    obj = f"secret,id=s,file={pw}"
    opts = f"driver=qcow2,file.filename={f},encrypt.key-secret=s"
    qemu_img("create", "-q", "-f", "qcow2", "--object", obj,
             "-o", "encrypt.format=luks,encrypt.key-secret=s,encrypt.iter-time=10", f, "1M")
    qemu_io("--object", obj, "--image-opts", opts, "-c", "write -P 7 0 1M")
    p = vdisk("resize", f, "+2M", check=False)
    assert p.returncode == 1 and "passphrase" in p.stderr
    p = vdisk("resize", "--passphrase-file", pw, "--preallocation=full", f, "+2M", check=False)
    assert p.returncode == 1 and "encrypted" in p.stderr
    assert vdisk("resize", "--passphrase-file", pw, f, "+2M").stdout == "Image resized.\n"
    qemu_io("--object", obj, "--image-opts", opts, "-c", "read -P 7 0 1M", "-c", "read -P 0 1M 2M")
    vdisk("resize", "--passphrase-file", pw, "--shrink", f, "512K")
    qemu_io("--object", obj, "--image-opts", opts, "-c", "read -P 7 0 512K")
    p = qemu_img("check", "--object", obj, "--image-opts", opts, check=False)
    assert p.returncode == 0, p.stdout
