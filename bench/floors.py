"""The floors the benchmark's ratios are read against.

* Copy floor: `cp --sparse=always SRC DST` of the same raw data in the same
  directory, timed like the tools (synced inside the time).  cp reads the
  data once, writes it once and skips holes and zero blocks: no image tool
  can copy the same bytes with less work.
* Compression floor: the CPU time to compress every cluster of the input
  that is not all zeros, each on its own, with the format's library and
  parameters (zlib: raw deflate, default level, 4 KiB window, memLevel 9, as
  QEMU; zstd: default level, one frame per cluster), divided by the number
  of CPUs: what a tool that compresses every cluster needs at least, on all
  cores, before reading or writing a byte.  (vdisk can go under it with
  zlib: it skips deflate for clusters that cannot shrink.)
"""
import ctypes
import os
import time
import zlib

CLUSTER = 64 * 1024


def cp_floor(runner, src, dst, cold=True):
    """One timed cp of src to dst (in runner's directory); a Runner result."""
    result = runner.timed(["cp", "--sparse=always", src, dst], durable=dst, cold=cold)
    try:
        os.unlink(runner.workdir / dst)
    except FileNotFoundError:
        pass
    return result


class _Zstd:
    """libzstd through ctypes (the Python standard library has no zstd)."""

    def __init__(self):
        self.lib = ctypes.CDLL("libzstd.so.1")
        self.lib.ZSTD_createCCtx.restype = ctypes.c_void_p
        self.lib.ZSTD_freeCCtx.argtypes = [ctypes.c_void_p]
        self.lib.ZSTD_compress2.restype = ctypes.c_size_t
        self.lib.ZSTD_compress2.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_size_t,
                                            ctypes.c_char_p, ctypes.c_size_t]
        self.cctx = self.lib.ZSTD_createCCtx()
        self.out = ctypes.create_string_buffer(CLUSTER)

    def compress(self, data):
        return self.lib.ZSTD_compress2(self.cctx, self.out, CLUSTER, data, len(data))

    def close(self):
        self.lib.ZSTD_freeCCtx(self.cctx)


def _data_clusters(path):
    """Every CLUSTER-sized piece of the file's data extents that is not all
    zeros (holes and zero clusters are skipped by every tool)."""
    zero = bytes(CLUSTER)
    fd = os.open(path, os.O_RDONLY)
    try:
        size = os.fstat(fd).st_size
        off = 0
        while off < size:
            try:
                off = os.lseek(fd, off, os.SEEK_DATA)
            except OSError:
                break
            end = os.lseek(fd, off, os.SEEK_HOLE)
            off -= off % CLUSTER
            while off < end:
                buf = os.pread(fd, CLUSTER, off)
                if buf != zero[:len(buf)]:
                    yield buf.ljust(CLUSTER, b"\0")
                off += CLUSTER
    finally:
        os.close(fd)


def compression_floor(path, ctype):
    """{'cpu_s': CPU seconds on one core, 'floor_s': that over the CPUs,
    'clusters': how many} for compressing path's data clusters with ctype."""
    zs = _Zstd() if ctype == "zstd" else None
    cpu, n = 0.0, 0
    try:
        for buf in _data_clusters(path):
            t0 = time.process_time()
            if zs:
                zs.compress(buf)
            else:
                c = zlib.compressobj(zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, -12, 9)
                c.compress(buf)
                c.flush()
            cpu += time.process_time() - t0
            n += 1
    finally:
        if zs:
            zs.close()
    return {"cpu_s": cpu, "floor_s": cpu / (os.cpu_count() or 1), "clusters": n}
