/* libvdisk — internal snapshots, format-neutral entry points: argument
 * checks, then the format driver's snapshot callbacks (qcow2/snapshot.c). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "driver.h"

/* The driver callback, or -ENOTSUP naming the format. */
static int
supported(vdisk_image *img, bool has, vdisk_error *err)
{
    if (!has)
        return vdisk_error_set(err, ENOTSUP, "%s: format '%s' does not support internal snapshots",
                               img->filename, img->drv->name);
    return 0;
}

static int
check_name(vdisk_image *img, const char *name, vdisk_error *err)
{
    if (!name || !name[0])
        return vdisk_error_set(err, EINVAL, "%s: a snapshot needs a non-empty ID or name",
                               img->filename);
    return 0;
}

int
vdisk_snapshot_list(vdisk_image *img, vdisk_snapshot_info **list, size_t *n, vdisk_error *err)
{
    *list = NULL;
    *n = 0;
    int r = supported(img, img->drv->snapshot_list != NULL, err);
    return r < 0 ? r : img->drv->snapshot_list(img, list, n, err);
}

void
vdisk_snapshot_list_free(vdisk_snapshot_info *list, size_t n)
{
    for (size_t i = 0; list && i < n; i++) {
        free(list[i].id);
        free(list[i].name);
    }
    free(list);
}

int
vdisk_snapshot_create_full(vdisk_image *img, const vdisk_snapshot_info *info, vdisk_error *err)
{
    int r = supported(img, img->drv->snapshot_create != NULL, err);
    if (r == 0)
        r = check_name(img, info->name, err);
    return r < 0 ? r : img->drv->snapshot_create(img, info, err);
}

int
vdisk_snapshot_create(vdisk_image *img, const char *name, vdisk_error *err)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    /* qemu-img stamps microseconds: the same resolution, the same fields. */
    vdisk_snapshot_info info = {
        .name = (char *)name,
        .date_sec = (uint32_t)ts.tv_sec,
        .date_nsec = (uint32_t)(ts.tv_nsec / 1000 * 1000),
    };
    return vdisk_snapshot_create_full(img, &info, err);
}

int
vdisk_snapshot_apply(vdisk_image *img, const char *id_or_name, vdisk_error *err)
{
    int r = supported(img, img->drv->snapshot_apply != NULL, err);
    if (r == 0)
        r = check_name(img, id_or_name, err);
    return r < 0 ? r : img->drv->snapshot_apply(img, id_or_name, err);
}

int
vdisk_snapshot_delete(vdisk_image *img, const char *id_or_name, vdisk_error *err)
{
    int r = supported(img, img->drv->snapshot_delete != NULL, err);
    if (r == 0)
        r = check_name(img, id_or_name, err);
    return r < 0 ? r : img->drv->snapshot_delete(img, id_or_name, err);
}

int
vdisk_snapshot_load(vdisk_image *img, const char *id_or_name, vdisk_error *err)
{
    int r = supported(img, img->drv->snapshot_load != NULL, err);
    if (r == 0)
        r = check_name(img, id_or_name, err);
    return r < 0 ? r : img->drv->snapshot_load(img, id_or_name, err);
}
