/* libvdisk — qcow2 compressed clusters: zlib (raw deflate, 4 KiB window,
 * as QEMU writes it) and zstd, for reading and for whole-cluster
 * compressed writes (vdisk_pwrite_compressed).
 *
 * Compressed data is packed byte-wise into host clusters; a host cluster's
 * refcount counts the compressed clusters that touch it (refcount.c,
 * qcow2_alloc_bytes), as QEMU does.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>
#include <zstd.h>
#include <zstd_errors.h>

#include "qcow2.h"

static int
zlib_compress(const uint8_t *in, size_t in_len, uint8_t *out, size_t out_cap, size_t *out_len)
{
    z_stream z;
    memset(&z, 0, sizeof(z));
    if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -12, 9, Z_DEFAULT_STRATEGY) != Z_OK)
        return -ENOMEM;
    z.next_in = (Bytef *)in;
    z.avail_in = (uInt)in_len;
    z.next_out = out;
    z.avail_out = (uInt)out_cap;
    int ret = deflate(&z, Z_FINISH);
    *out_len = out_cap - z.avail_out;
    deflateEnd(&z);
    return ret == Z_STREAM_END ? 0 : -ENOSPC;
}

static int
zstd_compress(const uint8_t *in, size_t in_len, uint8_t *out, size_t out_cap, size_t *out_len)
{
    ZSTD_CCtx *c = ZSTD_createCCtx();
    if (!c)
        return -ENOMEM;
    size_t n = ZSTD_compressCCtx(c, out, out_cap, in, in_len, ZSTD_CLEVEL_DEFAULT);
    ZSTD_freeCCtx(c);
    if (ZSTD_isError(n))
        return ZSTD_getErrorCode(n) == ZSTD_error_dstSize_tooSmall ? -ENOSPC : -EIO;
    *out_len = n;
    return 0;
}

int
qcow2_compress(int type, const uint8_t *in, size_t in_len, uint8_t *out, size_t out_cap,
               size_t *out_len)
{
    return type == 1 ? zstd_compress(in, in_len, out, out_cap, out_len)
                     : zlib_compress(in, in_len, out, out_cap, out_len);
}

static int
zlib_decompress(const uint8_t *in, size_t in_len, uint8_t *out, size_t out_len)
{
    z_stream z;
    memset(&z, 0, sizeof(z));
    if (inflateInit2(&z, -12) != Z_OK)
        return -ENOMEM;
    z.next_in = (Bytef *)in;
    z.avail_in = (uInt)in_len;
    z.next_out = out;
    z.avail_out = (uInt)out_len;
    int ret = inflate(&z, Z_FINISH);
    bool ok = (ret == Z_STREAM_END || ret == Z_BUF_ERROR) && z.avail_out == 0;
    inflateEnd(&z);
    return ok ? 0 : -EIO;
}

/* Streaming, because the stored data is followed by sector padding (and
 * possibly the next compressed cluster): stop once the cluster is full. */
static int
zstd_decompress(const uint8_t *in, size_t in_len, uint8_t *out, size_t out_len)
{
    ZSTD_DCtx *d = ZSTD_createDCtx();
    if (!d)
        return -ENOMEM;
    ZSTD_inBuffer ib = { in, in_len, 0 };
    ZSTD_outBuffer ob = { out, out_len, 0 };
    int r = -EIO;
    while (ob.pos < ob.size) {
        size_t prev_in = ib.pos, prev_out = ob.pos;
        size_t ret = ZSTD_decompressStream(d, &ob, &ib);
        if (ZSTD_isError(ret))
            break;
        if (ob.pos == ob.size) {
            r = 0;
            break;
        }
        if (ret == 0 || (ib.pos == prev_in && ob.pos == prev_out))
            break;   /* frame ended short, or no progress */
    }
    ZSTD_freeDCtx(d);
    return r;
}

int
qcow2_decompress(int type, const uint8_t *in, size_t in_len, uint8_t *out, size_t out_len)
{
    return type == 1 ? zstd_decompress(in, in_len, out, out_len)
                     : zlib_decompress(in, in_len, out, out_len);
}

int
qcow2_decompress_cluster(qcow2_state *s, uint64_t entry, uint8_t *out, vdisk_error *err)
{
    uint64_t coff = entry & s->coffset_mask;
    uint64_t nsec = ((entry >> s->csize_shift) & s->csize_mask) + 1;
    uint64_t csize = nsec * 512 - (coff & 511);
    if (coff >= QCOW2_MAX_HOST_OFFSET || coff < s->cluster_size)
        return vdisk_error_set(err, EIO, "%s: compressed cluster at 0x%" PRIx64 " is outside the "
                               "image data area", s->name, coff);
    uint8_t *in = qcow2_buf_get(s, csize);
    if (!in)
        return vdisk_error_set(err, ENOMEM, "%s: out of memory", s->name);
    int r = vdisk_file_pread(s->file, in, (size_t)csize, coff, err);
    if (r == 0 && qcow2_decompress(s->compression_type, in, csize, out, s->cluster_size) < 0)
        r = vdisk_error_set(err, EIO, "%s: compressed cluster at 0x%" PRIx64 " (%" PRIu64 " bytes, "
                            "%s) cannot be decompressed", s->name, coff, csize,
                            s->compression_type == 1 ? "zstd" : "zlib");
    qcow2_buf_put(s, in, csize);
    return r;
}

/* Store one compressed cluster for guest cluster gc (lock held). */
static int
store_compressed(qcow2_state *s, uint64_t gc, const uint8_t *data, size_t clen, vdisk_error *err)
{
    int r = qcow2_mark_dirty(s, err);
    if (r < 0)
        return r;
    qcow2_inflight_wait(s, gc, gc + 1);
    uint64_t coff;
    r = qcow2_alloc_bytes(s, clen, &coff, err);
    if (r == 0)
        r = vdisk_file_pwrite(s->file, data, clen, coff, err);
    if (r < 0)
        return r;
    uint64_t nsec = ((coff + clen - 1) >> 9) - (coff >> 9);
    uint64_t entry = QCOW_OFLAG_COMPRESSED | (nsec << s->csize_shift) | coff;
    struct qcow2_freelist fl = { 0 };
    uint8_t *t;
    uint32_t idx;
    r = qcow2_l2_get_for_write(s, gc, &t, &idx, &fl, err);
    if (r == 0) {
        uint64_t old, obm;
        qcow2_l2_get_entry(s, t, idx, &old, &obm);
        qcow2_l2_set_entry(s, t, idx, entry, 0);
        qcow2_cache_mark_dirty(s->l2_cache, t);
        qcow2_cache_put(s->l2_cache, t);
        if ((old & QCOW_OFLAG_COMPRESSED) || (old & L2E_OFFSET_MASK))
            r = qcow2_freelist_add_entry(s, &fl, old, err);
    }
    int r2 = qcow2_release(s, &fl, err);
    return r < 0 ? r : r2;
}

/* Compressed write: each whole cluster is compressed with the image's
 * compression type; a cluster that does not shrink is written normally. */
int
qcow2_pwrite_compressed(vdisk_image *img, const void *buf, uint64_t len, uint64_t off,
                        vdisk_error *err)
{
    qcow2_state *s = img->priv;
    uint64_t cs = s->cluster_size;
    if (s->crypt)
        return vdisk_error_set(err, ENOTSUP, "%s: compression and encryption are not supported at the "
                               "same time (as in QEMU)", s->name);
    if (off & (cs - 1))
        return vdisk_error_set(err, EINVAL, "%s: compressed write at 0x%" PRIx64 " is not cluster "
                               "aligned", s->name, off);
    if ((len & (cs - 1)) && off + len != img->size)
        return vdisk_error_set(err, EINVAL, "%s: compressed write of %" PRIu64 " bytes is not a "
                               "whole number of clusters", s->name, len);
    uint8_t *in = qcow2_buf_get(s, cs), *out = qcow2_buf_get(s, cs);
    int r = 0;
    if (!in || !out)
        r = vdisk_error_set(err, ENOMEM, "%s: out of memory", s->name);
    const uint8_t *p = buf;
    while (r == 0 && len > 0) {
        uint64_t n = len < cs ? len : cs;
        const uint8_t *src = p;
        if (n < cs) {
            /* The image's last cluster: pad it, as QEMU does. */
            memcpy(in, p, n);
            memset(in + n, 0, cs - n);
            src = in;
        }
        size_t clen;
        r = qcow2_compress(s->compression_type, src, cs, out, cs - 1, &clen);
        if (r == -ENOSPC) {
            r = qcow2_pwrite(img, p, n, off, err);
        } else if (r < 0) {
            r = vdisk_error_set(err, -r, "%s: compression failed", s->name);
        } else {
            pthread_mutex_lock(&s->lock);
            r = store_compressed(s, off >> s->cluster_bits, out, clen, err);
            pthread_mutex_unlock(&s->lock);
        }
        p += n;
        off += n;
        len -= n;
    }
    qcow2_buf_put(s, in, cs);
    qcow2_buf_put(s, out, cs);
    return r;
}
