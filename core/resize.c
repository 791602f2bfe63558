/* libvdisk — resizing images, format neutral (vdisk/resize.h).
 *
 * The checks every format shares (a positive size, shrinking only when
 * asked, preallocation only for growing) are done here, with qemu-img's
 * wording, before the format's truncate callback runs; nothing is changed
 * when one of them fails.
 */
#include <errno.h>
#include <inttypes.h>

#include <vdisk/resize.h>

#include "driver.h"

static int
check_request(vdisk_image *img, uint64_t size, bool shrink, vdisk_prealloc prealloc,
              vdisk_error *err)
{
    if (vdisk_is_read_only(img))
        return vdisk_error_set(err, EROFS, "%s: resize refused: image opened read-only",
                               img->filename);
    if (size == 0)
        return vdisk_error_set(err, EINVAL, "%s: New image size must be positive", img->filename);
    if (size > (UINT64_C(1) << 63) - 1)
        return vdisk_error_set(err, EFBIG, "%s: new size %" PRIu64 " is too large", img->filename,
                               size);
    if (size <= img->size && prealloc != VDISK_PREALLOC_OFF)
        return vdisk_error_set(err, EINVAL, "%s: Preallocation can only be used for growing images",
                               img->filename);
    if (size < img->size && !shrink)
        return vdisk_error_set(err, EINVAL, "%s: Use the --shrink option to perform a shrink "
                               "operation (shrinking deletes all data beyond the new end)",
                               img->filename);
    if (!img->drv->truncate)
        return vdisk_error_set(err, ENOTSUP, "%s: format %s does not support resizing",
                               img->filename, img->drv->name);
    return 0;
}

int
vdisk_resize(vdisk_image *img, uint64_t size, bool shrink, vdisk_prealloc prealloc,
             vdisk_progress_fn progress, void *opaque, vdisk_error *err)
{
    int r = check_request(img, size, shrink, prealloc, err);
    if (r < 0)
        return r;
    return img->drv->truncate(img, size, prealloc, progress, opaque, err);
}

int
vdisk_resize_path(const char *path, vdisk_format fmt, uint64_t size, bool shrink,
                  vdisk_prealloc prealloc, vdisk_progress_fn progress, void *opaque,
                  vdisk_error *err)
{
    vdisk_open_opts oo = { .format = fmt, .flags = VDISK_OPEN_RDWR };
    vdisk_image *img;
    int r = vdisk_open(path, &oo, &img, err);
    if (r < 0)
        return r;
    r = vdisk_resize(img, size, shrink, prealloc, progress, opaque, err);
    int rc = vdisk_close(img, r < 0 ? NULL : err);
    return r < 0 ? r : rc;
}
