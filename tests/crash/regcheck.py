"""The checks every crash state of the embedded registry goes through (see
test_crash_registry.py for the operations).

A RegistryWorkload is a directory (the registry, VDISK_CONFIG_DIR, and the
pools' directories inside it) set up without recording; the operation's
commands then run under strace (fsrecord.py) and fsmodel.py replays their
calls: the replayed tree must be the one the commands left (the recording
missed nothing).  For every crash state the directory is rebuilt as the
state has it, at the same path (pool definitions name their directories),
and:

  - every file but the temporary ones holds a content that path showed at
    some moment of the live run (between two system calls), and is absent
    only if it was absent at some moment: never a truncated or empty
    definition, never a half-written secret value, never a vanished one;
    secrets' files are never readable by others;
  - after the last command returned (the operation reported done), every
    file is the one the run left: nothing reported done is lost;
  - vdisk-virsh pool-list --all and secret-list work, pool-dumpxml of every
    defined pool, vol-list of every active one, secret-get-value of every
    value: exit 0, no crash;
  - the operation's own judge: what it made is whole or absent, and done
    again it succeeds (no orphan blocks it), with temporary files reaped as
    promised: the pool directory's by a refresh (vol-list), the registry's
    by the next write to the same subdirectory (every judge of a registry
    operation writes there again).

The volume records (.vdisk-volumes) name volumes by device and inode: a
rebuilt state has new inodes, so their lines are rewritten to the rebuilt
file of the same inode of the model (or to no file, when that inode is not
in the state) before the commands run; the content check uses the
recorded text.
"""
import ctypes
import hashlib
import os
import shutil
import subprocess
from pathlib import Path

import fsmodel
import fsrecord
from crashcheck import FULL, LIMIT, REPORT, SEED

EXHAUSTIVE_MAX = 1024 if FULL else 64
RANDOM_STATES = 64 if FULL else 8
TEMP_PREFIXES = (".tmp-", ".vdisk-tmp-")
RECORDS = ".vdisk-volumes"


class _Ts(ctypes.Structure):
    _fields_ = [("sec", ctypes.c_int64), ("nsec", ctypes.c_uint32), ("pad", ctypes.c_int32)]


class _Statx(ctypes.Structure):
    _fields_ = [("mask", ctypes.c_uint32), ("blksize", ctypes.c_uint32),
                ("attributes", ctypes.c_uint64), ("nlink", ctypes.c_uint32),
                ("uid", ctypes.c_uint32), ("gid", ctypes.c_uint32), ("mode", ctypes.c_uint16),
                ("pad0", ctypes.c_uint16), ("ino", ctypes.c_uint64), ("size", ctypes.c_uint64),
                ("blocks", ctypes.c_uint64), ("attributes_mask", ctypes.c_uint64),
                ("atime", _Ts), ("btime", _Ts), ("ctime", _Ts), ("mtime", _Ts),
                ("rdev_major", ctypes.c_uint32), ("rdev_minor", ctypes.c_uint32),
                ("dev_major", ctypes.c_uint32), ("dev_minor", ctypes.c_uint32),
                ("pad2", ctypes.c_uint64 * 14)]


_libc = ctypes.CDLL(None, use_errno=True)
STATX_INO, STATX_BTIME, AT_SYMLINK_NOFOLLOW, AT_FDCWD = 0x100, 0x800, 0x100, -100


def vol_id(path):
    """(dev, ino, btime) as volume-record.c records them."""
    sx = _Statx()
    if _libc.statx(AT_FDCWD, os.fsencode(str(path)), AT_SYMLINK_NOFOLLOW,
                   STATX_INO | STATX_BTIME, ctypes.byref(sx)) < 0:
        raise OSError(ctypes.get_errno(), f"statx {path}")
    btime = sx.btime.sec * 10**9 + sx.btime.nsec if sx.mask & STATX_BTIME else 0
    return os.makedev(sx.dev_major, sx.dev_minor), sx.ino, btime


def is_temp(path):
    return os.path.basename(path).startswith(TEMP_PREFIXES)


def digest(entry):
    kind, mode, data, _ = entry
    return (kind, hashlib.sha1(data).hexdigest() if kind == "f" else None)


class RegistryWorkload:
    def __init__(self, tools, tmp):
        self.t = tools
        self.root = Path(os.path.realpath(tmp)) / "w"
        self.root.mkdir()
        self.env = dict(os.environ, VDISK_CONFIG_DIR=str(self.root / "registry"))
        self.scratch = Path(tmp)

    def virsh(self, *args, check=True):
        p = subprocess.run([self.t["virsh"], *map(str, args)], env=self.env,
                           capture_output=True, text=True)
        if check and p.returncode != 0:
            raise AssertionError(f"vdisk-virsh {' '.join(map(str, args))} exited "
                                 f"{p.returncode}: {p.stderr.strip()}")
        return p

    def record(self, *commands):
        """Run the operation's commands (argument lists for vdisk-virsh)
        under strace; the crash points and what the live run showed."""
        self.tree = fsmodel.Tree(self.root)
        base = self.tree.live()
        self.real = {vol_id(self.root / p): e[3] for p, e in base.items() if e[0] == "f"}
        self.points, self.labels = [self.tree.point()], ["before the operation"]
        views = [base]
        self.events = 0
        for n, args in enumerate(commands):
            log = self.scratch / f"strace-{n}.log"
            p, events = fsrecord.record(self.root, [self.t["virsh"], *args], self.env, log)
            assert p.returncode == 0, f"vdisk-virsh {' '.join(map(str, args))}: {p.stderr}"
            for i, ev in enumerate(events):
                self.tree.event(ev)
                self.points.append(self.tree.point())
                self.labels.append(f"after call {i + 1} of {args[0]} ({ev[0]} "
                                   f"{os.path.relpath(ev[1], self.root) if len(ev) > 1 else ''})")
                views.append(self.tree.live())
            self.events += len(events)
        self.final = self.tree.live()
        on_disk = fsmodel.Tree(self.root).live()
        assert {p: digest(e) + (e[1],) for p, e in self.final.items()} == \
               {p: digest(e) + (e[1],) for p, e in on_disk.items()}, \
            "the recorded calls do not reproduce the tree the commands left"
        self.real.update({vol_id(self.root / p): e[3] for p, e in self.final.items()
                          if e[0] == "f"})
        paths = set().union(*views)
        self.seen = {p: {digest(v[p]) if p in v else None for v in views} for p in paths}
        self.base, self.final_digest = base, {p: digest(e) for p, e in self.final.items()}
        shutil.move(str(self.root), str(self.scratch / "after"))

    # -- one state ------------------------------------------------------------
    def build(self, state):
        """Rebuild the directory as the state has it; the records rewritten."""
        if self.root.exists():
            shutil.rmtree(self.root)
        self.root.mkdir()
        for path, (kind, mode, data, _) in sorted(state.items()):
            f = self.root / path
            if kind == "d":
                f.mkdir()
            else:
                f.write_bytes(data)
        new_ids = {e[3]: vol_id(self.root / p) for p, e in state.items() if e[0] == "f"}
        for path, (kind, mode, data, _) in state.items():
            if os.path.basename(path) == RECORDS:
                (self.root / path).write_text(self.rewrite_records(data.decode(), new_ids))
        for path, (kind, mode, _, _) in sorted(state.items(), reverse=True):
            os.chmod(self.root / path, mode)

    def rewrite_records(self, text, new_ids):
        out = []
        for line in text.splitlines(keepends=True):
            parts = line.split(" ", 4)
            if line.startswith("#") or len(parts) < 5:
                out.append(line)
                continue
            ids = new_ids.get(self.model_inode(parts[1], parts[2]), (0, 0, 0))
            out.append(" ".join([parts[0], *map(str, ids), parts[4]]))
        return "".join(out)

    def model_inode(self, dev, ino):
        """The model's inode of a recorded "DEV INODE", or None."""
        try:
            dev, ino = int(dev), int(ino)
        except ValueError:
            return None
        return next((m for (d, i, _), m in self.real.items() if (d, i) == (dev, ino)), None)

    def recorded(self, state, pooldir, name):
        """Does the state's volume records file record the state's file
        pooldir/name (by its inode, as volume-record.c does)?"""
        records, vol = state.get(f"{pooldir}/{RECORDS}"), state.get(f"{pooldir}/{name}")
        if not records or not vol:
            return False
        for line in records[2].decode(errors="replace").splitlines():
            parts = line.split(" ", 4)
            if not line.startswith("#") and len(parts) == 5 and parts[4].split("\t")[0] == name \
                    and self.model_inode(parts[1], parts[2]) == vol[3]:
                return True
        return False

    def check_files(self, state, last):
        why = []
        for p in sorted(set(state) | set(self.seen)):
            if is_temp(p):
                continue
            d = digest(state[p]) if p in state else None
            if d not in self.seen.get(p, {None}):
                why.append(f"{p}: {'absent' if d is None else 'a content'} the live run never "
                           "showed (torn, empty or lost)")
            elif last and d != self.final_digest.get(p):
                why.append(f"{p}: not what the finished operation left (lost after it "
                           "reported success)")
            if p in state and p.startswith("registry/secrets/") and state[p][1] & 0o077:
                why.append(f"{p}: mode {state[p][1]:04o} (readable by others)")
        return why

    def check_registry(self, state):
        why = []
        for args in (["pool-list", "--all"], ["secret-list"]):
            why += self.expect_ok(args)
        pools = sorted(p[len("registry/pools/"):-4] for p in state
                       if p.startswith("registry/pools/") and p.endswith(".xml"))
        for name in pools:
            why += self.expect_ok(["pool-dumpxml", name])
            st = state.get(f"registry/pools/{name}.state")
            if st and b"active=yes" in st[2]:
                why += self.expect_ok(["vol-list", name])
        for p in state:
            if p.startswith("registry/secrets/") and p.endswith(".value") and \
                    f"{p[:-6]}.xml" in state:
                why += self.expect_ok(["secret-get-value", os.path.basename(p)[:-6]])
        return why

    def expect_ok(self, args):
        p = self.virsh(*args, check=False)
        if p.returncode == 0:
            return []
        how = f"killed by signal {-p.returncode}" if p.returncode < 0 else f"exit {p.returncode}"
        return [f"vdisk-virsh {' '.join(map(str, args))}: {how}: {p.stderr.strip()}"]

    def leftovers(self):
        """Temporary files still in the rebuilt tree."""
        return [str(f.relative_to(self.root)) for f in self.root.rglob("*") if is_temp(f.name)]

    # -- all states -------------------------------------------------------------
    def check_states(self, name, judge):
        """judge(state) -> reasons the operation's own promises fail."""
        cands = fsmodel.candidates(self.points, self.labels, SEED, EXHAUSTIVE_MAX, RANDOM_STATES)
        stats = {"calls": self.events, "crash points": len(self.points), "states": len(cands),
                 "distinct": 0, "checked": 0, "before": 0, "after": 0, "between": 0, "temp left": 0, "corrupt": 0}
        failures = []
        distinct = fsmodel.states(self.tree, self.points, cands, SEED)
        stats["distinct"] = len(distinct)
        for p, label, state, done in fsmodel.sample(distinct, LIMIT, SEED):
            stats["checked"] += 1
            why = self.check_files(state, done)
            view = {q: digest(e) for q, e in state.items() if not is_temp(q)}
            kind = ("after" if view == {q: d for q, d in self.final_digest.items() if not is_temp(q)}
                    else "before" if view == {q: digest(e) for q, e in self.base.items()}
                    else "between")
            stats[kind] += 1
            self.build(state)
            stats["temp left"] += bool(self.leftovers())
            why += self.check_registry(state)
            why += judge(state)
            left = [f for f in self.leftovers() if f.startswith("registry/")]
            if left:
                why.append(f"temporary files the next registry write left: {left}")
            if why:
                stats["corrupt"] += 1
                failures.append(f"{label}:\n  " + "\n  ".join(why))
        line = f"crash states: registry: {name}: " + ", ".join(f"{v} {k}" for k, v in stats.items())
        REPORT.append(line)
        print("\n" + line)
        assert not failures, f"{len(failures)} corrupt states of {stats['checked']}:\n" + \
            "\n".join(failures[:5])
