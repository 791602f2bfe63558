"""Power-loss crash states of a directory tree, from the events fsrecord.py
logged (the file-system counterpart of crashgen.py, which works on one
image's I/O log).

The model is POSIX's promise, nothing more (no file system's journal
ordering is assumed):
  - a file's data, size and mode are durable once fsync/fdatasync of that
    file returned; before, each change since the last one may have reached
    the disk or not;
  - a directory entry change (a create, rename, link, unlink, mkdir, rmdir)
    is durable once fsync of every directory it touches returned; before,
    it may have happened or not.  A rename is one change: the old name or
    the new one, never both or neither;
  - sync/syncfs makes everything durable.

For each crash point (before the first event, after each event) a state
keeps the durable tree and any combination of the pending changes; a
pending write may also have landed as zeros (the size grew, the data did
not: a crash right after a delayed allocation) or torn (a seeded random
half of its 512-byte sectors).  Combinations are exhaustive up to
`exhaustive_max` per crash point, else: all landed, none landed, each
change alone missing (or zeroed, or torn), each change alone landed, and
`random_states` seeded random ones.
"""
import hashlib
import itertools
import os
import random
import stat
import zlib

from fsrecord import Unsupported

SECTOR = 512


class Inode:
    __slots__ = ("ino", "kind", "data", "mode", "ddata", "dmode", "pending", "entries",
                 "dentries")

    def __init__(self, ino, kind, mode, data=b"", entries=None):
        self.ino, self.kind, self.mode = ino, kind, mode
        self.data = self.ddata = data
        self.dmode = mode
        self.pending = []          # data ops since the last fsync: ("w", off, data)...
        self.entries = dict(entries or {})      # live (directories)
        self.dentries = dict(entries or {})     # durable


def apply_data(data, mode, op, how="present", rng=None):
    """One data op on (bytes, mode), landed as `how`."""
    if how == "absent":
        return data, mode
    kind = op[0]
    img = bytearray(data)
    if kind == "w":
        off, buf = op[1], op[2]
        end = off + len(buf)
        if len(img) < end:
            img.extend(bytes(end - len(img)))
        if how == "present":
            img[off:end] = buf
        elif how == "torn":
            n = (len(buf) + SECTOR - 1) // SECTOR
            for i in sorted(rng.sample(range(n), max(1, n // 2))):
                img[off + i * SECTOR:min(end, off + (i + 1) * SECTOR)] = \
                    buf[i * SECTOR:(i + 1) * SECTOR]
        # "zeros": the size grew, the data did not land
    elif kind == "t":
        del img[op[1]:]
        img.extend(bytes(op[1] - len(img)))
    elif kind == "a":
        if len(img) < op[1] + op[2]:
            img.extend(bytes(op[1] + op[2] - len(img)))
    elif kind == "z":
        end = min(op[1] + op[2], len(img))
        img[op[1]:end] = bytes(max(0, end - op[1]))
    elif kind == "m":
        mode = op[1]
    return bytes(img), mode


def choices(op, size):
    """How a pending data op may have landed."""
    if op[0] != "w":
        return ("present", "absent")
    out = ["present", "absent"]
    if op[1] + len(op[2]) > size:
        out.append("zeros")
    if len(op[2]) > SECTOR:
        out.append("torn")
    return tuple(out)


class Tree:
    """The live tree as the events change it, and its durable part."""

    def __init__(self, root):
        self.root = os.path.realpath(root)
        self.inodes = {}
        self.items = []            # pending entry changes: [seq, ops, dirs left]
        self.seq = 0
        self.root_ino = self.load(self.root)

    def new(self, kind, mode, data=b"", entries=None):
        ino = len(self.inodes) + 1
        self.inodes[ino] = Inode(ino, kind, mode, data, entries)
        return ino

    def load(self, path):
        """The tree as it is on disk before the command: all durable."""
        st = os.lstat(path)
        if stat.S_ISDIR(st.st_mode):
            entries = {name: self.load(os.path.join(path, name)) for name in os.listdir(path)}
            return self.new("d", stat.S_IMODE(st.st_mode), entries=entries)
        if not stat.S_ISREG(st.st_mode):
            raise Unsupported(f"{path} is neither a file nor a directory")
        with open(path, "rb") as f:
            return self.new("f", stat.S_IMODE(st.st_mode), f.read())

    # -- lookups ------------------------------------------------------------
    def parent(self, path):
        rel = os.path.relpath(path, self.root)
        parts = rel.split("/")
        d = self.root_ino
        for p in parts[:-1]:
            d = self.inodes[d].entries[p]
        return d, parts[-1]

    def lookup(self, path):
        if path == self.root:
            return self.root_ino
        d, name = self.parent(path)
        return self.inodes[d].entries.get(name)

    # -- events -------------------------------------------------------------
    def entry_change(self, ops):
        """ops: (dir, name, ino, set?) applied live now, durable later."""
        for d, name, ino, put in ops:
            entries = self.inodes[d].entries
            if put:
                entries[name] = ino
            elif entries.get(name) == ino:
                del entries[name]
        self.items.append([self.seq, ops, {d for d, _, _, _ in ops}])

    def data_change(self, ino, op):
        node = self.inodes[ino]
        node.data, node.mode = apply_data(node.data, node.mode, op)
        node.pending.append(op)

    def event(self, ev):
        self.seq += 1
        kind = ev[0]
        if kind == "open":
            _, path, creat, trunc, mode = ev
            ino = self.lookup(path)
            if ino is None and creat:
                d, name = self.parent(path)
                self.entry_change([(d, name, self.new("f", mode), True)])
            elif ino is not None and trunc:
                self.data_change(ino, ("t", 0))
        elif kind == "write":
            self.data_change(self.lookup(ev[1]), ("w", ev[2], ev[3]))
        elif kind == "trunc":
            self.data_change(self.lookup(ev[1]), ("t", ev[2]))
        elif kind == "alloc":
            self.data_change(self.lookup(ev[1]), ("a", ev[2], ev[3]))
        elif kind == "zero":
            self.data_change(self.lookup(ev[1]), ("z", ev[2], ev[3]))
        elif kind == "chmod":
            self.data_change(self.lookup(ev[1]), ("m", ev[2]))
        elif kind == "fsync":
            self.fsync(self.lookup(ev[1]))
        elif kind == "sync":
            for ino in list(self.inodes):
                self.fsync(ino)
        elif kind in ("rename", "link"):
            ino = self.lookup(ev[1])
            (od, oname), (nd, nname) = self.parent(ev[1]), self.parent(ev[2])
            if ev[1] != ev[2]:
                ops = [(nd, nname, ino, True)]
                if kind == "rename":
                    ops.insert(0, (od, oname, ino, False))
                self.entry_change(ops)
        elif kind in ("unlink", "rmdir"):
            d, name = self.parent(ev[1])
            self.entry_change([(d, name, self.lookup(ev[1]), False)])
        elif kind == "mkdir":
            d, name = self.parent(ev[1])
            self.entry_change([(d, name, self.new("d", ev[2]), True)])
        else:
            raise Unsupported(f"event {ev}")

    def fsync(self, ino):
        node = self.inodes[ino]
        node.ddata, node.dmode, node.pending = node.data, node.mode, []
        if node.kind != "d":
            return
        for item in self.items:
            item[2].discard(ino)
        for item in [i for i in self.items if not i[2]]:
            apply_entries(self.inodes, item[1])
        self.items = [i for i in self.items if i[2]]

    # -- views ------------------------------------------------------------------
    def point(self):
        """What a crash now could keep: (durable entries and data of every
        inode, pending entry changes, pending data ops per inode)."""
        return ({ino: (n.dentries.copy() if n.kind == "d" else None, n.ddata, n.dmode)
                 for ino, n in self.inodes.items()},
                [(i[0], tuple(i[1])) for i in self.items],
                {ino: tuple(n.pending) for ino, n in self.inodes.items() if n.pending})

    def live(self):
        """path -> (kind, mode, data, ino) of the live tree."""
        return walk(self.root_ino, lambda ino: self.inodes[ino].entries,
                    lambda ino: (self.inodes[ino].kind, self.inodes[ino].mode,
                                 self.inodes[ino].data))


def apply_entries(inodes, ops, table=None):
    """Entry changes on the durable entries (of inodes, or of table)."""
    for d, name, ino, put in ops:
        entries = table[d] if table is not None else inodes[d].dentries
        if put:
            entries[name] = ino
        elif entries.get(name) == ino:
            del entries[name]


def walk(root_ino, entries_of, node_of, prefix=""):
    out = {}
    for name, ino in sorted(entries_of(root_ino).items()):
        kind, mode, data = node_of(ino)
        path = prefix + name
        out[path] = (kind, mode, data, ino)
        if kind == "d":
            out.update(walk(ino, entries_of, node_of, path + "/"))
    return out


def materialize(root_ino, point, take_items, data_hows, rng):
    """The tree a crash leaves: the durable part, the entry changes in
    take_items (indexes) and each pending data op landed as data_hows says."""
    durable, items, pending = point
    table = {ino: e.copy() for ino, (e, _, _) in durable.items() if e is not None}
    for k in take_items:
        apply_entries(None, items[k][1], table)
    contents = {}
    for ino, (_, data, mode) in durable.items():
        for i, op in enumerate(pending.get(ino, ())):
            data, mode = apply_data(data, mode, op, data_hows.get((ino, i), "present"), rng)
        contents[ino] = (data, mode)
    kinds = {ino: "d" if e is not None else "f" for ino, (e, _, _) in durable.items()}
    return walk(root_ino, lambda ino: table[ino],
                lambda ino: (kinds[ino], contents[ino][1], contents[ino][0]))


def combos(slots, rng, exhaustive_max, random_states):
    """Index tuples into each slot's alternatives (alternative 0: landed)."""
    total = 1
    for s in slots:
        total *= len(s)
    if total <= exhaustive_max:
        yield from itertools.product(*[range(len(s)) for s in slots])
        return
    n = len(slots)
    yield (0,) * n
    yield tuple(1 for _ in slots)
    for i, s in enumerate(slots):
        for alt in range(1, len(s)):
            yield tuple(alt if j == i else 0 for j in range(n))
        yield tuple(0 if j == i else 1 for j in range(n))
    for _ in range(random_states):
        yield tuple(rng.randrange(len(s)) for s in slots)


def candidates(points, labels, seed=0, exhaustive_max=64, random_states=16):
    """Every crash state as (point index, label, slots, combo)."""
    rng = random.Random(seed)
    out = []
    for p, point in enumerate(points):
        durable, items, pending = point
        slots = [("entry", k, (True, False)) for k in range(len(items))]
        for ino, ops in sorted(pending.items()):
            size = len(durable[ino][1])
            for i, op in enumerate(ops):
                slots.append(("data", (ino, i), choices(op, size)))
                if op[0] == "w":
                    size = max(size, op[1] + len(op[2]))
        for combo in combos([s[2] for s in slots], rng, exhaustive_max, random_states):
            missing = [f"{s[0]} {s[1]}: {s[2][c]}" for s, c in zip(slots, combo) if c]
            out.append((p, f"crash {labels[p]}; " + (", ".join(missing) or "every change landed"),
                        slots, combo))
    return out


def states(tree, points, cands, seed=0):
    """The distinct trees of the candidates: [(point index, label, tree,
    done)]: the first candidate that leaves each, done when a crash after
    the last event (the commands finished) can leave it too."""
    index, out = {}, []
    last = len(points) - 1
    for p, label, slots, combo in cands:
        rng = random.Random(zlib.crc32(f"{seed} {label}".encode()))
        take = [s[1] for s, c in zip(slots, combo) if s[0] == "entry" and s[2][c]]
        hows = {s[1]: s[2][c] for s, c in zip(slots, combo) if s[0] == "data"}
        t = materialize(tree.root_ino, points[p], take, hows, rng)
        h = hashlib.sha1()
        for path, (kind, mode, data, _) in sorted(t.items()):
            h.update(f"{path}\0{kind}\0{mode}\0".encode() + hashlib.sha1(data).digest())
        h = h.digest()
        if h not in index:
            index[h] = len(out)
            out.append([p, label, t, False])
        if p == last:
            out[index[h]][3] = True
            out[index[h]][1] += f" (and {label})" if out[index[h]][0] != last else ""
    return out


def sample(distinct, limit=None, seed=0):
    """A seeded sample of at most `limit` distinct states (all when None),
    the states of the last crash point (the operation finished) always in."""
    if limit is None or len(distinct) <= limit:
        return distinct
    keep = [i for i, d in enumerate(distinct) if d[3]][:limit]
    rest = [i for i in range(len(distinct)) if i not in keep]
    keep += random.Random(seed).sample(rest, limit - len(keep))
    return [distinct[i] for i in sorted(keep)]
