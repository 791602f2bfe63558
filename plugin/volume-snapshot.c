/* vdisk plugin — internal snapshots of qcow2 volumes (libvdisk's
 * vdisk/snapshot.h on a volume reached through the pool directory). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <vdisk/snapshot.h>
#include <vdisk/volume.h>

#include "pool-backend.h"
#include "pool-internal.h"

/* Open a volume for snapshot work: read-write (unless listing), qcow2 only. */
static int
open_qcow2(vdisk_pool *pool, const char *name, bool write, vdisk_image **img, vdisk_error *err)
{
    unsigned flags = VDISK_OPEN_NO_BACKING | (write ? VDISK_OPEN_RDWR : VDISK_OPEN_FORCE_SHARE);
    /* The format first, without the key an encrypted volume needs next. */
    int r = vdisk_vol_open_image(pool, name, VDISK_OPEN_NO_BACKING | VDISK_OPEN_FORCE_SHARE | VDISK_OPEN_NO_KEY,
                                 img, err);
    if (r < 0)
        return r;
    vdisk_format fmt = vdisk_get_format(*img);
    vdisk_close(*img, NULL);
    *img = NULL;
    if (fmt != VDISK_FORMAT_QCOW2)
        return vdisk_error_set(err, ENOTSUP, "volume '%s' is %s; internal snapshots need a qcow2 volume "
                               "(vol-convert it first)", name,
                               fmt == VDISK_FORMAT_LUKS ? "raw (LUKS)" : vdisk_format_name(fmt));
    return vdisk_vol_open_image(pool, name, flags, img, err);
}

int
vdisk_dir_vol_snapshot_create(vdisk_pool *pool, const char *name, const char *snapshot, vdisk_error *err)
{
    vdisk_image *img;
    int r = open_qcow2(pool, name, true, &img, err);
    if (r < 0)
        return r;
    return vdisk_vol_close_image(pool, name, img, vdisk_snapshot_create(img, snapshot, err), err);
}

int
vdisk_dir_vol_snapshot_list(vdisk_pool *pool, const char *name, struct vdisk_snapshot_info **list,
                        size_t *n, vdisk_error *err)
{
    vdisk_image *img;
    int r = open_qcow2(pool, name, false, &img, err);
    if (r < 0)
        return r;
    return vdisk_vol_close_image(pool, name, img, vdisk_snapshot_list(img, list, n, err), err);
}

int
vdisk_dir_vol_snapshot_revert(vdisk_pool *pool, const char *name, const char *snapshot, vdisk_error *err)
{
    vdisk_image *img;
    int r = open_qcow2(pool, name, true, &img, err);
    if (r < 0)
        return r;
    return vdisk_vol_close_image(pool, name, img, vdisk_snapshot_apply(img, snapshot, err), err);
}

int
vdisk_dir_vol_snapshot_delete(vdisk_pool *pool, const char *name, const char *snapshot, vdisk_error *err)
{
    vdisk_image *img;
    int r = open_qcow2(pool, name, true, &img, err);
    if (r < 0)
        return r;
    return vdisk_vol_close_image(pool, name, img, vdisk_snapshot_delete(img, snapshot, err), err);
}
