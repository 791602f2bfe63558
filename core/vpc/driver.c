/* libvdisk — the VHD format driver (qemu-img's "vpc"): open, close, info
 * and the driver table.  The work is split by concern:
 *   footer.c     the hard disk footer and the virtual size rule
 *   geometry.c   CHS geometry, the size of a new disk
 *   dynheader.c  the dynamic disk header
 *   bat.c        the block allocation table, block allocation
 *   parent.c     the parent of a differencing disk
 *   io.c         reads and block status
 *   write.c      writes, zeroes, discards
 *   create.c     new images
 *   opts.c       creation options (subformat, force_size)
 *
 * Which footer counts: a disk whose last sector is a valid fixed-disk
 * footer is fixed, whatever its first sector holds (the guest of a fixed
 * disk writes that sector, and must not be able to turn its disk into a
 * dynamic or differencing one).  Otherwise the copy in the first sector
 * describes a dynamic or differencing disk, as QEMU reads it, with the
 * footer at the end as a fallback if that copy is damaged.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "opts.h"
#include "vpc.h"

static void
state_free(vpc_state *s)
{
    if (!s)
        return;
    free(s->bat);
    pthread_mutex_destroy(&s->lock);
    free(s);
}

/* The footer that describes the disk (see the head of this file). */
static int
read_footer(vpc_state *s, uint64_t file_len, vdisk_error *err)
{
    if (file_len < VPC_FOOTER_SIZE)
        return vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL,
                                    "%s: file too small for a VHD footer (%" PRIu64 " bytes)",
                                    s->name, file_len);
    uint8_t head[VPC_FOOTER_SIZE], tail[VPC_FOOTER_SIZE];
    int r = vdisk_file_pread(s->file, head, sizeof(head), 0, err);
    if (r == 0)
        r = vdisk_file_pread(s->file, tail, sizeof(tail), file_len - VPC_FOOTER_SIZE, err);
    if (r < 0)
        return r;
    vpc_footer tf;
    vdisk_error tail_err;
    int rt = vpc_footer_parse(tail, s->name, &tf, &tail_err);
    if (rt == 0 && tf.type == VPC_TYPE_FIXED) {
        s->footer = tf;
        memcpy(s->footer_raw, tail, VPC_FOOTER_SIZE);
        return 0;
    }
    vdisk_error head_err;
    int rh = vpc_footer_parse(head, s->name, &s->footer, &head_err);
    if (rh == 0 && s->footer.type != VPC_TYPE_FIXED) {
        memcpy(s->footer_raw, head, VPC_FOOTER_SIZE);
        return 0;
    }
    if (rt == 0) {
        s->footer = tf;
        memcpy(s->footer_raw, tail, VPC_FOOTER_SIZE);
        return 0;
    }
    if (rh == 0)
        return vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL,
                                    "%s: the VHD footer in the first sector describes a fixed "
                                    "disk, whose footer belongs in the last sector", s->name);
    if (err)
        *err = memcmp(head, VPC_COOKIE, 8) == 0 ? head_err : tail_err;
    return memcmp(head, VPC_COOKIE, 8) == 0 ? rh : rt;
}

/* Disk type, virtual size, and what may be done with them. */
static int
check_footer(vpc_state *s, uint64_t file_len, vdisk_error *err)
{
    const vpc_footer *f = &s->footer;
    if (f->type != VPC_TYPE_FIXED && f->type != VPC_TYPE_DYNAMIC && f->type != VPC_TYPE_DIFF)
        return vdisk_error_set(err, ENOTSUP, "%s: unknown VHD disk type %" PRIu32 " (2 fixed, 3 dynamic "
                               "and 4 differencing expected)", s->name, f->type);
    s->fixed = f->type == VPC_TYPE_FIXED;
    s->diff = f->type == VPC_TYPE_DIFF;
    uint64_t size = vpc_footer_virtual_size(f);
    if (size > VPC_MAX_SECTORS * VPC_SECTOR)
        return vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EFBIG,
                                    "%s: VHD virtual size %" PRIu64 " exceeds the format's "
                                    "2040 GiB", s->name, size);
    s->img->size = size;
    bool writable = s->img->flags & VDISK_OPEN_RDWR;
    if (writable && s->diff)
        return vdisk_error_set(err, ENOTSUP, "%s: writing to a differencing VHD is not supported "
                               "(open it read-only, or convert it)", s->name);
    /* A fixed disk shorter than its size reads zeros past the end, but a
     * write there would overwrite its footer. */
    if (writable && s->fixed && file_len - VPC_FOOTER_SIZE < size)
        return vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL,
                                    "%s: fixed VHD of %" PRIu64 " bytes in a file of only %"
                                    PRIu64 " bytes: the file is truncated", s->name, size, file_len);
    return 0;
}

/* Open: footer, then for dynamic and differencing disks the header and
 * BAT, then the parent. */
static int
vpc_open(vdisk_image *img, vdisk_error *err)
{
    vpc_state *s = calloc(1, sizeof(*s));
    if (!s)
        return vdisk_error_set(err, ENOMEM, "%s: out of memory", img->filename);
    s->img = img;
    s->file = img->file;
    s->name = img->filename;
    pthread_mutex_init(&s->lock, NULL);
    img->priv = s;
    uint64_t file_len;
    int r = vdisk_file_get_length(s->file, &file_len, err);
    if (r == 0)
        r = read_footer(s, file_len, err);
    if (r == 0)
        r = check_footer(s, file_len, err);
    if (r == 0 && !s->fixed)
        r = vpc_bat_open(s, file_len, err);
    if (r == 0 && s->diff && !(img->flags & VDISK_OPEN_NO_BACKING))
        r = vpc_open_parent(s, err);
    if (r < 0) {
        state_free(s);
        img->priv = NULL;
    }
    return r;
}

/* Release the state; the file is flushed by vdisk_close. */
static void
vpc_close(vdisk_image *img)
{
    state_free(img->priv);
    img->priv = NULL;
}

/* Flush: every write went straight to the file. */
static int
vpc_flush(vdisk_image *img, vdisk_error *err)
{
    return vdisk_file_flush(img->file, err);
}

/* Info: the block size as cluster size (as qemu-img shows it for dynamic
 * disks), and a differencing disk's parent. */
static int
vpc_get_info(vdisk_image *img, vdisk_info *info, vdisk_error *err)
{
    vpc_state *s = img->priv;
    if (!s->fixed)
        info->cluster_size = s->block_size;
    if (!s->diff)
        return 0;
    char *name;
    int r = vpc_parent_name(s, &name, err);
    if (r < 0 || !name)
        return r;
    info->backing_file = name;
    if (!(info->backing_format = strdup("vpc")))
        return vdisk_error_set(err, ENOMEM, "%s: out of memory", s->name);
    return 0;
}

const struct vdisk_driver vdisk_vpc_driver = {
    .name = "vpc",
    .format = VDISK_FORMAT_VPC,
    .open = vpc_open,
    .close = vpc_close,
    .create = vpc_create,
    .options = vpc_options,              /* -o of create and measure (opts.c) */
    .opts_validate = vpc_opts_validate,  /* subformat against preallocation */
    .pread = vpc_pread,
    .pwrite = vpc_pwrite,
    .write_zeroes = vpc_write_zeroes,
    .discard = vpc_discard,
    .flush = vpc_flush,
    .block_status = vpc_block_status,
    .get_info = vpc_get_info,
};
