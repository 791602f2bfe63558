"""What every benchmark here shares: timed runs of two tools in turn, their
medians and per-pair ratios, CPU time and peak RSS, the background load of
the loaded-machine mode, and a description of the machine for the record.

A run is timed from outside as a whole process: wall clock from start to
exit (plus `sync FILE` when the output must be durable), CPU time (user +
sys) and peak RSS from GNU time (/usr/bin/time).  Ratios are vdisk / peer, pair by
pair (each vdisk run against the peer run next to it), and the median of
those is quoted: a machine whose speed drifts during the benchmark moves
both halves of a pair alike.
"""
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone

MiB = 1 << 20


def drop_caches():
    """Start a timed run with a cold page cache, where we may."""
    os.sync()
    try:
        with open("/proc/sys/vm/drop_caches", "w") as f:
            f.write("3\n")
    except OSError:
        pass


def remove(path):
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


class Runner:
    """Runs commands in workdir; collects the failures it meets."""

    def __init__(self, workdir, env=None):
        self.workdir = workdir
        self.env = env
        self.failures = []

    def timed(self, argv, durable=None, cold=True):
        """Run argv once; (wall seconds, peak RSS KiB, stdout, CPU seconds)
        or None.  durable: a file the command wrote, made durable (`sync
        FILE`) inside the wall time: qemu-img convert does not flush its
        target by default, and no tool may win by leaving its writes in the
        page cache.  cold: drop the page cache first (pointless on tmpfs)."""
        if cold:
            drop_caches()
        # Cold data, warm program: load the tool and its libraries back into
        # the cache, or short commands would mostly time the disk.
        subprocess.run([argv[0], "--version"], capture_output=True, env=self.env)
        # GNU time measures the child: the rusage Python gets from wait4
        # would count the forked interpreter's pages before the exec.
        with tempfile.NamedTemporaryFile("r", dir=self.workdir, suffix=".time") as tf:
            t0 = time.perf_counter()
            p = subprocess.run(["/usr/bin/time", "-f", "%M %U %S", "-o", tf.name,
                                *[str(a) for a in argv]],
                               cwd=self.workdir, env=self.env, capture_output=True, text=True)
            if p.returncode == 0 and durable:
                subprocess.run(["sync", str(durable)], cwd=self.workdir, check=True)
            elapsed = time.perf_counter() - t0
            fields = tf.read().split()
        if p.returncode != 0:
            msg = f"{' '.join(map(str, argv))}: exit {p.returncode}: {(p.stderr or p.stdout).strip()[-500:]}"
            self.failures.append(msg)
            print("  FAILED " + msg, file=sys.stderr)
            return None
        rss, user, sys_s = fields[-3:]
        return elapsed, int(rss), p.stdout, float(user) + float(sys_s)

    def check(self, argv):
        """An untimed verification command; True when it exits 0."""
        p = subprocess.run([str(a) for a in argv], cwd=self.workdir, env=self.env,
                           capture_output=True, text=True)
        if p.returncode != 0:
            self.failures.append(f"check {' '.join(map(str, argv))}: exit {p.returncode}: "
                                 f"{(p.stdout + p.stderr).strip()[-500:]}")
        return p.returncode == 0


def median_of(results, index):
    vals = [r[index] for r in results if r is not None]
    return statistics.median(vals) if vals else None


def pair_ratio(v, q, index=0):
    """Median of v[i] / q[i] over the pairs where both ran."""
    vals = [a[index] / b[index] for a, b in zip(v, q) if a and b and b[index]]
    return statistics.median(vals) if vals else None


def compare_pair(runner, runs, vdisk_argv, qemu_argv, output=None, cold=True):
    """Alternate the two tools runs times; return their result lists.
    output: the file both write, removed before each run and synced within it."""
    v, q = [], []
    for _ in range(runs):
        for argv, out in ((vdisk_argv, v), (qemu_argv, q)):
            if output:
                remove(runner.workdir / output)
            out.append(runner.timed(argv, durable=output, cold=cold))
    return v, q


def row(name, v, q, check="-", where=None):
    """A result row from the two tools' result lists."""
    vt, qt = median_of(v, 0), median_of(q, 0)
    return {
        "case": name, "where": where,
        "vdisk_s": vt, "qemu_s": qt,
        "ratio": pair_ratio(v, q, 0),
        "vdisk_cpu_s": median_of(v, 3), "qemu_cpu_s": median_of(q, 3),
        "cpu_ratio": pair_ratio(v, q, 3),
        "vdisk_rss_kib": median_of(v, 1), "qemu_rss_kib": median_of(q, 1),
        "check": check,
    }


class BackgroundLoad:
    """The loaded-machine mode: `busy` processes that spin on the CPU
    (`python3 -c 'while True: pass'`, nice 0, as many as asked; two on a
    two-core machine keep both cores busy, as other builds and tests do on a
    shared host).  Each in a session of its own, as another user's work
    would be: with the kernel's autogroup scheduling, processes of one
    session share one slice of the CPU.  Started on entry, stopped by pid
    on exit, pass or fail."""

    def __init__(self, busy):
        self.busy = busy
        self.procs = []

    def __enter__(self):
        for _ in range(self.busy):
            self.procs.append(subprocess.Popen([sys.executable, "-c", "while True: pass"],
                                               start_new_session=True))
        if self.procs:
            time.sleep(1.0)   # let the scheduler see them as busy
        return self

    def __exit__(self, *exc):
        for p in self.procs:
            p.terminate()
        for p in self.procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        self.procs = []
        return False


def loadavg():
    return round(os.getloadavg()[0], 2)


def fs_type(path):
    p = subprocess.run(["stat", "-f", "-c", "%T", str(path)], capture_output=True, text=True)
    return p.stdout.strip() or "unknown"


def machine():
    """What the numbers were measured on."""
    model = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / (1 << 30)
    qemu = subprocess.run(["qemu-img", "--version"], capture_output=True, text=True).stdout
    return {
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": model, "cpus": os.cpu_count(), "memory_gib": round(mem, 1),
        "kernel": platform.release(),
        "qemu_img": qemu.splitlines()[0] if qemu else "qemu-img not found",
    }
