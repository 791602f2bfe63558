/* vdisk plugin — snapshots and clones of RBD volumes.
 *
 * vol-snapshot-* are RBD snapshots of the image (rbd snap ls shows them).
 * vol-clone is what libvirt's rbd backend does: a snapshot of the source,
 * protected, and an RBD clone of it -- copy-on-write, instant whatever the
 * size.  The snapshot is named for the clone ("vdisk-clone-NAME"), so the
 * source's snapshot list tells where each clone came from; deleting the
 * source then needs --delete-snapshots, and is refused while clones
 * depend on it (rbd children).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <vdisk/snapshot.h>

#include "pool-rbd.h"

/* Snapshots of an open image: *snaps malloc'ed, release with rbd_snap_list_end + free. */
static int
list_snaps(rbd_image_t img, rbd_snap_info_t **snaps, int *n)
{
    int max = 16;
    for (;;) {
        rbd_snap_info_t *s = calloc((size_t)max, sizeof(*s));
        if (!s)
            return -ENOMEM;
        int r = rbd_snap_list(img, s, &max);
        if (r >= 0) {
            *snaps = s;
            *n = r;
            return 0;
        }
        free(s);
        if (r != -ERANGE)
            return r;
    }
}

static void
free_snaps(rbd_snap_info_t *snaps, int n)
{
    if (n > 0)
        rbd_snap_list_end(snaps);
    free(snaps);
}

int
rbd_pool_snapshot_count(rbd_image_t img)
{
    rbd_snap_info_t *snaps;
    int n, r = list_snaps(img, &snaps, &n);
    if (r < 0)
        return r;
    free_snaps(snaps, n);
    return n;
}

/* Unprotect (if protected) and remove one snapshot; refused while clones
 * depend on it. */
static int
remove_snap(vdisk_pool *pool, const char *name, rbd_image_t img, const char *snap, vdisk_error *err)
{
    int prot = 0;
    int r = rbd_snap_is_protected(img, snap, &prot);
    if (r == 0 && prot && (r = rbd_snap_unprotect(img, snap)) == -EBUSY)
        return vdisk_error_set(err, EBUSY, "pool '%s': volume '%s': snapshot '%s' has clones (rbd "
                               "children): delete or flatten them first", pool->def->name, name, snap);
    if (r == 0)
        r = rbd_snap_remove(img, snap);
    if (r == -ENOENT)
        return vdisk_error_set(err, ENOENT, "pool '%s': volume '%s' has no snapshot '%s'", pool->def->name,
                               name, snap);
    return r < 0 ? rbd_pool_error(pool, name, r, "remove a snapshot", err) : 0;
}

int
rbd_pool_snapshots_remove_all(vdisk_pool *pool, const char *name, rbd_image_t img, vdisk_error *err)
{
    rbd_snap_info_t *snaps;
    int n, r = list_snaps(img, &snaps, &n);
    if (r < 0)
        return rbd_pool_error(pool, name, r, "list the image's snapshots", err);
    for (int i = 0; i < n && r == 0; i++)
        r = remove_snap(pool, name, img, snaps[i].name, err);
    free_snaps(snaps, n);
    return r;
}

/* Open for a snapshot operation that changes the image: name checked, and
 * nobody else writing it. */
static int
open_for_snap(vdisk_pool *pool, const char *name, const char *snapshot, rbd_image_t *img,
              vdisk_error *err)
{
    int r = vdisk_storage_name_check("snapshot name", snapshot, err);
    if (r == 0 && strpbrk(snapshot, "@/:"))
        r = vdisk_error_set(err, EINVAL, "'%s' is not an RBD snapshot name", snapshot);
    if (r < 0 || (r = rbd_pool_open_image(pool, name, false, img, err)) < 0)
        return r;
    if ((r = rbd_pool_check_unlocked(pool, name, *img, err)) < 0)
        rbd_close(*img);
    return r;
}

int
rbd_pool_snapshot_create(vdisk_pool *pool, const char *name, const char *snapshot, vdisk_error *err)
{
    rbd_image_t img;
    int r = open_for_snap(pool, name, snapshot, &img, err);
    if (r < 0)
        return r;
    r = rbd_snap_create(img, snapshot);
    rbd_close(img);
    if (r == -EEXIST)
        return vdisk_error_set(err, EEXIST, "pool '%s': volume '%s' already has a snapshot '%s'",
                               pool->def->name, name, snapshot);
    return r < 0 ? rbd_pool_error(pool, name, r, "create a snapshot", err) : 0;
}

int
rbd_pool_snapshot_list(vdisk_pool *pool, const char *name, vdisk_snapshot_info **list, size_t *n,
                       vdisk_error *err)
{
    rbd_image_t img;
    rbd_snap_info_t *snaps;
    int count, r = rbd_pool_open_image(pool, name, true, &img, err);
    *list = NULL;
    *n = 0;
    if (r < 0)
        return r;
    r = list_snaps(img, &snaps, &count);
    if (r < 0) {
        rbd_close(img);
        return rbd_pool_error(pool, name, r, "list the image's snapshots", err);
    }
    vdisk_snapshot_info *out = calloc(count ? (size_t)count : 1, sizeof(*out));
    for (int i = 0; out && i < count; i++) {
        struct timespec ts;
        if (rbd_snap_get_timestamp(img, snaps[i].id, &ts) == 0) {
            out[i].date_sec = (uint32_t)ts.tv_sec;
            out[i].date_nsec = (uint32_t)ts.tv_nsec;
        }
        out[i].icount = VDISK_SNAPSHOT_NO_ICOUNT;
        out[i].disk_size = snaps[i].size;
        out[i].name = strdup(snaps[i].name);
        if (asprintf(&out[i].id, "%llu", (unsigned long long)snaps[i].id) < 0)
            out[i].id = NULL;
        if (!out[i].name || !out[i].id)
            r = -ENOMEM;
    }
    free_snaps(snaps, count);
    rbd_close(img);
    if (!out || r < 0) {
        if (out)
            vdisk_snapshot_list_free(out, (size_t)count);
        return vdisk_error_set(err, ENOMEM, "pool '%s': out of memory", pool->def->name);
    }
    *list = out;
    *n = (size_t)count;
    return 0;
}

int
rbd_pool_snapshot_revert(vdisk_pool *pool, const char *name, const char *snapshot, vdisk_error *err)
{
    rbd_image_t img;
    int r = open_for_snap(pool, name, snapshot, &img, err);
    if (r < 0)
        return r;
    r = rbd_snap_rollback(img, snapshot);
    rbd_close(img);
    if (r == -ENOENT)
        return vdisk_error_set(err, ENOENT, "pool '%s': volume '%s' has no snapshot '%s'",
                               pool->def->name, name, snapshot);
    return r < 0 ? rbd_pool_error(pool, name, r, "revert to a snapshot", err) : 0;
}

int
rbd_pool_snapshot_delete(vdisk_pool *pool, const char *name, const char *snapshot, vdisk_error *err)
{
    rbd_image_t img;
    int r = open_for_snap(pool, name, snapshot, &img, err);
    if (r < 0)
        return r;
    r = remove_snap(pool, name, img, snapshot, err);
    rbd_close(img);
    return r;
}

/* Snapshot + protect on the source (kept open by the caller). */
static int
clone_snapshot(vdisk_pool *pool, const char *src, rbd_image_t img, const char *snap, vdisk_error *err)
{
    int r = rbd_snap_create(img, snap);
    if (r == -EEXIST)
        return vdisk_error_set(err, EEXIST, "pool '%s': volume '%s' already has a snapshot '%s' (of an "
                               "earlier clone of that name)", pool->def->name, src, snap);
    if (r < 0)
        return rbd_pool_error(pool, src, r, "create the snapshot to clone", err);
    if ((r = rbd_snap_protect(img, snap)) < 0) {
        rbd_snap_remove(img, snap);
        return rbd_pool_error(pool, src, r, "protect the snapshot to clone", err);
    }
    return 0;
}

/* The source's format and the size the clone's capacity is compared with:
 * the image's size (raw) or the qcow2's virtual size. */
static int
source_size(vdisk_pool *pool, const char *src, rbd_image_t img, vdisk_format *fmt, uint64_t *size,
            vdisk_error *err)
{
    rbd_image_info_t st;
    int r = rbd_stat(img, &st, sizeof(st));
    if (r < 0)
        return rbd_pool_error(pool, src, r, "read the image's size", err);
    *size = st.size;
    if ((r = rbd_pool_image_format(pool, src, img, fmt, err)) < 0 || *fmt == VDISK_FORMAT_RAW)
        return r;
    vdisk_vol_def d;
    if ((r = pool->backend->vol_lookup(pool, src, &d, err)) == 0)
        *size = d.capacity;
    vdisk_vol_def_clear(&d);
    return r;
}

/* The clone itself: snapshot + protect, RBD clone, its format recorded. */
static int
clone_image(vdisk_pool *pool, const char *src, rbd_image_t img, const char *snap, const char *name,
            vdisk_format fmt, vdisk_error *err)
{
    rbd_pool_conn *c;
    int r = rbd_pool_connect(pool, &c, err);
    if (r < 0 || (r = clone_snapshot(pool, src, img, snap, err)) < 0)
        return r;
    rbd_image_options_t opts;
    rbd_image_options_create(&opts);
    r = rbd_clone3(c->io, src, snap, c->io, name, opts);
    rbd_image_options_destroy(opts);
    if (r < 0) {
        r = r == -EEXIST ? vdisk_error_set(err, EEXIST, "storage volume '%s' exists already", name)
                         : rbd_pool_error(pool, name, r, "clone the RBD image", err);
        rbd_snap_unprotect(img, snap);
        rbd_snap_remove(img, snap);
        return r;
    }
    rbd_image_t child;
    if (fmt != VDISK_FORMAT_RAW && (r = rbd_pool_open_image(pool, name, false, &child, err)) == 0) {
        r = rbd_pool_image_set_format(pool, name, child, fmt, err);
        rbd_close(child);
    }
    return r;
}

int
rbd_pool_vol_create_from(vdisk_pool *pool, const vdisk_vol_def *def, vdisk_pool *src_pool,
                         const char *src_name, unsigned flags, vdisk_progress_fn progress, void *opaque,
                         vdisk_error *err)
{
    (void)flags, (void)progress, (void)opaque;
    if (src_pool->backend != pool->backend || strcmp(src_pool->def->name, pool->def->name) != 0)
        return vdisk_error_set(err, ENOTSUP, "pool '%s': a volume on RBD is made from a volume of the "
                               "same pool (an RBD clone); to import from elsewhere use vdisk-virsh "
                               "convert -O raw FILE rbd:%s/%s", pool->def->name, pool->def->source.name,
                               def->name);
    if (def->allocation && def->has_capacity && def->allocation >= def->capacity)
        return vdisk_error_set(err, ENOTSUP, "pool '%s': volume '%s': an RBD clone shares its data "
                               "with its source and cannot be thick", pool->def->name, def->name);
    rbd_image_t img;
    char snap[300];
    vdisk_format fmt = VDISK_FORMAT_RAW;
    uint64_t size = 0;
    int r = rbd_pool_name_check(pool, def->name, err);
    if (r < 0 || (r = rbd_pool_open_image(pool, src_name, false, &img, err)) < 0)
        return r;
    snprintf(snap, sizeof(snap), "vdisk-clone-%s", def->name);
    r = source_size(pool, src_name, img, &fmt, &size, err);
    if (r == 0 && def->format != VDISK_FORMAT_UNKNOWN && def->format != fmt)
        r = vdisk_error_set(err, ENOTSUP, "pool '%s': volume '%s': an RBD clone keeps its source's format "
                            "(%s), it is not converted", pool->def->name, def->name, vdisk_format_name(fmt));
    else if (r == 0 && def->has_capacity && def->capacity < size)
        r = vdisk_error_set(err, EINVAL, "pool '%s': volume '%s': capacity %llu is smaller than its "
                            "source's (%llu)", pool->def->name, def->name,
                            (unsigned long long)def->capacity, (unsigned long long)size);
    if (r == 0)
        r = clone_image(pool, src_name, img, snap, def->name, fmt, err);
    rbd_close(img);
    if (r == 0 && def->has_capacity && def->capacity > size)
        r = rbd_pool_vol_resize(pool, def->name, def->capacity, 0, NULL, NULL, err);
    return r;
}
