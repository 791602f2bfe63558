"""Power-loss crash states of qcow2 metadata operations.

Each operation runs on an image opened as vdisk-record:PATH (the record
protocol of test builds logs every write, zero, discard, truncate and
flush).  crashgen.py turns the log into the images a power loss could
leave; for every one of them:

  - qemu-img check finds no corruption; leaks are allowed (QEMU's own
    promise).  Two kinds of qemu-img "corruption" are counted apart:
      dirty   the header's dirty bit is set: refcounts may be inconsistent
              by the spec, and any writer (vdisk or QEMU) repairs before use.
              Lazy refcounts set it on purpose; snapshot -c sets it (v3)
              around the refcount/COPIED window no write order can close.
              Checked: QEMU's read-write open leaves it clean (not with
              lazy refcounts: QEMU cannot repair a data cluster past the
              end of the file; vdisk's check -r all can);
      copied  only OFLAG_COPIED flags disagreeing with refcounts a leak
              raised (tests/interop/crash_common.py): harmless, repaired by
              check -r all; allowed only where no dirty bit exists (v2);
  - vdisk opens it and reads back every byte whose write was followed by a
    completed flush before the crash;
  - vdisk-virsh check -r all leaves it clean for qemu-img check.

The counts per operation are printed at the end ("crash states:" lines).
CI runs a seeded sample (VDISK_CRASH_STATES states per operation, default
60, seed VDISK_CRASH_SEED); VDISK_CRASH_FULL=1 checks every state
(scripts/crash-states.sh).
"""
import re
import os
import subprocess
import sys
from pathlib import Path

import pytest

import crashgen

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "interop"))
from crash_common import unexplained_errors  # noqa: E402

FULL = os.environ.get("VDISK_CRASH_FULL") == "1"
LIMIT = None if FULL else int(os.environ.get("VDISK_CRASH_STATES", "60"))
SEED = int(os.environ.get("VDISK_CRASH_SEED", "1"))
EXHAUSTIVE_MAX = 10 if FULL else 6
RANDOM_SUBSETS = 64 if FULL else 8
REPORT = []


def run(argv, check=True):
    p = subprocess.run([str(a) for a in argv], capture_output=True, text=True)
    if check and p.returncode != 0:
        pytest.fail(f"{' '.join(map(str, argv))} exited {p.returncode}\n{p.stdout}\n{p.stderr}")
    return p


def flushes(log):
    return sum(1 for c in crashgen.read_log(log) if c.op == crashgen.FLUSH) if log.exists() else 0


class Workload:
    """An image, the data known durable before the operation, and the
    operation's log with the guest writes it made durable."""

    def __init__(self, tools, tmp, create_opts, size="4M"):
        self.t = tools
        self.tmp = tmp
        self.img = tmp / "img.qcow2"
        self.log = Path(str(self.img) + ".iolog")
        run([tools["qemu_img"], "create", "-q", "-f", "qcow2", "-o", create_opts, self.img, size])
        self.regions = []        # (pattern, off, len, flushes needed)
        self.lazy = "lazy_refcounts=on" in create_opts
        m = re.search(r"cluster_size=(\d+)", create_opts)
        self.cluster_bits = (int(m[1]) if m else 65536).bit_length() - 1

    def qemu_write(self, pat, off, length):
        """Data written by QEMU before the operation: durable in every state."""
        run([self.t["qemu_io"], "-f", "qcow2", "-c", f"write -P {pat} {off} {length}", self.img])
        self.regions.append((pat, off, length, 0))

    def start(self):
        self.base = self.img.read_bytes()
        if self.log.exists():
            self.log.unlink()

    def rec(self):
        return f"vdisk-record:{self.img}"

    def guest_write(self, pat, off, length):
        """A guest write and flush through vdisk: durable once the flush of
        its run completed."""
        run([self.t["io"], "-f", "qcow2", self.rec(), "-c", f"write -P {pat} {off} {length}",
             "-c", "flush"])
        self.regions.append((pat, off, length, flushes(self.log)))

    def virsh(self, *args):
        run([self.t["virsh"], *args])


def qemu_check(t, f):
    p = run([t["qemu_img"], "check", "--output", "json", "-f", "qcow2", f], check=False)
    return p.returncode, p.stdout + p.stderr


def dirty_bit(data):
    version = int.from_bytes(data[4:8], "big")
    return version >= 3 and bool(int.from_bytes(data[72:80], "big") & 1)


# What a dirty image with lazy refcounts may show: refcounts that disagree
# with the references (and COPIED flags with them), and (lazy refcounts: nothing orders the
# data before its L2 entry) a data cluster whose growth of the file was
# lost, which vdisk's repair grows the file over.
DIRTY_OK = re.compile(r"^ERROR(?: cluster \d+ refcount=\d+ reference=\d+$| OFLAG_COPIED |: "
                      r"counting reference for region exceeding the end of the file)")


def classify(rc, out, data, lazy, cluster_bits):
    """'clean', 'leaks', 'dirty', 'copied' or 'corrupt' (see above)."""
    if rc in (0, 3):
        return "clean" if rc == 0 else "leaks"
    if rc != 2:
        return "corrupt"
    bad = unexplained_errors(out, cluster_bits)
    if dirty_bit(data) and all(lazy and DIRTY_OK.match(line) for line in bad):
        return "dirty"
    return "copied" if not bad else "corrupt"


def qemu_repairs_at_open(w, data):
    """Does QEMU's read-write open repair this dirty state (as the dirty
    bit asks), leaving qemu-img check clean?"""
    f = w.tmp / "dirty.qcow2"
    f.write_bytes(data)
    run([w.t["qemu_io"], "-f", "qcow2", "-c", "read 0 512", f], check=False)
    return qemu_check(w.t, f)[0] == 0


def check_states(w, name, copied_ok=False):
    changes = crashgen.read_log(w.log)
    # The recorder missed nothing: the base plus every logged change is the
    # image the operation left.
    final = bytearray(w.base)
    crashgen.apply(final, changes)
    assert bytes(final) == w.img.read_bytes(), "the I/O log does not reproduce the image"
    cands = crashgen.candidates(w.base, changes, SEED, EXHAUSTIVE_MAX, RANDOM_SUBSETS)
    stats = {"changes": sum(c.op != crashgen.FLUSH for c in changes),
             "flushes": sum(c.op == crashgen.FLUSH for c in changes),
             "states": len(cands), "checked": 0, "clean": 0, "leaks": 0, "dirty": 0,
             "copied": 0, "corrupt": 0, "unreadable": 0, "unrepaired": 0}
    failures = []
    f = w.tmp / "state.qcow2"
    for k, label, data in crashgen.crash_states(cands, LIMIT, SEED):
        stats["checked"] += 1
        f.write_bytes(data)
        rc, out = qemu_check(w.t, f)
        kind = classify(rc, out, data, w.lazy, w.cluster_bits)
        stats[kind] += 1
        if kind == "corrupt" or (kind == "copied" and not copied_ok):
            failures.append(f"{label}: qemu-img check exit {rc} ({kind})\n{out}")
        # With lazy refcounts QEMU's own repair cannot fix a data cluster
        # past the end of the file (nor does QEMU avoid leaving one): only
        # vdisk's repair is held to it there.
        if kind == "dirty" and not w.lazy and not qemu_repairs_at_open(w, data):
            stats["unrepaired"] += 1
            failures.append(f"{label}: QEMU's read-write open left errors in the dirty image")
        reads = [c for pat, off, ln, need in w.regions if k >= need
                 for c in ("-c", f"read -P {pat} {off} {ln}")]
        p = run([w.t["io"], "-r", "-f", "qcow2", f, *reads], check=False)
        if p.returncode != 0:
            stats["unreadable"] += 1
            failures.append(f"{label}: vdisk cannot read the flushed data back\n{p.stderr}")
        if rc != 0:
            run([w.t["virsh"], "check", "-q", "-r", "all", f], check=False)
            rc2, out2 = qemu_check(w.t, f)
            if rc2 != 0:
                stats["unrepaired"] += 1
                (w.tmp / f"unrepaired-{stats['unrepaired']}.qcow2").write_bytes(data)
                failures.append(f"{label}: after check -r all, qemu-img check exit {rc2}\n{out2}")
    line = f"crash states: {name}: " + ", ".join(f"{v} {k}" for k, v in stats.items())
    REPORT.append(line)
    print("\n" + line)
    assert not failures, f"{len(failures)} bad states of {stats['checked']}:\n" + \
        "\n".join(failures[:5])


@pytest.mark.parametrize("compat,cluster", [("1.1", 65536), ("0.10", 65536), ("1.1", 4096)])
def test_snapshot_create(tools, tmp_path, compat, cluster):
    w = Workload(tools, tmp_path, f"cluster_size={cluster},compat={compat}")
    w.qemu_write("0x11", 0, "1M")
    w.qemu_write("0x22", "2M", "512k")
    w.start()
    w.virsh("snapshot", "-c", "s1", w.rec())
    # v2 images have no dirty bit: their window shows as stale COPIED flags.
    check_states(w, f"snapshot -c (compat={compat}, cluster_size={cluster})",
                 copied_ok=compat == "0.10")


@pytest.mark.parametrize("lazy", ["off", "on"])
def test_guest_writes_allocate(tools, tmp_path, lazy):
    w = Workload(tools, tmp_path, f"cluster_size=65536,lazy_refcounts={lazy}")
    w.qemu_write("0x11", 0, "128k")
    w.start()
    w.guest_write("0x31", "256k", "192k")
    w.guest_write("0x32", "1M", "64k")
    w.guest_write("0x33", "3M", "300k")
    check_states(w, f"guest writes (lazy_refcounts={lazy})")


@pytest.mark.parametrize("lazy", ["off", "on"])
def test_guest_writes_new_refblock(tools, tmp_path, lazy):
    """4 KiB clusters: a refcount block covers 8 MiB of the file, so these
    writes need a new refcount block and a second L2 table."""
    w = Workload(tools, tmp_path, f"cluster_size=4096,lazy_refcounts={lazy}", size="64M")
    w.qemu_write("0x11", 0, "7M")
    w.start()
    w.guest_write("0x34", "40M", "2M")
    check_states(w, f"guest writes, new refcount block (lazy_refcounts={lazy})")


@pytest.mark.parametrize("cluster", [65536, 4096])
def test_resize_grow(tools, tmp_path, cluster):
    """4 KiB clusters: the L1 table outgrows its cluster and moves."""
    w = Workload(tools, tmp_path, f"cluster_size={cluster}")
    w.qemu_write("0x11", 0, "1M")
    w.start()
    w.virsh("resize", w.rec(), "2G")
    check_states(w, f"resize 4M -> 2G (cluster_size={cluster})")


def test_zz_report():
    """The counts per operation, one line each (runs last)."""
    print()
    for line in REPORT:
        print(line)
