/* libvdisk — qcow2 metadata write ordering: what must reach the disk
 * before what, so that a crash leaves at worst leaked clusters, never a
 * cluster used twice or a table pointing at garbage.
 *
 * Write-back (unless lazy refcounts are on):
 *   refcount blocks  ->  sync  ->  L2 tables  ->  sync  ->  L1 table
 * so that no table on disk ever points at a cluster whose refcount is not
 * on disk yet.  Freeing runs the other way: the L2/L1 updates that drop a
 * reference are flushed before the refcount decrement (cluster.c,
 * qcow2_release).  With lazy refcounts the image is marked dirty before
 * its first metadata change instead, and a crash is repaired on open.
 *
 * This file sits below the allocator (refcount.c) and the cluster map
 * (cluster.c), which both order their writes through it; it knows only the
 * table caches, the file and the header field it sets.
 */
#include <errno.h>
#include <stdlib.h>

#include "ordering.h"

int
qcow2_order_barrier(qcow2_state *s, vdisk_error *err)
{
    if (s->lazy)
        return 0;
    return vdisk_file_flush(s->file, err);
}

static int
write_l1(qcow2_state *s, vdisk_error *err)
{
    uint32_t lo = s->l1_dirty_lo, hi = s->l1_dirty_hi;
    size_t n = (size_t)(hi - lo) * 8;
    uint8_t *buf = malloc(n);
    if (!buf)
        return vdisk_error_set(err, ENOMEM, "%s: out of memory", s->name);
    for (uint32_t i = lo; i < hi; i++)
        qcow2_put_be64(buf + (size_t)(i - lo) * 8, s->l1[i]);
    int r = vdisk_file_pwrite(s->file, buf, n, s->l1_offset + (uint64_t)lo * 8, err);
    free(buf);
    if (r < 0) {
        vdisk_error_prefix(err, "%s: cannot write the L1 table", s->name);
        return r;
    }
    s->l1_dirty_lo = s->l1_dirty_hi = 0;
    return 0;
}

int
qcow2_flush_metadata(qcow2_state *s, vdisk_error *err)
{
    bool l2_dirty = qcow2_cache_is_dirty(s->l2_cache);
    bool l1_dirty = s->l1_dirty_lo != s->l1_dirty_hi;
    int r = 0;
    if (qcow2_cache_is_dirty(s->rb_cache)) {
        r = qcow2_cache_flush(s->rb_cache, err);
        if (r == 0 && (l2_dirty || l1_dirty))
            r = qcow2_order_barrier(s, err);
    }
    if (r == 0 && l2_dirty) {
        r = qcow2_cache_flush(s->l2_cache, err);
        if (r == 0 && l1_dirty)
            r = qcow2_order_barrier(s, err);
    }
    if (r == 0 && l1_dirty)
        r = write_l1(s, err);
    return r;
}

int
qcow2_mark_dirty(qcow2_state *s, vdisk_error *err)
{
    if (!(s->compat & QCOW2_COMPAT_LAZY_REFCOUNTS) || s->dirty_written)
        return 0;
    int r = qcow2_header_write_u64(s, QCOW2_HDR_INCOMPAT, s->incompat | QCOW2_INCOMPAT_DIRTY, err);
    if (r < 0)
        return r;
    s->incompat |= QCOW2_INCOMPAT_DIRTY;
    s->dirty_written = true;
    s->lazy = true;
    return 0;
}
