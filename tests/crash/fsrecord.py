"""A recording of what a command does to the files under one directory, at
the system-call level: the command runs under strace(1) and its calls that
change files or make them durable are turned into events for fsmodel.py.

The record protocol (core/protocol/record.c) sees only image I/O; the
embedded registry and the pool code write their files (pool and secret
definitions, the volume records) with plain write/fsync/rename calls, and
an LD_PRELOAD shim (tests/faults/fault-shim.c) would miss calls made inside
libc (stdio) and does not know the file offsets.  strace sees every call,
with each descriptor's path (-y) and every byte written (-xx, -s).

Events (paths absolute, under the root):
  ("open", path, creat, trunc, mode)
                                open with O_CREAT or O_TRUNC (fsmodel
                                knows whether the file existed)
  ("trunc", path, size)         ftruncate, truncate
  ("write", path, off, data)    write, pwrite, writev, pwritev
  ("alloc", path, off, len)     fallocate that may grow the file
  ("zero", path, off, len)      fallocate that punches or zeroes a range
  ("chmod", path, mode)         fchmod, chmod, fchmodat
  ("fsync", path)               fsync, fdatasync (a file or a directory)
  ("rename", old, new)          rename, renameat, renameat2
  ("link", old, new)            link, linkat
  ("unlink", path)              unlink, unlinkat
  ("mkdir", path, mode)         mkdir, mkdirat
  ("rmdir", path)               rmdir, unlinkat(AT_REMOVEDIR)
  ("sync",)                     sync, syncfs: everything durable

A call the model cannot follow on a file under the root (a write to a
descriptor whose offset is unknown, mmap, copy_file_range, a clone ioctl)
raises Unsupported: the recording never silently misses a change (and
fsmodel checks that the replayed tree is the one the command left).
"""
import os
import re
import subprocess

SYSCALLS = ("open,openat,creat,write,pwrite64,writev,pwritev,pwritev2,lseek,close,"
            "fsync,fdatasync,sync,syncfs,rename,renameat,renameat2,unlink,unlinkat,"
            "mkdir,mkdirat,rmdir,link,linkat,symlink,symlinkat,ftruncate,truncate,"
            "fallocate,fchmod,fchmodat,chmod,dup,dup2,dup3,copy_file_range,mmap")
MAX_STRING = 1 << 22

LINE = re.compile(r"^(\d+) +(\w+)\((.*)\) += (-?\d+|\?)(?:<((?:\\x[0-9a-f]{2})*)>)?")
HEX = re.compile(r"\\x([0-9a-f]{2})")
STRING = re.compile(r'"((?:\\x[0-9a-f]{2})*)"(\.\.\.)?')
FD = re.compile(r"^(AT_FDCWD|-?\d+)<((?:\\x[0-9a-f]{2})*)>$")

FALLOC_FL_KEEP_SIZE, FALLOC_FL_PUNCH_HOLE, FALLOC_FL_ZERO_RANGE = 0x1, 0x2, 0x10


class Unsupported(Exception):
    """A call on a file under the root that the recording cannot model."""


def unhex(s, raw=False):
    b = bytes(int(h, 16) for h in HEX.findall(s))
    return b if raw else os.fsdecode(b)


def split_args(args):
    """Top-level comma-separated arguments (strings are hex: no commas)."""
    out, depth, cur = [], 0, ""
    for ch in args:
        if ch in "[{":
            depth += 1
        elif ch in "]}":
            depth -= 1
        if ch == "," and depth == 0:
            out.append(cur.strip())
            cur = ""
        else:
            cur += ch
    if cur.strip():
        out.append(cur.strip())
    return out


def join_lines(lines):
    """Merge "<unfinished ...>" calls with their "<... resumed>" ends."""
    pending = {}
    for line in lines:
        m = re.match(r"^(\d+) +(.*)$", line)
        if not m:
            continue
        pid, rest = m[1], m[2]
        if rest.endswith("<unfinished ...>"):
            pending[pid] = rest[:-len("<unfinished ...>")]
            continue
        r = re.match(r"^<\.\.\. \w+ resumed>(.*)$", rest)
        if r:
            rest = pending.pop(pid, "") + r[1]
        yield f"{pid} {rest}"


class Parser:
    """Turns strace -f -y -xx lines into events on the files under root."""

    def __init__(self, root):
        self.root = os.path.realpath(root)
        self.pos = {}          # fd -> offset (one process: threads share them)
        self.sync_fds = set()  # fds opened O_SYNC / O_DSYNC
        self.events = []

    def under(self, path):
        return path == self.root or path.startswith(self.root + "/")

    def at_path(self, dirfd_arg, name_arg):
        name = unhex(STRING.match(name_arg)[1])
        if name.startswith("/"):
            return os.path.normpath(name)
        m = FD.match(dirfd_arg)
        return os.path.normpath(os.path.join(unhex(m[2]), name))

    def fd_path(self, arg):
        m = FD.match(arg)
        return (int(m[1]), unhex(m[2])) if m and m[1] != "AT_FDCWD" else (None, None)

    def emit(self, *ev):
        if all(not isinstance(p, str) or not p.startswith("/") or self.under(p)
               for p in ev[1:3]):
            self.events.append(ev)
        elif any(isinstance(p, str) and p.startswith("/") and self.under(p) for p in ev[1:3]):
            raise Unsupported(f"{ev[0]} across the root: {ev[1:3]}")

    def data_of(self, args, ret):
        strings = STRING.findall(args)
        if any(trunc for _, trunc in strings):
            raise Unsupported("a write longer than strace's -s limit")
        data = b"".join(unhex(s, raw=True) for s, _ in strings)
        return data[:ret]

    def line(self, text):
        m = LINE.match(text)
        if not m or m[4] == "?" or int(m[4]) < 0:
            return
        name, args, ret = m[2], split_args(m[3]), int(m[4])
        getattr(self, "on_" + name, self.on_other)(name, args, ret, unhex(m[5] or ""), m[3])

    # -- opening and offsets -------------------------------------------------
    def opened(self, fd, path, flags, mode):
        if not self.under(path):
            return
        self.pos[fd] = 0
        if "O_SYNC" in flags or "O_DSYNC" in flags:
            self.sync_fds.add(fd)
        else:
            self.sync_fds.discard(fd)
        if "O_APPEND" in flags:
            raise Unsupported(f"O_APPEND on {path}")
        if "O_CREAT" in flags or "O_TRUNC" in flags:
            self.emit("open", path, "O_CREAT" in flags, "O_TRUNC" in flags,
                      int(mode, 8) & ~UMASK & 0o7777)

    def on_openat(self, name, args, ret, retpath, raw):
        path = retpath or self.at_path(args[0], args[1])
        flags = args[2]
        mode = args[3] if len(args) > 3 else "0"
        self.opened(ret, path, flags, mode)

    def on_open(self, name, args, ret, retpath, raw):
        self.on_openat(name, ["AT_FDCWD<>", *args], ret, retpath, raw)

    def on_creat(self, name, args, ret, retpath, raw):
        self.on_openat(name, ["AT_FDCWD<>", args[0], "O_WRONLY|O_CREAT|O_TRUNC", args[1]],
                       ret, retpath, raw)

    def on_lseek(self, name, args, ret, retpath, raw):
        fd, path = self.fd_path(args[0])
        if path and self.under(path):
            self.pos[fd] = ret

    def on_close(self, name, args, ret, retpath, raw):
        fd, _ = self.fd_path(args[0])
        self.pos.pop(fd, None)

    # -- data ----------------------------------------------------------------
    def written(self, fd, path, off, data):
        self.emit("write", path, off, data)
        if fd in self.sync_fds:
            self.emit("fsync", path)

    def on_write(self, name, args, ret, retpath, raw):
        fd, path = self.fd_path(args[0])
        if not path or not self.under(path):
            return
        if fd not in self.pos:
            raise Unsupported(f"{name} to {path} at an unknown offset (fd {fd})")
        self.written(fd, path, self.pos[fd], self.data_of(args[1], ret))
        self.pos[fd] += ret

    on_writev = on_write

    def on_pwrite64(self, name, args, ret, retpath, raw):
        fd, path = self.fd_path(args[0])
        if path and self.under(path):
            off = int(args[-1]) if name == "pwrite64" else int(args[3])
            self.written(fd, path, off, self.data_of(",".join(args[1:-1 if name == "pwrite64" else 3]), ret))

    on_pwritev = on_pwritev2 = on_pwrite64

    def on_ftruncate(self, name, args, ret, retpath, raw):
        fd, path = self.fd_path(args[0])
        if path and self.under(path):
            self.emit("trunc", path, int(args[1]))

    def on_truncate(self, name, args, ret, retpath, raw):
        self.emit("trunc", self.at_path("AT_FDCWD<>", args[0]), int(args[1]))

    def on_fallocate(self, name, args, ret, retpath, raw):
        fd, path = self.fd_path(args[0])
        if not path or not self.under(path):
            return
        mode = 0
        for flag in args[1].split("|"):
            mode |= {"FALLOC_FL_KEEP_SIZE": FALLOC_FL_KEEP_SIZE,
                     "FALLOC_FL_PUNCH_HOLE": FALLOC_FL_PUNCH_HOLE,
                     "FALLOC_FL_ZERO_RANGE": FALLOC_FL_ZERO_RANGE}.get(flag, 0)
            if flag not in ("0", "FALLOC_FL_KEEP_SIZE", "FALLOC_FL_PUNCH_HOLE",
                            "FALLOC_FL_ZERO_RANGE"):
                raise Unsupported(f"fallocate mode {args[1]} on {path}")
        off, length = int(args[2]), int(args[3])
        if mode & (FALLOC_FL_PUNCH_HOLE | FALLOC_FL_ZERO_RANGE):
            self.emit("zero", path, off, length)
        if not mode & FALLOC_FL_KEEP_SIZE:
            self.emit("alloc", path, off, length)

    def on_fchmod(self, name, args, ret, retpath, raw):
        fd, path = self.fd_path(args[0])
        if path and self.under(path):
            self.emit("chmod", path, int(args[1], 8))

    def on_fchmodat(self, name, args, ret, retpath, raw):
        self.emit("chmod", self.at_path(args[0], args[1]), int(args[2], 8))

    def on_chmod(self, name, args, ret, retpath, raw):
        self.on_fchmodat(name, ["AT_FDCWD<>", *args], ret, retpath, raw)

    # -- durability ----------------------------------------------------------
    def on_fsync(self, name, args, ret, retpath, raw):
        fd, path = self.fd_path(args[0])
        if path and self.under(path):
            self.emit("fsync", path)

    on_fdatasync = on_fsync

    def on_sync(self, name, args, ret, retpath, raw):
        self.events.append(("sync",))

    on_syncfs = on_sync

    # -- names ---------------------------------------------------------------
    def on_renameat2(self, name, args, ret, retpath, raw):
        if name == "rename":
            args = ["AT_FDCWD<>", args[0], "AT_FDCWD<>", args[1]]
        if len(args) > 4 and "RENAME_EXCHANGE" in args[4]:
            raise Unsupported("RENAME_EXCHANGE")
        self.emit("rename", self.at_path(args[0], args[1]), self.at_path(args[2], args[3]))

    on_renameat = on_rename = on_renameat2

    def on_linkat(self, name, args, ret, retpath, raw):
        if name == "link":
            args = ["AT_FDCWD<>", args[0], "AT_FDCWD<>", args[1], "0"]
        self.emit("link", self.at_path(args[0], args[1]), self.at_path(args[2], args[3]))

    on_link = on_linkat

    def on_unlinkat(self, name, args, ret, retpath, raw):
        if name in ("unlink", "rmdir"):
            args = ["AT_FDCWD<>", args[0], "AT_REMOVEDIR" if name == "rmdir" else "0"]
        path = self.at_path(args[0], args[1])
        self.emit("rmdir" if "AT_REMOVEDIR" in args[2] else "unlink", path)

    on_unlink = on_rmdir = on_unlinkat

    def on_mkdirat(self, name, args, ret, retpath, raw):
        if name == "mkdir":
            args = ["AT_FDCWD<>", *args]
        self.emit("mkdir", self.at_path(args[0], args[1]), int(args[2], 8) & ~UMASK & 0o7777)

    on_mkdir = on_mkdirat

    # -- calls the model does not follow --------------------------------------
    def on_other(self, name, args, ret, retpath, raw):
        paths = [unhex(m[2]) for m in (FD.match(a) for a in args) if m]
        paths += [unhex(s) for s, _ in STRING.findall(raw)] if name.startswith("symlink") else []
        if name in ("dup", "dup2", "dup3"):
            # The two descriptors share one offset: a write through either
            # is then at an unknown offset (a directory read is fine).
            fd, _ = self.fd_path(args[0])
            self.pos.pop(fd, None)
            return
        if name == "mmap":
            if "PROT_WRITE" in raw and "MAP_SHARED" in raw and any(self.under(p) for p in paths):
                raise Unsupported(f"a shared writable mmap of {paths}")
            return
        if any(p.startswith("/") and self.under(p) for p in paths):
            raise Unsupported(f"{name} on {paths}")


UMASK = 0o022


def record(root, argv, env, log):
    """Run argv under strace with umask 022; the events on files under root.
    The command's CompletedProcess is returned too."""
    strace = ["strace", "-f", "-qq", "-y", "-xx", "-s", str(MAX_STRING), "-e", "signal=none",
              "-e", f"trace={SYSCALLS}", "-o", str(log)]
    p = subprocess.run([*strace, *map(str, argv)], env=env, capture_output=True, text=True,
                       preexec_fn=lambda: os.umask(UMASK))
    return p, parse(root, log)


def parse(root, log):
    """The events of an strace log."""
    parser = Parser(root)
    with open(log, encoding="ascii", errors="replace") as f:
        for text in join_lines(line.rstrip("\n") for line in f):
            parser.line(text)
    return parser.events
