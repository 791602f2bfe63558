"""The checks every crash state of tests/crash goes through (see
test_crash_states.py for what they prove), and the workload an operation
runs on.

A Workload is one qcow2 file opened as vdisk-record:PATH (the record
protocol logs every change to PATH.iolog), the data known durable before
the operation, and the data the operation makes durable once its flushes
complete.  check_states turns the log into every crash state crashgen.py
finds and checks each one:

  - qemu-img check finds no corruption; leaks are allowed (QEMU's own
    promise).  Two kinds of qemu-img "corruption" are counted apart:
      dirty   the header's dirty bit is set: refcounts may be inconsistent
              by the spec, and any writer (vdisk or QEMU) repairs before use.
              Checked: QEMU's read-write open leaves it clean (not with
              lazy refcounts: QEMU cannot repair a data cluster past the
              end of the file; vdisk's check -r all can);
      copied  only OFLAG_COPIED flags disagreeing with refcounts a leak
              raised (tests/interop/crash_common.py): harmless, repaired by
              check -r all; allowed only where a test says so (v2 images,
              which have no dirty bit);
    A file the operation creates (create, convert) is "absent" while its
    header has not reached the disk: not an image yet, as with qemu-img;
  - vdisk opens it and reads back every byte whose write was followed by a
    completed flush before the crash;
  - vdisk-virsh check -r all leaves it clean for qemu-img check.

The counts per operation are collected in REPORT and printed by
conftest.py at the end of the run ("crash states:" lines).
"""
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import crashgen

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "interop"))
from crash_common import unexplained_errors  # noqa: E402
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "pyutil"))
from qemu_pbkdf import retry_pbkdf_flake  # noqa: E402

FULL = os.environ.get("VDISK_CRASH_FULL") == "1"
LIMIT = None if FULL else int(os.environ.get("VDISK_CRASH_STATES", "60"))
SEED = int(os.environ.get("VDISK_CRASH_SEED", "1"))
EXHAUSTIVE_MAX = 10 if FULL else 6
RANDOM_SUBSETS = 64 if FULL else 8
REPORT = []
QCOW2_MAGIC = b"QFI\xfb"
SECRET_ID = "sec0"


def run(argv, check=True):
    p = subprocess.run([str(a) for a in argv], capture_output=True, text=True)
    if check and p.returncode != 0:
        pytest.fail(f"{' '.join(map(str, argv))} exited {p.returncode}\n{p.stdout}\n{p.stderr}")
    return p


def flushes(log):
    return sum(1 for c in crashgen.read_log(log) if c.op == crashgen.FLUSH) if log.exists() else 0


class Workload:
    """An image, the data known durable before the operation, and the
    operation's log with the data it made durable.

    create_opts None: the operation creates the file (create, convert):
    its base is the empty file.  passphrase: the image is LUKS-encrypted
    (encrypt.format=luks) with that passphrase."""

    def __init__(self, tools, tmp, create_opts, size="4M", name="img.qcow2",
                 backing=None, passphrase=None):
        self.t = tools
        self.tmp = tmp
        self.img = tmp / name
        self.log = Path(str(self.img) + ".iolog")
        self.regions = []        # (pattern, off, len, flushes needed)
        self.passfile = None
        opts = create_opts or ""
        if passphrase is not None:
            self.passfile = tmp / "passphrase"
            self.passfile.write_text(passphrase)
        if create_opts is not None:
            argv = [tools["qemu_img"], "create", "-q", "-f", "qcow2", *self.secret_object()]
            if passphrase is not None:
                opts += f",encrypt.format=luks,encrypt.key-secret={SECRET_ID},encrypt.iter-time=50"
            if backing:
                argv += ["-b", backing, "-F", "qcow2"]
            # a run lost to QEMU's PBKDF2 calibration flake is repeated
            p = retry_pbkdf_flake(
                lambda: run([*argv, "-o", opts.strip(","), self.img, size], check=False))
            if p.returncode != 0:
                pytest.fail(f"qemu-img create {self.img} exited {p.returncode}\n{p.stderr}")
        self.lazy = "lazy_refcounts=on" in opts
        m = re.search(r"cluster_size=(\d+)", opts)
        self.cluster_bits = (int(m[1]) if m else 65536).bit_length() - 1

    def secret_object(self):
        return ["--object", f"secret,id={SECRET_ID},file={self.passfile}"] if self.passfile else []

    def qemu_args(self, f):
        """qemu-img / qemu-io arguments that open f (with its key)."""
        if not self.passfile:
            return ["-f", "qcow2", f]
        return [*self.secret_object(), "--image-opts",
                f"driver=qcow2,file.filename={f},encrypt.key-secret={SECRET_ID}"]

    def vdisk_io_args(self, f):
        return ["-f", "qcow2", *(["-s", self.passfile] if self.passfile else []), f]

    def qemu_write(self, pat, off, length, flags=""):
        """Data written by QEMU before the operation: durable in every state."""
        pattern = "" if "-z" in flags else f"-P {pat}"
        run([self.t["qemu_io"], *self.qemu_args(self.img),
             "-c", f"write {flags} {pattern} {off} {length}"])
        self.regions.append((pat, off, length, 0))

    def start(self):
        self.base = self.img.read_bytes() if self.img.exists() else b""
        if self.log.exists():
            self.log.unlink()

    def rec(self):
        return f"vdisk-record:{self.img}"

    def io(self, *cmds):
        """vdisk-io commands on the recorded image, then a flush."""
        argv = [self.t["io"], *self.vdisk_io_args(self.rec())]
        for c in (*cmds, "flush"):
            argv += ["-c", c]
        run(argv)

    def guest_write(self, pat, off, length, flags=""):
        """A guest write and flush through vdisk: durable once the flush of
        its run completed."""
        self.io(f"write {flags} -P {pat} {off} {length}")
        self.expect(pat, off, length)

    def expect(self, pat, off, length):
        """Data the operation made durable at its last completed flush."""
        self.regions.append((pat, off, length, flushes(self.log)))

    def virsh(self, *args):
        run([self.t["virsh"], *args])


def qemu_check(w, f):
    p = run([w.t["qemu_img"], "check", "--output", "json", *w.qemu_args(f)], check=False)
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
    run([w.t["qemu_io"], *w.qemu_args(f), "-c", "read 0 512"], check=False)
    return qemu_check(w, f)[0] == 0


def new_stats(changes, cands):
    return {"changes": sum(c.op != crashgen.FLUSH for c in changes),
            "flushes": sum(c.op == crashgen.FLUSH for c in changes),
            "states": len(cands), "checked": 0, "absent": 0, "clean": 0, "leaks": 0,
            "dirty": 0, "copied": 0, "corrupt": 0, "unreadable": 0, "unrepaired": 0}


def check_one(w, k, label, data, stats, copied_ok):
    """Check one state; the reasons it failed (none: it passed)."""
    failures = []
    f = w.tmp / "state.qcow2"
    f.write_bytes(data)
    if not data.startswith(QCOW2_MAGIC) and not w.base.startswith(QCOW2_MAGIC):
        stats["absent"] += 1
        return failures
    rc, out = qemu_check(w, f)
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
    p = run([w.t["io"], "-r", *w.vdisk_io_args(f), *reads], check=False)
    if p.returncode != 0:
        stats["unreadable"] += 1
        failures.append(f"{label}: vdisk cannot read the flushed data back\n{p.stderr}")
    if rc != 0:
        run([w.t["virsh"], "check", "-q", "-r", "all", *w.qemu_args(f)], check=False)
        rc2, out2 = qemu_check(w, f)
        if rc2 != 0:
            stats["unrepaired"] += 1
            failures.append(f"{label}: after check -r all, qemu-img check exit {rc2}\n{out2}")
    if failures:
        (w.tmp / f"failed-{stats['checked']}.qcow2").write_bytes(data)
    return failures


def check_states(w, name, copied_ok=False):
    """Every crash state of the operation logged in w.log, checked."""
    changes = crashgen.read_log(w.log)
    # The recorder missed nothing: the base plus every logged change is the
    # image the operation left.
    final = bytearray(w.base)
    crashgen.apply(final, changes)
    assert bytes(final) == w.img.read_bytes(), "the I/O log does not reproduce the image"
    cands = crashgen.candidates(w.base, changes, SEED, EXHAUSTIVE_MAX, RANDOM_SUBSETS)
    stats = new_stats(changes, cands)
    failures = []
    for k, label, data in crashgen.crash_states(cands, LIMIT, SEED):
        stats["checked"] += 1
        failures += check_one(w, k, label, data, stats, copied_ok)
    line = f"crash states: {name}: " + ", ".join(f"{v} {k}" for k, v in stats.items())
    REPORT.append(line)
    print("\n" + line)
    assert not failures, f"{len(failures)} bad states of {stats['checked']}:\n" + \
        "\n".join(failures[:5])
