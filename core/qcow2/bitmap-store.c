/* libvdisk — storing the loaded persistent dirty bitmaps at close, in
 * QEMU's order (qcow2_store_persistent_dirty_bitmaps):
 *   1. for each loaded bitmap, data clusters (all-zero clusters become zero
 *      entries) and a new bitmap table are written; refcounts and data are
 *      synced;
 *   2. a new directory (in_use cleared on the stored bitmaps) is written
 *      and synced, then the header extension points at it;
 *   3. the old directory and the old tables with their data are freed.
 * A crash before 2 leaves the old directory (bitmaps in_use: inconsistent)
 * and leaked clusters; after it, leaked clusters only.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "ordering.h"

/* Host ranges to free once the new directory is in place. */
struct oldlist {
    struct { uint64_t off, n; } *v;
    size_t n, cap;
};

static int
old_add(qcow2_state *s, struct oldlist *o, uint64_t off, uint64_t bytes, vdisk_error *err)
{
    if (!off || !bytes)
        return 0;
    if (o->n == o->cap) {
        size_t cap = o->cap ? o->cap * 2 : 16;
        void *p = realloc(o->v, cap * sizeof(*o->v));
        if (!p)
            return vdisk_error_set(err, ENOMEM, "%s: out of memory", s->name);
        o->v = p;
        o->cap = cap;
    }
    o->v[o->n].off = off >> s->cluster_bits;
    o->v[o->n].n = (bytes + s->cluster_size - 1) >> s->cluster_bits;
    o->n++;
    return 0;
}

/* Queue the old table of b and the data clusters it names. */
static int
queue_old_table(qcow2_state *s, const struct qcow2_bitmap *b, struct oldlist *o, vdisk_error *err)
{
    size_t len = (size_t)b->table_size * 8;
    if (!b->table_offset)
        return 0;   /* new: nothing on disk yet */
    uint8_t *t = malloc(len ? len : 1);
    if (!t)
        return vdisk_error_set(err, ENOMEM, "%s: out of memory", s->name);
    int r = vdisk_file_pread(s->file, t, len, b->table_offset, err);
    for (uint32_t i = 0; r == 0 && i < b->table_size; i++)
        r = old_add(s, o, qcow2_be64(t + (size_t)i * 8) & QCOW2_BME_OFFSET_MASK, s->cluster_size,
                    err);
    free(t);
    if (r == 0)
        r = old_add(s, o, b->table_offset, len, err);
    return r;
}

static bool
all_zero(const uint8_t *p, uint64_t n)
{
    return n == 0 || (p[0] == 0 && memcmp(p, p + 1, n - 1) == 0);
}

/* Allocate new clusters for `bytes` of buf and write them.  Only the bytes
 * given are written, as QEMU does: a table or directory that ends short of
 * its last cluster leaves the rest unwritten (past the end of the file it
 * reads as zeros, and the file is as long as qemu-img's). */
static int
write_new(qcow2_state *s, const uint8_t *buf, uint64_t bytes, uint64_t *off, vdisk_error *err)
{
    uint64_t n = (bytes + s->cluster_size - 1) >> s->cluster_bits;
    int r = qcow2_alloc_clusters(s, n ? n : 1, off, err);
    if (r == 0 && bytes)
        r = vdisk_file_pwrite(s->file, buf, bytes, *off, err);
    return r;
}

/* Step 1 for one bitmap: new data clusters and table (b updated). */
static int
store_one(qcow2_state *s, struct qcow2_bitmap *b, vdisk_error *err)
{
    uint64_t cs = s->cluster_size;
    uint64_t tsize = (b->nbytes + cs - 1) / cs;
    if (tsize == 0)
        tsize = 1;
    uint64_t tbytes = (tsize * 8 + cs - 1) & ~(cs - 1);
    uint8_t *t = calloc(1, tbytes);
    if (!t)
        return vdisk_error_set(err, ENOMEM, "%s: out of memory", s->name);
    int r = 0;
    for (uint64_t i = 0; r == 0 && i < tsize; i++) {
        const uint8_t *chunk = b->bits + i * cs;
        uint64_t off = 0;
        if (!all_zero(chunk, cs))
            r = write_new(s, chunk, cs, &off, err);
        qcow2_put_be64(t + i * 8, off);
    }
    uint64_t toff = 0;
    if (r == 0)
        r = write_new(s, t, tsize * 8, &toff, err);
    free(t);
    if (r < 0) {
        vdisk_error_prefix(err, "%s: cannot store bitmap '%s'", s->name, b->name);
        return r;
    }
    b->table_offset = toff;
    b->table_size = (uint32_t)tsize;
    b->flags &= ~QCOW2_BME_IN_USE;
    return 0;
}

/* Steps 2 and 3. */
static int
switch_dir(qcow2_state *s, struct oldlist *o, vdisk_error *err)
{
    struct qcow2_bitmaps *bm = s->bitmaps;
    uint8_t *d;
    uint64_t len, off = 0;
    int r = qcow2_bitmaps_build_dir(s, bm->v, bm->n, &d, &len, err);
    if (r < 0)
        return r;
    if (bm->n)
        r = write_new(s, d, len, &off, err);
    free(d);
    if (r == 0)
        r = qcow2_flush_metadata(s, err);
    if (r == 0)
        r = vdisk_file_flush(s->file, err);
    if (r == 0 && bm->ext.pos)
        r = old_add(s, o, bm->ext.dir_offset, bm->ext.dir_size, err);
    if (r == 0 && (bm->n || bm->ext.pos))
        r = qcow2_bitmaps_write_ext(s, &bm->ext, bm->n, off, len, err);
    for (size_t i = 0; r == 0 && i < o->n; i++)
        r = qcow2_refcount_update(s, o->v[i].off, o->v[i].n, -1, true, err);
    return r;
}

int
qcow2_bitmaps_store(qcow2_state *s, vdisk_error *err)
{
    struct qcow2_bitmaps *bm = s->bitmaps;
    /* A downgrade to version 2 left them to QEMU's "inconsistent" rule. */
    if (!bm || !s->writable || s->version < 3)
        return 0;
    struct oldlist o = { 0 };
    int r = qcow2_mark_dirty(s, err);
    for (uint32_t i = 0; r == 0 && i < bm->ndropped; i++)
        r = queue_old_table(s, &bm->dropped[i], &o, err);
    for (uint32_t i = 0; r == 0 && i < bm->n; i++) {
        struct qcow2_bitmap *b = &bm->v[i];
        if (!b->bits)
            continue;
        r = queue_old_table(s, b, &o, err);
        if (r == 0)
            r = store_one(s, b, err);
    }
    if (r == 0)
        r = switch_dir(s, &o, err);
    free(o.v);
    return r;
}
