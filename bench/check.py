"""check: vdisk-virsh check against qemu-img check on the same image.

    /usr/bin/python3 bench/check.py [--runs N] [--size 64G] [--dir DIR]

The image: qcow2, 64 KiB clusters, SIZE virtual with the first half
allocated (made by qemu-img with preallocation=metadata for SIZE/2, then
grown to SIZE), so half of the clusters are allocated and every L2 table
and refcount block is real, while the file stays sparse.  Each tool checks
it N times, alternating, timed from outside with peak RSS (see bench.py's
Runner); the table shows medians and the ratio vdisk / qemu-img (below 1:
vdisk is faster).  Both verdicts are compared once, outside the timing.
Results: OUT/check.md and OUT/check.json.  tmpfs (the default --dir
/dev/shm when it exists) keeps the noisy disk out of a CPU comparison.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
from bench import Runner, compare_pair, half_allocated_qcow2, row, write_rows  # noqa: E402


def same_verdict(workdir, vdisk, img):
    out = []
    for tool in (str(vdisk), "qemu-img"):
        p = subprocess.run([tool, "check", "--output", "json", img.name], cwd=workdir,
                           capture_output=True, text=True)
        out.append((p.returncode, json.loads(p.stdout) if p.stdout.strip() else None))
    return "same verdict" if out[0] == out[1] else f"DIFFERENT: {out}"


def parse_args(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--size", type=int, default=64, help="virtual size in GiB (default 64)")
    ap.add_argument("--dir", default="/dev/shm" if os.path.isdir("/dev/shm") else None,
                    help="where the image is made (default: tmpfs when present)")
    ap.add_argument("--out", default=str(HERE / "out"))
    ap.add_argument("--vdisk", default=str(REPO / "build" / "tools" / "vdisk-virsh"))
    return ap.parse_args(argv)


def main(argv):
    args = parse_args(argv)
    vdisk = Path(args.vdisk).resolve()
    workdir = Path(tempfile.mkdtemp(prefix="vdisk-bench-check-", dir=args.dir))
    try:
        img = half_allocated_qcow2(workdir / "check.qcow2", args.size)
        runner = Runner(workdir)
        check = same_verdict(workdir, vdisk, img)
        v, q = compare_pair(runner, args.runs, [str(vdisk), "check", img.name],
                            ["qemu-img", "check", img.name])
        r = row(f"check {args.size} GiB, 50% allocated", v, q, check)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    write_rows(args.out, "check", [r], r)
    return 1 if runner.failures or not check.startswith("same") else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
