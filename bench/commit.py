"""commit of an overlay into its backing file: vdisk-virsh against qemu-img.

    /usr/bin/python3 bench/commit.py [--size-mib 1024] [--runs 3] [--dir /dev/shm]

(build first: scripts/build.sh.)  Kept apart from bench.py, whose cases it
does not share; like it, each run starts from a dropped page cache and its
time includes syncing the file written.  Wall time, CPU time (user + sys,
from wait4) and peak RSS are reported: on a loaded machine the wall time
mostly measures how much CPU share a process gets.

Input (generated, fixed content): a qcow2 base of SIZE with data in its
first quarter, and a qcow2 overlay of the same size whose every cluster is
allocated (data in 64 MiB stripes of distinct patterns, a few zero
stripes).  Each run starts from fresh copies of both; the two tools
alternate.  Afterwards the bases the two tools wrote are compared (qemu-img
compare) and checked: a fast wrong answer is not a result.  Prints medians
and the ratios vdisk / qemu-img (below 1: vdisk is faster).
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
sys.path.insert(0, str(HERE))
import bench  # noqa: E402

MiB = 1 << 20


def make_input(work, size_mib):
    base, top = work / "pristine-base.qcow2", work / "pristine-top.qcow2"
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", base, f"{size_mib}M"], check=True)
    subprocess.run(["qemu-io", "-c", f"write -P 0x5a 0 {size_mib // 4}M", base],
                   check=True, capture_output=True)
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", "-b", base.name, "-F", "qcow2",
                    top], check=True, cwd=work)
    cmds = []
    for i, off in enumerate(range(0, size_mib, 64)):
        n = min(64, size_mib - off)
        op = f"write -z {off}M {n}M" if i % 7 == 3 else f"write -P {0x10 + i % 200} {off}M {n}M"
        cmds += ["-c", op]
    subprocess.run(["qemu-io", *cmds, top], check=True, capture_output=True)
    return base, top


def timed(argv, durable, failures):
    """(wall seconds, CPU seconds user+sys, peak RSS KiB) of one run, the
    written file synced inside the wall time; None on failure.  CPU time is
    reported too because on a loaded machine wall time mostly measures the
    share of the CPUs a process gets (more threads, more share)."""
    bench.drop_caches()
    t0 = time.perf_counter()
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _, status, ru = os.wait4(p.pid, 0)
    out, errout = p.communicate()
    subprocess.run(["sync", durable], check=True)
    wall = time.perf_counter() - t0
    if os.waitstatus_to_exitcode(status) != 0:
        failures.append(f"{' '.join(map(str, argv))}: {errout.strip()[-300:]}")
        return None
    return wall, ru.ru_utime + ru.ru_stime, ru.ru_maxrss


def run_case(work, tool, argv_of, failures):
    """Fresh copies of the chain under a per-tool name; time the commit."""
    d = work / tool
    d.mkdir(exist_ok=True)
    shutil.copy(work / "pristine-base.qcow2", d / "pristine-base.qcow2")
    shutil.copy(work / "pristine-top.qcow2", d / "top.qcow2")
    return timed(argv_of(d / "top.qcow2"), str(d / "pristine-base.qcow2"), failures)


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--size-mib", type=int, default=1024, help="overlay size (default 1024)")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--dir", default="/dev/shm" if Path("/dev/shm").is_dir() else None,
                    help="work directory (default /dev/shm: tmpfs, CPU comparison)")
    ap.add_argument("--vdisk", default=str(HERE.parent / "build" / "tools" / "vdisk-virsh"))
    args = ap.parse_args(argv)
    failures = []
    with tempfile.TemporaryDirectory(prefix="vdisk-bench-commit-", dir=args.dir) as tmp:
        work = Path(tmp)
        make_input(work, args.size_mib)
        runner = bench.Runner(work)
        v, q = [], []
        for _ in range(args.runs):
            v.append(run_case(work, "v", lambda t: [args.vdisk, "commit", "-q", t], failures))
            q.append(run_case(work, "q", lambda t: ["qemu-img", "commit", "-q", t], failures))
        ok = runner.check(["qemu-img", "compare", "v/pristine-base.qcow2", "q/pristine-base.qcow2"])
        ok = runner.check(["qemu-img", "check", "v/pristine-base.qcow2"]) and ok
        ok = runner.check(["qemu-img", "check", "v/top.qcow2"]) and ok
        failures += runner.failures
    where = args.dir or "the current file system"
    print(f"commit of a {args.size_mib} MiB overlay, median of {args.runs} run(s), in {where}, "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    print("| case | vdisk s | qemu-img s | ratio | vdisk CPU s | qemu-img CPU s | CPU ratio "
          "| vdisk RSS MiB | qemu-img RSS MiB | check |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    m = [bench.median_of(x, i) for x in (v, q) for i in range(3)]
    if None in m:
        print("| commit | failed | | | | | | | | |")
        print(*failures, sep="\n", file=sys.stderr)
        return 1
    vt, vc, vr, qt, qc, qr = m
    print(f"| commit | {vt:.2f} | {qt:.2f} | {vt / qt:.2f} | {vc:.2f} | {qc:.2f} | {vc / qc:.2f} "
          f"| {vr / 1024:.1f} | {qr / 1024:.1f} | {'ok' if ok else 'MISMATCH'} |")
    if failures:
        print(*failures, sep="\n", file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
