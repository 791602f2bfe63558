/* libvdisk — qcow2 internal snapshots: list, create, apply, delete, and
 * opening a snapshot read-only.  The on-disk work is QEMU's:
 *
 *  create: refcount +1 on every L2 table and data cluster the active L1
 *          names (their COPIED flags clear: the next write copies them),
 *          a copy of the active L1 in new clusters, then a new snapshot
 *          table and the header pointing at it (the commit point).  A
 *          create that fails before that point takes its increments back.
 *  apply:  refcount +1 for the snapshot's tables, the snapshot's L1 written
 *          over the active one (grown when the snapshot's is larger),
 *          refcount -1 for what the old active L1 named, COPIED recomputed.
 *  delete: the table without the entry first, then refcount -1 for what
 *          the snapshot's L1 names and the L1 itself freed.
 *
 * Every step puts refcount increments on disk before the reference that
 * needs them, and drops references before decrementing, so a crash leaves
 * at worst leaked clusters.  Refcounts and the COPIED flags that follow
 * them are written back one right after the other (qcow2_snap_flush_unordered): a
 * killed process leaves them disagreeing only within that instant, and on
 * version 3 images the dirty bit covers that window during a create, an
 * apply and a delete (snapshot-window.c, which also says why version 2
 * images keep it), so that a power loss inside it is repaired before use.
 *
 * Snapshot calls hold s->lock throughout; they are not to run while other
 * calls use the handle (snapshot.h).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ordering.h"
#include "snapshot-int.h"

#define HDR_SIZE 24
#define HDR_L1_SIZE 36

/* Host clusters [*first, *first + *n) holding a compressed cluster's data. */
static void
compressed_range(const qcow2_state *s, uint64_t entry, uint64_t *first, uint64_t *n)
{
    uint64_t coff = entry & s->coffset_mask;
    uint64_t nsec = ((entry >> s->csize_shift) & s->csize_mask) + 1;
    uint64_t start = coff & ~UINT64_C(511);
    *first = start >> s->cluster_bits;
    *n = ((start + nsec * 512 - 1) >> s->cluster_bits) - *first + 1;
}

/* Refcount lookups over neighbouring clusters keep the refcount block of
 * the last one pinned: a cache lookup per cluster would dominate the walks
 * below.  Only for passes that change no refcount. */
struct rc_reader {
    qcow2_state *s;
    uint64_t idx;     /* refcount table index of rb */
    uint8_t *rb;      /* pinned block, or NULL */
};

static void
rc_reader_done(struct rc_reader *rr)
{
    if (rr->rb)
        qcow2_cache_put(rr->s->rb_cache, rr->rb);
    rr->rb = NULL;
}

static int
rc_read(struct rc_reader *rr, uint64_t cluster, uint64_t *rc, vdisk_error *err)
{
    qcow2_state *s = rr->s;
    uint64_t idx = cluster >> s->rb_bits;
    if (!rr->rb || idx != rr->idx) {
        rc_reader_done(rr);
        uint64_t rbo = idx < s->reftable_entries ? s->reftable[idx] : 0;
        if (!rbo) {
            *rc = 0;
            return 0;
        }
        int r = qcow2_cache_get(s->rb_cache, rbo, false, &rr->rb, err);
        if (r < 0) {
            rr->rb = NULL;
            return r;
        }
        rr->idx = idx;
    }
    *rc = qcow2_refcount_read_entry(rr->rb, cluster & ((UINT64_C(1) << s->rb_bits) - 1),
                                    s->refcount_order);
    return 0;
}

/* Refcount change for the clusters one L2 table names, batched into runs
 * of consecutive host clusters. */
static int
l2_refcounts(qcow2_state *s, const uint8_t *t, int addend, vdisk_error *err)
{
    uint64_t run = 0, run_n = 0;
    int r = 0;
    for (uint32_t j = 0; j <= s->l2_entries && r == 0; j++) {
        uint64_t first = 0, n = 0;
        if (j < s->l2_entries) {
            uint64_t e, bm;
            qcow2_l2_get_entry(s, t, j, &e, &bm);
            if (e & QCOW_OFLAG_COMPRESSED) {
                compressed_range(s, e, &first, &n);
            } else if (e & L2E_OFFSET_MASK) {
                first = (e & L2E_OFFSET_MASK) >> s->cluster_bits;
                n = 1;
            }
            if (n && run_n && first == run + run_n && !(e & QCOW_OFLAG_COMPRESSED)) {
                run_n++;
                continue;
            }
        }
        if (run_n)
            r = qcow2_refcount_update(s, run, run_n, addend, addend < 0, err);
        run = first;
        run_n = n;
    }
    return r;
}

/* COPIED on exactly the entries whose cluster has refcount 1. */
static int
l2_copied(qcow2_state *s, uint8_t *t, bool *changed, vdisk_error *err)
{
    struct rc_reader rr = { .s = s };
    for (uint32_t j = 0; j < s->l2_entries; j++) {
        uint64_t e, bm, rc;
        qcow2_l2_get_entry(s, t, j, &e, &bm);
        uint64_t host = e & L2E_OFFSET_MASK;
        if ((e & QCOW_OFLAG_COMPRESSED) || !host)
            continue;
        int r = rc_read(&rr, host >> s->cluster_bits, &rc, err);
        if (r < 0) {
            rc_reader_done(&rr);
            return r;
        }
        uint64_t ne = rc == 1 ? e | QCOW_OFLAG_COPIED : e & ~QCOW_OFLAG_COPIED;
        if (ne != e) {
            qcow2_l2_set_entry(s, t, j, ne, bm);
            *changed = true;
        }
    }
    rc_reader_done(&rr);
    return 0;
}

static int
update_l2(qcow2_state *s, uint64_t l2, int addend, vdisk_error *err)
{
    uint8_t *t;
    int r = qcow2_cache_get(s->l2_cache, l2, false, &t, err);
    if (r < 0)
        return r;
    bool changed = false;
    if (addend)
        r = l2_refcounts(s, t, addend, err);
    if (r == 0)
        r = l2_copied(s, t, &changed, err);
    if (changed)
        qcow2_cache_mark_dirty(s->l2_cache, t);
    qcow2_cache_put(s->l2_cache, t);
    return r;
}

/* The addend for L1 entry i and the table and data it names, then the
 * COPIED flag of the entry. */
int
qcow2_snap_update_l1_entry(qcow2_state *s, uint64_t *l1, uint32_t i, int addend, bool active,
                           vdisk_error *err)
{
    uint64_t l2 = l1[i] & L1E_OFFSET_MASK, rc;
    if (!l2)
        return 0;
    if (l2 & (s->cluster_size - 1))
        return vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL,
                                    "%s: L2 table at 0x%" PRIx64 " (L1 entry %u) is "
                                    "not cluster aligned", s->name, l2, i);
    int r = update_l2(s, l2, addend, err);
    if (r == 0 && addend)
        r = qcow2_refcount_update(s, l2 >> s->cluster_bits, 1, addend, false, err);
    if (r == 0)
        r = qcow2_refcount_get(s, l2 >> s->cluster_bits, &rc, err);
    if (r < 0)
        return r;
    uint64_t ne = rc == 1 ? l2 | QCOW_OFLAG_COPIED : l2;
    if (ne != l1[i]) {
        l1[i] = ne;
        if (active) {
            s->l1_dirty_lo = 0;
            s->l1_dirty_hi = s->l1_size;
        }
    }
    return 0;
}

int
qcow2_update_snapshot_refcount(qcow2_state *s, uint64_t *l1, uint32_t l1_size, int addend,
                               bool active, vdisk_error *err)
{
    for (uint32_t i = 0; i < l1_size; i++) {
        int r = qcow2_snap_update_l1_entry(s, l1, i, addend, active, err);
        if (r < 0)
            return r;
    }
    return 0;
}

/* Can every cluster l1 names take one more reference?  Checked before a
 * snapshot changes anything, so that narrow refcounts (refcount_bits=1
 * cannot share at all) give an error and leave the image as it was. */
int
qcow2_snap_check_headroom(qcow2_state *s, const uint64_t *l1, uint32_t l1_size, vdisk_error *err)
{
    uint64_t rc;
    for (uint32_t i = 0; i < l1_size; i++) {
        uint64_t l2 = l1[i] & L1E_OFFSET_MASK;
        if (!l2)
            continue;
        uint8_t *t;
        int r = qcow2_refcount_get(s, l2 >> s->cluster_bits, &rc, err);
        if (r == 0 && rc >= s->refcount_max)
            r = vdisk_error_set(err, ERANGE, "%s: L2 table at 0x%" PRIx64 " already has the "
                                "largest refcount %u-bit refcounts hold", s->name, l2,
                                1u << s->refcount_order);
        if (r == 0)
            r = qcow2_cache_get(s->l2_cache, l2, false, &t, err);
        if (r < 0)
            return r;
        struct rc_reader rr = { .s = s };
        for (uint32_t j = 0; j < s->l2_entries && r == 0; j++) {
            uint64_t e, bm, first, n;
            qcow2_l2_get_entry(s, t, j, &e, &bm);
            if (e & QCOW_OFLAG_COMPRESSED)
                compressed_range(s, e, &first, &n);
            else
                first = (e & L2E_OFFSET_MASK) >> s->cluster_bits, n = (e & L2E_OFFSET_MASK) != 0;
            for (uint64_t c = first; c < first + n && r == 0; c++) {
                r = rc_read(&rr, c, &rc, err);
                if (r == 0 && rc >= s->refcount_max)
                    r = vdisk_error_set(err, ERANGE, "%s: cluster at 0x%" PRIx64 " already has "
                                        "the largest refcount %u-bit refcounts hold", s->name,
                                        c << s->cluster_bits, 1u << s->refcount_order);
            }
        }
        rc_reader_done(&rr);
        qcow2_cache_put(s->l2_cache, t);
        if (r < 0)
            return r;
    }
    return 0;
}

/* ---- lookups ------------------------------------------------------------ */

/* Index of the snapshot with this ID, else the first with this name. */
static long
find_snapshot(const struct qcow2_snapshot *v, size_t n, const char *id_or_name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(v[i].id, id_or_name) == 0)
            return (long)i;
    for (size_t i = 0; i < n; i++)
        if (strcmp(v[i].name, id_or_name) == 0)
            return (long)i;
    return -1;
}

int
qcow2_snapshot_read_l1(qcow2_state *s, const struct qcow2_snapshot *sn, uint32_t entries,
                 uint64_t **out, vdisk_error *err)
{
    if (entries < sn->l1_size)
        entries = sn->l1_size;
    uint64_t *l1 = calloc(entries ? entries : 1, 8);
    if (!l1)
        return vdisk_error_set(err, ENOMEM, "%s: out of memory for the L1 table of snapshot '%s'",
                               s->name, sn->name);
    int r = 0;
    if (sn->l1_size)
        r = vdisk_file_pread(s->file, l1, (size_t)sn->l1_size * 8, sn->l1_offset, err);
    if (r < 0) {
        free(l1);
        vdisk_error_prefix(err, "%s: cannot read the L1 table of snapshot '%s'", s->name, sn->name);
        return r;
    }
    for (uint32_t i = 0; i < sn->l1_size; i++) {
        l1[i] = qcow2_be64(&l1[i]);
        uint64_t l2 = l1[i] & L1E_OFFSET_MASK;
        if (l2 & (s->cluster_size - 1)) {
            free(l1);
            return vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL,
                                        "%s: L2 table at 0x%" PRIx64 " (entry %u of the L1 "
                                        "table of snapshot '%s') is not cluster aligned", s->name, l2,
                                        i, sn->name);
        }
    }
    *out = l1;
    return 0;
}

/* Write a host-endian L1 table of n entries at off (big endian), synced
 * when `sync`. */
int
qcow2_snap_write_l1_table(qcow2_state *s, const uint64_t *l1, uint32_t n, uint64_t off, bool sync,
                          vdisk_error *err)
{
    uint8_t *buf = malloc(n ? (size_t)n * 8 : 1);
    if (!buf)
        return vdisk_error_set(err, ENOMEM, "%s: out of memory", s->name);
    for (uint32_t i = 0; i < n; i++)
        qcow2_put_be64(buf + (size_t)i * 8, l1[i]);
    int r = n ? vdisk_file_pwrite(s->file, buf, (size_t)n * 8, off, err) : 0;
    free(buf);
    if (r == 0 && sync)
        r = vdisk_file_flush(s->file, err);
    if (r < 0)
        vdisk_error_prefix(err, "%s: cannot write the L1 table at 0x%" PRIx64, s->name, off);
    return r;
}

/* Write back refcount blocks, L2 tables and the active L1 one right after
 * the other, with no sync between them.  For the COPIED-flag changes of a
 * snapshot operation no order is safer than another (a flag that lags its
 * refcount is harmless once the reference it counted is gone or not yet
 * there), and writing them back to back keeps the window in which a killed
 * process leaves flags and refcounts disagreeing as short as it can be.
 * Callers sync where a new reference needs its refcount on disk first. */
int
qcow2_snap_flush_unordered(qcow2_state *s, vdisk_error *err)
{
    int r = qcow2_cache_flush(s->rb_cache, err);
    if (r == 0)
        r = qcow2_cache_flush(s->l2_cache, err);
    if (r == 0 && s->l1_dirty_lo != s->l1_dirty_hi)
        r = qcow2_snap_write_l1_table(s, s->l1, s->l1_size, s->l1_offset, false, err);
    if (r == 0)
        s->l1_dirty_lo = s->l1_dirty_hi = 0;
    return r;
}

uint64_t
qcow2_snap_l1_clusters(const qcow2_state *s, uint32_t n)
{
    return ((uint64_t)n * 8 + s->cluster_size - 1) >> s->cluster_bits;
}

int
qcow2_snap_need_writable(qcow2_state *s, const char *what, vdisk_error *err)
{
    if (!s->writable)
        return vdisk_error_set(err, EROFS, "%s: cannot %s a snapshot: the image is open read-only",
                               s->name, what);
    return 0;
}

/* ---- list --------------------------------------------------------------- */

int
qcow2_snapshot_list(vdisk_image *img, vdisk_snapshot_info **out, size_t *n, vdisk_error *err)
{
    qcow2_state *s = img->priv;
    struct qcow2_snapshot *v;
    size_t len;
    *out = NULL;
    *n = 0;
    pthread_mutex_lock(&s->lock);
    int r = qcow2_snapshots_read(s, &v, &len, err);
    uint32_t count = s->nb_snapshots;
    pthread_mutex_unlock(&s->lock);
    if (r < 0 || count == 0)
        return r;
    vdisk_snapshot_info *l = calloc(count, sizeof(*l));
    for (uint32_t i = 0; l && i < count; i++) {
        l[i] = (vdisk_snapshot_info){
            .id = v[i].id, .name = v[i].name, .date_sec = v[i].date_sec,
            .date_nsec = v[i].date_nsec, .vm_clock_nsec = v[i].vm_clock_nsec,
            .vm_state_size = v[i].vm_state_size, .disk_size = v[i].disk_size,
            .icount = v[i].icount,
        };
        v[i].id = v[i].name = NULL;   /* now owned by the list */
    }
    qcow2_snapshots_free(v, count);
    if (!l)
        return vdisk_error_set(err, ENOMEM, "%s: out of memory", s->name);
    *out = l;
    *n = count;
    return 0;
}

/* ---- apply -------------------------------------------------------------- */

/* Make the active L1 on disk hold nl1 (n entries): in place, or in new
 * clusters with the header repointed when it has to grow. */
static int
replace_active_l1(qcow2_state *s, uint64_t *nl1, uint32_t n, uint64_t *new_off, vdisk_error *err)
{
    uint64_t off = s->l1_offset;
    int r;
    if (n > s->l1_size) {
        r = qcow2_alloc_clusters(s, qcow2_snap_l1_clusters(s, n), &off, err);
        if (r == 0)
            r = qcow2_flush_metadata(s, err);
        if (r < 0)
            return r;
    }
    r = qcow2_snap_write_l1_table(s, nl1, n, off, true, err);
    if (r == 0 && off != s->l1_offset) {
        uint8_t b[12];
        qcow2_put_be32(b, n);
        qcow2_put_be64(b + 4, off);
        r = vdisk_file_pwrite(s->file, b, sizeof(b), HDR_L1_SIZE, err);
        if (r == 0)
            r = vdisk_file_flush(s->file, err);
    }
    *new_off = off;
    return r;
}

/* Switch to the snapshot's L1 table (lock held). */
static int
apply_one(qcow2_state *s, const struct qcow2_snapshot *sn, vdisk_error *err)
{
    uint32_t n = sn->l1_size > s->l1_size ? sn->l1_size : s->l1_size;
    uint64_t *nl1;
    int r = qcow2_snapshot_read_l1(s, sn, n, &nl1, err);
    if (r < 0)
        return r;
    uint64_t old_off = s->l1_offset, new_off = old_off;
    uint32_t old_n = s->l1_size;
    r = qcow2_snap_check_headroom(s, nl1, sn->l1_size, err);
    if (r == 0)
        r = qcow2_mark_dirty(s, err);
    if (r == 0)
        r = qcow2_flush_metadata(s, err);
    if (r == 0)
        r = qcow2_update_snapshot_refcount(s, nl1, sn->l1_size, 1, false, err);
    /* The increments reach the disk before the L1 that needs them. */
    if (r == 0)
        r = qcow2_snap_flush_unordered(s, err);
    if (r == 0)
        r = qcow2_order_barrier(s, err);
    if (r == 0)
        r = replace_active_l1(s, nl1, n, &new_off, err);
    if (r < 0) {
        free(nl1);
        return r;
    }
    /* The new table is on disk: the old one's references are gone. */
    uint64_t *old = s->l1;
    s->l1 = nl1;
    s->l1_size = n;
    s->l1_offset = new_off;
    s->l1_dirty_lo = s->l1_dirty_hi = 0;
    r = qcow2_update_snapshot_refcount(s, old, old_n, -1, false, err);
    free(old);
    if (r == 0 && new_off != old_off)
        r = qcow2_refcount_update(s, old_off >> s->cluster_bits,
                                  qcow2_snap_l1_clusters(s, old_n), -1, false, err);
    return r;
}

static int
set_size(qcow2_state *s, uint64_t size, vdisk_error *err)
{
    if (size == s->img->size)
        return 0;
    uint8_t b[8];
    qcow2_put_be64(b, size);
    int r = vdisk_file_pwrite(s->file, b, sizeof(b), HDR_SIZE, err);
    if (r == 0)
        r = vdisk_file_flush(s->file, err);
    if (r == 0)
        s->img->size = size;
    return r;
}

/* Read the snapshot table and find id_or_name in it: *v (n entries, freed
 * with qcow2_snapshots_free; *len the table's size in bytes) and its index
 * *i; -ENOENT if there is none. */
static int
read_and_find(qcow2_state *s, const char *id_or_name, struct qcow2_snapshot **v, size_t *n,
              size_t *len, long *i, vdisk_error *err)
{
    *n = s->nb_snapshots;
    int r = qcow2_snapshots_read(s, v, len, err);
    if (r < 0)
        return r;
    *i = find_snapshot(*v, *n, id_or_name);
    if (*i < 0) {
        qcow2_snapshots_free(*v, *n);
        return vdisk_error_set(err, ENOENT, "%s: no snapshot with ID or name '%s'", s->name,
                               id_or_name);
    }
    return 0;
}

static int
apply_locked(qcow2_state *s, const char *id_or_name, vdisk_error *err)
{
    struct qcow2_snapshot *v;
    size_t n, len;
    long i;
    int r = read_and_find(s, id_or_name, &v, &n, &len, &i, err);
    if (r < 0)
        return r;
    /* A failure leaves the bit set: the next writer repairs. */
    bool window = false;
    r = qcow2_snap_window_open(s, &window, err);
    if (r == 0)
        r = apply_one(s, &v[i], err);
    if (r == 0)
        r = set_size(s, v[i].disk_size, err);
    if (r == 0)
        r = qcow2_update_snapshot_refcount(s, s->l1, s->l1_size, 0, true, err);
    if (r == 0)
        r = qcow2_snap_flush_unordered(s, err);
    if (r == 0 && window)
        r = qcow2_snap_window_close(s, err);
    qcow2_snapshots_free(v, n);
    return r;
}

int
qcow2_snapshot_apply(vdisk_image *img, const char *id_or_name, vdisk_error *err)
{
    qcow2_state *s = img->priv;
    int r = qcow2_snap_need_writable(s, "apply", err);
    if (r < 0)
        return r;
    /* QEMU's bdrv_snapshot_goto refuses as long as bitmaps are loaded. */
    if (qcow2_bitmaps_active(s))
        return vdisk_error_set(err, EBUSY, "%s: Device has active dirty bitmaps", s->name);
    pthread_mutex_lock(&s->lock);
    r = apply_locked(s, id_or_name, err);
    pthread_mutex_unlock(&s->lock);
    return r;
}

/* ---- delete ------------------------------------------------------------- */

static int
delete_locked(qcow2_state *s, const char *id_or_name, vdisk_error *err)
{
    struct qcow2_snapshot *v;
    size_t n, len;
    long i;
    int r = read_and_find(s, id_or_name, &v, &n, &len, &i, err);
    if (r < 0)
        return r;
    struct qcow2_snapshot sn = v[i];
    uint64_t *l1 = NULL;
    r = qcow2_snapshot_read_l1(s, &sn, sn.l1_size, &l1, err);
    if (r == 0)
        r = qcow2_mark_dirty(s, err);
    /* A failure leaves the bit set: the next writer repairs. */
    bool window = false;
    if (r == 0)
        r = qcow2_snap_window_open(s, &window, err);
    if (r == 0) {
        memmove(&v[i], &v[i + 1], (n - (size_t)i - 1) * sizeof(*v));
        r = qcow2_snapshots_write(s, v, n - 1, len, err);
        v[n - 1] = sn;   /* keep it owned by v for the free below */
    }
    /* The table no longer names it: drop its references. */
    if (r == 0)
        r = qcow2_update_snapshot_refcount(s, l1, sn.l1_size, -1, false, err);
    if (r == 0 && sn.l1_size)
        r = qcow2_refcount_update(s, sn.l1_offset >> s->cluster_bits,
                                  qcow2_snap_l1_clusters(s, sn.l1_size), -1, false, err);
    if (r == 0)
        r = qcow2_update_snapshot_refcount(s, s->l1, s->l1_size, 0, true, err);
    if (r == 0)
        r = qcow2_snap_flush_unordered(s, err);
    if (r == 0 && window)
        r = qcow2_snap_window_close(s, err);
    free(l1);
    qcow2_snapshots_free(v, n);
    return r;
}

int
qcow2_snapshot_delete(vdisk_image *img, const char *id_or_name, vdisk_error *err)
{
    qcow2_state *s = img->priv;
    int r = qcow2_snap_need_writable(s, "delete", err);
    if (r < 0)
        return r;
    pthread_mutex_lock(&s->lock);
    r = delete_locked(s, id_or_name, err);
    pthread_mutex_unlock(&s->lock);
    return r;
}

/* ---- read-only view of a snapshot --------------------------------------- */

int
qcow2_snapshot_load(vdisk_image *img, const char *id_or_name, vdisk_error *err)
{
    qcow2_state *s = img->priv;
    if (s->writable)
        return vdisk_error_set(err, EINVAL, "%s: a snapshot can only be opened read-only", s->name);
    struct qcow2_snapshot *v;
    size_t len, n = s->nb_snapshots;
    pthread_mutex_lock(&s->lock);
    int r = qcow2_snapshots_read(s, &v, &len, err);
    long i = r == 0 ? find_snapshot(v, n, id_or_name) : -1;
    if (r == 0 && i < 0)
        r = vdisk_error_set(err, ENOENT, "%s: no snapshot with ID or name '%s'", s->name,
                            id_or_name);
    uint64_t *l1 = NULL;
    if (r == 0 && qcow2_size_to_l1(v[i].disk_size, s->cluster_bits, s->l2_bits) > v[i].l1_size)
        r = vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL,
                                 "%s: snapshot '%s' has an L1 table of %u entries, too "
                                 "small for its size of %" PRIu64 " bytes", s->name, v[i].name,
                                 v[i].l1_size, v[i].disk_size);
    if (r == 0)
        r = qcow2_snapshot_read_l1(s, &v[i], v[i].l1_size, &l1, err);
    if (r == 0) {
        free(s->l1);
        s->l1 = l1;
        s->l1_size = v[i].l1_size;
        s->l1_offset = v[i].l1_offset;
        img->size = v[i].disk_size;
    }
    pthread_mutex_unlock(&s->lock);
    qcow2_snapshots_free(v, n);
    return r;
}
