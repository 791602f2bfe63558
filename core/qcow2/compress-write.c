/* libvdisk — qcow2 compressed writes: store clusters compressed by
 * compress.c (qcow2_compress_ahead) in guest order, each packed byte-wise
 * into host clusters (refcount.c, qcow2_alloc_bytes) and named by its L2
 * entry; a cluster that does not shrink is written as a normal one.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ordering.h"

/* Store one compressed cluster for guest cluster gc (lock held). */
static int
store_compressed(qcow2_state *s, uint64_t gc, const uint8_t *data, size_t clen, vdisk_error *err)
{
    int r = qcow2_mark_dirty(s, err);
    if (r < 0)
        return r;
    qcow2_inflight_wait(s, gc, gc + 1);
    /* The L2 table first, then the data: QEMU's order, so that the
     * layout (and with it the file) comes out as qemu-img's. */
    struct qcow2_freelist fl = { 0 };
    uint8_t *t;
    uint32_t idx;
    r = qcow2_l2_get_for_write(s, gc, &t, &idx, &fl, err);
    if (r == 0)
        qcow2_cache_put(s->l2_cache, t);
    int r2 = qcow2_release(s, &fl, err);
    if (r == 0)
        r = r2;
    uint64_t coff;
    if (r == 0)
        r = qcow2_alloc_bytes(s, clen, &coff, err);
    if (r == 0)
        r = vdisk_file_pwrite(s->file, data, clen, coff, err);
    if (r < 0)
        return r;
    uint64_t nsec = ((coff + clen - 1) >> 9) - (coff >> 9);
    uint64_t entry = QCOW_OFLAG_COMPRESSED | (nsec << s->csize_shift) | coff;
    fl = (struct qcow2_freelist){ 0 };
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
    r2 = qcow2_release(s, &fl, err);
    return r < 0 ? r : r2;
}

/* Store clusters compressed by qcow2_compress_ahead, in order. */
int
qcow2_pwrite_precompressed(vdisk_image *img, const vdisk_precompressed *c, vdisk_error *err)
{
    qcow2_state *s = img->priv;
    uint64_t cs = s->cluster_size;
    int r = 0;
    qcow2_bitmaps_mark(s, c->off, c->len);   /* bitmap.c */
    for (uint64_t i = 0; r == 0 && i * cs < c->len; i++) {
        uint64_t off = c->off + i * cs;
        uint64_t n = c->len - i * cs < cs ? c->len - i * cs : cs;
        if (c->clen[i] == 0) {
            r = qcow2_pwrite(img, c->data + i * cs, n, off, err);
            continue;
        }
        pthread_mutex_lock(&s->lock);
        r = store_compressed(s, off >> s->cluster_bits, c->out + i * cs, c->clen[i], err);
        pthread_mutex_unlock(&s->lock);
    }
    return r;
}

/* Compressed write: each whole cluster is compressed with the image's
 * compression type; a cluster that does not shrink is written normally. */
int
qcow2_pwrite_compressed(vdisk_image *img, const void *buf, uint64_t len, uint64_t off,
                        vdisk_error *err)
{
    qcow2_state *s = img->priv;
    uint64_t cs = s->cluster_size;
    qcow2_bitmaps_mark(s, off, len);   /* bitmap.c */
    uint8_t *out = qcow2_buf_get(s, cs);
    if (!out)
        return vdisk_error_set(err, ENOMEM, "%s: out of memory", s->name);
    int r = 0;
    /* One cluster at a time: memory stays one cluster whatever len is. */
    while (r == 0 && len > 0) {
        uint64_t n = len < cs ? len : cs;
        uint32_t clen;
        vdisk_precompressed c = { .off = off, .len = n, .data = buf, .out = out, .clen = &clen };
        r = qcow2_compress_ahead(img, &c, err);
        if (r == 0)
            r = qcow2_pwrite_precompressed(img, &c, err);
        buf = (const uint8_t *)buf + n;
        off += n;
        len -= n;
    }
    qcow2_buf_put(s, out, cs);
    return r;
}
