/* libvdisk — qcow2 resize (grow and shrink) and emptying, as QEMU does
 * them:
 *   grow    L1 table enlarged (in place when the new entries fit in the
 *           clusters it already has, else moved to new clusters), the new
 *           part preallocated (metadata, falloc, full), then the size in
 *           the header
 *   shrink  clusters past the new end unlinked and freed, L2 tables past
 *           the new L1 size freed (the header keeps l1_size, as QEMU),
 *           the file truncated after its last used cluster, then the size
 *   empty   every cluster unlinked and freed (commit without -d)
 * Ordering follows the rest of the driver: a table never points at a
 * cluster whose refcount is not on disk, and a reference is dropped on disk
 * before the refcount, so a crash leaves at worst leaked clusters.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "ordering.h"

/* ---- unlinking ---------------------------------------------------------- */

/* Make guest clusters [first, end) unallocated and queue what they
 * referenced in fl (lock held). */
static int
unlink_clusters(qcow2_state *s, uint64_t first, uint64_t end, struct qcow2_freelist *fl,
                vdisk_error *err)
{
    uint64_t gc = first;
    while (gc < end) {
        uint64_t i = gc >> s->l2_bits;
        uint64_t table_end = (i + 1) << s->l2_bits;
        uint64_t stop = end < table_end ? end : table_end;
        if (i >= s->l1_size)
            break;
        if (!(s->l1[i] & L1E_OFFSET_MASK)) {
            gc = stop;
            continue;
        }
        uint8_t *t;
        uint32_t idx;
        int r = qcow2_l2_get_for_write(s, gc, &t, &idx, fl, err);
        if (r < 0)
            return r;
        for (; gc < stop; gc++, idx++) {
            uint64_t entry, bitmap;
            qcow2_l2_get_entry(s, t, idx, &entry, &bitmap);
            if (!entry && !bitmap)
                continue;
            r = qcow2_freelist_add_entry(s, fl, entry, err);
            if (r < 0)
                break;
            qcow2_l2_set_entry(s, t, idx, 0, 0);
            qcow2_cache_mark_dirty(s->l2_cache, t);
        }
        qcow2_cache_put(s->l2_cache, t);
        if (r < 0)
            return r;
    }
    return 0;
}

/* Drop the L2 tables of L1 entries [from, l1_size): zero the entries on
 * disk, then free the tables (lock held; their entries are all unlinked). */
static int
free_l2_tables(qcow2_state *s, uint32_t from, vdisk_error *err)
{
    if (from >= s->l1_size)
        return 0;
    size_t n = (size_t)(s->l1_size - from) * 8;
    uint8_t *zeros = calloc(1, n);
    if (!zeros)
        return vdisk_error_set(err, ENOMEM, "%s: out of memory", s->name);
    int r = qcow2_flush_metadata(s, err);
    if (r == 0)
        r = vdisk_file_pwrite(s->file, zeros, n, s->l1_offset + (uint64_t)from * 8, err);
    free(zeros);
    if (r == 0)
        r = vdisk_file_flush(s->file, err);
    if (r < 0) {
        vdisk_error_prefix(err, "%s: cannot clear L1 entries from %u on", s->name, from);
        return r;
    }
    for (uint32_t i = from; i < s->l1_size && r == 0; i++) {
        uint64_t l2 = s->l1[i] & L1E_OFFSET_MASK;
        s->l1[i] = 0;
        if (l2)
            r = qcow2_refcount_update(s, l2 >> s->cluster_bits, 1, -1, true, err);
    }
    return r;
}

/* Does refcount block i count nothing but (maybe) itself? */
static int
refblock_unused(qcow2_state *s, uint64_t i, bool *unused, vdisk_error *err)
{
    uint64_t per = UINT64_C(1) << s->rb_bits;
    uint64_t self = s->reftable[i] >> s->cluster_bits;
    uint8_t *rb;
    int r = qcow2_cache_get(s->rb_cache, s->reftable[i], false, &rb, err);
    if (r < 0)
        return r;
    *unused = true;
    for (uint64_t j = 0; j < per && *unused; j++)
        if (qcow2_refcount_read_entry(rb, j, s->refcount_order) &&
            (i << s->rb_bits) + j != self)
            *unused = false;
    qcow2_cache_put(s->rb_cache, rb);
    return 0;
}

/* Drop refcount blocks that count nothing but themselves, as QEMU does
 * after a shrink: the table entry goes first, then the block's cluster. */
static int
shrink_reftable(qcow2_state *s, vdisk_error *err)
{
    for (uint64_t i = 1; i < s->reftable_entries; i++) {
        if (!s->reftable[i])
            continue;
        bool unused;
        int r = refblock_unused(s, i, &unused, err);
        if (r < 0 || !unused) {
            if (r < 0)
                return r;
            continue;
        }
        uint64_t rbo = s->reftable[i], self = rbo >> s->cluster_bits;
        uint8_t zero[8] = { 0 };
        r = vdisk_file_pwrite(s->file, zero, sizeof(zero), s->reftable_offset + i * 8, err);
        if (r == 0)
            r = vdisk_file_flush(s->file, err);
        if (r < 0) {
            vdisk_error_prefix(err, "%s: Failed to discard unused refblocks", s->name);
            return r;
        }
        s->reftable[i] = 0;
        qcow2_cache_discard(s->rb_cache, rbo);
        if ((i << s->rb_bits) < s->free_cluster_index)
            s->free_cluster_index = i << s->rb_bits;
        if ((self >> s->rb_bits) != i)
            r = qcow2_refcount_update(s, self, 1, -1, true, err);
        else
            vdisk_file_punch_hole(s->file, rbo, s->cluster_size, NULL);
        if (r < 0)
            return r;
    }
    return 0;
}

/* Index of the last cluster of the file with a non-zero refcount. */
static int
last_used_cluster(qcow2_state *s, uint64_t *last, vdisk_error *err)
{
    uint64_t len;
    int r = vdisk_file_get_length(s->file, &len, err);
    if (r < 0)
        return r;
    uint64_t c = (len + s->cluster_size - 1) >> s->cluster_bits;
    while (c > 0) {
        uint64_t rc;
        r = qcow2_refcount_get(s, c - 1, &rc, err);
        if (r < 0)
            return r;
        if (rc)
            break;
        c--;
    }
    *last = c ? c - 1 : 0;
    return 0;
}

/* Cut the file after its last used cluster (lock held, metadata flushed);
 * sparsify's truncation uses it too. */
int
qcow2_trim_file(qcow2_state *s, vdisk_error *err)
{
    uint64_t last, len;
    int r = last_used_cluster(s, &last, err);
    if (r == 0)
        r = vdisk_file_get_length(s->file, &len, err);
    if (r == 0 && (last + 1) << s->cluster_bits < len)
        r = vdisk_file_truncate(s->file, (last + 1) << s->cluster_bits, err);
    return r;
}

/* Unlink guest clusters [first, end), release them, trim the file. */
static int
drop_clusters(qcow2_state *s, uint64_t first, uint64_t end, uint32_t keep_l1, vdisk_error *err)
{
    struct qcow2_freelist fl = { 0 };
    int r = unlink_clusters(s, first, end, &fl, err);
    int r2 = qcow2_release(s, &fl, err);
    if (r == 0)
        r = r2;
    if (r == 0)
        r = free_l2_tables(s, keep_l1, err);
    if (r == 0)
        r = qcow2_flush_metadata(s, err);
    if (r == 0)
        r = vdisk_file_flush(s->file, err);
    if (r == 0)
        r = shrink_reftable(s, err);
    if (r == 0)
        r = qcow2_flush_metadata(s, err);
    return r == 0 ? qcow2_trim_file(s, err) : r;
}

/* ---- L1 growth ---------------------------------------------------------- */

/* Write the header's size, or its L1 size and offset, and sync. */
static int
write_header_field(qcow2_state *s, unsigned off, const uint8_t *b, size_t n, vdisk_error *err)
{
    int r = vdisk_file_pwrite(s->file, b, n, off, err);
    if (r == 0)
        r = vdisk_file_flush(s->file, err);
    if (r < 0)
        vdisk_error_prefix(err, "%s: cannot update the header", s->name);
    return r;
}

static int
write_size(qcow2_state *s, uint64_t size, vdisk_error *err)
{
    uint8_t b[8];
    qcow2_put_be64(b, size);
    return write_header_field(s, 24, b, sizeof(b), err);
}

/* The new table at `off` (size n entries) is written and synced before the
 * header points at it; then the old clusters are freed. */
static int
move_l1(qcow2_state *s, uint64_t *l1, uint32_t n, vdisk_error *err)
{
    uint64_t bytes = (uint64_t)n * 8;
    uint64_t clusters = (bytes + s->cluster_size - 1) >> s->cluster_bits;
    uint64_t off;
    int r = qcow2_alloc_clusters(s, clusters, &off, err);
    if (r < 0)
        return r;
    uint8_t *buf = calloc(1, clusters << s->cluster_bits);
    if (!buf)
        return vdisk_error_set(err, ENOMEM, "%s: out of memory for the L1 table", s->name);
    for (uint32_t i = 0; i < n; i++)
        qcow2_put_be64(buf + (size_t)i * 8, l1[i]);
    r = qcow2_flush_metadata(s, err);
    if (r == 0)
        r = vdisk_file_pwrite(s->file, buf, bytes, off, err);
    free(buf);
    if (r == 0)
        r = vdisk_file_flush(s->file, err);
    uint8_t h[12];
    qcow2_put_be32(h, n);
    qcow2_put_be64(h + 4, off);
    if (r == 0)
        r = write_header_field(s, 36, h, sizeof(h), err);
    if (r < 0) {
        qcow2_refcount_update(s, off >> s->cluster_bits, clusters, -1, false, NULL);
        return r;
    }
    uint64_t old_off = s->l1_offset;
    uint64_t old_clusters = ((uint64_t)s->l1_size * 8 + s->cluster_size - 1) >> s->cluster_bits;
    s->l1_offset = off;
    s->l1_size = n;
    if (!old_clusters)
        return 0;
    return qcow2_refcount_update(s, old_off >> s->cluster_bits, old_clusters, -1, true, err);
}

/* Make the L1 table at least n entries long (lock held). */
static int
grow_l1(qcow2_state *s, uint64_t n, vdisk_error *err)
{
    if (n <= s->l1_size)
        return 0;
    if (n * 8 > QCOW2_MAX_L1_BYTES)
        return vdisk_error_set_kind(err, VDISK_ERR_INVALID, EFBIG,
                                    "%s: the new size needs an L1 table of %" PRIu64
                                    " entries, more than the %u bytes allowed (use a larger cluster "
                                    "size)", s->name, n, QCOW2_MAX_L1_BYTES);
    int r = qcow2_flush_metadata(s, err);
    if (r < 0)
        return r;
    uint64_t *l1 = calloc(n, 8);
    if (!l1)
        return vdisk_error_set(err, ENOMEM, "%s: out of memory for the L1 table", s->name);
    if (s->l1_size)
        memcpy(l1, s->l1, (size_t)s->l1_size * 8);
    uint64_t have = (((uint64_t)s->l1_size * 8 + s->cluster_size - 1) >> s->cluster_bits)
                    << s->cluster_bits;
    if (s->l1_size && n * 8 <= have) {
        /* The new entries fit in the table's last cluster: zero them on
         * disk (they may hold stale entries of an earlier shrink), then
         * let the header count them. */
        uint8_t h[4];
        uint64_t tail = (n - s->l1_size) * 8;
        uint8_t *zeros = calloc(1, tail);
        r = zeros ? vdisk_file_pwrite(s->file, zeros, tail, s->l1_offset + (uint64_t)s->l1_size * 8, err)
                  : vdisk_error_set(err, ENOMEM, "%s: out of memory", s->name);
        free(zeros);
        if (r == 0)
            r = vdisk_file_flush(s->file, err);
        qcow2_put_be32(h, (uint32_t)n);
        if (r == 0)
            r = write_header_field(s, 36, h, sizeof(h), err);
        if (r == 0)
            s->l1_size = (uint32_t)n;
    } else {
        r = move_l1(s, l1, (uint32_t)n, err);
    }
    if (r < 0) {
        free(l1);
        vdisk_error_prefix(err, "Failed to grow the L1 table");
        return r;
    }
    free(s->l1);
    s->l1 = l1;
    return 0;
}

/* ---- preallocation of the new part -------------------------------------- */

/* Point guest clusters [g, g+n) at host clusters from `host` on (lock held);
 * what they pointed at before is released.  head_sc: subclusters of the
 * first cluster that hold copied data (extended L2: marked allocated). */
static int
link_run(qcow2_state *s, uint64_t g, uint64_t n, uint64_t host, unsigned head_sc,
         vdisk_error *err)
{
    struct qcow2_freelist fl = { 0 };
    int r = 0;
    for (uint64_t i = 0; i < n && r == 0; i++) {
        uint8_t *t;
        uint32_t idx;
        uint64_t old, obm;
        r = qcow2_l2_get_for_write(s, g + i, &t, &idx, &fl, err);
        if (r < 0)
            break;
        qcow2_l2_get_entry(s, t, idx, &old, &obm);
        uint64_t bm = i == 0 && head_sc ? (UINT64_C(1) << head_sc) - 1 : 0;
        qcow2_l2_set_entry(s, t, idx, (host + (i << s->cluster_bits)) | QCOW_OFLAG_COPIED, bm);
        qcow2_cache_mark_dirty(s->l2_cache, t);
        qcow2_cache_put(s->l2_cache, t);
        r = qcow2_freelist_add_entry(s, &fl, old, err);
    }
    int r2 = qcow2_release(s, &fl, err);
    return r < 0 ? r : r2;
}

/* First guest cluster of the new part that has no host cluster yet. */
static int
first_new_cluster(qcow2_state *s, uint64_t old, uint64_t *g, vdisk_error *err)
{
    *g = old >> s->cluster_bits;
    if (!(old & (s->cluster_size - 1)))
        return 0;
    uint64_t entry, bitmap;
    int r = qcow2_l2_lookup(s, *g, &entry, &bitmap, err);
    if (r == 0 && ((entry & L2E_OFFSET_MASK) || (entry & QCOW_OFLAG_COMPRESSED)))
        (*g)++;
    return r;
}

/* Clusters [host, host+len) were just allocated: where they lie inside the
 * file they may hold what freed metadata left there, which must not become
 * guest data.  Zero that part (keeping the blocks when `keep`). */
static int
scrub_reused(qcow2_state *s, uint64_t host, uint64_t len, bool keep, vdisk_error *err)
{
    uint64_t flen;
    int r = vdisk_file_get_length(s->file, &flen, err);
    if (r < 0 || host >= flen)
        return r;
    return vdisk_file_zero(s->file, host, len < flen - host ? len : flen - host, !keep, err);
}

/* metadata: per L2 table, the table first, then its data clusters. */
static int
prealloc_metadata(qcow2_state *s, uint64_t old, uint64_t size, vdisk_error *err)
{
    uint64_t g, end = (size + s->cluster_size - 1) >> s->cluster_bits, last_host = 0;
    int r = first_new_cluster(s, old, &g, err);
    while (r == 0 && g < end) {
        uint64_t n = s->l2_entries - (g & (s->l2_entries - 1)), host;
        if (n > end - g)
            n = end - g;
        uint8_t *t;
        uint32_t idx;
        struct qcow2_freelist fl = { 0 };
        r = qcow2_l2_get_for_write(s, g, &t, &idx, &fl, err);
        if (r == 0)
            qcow2_cache_put(s->l2_cache, t);
        int r2 = qcow2_release(s, &fl, err);
        if (r == 0)
            r = r2;
        if (r < 0)
            break;
        r = qcow2_alloc_clusters(s, n, &host, err);
        if (r == 0)
            r = scrub_reused(s, host, n << s->cluster_bits, false, err);
        if (r == 0)
            r = link_run(s, g, n, host, 0, err);
        last_host = host + ((n - 1) << s->cluster_bits);
        g += n;
    }
    if (r < 0 || !last_host)
        return r;
    /* The file covers the last cluster up to the (sub)cluster holding the
     * new end, as QEMU leaves it. */
    uint64_t tail = ((size - 1) & (s->cluster_size - 1)) + 1;
    tail = (tail + s->sc_size - 1) & ~(s->sc_size - 1);
    uint64_t len;
    r = vdisk_file_get_length(s->file, &len, err);
    if (r == 0 && len < last_host + tail)
        r = vdisk_file_truncate(s->file, last_host + tail, err);
    return r;
}

/* The guest bytes of the old last cluster, when the old size ends inside
 * one: falloc/full give that cluster a new host cluster (the rest of it
 * reads zeros afterwards, as with QEMU), so its head is copied over. */
struct head {
    uint8_t *buf;
    uint64_t len;
};

/* falloc/full: new refcount structures after the last used cluster, then
 * the data clusters in one run (reserved, or written with zeros), then the
 * L2 entries. */
static int
prealloc_data(qcow2_state *s, uint64_t old, uint64_t size, vdisk_prealloc mode,
              const struct head *head, vdisk_progress_fn progress, void *opaque,
              vdisk_error *err)
{
    uint64_t last, start, host;
    uint64_t g = old >> s->cluster_bits;
    uint64_t end = (size + s->cluster_size - 1) >> s->cluster_bits;
    uint64_t n = end - g;
    uint64_t l2_tables = (n + s->l2_entries - 1) / s->l2_entries + 1;
    int r = last_used_cluster(s, &last, err);
    if (r == 0)
        r = qcow2_refcount_area(s, last + 1, n + l2_tables, &start, err);
    if (r == 0)
        r = qcow2_alloc_clusters(s, n, &host, err);
    if (r < 0)
        return r;
    uint64_t bytes = n << s->cluster_bits;
    if (mode == VDISK_PREALLOC_FULL)
        r = vdisk_file_write_zeroes_full(s->file, host, bytes, progress, opaque, err);
    else if ((r = scrub_reused(s, host, bytes, true, err)) == 0)
        r = vdisk_file_allocate(s->file, host, bytes, err);
    if (r < 0)
        vdisk_error_prefix(err, "Failed to resize underlying file");
    if (r == 0 && head->len)
        r = vdisk_file_pwrite(s->file, head->buf, head->len, host, err);
    if (r == 0)
        r = vdisk_file_flush(s->file, err);
    if (r < 0) {
        qcow2_refcount_update(s, host >> s->cluster_bits, n, -1, false, NULL);
        return r;
    }
    unsigned head_sc = (unsigned)((head->len + s->sc_size - 1) >> s->sc_bits);
    return link_run(s, g, n, host, s->ext_l2 ? head_sc : 0, err);
}

/* ---- the driver callbacks ----------------------------------------------- */

int
qcow2_truncate_check(qcow2_state *s, uint64_t size, vdisk_prealloc prealloc,
                     bool shrink_snapshots, vdisk_error *err)
{
    if (s->crypt_method && prealloc != VDISK_PREALLOC_OFF)
        return vdisk_error_set(err, ENOTSUP, "%s: preallocation of the new part is not supported "
                               "for encrypted images (its clusters would not decrypt to zeros)",
                               s->name);
    if (size & 511)
        return vdisk_error_set(err, EINVAL, "%s: The new size must be a multiple of 512", s->name);
    if (s->nb_snapshots && s->version < 3)
        return vdisk_error_set(err, ENOTSUP, "%s: Can't resize a v2 image which has snapshots",
                               s->name);
    if (size < s->img->size && s->nb_snapshots && !shrink_snapshots)
        return vdisk_error_set(err, ENOTSUP, "%s: cannot shrink an image with internal snapshots "
                               "(%u found): their data past the new end would be lost; delete "
                               "them first", s->name, s->nb_snapshots);
    if (qcow2_size_to_l1(size, s->cluster_bits, s->l2_bits) * 8 > QCOW2_MAX_L1_BYTES)
        return vdisk_error_set_kind(err, VDISK_ERR_INVALID, EFBIG,
                                    "%s: the new size %" PRIu64 " is too large for %" PRIu64
                                    "-byte clusters (the L1 table would exceed %u bytes)", s->name,
                                    size, s->cluster_size, QCOW2_MAX_L1_BYTES);
    return 0;
}

static int
grow(qcow2_state *s, uint64_t size, vdisk_prealloc prealloc, const struct head *head,
     vdisk_progress_fn progress, void *opaque, vdisk_error *err)
{
    uint64_t old = s->img->size;
    int r = grow_l1(s, qcow2_size_to_l1(size, s->cluster_bits, s->l2_bits), err);
    if (r == 0 && prealloc == VDISK_PREALLOC_METADATA)
        r = prealloc_metadata(s, old, size, err);
    else if (r == 0 && prealloc != VDISK_PREALLOC_OFF)
        r = prealloc_data(s, old, size, prealloc, head, progress, opaque, err);
    if (r == 0)
        r = qcow2_flush_metadata(s, err);
    if (r == 0)
        r = vdisk_file_flush(s->file, err);
    if (r < 0 && qcow2_flush_metadata(s, NULL) == 0) {
        /* The size is unchanged; give back what a failed preallocation
         * appended (best effort: the error above is what matters). */
        qcow2_trim_file(s, NULL);
    }
    return r;
}

/* Read the head of the old last cluster for prealloc_data (no lock held). */
static int
read_head(vdisk_image *img, vdisk_prealloc prealloc, uint64_t size, struct head *head,
          vdisk_error *err)
{
    qcow2_state *s = img->priv;
    head->buf = NULL;
    head->len = img->size & (s->cluster_size - 1);
    if (size <= img->size || (prealloc != VDISK_PREALLOC_FALLOC && prealloc != VDISK_PREALLOC_FULL) ||
        !head->len)
        return head->len = 0;
    head->buf = malloc(head->len);
    if (!head->buf)
        return vdisk_error_set(err, ENOMEM, "%s: out of memory", s->name);
    return qcow2_pread(img, head->buf, head->len, img->size - head->len, err);
}

/* Truncate: grow or shrink the virtual size (see the file comment). */
int
qcow2_truncate(vdisk_image *img, uint64_t size, vdisk_prealloc prealloc,
               vdisk_progress_fn progress, void *opaque, vdisk_error *err)
{
    return qcow2_resize(img, size, prealloc, false, progress, opaque, err);
}

int
qcow2_resize(vdisk_image *img, uint64_t size, vdisk_prealloc prealloc, bool shrink_snapshots,
             vdisk_progress_fn progress, void *opaque, vdisk_error *err)
{
    qcow2_state *s = img->priv;
    uint64_t old = img->size;
    struct head head;
    int r = read_head(img, prealloc, size, &head, err);
    pthread_mutex_lock(&s->lock);
    if (r == 0)
        r = qcow2_truncate_check(s, size, prealloc, shrink_snapshots, err);
    if (r == 0 && size != old)
        r = qcow2_bitmaps_resize_check(s, err);   /* bitmap.c */
    if (r == 0)
        r = qcow2_mark_dirty(s, err);
    if (r == 0 && size > old) {
        r = grow(s, size, prealloc, &head, progress, opaque, err);
    } else if (r == 0 && size < old) {
        uint64_t first = (size + s->cluster_size - 1) >> s->cluster_bits;
        uint64_t end = (old + s->cluster_size - 1) >> s->cluster_bits;
        r = drop_clusters(s, first, end,
                          (uint32_t)qcow2_size_to_l1(size, s->cluster_bits, s->l2_bits), err);
    }
    if (r == 0 && size != old)
        r = write_size(s, size, err);
    if (r == 0)
        img->size = size;
    pthread_mutex_unlock(&s->lock);
    free(head.buf);
    if (r == 0 && size > old && img->backing && img->backing->size > old) {
        /* The backing file would show through the new part: zero it, as
         * QEMU (the bitmaps, not resized yet, do not count it as written). */
        r = qcow2_write_zeroes(img, size - old, old, 0, err);
        if (r < 0)
            vdisk_error_prefix(err, "Failed to zero out new clusters");
    }
    if (r == 0 && size != old)
        r = qcow2_bitmaps_resize(s, size, err);   /* bitmap.c */
    return r;
}

/* Make empty: unlink every cluster and free every L2 table. */
int
qcow2_make_empty(vdisk_image *img, vdisk_error *err)
{
    qcow2_state *s = img->priv;
    pthread_mutex_lock(&s->lock);
    int r = qcow2_mark_dirty(s, err);
    if (r == 0)
        r = drop_clusters(s, 0, (img->size + s->cluster_size - 1) >> s->cluster_bits,
                          s->nb_snapshots ? s->l1_size : 0, err);
    pthread_mutex_unlock(&s->lock);
    if (r < 0)
        vdisk_error_prefix(err, "%s: cannot empty the image", s->name);
    return r;
}
