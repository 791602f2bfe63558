"""vdisk-virsh against qemu-img on the same generated input, on a quiet and
on a loaded machine, beside the floors no tool can beat.

Run through bench/run.sh (which installs and builds first):

    bench/run.sh [--quick] [--runs N] [--size MIB] [--modes quiet,loaded] [--busy N]
                 [--only convert,compress,create,pool,info,encrypt,bench,snapshot]

Every case runs both tools N times, alternating, each run timed from outside
(harness.py: wall clock up to the output being durable, CPU time, peak RSS),
from a dropped page cache on disk.  The ratio quoted is the median of the
per-pair ratios vdisk / qemu-img (below 1: vdisk is faster).  Each case runs
twice: quiet (no load of the benchmark's own) and loaded (--busy processes
spinning on the CPU in a session of their own, as other users' builds on a
shared host).  Convert cases run on disk (bench/out/work) and on tmpfs
(/dev/shm), beside `cp --sparse=always` of the same data in the same place;
compressed converts beside the CPU time of compressing every cluster on its
own, over the cores (floors.py).  Outputs are checked (qemu-img compare /
check) outside the timing: a fast wrong answer is not a result.

Results: bench/out/results.md (the table docs/benchmarks.md is made
from), results.json (every figure) and results.png (ratio per case, quiet
and loaded).  The cases are in cases.py.
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
import cases  # noqa: E402
import gen_input  # noqa: E402
import report  # noqa: E402
# The other bench/*.py scripts take these from here.
from harness import (BackgroundLoad, Runner, compare_pair, drop_caches, fs_type,  # noqa: E402,F401
                     loadavg, machine, median_of, remove, row)


def rss(kib):
    return "n/a" if kib is None else f"{kib / 1024:.1f}"


def fmt(v, spec):
    return "n/a" if v is None else format(v, spec)


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
    import json
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


class Context:
    """What the cases need (see cases.py)."""

    def __init__(self, args, disk, tmpfs):
        self.args = args
        self.vdisk = args.vdisk
        self.dirs = {"disk": disk, "tmpfs": tmpfs}
        self.runners = {w: Runner(d) for w, d in self.dirs.items()}
        self.src = f"in-{args.size}M-seed{args.seed}.raw"
        self.src_qcow2 = f"in-{args.size}M-seed{args.seed}.qcow2"
        self.floors = {}   # cases.cp_floor_s's, for the mode running

    def runner(self, where):
        return self.runners[where]

    def cold(self, where):
        return where == "disk"

    def pool_runner(self):
        """A runner on disk with an embedded registry of its own."""
        reg = self.dirs["disk"] / "registry"
        shutil.rmtree(reg, ignore_errors=True)
        shutil.rmtree(self.dirs["disk"] / "pool", ignore_errors=True)
        env = dict(os.environ, VDISK_CONFIG_DIR=str(reg))
        r = Runner(self.dirs["disk"], env=env)
        self.runners["pool"] = r
        return r

    def failures(self):
        return [f for r in self.runners.values() for f in r.failures]

    def prepare_inputs(self):
        """The raw input (generated once, kept between runs) and its qcow2,
        in both directories."""
        disk, tmp = self.dirs["disk"] / self.src, self.dirs["tmpfs"] / self.src
        if not disk.exists():
            print(f"- generating {self.src}", flush=True)
            gen_input.main(["gen_input.py", str(disk), str(self.args.size), str(self.args.seed)])
        subprocess.run(["cp", "--sparse=always", disk, tmp], check=True)
        for d in self.dirs.values():
            if not (d / self.src_qcow2).exists():
                subprocess.run(["qemu-img", "convert", "-f", "raw", "-O", "qcow2", self.src,
                                self.src_qcow2], cwd=d, check=True)


def run_mode(ctx, mode, sections):
    """Every section once, under mode's load; {load_start, load_end, rows}."""
    print(f"== {mode}", flush=True)
    busy = ctx.args.busy if mode == "loaded" else 0
    ctx.floors = {}   # a floor is measured under the mode's own load
    with BackgroundLoad(busy):
        start = loadavg()
        rows = []
        for name in sections:
            rows += cases.SECTIONS[name](ctx)
        end = loadavg()
    return {"load_start": start, "load_end": end, "rows": rows}


def parse_args(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true",
                    help="small sizes and one run: a sanity check, not a measurement")
    ap.add_argument("--runs", type=int, help="runs per tool and case (default 3; 1 with --quick)")
    ap.add_argument("--size", type=int, help="input size in MiB (default 1024; 128 with --quick)")
    ap.add_argument("--modes", default="quiet,loaded", help="quiet, loaded or both (default)")
    ap.add_argument("--busy", type=int, default=2,
                    help="busy processes in the loaded mode (default 2: one per core here)")
    ap.add_argument("--only", default=",".join(cases.SECTIONS),
                    help="comma-separated subset of " + ",".join(cases.SECTIONS))
    ap.add_argument("--types", default="zlib,zstd", help="compression types (compress section)")
    ap.add_argument("--seed", type=int, default=1, help="seed of the generated input")
    ap.add_argument("--out", default=str(HERE / "out"), help="output directory")
    ap.add_argument("--name", default="results", help="results file name in --out (default results)")
    ap.add_argument("--tmpfs", default="/dev/shm", help="a tmpfs directory for the tmpfs cases")
    ap.add_argument("--vdisk", default=str(REPO / "build" / "tools" / "vdisk-virsh"))
    args = ap.parse_args(argv)
    args.runs = args.runs or (1 if args.quick else 3)
    args.size = args.size or (128 if args.quick else 1024)
    args.create_size = "256M" if args.quick else "1G"
    args.bench_size = "512M" if args.quick else "4G"
    args.count = 5000 if args.quick else 50000
    args.vdisk = str(Path(args.vdisk).resolve())
    unknown = set(args.only.split(",")) - set(cases.SECTIONS)
    if unknown:
        ap.error(f"unknown section(s): {', '.join(sorted(unknown))}")
    return args


def main(argv):
    args = parse_args(argv)
    for tool in (args.vdisk, shutil.which("qemu-img")):
        if not tool or not os.access(tool, os.X_OK):
            sys.exit(f"bench: {tool or 'qemu-img'} is missing")
    if fs_type(args.tmpfs) != "tmpfs":
        sys.exit(f"bench: {args.tmpfs} is not a tmpfs (--tmpfs DIR)")
    out = Path(args.out)
    disk = out / "work"
    disk.mkdir(parents=True, exist_ok=True)
    started = time.time()
    sections = [s for s in cases.SECTIONS if s in args.only.split(",")]
    with tempfile.TemporaryDirectory(prefix="vdisk-bench-", dir=args.tmpfs) as tmp:
        ctx = Context(args, disk, Path(tmp))
        ctx.prepare_inputs()
        meta = machine()
        commit = subprocess.run(["git", "-C", str(REPO), "describe", "--always", "--dirty"],
                                capture_output=True, text=True).stdout.strip()
        meta.update(vdisk_commit=commit or "unknown", runs=args.runs, busy=args.busy,
                    input=f"{args.size} MiB raw, bench/gen_input.py seed {args.seed} "
                          "(40% random, 30% text, 10% written zeros, 20% holes)",
                    disk_dir_fs=fs_type(disk), tmpfs_dir=args.tmpfs)
        result = {"meta": meta, "modes": {}}
        for mode in args.modes.split(","):
            result["modes"][mode] = run_mode(ctx, mode, sections)
        failures = ctx.failures()
    meta["took_s"] = round(time.time() - started)
    result["failures"] = failures
    text = report.write(result, out, args.name)
    print("\n" + text)
    if failures:
        print(f"\n{len(failures)} failure(s):", *failures, sep="\n  ")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
