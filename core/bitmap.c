/* libvdisk — persistent dirty bitmap edits, format-neutral entry point:
 * argument checks, then the driver's bitmap callback (qcow2/bitmap-edit.c). */
#include <errno.h>
#include <string.h>

#include "driver.h"

#define MAX_NAME 1023u

static int
check_name(vdisk_image *img, const char *name, vdisk_error *err)
{
    if (!name || !name[0])
        return vdisk_error_set(err, EINVAL, "%s: a bitmap needs a non-empty name", img->filename);
    if (strlen(name) > MAX_NAME)
        return vdisk_error_set(err, EINVAL, "%s: bitmap name is longer than %u bytes",
                               img->filename, MAX_NAME);
    return 0;
}

int
vdisk_bitmap(vdisk_image *img, const vdisk_bitmap_op *op, vdisk_error *err)
{
    if (!img->drv->bitmap)
        return vdisk_error_set(err, ENOTSUP, "%s: format '%s' does not support persistent "
                               "dirty bitmaps", img->filename, img->drv->name);
    if (vdisk_is_read_only(img))
        return vdisk_error_set(err, EROFS, "%s: image is open read-only", img->filename);
    int r = check_name(img, op->name, err);
    if (r == 0 && op->action == VDISK_BITMAP_MERGE)
        r = check_name(op->src ? op->src : img, op->src_name, err);
    if (r == 0 && op->action == VDISK_BITMAP_MERGE && op->src && op->src->drv != img->drv)
        r = vdisk_error_set(err, ENOTSUP, "%s: format '%s' has no bitmap '%s'", op->src->filename,
                            op->src->drv->name, op->src_name);
    return r < 0 ? r : img->drv->bitmap(img, op, err);
}
