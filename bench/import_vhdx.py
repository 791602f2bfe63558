"""Import of Hyper-V disks: vdisk-virsh convert against qemu-img convert, a
VHDX (and a VHD) into qcow2.

    /usr/bin/python3 bench/import_vhdx.py [--runs N] [--size MIB] [--dir DIR]

The input is bench/gen_input.py's image (default 1 GiB: 1 MiB runs of random
data, written zeros and holes), made into a dynamic VHDX and a dynamic VHD
by qemu-img, as Hyper-V exports would arrive.  Both tools convert each into
qcow2 --runs times, alternating, timed from outside up to the output being
durable, with peak RSS (bench.py's Runner); the table shows medians and the
ratio vdisk / qemu-img (below 1: vdisk is faster).  vdisk's output is
checked once, outside the timing: qemu-img compare with the source and
qemu-img check.  Results: OUT/import_vhdx.md and .json.
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
import gen_input  # noqa: E402
from bench import Runner, compare_pair, remove, row, write_rows  # noqa: E402


def make_sources(workdir, size_mib):
    raw = workdir / "src.raw"
    gen_input.generate(raw, size_mib, 20261207)
    out = {}
    for fmt, name in (("vhdx", "src.vhdx"), ("vpc", "src.vhd")):
        subprocess.run(["qemu-img", "convert", "-f", "raw", "-O", fmt, raw, workdir / name], check=True)
        out[fmt] = name
    raw.unlink()
    return out


def one_case(runner, args, vdisk, fmt, src):
    name = f"import {fmt} -> qcow2 ({args.size} MiB)"
    print(f"- {name}", flush=True)
    dst = "out.qcow2"
    v, q = compare_pair(runner, args.runs,
                        [vdisk, "convert", "-f", fmt, "-O", "qcow2", src, dst],
                        ["qemu-img", "convert", "-f", fmt, "-O", "qcow2", src, dst],
                        output=dst)
    remove(runner.workdir / dst)
    ok = runner.timed([vdisk, "convert", "-f", fmt, "-O", "qcow2", src, dst]) is not None
    ok = ok and runner.check(["qemu-img", "compare", "-f", fmt, "-F", "qcow2", src, dst])
    ok = ok and runner.check(["qemu-img", "check", dst])
    remove(runner.workdir / dst)
    return row(name, v, q, "compare+check ok" if ok else "FAILED")


def parse_args(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--size", type=int, default=1024, help="virtual size in MiB (default 1024)")
    ap.add_argument("--dir", default=None, help="where the images are made (default: a temporary "
                    "directory under /var/tmp: a real disk, as imports read from one)")
    ap.add_argument("--out", default=str(HERE / "out"))
    ap.add_argument("--vdisk", default=str(REPO / "build" / "tools" / "vdisk-virsh"))
    return ap.parse_args(argv)


def main(argv):
    args = parse_args(argv)
    vdisk = str(Path(args.vdisk).resolve())
    workdir = Path(tempfile.mkdtemp(prefix="vdisk-bench-import-", dir=args.dir or "/var/tmp"))
    runner = Runner(workdir)
    rows = []
    try:
        for fmt, src in make_sources(workdir, args.size).items():
            rows.append(one_case(runner, args, vdisk, fmt, src))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    write_rows(args.out, "import_vhdx", rows, rows)
    for f in runner.failures:
        print("FAILED:", f, file=sys.stderr)
    return 1 if runner.failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
