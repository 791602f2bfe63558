"""The cases of bench/bench.py: each runs vdisk-virsh and its peer in turn
on the same input and returns result rows (harness.row), with the floor a
case is read against where one applies (floors.py).

ctx (bench.Context) gives: args (runs, sizes, only), vdisk (the binary),
runner(where) for "disk" or "tmpfs", cold(where) (drop the page cache
before a run: on disk only), src (raw input name, in both directories),
src_qcow2 (the same as qcow2, made by qemu-img).
"""
import json
import statistics
import subprocess

import floors
from harness import compare_pair, median_of, remove, row

WHERES = ("disk", "tmpfs")


def with_floor(r, name, seconds):
    """Put the floor beside the row: its time and vdisk's (and qemu-img's)
    wall time over it."""
    r["floor"] = name
    r["floor_s"] = seconds
    r["vs_floor"] = r["vdisk_s"] / seconds if r["vdisk_s"] and seconds else None
    r["qemu_vs_floor"] = r["qemu_s"] / seconds if r["qemu_s"] and seconds else None
    return r


def cp_floor_s(ctx, where, src=None):
    """The median time of cp --sparse=always of src (default: the raw
    input) in where; measured once per mode (convert and encrypt share the
    raw input's)."""
    src = src or ctx.src
    key = (where, src)
    if key not in ctx.floors:
        runner = ctx.runner(where)
        results = [floors.cp_floor(runner, src, "cp-floor.raw", cold=ctx.cold(where))
                   for _ in range(ctx.args.runs)]
        ctx.floors[key] = median_of(results, 0)
    return ctx.floors[key]


def convert(ctx):
    """raw -> qcow2, qcow2 -> raw, qcow2 -> qcow2 on disk and on tmpfs,
    beside cp --sparse=always of the same data in the same directory."""
    rows = []
    cases = [("raw", ctx.src, "qcow2"), ("qcow2", ctx.src_qcow2, "raw"),
             ("qcow2", ctx.src_qcow2, "qcow2")]
    for where in WHERES:
        runner, cold = ctx.runner(where), ctx.cold(where)
        floor = cp_floor_s(ctx, where)
        for fmt, src, ofmt in cases:
            name = f"convert {fmt} -> {ofmt}"
            print(f"- {name} ({where})", flush=True)
            dst = f"out.{ofmt}"
            argv = ["convert", "-f", fmt, "-O", ofmt, src, dst]
            v, q = compare_pair(runner, ctx.args.runs, [ctx.vdisk, *argv], ["qemu-img", *argv],
                                output=dst, cold=cold)
            remove(runner.workdir / dst)
            ok = runner.timed([ctx.vdisk, *argv], cold=False) is not None
            ok = ok and runner.check(["qemu-img", "compare", "-f", fmt, "-F", ofmt, src, dst])
            if ofmt == "qcow2":
                ok = ok and runner.check(["qemu-img", "check", "-f", "qcow2", dst])
            remove(runner.workdir / dst)
            rows.append(with_floor(row(name, v, q, "ok" if ok else "FAILED", where),
                                   "cp --sparse=always", floor))
    return rows


def compress(ctx):
    """convert -c zlib / zstd, alone and with -W -m 8 (both tools the same
    flags), on tmpfs, beside the per-cluster compression CPU floor."""
    runner = ctx.runner("tmpfs")
    rows = []
    for ctype in ctx.args.types.split(","):
        fl = floors.compression_floor(runner.workdir / ctx.src, ctype)
        for extra in ([], ["-W", "-m", "8"]):
            name = f"convert -c {ctype}" + (" -W -m 8" if extra else "")
            print(f"- {name} (tmpfs)", flush=True)
            dst = "out-c.qcow2"
            argv = ["convert", "-c", *extra, "-o", f"compression_type={ctype}", "-f", "raw",
                    "-O", "qcow2", ctx.src, dst]
            v, q = compare_pair(runner, ctx.args.runs, [ctx.vdisk, *argv], ["qemu-img", *argv],
                                output=dst, cold=False)
            qemu_out = runner.workdir / "qemu-out-c.qcow2"   # the last run was qemu-img's
            (runner.workdir / dst).replace(qemu_out)
            ok = runner.timed([ctx.vdisk, *argv], cold=False) is not None
            ok = ok and runner.check(["qemu-img", "check", "-f", "qcow2", dst])
            ok = ok and runner.check(["qemu-img", "compare", "-f", "raw", "-F", "qcow2", ctx.src, dst])
            check = "ok" if ok else "FAILED"
            if ok and not extra:   # in order: the same bytes as qemu-img
                same = runner.check(["cmp", "-s", dst, qemu_out])
                check = "ok, same bytes" if same else "ok, DIFFERENT bytes"
            remove(runner.workdir / dst)
            remove(qemu_out)
            r = with_floor(row(name, v, q, check, "tmpfs"), "compression CPU / cores",
                           fl["floor_s"])
            r["floor_cpu_s"] = fl["cpu_s"]
            rows.append(r)
    return rows


def create(ctx):
    """create SIZE in every preallocation mode on disk; the eager-zeroed
    modes on tmpfs too."""
    rows = []
    size = ctx.args.create_size
    modes = [("disk", "raw", m) for m in ("off", "falloc", "full")] + \
            [("disk", "qcow2", m) for m in ("off", "metadata", "falloc", "full")] + \
            [("tmpfs", "raw", "full"), ("tmpfs", "qcow2", "full")]
    for where, fmt, mode in modes:
        runner, cold = ctx.runner(where), ctx.cold(where)
        name = f"create {fmt} {size} {mode}"
        print(f"- {name} ({where})", flush=True)
        dst = f"new.{fmt}"
        opt = ["-f", fmt, "-o", f"preallocation={mode}", dst, size]
        v, q = compare_pair(runner, ctx.args.runs, [ctx.vdisk, "create", "-q", *opt],
                            ["qemu-img", "create", "-q", *opt], output=dst, cold=cold)
        remove(runner.workdir / dst)
        ok = runner.timed([ctx.vdisk, "create", "-q", *opt], cold=False) is not None
        if ok and fmt == "qcow2":
            ok = runner.check(["qemu-img", "check", "-f", "qcow2", dst])
        remove(runner.workdir / dst)
        rows.append(row(name, v, q, "ok" if ok else "FAILED", where))
    return rows


POOL_XML = """<pool type='vdisk' xmlns:vdisk='http://libvirt.org/schemas/storagepool/vdisk/1.0'>
  <name>bench</name>
  <target><path>{path}</path></target>
  <vdisk:provisioning><vdisk:zeroing>eager</vdisk:zeroing></vdisk:provisioning>
</pool>
"""


def pool(ctx):
    """An eager-zeroed thick volume of an embedded pool on disk (vol-create-as
    with allocation = capacity) against qemu-img create -o preallocation=full."""
    runner = ctx.pool_runner()
    pdir = runner.workdir / "pool"
    size = ctx.args.create_size
    (runner.workdir / "pool.xml").write_text(POOL_XML.format(path=pdir))
    for argv in (["pool-define", "pool.xml"], ["pool-build", "bench"], ["pool-start", "bench"]):
        if not runner.check([ctx.vdisk, *argv]):
            return []
    print(f"- eager-zeroed pool volume {size} (disk)", flush=True)
    v, q = [], []
    for _ in range(ctx.args.runs):
        v.append(runner.timed([ctx.vdisk, "vol-create-as", "bench", "v.raw", size, "--allocation",
                               size, "--format", "raw"], durable=pdir / "v.raw"))
        runner.check([ctx.vdisk, "vol-delete", "v.raw", "--pool", "bench"])
        q.append(runner.timed(["qemu-img", "create", "-q", "-f", "raw", "-o", "preallocation=full",
                               pdir / "q.raw", size], durable=pdir / "q.raw"))
        remove(pdir / "q.raw")
    ok = runner.check([ctx.vdisk, "vol-create-as", "bench", "v.raw", size, "--allocation", size,
                       "--format", "raw"])
    allocated = (pdir / "v.raw").stat().st_blocks * 512 if ok else 0
    ok = ok and allocated >= (pdir / "v.raw").stat().st_size
    runner.check([ctx.vdisk, "vol-delete", "v.raw", "--pool", "bench"])
    for argv in (["pool-destroy", "bench"], ["pool-undefine", "bench"]):
        runner.check([ctx.vdisk, *argv])
    return [row(f"vol-create-as eager {size} vs create full", v, q,
                "ok" if ok else "FAILED", "disk")]


def info(ctx):
    """Start-up: info of a small qcow2, warm, many runs."""
    runner = ctx.runner("tmpfs")
    img = "small.qcow2"
    runner.check(["qemu-img", "create", "-q", "-f", "qcow2", img, "1G"])
    print("- info (tmpfs)", flush=True)
    v, q = compare_pair(runner, max(10, 5 * ctx.args.runs), [ctx.vdisk, "info", img],
                        ["qemu-img", "info", img], cold=False)
    remove(runner.workdir / img)
    return [row("info of a small qcow2", v, q, "-", "tmpfs")]


class RetryPbkdf:
    """A Runner that runs a command again when qemu-img's PBKDF2 timing
    gave up ("Unable to get accurate CPU usage": on a loaded machine its
    10 ms benchmark can measure no CPU time at all).  Nothing else is
    retried."""

    def __init__(self, runner):
        self.runner = runner
        self.workdir = runner.workdir

    def timed(self, argv, **kw):
        for _ in range(25):  # about 4 in 10 runs lose here; see tests/pyutil/qemu_pbkdf.py
            before = len(self.runner.failures)
            r = self.runner.timed(argv, **kw)
            if r or "Unable to get accurate CPU usage" not in "".join(self.runner.failures[before:]):
                return r
            del self.runner.failures[before:]
        return r

    def check(self, argv):
        return self.runner.check(argv)


def encrypt(ctx):
    """Sequential convert into a LUKS-encrypted qcow2 and back out to raw,
    both tools with the same passphrase (a secret object) and a 10 ms
    PBKDF2 time, so the data path is what is timed.  On disk.  Each beside
    its copy floor: cp --sparse=always of the file the convert reads (the
    raw input; the encrypted image), which reads the same bytes and writes
    as many or more (ciphertext has no zero blocks to skip)."""
    runner, cold = ctx.runner("disk"), ctx.cold("disk")
    runner = RetryPbkdf(runner)
    (runner.workdir / "bench.pw").write_bytes(b"bench passphrase")
    sec = ["--object", "secret,id=sec0,file=bench.pw"]
    opts = "encrypt.format=luks,encrypt.key-secret=sec0,encrypt.iter-time=10"
    enc_opts = "driver=qcow2,file.filename=enc.qcow2,encrypt.key-secret=sec0"
    print("- convert raw -> qcow2+luks (disk)", flush=True)
    into = ["convert", *sec, "-f", "raw", "-O", "qcow2", "-o", opts, ctx.src]
    v, q = compare_pair(runner, ctx.args.runs, [ctx.vdisk, *into, "out.qcow2"],
                        ["qemu-img", *into, "out.qcow2"], output="out.qcow2", cold=cold)
    remove(runner.workdir / "out.qcow2")
    remove(runner.workdir / "enc.qcow2")
    ok = runner.timed([ctx.vdisk, *into, "enc.qcow2"], cold=False) is not None
    ok = ok and runner.check(["qemu-img", "compare", *sec, "--image-opts", enc_opts,
                              f"driver=raw,file.filename={ctx.src}"])
    ok = ok and runner.check(["qemu-img", "check", *sec, "--image-opts", enc_opts])
    rows = [with_floor(row("convert raw -> qcow2+luks", v, q, "ok" if ok else "FAILED", "disk"),
                       "cp --sparse=always", cp_floor_s(ctx, "disk"))]
    print("- convert qcow2+luks -> raw (disk)", flush=True)
    out = ["convert", *sec, "--image-opts", enc_opts, "-O", "raw", "out.raw"]
    v, q = compare_pair(runner, ctx.args.runs, [ctx.vdisk, *out], ["qemu-img", *out],
                        output="out.raw", cold=cold)
    ok = runner.timed([ctx.vdisk, *out], cold=False) is not None
    ok = ok and runner.check(["cmp", ctx.src, "out.raw"])
    remove(runner.workdir / "out.raw")
    ctx.floors.pop(("disk", "enc.qcow2"), None)   # this run's image, not another's
    floor = cp_floor_s(ctx, "disk", "enc.qcow2")
    remove(runner.workdir / "enc.qcow2")
    rows.append(with_floor(row("convert qcow2+luks -> raw", v, q, "ok" if ok else "FAILED", "disk"),
                           "cp --sparse=always", floor))
    return rows


def is_prime(n):
    if n < 2 or n % 2 == 0:
        return n == 2
    i = 3
    while i * i <= n:
        if n % i == 0:
            return False
        i += 2
    return True


def scatter_step(image_bytes, block=4096):
    """A prime number of blocks near size / phi^2, as bytes (<= INT_MAX):
    request k at k * step modulo the size visits every block once per cycle
    in a scattered order (qemu-img bench has no random mode)."""
    blocks = image_bytes // block
    p = max(3, int(blocks * 0.381966))
    while not is_prime(p) or p * block > 0x7fffffff:
        p = p - 1 if p * block > 0x7fffffff else p + 1
    return p * block


def completed_seconds(stdout, fallback):
    import re
    m = re.search(r"[Cc]ompleted in ([0-9.]+) seconds", stdout or "")
    return float(m.group(1)) if m else fallback


def io(ctx):
    """bench against qemu-img bench: 4 KiB requests, depth 32, O_DIRECT, on
    a preallocated qcow2 on disk; reads and writes, sequential and scattered.
    ratio: qemu-img's time per request over vdisk's, inverted so that below
    1 is vdisk faster as everywhere else; iops_ratio is vdisk / qemu-img."""
    runner = ctx.runner("disk")
    img = "bench.qcow2"
    print(f"- preparing {img} ({ctx.args.bench_size}, qcow2, preallocation=full)", flush=True)
    if not runner.check(["qemu-img", "create", "-q", "-f", "qcow2", "-o", "preallocation=full",
                         img, ctx.args.bench_size]):
        return []
    size = int(json.loads(subprocess.run(["qemu-img", "info", "--output", "json", img],
                                         cwd=runner.workdir, capture_output=True,
                                         text=True).stdout)["virtual-size"])
    step = scatter_step(size)
    rows = []
    for write in (False, True):
        for order, extra in (("sequential", []), ("scattered", ["-S", str(step)])):
            name = f"bench {'write' if write else 'read'} {order}"
            print(f"- {name} (disk)", flush=True)
            common = ["-f", "qcow2", "-t", "none", "-d", "32", "-s", "4k",
                      "-c", str(ctx.args.count), *extra, *(["-w"] if write else [])]
            v, q = compare_pair(runner, ctx.args.runs, [ctx.vdisk, "bench", *common, img],
                                ["qemu-img", "bench", *common, img], cold=False)

            def iops(results):
                vals = [ctx.args.count / completed_seconds(r[2], r[0]) for r in results if r]
                return statistics.median(vals) if vals else None
            r = row(name, v, q, "-", "disk")
            vi, qi = iops(v), iops(q)
            r.update(vdisk_iops=vi, qemu_iops=qi, iops_ratio=vi / qi if vi and qi else None,
                     ratio=qi / vi if vi and qi else None, step=step if extra else 4096)
            rows.append(r)
    remove(runner.workdir / img)
    return rows


def snapshot(ctx):
    import bench_snapshot
    return [dict(r, where="disk") for r in
            bench_snapshot.bench_snapshot(ctx.runner("disk"), ctx.args, ctx.vdisk)]


SECTIONS = {
    "convert": convert, "compress": compress, "create": create, "pool": pool, "info": info,
    "encrypt": encrypt, "bench": io, "snapshot": snapshot,
}
