/* vdisk plugin — vol-resize: a volume's new capacity through libvdisk's
 * resize (vdisk/resize.h), after libvirt's checks and the pool's space and
 * overcommit checks. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <vdisk/volume.h>
#if __has_include(<vdisk/resize.h>)
#include <vdisk/resize.h>
#define HAVE_VDISK_RESIZE 1
#endif

#include "pool-internal.h"

/* Growing by `grow` bytes: fits the free space (when reserved) and the cap? */
static int
check_growth(vdisk_pool *pool, const char *name, uint64_t grow, bool allocate, vdisk_error *err)
{
    vdisk_pool_info info;
    int r = vdisk_pool_get_info(pool, &info, err);
    if (r < 0)
        return r;
    if (allocate && grow > info.available)
        return vdisk_error_set(err, ENOSPC, "Not enough space left in storage pool '%s' to grow volume "
                               "'%s' by %llu bytes (%llu available)", pool->def->name, name,
                               (unsigned long long)grow, (unsigned long long)info.available);
    if (info.overcommit_max > 0 && info.capacity > 0) {
        double after = (double)(info.volume_capacity + grow) / (double)info.capacity;
        if (after > info.overcommit_max)
            return vdisk_error_set(err, ENOSPC, "growing volume '%s' by %llu bytes would take pool '%s' "
                                   "to overcommit %.2f, past its cap of %.2f", name,
                                   (unsigned long long)grow, pool->def->name, after, info.overcommit_max);
    }
    return 0;
}

int
vdisk_vol_resize(vdisk_pool *pool, const char *name, uint64_t capacity, unsigned flags,
                 vdisk_progress_fn progress, void *opaque, vdisk_error *err)
{
    if (capacity == 0)
        return vdisk_error_set(err, EINVAL, "volume '%s': capacity must be greater than 0", name);
    int r = vdisk_pool_lock(pool, err);
    if (r < 0)
        return r;
    vdisk_image *img;
    if ((r = vdisk_vol_open_image(pool, name, VDISK_OPEN_RDWR, &img, err)) < 0)
        goto unlock;
    uint64_t old = vdisk_get_size(img);
    bool shrink = capacity < old;
    if (shrink && !(flags & VDISK_VOL_RESIZE_SHRINK))
        r = vdisk_error_set(err, EINVAL, "volume '%s': Can't shrink capacity below current capacity "
                            "unless shrink flag explicitly specified", name);
    else if (!shrink && capacity > old)
        r = check_growth(pool, name, capacity - old, flags & VDISK_VOL_RESIZE_ALLOCATE, err);
#ifndef HAVE_VDISK_RESIZE
    if (r == 0 && capacity != old)
        r = vdisk_error_set(err, ENOTSUP, "volume '%s': resizing is not yet supported by this build "
                            "(libvdisk lacks vdisk/resize.h)", name);
#else
    if (r == 0 && capacity != old) {
        vdisk_prealloc pa = (flags & VDISK_VOL_RESIZE_ALLOCATE) ? VDISK_PREALLOC_FALLOC : VDISK_PREALLOC_OFF;
        r = vdisk_resize(img, capacity, shrink, shrink ? VDISK_PREALLOC_OFF : pa, progress, opaque, err);
    }
#endif
    r = vdisk_vol_close_image(pool, name, img, r, err);
unlock:
    vdisk_pool_unlock(pool);
    return r;
}
