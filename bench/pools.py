#!/usr/bin/python3
"""Benchmarks of the embedded storage pools (issue 6):

  * pool-refresh of a pool holding N volumes (default 1,000; half raw, half
    qcow2, some qcow2 with a backing file), i.e. probing every file;
  * vol-create-as latency for thin raw, thin qcow2 and lazy-zeroed raw.

The peer named by the issue is libvirt's own `dir` pool driven through a
locally built virtstoraged; until that lands this prints vdisk's own figures
and "n/a" for the peer and the ratio.  Medians of --runs runs, wall time and
the peak RSS of the vdisk-virsh process (wait4's ru_maxrss).  Inputs are
generated; nothing is downloaded.  Runs in a temporary directory (default on
/dev/shm: the disk of a shared machine is noisy) which it removes.

  bench/pools.py [--vdisk PATH] [--volumes N] [--creates N] [--runs N] [--dir DIR]
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def timed(argv, env):
    """Run argv; return (seconds, peak RSS KiB).  Fails loudly on error."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - t0
    err = proc.stderr.read().decode()
    proc.stderr.close()
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"pools.py: {' '.join(argv)} failed:\n{err}")
    return elapsed, usage.ru_maxrss


def populate(vdisk, env, pool_dir, n):
    """n volumes, made with the image commands behind the registry's back."""
    for i in range(n):
        path = pool_dir / f"vol{i:05d}"
        if i % 2 == 0:
            argv = [vdisk, "create", "-q", "-f", "raw", f"{path}.raw", "1G"]
        elif i % 10 == 1 and i > 1:
            argv = [vdisk, "create", "-q", "-f", "qcow2", "-b", str(pool_dir / "vol00001.qcow2"),
                    "-F", "qcow2", f"{path}.qcow2"]
        else:
            argv = [vdisk, "create", "-q", "-f", "qcow2", f"{path}.qcow2", "1G"]
        subprocess.run(argv, env=env, check=True, stdout=subprocess.DEVNULL)


def median_pair(samples):
    return statistics.median(s[0] for s in samples), max(s[1] for s in samples)


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--vdisk", default=str(REPO / "build" / "tools" / "vdisk-virsh"))
    ap.add_argument("--volumes", type=int, default=1000)
    ap.add_argument("--creates", type=int, default=50)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--dir", default="/dev/shm" if os.path.isdir("/dev/shm") else None)
    a = ap.parse_args(argv)
    vdisk = str(Path(a.vdisk).resolve())
    work = Path(tempfile.mkdtemp(prefix="vdisk-bench-pools.", dir=a.dir))
    try:
        env = dict(os.environ, VDISK_CONFIG_DIR=str(work / "registry"))
        pool_dir = work / "pool"
        for cmd in (["pool-define-as", "bench", "vdisk", "--target", str(pool_dir)],
                    ["pool-build", "bench"], ["pool-start", "bench"]):
            subprocess.run([vdisk, *cmd], env=env, check=True, stdout=subprocess.DEVNULL)
        populate(vdisk, env, pool_dir, a.volumes)
        refresh = median_pair([timed([vdisk, "pool-refresh", "bench"], env) for _ in range(a.runs)])
        vol_list = median_pair([timed([vdisk, "vol-list", "bench", "--details"], env) for _ in range(a.runs)])
        rows = [(f"pool-refresh, {a.volumes} volumes", *refresh),
                (f"vol-list --details, {a.volumes} volumes", *vol_list)]
        for label, extra in (("thin raw", []), ("thin qcow2", ["--format", "qcow2"]),
                             ("lazy-zeroed raw 64M", ["--allocation", "64M"])):
            samples = []
            for i in range(a.creates):
                size = "64M" if "64M" in label else "10G"
                samples.append(timed([vdisk, "vol-create-as", "bench", f"new{i}", size, *extra], env))
                subprocess.run([vdisk, "vol-delete", f"new{i}", "--pool", "bench"], env=env, check=True,
                               stdout=subprocess.DEVNULL)
            rows.append((f"vol-create-as {label} (per volume)", *median_pair(samples)))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"| case | vdisk (s) | peer (s) | ratio vdisk/peer | vdisk peak RSS (MiB) |")
    print("|---|---|---|---|---|")
    for name, secs, rss in rows:
        print(f"| {name} | {secs:.4f} | n/a | n/a | {rss / 1024:.1f} |")
    print("\npeer: libvirt's dir pool through a locally built virtstoraged is not available yet; "
          "vdisk's own figures only.")


if __name__ == "__main__":
    main(sys.argv[1:])
