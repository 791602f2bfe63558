/* libvdisk — LUKS key-slot changes, format-neutral entry point (the raw
 * luks driver and qcow2 encrypt.format=luks implement them). */
#include <errno.h>

#include "driver.h"

int
vdisk_amend_keyslots(vdisk_image *img, const vdisk_keyslot_opts *opts, vdisk_error *err)
{
    if (!img->drv->amend_keyslots)
        return vdisk_error_set(err, ENOTSUP, "%s: Format driver '%s' does not support option amendment",
                               img->filename, img->drv->name);
    if (!(img->flags & VDISK_OPEN_RDWR))
        return vdisk_error_set(err, EROFS, "%s: cannot change key slots of an image open read-only",
                               img->filename);
    return img->drv->amend_keyslots(img, opts, err);
}
