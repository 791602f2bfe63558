"""Compressed convert: vdisk-virsh convert -c against qemu-img convert -c.

    /usr/bin/python3 bench/compress.py [--quick] [--runs N] [--dir DIR] [--types zlib,zstd]

The input is the benchmark image of bench/gen_input.py (2 GiB, 1 MiB runs of
random data, written zeros and holes; --quick: 256 MiB).  Compression is CPU
work, so by default everything runs in a directory on /dev/shm (tmpfs): the
disk of a shared machine would only add noise.  Both tools run --runs times,
alternating; the table gives medians of wall-clock time, of CPU time (user +
sys) and of peak RSS (from /usr/bin/time), the ratios vdisk / qemu-img (below
1: vdisk is faster or cheaper) and the ratio of the output sizes (1.0000: as
compact as qemu-img).  On a loaded machine read the CPU ratio too: the
scheduler favours qemu-img's sleep/wake pattern (main thread and one
compression thread taking turns) over busy worker threads.
vdisk's output is checked once, outside the timing: qemu-img check,
qemu-img compare with the source, and compared byte for byte with qemu-img's.

qemu-img convert -c compresses one cluster at a time inside its in-order
write; vdisk compresses in its copy workers and only the stores are ordered.
"""
import argparse
import filecmp
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
from bench import Runner, median_of, remove, rss  # noqa: E402


def timed(runner, argv):
    """(wall seconds, peak RSS KiB, CPU seconds user+sys) of one run, or None."""
    rfile = runner.workdir / "time.out"
    t0 = time.perf_counter()
    p = subprocess.run(["/usr/bin/time", "-f", "%M %U %S", "-o", str(rfile), *argv],
                       cwd=runner.workdir, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if p.returncode != 0:
        runner.failures.append(f"{' '.join(argv)}: exit {p.returncode}: {p.stderr.strip()[-300:]}")
        return None
    m, u, s = rfile.read_text().split()[-3:]
    return wall, int(m), float(u) + float(s)


def bench_compress(runner, args, src):
    rows = []
    for ctype in args.types.split(","):
        name = f"convert -c raw->qcow2 {ctype}"
        print(f"- {name}", flush=True)
        dst = f"out-{ctype}.qcow2"
        opt = ["-o", f"compression_type={ctype}"]
        vdisk_argv = [args.vdisk, "convert", "-c", "-f", "raw", "-O", "qcow2", *opt, src, dst]
        qemu_argv = ["qemu-img", "convert", "-c", "-f", "raw", "-O", "qcow2", *opt, src, dst]
        v, q = [], []
        for _ in range(args.runs):
            for argv, res in ((vdisk_argv, v), (qemu_argv, q)):
                remove(runner.workdir / dst)
                res.append(timed(runner, argv))
        qemu_out = runner.workdir / f"qemu-{dst}"   # the last run was qemu-img's
        (runner.workdir / dst).rename(qemu_out)
        qemu_size = qemu_out.stat().st_size
        ok = timed(runner, vdisk_argv) is not None
        ok = ok and runner.check(["qemu-img", "check", "-f", "qcow2", dst])
        ok = ok and runner.check(["qemu-img", "compare", "-f", "raw", "-F", "qcow2", src, dst])
        vdisk_size = (runner.workdir / dst).stat().st_size if ok else None
        same = ok and filecmp.cmp(runner.workdir / dst, qemu_out, shallow=False)
        remove(runner.workdir / dst)
        remove(qemu_out)
        vt, qt, vc, qc = median_of(v, 0), median_of(q, 0), median_of(v, 2), median_of(q, 2)
        rows.append({
            "case": name, "vdisk_s": vt, "qemu_s": qt,
            "ratio": vt / qt if vt and qt else None,
            "vdisk_cpu_s": vc, "qemu_cpu_s": qc,
            "cpu_ratio": vc / qc if vc and qc else None,
            "vdisk_rss_kib": median_of(v, 1), "qemu_rss_kib": median_of(q, 1),
            "size_ratio": vdisk_size / qemu_size if vdisk_size and qemu_size else None,
            "check": "ok" if ok else "FAILED",
            "identical": same,
        })
    return rows


def fmt(v, spec):
    return "n/a" if v is None else format(v, spec)


def table(rows, header):
    lines = [header, "",
             "| case | vdisk s | qemu-img s | ratio vdisk/qemu-img | CPU s vdisk / qemu-img | "
             "CPU ratio | vdisk RSS MiB | qemu-img RSS MiB | size vdisk/qemu-img | output check | "
             "same bytes as qemu-img |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---|"]
    for r in rows:
        lines.append(f"| {r['case']} | {fmt(r['vdisk_s'], '.2f')} | {fmt(r['qemu_s'], '.2f')} | "
                     f"{fmt(r['ratio'], '.2f')} | {fmt(r['vdisk_cpu_s'], '.1f')} / "
                     f"{fmt(r['qemu_cpu_s'], '.1f')} | {fmt(r['cpu_ratio'], '.2f')} | "
                     f"{rss(r['vdisk_rss_kib'])} | {rss(r['qemu_rss_kib'])} | "
                     f"{fmt(r['size_ratio'], '.4f')} | {r['check']} | "
                     f"{'yes' if r['identical'] else 'no'} |")
    return "\n".join(lines)


def parse_args(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="256 MiB input, one run")
    ap.add_argument("--runs", type=int, help="runs per tool and case (default 3; 1 with --quick)")
    ap.add_argument("--types", default="zlib,zstd", help="compression types to run")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--dir", default="/dev/shm/vdisk-bench-compress",
                    help="work directory (tmpfs by default; removed afterwards)")
    ap.add_argument("--out", default=str(HERE / "out"), help="where compress.md/json go")
    ap.add_argument("--vdisk", default=str(REPO / "build" / "tools" / "vdisk-virsh"))
    args = ap.parse_args(argv)
    args.runs = args.runs or (1 if args.quick else 3)
    args.input_mib = 256 if args.quick else 2048
    args.vdisk = str(Path(args.vdisk).resolve())
    return args


def main(argv):
    args = parse_args(argv)
    for tool in (args.vdisk, shutil.which("qemu-img"), "/usr/bin/time"):
        if not tool or not os.access(tool, os.X_OK):
            sys.exit(f"bench: {tool or 'qemu-img'} is missing")
    work = Path(args.dir)
    work.mkdir(parents=True, exist_ok=True)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    started = time.time()
    src = f"in-{args.input_mib}M-seed{args.seed}.raw"
    try:
        if not (work / src).exists():
            print(f"- generating {src}", flush=True)
            gen_input.main(["gen_input.py", str(work / src), str(args.input_mib), str(args.seed)])
        runner = Runner(work)
        rows = bench_compress(runner, args, src)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    qemu_version = subprocess.run(["qemu-img", "--version"], capture_output=True,
                                  text=True).stdout.splitlines()[0]
    load = os.getloadavg()[0]
    header = (f"compressed convert, vdisk vs {qemu_version}; median of {args.runs} run(s); "
              f"{os.cpu_count()} CPUs (load {load:.1f} at the end); input {args.input_mib} MiB raw "
              f"(seed {args.seed}) on {args.dir}; took {time.time() - started:.0f} s")
    text = table(rows, header)
    print("\n" + text)
    (out / "compress.md").write_text(text + "\n")
    (out / "compress.json").write_text(json.dumps(
        {"header": header, "rows": rows, "failures": runner.failures}, indent=2) + "\n")
    return 1 if runner.failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
