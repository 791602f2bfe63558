/* vdisk plugin — vol-resize: a volume's new capacity through libvdisk's
 * resize (vdisk/resize.h), after libvirt's checks and the pool's space and
 * overcommit checks. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vdisk/resize.h>
#include <vdisk/volume.h>

#include "pool-backend.h"
#include "pool-internal.h"
#include "volume-encrypt.h"

int
vdisk_dir_vol_resize(vdisk_pool *pool, const char *name, uint64_t capacity, unsigned flags,
                 vdisk_progress_fn progress, void *opaque, vdisk_error *err)
{
    if (capacity == 0)
        return vdisk_error_set(err, EINVAL, "volume '%s': capacity must be greater than 0", name);
    int r = vdisk_pool_lock(pool, err);
    if (r < 0)
        return r;
    char what[300];
    snprintf(what, sizeof(what), "growing volume '%s'", name);
    vdisk_image *img;
    if ((r = vdisk_vol_open_image(pool, name, VDISK_OPEN_RDWR, &img, err)) < 0)
        goto unlock;
    uint64_t old = vdisk_get_size(img);
    bool shrink = capacity < old;
    if (shrink && !(flags & VDISK_VOL_RESIZE_SHRINK))
        r = vdisk_error_set(err, EINVAL, "volume '%s': Can't shrink capacity below current capacity "
                            "unless shrink flag explicitly specified", name);
    else if (!shrink && capacity > old)
        r = vdisk_pool_check_space(pool, what, capacity - old,
                                   (flags & VDISK_VOL_RESIZE_ALLOCATE) ? capacity - old : 0, err);
    if (r == 0 && capacity != old && vdisk_get_format(img) == VDISK_FORMAT_LUKS) {
        r = vdisk_vol_luks_resize(pool, name, img, capacity, flags, err);
    } else if (r == 0 && capacity != old) {
        vdisk_prealloc pa = (flags & VDISK_VOL_RESIZE_ALLOCATE) ? VDISK_PREALLOC_FALLOC : VDISK_PREALLOC_OFF;
        r = vdisk_resize(img, capacity, shrink, shrink ? VDISK_PREALLOC_OFF : pa, progress, opaque, err);
    }
    r = vdisk_vol_close_image(pool, name, img, r, err);
unlock:
    vdisk_pool_unlock(pool);
    return r;
}
