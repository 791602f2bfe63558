"""The host file system's view of a file (no tests here): holes, extents
reserved but never written (FIEMAP_EXTENT_UNWRITTEN, what fallocate leaves)
and written extents, through the FS_IOC_FIEMAP ioctl itself -- the
kernel's answer, not vdisk's (tools/filefrag -v prints the same)."""
import fcntl
import os
import struct

FS_IOC_FIEMAP = 0xC020660B
FIEMAP_FLAG_SYNC = 0x1
FIEMAP_EXTENT_LAST = 0x1
FIEMAP_EXTENT_UNWRITTEN = 0x800
HEADER = struct.Struct("=QQLLLL")       # struct fiemap
EXTENT = struct.Struct("=QQQQQLLLL")    # struct fiemap_extent
BATCH = 256


def extents(path):
    """[(logical, length, unwritten)] of the whole file, in order."""
    out = []
    start = 0
    with open(path, "rb") as f:
        while True:
            buf = bytearray(HEADER.pack(start, (1 << 64) - 1 - start, FIEMAP_FLAG_SYNC, 0, BATCH, 0)
                            + bytes(EXTENT.size * BATCH))
            fcntl.ioctl(f.fileno(), FS_IOC_FIEMAP, buf)
            mapped = HEADER.unpack_from(buf)[3]
            if mapped == 0:
                return out
            last = False
            for i in range(mapped):
                logical, _, length, _, _, flags, _, _, _ = EXTENT.unpack_from(
                    buf, HEADER.size + i * EXTENT.size)
                out.append((logical, length, bool(flags & FIEMAP_EXTENT_UNWRITTEN)))
                last = flags & FIEMAP_EXTENT_LAST
                start = logical + length
            if last:
                return out


def host_kinds(path):
    """Bytes of the file (up to its length) that are holes, unwritten, written."""
    size = os.stat(path).st_size
    kinds = {"hole": size, "unwritten": 0, "data": 0}
    for logical, length, unwritten in extents(path):
        n = max(0, min(logical + length, size) - logical)
        kinds["unwritten" if unwritten else "data"] += n
        kinds["hole"] -= n
    return kinds


def supported(path):
    try:
        extents(path)
        return True
    except OSError:
        return False
