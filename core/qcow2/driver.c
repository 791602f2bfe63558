/* PLACEHOLDER until the qcow2 driver lands: every call fails with ENOTSUP. */
#include <errno.h>
#include "driver.h"

static int
q_open(vdisk_image *img, vdisk_error *err)
{
    return vdisk_error_set(err, ENOTSUP, "%s: qcow2 not built yet", img->filename);
}

static void
q_close(vdisk_image *img)
{
    (void)img;
}

const struct vdisk_driver vdisk_qcow2_driver = {
    .name = "qcow2",
    .format = VDISK_FORMAT_QCOW2,
    .open = q_open,
    .close = q_close,
};
