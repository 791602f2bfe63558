/* libvdisk — the VDI format driver (VirtualBox disk images), read only.
 *
 * Guest offset o lies in block o / block size; its block map entry gives
 * the block's place in the data area, or says it reads as zeros.  vdisk
 * reads dynamic and fixed (static) images for convert, compare, map,
 * measure and check; it does not write them (foreign.h).  Files: vdi.h.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "foreign.h"
#include "vdi.h"

static void vdi_close(vdisk_image *img);

/* Open: header, block map, the size (odd sizes rounded up to a sector, as
 * QEMU reads them). */
static int
vdi_open(vdisk_image *img, vdisk_error *err)
{
    int r = vdisk_foreign_refuse_rdwr(img, err);
    if (r < 0)
        return r;
    vdi_state *s = calloc(1, sizeof(*s));
    if (!s)
        return vdisk_error_set(err, ENOMEM, "%s: out of memory", img->filename);
    img->priv = s;
    if ((r = vdisk_file_get_length(img->file, &s->file_size, err)) < 0 ||
        (r = vdi_read_header(img->file, img->filename, s->file_size, &s->h, err)) < 0 ||
        (r = vdi_load_bmap(img->file, img->filename, s, (img->flags & VDISK_OPEN_CHECK) != 0,
                           err)) < 0) {
        vdi_close(img);     /* image.c does not close a handle whose open failed */
        return r;
    }
    img->size = (s->h.disk_size + VDI_SECTOR - 1) / VDI_SECTOR * VDI_SECTOR;
    return 0;
}

/* Release the block map. */
static void
vdi_close(vdisk_image *img)
{
    vdi_state *s = img->priv;
    if (s)
        free(s->bmap);
    free(s);
    img->priv = NULL;
}

/* The block map entry of block i, checked (a check open keeps bad ones). */
static int
entry_of(vdisk_image *img, uint64_t i, uint32_t *e, vdisk_error *err)
{
    vdi_state *s = img->priv;
    *e = s->bmap[i];
    if (vdi_allocated(*e) && *e >= s->h.blocks)
        return vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EIO,
                                    "%s: VDI block map entry %llu points at data block %u, "
                                    "past the image's %u blocks", img->filename, (unsigned long long)i,
                                    *e, s->h.blocks);
    return 0;
}

static uint64_t
host_of(const vdi_state *s, uint32_t entry, uint64_t in_block)
{
    return (uint64_t)s->h.data_offset + (uint64_t)entry * s->h.block_size + in_block;
}

/* Read: block by block, zeros where no block is allocated. */
static int
vdi_pread(vdisk_image *img, void *buf, uint64_t len, uint64_t off, vdisk_error *err)
{
    vdi_state *s = img->priv;
    uint8_t *p = buf;
    while (len > 0) {
        uint64_t in = off % s->h.block_size;
        uint64_t n = s->h.block_size - in < len ? s->h.block_size - in : len;
        uint32_t e;
        int r = entry_of(img, off / s->h.block_size, &e, err);
        if (r < 0)
            return r;
        if (!vdi_allocated(e))
            memset(p, 0, n);
        else if ((r = vdisk_file_pread(img->file, p, n, host_of(s, e, in), err)) < 0)
            return r;
        p += n, off += n, len -= n;
    }
    return 0;
}

/* Block status: a run of unallocated blocks, or of allocated blocks that
 * follow each other in the data area.  Unallocated blocks read as zeros
 * and VDI has no backing file: they are reported as zero, as QEMU does. */
static int
vdi_block_status(vdisk_image *img, uint64_t off, uint64_t len, vdisk_extent *ext, vdisk_error *err)
{
    vdi_state *s = img->priv;
    uint64_t bs = s->h.block_size, block = off / bs, in = off % bs;
    uint32_t first;
    int r = entry_of(img, block, &first, err);
    if (r < 0)
        return r;
    uint64_t run = bs - in;
    for (uint64_t b = block + 1; run < len; b++, run += bs) {
        uint32_t e = s->bmap[b];
        bool same = vdi_allocated(first) ? vdi_allocated(e) && e < s->h.blocks &&
                                           e == first + (b - block)
                                         : !vdi_allocated(e);
        if (!same)
            break;
    }
    if (run > len)
        run = len;
    if (!vdi_allocated(first)) {
        ext->flags = VDISK_EXTENT_ALLOCATED | VDISK_EXTENT_ZERO;
        ext->length = run;
        return 0;
    }
    return vdisk_foreign_data_extent(img, host_of(s, first, in), run, ext, err);
}

/* Info: the block size is the cluster size qemu-img reports. */
static int
vdi_get_info(vdisk_image *img, vdisk_info *info, vdisk_error *err)
{
    (void)err;
    info->cluster_size = ((vdi_state *)img->priv)->h.block_size;
    return 0;
}

const struct vdisk_driver vdisk_vdi_driver = {
    .name = "vdi",
    .format = VDISK_FORMAT_VDI,
    .open = vdi_open,                           /* header and block map (header.c) */
    .close = vdi_close,
    .pread = vdi_pread,
    .pwrite = vdisk_foreign_pwrite,             /* read only: refused */
    .write_zeroes = vdisk_foreign_write_zeroes,
    .discard = vdisk_foreign_discard,
    .flush = vdisk_foreign_flush,
    .block_status = vdi_block_status,
    .get_info = vdi_get_info,
    .check = vdi_check,                         /* the block map (check.c) */
};
