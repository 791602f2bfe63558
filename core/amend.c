/* libvdisk — amending image options, format-neutral entry point. */
#include <errno.h>

#include "driver.h"

int
vdisk_amend(vdisk_image *img, const vdisk_amend_opts *opts, vdisk_error *err)
{
    if (!img->drv->amend)
        return vdisk_error_set(err, ENOTSUP, "%s: format driver '%s' does not support option "
                               "amendment", img->filename, img->drv->name);
    if (!(img->flags & VDISK_OPEN_RDWR))
        return vdisk_error_set(err, EROFS, "%s: cannot amend an image open read-only",
                               img->filename);
    if (opts->qcow2_version != 0 && opts->qcow2_version != 2 && opts->qcow2_version != 3)
        return vdisk_error_set(err, EINVAL, "%s: unknown qcow2 version %d (expected 2 or 3)",
                               img->filename, opts->qcow2_version);
    /* In the order of qemu-img's option list: ..., data_file, data_file_raw,
     * lazy_refcounts, refcount_bits. */
    if (opts->data_file)
        return vdisk_error_set(err, EINVAL, "data-file can only be set for images that use an "
                               "external data file");
    if (opts->data_file_raw == 1)
        return vdisk_error_set(err, EINVAL, "data-file-raw cannot be set on existing images");
    int rb = opts->refcount_bits;
    if (rb != 0 && (rb < 0 || rb > 64 || (rb & (rb - 1))))
        return vdisk_error_set(err, EINVAL, "Refcount width must be a power of two and may not "
                               "exceed 64 bits");
    return img->drv->amend(img, opts, err);
}
