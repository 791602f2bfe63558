"""Provisioning in place against the usual way, a copy by qemu-img convert.

    /usr/bin/python3 bench/provision.py [--runs N] [--size GIB] [--dir DIR]

sparsify: a qcow2 of SIZE GiB (64 KiB clusters), every cluster allocated,
half of them (every other MiB) holding zeros written as data -- a thick
disk whose guest freed half its space.  vdisk-virsh sparsify --zero-detect
--truncate (in place) against qemu-img convert -O qcow2 to a new sparse copy.

inflate: a thin qcow2 of SIZE GiB with every other MiB written.
vdisk-virsh inflate --eager against qemu-img convert -O qcow2 -o
preallocation=full, and inflate (lazy) against preallocation=falloc.

Every run starts from a fresh copy of the input (not timed), with a cold
page cache; the timed part includes making the result durable (sync).
The table shows medians, the ratio vdisk / qemu-img (below 1: vdisk is
faster), peak RSS, and the peak extra disk space each way needs beyond the
input (in place: what the file grows by; a copy: the whole new file, the
input still there).  Every result is checked with qemu-img compare against
the input.  Results: OUT/provision.md and OUT/provision.json.
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
from bench import Runner, remove, row, write_rows  # noqa: E402

MiB = 1 << 20


def allocated(path):
    return os.stat(path).st_blocks * 512 if os.path.exists(path) else 0


def every_other_mib(path, size_gib, pattern):
    """qemu-io writes of `pattern` to every other MiB, through a script."""
    script = path.with_suffix(".io")
    script.write_text("".join(f"write -q -P {pattern} {m}M 1M\n"
                              for m in range(0, size_gib * 1024, 2)))
    with open(script) as f:
        subprocess.run(["qemu-io", "-f", "qcow2", path], stdin=f, check=True,
                       capture_output=True)
    script.unlink()


def make_inputs(workdir, size_gib):
    thick = workdir / "thick.qcow2"
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", "-o",
                    "cluster_size=64k,preallocation=full", thick, f"{size_gib}G"], check=True)
    every_other_mib(thick, size_gib, "0x5a")
    thin = workdir / "thin.qcow2"
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", "-o", "cluster_size=64k", thin,
                    f"{size_gib}G"], check=True)
    every_other_mib(thin, size_gib, "0x5a")
    return thick, thin


def one_run(runner, master, work, argv, output):
    """Fresh input, then one timed run; returns (result, extra disk bytes)."""
    remove(work)
    if output:
        remove(output)
    subprocess.run(["cp", "--sparse=always", master, work], check=True)
    before = allocated(work)
    res = runner.timed(argv, durable=str(output or work))
    if output:
        extra = allocated(output)
    else:
        extra = max(0, allocated(work) - before)
    ok = runner.check(["qemu-img", "compare", "-q", str(master), str(output or work)])
    return res, extra, ok


def case(runner, runs, name, master, vdisk_argv, qemu_argv):
    work = runner.workdir / "work.qcow2"
    out = runner.workdir / "out.qcow2"
    v, q, vx, qx, ok = [], [], [], [], True
    for _ in range(runs):
        for argv, output, times, extra in (([*vdisk_argv, work.name], None, v, vx),
                                           ([*qemu_argv, work.name, out.name], out, q, qx)):
            r, x, good = one_run(runner, master, work, argv, output)
            times.append(r)
            extra.append(x)
            ok &= good
    remove(work)
    remove(out)
    r = row(name, v, q, "qemu-img compare: identical" if ok else "DIFFERENT")
    r["vdisk_extra_disk_mib"] = max(vx) / MiB
    r["qemu_extra_disk_mib"] = max(qx) / MiB
    r["check"] += f"; extra disk: vdisk {max(vx) / MiB:.0f} MiB, qemu-img {max(qx) / MiB:.0f} MiB"
    return r


def parse_args(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--size", type=int, default=4, help="virtual size in GiB (default 4)")
    ap.add_argument("--dir", default=None, help="where the images are made (default: TMPDIR)")
    ap.add_argument("--out", default=str(HERE / "out"))
    ap.add_argument("--vdisk", default=str(REPO / "build" / "tools" / "vdisk-virsh"))
    return ap.parse_args(argv)


def main(argv):
    args = parse_args(argv)
    vdisk = str(Path(args.vdisk).resolve())
    workdir = Path(tempfile.mkdtemp(prefix="vdisk-bench-provision-", dir=args.dir))
    try:
        thick, thin = make_inputs(workdir, args.size)
        runner = Runner(workdir)
        size = f"{args.size} GiB"
        rows = [
            case(runner, args.runs, f"sparsify {size}, 50% zero clusters", thick,
                 [vdisk, "sparsify", "-q", "--zero-detect", "--truncate"],
                 ["qemu-img", "convert", "-O", "qcow2"]),
            case(runner, args.runs, f"inflate --eager {size}, 50% allocated", thin,
                 [vdisk, "inflate", "-q", "--eager"],
                 ["qemu-img", "convert", "-O", "qcow2", "-o", "preallocation=full"]),
            case(runner, args.runs, f"inflate (lazy) {size}, 50% allocated", thin,
                 [vdisk, "inflate", "-q"],
                 ["qemu-img", "convert", "-O", "qcow2", "-o", "preallocation=falloc"]),
        ]
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    write_rows(args.out, "provision", rows, rows)
    return 1 if runner.failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
