/* libvdisk — vdisk_check: the format-neutral entry point of check and
 * repair.  Formats without metadata to check (raw) answer -ENOTSUP, as
 * `qemu-img check` does for them (exit status 63).
 */
#include <errno.h>
#include <string.h>

#include "driver.h"

int
vdisk_check(vdisk_image *img, unsigned fix, vdisk_check_result *res,
            vdisk_check_report_fn report, vdisk_progress_fn progress, void *opaque,
            vdisk_error *err)
{
    memset(res, 0, sizeof(*res));
    if (!img->drv->check)
        return vdisk_error_set(err, ENOTSUP, "%s: the %s format does not support checks",
                               img->filename, img->drv->name);
    if (fix && vdisk_is_read_only(img))
        return vdisk_error_set(err, EROFS, "%s: repair refused: image opened read-only",
                               img->filename);
    if (fix & VDISK_CHECK_FIX_ERRORS)
        fix |= VDISK_CHECK_FIX_LEAKS;
    return img->drv->check(img, fix, res, report, progress, opaque, err);
}
