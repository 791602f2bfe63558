/* vdisk plugin — a pool on Ceph RBD: its volumes are the RBD images of one
 * RBD pool, as in libvirt's rbd backend (raw images; key and path
 * "POOL/IMAGE"; guests use <disk type='network'><source protocol='rbd'>).
 *
 * Provisioning keeps its words: thin = an image that allocates on write;
 * thick (allocation == capacity) = every object written with zeros that
 * RBD allocates (librbd's thick provisioning).  RBD has no fallocate, so
 * lazy- and eager-zeroed thick both write zeros.  The overcommit cap and
 * the space check count against the cluster's figures (which need a mgr).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vdisk/store-error.h>

#include "pool-rbd.h"

/* Bytes written per call of thick provisioning (a progress step). */
#define THICK_CHUNK (UINT64_C(8) << 20)

/* pool-build: Ceph pools are made by the cluster's administrator. */
static int
rbd_build(vdisk_pool *pool, unsigned flags, vdisk_error *err)
{
    (void)flags;
    return vdisk_error_set(err, ENOTSUP, "pool '%s': an RBD pool is not built by vdisk: create it on "
                           "the cluster (ceph osd pool create %s; rbd pool init %s)", pool->def->name,
                           pool->def->source.name, pool->def->source.name);
}

/* pool-start: the cluster answers and the RBD pool exists. */
static int
rbd_check(vdisk_pool *pool, vdisk_error *err)
{
    rbd_pool_conn *c;
    return rbd_pool_connect(pool, &c, err);
}

/* pool-destroy, free: the connection goes. */
static void
rbd_release(vdisk_pool *pool)
{
    rbd_pool_disconnect(pool);
}

/* pool-delete: refused, as libvirt's rbd backend: it would be the Ceph pool. */
static int
rbd_delete_storage(vdisk_pool *pool, vdisk_error *err)
{
    return vdisk_error_set(err, ENOTSUP, "pool '%s': vdisk does not remove the Ceph pool '%s' (the "
                           "cluster's administrator does); pool-undefine forgets the definition",
                           pool->def->name, pool->def->source.name);
}

/* Cluster sizes as libvirt's rbd backend: capacity and available of the
 * cluster, allocation = the bytes stored in this pool. */
static int
rbd_fs_info(vdisk_pool *pool, vdisk_pool_info *info, vdisk_error *err)
{
    rbd_pool_conn *c;
    memset(info, 0, sizeof(*info));
    info->state = pool->active ? VDISK_POOL_RUNNING : VDISK_POOL_INACTIVE;
    info->overcommit_max = pool->def->overcommit_max;
    if (!pool->active)
        return vdisk_store_error_set(err, VDISK_ERR_INVALID_STATE, VDISK_SUBJECT_POOL, EINVAL,
                                     "storage pool '%s' is not active", pool->def->name);
    int r = rbd_pool_connect(pool, &c, err);
    struct rados_cluster_stat_t cs;
    struct rados_pool_stat_t ps;
    if (r == 0 && (r = rados_cluster_stat(c->cluster, &cs)) < 0)
        return rbd_pool_error(pool, NULL, r, "read the cluster's sizes", err);
    if (r == 0 && (r = rados_ioctx_pool_stat(c->io, &ps)) < 0)
        return rbd_pool_error(pool, NULL, r, "read the pool's sizes", err);
    if (r < 0)
        return r;
    info->capacity = cs.kb * 1024;
    info->available = cs.kb_avail * 1024;
    info->allocation = ps.num_bytes;
    return 0;
}

/* qsort callback: two image names in strcmp order. */
static int
compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The image names of the pool, sorted (strcmp); *names malloc'ed. */
static int
list_names(vdisk_pool *pool, char ***names, size_t *n, vdisk_error *err)
{
    rbd_pool_conn *c;
    int r = rbd_pool_connect(pool, &c, err);
    if (r < 0)
        return r;
    size_t max = 64;
    rbd_image_spec_t *specs = NULL;
    for (;;) {
        specs = calloc(max, sizeof(*specs));
        if (!specs)
            return vdisk_error_set(err, ENOMEM, "pool '%s': out of memory", pool->def->name);
        size_t got = max;
        r = rbd_list2(c->io, specs, &got);
        if (r != -ERANGE) {
            max = got;
            break;
        }
        free(specs);
        max = got > max ? got : max * 2;
    }
    if (r < 0) {
        free(specs);
        return rbd_pool_error(pool, NULL, r, "list the RBD images", err);
    }
    char **out = calloc(max ? max : 1, sizeof(*out));
    for (size_t i = 0; out && i < max; i++)
        if (!(out[i] = strdup(specs[i].name)))
            r = -ENOMEM;
    rbd_image_spec_list_cleanup(specs, max);
    free(specs);
    if (!out || r < 0) {
        if (out)
            vdisk_registry_names_free(out, max);
        return vdisk_error_set(err, ENOMEM, "pool '%s': out of memory", pool->def->name);
    }
    qsort(out, max, sizeof(*out), compare_names);
    *names = out;
    *n = max;
    return 0;
}

static int
rbd_refresh(vdisk_pool *pool, vdisk_vol_def **vols, size_t *n, vdisk_error *err)
{
    char **names = NULL;
    size_t count = 0, kept = 0;
    int r = pool->active ? list_names(pool, &names, &count, err)
                         : vdisk_store_error_set(err, VDISK_ERR_INVALID_STATE, VDISK_SUBJECT_POOL, EINVAL,
                                                 "storage pool '%s' is not active", pool->def->name);
    if (r < 0)
        return r;
    vdisk_vol_def *out = calloc(count ? count : 1, sizeof(*out));
    if (!out)
        r = vdisk_error_set(err, ENOMEM, "pool '%s': out of memory", pool->def->name);
    for (size_t i = 0; r == 0 && i < count; i++) {
        r = pool->backend->vol_lookup(pool, names[i], &out[kept], err);
        if (r == -ENOENT) {     /* removed meanwhile */
            vdisk_vol_def_clear(&out[kept]);
            r = 0;
        } else if (r == 0) {
            kept++;
        }
    }
    vdisk_registry_names_free(names, count);
    if (r < 0) {
        if (out)
            vdisk_pool_volumes_free(out, kept);
        return r;
    }
    *vols = out;
    *n = kept;
    return 0;
}

static int
rbd_get_info(vdisk_pool *pool, vdisk_pool_info *info, vdisk_error *err)
{
    vdisk_vol_def *vols;
    size_t n;
    int r = rbd_fs_info(pool, info, err);
    if (r < 0 || (r = rbd_refresh(pool, &vols, &n, err)) < 0)
        return r;
    info->volumes = n;
    for (size_t i = 0; i < n; i++) {
        info->volume_capacity += vols[i].capacity;
        info->volume_allocation += vols[i].allocation;
    }
    if (info->capacity)
        info->overcommit = (double)info->volume_capacity / (double)info->capacity;
    vdisk_pool_volumes_free(vols, n);
    return 0;
}

static char *
rbd_vol_path(const vdisk_pool *pool, const char *name)
{
    char *p;
    return asprintf(&p, "%s/%s", pool->def->source.name, name) < 0 ? NULL : p;
}

/* rbd_diff_iterate2 callback: add the length of each allocated extent. */
static int
add_extent(uint64_t off, size_t len, int exists, void *opaque)
{
    (void)off;
    if (exists)
        *(uint64_t *)opaque += len;
    return 0;
}

int
rbd_pool_image_allocation(rbd_image_t img, uint64_t size, uint64_t *alloc)
{
    *alloc = 0;
    return rbd_diff_iterate2(img, NULL, 0, size, 0, 1, add_extent, alloc);
}

/* A qcow2 volume's capacity: its virtual size (physical: the image's). */
static int
formatted_capacity(vdisk_pool *pool, const char *name, vdisk_vol_def *def, vdisk_error *err)
{
    vdisk_image *img;
    def->physical = def->capacity;
    int r = rbd_pool_open_formatted(pool, name, def->format, VDISK_OPEN_FORCE_SHARE, &img, err);
    if (r < 0)
        return r;
    def->capacity = vdisk_get_size(img);
    vdisk_close(img, NULL);
    return 0;
}

/* vol-info: size, allocation (object granularity), path "POOL/IMAGE". */
static int
rbd_vol_lookup(vdisk_pool *pool, const char *name, vdisk_vol_def *def, vdisk_error *err)
{
    rbd_image_t img;
    rbd_image_info_t st;
    memset(def, 0, sizeof(*def));
    int r = rbd_pool_open_image(pool, name, true, &img, err);
    if (r < 0)
        return r;
    if ((r = rbd_stat(img, &st, sizeof(st))) < 0)
        r = rbd_pool_error(pool, name, r, "read the image's size", err);
    else if ((r = rbd_pool_image_allocation(img, st.size, &def->allocation)) < 0)
        r = rbd_pool_error(pool, name, r, "read the image's allocation", err);
    else
        r = rbd_pool_image_format(pool, name, img, &def->format, err);
    rbd_close(img);
    def->capacity = st.size;
    if (r == 0 && def->format != VDISK_FORMAT_RAW)
        r = formatted_capacity(pool, name, def, err);
    if (r < 0)
        return r;
    def->network = true;
    def->has_capacity = def->has_allocation = true;
    def->name = strdup(name);
    def->key = rbd_vol_path(pool, name);
    def->target_path = rbd_vol_path(pool, name);
    if (!def->name || !def->key || !def->target_path) {
        vdisk_vol_def_clear(def);
        return vdisk_error_set(err, ENOMEM, "pool '%s': out of memory", pool->def->name);
    }
    return 0;
}

int
rbd_pool_check_space(vdisk_pool *pool, const char *what, uint64_t add_capacity, uint64_t need,
                     vdisk_error *err)
{
    vdisk_pool_info info;
    int r = rbd_fs_info(pool, &info, err);
    if (r < 0 || info.capacity == 0)
        return r;           /* no mgr: the cluster reports no sizes, nothing to check against */
    if (need > info.available)
        return vdisk_error_set(err, ENOSPC, "pool '%s': %s needs %llu bytes, the cluster has %llu "
                               "available", pool->def->name, what, (unsigned long long)need,
                               (unsigned long long)info.available);
    if (pool->def->overcommit_max <= 0)
        return 0;
    if ((r = rbd_get_info(pool, &info, err)) < 0)
        return r;
    double after = (double)(info.volume_capacity + add_capacity) / (double)info.capacity;
    if (after > pool->def->overcommit_max)
        return vdisk_error_set(err, ENOSPC, "pool '%s': %s would overcommit the pool to %.2f "
                               "(cap %g)", pool->def->name, what, after, pool->def->overcommit_max);
    return 0;
}

int
rbd_pool_write_thick(vdisk_pool *pool, const char *name, rbd_image_t img, uint64_t off, uint64_t len,
                     uint64_t done_before, uint64_t total, vdisk_progress_fn progress, void *opaque,
                     vdisk_error *err)
{
    for (uint64_t done = 0; done < len;) {
        uint64_t n = len - done < THICK_CHUNK ? len - done : THICK_CHUNK;
        int r = rbd_write_zeroes(img, off + done, n, RBD_WRITE_ZEROES_FLAG_THICK_PROVISION, 0);
        if (r < 0)
            return rbd_pool_error(pool, name, r, "write zeros (thick provisioning)", err);
        done += n;
        if (progress && progress(opaque, done_before + done, total) != 0)
            return vdisk_error_set(err, ECANCELED, "pool '%s': volume '%s': cancelled", pool->def->name,
                                   name);
    }
    int r = rbd_flush(img);
    return r < 0 ? rbd_pool_error(pool, name, r, "flush", err) : 0;
}

/* What a definition asks that an RBD pool cannot give: refused, never ignored. */
static int
check_create_def(vdisk_pool *pool, const vdisk_vol_def *def, vdisk_error *err)
{
    const char *p = pool->def->name;
    if (def->format != VDISK_FORMAT_UNKNOWN && def->format != VDISK_FORMAT_RAW &&
        def->format != VDISK_FORMAT_QCOW2)
        return vdisk_error_set(err, ENOTSUP, "pool '%s': volume '%s': format '%s' is not supported on "
                               "RBD: RBD volumes are raw images (as in libvirt's rbd pools) or qcow2",
                               p, def->name, vdisk_format_name(def->format));
    bool thick = def->allocation >= def->capacity && def->capacity;
    if (def->format == VDISK_FORMAT_QCOW2 && def->allocation && !thick)
        return vdisk_error_set(err, ENOTSUP, "pool '%s': volume '%s': a qcow2 volume on RBD is thin or "
                               "thick (allocation 0 or its capacity), not in between", p, def->name);
    if (def->encryption.format != VDISK_VOL_ENCRYPTION_NONE)
        return vdisk_error_set(err, ENOTSUP, "pool '%s': volume '%s': encrypted volumes are not "
                               "supported on RBD", p, def->name);
    if (def->backing_path)
        return vdisk_error_set(err, ENOTSUP, "pool '%s': volume '%s': RBD volumes have no backing "
                               "file: use vol-clone (an RBD clone)", p, def->name);
    if (!def->has_capacity)
        return vdisk_error_set(err, EINVAL, "pool '%s': volume '%s': missing <capacity>", p, def->name);
    return 0;
}

/* vol-create: the image, then zeros over the reserved part; a failure removes it. */
static int
rbd_vol_create(vdisk_pool *pool, const vdisk_vol_def *def, unsigned flags, vdisk_progress_fn progress,
               void *opaque, vdisk_error *err)
{
    rbd_pool_conn *c;
    char what[300];
    int r = rbd_pool_name_check(pool, def->name, err);
    if (r < 0 || (r = check_create_def(pool, def, err)) < 0)
        return r;
    if ((flags & VDISK_VOL_CREATE_PREALLOC_METADATA) && def->format != VDISK_FORMAT_QCOW2)
        return vdisk_error_set(err, ENOTSUP, "pool '%s': metadata preallocation is for qcow2 volumes",
                               pool->def->name);
    uint64_t reserve = def->allocation < def->capacity ? def->allocation : def->capacity;
    snprintf(what, sizeof(what), "volume '%s'", def->name);
    if ((r = rbd_pool_connect(pool, &c, err)) < 0 ||
        (r = rbd_pool_check_space(pool, what, def->capacity, reserve, err)) < 0)
        return r;
    if (def->format == VDISK_FORMAT_QCOW2)
        return rbd_pool_create_formatted(pool, def, flags, progress, opaque, err);
    rbd_image_options_t opts;
    rbd_image_options_create(&opts);
    r = rbd_create4(c->io, def->name, def->capacity, opts);
    rbd_image_options_destroy(opts);
    if (r == -EEXIST)
        return vdisk_error_set(err, EEXIST, "storage volume '%s' exists already", def->name);
    if (r < 0)
        return rbd_pool_error(pool, def->name, r, "create the RBD image", err);
    if (reserve == 0)
        return 0;
    rbd_image_t img;
    if ((r = rbd_pool_open_image(pool, def->name, false, &img, err)) == 0) {
        r = rbd_pool_write_thick(pool, def->name, img, 0, reserve, 0, reserve, progress, opaque, err);
        rbd_close(img);
    }
    if (r < 0)
        rbd_remove(c->io, def->name);   /* leave nothing half-made */
    return r;
}

/* vol-delete: refused while in use, or with snapshots unless asked. */
static int
rbd_vol_delete(vdisk_pool *pool, const char *name, unsigned flags, vdisk_error *err)
{
    rbd_pool_conn *c;
    rbd_image_t img;
    int r = rbd_pool_open_image(pool, name, false, &img, err);
    if (r < 0)
        return r;
    int snaps = rbd_pool_snapshot_count(img);
    r = rbd_pool_check_unlocked(pool, name, img, err);
    if (r == 0 && snaps < 0)
        r = rbd_pool_error(pool, name, snaps, "list the image's snapshots", err);
    else if (r == 0 && snaps > 0 && !(flags & VDISK_VOL_DELETE_WITH_SNAPSHOTS))
        r = vdisk_error_set(err, EBUSY, "pool '%s': volume '%s' has %d snapshot%s: delete them first, "
                            "or delete the volume with --delete-snapshots", pool->def->name, name,
                            snaps, snaps == 1 ? "" : "s");
    else if (r == 0 && snaps > 0)
        r = rbd_pool_snapshots_remove_all(pool, name, img, err);
    rbd_close(img);
    if (r < 0 || (r = rbd_pool_connect(pool, &c, err)) < 0)
        return r;
    r = rbd_remove(c->io, name);
    return r < 0 ? rbd_pool_error(pool, name, r, "remove the RBD image", err) : 0;
}

/* Is another client writing the image? */
static int
rbd_vol_check_not_in_use(vdisk_pool *pool, const char *name, vdisk_error *err)
{
    rbd_image_t img;
    int r = rbd_pool_open_image(pool, name, true, &img, err);
    if (r < 0)
        return r;
    r = rbd_pool_check_unlocked(pool, name, img, err);
    rbd_close(img);
    return r;
}

/* vol-export: not yet for RBD volumes (the plugin would need the key). */
static int
rbd_vol_access_get(vdisk_pool *pool, const char *name, vdisk_vol_access *a, vdisk_error *err)
{
    memset(a, 0, sizeof(*a));
    return vdisk_error_set(err, ENOTSUP, "pool '%s': volume '%s' is an RBD image: export it with "
                           "nbdkit's vdisk plugin and its rbd: name (file=rbd:%s/%s), not vol-export",
                           pool->def->name, name, pool->def->source.name, name);
}

const vdisk_pool_backend vdisk_pool_backend_rbd = {
    .name = "rbd",
    .build = rbd_build,
    .check = rbd_check,
    .release = rbd_release,
    .delete_storage = rbd_delete_storage,
    .fs_info = rbd_fs_info,
    .get_info = rbd_get_info,
    .refresh = rbd_refresh,
    .vol_path = rbd_vol_path,
    .vol_lookup = rbd_vol_lookup,
    .vol_create = rbd_vol_create,
    .vol_create_from = rbd_pool_vol_create_from,
    .vol_delete = rbd_vol_delete,
    .vol_wipe = rbd_pool_vol_wipe,
    .vol_check_not_in_use = rbd_vol_check_not_in_use,
    .vol_upload = rbd_pool_vol_upload,
    .vol_download = rbd_pool_vol_download,
    .vol_resize = rbd_pool_vol_resize,
    .snapshot_create = rbd_pool_snapshot_create,
    .snapshot_list = rbd_pool_snapshot_list,
    .snapshot_revert = rbd_pool_snapshot_revert,
    .snapshot_delete = rbd_pool_snapshot_delete,
    .vol_access_get = rbd_vol_access_get,
};
