"""VHDX files built from Microsoft's VHDX Format Specification v1.00 in
Python, independently of vdisk's C code, for what qemu-img cannot make:
differencing files, 4096-byte logical sectors, every payload block state,
logs left to replay, damaged tables.  No tests here.

Every integer is little endian; GUIDs in their binary form are Python's
uuid.bytes_le.  Layout of the files built here: header section (1 MiB),
log (1 MiB), BAT, metadata region (1 MiB), then payload and sector bitmap
blocks appended in the order they are added.
"""
import struct
import uuid

MiB = 1 << 20

BAT_GUID = uuid.UUID("2DC27766-F623-4200-9D64-115E9BFD4A08")
META_GUID = uuid.UUID("8B7CA206-4790-4B9A-B8FE-575F050F886E")
FILE_PARAMS = uuid.UUID("CAA16737-FA36-4D43-B3B6-33F0AA44E76B")
VSIZE = uuid.UUID("2FA54224-CD1B-4876-B211-5DBED83BF4B8")
PAGE83 = uuid.UUID("BECA12AB-B2E6-4523-93EF-C309E000C746")
LSEC = uuid.UUID("8141BF1D-A96F-4709-BA47-F233A8FAAB5F")
PSEC = uuid.UUID("CDA348C7-445D-4471-9CC9-E9885251C556")
PARENT_LOC = uuid.UUID("A8D35F2D-B30B-454D-ABF7-D3D84834AB0C")
PARENT_TYPE = uuid.UUID("B04AEFB7-D19E-4A81-B789-25B8E9445913")

NOT_PRESENT, UNDEFINED, ZERO, UNMAPPED, FULLY, PARTIAL = 0, 1, 2, 3, 6, 7
SB_PRESENT = 6


def _table():
    t = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        t.append(c)
    return t


_T = _table()


def crc32c(data):
    c = 0xFFFFFFFF
    for b in data:
        c = _T[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF


def with_crc(buf, at):
    buf = bytearray(buf)
    buf[at:at + 4] = b"\0\0\0\0"
    struct.pack_into("<I", buf, at, crc32c(buf))
    return bytes(buf)


def header(seq, log_guid=None, log_offset=MiB, log_length=MiB, data_write=None):
    b = bytearray(4096)
    b[0:4] = b"head"
    struct.pack_into("<Q", b, 8, seq)
    b[16:32] = uuid.uuid4().bytes_le
    b[32:48] = (data_write or uuid.uuid4()).bytes_le
    b[48:64] = log_guid.bytes_le if log_guid else bytes(16)
    struct.pack_into("<HHIQ", b, 64, 0, 1, log_length, log_offset)
    return with_crc(b, 4)


def region_table(entries):
    """entries: (guid, offset, length, required)."""
    b = bytearray(64 << 10)
    b[0:4] = b"regi"
    struct.pack_into("<I", b, 8, len(entries))
    for i, (g, off, length, req) in enumerate(entries):
        struct.pack_into("<16sQII", b, 16 + 32 * i, g.bytes_le, off, length, 1 if req else 0)
    return with_crc(b, 4)


def locator(kv):
    """The parent locator item: type, count, entries, then UTF-16LE text."""
    keys = list(kv.items())
    head = bytearray(20 + 12 * len(keys))
    head[0:16] = PARENT_TYPE.bytes_le
    struct.pack_into("<H", head, 18, len(keys))
    text = bytearray()
    base = len(head)
    for i, (k, v) in enumerate(keys):
        kb, vb = k.encode("utf-16-le"), v.encode("utf-16-le")
        ko = base + len(text)
        text += kb
        vo = base + len(text)
        text += vb
        struct.pack_into("<IIHH", head, 20 + 12 * i, ko, vo, len(kb), len(vb))
    return bytes(head + text)


def metadata(block_size, size, lsec, psec, fixed=False, parent_kv=None, extra=()):
    """The metadata region (1 MiB).  extra: (guid, bytes, flags) items."""
    items = [(FILE_PARAMS, struct.pack("<II", block_size, (1 if fixed else 0) | (2 if parent_kv else 0)), 4),
             (VSIZE, struct.pack("<Q", size), 6), (PAGE83, uuid.uuid4().bytes_le, 6),
             (LSEC, struct.pack("<I", lsec), 6), (PSEC, struct.pack("<I", psec), 6)]
    if parent_kv is not None:
        items.append((PARENT_LOC, locator(parent_kv), 6))
    items += list(extra)
    b = bytearray(MiB)
    b[0:8] = b"metadata"
    struct.pack_into("<H", b, 10, len(items))
    off = 64 << 10
    for i, (g, data, flags) in enumerate(items):
        struct.pack_into("<16sIII", b, 32 + 32 * i, g.bytes_le, off, len(data), flags)
        b[off:off + len(data)] = data
        off += len(data)
    return bytes(b)


def log_entry(guid, seq, tail, flushed, last, updates=(), zeros=()):
    """One log entry: data descriptors for (offset, 4096 bytes) updates and
    zero descriptors for (offset, length)."""
    n = len(updates) + len(zeros)
    ds = (64 + 32 * n + 4095) // 4096
    size = (ds + len(updates)) * 4096
    b = bytearray(size)
    b[0:4] = b"loge"
    struct.pack_into("<IIQII16sQQ", b, 8, size, tail, seq, n, 0, guid.bytes_le, flushed, last)
    d = 64
    for i, (off, data) in enumerate(updates):
        assert len(data) == 4096
        struct.pack_into("<4sI8sQQ", b, d, b"desc", struct.unpack("<I", data[4092:])[0], data[:8], off, seq)
        sec = (ds + i) * 4096
        struct.pack_into("<4sI", b, sec, b"data", seq >> 32)
        b[sec + 8:sec + 4092] = data[8:4092]
        struct.pack_into("<I", b, sec + 4092, seq & 0xFFFFFFFF)
        d += 32
    for off, length in zeros:
        struct.pack_into("<4sIQQQ", b, d, b"zero", 0, length, off, seq)
        d += 32
    return with_crc(b, 4)


class Image:
    """A VHDX in memory: payload blocks and their states, written out by
    write().  expected() is what a reader must see."""

    def __init__(self, size, block_size=MiB, lsec=512, psec=4096, parent_kv=None, fixed=False):
        self.size, self.bs, self.lsec, self.psec = size, block_size, lsec, psec
        self.parent_kv, self.fixed = parent_kv, fixed
        self.cr = (1 << 23) * lsec // block_size
        self.pb = (size + block_size - 1) // block_size
        sb = (self.pb + self.cr - 1) // self.cr
        self.entries = sb * (self.cr + 1) if parent_kv is not None else self.pb + (self.pb - 1) // self.cr
        self.bat = [0] * self.entries
        self.log_off, self.log_len = MiB, MiB
        self.bat_off = 2 * MiB
        self.bat_len = max(MiB, (self.entries * 8 + MiB - 1) // MiB * MiB)
        self.meta_off = self.bat_off + self.bat_len
        self.end = self.meta_off + MiB
        self.chunks = {}        # file offset -> bytes
        self.bitmaps = {}       # chunk -> (file offset, bytearray)
        self.content = {}       # block -> (state, data, present sectors or None)
        self.data_write = uuid.uuid4()
        self.log = None         # (guid, [entries])

    def _alloc(self, length):
        off = self.end
        self.end += (length + MiB - 1) // MiB * MiB
        return off

    def _entry(self, block):
        return block + block // self.cr

    def block(self, b, data, state=FULLY):
        off = self._alloc(self.bs)
        self.chunks[off] = data
        self.bat[self._entry(b)] = off | state
        self.content[b] = (state, data, None)

    def state(self, b, state):
        self.bat[self._entry(b)] = state
        self.content[b] = (state, None, None)

    def partial(self, b, data, sectors):
        """A PARTIALLY_PRESENT block: `sectors` (logical sector numbers
        within the block) come from this file, the rest from the parent."""
        chunk = b // self.cr
        if chunk not in self.bitmaps:
            off = self._alloc(MiB)
            self.bitmaps[chunk] = (off, bytearray(MiB))
            self.bat[chunk * (self.cr + 1) + self.cr] = off | SB_PRESENT
        bm = self.bitmaps[chunk][1]
        first = (b % self.cr) * (self.bs // self.lsec)
        for s in sectors:
            bit = first + s
            bm[bit // 8] |= 1 << (bit % 8)
        self.block(b, data, PARTIAL)
        self.content[b] = (PARTIAL, data, set(sectors))

    def write(self, path, headers=None):
        with open(path, "wb") as f:
            f.truncate(self.end)
            f.write(b"vhdxfile" + "vhdx_build.py".encode("utf-16-le"))
            log_guid = self.log[0] if self.log else None
            hdrs = headers or [header(1, log_guid, data_write=self.data_write),
                               header(2, log_guid, data_write=self.data_write)]
            for i, h in enumerate(hdrs):
                f.seek((64 << 10) * (i + 1))
                f.write(h)
            rt = region_table([(BAT_GUID, self.bat_off, self.bat_len, True),
                               (META_GUID, self.meta_off, MiB, True)])
            for at in (192 << 10, 256 << 10):
                f.seek(at)
                f.write(rt)
            f.seek(self.bat_off)
            f.write(struct.pack(f"<{self.entries}Q", *self.bat))
            f.seek(self.meta_off)
            f.write(metadata(self.bs, self.size, self.lsec, self.psec, self.fixed, self.parent_kv))
            for off, data in self.chunks.items():
                f.seek(off)
                f.write(data)
            for off, bm in self.bitmaps.values():
                f.seek(off)
                f.write(bytes(bm))
            if self.log:
                pos = 0
                for e in self.log[1]:
                    f.seek(self.log_off + pos)
                    f.write(e)
                    pos += len(e)

    def expected(self, parent_raw=b""):
        """What the file must read as: its blocks by state, the parent's
        data where it has none (zeros without a parent)."""
        out = bytearray(self.size)
        base = parent_raw[:self.size]
        if self.parent_kv is not None:
            out[:len(base)] = base
        for b, (state, data, present) in self.content.items():
            start = b * self.bs
            end = min(start + self.bs, self.size)
            if state == FULLY:
                out[start:end] = data[:end - start]
            elif state == PARTIAL:
                for s in present:
                    o = start + s * self.lsec
                    if o < end:
                        out[o:o + self.lsec] = data[s * self.lsec:(s + 1) * self.lsec]
            elif state != NOT_PRESENT or self.parent_kv is None:
                out[start:end] = bytes(end - start)
        return bytes(out)


def current_data_write_guid(path):
    """The DataWriteGuid of a VHDX's current header (for parent_linkage)."""
    with open(path, "rb") as f:
        hs = []
        for at in (64 << 10, 128 << 10):
            f.seek(at)
            hs.append(f.read(4096))
    seqs = [struct.unpack_from("<Q", h, 8)[0] for h in hs]
    cur = hs[0] if seqs[0] > seqs[1] else hs[1]
    return uuid.UUID(bytes_le=cur[32:48])
