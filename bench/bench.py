"""vdisk-virsh against qemu-img on the same generated input.

Run through bench/run.sh (which installs and builds first):

    bench/run.sh [--quick] [--runs N] [--only convert,create,bench,snapshot,encrypt,pools]

For every case both tools run N times, alternating, each run timed from
outside (wall clock, from a dropped page cache where the kernel allows, up to
the output being durable: `sync FILE` after the command, since qemu-img
convert leaves its target unflushed by default) with its peak RSS from
/usr/bin/time; the table shows
medians and the ratio vdisk / qemu-img (below 1: vdisk is faster).  For the
I/O benchmark (`bench`, 4 KiB requests, queue depth 32, O_DIRECT) the table
shows IOPS and the ratio vdisk / qemu-img (above 1: vdisk is faster).

Random offsets: `qemu-img bench` has no random mode; it issues request k at
offset (k * step) mod image size.  With the step a prime number of 4 KiB
blocks close to size / golden-ratio^2, every block is visited once per cycle
in a scattered order (a Weyl sequence) - the closest equivalent qemu-img
offers, and vdisk-virsh bench takes the same -S.

Outputs of converts are checked (qemu-img compare / check) once, outside the
timing: a fast wrong answer is not a result.  Results: bench/out/results.md
and results.json.
"""
import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
import gen_input  # noqa: E402

MiB = 1 << 20


def drop_caches():
    """Start every timed run with a cold page cache, where we may."""
    os.sync()
    try:
        with open("/proc/sys/vm/drop_caches", "w") as f:
            f.write("3\n")
    except OSError:
        pass


def remove(path):
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


class Runner:
    def __init__(self, workdir):
        self.workdir = workdir
        self.failures = []

    def timed(self, argv, durable=None):
        """Run argv once; return (seconds, peak RSS in KiB, stdout) or None.
        With durable (a file the command wrote), the time includes making
        that file durable (`sync FILE`): qemu-img convert does not flush its
        target by default (cache=unsafe), and a tool must not win by leaving
        its writes in the page cache."""
        with tempfile.NamedTemporaryFile("r", dir=self.workdir, suffix=".rss") as rss:
            drop_caches()
            # Cold data, warm program: load the tool and its libraries back
            # into the cache, or create would mostly time the dynamic loader.
            subprocess.run([argv[0], "--version"], capture_output=True)
            t0 = time.perf_counter()
            p = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", rss.name, *argv],
                               cwd=self.workdir, capture_output=True, text=True)
            if p.returncode == 0 and durable:
                subprocess.run(["sync", durable], cwd=self.workdir, check=True)
            elapsed = time.perf_counter() - t0
            if p.returncode != 0:
                msg = f"{' '.join(argv)}: exit {p.returncode}: {(p.stderr or p.stdout).strip()[-500:]}"
                self.failures.append(msg)
                print("  FAILED " + msg, file=sys.stderr)
                return None
            text = rss.read().strip().splitlines()
            return elapsed, int(text[-1]) if text else 0, p.stdout

    def check(self, argv):
        """An untimed verification command; True when it exits 0."""
        p = subprocess.run(argv, cwd=self.workdir, capture_output=True, text=True)
        if p.returncode != 0:
            self.failures.append(f"check {' '.join(argv)}: exit {p.returncode}: "
                                 f"{(p.stdout + p.stderr).strip()[-500:]}")
        return p.returncode == 0


def median_of(results, index):
    vals = [r[index] for r in results if r is not None]
    return statistics.median(vals) if vals else None


def compare_pair(runner, runs, vdisk_argv, qemu_argv, output=None):
    """Alternate the two tools runs times; return their result lists.  output:
    the file both write, removed before each run and synced within it."""
    v, q = [], []
    for _ in range(runs):
        for argv, out in ((vdisk_argv, v), (qemu_argv, q)):
            if output:
                remove(runner.workdir / output)
            out.append(runner.timed(argv, durable=output))
    return v, q


def row(name, v, q, check="-"):
    vt, qt = median_of(v, 0), median_of(q, 0)
    return {
        "case": name,
        "vdisk_s": vt, "qemu_s": qt,
        "ratio": vt / qt if vt is not None and qt else None,
        "vdisk_rss_kib": median_of(v, 1), "qemu_rss_kib": median_of(q, 1),
        "check": check,
    }


def bench_convert(runner, args, vdisk, src_raw, src_qcow2):
    rows = []
    cases = [
        ("convert raw->qcow2", "raw", src_raw, "qcow2"),
        ("convert qcow2->raw", "qcow2", src_qcow2, "raw"),
        ("convert qcow2->qcow2", "qcow2", src_qcow2, "qcow2"),
    ]
    for name, fmt, src, ofmt in cases:
        print(f"- {name}", flush=True)
        dst = f"out.{ofmt}"
        v, q = compare_pair(runner, args.runs,
                            [vdisk, "convert", "-f", fmt, "-O", ofmt, src, dst],
                            ["qemu-img", "convert", "-f", fmt, "-O", ofmt, src, dst],
                            output=dst)
        # Verify vdisk's output (the last run was qemu-img's: redo vdisk's).
        remove(runner.workdir / dst)
        ok = runner.timed([vdisk, "convert", "-f", fmt, "-O", ofmt, src, dst]) is not None
        ok = ok and runner.check(["qemu-img", "compare", "-f", fmt, "-F", ofmt, src, dst])
        if ofmt == "qcow2":
            ok = ok and runner.check(["qemu-img", "check", "-f", "qcow2", dst])
        remove(runner.workdir / dst)
        rows.append(row(name, v, q, "ok" if ok else "FAILED"))
    return rows


def bench_encrypt(runner, args, vdisk, src_raw):
    """Encryption section: sequential convert into a LUKS-encrypted qcow2
    and back out to raw, both tools with the same passphrase (a secret
    object) and a 10 ms PBKDF2 time, so the data path is what is timed."""
    (runner.workdir / "bench.pw").write_bytes(b"bench passphrase")
    sec = ["--object", "secret,id=sec0,file=bench.pw"]
    opts = "encrypt.format=luks,encrypt.key-secret=sec0,encrypt.iter-time=10"
    enc_opts = "driver=qcow2,file.filename=enc.qcow2,encrypt.key-secret=sec0"
    rows = []
    print("- encrypt: convert raw->qcow2 (luks)", flush=True)
    v, q = compare_pair(runner, args.runs,
                        [vdisk, "convert", *sec, "-f", "raw", "-O", "qcow2", "-o", opts, src_raw, "out.qcow2"],
                        ["qemu-img", "convert", *sec, "-f", "raw", "-O", "qcow2", "-o", opts, src_raw,
                         "out.qcow2"], output="out.qcow2")
    remove(runner.workdir / "enc.qcow2")
    ok = runner.timed([vdisk, "convert", *sec, "-f", "raw", "-O", "qcow2", "-o", opts, src_raw,
                       "enc.qcow2"]) is not None
    ok = ok and runner.check(["qemu-img", "compare", *sec, "--image-opts", enc_opts,
                              f"driver=raw,file.filename={src_raw}"])
    ok = ok and runner.check(["qemu-img", "check", *sec, "--image-opts", enc_opts])
    remove(runner.workdir / "out.qcow2")
    rows.append(row("convert raw->qcow2+luks", v, q, "ok" if ok else "FAILED"))
    print("- encrypt: convert qcow2 (luks)->raw", flush=True)
    v, q = compare_pair(runner, args.runs,
                        [vdisk, "convert", *sec, "--image-opts", "-O", "raw", enc_opts, "out.raw"],
                        ["qemu-img", "convert", *sec, "--image-opts", enc_opts, "-O", "raw", "out.raw"],
                        output="out.raw")
    ok = runner.timed([vdisk, "convert", *sec, "--image-opts", "-O", "raw", enc_opts, "out.raw"]) is not None
    ok = ok and runner.check(["cmp", src_raw, "out.raw"])
    remove(runner.workdir / "out.raw")
    remove(runner.workdir / "enc.qcow2")
    rows.append(row("convert qcow2+luks->raw", v, q, "ok" if ok else "FAILED"))
    return rows


def bench_create(runner, args, vdisk):
    rows = []
    modes = [("raw", m) for m in ("off", "falloc", "full")] + \
            [("qcow2", m) for m in ("off", "metadata", "falloc", "full")]
    for fmt, mode in modes:
        name = f"create {fmt} {args.create_size} {mode}"
        print(f"- {name}", flush=True)
        dst = f"new.{fmt}"
        opt = f"preallocation={mode}"
        v, q = compare_pair(runner, args.runs,
                            [vdisk, "create", "-f", fmt, "-o", opt, dst, args.create_size],
                            ["qemu-img", "create", "-q", "-f", fmt, "-o", opt, dst, args.create_size],
                            output=dst)
        remove(runner.workdir / dst)
        ok = runner.timed([vdisk, "create", "-f", fmt, "-o", opt, dst, args.create_size]) is not None
        if ok and fmt == "qcow2":
            ok = runner.check(["qemu-img", "check", "-f", "qcow2", dst])
        remove(runner.workdir / dst)
        rows.append(row(name, v, q, "ok" if ok else "FAILED"))
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
    """A prime number of blocks near size / phi^2, as bytes (<= INT_MAX)."""
    blocks = image_bytes // block
    p = max(3, int(blocks * 0.381966))
    while not is_prime(p) or p * block > 0x7fffffff:
        p = p - 1 if p * block > 0x7fffffff else p + 1
    return p * block


def completed_seconds(stdout, fallback):
    m = re.search(r"[Cc]ompleted in ([0-9.]+) seconds", stdout or "")
    return float(m.group(1)) if m else fallback


def bench_io(runner, args, vdisk):
    img = "bench.qcow2"
    print(f"- preparing {img} ({args.bench_size}, qcow2, preallocation=full)", flush=True)
    if not runner.check(["qemu-img", "create", "-q", "-f", "qcow2", "-o", "preallocation=full",
                         img, args.bench_size]):
        return []
    size = int(json.loads(subprocess.run(["qemu-img", "info", "--output", "json", img],
                                         cwd=runner.workdir, capture_output=True,
                                         text=True).stdout)["virtual-size"])
    step = scatter_step(size)
    rows = []
    for write in (False, True):
        for order, extra in (("sequential", []), ("scattered", ["-S", str(step)])):
            name = f"bench {'write' if write else 'read'} {order}"
            print(f"- {name}", flush=True)
            common = ["-f", "qcow2", "-t", "none", "-d", "32", "-s", "4k",
                      "-c", str(args.count), *extra, *(["-w"] if write else [])]
            v, q = compare_pair(runner, args.runs, [vdisk, "bench", *common, img],
                                ["qemu-img", "bench", *common, img])

            def iops(results):
                vals = [args.count / completed_seconds(r[2], r[0]) for r in results if r]
                return statistics.median(vals) if vals else None
            vi, qi = iops(v), iops(q)
            rows.append({
                "case": name, "vdisk_iops": vi, "qemu_iops": qi,
                "ratio": vi / qi if vi and qi else None,
                "vdisk_rss_kib": median_of(v, 1), "qemu_rss_kib": median_of(q, 1),
                "step": step if extra else 4096,
            })
    remove(runner.workdir / img)
    return rows


def fmt(v, spec):
    return "n/a" if v is None else format(v, spec)


def rss(kib):
    return "n/a" if kib is None else f"{kib / 1024:.1f}"


def half_allocated_qcow2(path, size_gib):
    """qcow2, 64 KiB clusters, size_gib GiB virtual with the first half's
    metadata preallocated (every refcount block real), for check and amend."""
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", "-o",
                    "cluster_size=64k,preallocation=metadata", path, f"{size_gib // 2}G"],
                   check=True)
    subprocess.run(["qemu-img", "resize", "-q", path, f"{size_gib}G"], check=True)
    return path


def write_rows(out_dir, name, rows, data):
    """The rows of row() as a Markdown table, printed and written to
    OUT/NAME.md; data (the rows, or one row) as OUT/NAME.json."""
    lines = ["| case | vdisk s | qemu-img s | ratio | vdisk RSS | qemu-img RSS | check |",
             "|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['case']} | {fmt(r['vdisk_s'], '.3f')} | {fmt(r['qemu_s'], '.3f')} | "
                     f"{fmt(r['ratio'], '.2f')} | {rss(r['vdisk_rss_kib'])} | "
                     f"{rss(r['qemu_rss_kib'])} | {r['check']} |")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{name}.md").write_text("\n".join(lines) + "\n")
    (out / f"{name}.json").write_text(json.dumps(data, indent=2) + "\n")
    print("\n".join(lines))


def tables(conv_rows, io_rows, header):
    lines = [header, ""]
    if conv_rows:
        lines += ["| case | vdisk s | qemu-img s | ratio vdisk/qemu-img | vdisk RSS MiB | qemu-img RSS MiB | output check |",
                  "|---|---:|---:|---:|---:|---:|---|"]
        for r in conv_rows:
            lines.append(f"| {r['case']} | {fmt(r['vdisk_s'], '.3f')} | {fmt(r['qemu_s'], '.3f')} | "
                         f"{fmt(r['ratio'], '.2f')} | {rss(r['vdisk_rss_kib'])} | "
                         f"{rss(r['qemu_rss_kib'])} | {r['check']} |")
        lines.append("")
    if io_rows:
        lines += ["| case (4 KiB, depth 32, -t none) | vdisk IOPS | qemu-img IOPS | IOPS ratio vdisk/qemu-img | vdisk RSS MiB | qemu-img RSS MiB |",
                  "|---|---:|---:|---:|---:|---:|"]
        for r in io_rows:
            lines.append(f"| {r['case']} | {fmt(r['vdisk_iops'], '.0f')} | {fmt(r['qemu_iops'], '.0f')} | "
                         f"{fmt(r['ratio'], '.2f')} | {rss(r['vdisk_rss_kib'])} | {rss(r['qemu_rss_kib'])} |")
        lines.append("")
        lines.append(f"Scattered offsets: -S {io_rows[-1]['step']} (a prime number of 4 KiB blocks; "
                     "qemu-img bench has no random mode).")
    return "\n".join(lines)


def parse_args(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true",
                    help="small sizes and one run: a sanity check, not a measurement")
    ap.add_argument("--runs", type=int, help="runs per tool and case (default 3; 1 with --quick)")
    ap.add_argument("--only", default="convert,create,bench,snapshot,encrypt,pools",
                    help="comma-separated subset of convert,create,bench,snapshot,encrypt,pools")
    ap.add_argument("--seed", type=int, default=1, help="seed of the generated input")
    ap.add_argument("--out", default=str(HERE / "out"), help="output directory")
    ap.add_argument("--vdisk", default=str(REPO / "build" / "tools" / "vdisk-virsh"))
    args = ap.parse_args(argv)
    args.runs = args.runs or (1 if args.quick else 3)
    args.input_mib = 256 if args.quick else 2048
    args.create_size = "256M" if args.quick else "2G"
    args.bench_size = "512M" if args.quick else "4G"
    args.count = 5000 if args.quick else 50000
    return args


def main(argv):
    args = parse_args(argv)
    args.vdisk = str(Path(args.vdisk).resolve())   # the runs change directory
    out = Path(args.out)
    work = out / "work"
    work.mkdir(parents=True, exist_ok=True)
    for tool in (args.vdisk, shutil.which("qemu-img"), "/usr/bin/time"):
        if not tool or not os.access(tool, os.X_OK):
            sys.exit(f"bench: {tool or 'qemu-img'} is missing")
    runner = Runner(work)
    only = set(args.only.split(","))
    started = time.time()

    conv_rows, io_rows = [], []
    src_raw = f"in-{args.input_mib}M-seed{args.seed}.raw"
    if ("convert" in only or "encrypt" in only) and not (work / src_raw).exists():
        print(f"- generating {src_raw}", flush=True)
        gen_input.main(["gen_input.py", str(work / src_raw), str(args.input_mib), str(args.seed)])
    if "convert" in only:
        src_qcow2 = "in.qcow2"
        runner.check(["qemu-img", "convert", "-f", "raw", "-O", "qcow2", src_raw, src_qcow2])
        conv_rows += bench_convert(runner, args, args.vdisk, src_raw, src_qcow2)
        remove(work / src_qcow2)
    if "encrypt" in only:
        conv_rows += bench_encrypt(runner, args, args.vdisk, src_raw)
    if "create" in only:
        conv_rows += bench_create(runner, args, args.vdisk)
    if "bench" in only:
        io_rows = bench_io(runner, args, args.vdisk)
    if "snapshot" in only:
        import bench_snapshot   # noqa: E402 (snapshot create/apply, 1 GiB of data)
        conv_rows += bench_snapshot.bench_snapshot(runner, args, args.vdisk)
    if "pools" in only:   # bench/pools.py: embedded pools (own table; no peer yet)
        import pools
        pools.main(["--vdisk", args.vdisk, "--runs", str(args.runs)] +
                   (["--volumes", "200", "--creates", "5"] if args.quick else []))

    qemu_version = subprocess.run(["qemu-img", "--version"], capture_output=True,
                                  text=True).stdout.splitlines()[0]
    header = (f"vdisk vs {qemu_version}; {'quick, ' if args.quick else ''}"
              f"median of {args.runs} run(s); {os.cpu_count()} CPUs; "
              f"input {args.input_mib} MiB raw (seed {args.seed}); "
              f"took {time.time() - started:.0f} s")
    text = tables(conv_rows, io_rows, header)
    print("\n" + text)
    (out / "results.md").write_text(text + "\n")
    (out / "results.json").write_text(json.dumps(
        {"header": header, "rows": conv_rows, "io": io_rows, "failures": runner.failures},
        indent=2) + "\n")
    if runner.failures:
        print(f"\n{len(runner.failures)} failure(s):", *runner.failures, sep="\n  ")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
