"""I/O faults at every step: EIO and ENOSPC injected at the k-th write,
flush (fsync/fdatasync) and allocation (ftruncate/fallocate) of each
operation, for every k of a small workload (libvdisk-fault.so, see
fault-shim.c; faultrun.py runs and judges).

For every injected fault that makes the operation fail:
  - its message names the file and says the error (strerror);
  - the image stays consistent: qemu-img check clean or leaks only (an
    image left with the dirty bit set must come back clean from vdisk's
    check -r all), and the data written before the operation reads back
    (qemu-io as the oracle);
  - a failed create or convert leaves no file behind;
  - pool operations leave nothing half-made (a failed vol-create removes
    its file) and the registry readable: pool-list, vol-list and
    pool-dumpxml still work, and the same operation without a fault then
    succeeds.
An operation that succeeds despite the fault (a fallback took over) must
leave the same consistent result ("absorbed": so far the fsync vdisk's
close repeats after the final flush it reported, fsyncs of a file about to
be deleted, the pool directory's fsync after a rename, and a failed hole
punch or truncate that a discard or a repair may skip).

VDISK_FAULT_ERRNOS picks the errnos (default EIO,ENOSPC); by default each
step gets one of them in turn, VDISK_FAULT_FULL=1 injects every errno at
every step (scripts/faults.sh).  The counts per operation are printed at
the end ("faults:" lines).
"""
import os
import sys
from pathlib import Path

import pytest

from faultrun import Case, run, run_case

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "pyutil"))
from qemu_pbkdf import retry_pbkdf_flake  # noqa: E402

MB = 2**20


def qemu_img(tools, *args, check=True):
    """The real qemu-img; a run lost to QEMU's PBKDF2 calibration flake is
    repeated (tests/pyutil/qemu_pbkdf.py)."""
    p = retry_pbkdf_flake(lambda: run([tools["qemu_img"], *args], check=False))
    if check and p.returncode != 0:
        raise AssertionError(f"qemu-img {' '.join(map(str, args))} exited {p.returncode}\n"
                             f"{p.stdout}\n{p.stderr}")
    return p


def make_image(tools, f, opts="", size="4M", writes=()):
    qemu_img(tools, "create", "-q", "-f", "qcow2", *(["-o", opts] if opts else []), f, size)
    if writes:
        run([tools["qemu_io"], "-f", "qcow2", *[a for w in writes for a in ("-c", w)], f])


def dirty(f):
    data = f.read_bytes()[:80]
    return int.from_bytes(data[4:8], "big") >= 3 and bool(int.from_bytes(data[72:80], "big") & 1)


def opener(f, passfile=None):
    """qemu-img / qemu-io / vdisk-virsh arguments that open f (with the key
    in passfile when it is encrypted)."""
    if not passfile:
        return ["-f", "qcow2", f]
    return ["--object", f"secret,id=k0,file={passfile}", "--image-opts",
            f"driver=qcow2,file.filename={f},encrypt.key-secret=k0"]


def image_ok(tools, f, regions=(), passfile=None):
    """Reasons f is not a consistent qcow2 whose regions read back."""
    if not f.exists():
        return [f"{f.name} is gone"]
    p = qemu_img(tools, "check", *opener(f, passfile), check=False)
    why = []
    if p.returncode == 2 and dirty(f):
        # Refcounts may disagree under the dirty bit: the next writer repairs.
        copy = f.with_name("repaired.qcow2")
        copy.write_bytes(f.read_bytes())
        run([tools["virsh"], "check", "-q", "-r", "all", *opener(copy, passfile)], check=False)
        p = qemu_img(tools, "check", *opener(copy, passfile), check=False)
        if p.returncode != 0:
            why.append(f"dirty and not repaired: qemu-img check exit {p.returncode}")
    elif p.returncode not in (0, 3):
        why.append(f"qemu-img check exit {p.returncode}: {p.stdout.strip()} {p.stderr.strip()}")
    if regions:
        cmds = [a for pat, off, ln in regions for a in ("-c", f"read -P {pat} {off} {ln}")]
        r = run([tools["qemu_io"], "-r", "-U", *cmds, *opener(f, passfile)], check=False)
        if r.returncode or "Pattern verification failed" in r.stdout:
            why.append(f"data lost: {r.stdout.strip()[-200:]}")
    return why


def image_case(tools, name, argv, prepare, target="img.qcow2", regions=(), created=False,
               passfile=None):
    """An operation on one image (target) that must stay consistent; a
    created target must be gone after a failure.  passfile: the name of
    the encrypted image's passphrase file."""
    def judge(d, failed):
        f = d / target
        if created and failed:
            return [f"{target} left behind"] if f.exists() else []
        return image_ok(tools, f, regions, passfile and d / passfile)
    return Case(name, prepare, argv, judge, names=[target])


def base_image(tools):
    return lambda d: make_image(tools, d / "img.qcow2",
                                writes=["write -P 0x11 0 256k", "write -P 0x12 2M 128k"])


DATA = [("0x11", 0, "256k"), ("0x12", "2M", "128k")]


def cases(tools):
    v, io = tools["virsh"], tools["io"]
    img = lambda d: d / "img.qcow2"  # noqa: E731

    def with_snapshot(d):
        base_image(tools)(d)
        qemu_img(tools, "snapshot", "-c", "s1", img(d))
        run([tools["qemu_io"], "-f", "qcow2", "-c", "write -P 0x13 3M 64k", img(d)])

    def leaky(d):
        base_image(tools)(d)
        data = bytearray(img(d).read_bytes())
        rt = int.from_bytes(data[48:56], "big")
        rb = int.from_bytes(data[rt:rt + 8], "big")
        first = (len(data) + 65535) // 65536
        data.extend(bytes((first + 2) * 65536 - len(data)))
        for i in (first, first + 1):
            data[rb + 2 * i:rb + 2 * i + 2] = (1).to_bytes(2, "big")
        img(d).write_bytes(data)

    def chain(d):
        make_image(tools, d / "base.qcow2", writes=["write -P 0x11 0 256k"])
        make_image(tools, d / "newbase.qcow2", writes=["write -P 0x11 0 128k"])
        qemu_img(tools, "create", "-q", "-f", "qcow2", "-b", "base.qcow2", "-F", "qcow2",
                 img(d), "4M")
        run([tools["qemu_io"], "-f", "qcow2", "-c", "write -P 0x12 2M 128k", img(d)])

    def chain_ok(d, failed):
        why = image_ok(tools, d / "base.qcow2", [("0x11", 0, "128k")])
        return why + image_ok(tools, img(d), [("0x12", "2M", "128k")])

    def out_ok(d, failed):
        if failed:
            return ["out.qcow2 left behind"] if (d / "out.qcow2").exists() else []
        return image_ok(tools, d / "out.qcow2", DATA)

    yield image_case(tools, "create qcow2", lambda d: [v, "create", "-q", "-f", "qcow2",
                     d / "img.qcow2", "4M"], lambda d: None, created=True)
    yield image_case(tools, "create qcow2 preallocation=falloc",
                     lambda d: [v, "create", "-q", "-f", "qcow2", "-o", "preallocation=falloc",
                                d / "img.qcow2", "4M"], lambda d: None, created=True)
    yield image_case(tools, "guest writes", lambda d: [io, "-f", "qcow2", img(d), "-c",
                     "write -P 0x31 1M 192k", "-c", "write -c -P 0x32 3M 64k", "-c", "flush"],
                     base_image(tools), regions=DATA)
    yield image_case(tools, "discard and write-zeroes",
                     lambda d: [io, "-f", "qcow2", img(d), "-c", "discard 0 64k", "-c",
                                "write -z 64k 64k", "-c", "flush"],
                     base_image(tools), regions=[("0x11", "128k", "128k"), DATA[1]])
    yield image_case(tools, "snapshot -c", lambda d: [v, "snapshot", "-c", "s1", img(d)],
                     base_image(tools), regions=DATA)
    yield image_case(tools, "snapshot -a", lambda d: [v, "snapshot", "-a", "s1", img(d)],
                     with_snapshot, regions=DATA)
    yield image_case(tools, "snapshot -d", lambda d: [v, "snapshot", "-d", "s1", img(d)],
                     with_snapshot, regions=DATA)
    yield image_case(tools, "resize grow", lambda d: [v, "resize", img(d), "1G"],
                     base_image(tools), regions=DATA)
    yield image_case(tools, "resize --preallocation=full",
                     lambda d: [v, "resize", "--preallocation=full", img(d), "+2M"],
                     base_image(tools), regions=DATA)
    yield image_case(tools, "resize --shrink",
                     lambda d: [v, "resize", "--shrink", img(d), "3M"],
                     base_image(tools), regions=DATA)
    yield image_case(tools, "amend refcount_bits=4",
                     lambda d: [v, "amend", "-o", "refcount_bits=4", img(d)],
                     base_image(tools), regions=DATA)
    yield image_case(tools, "amend compat=0.10",
                     lambda d: [v, "amend", "-o", "compat=0.10", img(d)],
                     base_image(tools), regions=DATA)
    yield image_case(tools, "bitmap --add", lambda d: [v, "bitmap", "--add", img(d), "b1"],
                     base_image(tools), regions=DATA)
    yield image_case(tools, "check -r all (leaks)",
                     lambda d: [v, "check", "-q", "-r", "all", img(d)], leaky, regions=DATA)
    def with_bitmaps(d):
        base_image(tools)(d)
        qemu_img(tools, "bitmap", "--add", img(d), "b1")
        qemu_img(tools, "bitmap", "--add", img(d), "b2")
        run([tools["qemu_io"], "-f", "qcow2", "-c", "write -P 0x14 1M 64k", img(d)])

    def encrypted(d):
        (d / "pw").write_text("fault-test")
        (d / "pw2").write_text("fault-test-2")
        qemu_img(tools, "create", "-q", "-f", "qcow2", "--object", f"secret,id=k0,file={d}/pw",
                 "-o", "encrypt.format=luks,encrypt.key-secret=k0,encrypt.iter-time=50",
                 img(d), "4M")
        run([tools["qemu_io"], *opener(img(d), d / "pw"), "-c", "write -P 0x11 0 256k"])

    def keyed(d, *args):
        return [v, *args, "--object", f"secret,id=k0,file={d}/pw", "--image-opts",
                f"driver=qcow2,file.filename={img(d)},encrypt.key-secret=k0"]

    yield image_case(tools, "guest writes (extended_l2=on)",
                     lambda d: [io, "-f", "qcow2", img(d), "-c", "write -P 0x31 1M 4k", "-c",
                                "write -z 2M 2k", "-c", "flush"],
                     lambda d: make_image(tools, img(d), "extended_l2=on",
                                          writes=["write -P 0x11 0 256k",
                                                  "write -P 0x12 2M 128k"]),
                     regions=[DATA[0], ("0x12", 2 * MB + 2048, 126 * 1024)])
    yield image_case(tools, "bitmap --merge, --remove",
                     lambda d: [v, "bitmap", "--merge", "b1", "--remove", img(d), "b2"],
                     with_bitmaps, regions=DATA)
    yield image_case(tools, "guest writes (LUKS in qcow2)",
                     lambda d: [io, "-f", "qcow2", "-s", d / "pw", img(d), "-c",
                                "write -P 0x31 1M 192k", "-c", "flush"],
                     encrypted, regions=[DATA[0]], passfile="pw")
    yield image_case(tools, "amend LUKS key slot add",
                     lambda d: keyed(d, "amend", "--object", f"secret,id=k1,file={d}/pw2",
                                     "-o", "encrypt.state=active,encrypt.new-secret=k1,"
                                     "encrypt.keyslot=2,encrypt.iter-time=10"),
                     encrypted, regions=[DATA[0]], passfile="pw")
    yield Case("rebase -u", chain,
               lambda d: [v, "rebase", "-u", "-b", "newbase.qcow2", "-F", "qcow2", img(d)],
               lambda d, failed: image_ok(tools, img(d), [("0x12", "2M", "128k")]),
               names=["img.qcow2"])
    yield Case("commit", chain, lambda d: [v, "commit", img(d)], chain_ok,
               names=["img.qcow2", "base.qcow2"])
    yield Case("rebase (safe)", chain,
               lambda d: [v, "rebase", "-b", "newbase.qcow2", "-F", "qcow2", img(d)], chain_ok,
               names=["img.qcow2", "newbase.qcow2"])
    yield Case("convert -O qcow2 -t writeback", base_image(tools),
               lambda d: [v, "convert", "-t", "writeback", "-O", "qcow2", img(d),
                          d / "out.qcow2"], out_ok, names=["out.qcow2"])


OPS = list(cases({"virsh": "vdisk-virsh", "io": "vdisk-io", "qemu_img": "qemu-img",
                  "qemu_io": "qemu-io"}))


@pytest.mark.parametrize("name", [c.name for c in OPS])
def test_image_operation(tools, tmp_path, name):
    case = next(c for c in cases(tools) if c.name == name)
    run_case(tools, tmp_path, case)


# ---- pools (the embedded registry) -------------------------------------------

def pool_env(d):
    return {"VDISK_CONFIG_DIR": str(d / "registry")}


def virsh(tools, d, *args, check=True):
    return run([tools["virsh"], *args], env=dict(os.environ, **pool_env(d)), check=check)


def make_pool(tools, d, volumes=()):
    virsh(tools, d, "pool-define-as", "pool", "vdisk", "--target", d / "pool")
    virsh(tools, d, "pool-build", "pool")
    virsh(tools, d, "pool-start", "pool")
    for name in volumes:
        virsh(tools, d, "vol-create-as", "pool", name, "4M", "--format", "qcow2")


def registry_ok(tools, d):
    """Reasons the registry or the pool is left broken: its listings fail."""
    why = []
    for args in (["pool-list", "--all"], ["pool-dumpxml", "pool"], ["vol-list", "pool"]):
        p = virsh(tools, d, *args, check=False)
        if p.returncode:
            why.append(f"{args[0]} fails afterwards: {p.stderr.strip()}")
    return why


def pool_case(tools, name, prepare, args, judge_extra):
    def argv(d):
        return [tools["virsh"], *args(d)]

    def judge(d, failed):
        why = registry_ok(tools, d)
        why += judge_extra(d, failed)
        return why
    return Case(name, prepare, argv, judge, names=["v1", "v2", "p2", "pool", "registry"],
                env=pool_env, copyable=False)


def pool_cases(tools):
    def vol_listed(d, name):
        return name in virsh(tools, d, "vol-list", "pool", check=False).stdout

    def create_judge(d, failed):
        f = d / "pool" / "v2"
        if failed:
            why = [] if not f.exists() else ["v2 file left behind"]
            why += ["v2 still listed"] if vol_listed(d, "v2") else []
            p = virsh(tools, d, "vol-create-as", "pool", "v2", "4M", "--format", "qcow2",
                      check=False)
            return why + ([f"vol-create-as again fails: {p.stderr.strip()}"]
                          if p.returncode else [])
        return image_ok(tools, f)

    def delete_judge(d, failed):
        f = d / "pool" / "v1"
        if failed and f.exists():
            return image_ok(tools, f) + ([] if vol_listed(d, "v1") else
                                         ["v1 file kept but no longer listed"])
        return ["v1 still listed"] if vol_listed(d, "v1") and not f.exists() else []

    def resize_judge(d, failed):
        return image_ok(tools, d / "pool" / "v1")

    def clone_judge(d, failed):
        f = d / "pool" / "v2"
        why = image_ok(tools, d / "pool" / "v1")
        if failed:
            why += ["v2 file left behind"] if f.exists() else []
            why += ["v2 still listed"] if vol_listed(d, "v2") else []
        else:
            why += image_ok(tools, f)
        return why

    def define_judge(d, failed):
        p = virsh(tools, d, "pool-define-as", "p2", "vdisk", "--target", d / "p2", check=False)
        if failed and p.returncode and "already exists" not in p.stderr:
            return [f"pool-define-as again fails: {p.stderr.strip()}"]
        return []

    yield pool_case(tools, "vol-create-as (qcow2)", lambda d: make_pool(tools, d),
                    lambda d: ["vol-create-as", "pool", "v2", "4M", "--format", "qcow2"],
                    create_judge)
    yield pool_case(tools, "vol-delete", lambda d: make_pool(tools, d, ["v1"]),
                    lambda d: ["vol-delete", "v1", "--pool", "pool"], delete_judge)
    yield pool_case(tools, "vol-resize", lambda d: make_pool(tools, d, ["v1"]),
                    lambda d: ["vol-resize", "v1", "64M", "--pool", "pool"], resize_judge)
    yield pool_case(tools, "vol-clone", lambda d: make_pool(tools, d, ["v1"]),
                    lambda d: ["vol-clone", "v1", "v2", "--pool", "pool"], clone_judge)
    yield pool_case(tools, "pool-define-as", lambda d: make_pool(tools, d),
                    lambda d: ["pool-define-as", "p2", "vdisk", "--target", d / "p2"],
                    define_judge)


POOL_OPS = [c.name for c in pool_cases(None)]


@pytest.mark.parametrize("name", POOL_OPS)
def test_pool_operation(tools, tmp_path, name):
    case = next(c for c in pool_cases(tools) if c.name == name)
    run_case(tools, tmp_path, case)
