/* libvdisk — streamOptimized VMDK: deflated grains and the stream layout.
 *
 * Virtual Disk Format 5.0, "Stream-Optimized Compressed Sparse Extents":
 * the file is written front to back, never seeking back.  The header says
 * gdOffset = GD_AT_END; then come the grains, each a marker (lba, size)
 * followed by its zlib-deflated bytes and padded to a sector; after the
 * grains of one grain table, a GT marker and the table; at the end a GD
 * marker and the grain directory, a footer marker and a copy of the header
 * with the real gdOffset, and an end-of-stream marker.  A reader takes the
 * footer (the last sector but one) instead of the header.
 *
 * vdisk writes exactly that layout (VMware's import tools read it, and so
 * does qemu-img).  qemu-img's own streamOptimized files keep the tables in
 * front like monolithicSparse; vdisk reads those and appends to them as
 * QEMU does (sparse.c).  Appending to a stream of vdisk's layout: the new
 * grains go where the old GD marker was, and a flush writes directory,
 * footer and end marker after them again.  The file is a valid image after
 * every flush and at close -- not in between, as for any stream writer.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "vmdk.h"

/* Bytes read first for a grain: its marker and, usually, all its data. */
#define FIRST_READ 4096u
/* A grain marker: lba (8) and compressed size (4). */
#define GRAIN_MARKER 12u

uint64_t
vmdk_table_sectors(uint32_t n)
{
    return ((uint64_t)n * 4 + VMDK_SECTOR - 1) / VMDK_SECTOR;
}

static uint64_t
pad_sector(uint64_t v)
{
    return (v + VMDK_SECTOR - 1) / VMDK_SECTOR * VMDK_SECTOR;
}

int
vmdk_stream_read_footer(vdisk_file *f, const char *name, uint64_t file_len, vmdk_header *h,
                        vdisk_error *err)
{
    uint8_t tail[3 * VMDK_SECTOR];
    uint64_t end = pad_sector(file_len);
    if (end < 4 * VMDK_SECTOR)
        return vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL,
                                    "%s: stream too short for a footer", name);
    int r = vdisk_file_pread(f, tail, sizeof(tail), end - sizeof(tail), err);
    if (r < 0)
        return r;
    vmdk_marker fm, eos;
    vmdk_marker_decode(tail, &fm);
    vmdk_marker_decode(tail + 2 * VMDK_SECTOR, &eos);
    if (!vmdk_is_sparse_magic(tail + VMDK_SECTOR) || fm.size != 0 || fm.type != VMDK_MARKER_FOOTER ||
        eos.value != 0 || eos.size != 0 || eos.type != VMDK_MARKER_EOS)
        return vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL,
                                    "%s: invalid footer (the header says the grain directory "
                                    "is at the end of the stream)", name);
    vmdk_header_decode(tail + VMDK_SECTOR, h);
    if (h->gd_offset == VMDK_GD_AT_END)
        return vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL,
                                    "%s: the footer does not say where the grain directory is",
                                    name);
    return 0;
}

int
vmdk_stream_find_tail(vmdk_sparse *s, vdisk_error *err)
{
    uint8_t sector[VMDK_SECTOR];
    vmdk_marker m = { 0 };
    int r = s->gd_offset >= 2 * VMDK_SECTOR
                ? vdisk_file_pread(s->file, sector, sizeof(sector), s->gd_offset - VMDK_SECTOR, err)
                : vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL,
                                       "%s: grain directory at 0x%" PRIx64, s->name, s->gd_offset);
    if (r < 0)
        return r;
    vmdk_marker_decode(sector, &m);
    if (m.size != 0 || m.type != VMDK_MARKER_GD)
        return vdisk_error_set(err, ENOTSUP, "%s: cannot append to this streamOptimized image: its "
                               "grain directory has no GD marker", s->name);
    s->alloc = s->gd_offset - VMDK_SECTOR;
    return 0;
}

/* The compressed size a grain marker gives.  A grain marker is 12 bytes
 * (lba, size) followed by the deflated data: vmdk_marker_decode, made for
 * the 16-byte head of a metadata marker's sector, would read 4 bytes past
 * a grain marker that ends the file. */
static uint32_t
grain_marker_size(const uint8_t *p)
{
    return vmdk_le32(p + 8);
}

/* Read the marker and deflated bytes at off into a buffer of their size
 * (*data, *len: the deflated bytes).  *buf is the allocation to free. */
static int
read_deflated(vmdk_sparse *s, uint64_t off, uint8_t **buf, const uint8_t **data, uint32_t *len,
              vdisk_error *err)
{
    uint64_t avail = s->file_len - off;
    uint64_t first = avail < FIRST_READ ? avail : FIRST_READ;
    uint64_t limit = 2 * (uint64_t)s->grain + VMDK_SECTOR;   /* deflate can grow data a little */
    *buf = malloc(first);
    int r = *buf ? vdisk_file_pread(s->file, *buf, first, off, err)
                 : vdisk_error_set(err, ENOMEM, "%s: out of memory", s->name);
    if (r < 0)
        return r;
    if (!s->markers) {
        /* No marker says how long it is: the stream ends where inflate stops. */
        uint64_t want = avail < limit ? avail : limit;
        uint8_t *b = want > first ? realloc(*buf, want) : *buf;
        if (!b)
            return vdisk_error_set(err, ENOMEM, "%s: out of memory", s->name);
        *buf = b;
        r = want > first ? vdisk_file_pread(s->file, b + first, want - first, off + first, err) : 0;
        *data = b;
        *len = (uint32_t)want;
        return r;
    }
    if (first < GRAIN_MARKER)
        return vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL,
                                    "%s: grain marker at 0x%" PRIx64 " is cut off by the end "
                                    "of the file", s->name, off);
    uint32_t size = grain_marker_size(*buf);
    if (size == 0 || size > limit || GRAIN_MARKER + (uint64_t)size > avail)
        return vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL,
                                    "%s: grain at 0x%" PRIx64 " has a bad marker (%" PRIu32
                                    " compressed bytes)", s->name, off, size);
    uint64_t total = GRAIN_MARKER + (uint64_t)size;
    if (total > first) {
        uint8_t *b = realloc(*buf, total);
        if (!b)
            return vdisk_error_set(err, ENOMEM, "%s: out of memory", s->name);
        *buf = b;
        r = vdisk_file_pread(s->file, b + first, total - first, off + first, err);
    }
    *data = *buf + GRAIN_MARKER;
    *len = size;
    return r;
}

int
vmdk_inflater_init(vmdk_inflater *f, vmdk_sparse *s, vdisk_error *err)
{
    memset(f, 0, sizeof(*f));
    f->s = s;
    if (!(f->zs = vmdk_zpool_get(&s->zpool, false)))
        return vdisk_error_set(err, ENOMEM, "%s: out of memory", s->name);
    return 0;
}

void
vmdk_inflater_free(vmdk_inflater *f)
{
    vmdk_zpool_put(&f->s->zpool, f->zs);
    f->zs = NULL;
}

int
vmdk_inflater_window(vmdk_inflater *f, const uint32_t *gte, uint32_t n, vdisk_error *err)
{
    vmdk_sparse *s = f->s;
    f->win_len = 0;
    if (!s->markers || n < 2)
        return 1;
    /* The grains that lie in order within the window's size. */
    /* Room for the last grain: a grain that did not shrink, and its
     * marker (a larger one is read on its own). */
    uint64_t off = (uint64_t)gte[0] * VMDK_SECTOR, tail = (uint64_t)s->grain + 2 * VMDK_SECTOR;
    uint32_t k = 1;
    while (k < n && gte[k] > gte[k - 1] &&
           (uint64_t)(gte[k] - gte[0]) * VMDK_SECTOR + tail <= VMDK_MAX_WINDOW)
        k++;
    if (k < 2 || off >= s->file_len)
        return 1;
    uint64_t span = (uint64_t)(gte[k - 1] - gte[0]) * VMDK_SECTOR + tail;
    if (span > s->file_len - off)
        span = s->file_len - off;
    vmdk_zstream *zs = f->zs;
    if (span > zs->cap) {
        free(zs->buf);
        zs->cap = 0;
        if (!(zs->buf = malloc(VMDK_MAX_WINDOW)))
            return vdisk_error_set(err, ENOMEM, "%s: out of memory", s->name);
        zs->cap = VMDK_MAX_WINDOW;
    }
    int r = vdisk_file_pread(s->file, zs->buf, span, off, err);
    if (r < 0)
        return r;
    f->win_off = off;
    f->win_len = span;
    return (int)k;
}

/* The deflated bytes of the grain at off, from the window when it holds
 * them. */
static bool
from_window(vmdk_inflater *f, uint64_t off, const uint8_t **data, uint32_t *len)
{
    if (f->win_len == 0 || off < f->win_off || off - f->win_off + GRAIN_MARKER > f->win_len)
        return false;
    const uint8_t *p = f->zs->buf + (off - f->win_off);
    uint32_t size = grain_marker_size(p);
    if (size == 0 || size > 2 * (uint64_t)f->s->grain + VMDK_SECTOR ||
        off - f->win_off + GRAIN_MARKER + size > f->win_len)
        return false;   /* read on its own, which reports what is wrong */
    *data = p + GRAIN_MARKER;
    *len = size;
    return true;
}

/* Inflate len bytes of a zlib stream into out (s->grain bytes at most). */
static int
inflate_grain(vmdk_inflater *f, uint64_t off, const uint8_t *data, uint32_t len, uint8_t *out,
              uint32_t *out_len, vdisk_error *err)
{
    vmdk_sparse *s = f->s;
    z_stream *z = &f->zs->z;
    int r = f->zs->ready ? inflateReset(z) : inflateInit(z);
    f->zs->ready = f->zs->ready || r == Z_OK;
    if (r == Z_OK) {
        z->next_in = (Bytef *)data;
        z->avail_in = len;
        z->next_out = out;
        z->avail_out = s->grain;
        r = inflate(z, Z_FINISH);
    }
    if (r != Z_STREAM_END)
        return vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL,
                                    "%s: grain at 0x%" PRIx64 " does not inflate (zlib error "
                                    "%d)", s->name, off, r);
    *out_len = s->grain - z->avail_out;
    return 0;
}

int
vmdk_inflater_grain(vmdk_inflater *f, uint32_t gte, uint8_t *out, uint32_t *out_len,
                    vdisk_error *err)
{
    vmdk_sparse *s = f->s;
    uint64_t off = (uint64_t)gte * VMDK_SECTOR;
    if (off >= s->file_len)
        return vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL,
                                    "%s: grain at 0x%" PRIx64 " lies outside the file (%" PRIu64
                                    " bytes)", s->name, off, s->file_len);
    const uint8_t *data = NULL;
    uint32_t len = 0;
    if (from_window(f, off, &data, &len))
        return inflate_grain(f, off, data, len, out, out_len, err);
    uint8_t *buf = NULL;
    int r = read_deflated(s, off, &buf, &data, &len, err);
    if (r == 0)
        r = inflate_grain(f, off, data, len, out, out_len, err);
    free(buf);
    return r;
}

/* Write len bytes at s->alloc and move it on (sector aligned). */
static int
append(vmdk_sparse *s, const uint8_t *buf, uint64_t len, vdisk_error *err)
{
    if ((s->alloc + len) / VMDK_SECTOR > UINT32_MAX)
        return vdisk_error_set(err, ENOSPC, "%s: the stream is full (a sparse extent ends at 2 TiB)",
                               s->name);
    int r = vdisk_file_pwrite(s->file, buf, len, s->alloc, err);
    if (r < 0)
        return r;
    s->alloc += len;
    if (s->alloc > s->file_len)
        s->file_len = s->alloc;
    return 0;
}

int
vmdk_deflate(vmdk_zstream *zs, const uint8_t *in, uint32_t len, int level, uint8_t *out,
             uint32_t cap, uint32_t *clen)
{
    z_stream *z = &zs->z;
    int r = zs->ready ? deflateReset(z) : deflateInit(z, level);
    zs->ready = zs->ready || r == Z_OK;
    if (r == Z_OK)
        r = deflateParams(z, level, Z_DEFAULT_STRATEGY);
    if (r != Z_OK)
        return -EIO;
    z->next_in = (Bytef *)in;
    z->avail_in = len;
    z->next_out = out;
    z->avail_out = cap;
    r = deflate(z, Z_FINISH);
    if (r == Z_OK || r == Z_BUF_ERROR)
        return -ENOSPC;   /* it does not fit */
    if (r != Z_STREAM_END)
        return -EIO;
    *clen = cap - z->avail_out;
    return 0;
}

void
vmdk_stream_writer_free(vmdk_sparse *s)
{
    free(s->wbuf);
    s->wbuf = NULL;
}

/* The writer's buffer: a marker and a deflated grain, padded. */
static uint8_t *
writer_buffer(vmdk_sparse *s, vdisk_error *err)
{
    if (!s->wbuf && !(s->wbuf = malloc(pad_sector(GRAIN_MARKER + compressBound(s->grain)))))
        vdisk_error_set(err, ENOMEM, "%s: out of memory", s->name);
    return s->wbuf;
}

/* Append wbuf's marker for grain g and clen deflated bytes after it. */
static int
append_grain(vmdk_sparse *s, uint64_t g, uint32_t clen, vdisk_error *err)
{
    uint32_t at = (uint32_t)(s->alloc / VMDK_SECTOR);
    vmdk_put_le64(s->wbuf, g * (s->grain / VMDK_SECTOR));
    vmdk_put_le32(s->wbuf + 8, clen);
    uint64_t total = pad_sector(GRAIN_MARKER + (uint64_t)clen);
    memset(s->wbuf + GRAIN_MARKER + clen, 0, total - GRAIN_MARKER - clen);
    int r = append(s, s->wbuf, total, err);
    return r < 0 ? r : vmdk_gt_set(s, g, at, err);
}

int
vmdk_stream_write_grain(vmdk_sparse *s, uint64_t g, const uint8_t *data, uint32_t len, int level,
                        vdisk_error *err)
{
    if (!writer_buffer(s, err))
        return -ENOMEM;
    uint32_t clen = 0;
    uint32_t cap = (uint32_t)compressBound(s->grain);
    vmdk_zstream *zs = vmdk_zpool_get(&s->zpool, true);
    int r = zs ? vmdk_deflate(zs, data, len, level, s->wbuf + GRAIN_MARKER, cap, &clen) : -ENOMEM;
    vmdk_zpool_put(&s->zpool, zs);
    if (r < 0)
        return vdisk_error_set(err, -r == ENOMEM ? ENOMEM : EIO, "%s: deflate failed", s->name);
    return append_grain(s, g, clen, err);
}

int
vmdk_stream_store_grain(vmdk_sparse *s, uint64_t g, const uint8_t *deflated, uint32_t clen,
                        vdisk_error *err)
{
    if (!writer_buffer(s, err))
        return -ENOMEM;
    memcpy(s->wbuf + GRAIN_MARKER, deflated, clen);
    return append_grain(s, g, clen, err);
}

int
vmdk_stream_write_gt(vmdk_sparse *s, uint32_t t, const uint32_t *gte, vdisk_error *err)
{
    bool empty = true;
    for (uint32_t i = 0; i < s->gt_entries && empty; i++)
        empty = gte[i] == 0;
    s->gd_dirty = s->trailer_dirty = true;
    if (empty) {
        /* A table of unwritten grains need not be in the stream. */
        s->gd[t] = 0;
        return 0;
    }
    uint64_t sectors = vmdk_table_sectors(s->gt_entries);
    uint8_t *buf = calloc(1, (1 + sectors) * VMDK_SECTOR);
    if (!buf)
        return vdisk_error_set(err, ENOMEM, "%s: out of memory", s->name);
    vmdk_marker_encode_meta(sectors, VMDK_MARKER_GT, buf);
    for (uint32_t i = 0; i < s->gt_entries; i++)
        vmdk_put_le32(buf + VMDK_SECTOR + 4 * (size_t)i, gte[i]);
    uint32_t at = (uint32_t)(s->alloc / VMDK_SECTOR) + 1;
    int r = append(s, buf, (1 + sectors) * VMDK_SECTOR, err);
    free(buf);
    if (r == 0)
        s->gd[t] = at;
    return r;
}

int
vmdk_stream_write_trailer(vmdk_sparse *s, vdisk_error *err)
{
    uint64_t gds = vmdk_table_sectors(s->gd_entries);
    uint64_t len = (gds + 4) * VMDK_SECTOR;
    uint8_t *buf = calloc(1, len);
    if (!buf)
        return vdisk_error_set(err, ENOMEM, "%s: out of memory", s->name);
    uint64_t at = s->alloc;
    vmdk_marker_encode_meta(gds, VMDK_MARKER_GD, buf);
    for (uint32_t i = 0; i < s->gd_entries; i++)
        vmdk_put_le32(buf + VMDK_SECTOR + 4 * (size_t)i, s->gd[i]);
    uint8_t *foot = buf + (1 + gds) * VMDK_SECTOR;
    vmdk_marker_encode_meta(1, VMDK_MARKER_FOOTER, foot);
    vmdk_header h = s->h;
    h.gd_offset = at / VMDK_SECTOR + 1;
    vmdk_header_encode(&h, foot + VMDK_SECTOR);
    /* The end-of-stream marker is the zero sector left at the end. */
    int r = append(s, buf, len, err);
    free(buf);
    if (r == 0)
        r = vdisk_file_truncate(s->file, s->alloc, err);
    if (r < 0)
        return r;
    s->file_len = s->alloc;
    s->gd_offset = at + VMDK_SECTOR;
    s->alloc = at;
    s->gd_dirty = s->trailer_dirty = false;
    return vdisk_file_flush(s->file, err);
}
