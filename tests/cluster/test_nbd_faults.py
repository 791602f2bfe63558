"""I/O faults over NBD: a qcow2 image inside an NBD export whose server
fails the k-th write or the k-th flush with EIO, for every k of a small
workload (as tests/faults does for local files with its LD_PRELOAD shim).

The server is nbdkit's eval plugin over a plain file, counting requests in
a file beside it (requests serialised, so the count is exact).  For each
fault that makes the operation fail:
  - the message says the operation failed and names the export;
  - the image (the server's file, read directly once the server is gone)
    is consistent: `qemu-img check` finds no corruption (leaks allowed, as
    QEMU promises; an image left with the dirty bit set must come back
    clean from vdisk's `check -r all`);
  - the data written before the operation reads back (qemu-io).
An operation that succeeds although one request failed ("absorbed") must
leave the same consistent image with its own writes in place.  Counts per
operation are printed ("nbd faults:" lines).
"""
import shutil
import subprocess

import pytest

from conftest import run

MiB = 1 << 20

EVAL_COMMON = {
    "get_size": 'stat -c %s "{file}"',
    "thread_model": "echo serialize_all_requests",
    "can_write": "exit 0",
    "can_flush": "exit 0",
    "pread": 'dd if="{file}" iflag=skip_bytes,count_bytes skip=$4 count=$3 bs=1M status=none',
}

# One request kind counted and failed at number K ($K in the script).
FAULTY = """n=$(( $(cat "{counter}") + 1 )); echo $n > "{counter}"
if [ "$n" -eq {k} ]; then echo "EIO injected {kind} $n" >&2; exit 1; fi
"""
WRITE = 'dd of="{file}" oflag=seek_bytes conv=notrunc seek=$4 bs=1M iflag=fullblock status=none'
FLUSH = 'sync "{file}"'


def eval_args(file, counter, kind, k):
    """nbdkit eval arguments: writes and flushes done, the k-th of kind failed
    (k = 0: never; the counter still counts)."""
    fmt = dict(file=file, counter=counter, k=k, kind=kind)
    args = [f"{key}={val.format(**fmt)}" for key, val in EVAL_COMMON.items()]
    write = WRITE.format(**fmt)
    flush = FLUSH.format(**fmt)
    if kind == "pwrite":
        write = FAULTY.format(**fmt) + write
    else:
        flush = FAULTY.format(**fmt) + flush
    return ["eval", *args, f"pwrite={write}", f"flush={flush}"]


def base_image(tmp_path, qemu_img, qemu_io, name="base.qcow2"):
    """A 16 MiB qcow2 in a 64 MiB file (room for the clusters the operations
    allocate: an export has a fixed size) with 0x5a at 0-1M."""
    img = tmp_path / name
    qemu_img("create", "-q", "-f", "qcow2", img, "16M")
    qemu_io("-f", "qcow2", "-c", "write -P 0x5a 0 1M", img)
    with open(img, "r+b") as f:
        f.truncate(64 * MiB)
    return img


# The operations: (name, vdisk-virsh or vdisk-io argv after the tool, tool,
# what must read back afterwards when the operation reported success).
OPS = [
    ("guest writes", "io", ["-f", "qcow2", "{uri}", "-c", "write -P 0x6b 2M 320k", "-c", "flush"],
     ["read -P 0x6b 2M 320k"]),
    ("snapshot -c", "virsh", ["snapshot", "-c", "s1", "{uri}"], []),
    ("amend refcount_bits=4", "virsh", ["amend", "-f", "qcow2", "-o", "refcount_bits=4", "{uri}"], []),
]


def run_op(tools, tool, argv, uri):
    exe = tools["vdisk_io"] if tool == "io" else tools["vdisk"]
    return subprocess.run([str(exe), *[a.format(uri=uri) for a in argv]], capture_output=True,
                          text=True, timeout=300)


def judge(tools, img, proc, uri, after):
    """'failed' or 'absorbed' after checking the image; fails the test when
    the outcome is bad."""
    check = subprocess.run([tools["qemu_img"], "check", "-f", "qcow2", str(img)],
                           capture_output=True, text=True)
    if check.returncode == 2 or check.returncode == 1:
        pytest.fail(f"corrupt after a fault ({proc.args}):\n{check.stdout}{check.stderr}\n"
                    f"vdisk said: {proc.stderr}")
    if "dirty" in check.stdout + check.stderr or check.returncode not in (0, 3):
        rep = subprocess.run([str(tools["vdisk"]), "check", "-r", "all", "-f", "qcow2", str(img)],
                             capture_output=True, text=True)
        again = subprocess.run([tools["qemu_img"], "check", "-f", "qcow2", str(img)],
                               capture_output=True, text=True)
        assert again.returncode == 0, f"check -r all did not repair:\n{rep.stdout}{again.stdout}"
    run([tools["qemu_io"], "-f", "qcow2", "-c", "read -P 0x5a 0 1M", img])
    if proc.returncode != 0:
        assert "socket=" in proc.stderr or "nbd" in proc.stderr, proc.stderr
        assert ("Input/output error" in proc.stderr or "EIO" in proc.stderr
                or "I/O error" in proc.stderr), proc.stderr
        return "failed"
    for cmd in after:
        run([tools["qemu_io"], "-f", "qcow2", "-c", cmd, img])
    return "absorbed"


@pytest.fixture
def tools(vdisk_bin, vdisk_io, qemu_img):
    from conftest import VDISK_IO
    for t in ("nbdkit", "qemu-img", "qemu-io"):
        if not shutil.which(t):
            pytest.fail(f"{t} is missing (scripts/install-deps.sh installs it)")
    return {"vdisk": vdisk_bin, "vdisk_io": VDISK_IO, "qemu_img": shutil.which("qemu-img"),
            "qemu_io": shutil.which("qemu-io")}


@pytest.mark.parametrize("op", OPS, ids=[o[0] for o in OPS])
def test_every_write_and_flush_fault(op, tools, nbd_server, qemu_img, qemu_io, tmp_path):
    name, tool, argv, after = op
    base = base_image(tmp_path, qemu_img, qemu_io)
    counts = {}
    # A run without faults counts the requests of each kind.
    for kind in ("pwrite", "flush"):
        img, counter = tmp_path / f"count-{kind}.qcow2", tmp_path / f"count-{kind}"
        shutil.copy(base, img)
        counter.write_text("0\n")
        srv = nbd_server(eval_args(img, counter, kind, 0))
        p = run_op(tools, tool, argv, srv.uri)
        srv.stop()
        assert p.returncode == 0, p.stderr
        counts[kind] = int(counter.read_text())
    outcomes = {"failed": 0, "absorbed": 0}
    for kind in ("pwrite", "flush"):
        assert counts[kind] > 0, f"{name} made no {kind} request: nothing to inject"
        for k in range(1, counts[kind] + 1):
            img, counter = tmp_path / f"{kind}-{k}.qcow2", tmp_path / f"{kind}-{k}.count"
            shutil.copy(base, img)
            counter.write_text("0\n")
            srv = nbd_server(eval_args(img, counter, kind, k))
            p = run_op(tools, tool, argv, srv.uri)
            srv.stop()
            outcomes[judge(tools, img, p, srv.uri, after)] += 1
            img.unlink()
    print(f"\nnbd faults: {name}: {counts['pwrite']} writes, {counts['flush']} flushes, "
          f"{outcomes['failed']} failed cleanly, {outcomes['absorbed']} absorbed, 0 bad")
    assert outcomes["failed"] > 0, "no injected fault made the operation fail"
