/* qcow2 internal snapshots: create.  The new snapshot's L1 table is a copy
 * of the active one; every cluster it names gains a reference (COPIED flags
 * cleared), and the snapshot table naming the copy is written last, the
 * commit point: a create that fails before it gives back what it took
 * (rollback_create), so a full disk leaves no leaks.  On version 3 images
 * the dirty bit covers the window in which refcounts and COPIED flags may
 * disagree on disk (snapshot-window.c); snapshot.c has the ordering rules
 * this file follows.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ordering.h"
#include "snapshot-int.h"

/* The next ID: one more than the largest numeric one. */
static char *
new_id(const struct qcow2_snapshot *v, size_t n)
{
    unsigned long max = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned long id = strtoul(v[i].id, NULL, 10);
        if (id > max)
            max = id;
    }
    char buf[32];
    snprintf(buf, sizeof(buf), "%lu", max + 1);
    return strdup(buf);
}

/* Append the new entry to v (*n entries, reallocated; *n counts it as
 * soon as v owns it). */
static int
add_entry(qcow2_state *s, struct qcow2_snapshot **v, size_t *count,
          const vdisk_snapshot_info *info, uint64_t l1_off, vdisk_error *err)
{
    size_t n = *count;
    struct qcow2_snapshot *nv = realloc(*v, (n + 1) * sizeof(*nv));
    if (!nv)
        return vdisk_error_set(err, ENOMEM, "%s: out of memory", s->name);
    *v = nv;
    *count = n + 1;
    nv[n] = (struct qcow2_snapshot){
        .l1_offset = l1_off, .l1_size = s->l1_size, .id = new_id(nv, n),
        .name = strdup(info->name), .date_sec = info->date_sec, .date_nsec = info->date_nsec,
        .vm_clock_nsec = info->vm_clock_nsec, .vm_state_size = info->vm_state_size,
        .disk_size = s->img->size, .icount = info->icount, .extra_size = 24,
    };
    if (!nv[n].id || !nv[n].name)
        return vdisk_error_set(err, ENOMEM, "%s: out of memory", s->name);
    return 0;
}

/* Give back the snapshot's reference on what the first `upto` entries of
 * the active L1 name (COPIED flags recomputed), and the L1 copy at l1_off
 * when there is one: a create that failed before its commit point leaves
 * the refcounts as it found them.  Best effort: what cannot be undone stays
 * a leak, which is safe. */
static void
rollback_create(qcow2_state *s, uint32_t upto, uint64_t l1_off)
{
    for (uint32_t i = 0; i < upto; i++)
        if (qcow2_snap_update_l1_entry(s, s->l1, i, -1, true, NULL) < 0)
            return;
    if (l1_off)
        qcow2_refcount_update(s, l1_off >> s->cluster_bits,
                              qcow2_snap_l1_clusters(s, s->l1_size), -1, true, NULL);
    if (qcow2_snap_flush_unordered(s, NULL) == 0)
        vdisk_file_flush(s->file, NULL);
}

/* Every cluster the active L1 names gains the snapshot's reference; on
 * failure the entries done so far are rolled back. */
static int
raise_refcounts(qcow2_state *s, vdisk_error *err)
{
    for (uint32_t i = 0; i < s->l1_size; i++) {
        int r = qcow2_snap_update_l1_entry(s, s->l1, i, 1, true, err);
        if (r < 0) {
            rollback_create(s, i, 0);
            return r;
        }
    }
    return 0;
}

/* Everything of a create up to its commit point: the refcounts raised,
 * COPIED flags cleared, the L1 copy and the new snapshot table written
 * (in *tbl_off).  On failure the refcounts are rolled back. */
static int
create_prepare(qcow2_state *s, struct qcow2_snapshot **v, size_t *count,
               const vdisk_snapshot_info *info, uint64_t *tbl_off, vdisk_error *err)
{
    int r = raise_refcounts(s, err);
    if (r < 0)
        return r;
    uint64_t l1_off = 0;
    if (s->l1_size)
        r = qcow2_alloc_clusters(s, qcow2_snap_l1_clusters(s, s->l1_size), &l1_off, err);
    /* Neither these writes nor the copy need a sync of their own: the one
     * before the new snapshot table names them (write_table) covers them. */
    if (r == 0)
        r = qcow2_snap_flush_unordered(s, err);
    if (r == 0)
        r = qcow2_snap_write_l1_table(s, s->l1, s->l1_size, l1_off, false, err);
    if (r == 0)
        r = add_entry(s, v, count, info, l1_off, err);
    if (r == 0)
        r = qcow2_snapshots_write_table(s, *v, *count, tbl_off, err);
    if (r < 0)
        rollback_create(s, s->l1_size, l1_off);
    return r;
}

static int
create_locked(qcow2_state *s, const vdisk_snapshot_info *info, vdisk_error *err)
{
    struct qcow2_snapshot *v = NULL;
    size_t len, n = s->nb_snapshots;
    /* A full table is refused before it is read, as QEMU does. */
    if (n >= QCOW2_MAX_SNAPSHOTS)
        return vdisk_error_set(err, EFBIG, "%s: the image already has the maximum of %u snapshots",
                               s->name, QCOW2_MAX_SNAPSHOTS);
    int r = qcow2_snapshots_read(s, &v, &len, err);
    if (r < 0)
        return r;
    if (r == 0 && strlen(info->name) > UINT16_MAX)
        r = vdisk_error_set(err, EINVAL, "%s: snapshot name is too long (%zu bytes, at most %u)",
                            s->name, strlen(info->name), UINT16_MAX);
    if (r == 0)
        r = qcow2_snap_check_headroom(s, s->l1, s->l1_size, err);
    if (r == 0)
        r = qcow2_mark_dirty(s, err);
    if (r == 0)
        r = qcow2_flush_metadata(s, err);   /* earlier writes, in their order */
    bool window = false;
    if (r == 0)
        r = qcow2_snap_window_open(s, &window, err);
    uint64_t tbl_off = 0;
    size_t entries = n;
    bool rolled_back = false;
    if (r == 0) {
        r = create_prepare(s, &v, &entries, info, &tbl_off, err);
        rolled_back = r < 0;
    }
    /* The commit point: the header names the new table. */
    if (r == 0)
        r = qcow2_snapshots_commit(s, entries, tbl_off, len, err);
    /* A create rolled back clears the bit too; a failed commit may or may
     * not have reached the disk, so the bit stays for a repair. */
    if (window && (r == 0 || rolled_back)) {
        int w = qcow2_snap_window_close(s, r == 0 ? err : NULL);
        if (r == 0)
            r = w;
    }
    qcow2_snapshots_free(v, entries);
    return r;
}

int
qcow2_snapshot_create(vdisk_image *img, const vdisk_snapshot_info *info, vdisk_error *err)
{
    qcow2_state *s = img->priv;
    int r = qcow2_snap_need_writable(s, "create", err);
    if (r < 0)
        return r;
    pthread_mutex_lock(&s->lock);
    r = create_locked(s, info, err);
    if (r == 0)
        r = qcow2_flush_metadata(s, err);
    pthread_mutex_unlock(&s->lock);
    if (r < 0)
        vdisk_error_prefix(err, "cannot create snapshot '%s'", info->name);
    return r;
}
