/* libvdisk — qcow2 compressed clusters: the zlib (raw deflate, 4 KiB
 * window, as QEMU writes it) and zstd codecs, reading a compressed cluster,
 * and compressing clusters ahead of their write (compress-write.c stores
 * them).
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

/* A compression context kept between clusters: deflateInit2 and
 * ZSTD_createCCtx allocate and clear hundreds of KiB, which for 64 KiB
 * clusters costs as much as compressing them.  Reset, a context gives the
 * same output as a fresh one. */
struct qcow2_cctx {
    z_stream z;
    bool z_ready;
    ZSTD_CCtx *zs;
    struct qcow2_cctx *next;   /* in the state's free list */
};

static int
zlib_compress(struct qcow2_cctx *c, const uint8_t *in, size_t in_len, uint8_t *out,
              size_t out_cap, size_t *out_len)
{
    /* QEMU's parameters: default level, raw deflate with a 4 KiB window. */
    if (!c->z_ready) {
        memset(&c->z, 0, sizeof(c->z));
        if (deflateInit2(&c->z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -12, 9, Z_DEFAULT_STRATEGY) != Z_OK)
            return -ENOMEM;
        c->z_ready = true;
    } else if (deflateReset(&c->z) != Z_OK) {
        return -EIO;
    }
    c->z.next_in = (Bytef *)in;
    c->z.avail_in = (uInt)in_len;
    c->z.next_out = out;
    c->z.avail_out = (uInt)out_cap;
    int ret = deflate(&c->z, Z_FINISH);
    *out_len = out_cap - c->z.avail_out;
    return ret == Z_STREAM_END ? 0 : -ENOSPC;
}

static int
zstd_compress(struct qcow2_cctx *c, const uint8_t *in, size_t in_len, uint8_t *out,
              size_t out_cap, size_t *out_len)
{
    if (!c->zs && !(c->zs = ZSTD_createCCtx()))
        return -ENOMEM;
    ZSTD_CCtx_reset(c->zs, ZSTD_reset_session_only);
    /* One streaming call with e_end, as QEMU compresses (same frame). */
    ZSTD_inBuffer ib = { in, in_len, 0 };
    ZSTD_outBuffer ob = { out, out_cap, 0 };
    size_t n = ZSTD_compressStream2(c->zs, &ob, &ib, ZSTD_e_end);
    if (ZSTD_isError(n))
        return ZSTD_getErrorCode(n) == ZSTD_error_dstSize_tooSmall ? -ENOSPC : -EIO;
    if (n != 0)
        return -ENOSPC;   /* more to flush: it does not fit */
    *out_len = ob.pos;
    return 0;
}

static void
cctx_free(struct qcow2_cctx *c)
{
    if (!c)
        return;
    if (c->z_ready)
        deflateEnd(&c->z);
    ZSTD_freeCCtx(c->zs);
    free(c);
}

static int
cctx_compress(struct qcow2_cctx *c, int type, const uint8_t *in, size_t in_len, uint8_t *out,
              size_t out_cap, size_t *out_len)
{
    return type == 1 ? zstd_compress(c, in, in_len, out, out_cap, out_len)
                     : zlib_compress(c, in, in_len, out, out_cap, out_len);
}

int
qcow2_compress(int type, const uint8_t *in, size_t in_len, uint8_t *out, size_t out_cap,
               size_t *out_len)
{
    struct qcow2_cctx *c = calloc(1, sizeof(*c));
    if (!c)
        return -ENOMEM;
    int r = cctx_compress(c, type, in, in_len, out, out_cap, out_len);
    cctx_free(c);
    return r;
}

/* A context from the image's free list (or a new one); NULL on ENOMEM. */
static struct qcow2_cctx *
cctx_get(qcow2_state *s)
{
    pthread_mutex_lock(&s->pool_lock);
    struct qcow2_cctx *c = s->cctx_free;
    if (c)
        s->cctx_free = c->next;
    pthread_mutex_unlock(&s->pool_lock);
    return c ? c : calloc(1, sizeof(*c));
}

static void
cctx_put(qcow2_state *s, struct qcow2_cctx *c)
{
    if (!c)
        return;
    pthread_mutex_lock(&s->pool_lock);
    c->next = s->cctx_free;
    s->cctx_free = c;
    pthread_mutex_unlock(&s->pool_lock);
}

void
qcow2_cctx_pool_free(qcow2_state *s)
{
    while (s->cctx_free) {
        struct qcow2_cctx *c = s->cctx_free;
        s->cctx_free = c->next;
        cctx_free(c);
    }
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
        return vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EIO,
                                    "%s: compressed cluster at 0x%" PRIx64 " is outside the "
                                    "image data area", s->name, coff);
    uint8_t *in = qcow2_buf_get(s, csize);
    if (!in)
        return vdisk_error_set(err, ENOMEM, "%s: out of memory", s->name);
    int r = vdisk_file_pread(s->file, in, (size_t)csize, coff, err);
    if (r == 0 && qcow2_decompress(s->compression_type, in, csize, out, s->cluster_size) < 0)
        r = vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EIO,
                                 "%s: compressed cluster at 0x%" PRIx64 " (%" PRIu64 " bytes, "
                                 "%s) cannot be decompressed", s->name, coff, csize,
                                 s->compression_type == 1 ? "zstd" : "zlib");
    qcow2_buf_put(s, in, csize);
    return r;
}

/* Compress each cluster of c->data into c->out / c->clen (no lock, any
 * thread: touches nothing of the image but the context free list). */
int
qcow2_compress_ahead(vdisk_image *img, vdisk_precompressed *c, vdisk_error *err)
{
    qcow2_state *s = img->priv;
    uint64_t cs = s->cluster_size;
    if (s->crypt)
        return vdisk_error_set(err, ENOTSUP, "%s: compression and encryption are not supported at the "
                               "same time (as in QEMU)", s->name);
    if ((c->off & (cs - 1)) || ((c->len & (cs - 1)) && c->off + c->len != img->size))
        return vdisk_error_set(err, EINVAL, "%s: compressed write of %" PRIu64 " bytes at 0x%" PRIx64
                               " is not whole clusters", s->name, c->len, c->off);
    struct qcow2_cctx *ctx = cctx_get(s);
    uint8_t *pad = NULL;
    int r = ctx ? 0 : vdisk_error_set(err, ENOMEM, "%s: out of memory", s->name);
    for (uint64_t i = 0; r == 0 && i * cs < c->len; i++) {
        uint64_t n = c->len - i * cs < cs ? c->len - i * cs : cs;
        const uint8_t *src = c->data + i * cs;
        if (n < cs) {
            /* The image's last cluster: pad it, as QEMU does. */
            if (!pad && !(pad = qcow2_buf_get(s, cs))) {
                r = vdisk_error_set(err, ENOMEM, "%s: out of memory", s->name);
                break;
            }
            memcpy(pad, src, n);
            memset(pad + n, 0, cs - n);
            src = pad;
        }
        size_t clen = 0;
        /* Random-looking clusters skip deflate, which would only find that
         * they do not shrink (compress-heuristic.c).  Not zstd: it gives up
         * on such data by itself, faster than the test. */
        if (s->compression_type == 0 && qcow2_cluster_incompressible(src, cs))
            r = -ENOSPC;
        else
            r = cctx_compress(ctx, s->compression_type, src, cs, c->out + i * cs, cs - 1, &clen);
        if (r == -ENOSPC) {
            clen = 0;   /* does not shrink: stored as it is */
            r = 0;
        } else if (r < 0) {
            r = vdisk_error_set(err, -r, "%s: %s compression of the cluster at 0x%" PRIx64 " failed",
                                s->name, s->compression_type == 1 ? "zstd" : "zlib", c->off + i * cs);
        }
        c->clen[i] = (uint32_t)clen;
    }
    qcow2_buf_put(s, pad, cs);
    cctx_put(s, ctx);
    return r;
}
