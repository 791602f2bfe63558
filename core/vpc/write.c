/* libvdisk — VHD writes, zeroes and discards.
 *
 * A fixed disk is written in place.  A dynamic disk allocates a block on
 * its first write (bat.c) and writes into it; the rest of a new block
 * reads as zeros (the file grew over it).  Zeroing and discarding make the
 * allocated part of a range read as zeros (a hole punched into the block
 * where allowed); unallocated blocks read as zeros already.  A block is
 * never returned to the free state: the format has no way to reuse the
 * space (QEMU does not either).  Differencing disks are opened read-only
 * (driver.c), so nothing here sees one.
 */
#include <errno.h>

#include "vpc.h"

static uint64_t
min_u64(uint64_t a, uint64_t b)
{
    return a < b ? a : b;
}

/* Host offset of the data of block `block`, allocating it if needed. */
static int
block_for_write(vpc_state *s, uint64_t block, uint64_t *data_off, vdisk_error *err)
{
    pthread_mutex_lock(&s->lock);
    uint64_t boff = vpc_block_offset(s, block);
    int r = 0;
    if (!boff)
        r = vpc_bat_allocate(s, block, &boff, err);
    pthread_mutex_unlock(&s->lock);
    *data_off = boff + s->bitmap_size;
    return r;
}

int
vpc_pwrite(vdisk_image *img, const void *buf, uint64_t len, uint64_t off, vdisk_error *err)
{
    vpc_state *s = img->priv;
    if (s->fixed)
        return vdisk_file_pwrite(s->file, buf, len, off, err);
    const uint8_t *p = buf;
    while (len) {
        uint64_t block = off / s->block_size, in = off % s->block_size;
        uint64_t n = min_u64(len, s->block_size - in);
        uint64_t data;
        int r = block_for_write(s, block, &data, err);
        if (r == 0)
            r = vdisk_file_pwrite(s->file, p, n, data + in, err);
        if (r < 0)
            return r;
        p += n;
        off += n;
        len -= n;
    }
    return 0;
}

/* Zeros over [off, off+len): in the allocated blocks only. */
static int
zero_range(vpc_state *s, uint64_t len, uint64_t off, bool may_unmap, vdisk_error *err)
{
    if (s->fixed)
        return vdisk_file_zero(s->file, off, len, may_unmap, err);
    while (len) {
        uint64_t block = off / s->block_size, in = off % s->block_size;
        uint64_t n = min_u64(len, s->block_size - in);
        pthread_mutex_lock(&s->lock);
        uint64_t boff = vpc_block_offset(s, block);
        pthread_mutex_unlock(&s->lock);
        if (boff) {
            int r = vdisk_file_zero(s->file, boff + s->bitmap_size + in, n, may_unmap, err);
            if (r < 0)
                return r;
        }
        off += n;
        len -= n;
    }
    return 0;
}

int
vpc_write_zeroes(vdisk_image *img, uint64_t len, uint64_t off, unsigned flags, vdisk_error *err)
{
    return zero_range(img->priv, len, off, flags & VDISK_ZERO_MAY_UNMAP, err);
}

int
vpc_discard(vdisk_image *img, uint64_t len, uint64_t off, vdisk_error *err)
{
    return zero_range(img->priv, len, off, true, err);
}
