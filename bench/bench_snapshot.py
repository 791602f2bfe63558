"""Snapshot benchmark: vdisk-virsh snapshot -c / -a against qemu-img snapshot
on qcow2 images holding 1 GiB of data (256 MiB with --quick), in 64 KiB and
4 KiB clusters.

Each timed create is undone (qemu-img snapshot -d) outside the timing, so
every run starts from the same image; apply switches back to one snapshot
taken once up front, which leaves the image as it was.  After the runs,
qemu-img check must find the image clean.  Rows share bench.py's table.
"""
import subprocess

import bench


def make_image(runner, mib, cluster):
    """A qcow2 with `mib` MiB of data in clusters of `cluster` (qemu-io writes)."""
    name = f"snap-{mib}M-{cluster}.qcow2"
    path = runner.workdir / name
    if not path.exists():
        print(f"- generating {name}", flush=True)
        subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", "-o",
                        f"cluster_size={cluster}", name, f"{2 * mib}M"],
                       cwd=runner.workdir, check=True)
        subprocess.run(["qemu-io", "-f", "qcow2", "-c", f"write -P 0x5a 0 {mib}M", name],
                       cwd=runner.workdir, check=True, capture_output=True)
    return name


def bench_snapshot(runner, args, vdisk):
    rows = []
    mib = 256 if args.quick else 1024
    # 64 KiB clusters: QEMU's default; 4 KiB: 16 times the metadata to walk
    for cluster in ("64k", "4k"):
        rows += bench_one(runner, args, vdisk, make_image(runner, mib, cluster),
                          f"{mib} MiB of data, {cluster} clusters")
    return rows


def bench_one(runner, args, vdisk, img, what):
    rows = []
    v, q = [], []
    for _ in range(args.runs):
        for tool, out in ((vdisk, v), ("qemu-img", q)):
            out.append(runner.timed([tool, "snapshot", "-c", "bench", img], durable=img))
            runner.check(["qemu-img", "snapshot", "-d", "bench", img])
    ok = runner.check(["qemu-img", "check", img])
    rows.append(bench.row(f"snapshot -c, {what}", v, q, "check ok" if ok else "FAILED"))

    runner.check(["qemu-img", "snapshot", "-c", "base", img])
    v, q = [], []
    for _ in range(args.runs):
        for tool, out in ((vdisk, v), ("qemu-img", q)):
            out.append(runner.timed([tool, "snapshot", "-a", "base", img], durable=img))
    ok = runner.check(["qemu-img", "check", img])
    runner.check(["qemu-img", "snapshot", "-d", "base", img])
    rows.append(bench.row(f"snapshot -a, {what}", v, q, "check ok" if ok else "FAILED"))
    return rows
