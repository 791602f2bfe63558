#!/usr/bin/python3
"""vdisk-virsh -c URI against the real virsh on the same libvirt daemon:
the client side of the daemon commands (issue 7, part C).

A pool of type dir (or --type vdisk) holding N volumes (default 300, half
raw, half qcow2) is defined on a RUNNING daemon of the patched prefix
(plugin/libvirt/run-daemon.sh PREFIX start); then, in the same run, both
clients do:

  * vol-list --details POOL    (per volume: XML + info through the daemon)
  * pool-info POOL             (vdisk-virsh also sums the volumes' capacities)
  * vol-info --pool POOL VOL

Medians of --runs runs, the ratio vdisk/virsh (below 1 is faster) and the
client's peak RSS (wait4's ru_maxrss).  The pool lives in a temporary
directory (default on /dev/shm) and is destroyed, undefined and removed at
the end.  Inputs are generated; nothing is downloaded.

  bench/remote.py --prefix PREFIX [--vdisk PATH] [--volumes N] [--runs N] [--type dir|vdisk]
"""
import argparse
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from pools import median_pair, timed     # bench/pools.py: wait4 timing, medians

REPO = Path(__file__).resolve().parents[1]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--prefix", required=True, type=Path, help="the patched libvirt's prefix")
    ap.add_argument("--vdisk", type=Path, default=REPO / "build" / "tools" / "vdisk-virsh")
    ap.add_argument("--volumes", type=int, default=300)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--type", default="dir", choices=["dir", "vdisk"])
    ap.add_argument("--dir", default="/dev/shm" if os.path.isdir("/dev/shm") else None)
    a = ap.parse_args()
    env = dict(os.environ, LD_LIBRARY_PATH=str(a.prefix / "lib"))
    for k in ("LIBVIRT_DEFAULT_URI", "VIRSH_DEFAULT_CONNECT_URI"):
        env.pop(k, None)
    uri = "storage:///system"
    virsh = [a.prefix / "bin" / "virsh", "-c", uri]
    mine = [a.vdisk, "-c", uri]
    work = Path(tempfile.mkdtemp(prefix="vdisk-bench-remote-", dir=a.dir))
    pool = f"bench-remote-{os.getpid()}"
    try:
        timed([*mine, "pool-define-as", pool, a.type, "--target", work / "pool"], env)
        timed([*mine, "pool-start", "--build", pool], env)
        for i in range(a.volumes):
            fmt = "raw" if i % 2 == 0 else "qcow2"
            subprocess.run([a.vdisk, "create", "-q", "-f", fmt, work / "pool" / f"v{i:05d}.{fmt}", "1G"],
                           env=env, check=True)
        timed([*mine, "pool-refresh", pool], env)
        cases = [("vol-list --details", ["vol-list", "--details", pool]),
                 ("pool-info", ["pool-info", pool]),
                 ("vol-info", ["vol-info", "--pool", pool, "v00001.qcow2"])]
        print(f"{a.volumes} volumes in a {a.type} pool, medians of {a.runs} runs")
        print(f"{'command':<20} {'vdisk-virsh':>12} {'virsh':>10} {'ratio':>7} {'RSS vdisk':>10} {'RSS virsh':>10}")
        for label, args in cases:
            ours = median_pair([timed([*mine, *args], env) for _ in range(a.runs)])
            peer = median_pair([timed([*virsh, *args], env) for _ in range(a.runs)])
            print(f"{label:<20} {ours[0]:>11.3f}s {peer[0]:>9.3f}s {ours[0] / peer[0]:>7.2f} "
                  f"{ours[1] / 1024:>8.1f}Mi {peer[1] / 1024:>8.1f}Mi")
    finally:
        subprocess.run([*virsh, "pool-destroy", pool], env=env, capture_output=True)
        subprocess.run([*virsh, "pool-undefine", pool], env=env, capture_output=True)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
