/* vdisk plugin — the public pool and volume calls that depend on the kind
 * of pool: each hands over to the pool's table (pool-backend.h). */
#include <errno.h>

#include "pool-backend.h"
#include "pool-internal.h"

const vdisk_pool_backend *
vdisk_pool_backend_for(const vdisk_pool_def *def)
{
    if (vdisk_pool_def_is_netfs(def))
        return &vdisk_pool_backend_netfs;
    if (!vdisk_pool_def_is_rbd(def))
        return &vdisk_pool_backend_dir;
#ifdef VDISK_HAVE_RBD
    return &vdisk_pool_backend_rbd;
#else
    return NULL;
#endif
}

/* The table, or -ENOTSUP naming what this build lacks. */
static int
backend(vdisk_pool *pool, const vdisk_pool_backend **out, vdisk_error *err)
{
    *out = pool->backend;
    if (*out)
        return 0;
    return vdisk_error_set(err, ENOTSUP, "pool '%s' is on Ceph RBD, but this vdisk was built without "
                           "librbd (meson -Drbd=enabled, packages librbd-dev librados-dev)",
                           pool->def->name);
}

/* Call op of the pool's table with the arguments that follow. */
#define DISPATCH(pool, err, op, ...)                         \
    do {                                                     \
        const vdisk_pool_backend *b_;                        \
        int r_ = backend((pool), &b_, (err));                \
        return r_ < 0 ? r_ : b_->op(__VA_ARGS__);            \
    } while (0)

int
vdisk_pool_fs_info(vdisk_pool *pool, vdisk_pool_info *info, vdisk_error *err)
{
    DISPATCH(pool, err, fs_info, pool, info, err);
}

int
vdisk_pool_get_info(vdisk_pool *pool, vdisk_pool_info *info, vdisk_error *err)
{
    DISPATCH(pool, err, get_info, pool, info, err);
}

int
vdisk_pool_refresh(vdisk_pool *pool, vdisk_vol_def **vols, size_t *n, vdisk_error *err)
{
    *vols = NULL;
    *n = 0;
    DISPATCH(pool, err, refresh, pool, vols, n, err);
}

char *
vdisk_vol_path(const vdisk_pool *pool, const char *name)
{
    return pool->backend ? pool->backend->vol_path(pool, name) : NULL;
}

int
vdisk_vol_lookup(vdisk_pool *pool, const char *name, vdisk_vol_def *def, vdisk_error *err)
{
    DISPATCH(pool, err, vol_lookup, pool, name, def, err);
}

int
vdisk_vol_create(vdisk_pool *pool, const vdisk_vol_def *def, unsigned flags,
                 vdisk_progress_fn progress, void *opaque, vdisk_error *err)
{
    DISPATCH(pool, err, vol_create, pool, def, flags, progress, opaque, err);
}

int
vdisk_vol_create_from(vdisk_pool *pool, const vdisk_vol_def *def, vdisk_pool *src_pool,
                      const char *src_name, unsigned flags, vdisk_progress_fn progress, void *opaque,
                      vdisk_error *err)
{
    DISPATCH(pool, err, vol_create_from, pool, def, src_pool, src_name, flags, progress, opaque, err);
}

int
vdisk_vol_delete(vdisk_pool *pool, const char *name, vdisk_error *err)
{
    DISPATCH(pool, err, vol_delete, pool, name, 0, err);
}

int
vdisk_vol_delete_flags(vdisk_pool *pool, const char *name, unsigned flags, vdisk_error *err)
{
    if (flags & ~VDISK_VOL_DELETE_WITH_SNAPSHOTS)
        return vdisk_error_set(err, EINVAL, "volume '%s': unknown delete flags 0x%x", name, flags);
    DISPATCH(pool, err, vol_delete, pool, name, flags, err);
}

int
vdisk_vol_wipe(vdisk_pool *pool, const char *name, vdisk_wipe_alg alg, vdisk_progress_fn progress,
               void *opaque, vdisk_error *err)
{
    DISPATCH(pool, err, vol_wipe, pool, name, alg, progress, opaque, err);
}

int
vdisk_vol_check_not_in_use(vdisk_pool *pool, const char *name, vdisk_error *err)
{
    DISPATCH(pool, err, vol_check_not_in_use, pool, name, err);
}

int
vdisk_vol_upload(vdisk_pool *pool, const char *name, int fd, uint64_t offset, uint64_t length,
                 bool sparse, vdisk_progress_fn progress, void *opaque, vdisk_error *err)
{
    DISPATCH(pool, err, vol_upload, pool, name, fd, offset, length, sparse, progress, opaque, err);
}

int
vdisk_vol_download(vdisk_pool *pool, const char *name, int fd, uint64_t offset, uint64_t length,
                   bool sparse, vdisk_progress_fn progress, void *opaque, vdisk_error *err)
{
    DISPATCH(pool, err, vol_download, pool, name, fd, offset, length, sparse, progress, opaque, err);
}

int
vdisk_vol_resize(vdisk_pool *pool, const char *name, uint64_t capacity, unsigned flags,
                 vdisk_progress_fn progress, void *opaque, vdisk_error *err)
{
    DISPATCH(pool, err, vol_resize, pool, name, capacity, flags, progress, opaque, err);
}

int
vdisk_vol_snapshot_create(vdisk_pool *pool, const char *name, const char *snapshot, vdisk_error *err)
{
    DISPATCH(pool, err, snapshot_create, pool, name, snapshot, err);
}

int
vdisk_vol_snapshot_list(vdisk_pool *pool, const char *name, struct vdisk_snapshot_info **list,
                        size_t *n, vdisk_error *err)
{
    DISPATCH(pool, err, snapshot_list, pool, name, list, n, err);
}

int
vdisk_vol_snapshot_revert(vdisk_pool *pool, const char *name, const char *snapshot, vdisk_error *err)
{
    DISPATCH(pool, err, snapshot_revert, pool, name, snapshot, err);
}

int
vdisk_vol_snapshot_delete(vdisk_pool *pool, const char *name, const char *snapshot, vdisk_error *err)
{
    DISPATCH(pool, err, snapshot_delete, pool, name, snapshot, err);
}

int
vdisk_vol_access_get(vdisk_pool *pool, const char *name, vdisk_vol_access *a, vdisk_error *err)
{
    DISPATCH(pool, err, vol_access_get, pool, name, a, err);
}
