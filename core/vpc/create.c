/* libvdisk — new VHD images, laid out as qemu-img 7.2 lays them out.
 *
 * Fixed: the data, then the footer.  Dynamic: a footer copy, the dynamic
 * disk header at 512, the BAT at 1536 (all entries unused), then the
 * footer; blocks of 2 MiB are added as the guest writes.  The size is
 * rounded up to what the CHS geometry expresses (geometry.c) unless
 * force_size=on, which keeps it exact; the creator application is QEMU's
 * ("qemu", or "qem2" for a forced size) so that every reader that follows
 * QEMU's size rules, QEMU included, sees the same size.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crypto/crypto.h"
#include "vpc.h"

#define DYNHDR_OFFSET 512u
#define BAT_OFFSET 1536u

/* The footer of a new disk of `size` bytes with geometry c/h/s. */
static int
new_footer(const vdisk_create_opts *o, uint64_t size, uint16_t c, uint8_t h, uint8_t sec,
           vpc_footer *f)
{
    memset(f, 0, sizeof(*f));
    f->features = VPC_FEATURES_RESERVED;
    f->version = VPC_VERSION;
    f->data_offset = o->vpc.fixed ? UINT64_MAX : DYNHDR_OFFSET;
    time_t now = time(NULL);
    f->timestamp = now > (time_t)VPC_EPOCH ? (uint32_t)(now - VPC_EPOCH) : 0;
    memcpy(f->creator_app, o->vpc.force_size ? "qem2" : "qemu", 4);
    f->creator_major = 5;   /* Virtual PC 2007's version, as qemu-img writes */
    f->creator_minor = 3;
    memcpy(f->creator_os, "Wi2k", 4);
    f->original_size = size;
    f->current_size = size;
    f->cylinders = c;
    f->heads = h;
    f->sectors = sec;
    f->type = o->vpc.fixed ? VPC_TYPE_FIXED : VPC_TYPE_DYNAMIC;
    return vdisk_random_id(f->uuid, sizeof(f->uuid));
}

static int
create_fixed(vdisk_file *file, const vdisk_create_opts *o, uint64_t size, const uint8_t *footer,
             vdisk_progress_fn progress, void *opaque, vdisk_error *err)
{
    int r;
    switch (o->prealloc) {
    case VDISK_PREALLOC_FALLOC:
        r = vdisk_file_allocate(file, 0, size, err);
        break;
    case VDISK_PREALLOC_FULL:
        r = vdisk_file_write_zeroes_full(file, 0, size, progress, opaque, err);
        break;
    default:
        r = vdisk_file_truncate(file, size, err);
        break;
    }
    return r < 0 ? r : vdisk_file_pwrite(file, footer, VPC_FOOTER_SIZE, size, err);
}

static int
create_dynamic(vdisk_file *file, uint64_t size, const uint8_t *footer, vdisk_error *err)
{
    uint32_t entries = (uint32_t)((size + VPC_DEFAULT_BLOCK - 1) / VPC_DEFAULT_BLOCK);
    uint64_t bat_bytes = ((uint64_t)entries * 4 + VPC_SECTOR - 1) / VPC_SECTOR * VPC_SECTOR;
    vpc_dynheader d;
    memset(&d, 0, sizeof(d));
    /* All 64 bits set: the spec says 0xFFFFFFFF, but Microsoft's tools
     * expect the whole field set (as qemu-img writes it). */
    d.data_offset = UINT64_MAX;
    d.table_offset = BAT_OFFSET;
    d.version = VPC_VERSION;
    d.max_table_entries = entries;
    d.block_size = VPC_DEFAULT_BLOCK;
    uint8_t hdr[VPC_DYNHDR_SIZE];
    vpc_dynheader_build(&d, hdr);
    uint8_t *bat = malloc(bat_bytes ? bat_bytes : 1);
    if (!bat)
        return vdisk_error_set(err, ENOMEM, "%s: out of memory", file->path);
    memset(bat, 0xff, bat_bytes);
    int r = vdisk_file_pwrite(file, footer, VPC_FOOTER_SIZE, 0, err);
    if (r == 0)
        r = vdisk_file_pwrite(file, hdr, sizeof(hdr), DYNHDR_OFFSET, err);
    if (r == 0 && bat_bytes)
        r = vdisk_file_pwrite(file, bat, bat_bytes, BAT_OFFSET, err);
    if (r == 0)
        r = vdisk_file_pwrite(file, footer, VPC_FOOTER_SIZE, BAT_OFFSET + bat_bytes, err);
    free(bat);
    return r;
}

int
vpc_create(vdisk_file *file, const vdisk_create_opts *o, vdisk_progress_fn progress, void *opaque,
           vdisk_error *err)
{
    uint64_t size, again;
    uint16_t c;
    uint8_t h, sec;
    /* As qemu-img: the size is rounded for the geometry first, and the
     * geometry then taken for the rounded size. */
    int r = vpc_rounded_size(o->size, o->vpc.force_size, &size, &c, &h, &sec);
    if (r == 0)
        r = vpc_rounded_size(size, o->vpc.force_size, &again, &c, &h, &sec);
    if (r == 0 && again != size)
        r = -EINVAL;
    if (r == -EFBIG)
        return vdisk_error_set_kind(err, VDISK_ERR_INVALID, EFBIG,
                                    "%s: The image size is too large for file format 'vpc' "
                                    "(at most 2040 GiB)", file->path);
    if (r < 0)
        return vdisk_error_set(err, EINVAL, "%s: The requested image size cannot be represented in "
                               "CHS geometry (try force_size=on)", file->path);
    vpc_footer f;
    r = new_footer(o, size, c, h, sec, &f);
    if (r < 0)
        return vdisk_error_set(err, -r, "%s: no random bytes for the VHD unique id", file->path);
    uint8_t footer[VPC_FOOTER_SIZE];
    vpc_footer_build(&f, footer);
    if (o->vpc.fixed)
        return create_fixed(file, o, size, footer, progress, opaque, err);
    return create_dynamic(file, size, footer, err);
}
