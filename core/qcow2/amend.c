/* libvdisk — qcow2 amend: compat level (0.10 <-> 1.1) and lazy refcounts. */
#include <errno.h>

#include "qcow2.h"

int
qcow2_amend(vdisk_image *img, const vdisk_amend_opts *opts, vdisk_error *err)
{
    qcow2_state *s = img->priv;
    (void)opts;
    return vdisk_error_set(err, ENOTSUP, "%s: amend is not implemented yet", s->name);
}
