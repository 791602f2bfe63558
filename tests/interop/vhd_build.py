"""VHD (vpc) structures built from Microsoft's "Virtual Hard Disk Image
Format Specification" in Python, independently of vdisk's C code, for what
qemu-img cannot make: differencing disks, footers of other creator
applications, damaged headers.  No tests here.

Every integer of the format is big endian.  Footer: 512 bytes; dynamic
header: 1024 bytes; BAT: one 32-bit sector number per block (0xFFFFFFFF:
unallocated); a block is its sector bitmap (one bit per sector, most
significant bit first, padded to whole sectors) then its data.
"""
import struct
import uuid

FOOTER = 512
DYNHDR = 1024
SECTOR = 512
UNUSED = 0xFFFFFFFF
FIXED, DYNAMIC, DIFF = 2, 3, 4


def checksum(buf, at):
    """One's complement of the byte sum, the checksum field counted as 0."""
    s = sum(buf[:at]) + sum(buf[at + 4:])
    return (~s) & 0xFFFFFFFF


def footer(size, dtype, creator=b"qemu", chs=None, data_offset=None, uid=None, current=None):
    """A 512-byte footer.  chs defaults to the spec's geometry for size."""
    c, h, s = chs if chs else geometry(size // SECTOR)
    b = bytearray(FOOTER)
    b[0:8] = b"conectix"
    struct.pack_into(">IIQI", b, 8, 2, 0x10000,
                     0xFFFFFFFFFFFFFFFF if data_offset is None else data_offset, 0)
    b[28:32] = creator
    struct.pack_into(">HH", b, 32, 5, 3)
    b[36:40] = b"Wi2k"
    struct.pack_into(">QQHBBI", b, 40, size, size if current is None else current, c, h, s, dtype)
    b[68:84] = (uid or uuid.uuid4()).bytes
    struct.pack_into(">I", b, 64, checksum(b, 64))
    return bytes(b)


def refresh_footer_checksum(b):
    b = bytearray(b)
    struct.pack_into(">I", b, 64, checksum(b, 64))
    return bytes(b)


def geometry(sectors):
    """The spec's appendix "CHS Calculation"."""
    sectors = min(sectors, 65535 * 16 * 255)
    if sectors >= 65535 * 16 * 63:
        spt, heads = 255, 16
        cth = sectors // spt
    else:
        spt = 17
        cth = sectors // spt
        heads = max((cth + 1023) // 1024, 4)
        if cth >= heads * 1024 or heads > 16:
            spt, heads = 31, 16
            cth = sectors // spt
        if cth >= heads * 1024:
            spt, heads = 63, 16
            cth = sectors // spt
    return cth // heads, heads, spt


def dynheader(table_offset, entries, block_size, parent_uuid=b"\0" * 16, parent_name="",
              locators=()):
    """locators: (platform code bytes, data offset, data length, space)."""
    b = bytearray(DYNHDR)
    b[0:8] = b"cxsparse"
    struct.pack_into(">QQIII", b, 8, 0xFFFFFFFFFFFFFFFF, table_offset, 0x10000, entries, block_size)
    b[40:56] = parent_uuid
    name = parent_name.encode("utf-16-be")[:512]
    b[64:64 + len(name)] = name
    for i, (code, off, length, space) in enumerate(locators):
        struct.pack_into(">4sIIIQ", b, 576 + 24 * i, code, space, length, 0, off)
    struct.pack_into(">I", b, 36, checksum(b, 36))
    return bytes(b)


def footer_uuid(path, fixed=False):
    with open(path, "rb") as f:
        if fixed:
            f.seek(-FOOTER, 2)
        return f.read(FOOTER)[68:84]


def differencing(path, size, parent_uuid, blocks, locators, block_size=2 << 20, parent_name="",
                 dtype=DIFF):
    """A differencing disk (or with dtype=DYNAMIC a dynamic one).  blocks:
    {index: (data bytes of block_size, set of sector numbers present)};
    locators: [(code, bytes)] stored after the BAT.  Returns nothing; the
    caller computes what it should read."""
    entries = (size + block_size - 1) // block_size
    bat_off = FOOTER + DYNHDR
    bat_len = (entries * 4 + SECTOR - 1) // SECTOR * SECTOR
    pos = bat_off + bat_len
    locs = []
    payload = []
    for code, data in locators:
        space = (len(data) + SECTOR - 1) // SECTOR * SECTOR
        locs.append((code, pos, len(data), space // SECTOR))
        payload.append((pos, data))
        pos += space
    bitmap_len = (block_size // SECTOR // 8 + SECTOR - 1) // SECTOR * SECTOR
    bat = [UNUSED] * entries
    for index in sorted(blocks):
        data, present = blocks[index]
        bm = bytearray(bitmap_len)
        for s in present:
            bm[s // 8] |= 0x80 >> (s % 8)
        bat[index] = pos // SECTOR
        payload.append((pos, bytes(bm) + data))
        pos += bitmap_len + block_size
    foot = footer(size, dtype, creator=b"win ", data_offset=FOOTER)
    with open(path, "wb") as f:
        f.write(foot)
        f.write(dynheader(bat_off, entries, block_size, parent_uuid, parent_name, locs))
        f.write(struct.pack(f">{entries}I", *bat))
        for off, data in payload:
            f.seek(off)
            f.write(data)
        f.seek(pos)
        f.write(foot)


def expected_diff(parent_raw, size, blocks, block_size=2 << 20):
    """What a differencing disk reads: the parent, overridden sector by
    sector where the child's bitmap says so (zeros past the parent)."""
    out = bytearray(size)
    out[:min(size, len(parent_raw))] = parent_raw[:size]
    for index, (data, present) in blocks.items():
        for s in present:
            off = index * block_size + s * SECTOR
            if off < size:
                out[off:off + SECTOR] = data[s * SECTOR:(s + 1) * SECTOR]
    return bytes(out)
