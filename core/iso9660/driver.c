/* libvdisk — the ISO 9660 image format driver.
 *
 * An ISO image attached to a VM is read-only media: guest offset == host
 * offset, reads go straight to the file and every write is refused with a
 * message naming the file.  Opening validates the volume descriptors, so a
 * file named .iso that is not one fails clearly, and info reports the
 * volume id, dates and whether the image boots.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "driver.h"
#include "iso9660.h"

/* Open: check the descriptor set; the size is the file's. */
static int
iso_drv_open(vdisk_image *img, vdisk_error *err)
{
    vdisk_iso *iso;
    int r = iso_open_file(img->file, false, VDISK_ISO_NAMES_AUTO, &iso, err);
    if (r < 0)
        return r;
    img->priv = iso;
    img->size = iso->file_size;
    return 0;
}

/* Release the reader handle (the file belongs to the image). */
static void
iso_drv_close(vdisk_image *img)
{
    vdisk_iso_close(img->priv);
    img->priv = NULL;
}

/* Read: the image is its file. */
static int
iso_drv_pread(vdisk_image *img, void *buf, uint64_t len, uint64_t off, vdisk_error *err)
{
    return vdisk_file_pread(img->file, buf, (size_t)len, off, err);
}

static int
refuse(vdisk_image *img, const char *op, vdisk_error *err)
{
    return vdisk_error_set(err, EROFS, "%s: %s refused: ISO 9660 images are read-only "
                           "(build a new one with iso-create, or convert it to raw or qcow2)",
                           img->filename, op);
}

/* Writes of any kind: refused. */
static int
iso_drv_pwrite(vdisk_image *img, const void *buf, uint64_t len, uint64_t off, vdisk_error *err)
{
    return refuse(img, "write", err);
}

/* Zeroing: refused. */
static int
iso_drv_write_zeroes(vdisk_image *img, uint64_t len, uint64_t off, unsigned flags, vdisk_error *err)
{
    return refuse(img, "write zeroes", err);
}

/* Discard: refused. */
static int
iso_drv_discard(vdisk_image *img, uint64_t len, uint64_t off, vdisk_error *err)
{
    return refuse(img, "discard", err);
}

/* Flush: nothing is ever dirty. */
static int
iso_drv_flush(vdisk_image *img, vdisk_error *err)
{
    return 0;
}

/* Info: volume id, dates, Joliet / Rock Ridge, bootable. */
static int
iso_drv_get_info(vdisk_image *img, vdisk_info *info, vdisk_error *err)
{
    const vdisk_iso *iso = img->priv;
    const vdisk_iso_volume *v = &iso->d.vol;
    snprintf(info->iso_volume_id, sizeof(info->iso_volume_id), "%s", v->volume_id);
    snprintf(info->iso_system_id, sizeof(info->iso_system_id), "%s", v->system_id);
    info->iso_creation_time = v->creation_time;
    info->iso_modification_time = v->modification_time;
    info->iso_volume_size = v->volume_size;
    info->iso_joliet = v->joliet;
    info->iso_rock_ridge = v->rock_ridge;
    info->iso_bootable = v->bootable;
    return 0;
}

const struct vdisk_driver vdisk_iso_driver = {
    .name = "iso",
    .format = VDISK_FORMAT_ISO,
    .open = iso_drv_open,
    .close = iso_drv_close,
    .pread = iso_drv_pread,
    .pwrite = iso_drv_pwrite,
    .write_zeroes = iso_drv_write_zeroes,
    .discard = iso_drv_discard,
    .flush = iso_drv_flush,
    .block_status = vdisk_raw_block_status,
    .get_info = iso_drv_get_info,
};
