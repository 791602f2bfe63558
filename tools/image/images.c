/* vdisk-virsh — opening images from the command line (see images.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "images.h"
#include "options.h"

int
vv_open_image(const char *file, const char *fmt_name, unsigned flags, vdisk_image **out)
{
    vdisk_open_opts oo = { .format = VDISK_FORMAT_UNKNOWN, .flags = flags };
    vdisk_error err = { 0 };
    if (fmt_name && vv_parse_format(fmt_name, &oo.format) < 0)
        return -EINVAL;
    int r = vdisk_open(file, &oo, out, &err);
    if (r < 0) {
        /* qemu-img's words: "Could not open 'FILE': <why>" */
        vv_error("Could not open '%s': %s", file, vv_error_detail(&err, file));
    }
    return r;
}

int
vv_close_image(vdisk_image *img, bool report)
{
    vdisk_error err = { 0 };
    char *name = report ? strdup(vdisk_get_filename(img)) : NULL;
    int r = vdisk_close(img, report ? &err : NULL);
    if (r < 0 && report)
        vv_report_file(&err, name ? name : "image");
    free(name);
    return r;
}
