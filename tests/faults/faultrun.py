"""The harness of test_faults.py: run an operation once to count its I/O
calls per class (libvdisk-fault.so, VDISK_FAULT_COUNT), then once per
class, per k and per errno with the k-th call failing, each time on a fresh
copy of the prepared files, and judge what the failure left.

Verdicts per injected fault:
  failed     the operation failed, its message names the file and the
             error, and what it left passed the case's checks;
  absorbed   the operation succeeded all the same (a fallback took over,
             e.g. writing zeros where fallocate failed): its result passed
             the same checks;
  bad        anything else (the reasons are collected and fail the test).
"""
import errno as errno_mod
import os
import shutil
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from conftest import REPORT  # noqa: E402

CLASSES = ("write", "flush", "alloc")
ERRNOS = tuple(os.environ.get("VDISK_FAULT_ERRNOS", "EIO,ENOSPC").split(","))
# VDISK_FAULT_FULL=1: every errno at every step; otherwise (CI) each step
# gets one, in turn, so that each class sees every errno.
FULL = os.environ.get("VDISK_FAULT_FULL") == "1"


def errnos_for(cls, k):
    if FULL:
        return ERRNOS
    return (ERRNOS[(k - 1 + CLASSES.index(cls)) % len(ERRNOS)],)


def run(argv, env=None, check=True):
    p = subprocess.run([str(a) for a in argv], capture_output=True, text=True, env=env)
    if p.returncode < 0:
        raise AssertionError(f"{argv[0]} died with signal {-p.returncode}\n{p.stderr}")
    if check and p.returncode != 0:
        raise AssertionError(f"{' '.join(map(str, argv))} exited {p.returncode}\n"
                             f"{p.stdout}\n{p.stderr}")
    return p


def counts(text):
    """The counts of every process of the run (each appends its line)."""
    total = {}
    for line in text.splitlines():
        f = line.split()
        for i in range(0, len(f), 2):
            total[f[i]] = total.get(f[i], 0) + int(f[i + 1])
    return total


class Case:
    """One operation: prepare(dir) makes its inputs; argv(dir) runs it;
    judge(dir, failed) returns the reasons what it left is wrong (an empty
    list when it is right); names are the file names one of which its
    error message must carry."""

    def __init__(self, name, prepare, argv, judge, names, env=None, copyable=True):
        self.name, self.prepare, self.argv, self.judge = name, prepare, argv, judge
        self.names, self.env = names, env or (lambda d: {})
        # Files that name their own directory (a registry naming its pool's
        # path) are prepared afresh for every run instead of copied.
        self.copyable = copyable


def fault_env(tools, d, case, count_file, cls=None, k=0, err="EIO"):
    env = dict(os.environ, LD_PRELOAD=tools["shim"], VDISK_FAULT_PATH=f"{d}/*",
               VDISK_FAULT_COUNT=str(count_file), **case.env(d))
    if cls:
        env.update(VDISK_FAULT_CLASS=cls, VDISK_FAULT_AT=str(k), VDISK_FAULT_ERRNO=err)
    return env


def fresh(case, template, d):
    if d.exists():
        shutil.rmtree(d)
    if case.copyable:
        shutil.copytree(template, d, symlinks=True)
    else:
        d.mkdir()
        case.prepare(d)


def run_case(tools, tmp, case):
    """Inject every fault of the case; returns the stats and asserts that
    no verdict was bad."""
    template, d, count_file = tmp / "template", tmp / "run", tmp / "counts"
    template.mkdir()
    if case.copyable:
        case.prepare(template)
    fresh(case, template, d)
    count_file.unlink(missing_ok=True)
    run(case.argv(d), env=fault_env(tools, d, case, count_file))
    n = counts(count_file.read_text())
    stats = {"writes": n["write"], "flushes": n["flush"], "allocs": n["alloc"],
             "injected": 0, "failed": 0, "absorbed": 0, "bad": 0}
    bad, absorbed = [], []
    for cls in CLASSES:
        for k in range(1, n[cls] + 1):
            for err in errnos_for(cls, k):
                fresh(case, template, d)
                count_file.unlink(missing_ok=True)
                p = run(case.argv(d), env=fault_env(tools, d, case, count_file, cls, k, err),
                        check=False)
                fired = counts(count_file.read_text())["fired"]
                if not fired:
                    continue            # a run that took another path
                stats["injected"] += 1
                why = verdict(case, d, p, err)
                label = f"{case.name}: {err} at {cls} #{k}"
                if why:
                    stats["bad"] += 1
                    bad.append(f"{label}: " + "; ".join(why) + f"\nstderr: {p.stderr.strip()}")
                elif p.returncode:
                    stats["failed"] += 1
                else:
                    stats["absorbed"] += 1
                    absorbed.append(f"{err} {cls} #{k}")
    line = f"faults: {case.name}: " + ", ".join(f"{v} {k}" for k, v in stats.items())
    if absorbed:
        line += " (absorbed: " + ", ".join(absorbed) + ")"
    REPORT.append(line)
    print("\n" + line)
    assert not bad, f"{len(bad)} bad outcomes of {stats['injected']}:\n" + "\n".join(bad[:6])


def verdict(case, d, p, err):
    """The reasons this run's outcome is wrong."""
    why = []
    if p.returncode:
        text = p.stderr
        if not any(name in text for name in case.names):
            why.append("the message names none of " + ", ".join(case.names))
        if os.strerror(getattr(errno_mod, err)) not in text:
            why.append(f"the message does not say {os.strerror(getattr(errno_mod, err))!r}")
    why += case.judge(d, p.returncode != 0)
    return why
