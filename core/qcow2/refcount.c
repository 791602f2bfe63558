/* libvdisk — qcow2 refcounts: entries of any width (1..64 bits), refcount
 * updates through the refcount-block cache, and host cluster allocation.
 *
 * Allocation finds a run of free clusters (clusters past the end of the
 * refcount structures are free).  When the run needs refcount blocks that
 * do not exist yet, or a larger refcount table, those are placed right
 * after the run, in the same free area, and refcounted like any cluster;
 * they are written and synced before the table entries (and header) that
 * point at them, so a crash can only leak clusters.
 */
#include <errno.h>
#include <stdbool.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "ordering.h"

uint64_t
qcow2_refcount_read_entry(const uint8_t *rb, uint64_t i, uint32_t order)
{
    switch (order) {
    case 0: return (rb[i / 8] >> (i % 8)) & 1;
    case 1: return (rb[i / 4] >> (2 * (i % 4))) & 3;
    case 2: return (rb[i / 2] >> (4 * (i % 2))) & 15;
    case 3: return rb[i];
    case 4: return ((uint64_t)rb[2 * i] << 8) | rb[2 * i + 1];
    case 5: return qcow2_be32(rb + 4 * i);
    default: return qcow2_be64(rb + 8 * i);
    }
}

void
qcow2_refcount_write_entry(uint8_t *rb, uint64_t i, uint32_t order, uint64_t v)
{
    unsigned shift;
    switch (order) {
    case 0:
    case 1:
    case 2: {
        unsigned bits = 1u << order, per = 8 / bits;
        shift = bits * (unsigned)(i % per);
        uint8_t mask = (uint8_t)(((1u << bits) - 1) << shift);
        rb[i / per] = (uint8_t)((rb[i / per] & ~mask) | ((v << shift) & mask));
        return;
    }
    case 3: rb[i] = (uint8_t)v; return;
    case 4: rb[2 * i] = (uint8_t)(v >> 8); rb[2 * i + 1] = (uint8_t)v; return;
    case 5: qcow2_put_be32(rb + 4 * i, (uint32_t)v); return;
    default: qcow2_put_be64(rb + 8 * i, v); return;
    }
}

static uint64_t
rb_offset(const qcow2_state *s, uint64_t cluster)
{
    uint64_t idx = cluster >> s->rb_bits;
    return idx < s->reftable_entries ? s->reftable[idx] : 0;
}

int
qcow2_refcount_get(qcow2_state *s, uint64_t cluster, uint64_t *rc, vdisk_error *err)
{
    uint64_t rbo = rb_offset(s, cluster);
    if (!rbo) {
        *rc = 0;
        return 0;
    }
    uint8_t *rb;
    int r = qcow2_cache_get(s->rb_cache, rbo, false, &rb, err);
    if (r < 0)
        return r;
    *rc = qcow2_refcount_read_entry(rb, cluster & ((UINT64_C(1) << s->rb_bits) - 1),
                                    s->refcount_order);
    qcow2_cache_put(s->rb_cache, rb);
    return 0;
}

/* Punch the host range of freed data; file systems that cannot are fine. */
static void
punch(qcow2_state *s, uint64_t first, uint64_t n)
{
    vdisk_file_punch_hole(s->file, first << s->cluster_bits, n << s->cluster_bits, NULL);
}

int
qcow2_refcount_update(qcow2_state *s, uint64_t first, uint64_t n, int64_t delta, bool do_punch,
                      vdisk_error *err)
{
    uint64_t per = UINT64_C(1) << s->rb_bits;
    uint64_t c = first, end = first + n;
    uint64_t punch_start = 0, punch_n = 0;
    while (c < end) {
        uint64_t rbo = rb_offset(s, c);
        if (!rbo && (c >> s->rb_bits) >= QCOW2_MAX_REFTABLE_BYTES / 8)
            return vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EFBIG, "%s: cluster 0x%" PRIx64
                                        " (host offset 0x%" PRIx64 ") is beyond what any refcount "
                                        "table can cover", s->name, c, c << s->cluster_bits);
        if (!rbo)
            return vdisk_error_set_reason(err, VDISK_REASON_REFCOUNT_BLOCK_MISSING,
                                          vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL,
                                                               "%s: no refcount block covers cluster 0x%" PRIx64
                                                               " (host offset 0x%" PRIx64 ")",
                                                               s->name, c, c << s->cluster_bits));
        uint8_t *rb;
        int r = qcow2_cache_get(s->rb_cache, rbo, false, &rb, err);
        if (r < 0)
            return r;
        uint64_t stop = (c | (per - 1)) + 1;
        if (stop > end)
            stop = end;
        for (; c < stop; c++) {
            uint64_t i = c & (per - 1);
            uint64_t old = qcow2_refcount_read_entry(rb, i, s->refcount_order);
            uint64_t v = old + (uint64_t)delta;
            if ((delta < 0 && old < (uint64_t)-delta) || (delta > 0 && (v < old || v > s->refcount_max))) {
                qcow2_cache_put(s->rb_cache, rb);
                /* Below zero: the image claims fewer references than it has. */
                return vdisk_error_set_kind(err, delta < 0 ? VDISK_ERR_CORRUPT : VDISK_ERR_FAILED,
                                            delta < 0 ? EINVAL : ERANGE, "%s: refcount of cluster at "
                                            "0x%" PRIx64 " would %s (refcount %" PRIu64 ", change %"
                                            PRId64 ")", s->name, c << s->cluster_bits,
                                            delta < 0 ? "drop below zero" : "overflow", old, delta);
            }
            qcow2_refcount_write_entry(rb, i, s->refcount_order, v);
            if (v == 0) {
                /* A freed cluster may hold a cached table: never write it back. */
                qcow2_cache_discard(s->l2_cache, c << s->cluster_bits);
                if (s->free_byte_offset && (s->free_byte_offset - 1) >> s->cluster_bits == c)
                    s->free_byte_offset = 0;
                if (c < s->free_cluster_index)
                    s->free_cluster_index = c;
                if (do_punch) {
                    if (punch_n && punch_start + punch_n == c) {
                        punch_n++;
                    } else {
                        if (punch_n)
                            punch(s, punch_start, punch_n);
                        punch_start = c;
                        punch_n = 1;
                    }
                }
            }
        }
        qcow2_cache_mark_dirty(s->rb_cache, rb);
        qcow2_cache_put(s->rb_cache, rb);
    }
    if (punch_n)
        punch(s, punch_start, punch_n);
    return 0;
}

/* Find n free clusters in a row at or after `start`; *first_free is the
 * first free cluster seen (the new allocation hint). */
static int
find_free(qcow2_state *s, uint64_t start, uint64_t n, uint64_t *out, uint64_t *first_free,
          vdisk_error *err)
{
    uint64_t per = UINT64_C(1) << s->rb_bits;
    uint64_t run_start = start, run = 0, c = start;
    bool seen = false;
    uint8_t *rb = NULL;
    uint64_t rb_idx = UINT64_MAX;
    int r = 0;
    while (run < n) {
        uint64_t idx = c >> s->rb_bits;
        uint64_t rbo = rb_offset(s, c);
        bool is_free;
        if (!rbo) {
            is_free = true;
        } else {
            if (idx != rb_idx) {
                if (rb)
                    qcow2_cache_put(s->rb_cache, rb);
                rb = NULL;
                r = qcow2_cache_get(s->rb_cache, rbo, false, &rb, err);
                if (r < 0)
                    return r;
                rb_idx = idx;
            }
            is_free = qcow2_refcount_read_entry(rb, c & (per - 1), s->refcount_order) == 0;
        }
        if (is_free) {
            if (!seen) {
                *first_free = c;
                seen = true;
            }
            if (run++ == 0)
                run_start = c;
        } else {
            run = 0;
        }
        c++;
        if ((c << s->cluster_bits) >= QCOW2_MAX_HOST_OFFSET || c == 0) {
            r = vdisk_error_set(err, ENOSPC, "%s: no room for %" PRIu64 " more clusters below the "
                                "qcow2 host offset limit", s->name, n);
            break;
        }
    }
    if (rb)
        qcow2_cache_put(s->rb_cache, rb);
    *out = run_start;
    return r;
}

/* Refcount structures a run [x, end) needs: missing refblocks and, when
 * the table is too small, clusters for a bigger table (*rt_entries). */
static uint64_t
meta_needed(const qcow2_state *s, uint64_t x, uint64_t end, uint64_t *rt_entries)
{
    uint64_t first = x >> s->rb_bits, last = (end - 1) >> s->rb_bits, need = 0;
    for (uint64_t i = first; i <= last; i++)
        if (i >= s->reftable_entries || !s->reftable[i])
            need++;
    *rt_entries = s->reftable_entries;
    if (last >= s->reftable_entries) {
        uint64_t per_cluster = s->cluster_size / 8;
        uint64_t want = last + 1 + (last + 1) / 2;   /* room to grow */
        *rt_entries = (want + per_cluster - 1) / per_cluster * per_cluster;
        need += *rt_entries / per_cluster;
    }
    return need;
}

/* Write refcount table entries [lo, hi) where they are now. */
static int
write_reftable_entries(qcow2_state *s, uint64_t lo, uint64_t hi, vdisk_error *err)
{
    size_t n = (size_t)(hi - lo) * 8;
    uint8_t *buf = malloc(n);
    if (!buf)
        return vdisk_error_set(err, ENOMEM, "%s: out of memory", s->name);
    for (uint64_t i = lo; i < hi; i++)
        qcow2_put_be64(buf + (i - lo) * 8, s->reftable[i]);
    int r = vdisk_file_pwrite(s->file, buf, n, s->reftable_offset + lo * 8, err);
    free(buf);
    return r;
}

/* Switch to a bigger refcount table at `off` (its clusters are already
 * refcounted): write it, sync, repoint the header, free the old one.  A
 * header update whose sync failed may still have reached the file: the
 * old table goes back into the header too, since the caller's rollback
 * frees the new one. */
static int
move_reftable(qcow2_state *s, uint64_t off, uint64_t entries, vdisk_error *err)
{
    uint64_t old_off = s->reftable_offset, old_clusters = s->reftable_clusters;
    s->reftable_offset = off;
    s->reftable_clusters = (uint32_t)(entries * 8 >> s->cluster_bits);
    int r = write_reftable_entries(s, 0, entries, err);
    if (r == 0)
        r = vdisk_file_flush(s->file, err);
    bool header_tried = false;
    if (r == 0) {
        header_tried = true;
        r = qcow2_header_write_reftable(s, off, s->reftable_clusters, err);
    }
    if (r < 0) {
        s->reftable_offset = old_off;
        s->reftable_clusters = (uint32_t)old_clusters;
        if (header_tried)
            qcow2_header_write_reftable(s, old_off, (uint32_t)old_clusters, NULL);
        return r;
    }
    return qcow2_refcount_update(s, old_off >> s->cluster_bits, old_clusters, -1, false, err);
}

/* Create the missing refblocks of [x, end) at m, m+1, ... (zeroed, in the
 * cache), growing the in-memory table to rt_entries first.  Returns the
 * next free cluster after them through *m. */
static int
add_refblocks(qcow2_state *s, uint64_t x, uint64_t end, uint64_t rt_entries, uint64_t *m,
              uint64_t *lo, uint64_t *hi, vdisk_error *err)
{
    if (rt_entries > s->reftable_entries) {
        uint64_t *t = realloc(s->reftable, rt_entries * 8);
        if (!t)
            return vdisk_error_set(err, ENOMEM, "%s: out of memory for the refcount table", s->name);
        memset(t + s->reftable_entries, 0, (rt_entries - s->reftable_entries) * 8);
        s->reftable = t;
        s->reftable_entries = rt_entries;
    }
    *lo = UINT64_MAX;
    *hi = 0;
    for (uint64_t i = x >> s->rb_bits; i <= (end - 1) >> s->rb_bits; i++) {
        if (s->reftable[i])
            continue;
        uint8_t *rb;
        int r = qcow2_cache_get(s->rb_cache, *m << s->cluster_bits, true, &rb, err);
        if (r < 0)
            return r;
        qcow2_cache_put(s->rb_cache, rb);
        s->reftable[i] = *m << s->cluster_bits;
        (*m)++;
        if (i < *lo)
            *lo = i;
        *hi = i + 1;
    }
    return 0;
}

/* Where the header puts the snapshot table past the end of the file, the
 * clusters it names hold no refcount: a new cluster could land on them and
 * guest bytes would then be read as snapshots.  QEMU allocates anyway;
 * vdisk allocates nothing on such an image (writes in place still work). */
static int
refuse_unbacked_snapshots(qcow2_state *s, vdisk_error *err)
{
    if (!s->snapshots_unbacked)
        return 0;
    return vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL,
                                "%s: the snapshot table at 0x%" PRIx64 " (%u entries) lies past the "
                                "end of the file: its clusters hold no refcounts, so no new cluster "
                                "is allocated on this image", s->name, s->snapshots_offset,
                                s->nb_snapshots);
}

int
qcow2_alloc_clusters(qcow2_state *s, uint64_t n, uint64_t *off, vdisk_error *err)
{
    uint64_t x = 0, first_free = 0, extra = 0, rt_entries = 0;
    int r = refuse_unbacked_snapshots(s, err);
    if (r < 0)
        return r;
    for (int iter = 0;; iter++) {
        r = find_free(s, s->free_cluster_index, n + extra, &x, &first_free, err);
        if (r < 0)
            return r;
        uint64_t need = meta_needed(s, x, x + n + extra, &rt_entries);
        if (need <= extra)
            break;
        if (iter > 64)
            return vdisk_error_set(err, EIO, "%s: cannot place refcount structures", s->name);
        extra = need;
    }
    uint64_t old_entries = s->reftable_entries;
    uint64_t m = x + n, lo = 0, hi = 0;
    bool grow = rt_entries > old_entries;
    bool meta = extra > 0;
    if (meta) {
        r = add_refblocks(s, x, x + n + extra, rt_entries, &m, &lo, &hi, err);
        if (r < 0)
            return r;
    }
    uint64_t rt_cluster = m;
    if (grow)
        m += rt_entries * 8 >> s->cluster_bits;
    r = qcow2_refcount_update(s, x, m - x, 1, false, err);
    if (r < 0)
        return r;
    if (meta) {
        /* New refblocks (and every refcount naming them) reach the disk
         * before the table entries that point at them, lazy refcounts or
         * not (as QEMU): a table entry past the end of the file would make
         * the image unopenable, not only its refcounts stale. */
        r = qcow2_cache_flush(s->rb_cache, err);
        if (r == 0)
            r = vdisk_file_flush(s->file, err);
        if (r == 0 && grow)
            r = move_reftable(s, rt_cluster << s->cluster_bits, rt_entries, err);
        else if (r == 0 && hi > lo)
            r = write_reftable_entries(s, lo, hi, err);
        if (r == 0)
            r = vdisk_file_flush(s->file, err);
        if (r < 0)
            return r;
    }
    s->free_cluster_index = first_free == x ? m : first_free;
    *off = x << s->cluster_bits;
    return 0;
}

int
qcow2_alloc_bytes(qcow2_state *s, uint64_t size, uint64_t *off, vdisk_error *err)
{
    uint64_t cs = s->cluster_size;
    uint64_t fb = s->free_byte_offset;
    int r = refuse_unbacked_snapshots(s, err);
    if (r < 0)
        return r;
    if (fb && (fb & (cs - 1))) {
        uint64_t c = fb >> s->cluster_bits;
        uint64_t rc;
        r = qcow2_refcount_get(s, c, &rc, err);
        if (r < 0)
            return r;
        /* Only pack into the cluster if it is still the one we filled. */
        if (rc > 0 && rc < s->refcount_max) {
            uint64_t room = cs - (fb & (cs - 1));
            bool fits = size <= room;
            uint64_t next_rc = 1;
            if (!fits && rb_offset(s, c + 1)) {
                r = qcow2_refcount_get(s, c + 1, &next_rc, err);
                if (r < 0)
                    return r;
            }
            if (fits || next_rc == 0) {
                if (!fits) {
                    /* Spill into the next cluster: it must be ours too. */
                    r = qcow2_refcount_update(s, c + 1, 1, 1, false, err);
                    if (r < 0)
                        return r;
                    if (s->free_cluster_index == c + 1)
                        s->free_cluster_index = c + 2;
                }
                r = qcow2_refcount_update(s, c, 1, 1, false, err);
                if (r < 0)
                    return r;
                *off = fb;
                s->free_byte_offset = fb + size;
                return 0;
            }
        }
    }
    uint64_t h;
    r = qcow2_alloc_clusters(s, 1, &h, err);
    if (r < 0)
        return r;
    *off = h;
    s->free_byte_offset = h + size;
    return 0;
}

/* Undo a qcow2_refcount_area that failed before the header named its new
 * table: the refcounts it raised in blocks that already existed come down
 * again, and the blocks it added (never named on disk) are forgotten, so
 * that a preallocation that ran out of space leaks nothing.  old/old_n:
 * the in-memory table as it was. */
static void
area_rollback(qcow2_state *s, uint64_t *old, uint64_t old_n, uint64_t start, uint64_t stop)
{
    uint64_t per = UINT64_C(1) << s->rb_bits;
    for (uint64_t c = start; c < stop;) {
        uint64_t i = c >> s->rb_bits, next = (c | (per - 1)) + 1;
        if (next > stop)
            next = stop;
        if (i < old_n && old[i])
            qcow2_refcount_update(s, c, next - c, -1, false, NULL);
        c = next;
    }
    for (uint64_t i = 0; i < s->reftable_entries; i++)
        if (s->reftable[i] && (i >= old_n || !old[i]))
            qcow2_cache_discard(s->rb_cache, s->reftable[i]);
    free(s->reftable);
    s->reftable = old;
    s->reftable_entries = old_n;
    if (start < s->free_cluster_index)
        s->free_cluster_index = start;
    qcow2_cache_flush(s->rb_cache, NULL);
}

int
qcow2_refcount_area(qcow2_state *s, uint64_t start, uint64_t additional, uint64_t *end,
                    vdisk_error *err)
{
    int r = refuse_unbacked_snapshots(s, err);
    if (r < 0)
        return r;
    uint64_t total_rb, per = s->cluster_size / 8;
    qcow2_refcount_metadata_size(start + additional, s->cluster_size, s->refcount_order, false,
                                 &total_rb);
    uint64_t entries = (total_rb + per - 1) / per * per;
    if (entries < s->reftable_entries)
        entries = s->reftable_entries;
    if (entries * 8 > QCOW2_MAX_REFTABLE_BYTES)
        return vdisk_error_set_kind(err, VDISK_ERR_INVALID, EFBIG,
                                    "%s: the refcount table would exceed %u bytes",
                                    s->name, QCOW2_MAX_REFTABLE_BYTES);
    uint64_t area = start >> s->rb_bits, missing = 0;
    for (uint64_t i = area; i < total_rb; i++)
        if (i >= s->reftable_entries || !s->reftable[i])
            missing++;
    uint64_t table = start + missing;
    uint64_t stop = table + entries * 8 / s->cluster_size;
    uint64_t m = start, lo, hi, old_off = s->reftable_offset, old_n = s->reftable_entries;
    uint64_t *old = malloc(old_n ? old_n * 8 : 1);
    if (!old)
        return vdisk_error_set(err, ENOMEM, "%s: out of memory for the refcount table", s->name);
    memcpy(old, s->reftable, old_n * 8);
    r = 0;
    bool raised = false;
    if (total_rb > area)
        r = add_refblocks(s, area << s->rb_bits, total_rb << s->rb_bits, entries, &m, &lo, &hi, err);
    else if (entries > s->reftable_entries)
        r = add_refblocks(s, start, start + 1, entries, &m, &lo, &hi, err);
    if (r == 0)
        r = qcow2_refcount_update(s, start, stop - start, 1, false, err);
    raised = r == 0;
    if (r == 0)
        r = qcow2_cache_flush(s->rb_cache, err);
    if (r == 0)
        r = vdisk_file_flush(s->file, err);   /* the new blocks before the table naming them */
    if (r == 0)
        r = move_reftable(s, table << s->cluster_bits, entries, err);
    if (r < 0 && s->reftable_offset == old_off) {
        area_rollback(s, old, old_n, start, raised ? stop : start);
        return r;
    }
    free(old);
    if (r == 0)
        *end = stop;
    return r;
}

uint64_t
qcow2_refcount_metadata_size(uint64_t clusters, uint64_t cluster_size, uint32_t refcount_order,
                             bool generous, uint64_t *blocks_out)
{
    uint64_t per_table = cluster_size / 8;
    uint64_t per_block = cluster_size * 8 >> refcount_order;
    uint64_t table = 0, blocks = 0, n = 0, last;
    do {
        last = n;
        blocks = (clusters + table + blocks + per_block - 1) / per_block;
        table = (blocks + per_table - 1) / per_table;
        n = clusters + blocks + table;
        if (n == last && generous) {
            clusters += (table + 1) / 2;
            n = 0;
            generous = false;
        }
    } while (n != last);
    if (blocks_out)
        *blocks_out = blocks;
    return (blocks + table) * cluster_size;
}
