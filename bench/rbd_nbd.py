"""Many hosts: vdisk against QEMU's tools on RBD images and NBD exports.

    /usr/bin/python3 bench/rbd_nbd.py [--runs N] [--size-mib 1024] [--dir DIR]

Starts its own single-node Ceph cluster (bluestore on a sparse file under
DIR, with a mgr: tests/cluster/ceph.py), makes a qcow2 from the usual
generated input (bench/gen_input.py: 45% random data, 10% written zeros,
45% holes), and in one run, alternating the two tools, times:

  convert qcow2 -> rbd      vdisk-virsh convert -O raw SRC rbd:rbd/IMG vs
                            qemu-img convert (the image is removed between runs)
  convert rbd -> qcow2      from a raw RBD image made once, into a local qcow2
                            (made durable with sync inside the timing)
  NBD export, nbdcopy       nbdcopy URI null: from nbdkit with vdisk's plugin
                            against qemu-nbd, both serving the same qcow2
                            read-only; RSS is the server's peak (VmHWM)

Each output is checked once, outside the timing (qemu-img compare / check,
the NBD copy against qemu-img's raw conversion).  Medians, ratio vdisk /
peer (below 1: vdisk is faster), peak RSS.  Results: OUT/rbd_nbd.md and
.json.  Every daemon is stopped by pid at the end.
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
sys.path.insert(0, str(REPO / "tests" / "cluster"))
import gen_input  # noqa: E402
from bench import Runner, row, write_rows  # noqa: E402
from ceph import CephCluster, missing_programs  # noqa: E402


def rbd_rm(cluster, image):
    cluster.rbd("rm", "--no-progress", image, check=False)


def bench_rbd(runner, args, vdisk, cluster, src):
    rows = []
    dst = "bench-import"
    print("- convert qcow2 -> rbd (raw)", flush=True)
    v, q = [], []
    for _ in range(args.runs):
        for argv, out in (([vdisk, "convert", "-O", "raw", src, cluster.name(dst)], v),
                          (["qemu-img", "convert", "-O", "raw", src, cluster.name(dst)], q)):
            rbd_rm(cluster, dst)
            out.append(runner.timed([str(a) for a in argv]))
    rbd_rm(cluster, dst)
    ok = runner.timed([str(vdisk), "convert", "-O", "raw", str(src), cluster.name(dst)]) is not None
    ok = ok and runner.check(["qemu-img", "compare", str(src), cluster.name(dst)])
    rows.append(row(f"convert qcow2 -> rbd raw ({args.size_mib} MiB)", v, q, "ok" if ok else "FAILED"))

    print("- convert rbd (raw) -> qcow2", flush=True)
    out = "back.qcow2"
    v, q = [], []
    for _ in range(args.runs):
        for argv, res in (([vdisk, "convert", "-f", "raw", "-O", "qcow2", cluster.name(dst), out], v),
                          (["qemu-img", "convert", "-f", "raw", "-O", "qcow2", cluster.name(dst), out], q)):
            (runner.workdir / out).unlink(missing_ok=True)
            res.append(runner.timed([str(a) for a in argv], durable=out))
    (runner.workdir / out).unlink(missing_ok=True)
    ok = runner.timed([str(vdisk), "convert", "-f", "raw", "-O", "qcow2", cluster.name(dst), out]) is not None
    ok = ok and runner.check(["qemu-img", "check", out])
    ok = ok and runner.check(["qemu-img", "compare", str(src), out])
    (runner.workdir / out).unlink(missing_ok=True)
    rbd_rm(cluster, dst)
    rows.append(row(f"convert rbd raw -> qcow2 ({args.size_mib} MiB)", v, q, "ok" if ok else "FAILED"))
    return rows


class NbdServer:
    def __init__(self, argv, sock):
        self.sock = sock
        self.proc = subprocess.Popen([str(a) for a in argv], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while not Path(sock).exists():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{argv[0]} did not start")
            time.sleep(0.05)
        self.uri = f"nbd+unix:///?socket={sock}"

    def peak_rss_kib(self):
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
        return None

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def bench_nbd(runner, args, plugin, src, oracle_raw):
    print("- NBD export read with nbdcopy (vdisk plugin vs qemu-nbd)", flush=True)
    w = runner.workdir
    ours = NbdServer(["nbdkit", "-f", "--exit-with-parent", "--unix", w / "vdisk.sock", plugin, src,
                      "format=qcow2", "readonly=true"], w / "vdisk.sock")
    theirs = NbdServer(["qemu-nbd", "-t", "-r", "-e", "16", "-f", "qcow2", "-k", w / "qemu.sock", src],
                       w / "qemu.sock")
    try:
        v, q = [], []
        for _ in range(args.runs):
            for srv, res in ((ours, v), (theirs, q)):
                res.append(runner.timed(["nbdcopy", srv.uri, "null:"]))
        ok = runner.check(["nbdcopy", ours.uri, "copy.raw"]) and runner.check(["cmp", "copy.raw", oracle_raw])
        (w / "copy.raw").unlink(missing_ok=True)
        r = row(f"NBD export, nbdcopy to null: ({args.size_mib} MiB qcow2)", v, q, "ok" if ok else "FAILED")
        # The servers' memory, not nbdcopy's.
        r["vdisk_rss_kib"], r["qemu_rss_kib"] = ours.peak_rss_kib(), theirs.peak_rss_kib()
        return [r]
    finally:
        ours.stop()
        theirs.stop()


def parse_args(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--size-mib", type=int, default=1024)
    ap.add_argument("--dir", default="/var/tmp", help="work area (the OSD's sparse file lives here)")
    ap.add_argument("--out", default=str(HERE / "out"))
    ap.add_argument("--vdisk", default=str(REPO / "build" / "tools" / "vdisk-virsh"))
    ap.add_argument("--plugin", default=str(REPO / "build" / "nbdkit" / "nbdkit-vdisk-plugin.so"))
    return ap.parse_args(argv)


def main(argv):
    args = parse_args(argv)
    missing = missing_programs(mgr=True) + [p for p in ("nbdkit", "nbdcopy", "qemu-nbd") if not shutil.which(p)]
    if missing:
        sys.exit(f"rbd_nbd: missing {', '.join(missing)} (scripts/install-deps.sh)")
    vdisk = Path(args.vdisk).resolve()
    workdir = Path(tempfile.mkdtemp(prefix="vdisk-bench-rbd-", dir=args.dir))
    runner = Runner(workdir)
    rows = []
    try:
        raw = workdir / "in.raw"
        print(gen_input.generate(raw, args.size_mib, 1), flush=True)
        src = workdir / "in.qcow2"
        subprocess.run(["qemu-img", "convert", "-O", "qcow2", raw, src], check=True)
        print("- starting Ceph (bluestore, mgr)", flush=True)
        with CephCluster(workdir / "ceph", store="bluestore", block_size=8 << 30) as cluster:
            rows += bench_rbd(runner, args, vdisk, cluster, src)
        rows += bench_nbd(runner, args, Path(args.plugin).resolve(), src, raw)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    write_rows(args.out, "rbd_nbd", rows, rows)
    return 1 if runner.failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
