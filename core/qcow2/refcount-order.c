/* libvdisk — qcow2: changing the refcount width (qemu-img amend -o
 * refcount_bits=N), in the order QEMU's qcow2_change_refcount_order uses.
 *
 * Every refcount is checked first against the new width, so a refusal
 * changes nothing.  Then clusters for the new refcount blocks (one for
 * each new block that has a non-zero refcount) and the new refcount table
 * are allocated through the old structures, again and again until an
 * allocation pass allocates nothing more (the new structures count
 * themselves).  The new blocks and table are written and synced together
 * with the old structures that count them; only then does one write of the
 * header's first sector switch the width, the table offset and its size.
 * The old blocks and table are freed last, through the new structures.  A
 * crash at any point leaves either the old or the new structures in use,
 * at worst with leaked clusters.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "ordering.h"

#define HDR_REFCOUNT_ORDER 96

/* The new structures while they are being built. */
struct new_refs {
    uint32_t order;
    uint64_t per_block;        /* refcounts per new block */
    uint64_t *table;           /* host endian, `entries` long */
    uint64_t entries;
    uint64_t table_off;        /* 0: not allocated yet */
    uint64_t table_clusters;
};

/* Call fn(cluster, refcount) for every non-zero refcount of clusters
 * [first, end) (lock held); fn returns 0 to go on, 1 to stop, or -errno. */
typedef int (*rc_fn)(qcow2_state *s, uint64_t cluster, uint64_t rc, void *opaque,
                     vdisk_error *err);

static int
each_refcount(qcow2_state *s, uint64_t first, uint64_t end, rc_fn fn, void *opaque,
              vdisk_error *err)
{
    uint64_t per = UINT64_C(1) << s->rb_bits;
    for (uint64_t c = first; c < end;) {
        uint64_t idx = c >> s->rb_bits, stop = (idx + 1) << s->rb_bits;
        if (stop > end)
            stop = end;
        uint64_t rbo = idx < s->reftable_entries ? s->reftable[idx] : 0;
        if (!rbo) {
            c = stop;
            continue;
        }
        uint8_t *rb;
        int r = qcow2_cache_get(s->rb_cache, rbo, false, &rb, err);
        if (r < 0)
            return r;
        for (; r == 0 && c < stop; c++) {
            uint64_t rc = qcow2_refcount_read_entry(rb, c & (per - 1), s->refcount_order);
            if (rc)
                r = fn(s, c, rc, opaque, err);
        }
        qcow2_cache_put(s->rb_cache, rb);
        if (r != 0)
            return r;
    }
    return 0;
}

/* Clusters the old structures describe. */
static uint64_t
old_clusters(const qcow2_state *s)
{
    return s->reftable_entries << s->rb_bits;
}

/* Refuse a refcount the new width cannot hold (qemu-img's message). */
static int
too_wide(qcow2_state *s, uint64_t cluster, uint64_t rc, void *opaque, vdisk_error *err)
{
    uint32_t bits = 1u << *(uint32_t *)opaque;
    if (bits >= 64 || !(rc >> bits))
        return 0;
    (void)s;
    return vdisk_error_set(err, EINVAL, "Cannot decrease refcount entry width to %u bits: Cluster "
                           "at offset %#" PRIx64 " has a refcount of %" PRIu64, bits,
                           cluster << s->cluster_bits, rc);
}

/* Stop at the first non-zero refcount. */
static int
found_one(qcow2_state *s, uint64_t cluster, uint64_t rc, void *opaque, vdisk_error *err)
{
    (void)s, (void)cluster, (void)rc, (void)err;
    *(bool *)opaque = true;
    return 1;
}

/* Make room for new table entry j (rounded to whole clusters, as QEMU). */
static int
grow_table(qcow2_state *s, struct new_refs *n, uint64_t j, vdisk_error *err)
{
    uint64_t per_cluster = s->cluster_size / 8;
    uint64_t want = (j + per_cluster) / per_cluster * per_cluster;
    if (want * 8 > QCOW2_MAX_REFTABLE_BYTES)
        return vdisk_error_set(err, ENOTSUP, "This operation would make the refcount table grow "
                               "beyond the maximum size supported by QEMU, aborting");
    uint64_t *t = realloc(n->table, want * 8);
    if (!t)
        return vdisk_error_set(err, ENOMEM, "%s: out of memory for the new refcount table",
                               s->name);
    memset(t + n->entries, 0, (want - n->entries) * 8);
    n->table = t;
    n->entries = want;
    return 0;
}

/* One allocation pass: a cluster for every new block that has a non-zero
 * refcount and none yet; *allocated tells whether any was needed. */
static int
alloc_pass(qcow2_state *s, struct new_refs *n, bool *allocated, vdisk_error *err)
{
    *allocated = false;
    uint64_t blocks = (old_clusters(s) + n->per_block - 1) / n->per_block;
    for (uint64_t j = 0; j < blocks; j++) {
        if (j < n->entries && n->table[j])
            continue;
        bool used = false;
        uint64_t first = j * n->per_block;
        int r = each_refcount(s, first, first + n->per_block, found_one, &used, err);
        if (r < 0)
            return r;
        if (!used)
            continue;
        if (j >= n->entries && (r = grow_table(s, n, j, err)) < 0)
            return r;
        r = qcow2_alloc_clusters(s, 1, &n->table[j], err);
        if (r < 0)
            return r;
        *allocated = true;
        /* The allocation may have grown the old structures. */
        blocks = (old_clusters(s) + n->per_block - 1) / n->per_block;
    }
    return 0;
}

/* Give back the clusters of the new structures (failure path). */
static void
free_new(qcow2_state *s, struct new_refs *n)
{
    for (uint64_t j = 0; j < n->entries; j++)
        if (n->table[j])
            qcow2_refcount_update(s, n->table[j] >> s->cluster_bits, 1, -1, false, NULL);
    if (n->table_off)
        qcow2_refcount_update(s, n->table_off >> s->cluster_bits, n->table_clusters, -1, false,
                              NULL);
    qcow2_flush_metadata(s, NULL);
}

/* Allocate until the new blocks and table count themselves. */
static int
allocate(qcow2_state *s, struct new_refs *n, vdisk_progress_fn progress, void *opaque,
         vdisk_error *err)
{
    for (unsigned pass = 0;; pass++) {
        bool allocated;
        int r = alloc_pass(s, n, &allocated, err);
        if (r < 0)
            return r;
        if (progress && progress(opaque, pass + 1, pass + 3))
            return vdisk_error_set(err, ECANCELED, "%s: refcount width change cancelled",
                                   s->name);
        if (!allocated && n->table_off)
            return 0;
        if (pass > 64)
            return vdisk_error_set(err, EIO, "%s: cannot place the new refcount structures",
                                   s->name);
        if (n->table_off)
            r = qcow2_refcount_update(s, n->table_off >> s->cluster_bits, n->table_clusters, -1,
                                      false, err);
        n->table_clusters = n->entries ? n->entries * 8 >> s->cluster_bits : 1;
        n->table_off = 0;
        if (n->entries == 0 && r == 0)
            r = grow_table(s, n, 0, err);
        if (r == 0)
            r = qcow2_alloc_clusters(s, n->table_clusters, &n->table_off, err);
        if (r < 0)
            return r;
    }
}

struct fill {
    struct new_refs *n;
    uint8_t *block;
    uint64_t first;
};

/* Copy one refcount into the new block being filled. */
static int
fill_entry(qcow2_state *s, uint64_t cluster, uint64_t rc, void *opaque, vdisk_error *err)
{
    (void)s, (void)err;
    struct fill *f = opaque;
    qcow2_refcount_write_entry(f->block, cluster - f->first, f->n->order, rc);
    return 0;
}

/* Write the new blocks and the new table. */
static int
write_new(qcow2_state *s, struct new_refs *n, vdisk_error *err)
{
    uint64_t tbytes = n->table_clusters << s->cluster_bits;
    uint8_t *buf = vdisk_alloc_aligned(tbytes > s->cluster_size ? tbytes : s->cluster_size, true);
    if (!buf)
        return vdisk_error_set(err, ENOMEM, "%s: out of memory", s->name);
    struct fill f = { .n = n, .block = buf };
    int r = 0;
    uint64_t blocks = (old_clusters(s) + n->per_block - 1) / n->per_block;
    for (uint64_t j = 0; r == 0 && j < blocks; j++) {
        bool used = false;
        f.first = j * n->per_block;
        r = each_refcount(s, f.first, f.first + n->per_block, found_one, &used, err);
        if (r < 0 || !used)
            continue;
        if (j >= n->entries || !n->table[j]) {
            r = vdisk_error_set(err, EIO, "%s: new refcount block %" PRIu64 " was not allocated",
                                s->name, j);
            break;
        }
        memset(buf, 0, s->cluster_size);
        r = each_refcount(s, f.first, f.first + n->per_block, fill_entry, &f, err);
        if (r == 0)
            r = vdisk_file_pwrite(s->file, buf, s->cluster_size, n->table[j], err);
    }
    if (r == 0) {
        memset(buf, 0, tbytes);
        for (uint64_t j = 0; j < n->entries; j++)
            qcow2_put_be64(buf + 8 * j, n->table[j]);
        r = vdisk_file_pwrite(s->file, buf, tbytes, n->table_off, err);
    }
    free(buf);
    if (r < 0)
        vdisk_error_prefix(err, "%s: cannot write the new refcount structures", s->name);
    return r;
}

/* Point the header at the new structures in one write of its first
 * sector (width at 96, table offset and size at 48..59) and sync. */
static int
switch_header(qcow2_state *s, const struct new_refs *n, vdisk_error *err)
{
    uint8_t h[HDR_REFCOUNT_ORDER + 4];
    int r = vdisk_file_pread(s->file, h, sizeof(h), 0, err);
    if (r == 0) {
        qcow2_put_be64(h + QCOW2_HDR_REFTABLE_OFFSET, n->table_off);
        qcow2_put_be32(h + QCOW2_HDR_REFTABLE_OFFSET + 8, (uint32_t)n->table_clusters);
        qcow2_put_be32(h + HDR_REFCOUNT_ORDER, n->order);
        r = vdisk_file_pwrite(s->file, h, sizeof(h), 0, err);
    }
    if (r == 0)
        r = vdisk_file_flush(s->file, err);
    if (r < 0)
        vdisk_error_prefix(err, "%s: Failed to update the qcow2 header", s->name);
    return r;
}

/* Use the new structures in memory; returns the old table (caller frees)
 * through *old, its offset and size through *off, *clusters. */
static void
adopt(qcow2_state *s, struct new_refs *n, uint64_t **old, uint64_t *old_entries, uint64_t *off,
      uint64_t *clusters)
{
    for (uint64_t i = 0; i < s->reftable_entries; i++)
        if (s->reftable[i])
            qcow2_cache_discard(s->rb_cache, s->reftable[i]);
    /* A new block's cluster may once have held a cached table. */
    for (uint64_t j = 0; j < n->entries; j++)
        if (n->table[j])
            qcow2_cache_discard(s->rb_cache, n->table[j]);
    *old = s->reftable;
    *old_entries = s->reftable_entries;
    *off = s->reftable_offset;
    *clusters = s->reftable_clusters;
    s->reftable = n->table;
    s->reftable_entries = n->entries;
    s->reftable_offset = n->table_off;
    s->reftable_clusters = (uint32_t)n->table_clusters;
    s->refcount_order = n->order;
    s->rb_bits = s->cluster_bits + 3 - n->order;
    s->refcount_max = n->order == 6 ? UINT64_MAX : (UINT64_C(1) << (1u << n->order)) - 1;
    s->free_cluster_index = 0;
    n->table = NULL;
}

/* Free the old blocks and table through the new structures. */
static int
free_old(qcow2_state *s, uint64_t *old, uint64_t entries, uint64_t off, uint64_t clusters,
         vdisk_error *err)
{
    int r = 0;
    for (uint64_t i = 0; r == 0 && i < entries; i++)
        if (old[i])
            r = qcow2_refcount_update(s, old[i] >> s->cluster_bits, 1, -1, false, err);
    if (r == 0)
        r = qcow2_refcount_update(s, off >> s->cluster_bits, clusters, -1, false, err);
    if (r == 0)
        r = qcow2_flush_metadata(s, err);
    return r;
}

int
qcow2_refcount_check_order(qcow2_state *s, uint32_t order, vdisk_error *err)
{
    if (order >= s->refcount_order)
        return 0;
    return each_refcount(s, 0, old_clusters(s), too_wide, &order, err);
}

int
qcow2_change_refcount_order(qcow2_state *s, uint32_t order, vdisk_progress_fn progress,
                            void *opaque, vdisk_error *err)
{
    if (order == s->refcount_order)
        return 0;
    int r = qcow2_refcount_check_order(s, order, err);
    if (r == 0)
        r = qcow2_mark_dirty(s, err);
    if (r == 0)
        r = qcow2_flush_metadata(s, err);
    if (r < 0)
        return r;
    struct new_refs n = { .order = order, .per_block = UINT64_C(1) << (s->cluster_bits + 3 - order) };
    r = allocate(s, &n, progress, opaque, err);
    if (r == 0)
        r = write_new(s, &n, err);
    /* Everything counting the new structures on disk before the switch. */
    if (r == 0)
        r = qcow2_flush_metadata(s, err);
    if (r == 0)
        r = vdisk_file_flush(s->file, err);
    if (r == 0)
        r = switch_header(s, &n, err);
    if (r < 0) {
        free_new(s, &n);
        free(n.table);
        return r;
    }
    uint64_t *old, old_entries, off, clusters;
    adopt(s, &n, &old, &old_entries, &off, &clusters);
    r = free_old(s, old, old_entries, off, clusters, err);
    free(old);
    return r;
}
