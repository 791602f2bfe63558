"""Power-loss crash states from an I/O log of the record protocol
(core/protocol/record.c: vdisk-record:PATH logs to PATH.iolog).

A power loss keeps everything up to the last completed flush and any subset
of the writes issued after it; a write larger than 4 KiB may also be torn
at sector (512-byte) granularity.  For each crash point (each run of
changes between two flushes, and the run after the last one) the states
are:

  exhaustive   every subset, when the run has at most `exhaustive_max`
               changes;
  otherwise    nothing, everything, every "one change missing", every "only
               one change present", and `random_subsets` seeded random
               subsets;
  torn         for every write over 4 KiB: the run with that write torn
               (a seeded random half of its sectors), and that write torn
               alone.

States are deduplicated by content (two subsets that leave the same bytes
are one state): tests count the candidates ("states") and the distinct
states checked.
"""
import hashlib
import random
import struct

WRITE, ZERO, DISCARD, TRUNCATE, FLUSH, ALLOCATE = 1, 2, 3, 4, 5, 6
HEAD = struct.Struct("=IIQQ")
SECTOR = 512
TEAR_ABOVE = 4096


class Change:
    """One logged change: op, off, length and (writes) the bytes."""
    __slots__ = ("op", "off", "len", "data")

    def __init__(self, op, off, length, data=None):
        self.op, self.off, self.len, self.data = op, off, length, data

    def torn(self, rng):
        """The write with a random half of its sectors (at least one, not
        all) kept: a list of partial writes."""
        n = (self.len + SECTOR - 1) // SECTOR
        keep = sorted(rng.sample(range(n), max(1, n // 2)))
        return [Change(WRITE, self.off + i * SECTOR,
                       min(SECTOR, self.len - i * SECTOR),
                       self.data[i * SECTOR:(i + 1) * SECTOR]) for i in keep]


def read_log(path):
    """The changes of a log, in order, FLUSH records included."""
    out = []
    with open(path, "rb") as f:
        buf = f.read()
    pos = 0
    while pos < len(buf):
        if pos + HEAD.size > len(buf):
            raise ValueError(f"{path}: truncated record at {pos}")
        op, _, off, length = HEAD.unpack_from(buf, pos)
        pos += HEAD.size
        data = None
        if op == WRITE:
            data = buf[pos:pos + length]
            if len(data) != length:
                raise ValueError(f"{path}: truncated write record at {pos}")
            pos += length
        elif op not in (ZERO, DISCARD, TRUNCATE, FLUSH, ALLOCATE):
            raise ValueError(f"{path}: unknown op {op} at {pos - HEAD.size}")
        out.append(Change(op, off, length, data))
    return out


def epochs(changes):
    """Split into runs between flushes: [(durable_flushes, [changes])]: the
    run after the k-th completed flush has k flushes durable before it."""
    runs, cur, k = [], [], 0
    for c in changes:
        if c.op == FLUSH:
            runs.append((k, cur))
            cur, k = [], k + 1
        else:
            cur.append(c)
    runs.append((k, cur))
    return runs


def apply(img, changes):
    """Apply changes to a bytearray image, in order."""
    for c in changes:
        if c.op == WRITE:
            end = c.off + c.len
            if len(img) < end:
                img.extend(bytes(end - len(img)))
            img[c.off:end] = c.data
        elif c.op in (ZERO, DISCARD):
            end = min(c.off + c.len, len(img))
            if c.off < end:
                img[c.off:end] = bytes(end - c.off)
            if c.op == ZERO and len(img) < c.off + c.len:
                img.extend(bytes(c.off + c.len - len(img)))
        elif c.op == TRUNCATE:
            if c.off < len(img):
                del img[c.off:]
            else:
                img.extend(bytes(c.off - len(img)))
        elif c.op == ALLOCATE:
            if len(img) < c.off + c.len:
                img.extend(bytes(c.off + c.len - len(img)))


def subsets(n, rng, exhaustive_max, random_subsets):
    """Index sets of the changes that reached the disk."""
    if n <= exhaustive_max:
        for mask in range(1 << n):
            yield tuple(i for i in range(n) if mask >> i & 1)
        return
    yield ()
    yield tuple(range(n))
    for i in range(n):
        yield tuple(j for j in range(n) if j != i)
        yield (i,)
    for _ in range(random_subsets):
        yield tuple(i for i in range(n) if rng.random() < 0.5)


def candidates(base, changes, seed=0, exhaustive_max=8, random_subsets=32):
    """Every crash state as (k, label, durable image, changes that landed):
    k counts the flushes completed before the crash.  The durable images
    are shared between the states of one run."""
    rng = random.Random(seed)
    durable = bytes(base)
    out = []
    for k, run in epochs(changes):
        n = len(run)
        for sub in subsets(n, rng, exhaustive_max, random_subsets):
            out.append((k, f"after flush {k}: {len(sub)}/{n} changes landed "
                           f"{list(sub)[:10]}{'...' if len(sub) > 10 else ''}",
                        durable, [run[i] for i in sub]))
        for i, c in enumerate(run):
            if c.op == WRITE and c.len > TEAR_ABOVE:
                torn = c.torn(rng)
                out.append((k, f"after flush {k}: all {n} changes, change {i} torn",
                            durable, run[:i] + torn + run[i + 1:]))
                out.append((k, f"after flush {k}: only change {i}, torn", durable, torn))
        img = bytearray(durable)
        apply(img, run)
        durable = bytes(img)
    return out


def crash_states(cands, limit=None, seed=0):
    """Yield (k, label, image bytes) for a seeded sample of at most `limit`
    candidates (all when None), skipping states whose bytes were already
    yielded."""
    if limit is not None and len(cands) > limit:
        rng = random.Random(seed)
        cands = [cands[i] for i in sorted(rng.sample(range(len(cands)), limit))]
    seen = set()
    for k, label, durable, chosen in cands:
        img = bytearray(durable)
        apply(img, chosen)
        h = hashlib.sha1(img).digest()
        if h in seen:
            continue
        seen.add(h)
        yield k, label, bytes(img)
