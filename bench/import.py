"""Importing other hypervisors' disks into qcow2: vdisk-virsh convert against
qemu-img convert, on the same source file, in the same run.

    /usr/bin/python3 bench/import.py [--quick] [--runs N] [--only CASE,...] [--out DIR]

The source is bench/gen_input.py's image (1 GiB, fixed seed: 1 MiB runs of
random data 45%, written zeros 10%, holes 45%; --quick: 256 MiB), turned
into each case's format by qemu-img once, untimed.  Each case converts it
to qcow2 with both tools, alternating, --runs times (default 3); each run
starts from a dropped page cache and ends with the target made durable
(as bench.Runner.timed).  The table: medians of wall-clock and CPU time
(user + sys), their ratios vdisk / qemu-img (below 1: vdisk is faster or
cheaper) and peak RSS (/usr/bin/time).  On a shared machine the CPU ratio
is the steadier one: wall time there is mostly waiting for a core.  vdisk's output is
checked once, outside the timing, against the raw input (qemu-img compare)
and with qemu-img check.  Results: OUT/import.md and OUT/import.json.

A new case is one line in CASES: its name, and how qemu-img makes the
source (-O format, -o options).
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
import gen_input  # noqa: E402
from bench import Runner, drop_caches, fmt, median_of, remove, rss  # noqa: E402

# name: (qemu-img -O format, -o options)
CASES = {
    "vmdk-streamOptimized": ("vmdk", "subformat=streamOptimized"),
    "vmdk-monolithicSparse": ("vmdk", "subformat=monolithicSparse"),
    "vhdx-dynamic": ("vhdx", "subformat=dynamic"),
    "vpc-dynamic": ("vpc", "subformat=dynamic"),
}


def make_source(runner, raw, name, fmt, opts):
    """The case's source file, made by qemu-img from the raw input."""
    src = f"src-{name}.{fmt}"
    if not (runner.workdir / src).exists():
        print(f"- making {src}", flush=True)
        subprocess.run(["qemu-img", "convert", "-f", "raw", "-O", fmt, "-o", opts, raw, src],
                       cwd=runner.workdir, check=True)
    return src


def timed(runner, argv, durable):
    """(wall s, peak RSS KiB, CPU s) of one run from a cold page cache, the
    output made durable (`sync FILE`) within the wall time; None on failure."""
    out = runner.workdir / "time.out"
    drop_caches()
    subprocess.run([argv[0], "--version"], capture_output=True)   # a warm program
    t0 = time.perf_counter()
    p = subprocess.run(["/usr/bin/time", "-f", "%M %U %S", "-o", str(out), *argv],
                       cwd=runner.workdir, capture_output=True, text=True)
    if p.returncode == 0:
        subprocess.run(["sync", durable], cwd=runner.workdir, check=True)
    wall = time.perf_counter() - t0
    if p.returncode != 0:
        runner.failures.append(f"{' '.join(argv)}: exit {p.returncode}: {p.stderr.strip()[-300:]}")
        return None
    m, u, s = out.read_text().split()[-3:]
    return wall, int(m), float(u) + float(s)


def ratio(a, b):
    return a / b if a is not None and b else None


def bench_case(runner, args, raw, name):
    fmt, opts = CASES[name]
    src = make_source(runner, raw, name, fmt, opts)
    dst = f"out-{name}.qcow2"
    print(f"- import {name} -> qcow2", flush=True)
    common = ["convert", "-f", fmt, "-O", "qcow2", src, dst]
    v, q = [], []
    for _ in range(args.runs):
        for argv, res in (([args.vdisk, *common], v), (["qemu-img", *common], q)):
            remove(runner.workdir / dst)
            res.append(timed(runner, argv, dst))
    remove(runner.workdir / dst)
    ok = timed(runner, [args.vdisk, *common], dst) is not None
    ok = ok and runner.check(["qemu-img", "check", dst])
    ok = ok and runner.check(["qemu-img", "compare", "-f", "raw", "-F", "qcow2", raw, dst])
    remove(runner.workdir / dst)
    vt, qt, vc, qc = median_of(v, 0), median_of(q, 0), median_of(v, 2), median_of(q, 2)
    return {"case": f"import {name} -> qcow2", "vdisk_s": vt, "qemu_s": qt, "ratio": ratio(vt, qt),
            "vdisk_cpu_s": vc, "qemu_cpu_s": qc, "cpu_ratio": ratio(vc, qc),
            "vdisk_rss_kib": median_of(v, 1), "qemu_rss_kib": median_of(q, 1),
            "check": "ok" if ok else "FAILED"}


def write_table(out_dir, header, rows, failures):
    lines = [header, "",
             "| case | vdisk s | qemu-img s | ratio | CPU s vdisk / qemu-img | CPU ratio | "
             "RSS MiB vdisk / qemu-img | check |",
             "|---|---:|---:|---:|---:|---:|---:|---|"]
    for r in rows:
        lines.append(f"| {r['case']} | {fmt(r['vdisk_s'], '.3f')} | {fmt(r['qemu_s'], '.3f')} | "
                     f"{fmt(r['ratio'], '.2f')} | {fmt(r['vdisk_cpu_s'], '.2f')} / "
                     f"{fmt(r['qemu_cpu_s'], '.2f')} | {fmt(r['cpu_ratio'], '.2f')} | "
                     f"{rss(r['vdisk_rss_kib'])} / {rss(r['qemu_rss_kib'])} | {r['check']} |")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "import.md").write_text("\n".join(lines) + "\n")
    (out / "import.json").write_text(json.dumps({"header": header, "rows": rows,
                                                 "failures": failures}, indent=2) + "\n")
    print("\n".join(lines))


def parse_args(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="256 MiB and one run: a sanity check")
    ap.add_argument("--runs", type=int, help="runs per tool and case (default 3; 1 with --quick)")
    ap.add_argument("--only", default=",".join(CASES), help="comma-separated cases: " + ", ".join(CASES))
    ap.add_argument("--seed", type=int, default=1, help="seed of the generated input")
    ap.add_argument("--out", default=str(HERE / "out"), help="output directory")
    ap.add_argument("--vdisk", default=str(REPO / "build" / "tools" / "vdisk-virsh"))
    args = ap.parse_args(argv)
    args.runs = args.runs or (1 if args.quick else 3)
    args.input_mib = 256 if args.quick else 1024
    unknown = set(args.only.split(",")) - set(CASES)
    if unknown:
        ap.error(f"unknown case(s): {', '.join(sorted(unknown))}")
    return args


def main(argv):
    args = parse_args(argv)
    args.vdisk = str(Path(args.vdisk).resolve())
    for tool in (args.vdisk, shutil.which("qemu-img"), "/usr/bin/time"):
        if not tool or not os.access(tool, os.X_OK):
            sys.exit(f"import: {tool or 'qemu-img'} is missing")
    work = Path(args.out) / "work"
    work.mkdir(parents=True, exist_ok=True)
    runner = Runner(work)
    started = time.time()
    raw = f"in-{args.input_mib}M-seed{args.seed}.raw"
    if not (work / raw).exists():
        print(f"- generating {raw}", flush=True)
        gen_input.main(["gen_input.py", str(work / raw), str(args.input_mib), str(args.seed)])
    rows = [bench_case(runner, args, raw, name) for name in args.only.split(",")]
    qemu = subprocess.run(["qemu-img", "--version"], capture_output=True, text=True).stdout.split("\n")[0]
    header = (f"import into qcow2: vdisk vs {qemu}; median of {args.runs} run(s); "
              f"{os.cpu_count()} CPUs; input {args.input_mib} MiB (seed {args.seed}); "
              f"took {time.time() - started:.0f} s")
    write_table(args.out, header, rows, runner.failures)
    if runner.failures:
        print(f"\n{len(runner.failures)} failure(s):", *runner.failures, sep="\n  ")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
