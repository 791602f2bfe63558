/* libvdisk — the parts the read-only foreign format drivers share (see
 * foreign.h). */
#include <errno.h>

#include "foreign.h"

int
vdisk_foreign_refuse_rdwr(vdisk_image *img, vdisk_error *err)
{
    if (!(img->flags & VDISK_OPEN_RDWR))
        return 0;
    return vdisk_error_set(err, EROFS, "%s: vdisk reads %s images but does not write them; "
                           "convert it (vdisk-virsh convert -O qcow2) to change it",
                           img->filename, img->drv->name);
}

static int
refuse(vdisk_image *img, const char *op, vdisk_error *err)
{
    return vdisk_error_set(err, EROFS, "%s: %s refused: vdisk does not write %s images",
                           img->filename, op, img->drv->name);
}

/* Writes: refused (the handle is read-only anyway). */
int
vdisk_foreign_pwrite(vdisk_image *img, const void *buf, uint64_t len, uint64_t off,
                     vdisk_error *err)
{
    (void)buf, (void)len, (void)off;
    return refuse(img, "write", err);
}

/* Zeroing: refused. */
int
vdisk_foreign_write_zeroes(vdisk_image *img, uint64_t len, uint64_t off, unsigned flags,
                           vdisk_error *err)
{
    (void)len, (void)off, (void)flags;
    return refuse(img, "write zeroes", err);
}

/* Discard: refused. */
int
vdisk_foreign_discard(vdisk_image *img, uint64_t len, uint64_t off, vdisk_error *err)
{
    (void)len, (void)off;
    return refuse(img, "discard", err);
}

/* Flush: nothing is ever dirty. */
int
vdisk_foreign_flush(vdisk_image *img, vdisk_error *err)
{
    (void)img, (void)err;
    return 0;
}

int
vdisk_foreign_data_extent(vdisk_image *img, uint64_t host, uint64_t len, vdisk_extent *ext,
                          vdisk_error *err)
{
    bool data;
    uint64_t end;
    int r = vdisk_file_extent(img->file, host, host + len, &data, &end, err);
    if (r < 0)
        return r;
    ext->flags = VDISK_EXTENT_ALLOCATED | VDISK_EXTENT_DATA | VDISK_EXTENT_OFFSET_VALID |
                 (data ? 0 : VDISK_EXTENT_ZERO);
    ext->host_offset = host;
    ext->length = end > host && end - host < len ? end - host : len;
    return 0;
}
