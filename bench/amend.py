"""amend: vdisk-virsh amend -o refcount_bits=N against qemu-img amend.

    /usr/bin/python3 bench/amend.py [--runs N] [--size 64] [--dir DIR]

The image: qcow2, 64 KiB clusters, SIZE GiB virtual with the first half
allocated (qemu-img preallocation=metadata for SIZE/2, then grown), so every
refcount block is real.  Before each timed run a fresh copy of it is made
(outside the timing); the tools alternate, N runs each, per width.  The table
shows medians, the ratio vdisk / qemu-img (below 1: vdisk is faster) and peak
RSS; the two results are compared once (qemu-img compare, qemu-img check).
Results: OUT/amend.md and OUT/amend.json.  tmpfs (the default --dir /dev/shm
when it exists) keeps the noisy disk out of a CPU comparison.
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
from bench import Runner, half_allocated_qcow2, row, write_rows  # noqa: E402


def fresh(src, dst):
    subprocess.run(["cp", "--sparse=always", src, dst], check=True)


def same_result(workdir, vdisk, src, width):
    for tool, name in ((str(vdisk), "v.qcow2"), ("qemu-img", "q.qcow2")):
        fresh(src, workdir / name)
        subprocess.run([tool, "amend", "-o", f"refcount_bits={width}", name], cwd=workdir,
                       check=True)
    ok = subprocess.run(["qemu-img", "check", "-q", "v.qcow2"], cwd=workdir).returncode == 0
    same = subprocess.run(["qemu-img", "compare", "-q", "v.qcow2", "q.qcow2"],
                          cwd=workdir).returncode == 0
    return "same data, check clean" if ok and same else f"DIFFERENT (check ok: {ok})"


def bench_width(runner, args, vdisk, src, width):
    v, q = [], []
    for _ in range(args.runs):
        for argv, out in (([str(vdisk)], v), (["qemu-img"], q)):
            fresh(src, runner.workdir / "a.qcow2")
            out.append(runner.timed(argv + ["amend", "-o", f"refcount_bits={width}", "a.qcow2"]))
    check = same_result(runner.workdir, vdisk, src, width)
    return row(f"amend refcount_bits=16->{width}, {args.size} GiB 50% allocated", v, q, check)


def parse_args(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--size", type=int, default=64, help="virtual size in GiB (default 64)")
    ap.add_argument("--widths", default="1,64", help="comma-separated (default 1,64)")
    ap.add_argument("--dir", default="/dev/shm" if os.path.isdir("/dev/shm") else None,
                    help="where the images are made (default: tmpfs when present)")
    ap.add_argument("--out", default=str(HERE / "out"))
    ap.add_argument("--vdisk", default=str(REPO / "build" / "tools" / "vdisk-virsh"))
    return ap.parse_args(argv)


def main(argv):
    args = parse_args(argv)
    vdisk = Path(args.vdisk).resolve()
    workdir = Path(tempfile.mkdtemp(prefix="vdisk-bench-amend-", dir=args.dir))
    try:
        src = half_allocated_qcow2(workdir / "src.qcow2", args.size)
        runner = Runner(workdir)
        rows = [bench_width(runner, args, vdisk, src, int(w)) for w in args.widths.split(",")]
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    write_rows(args.out, "amend", rows, rows)


if __name__ == "__main__":
    main(sys.argv[1:])
