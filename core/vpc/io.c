/* libvdisk — VHD reads and block status.
 *
 * A fixed disk is read in place.  A dynamic disk maps each block through
 * the BAT; an unallocated block reads as zeros.  As in QEMU, the sector
 * bitmap of a dynamic disk's block is not consulted: every sector of an
 * allocated block is read from it (QEMU writes all-ones bitmaps, and a
 * sector never written reads as zeros from the block either way).  In a
 * differencing disk the bitmap decides each sector: a set bit (most
 * significant bit first, as the spec numbers them) means this file holds
 * it, a clear bit sends the read to the parent, as does an unallocated
 * block.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "vpc.h"

static uint64_t
min_u64(uint64_t a, uint64_t b)
{
    return a < b ? a : b;
}

/* Host offset of block `block`'s bitmap (0: unallocated), under the lock
 * that allocation holds while it changes the BAT. */
static uint64_t
lookup(vpc_state *s, uint64_t block)
{
    pthread_mutex_lock(&s->lock);
    uint64_t off = vpc_block_offset(s, block);
    pthread_mutex_unlock(&s->lock);
    return off;
}

/* A range this file does not hold: the parent's data, zeros past its end
 * or without a parent. */
static int
read_parent(vpc_state *s, uint8_t *buf, uint64_t len, uint64_t off, vdisk_error *err)
{
    vdisk_image *b = s->img->backing;
    uint64_t n = 0;
    if (b && off < vdisk_get_size(b)) {
        n = min_u64(len, vdisk_get_size(b) - off);
        int r = vdisk_pread(b, buf, n, off, err);
        if (r < 0)
            return r;
    }
    memset(buf + n, 0, len - n);
    return 0;
}

static bool
bit_set(const uint8_t *bitmap, uint64_t sector)
{
    return bitmap[sector / 8] & (0x80u >> (sector % 8));
}

/* End of the run of sectors that share the bitmap bit of byte `pos` of the
 * block, capped at `end` (offsets within the block). */
static uint64_t
run_end(const uint8_t *bitmap, uint64_t pos, uint64_t end, bool *present)
{
    uint64_t sec = pos / VPC_SECTOR;
    *present = bit_set(bitmap, sec);
    uint64_t e = (sec + 1) * VPC_SECTOR;
    while (e < end && bit_set(bitmap, e / VPC_SECTOR) == *present)
        e += VPC_SECTOR;
    return min_u64(e, end);
}

static int
read_bitmap(vpc_state *s, uint64_t bitmap_off, uint8_t **out, vdisk_error *err)
{
    *out = malloc(s->bitmap_size);
    if (!*out)
        return vdisk_error_set(err, ENOMEM, "%s: out of memory", s->name);
    int r = vdisk_file_pread(s->file, *out, s->bitmap_size, bitmap_off, err);
    if (r < 0) {
        free(*out);
        *out = NULL;
    }
    return r;
}

/* [in, in+len) of an allocated block of a differencing disk. */
static int
read_diff_block(vpc_state *s, uint8_t *buf, uint64_t len, uint64_t off, uint64_t bitmap_off,
                vdisk_error *err)
{
    uint8_t *bitmap;
    int r = read_bitmap(s, bitmap_off, &bitmap, err);
    uint64_t in = off % s->block_size, end = in + len;
    for (uint64_t pos = in; r == 0 && pos < end;) {
        bool present;
        uint64_t e = run_end(bitmap, pos, end, &present);
        uint8_t *dst = buf + (pos - in);
        if (present)
            r = vdisk_file_pread(s->file, dst, e - pos, bitmap_off + s->bitmap_size + pos, err);
        else
            r = read_parent(s, dst, e - pos, off + (pos - in), err);
        pos = e;
    }
    free(bitmap);
    return r;
}

int
vpc_pread(vdisk_image *img, void *buf, uint64_t len, uint64_t off, vdisk_error *err)
{
    vpc_state *s = img->priv;
    if (s->fixed)
        return vdisk_file_pread(s->file, buf, len, off, err);
    uint8_t *p = buf;
    while (len) {
        uint64_t block = off / s->block_size, in = off % s->block_size;
        uint64_t n = min_u64(len, s->block_size - in);
        uint64_t boff = lookup(s, block);
        int r;
        if (!boff)
            r = read_parent(s, p, n, off, err);
        else if (!s->diff)
            r = vdisk_file_pread(s->file, p, n, boff + s->bitmap_size + in, err);
        else
            r = read_diff_block(s, p, n, off, boff, err);
        if (r < 0)
            return r;
        p += n;
        off += n;
        len -= n;
    }
    return 0;
}

/* A range this file holds, at host offset `host`: reported as data, as
 * QEMU reports a block's whole extent (qemu-img map shows the same). */
static void
allocated_extent(uint64_t host, uint64_t n, vdisk_extent *ext)
{
    ext->length = n;
    ext->flags = VDISK_EXTENT_ALLOCATED | VDISK_EXTENT_OFFSET_VALID | VDISK_EXTENT_DATA;
    ext->host_offset = host;
}

/* Status inside an allocated block of a differencing disk. */
static int
diff_block_status(vpc_state *s, uint64_t off, uint64_t n, uint64_t boff, vdisk_extent *ext,
                  vdisk_error *err)
{
    uint8_t *bitmap;
    int r = read_bitmap(s, boff, &bitmap, err);
    if (r < 0)
        return r;
    uint64_t in = off % s->block_size;
    bool present;
    uint64_t e = run_end(bitmap, in, in + n, &present);
    free(bitmap);
    if (present) {
        allocated_extent(boff + s->bitmap_size + in, e - in, ext);
        return 0;
    }
    ext->length = e - in;
    ext->flags = 0;   /* the parent answers */
    return 0;
}

int
vpc_block_status(vdisk_image *img, uint64_t off, uint64_t len, vdisk_extent *ext, vdisk_error *err)
{
    vpc_state *s = img->priv;
    if (s->fixed) {
        /* In place; a hole of the file is zeros, still "data" as QEMU
         * reports a fixed disk (its map shows the same). */
        int r = vdisk_raw_block_status(img, off, len, ext, err);
        ext->flags |= VDISK_EXTENT_DATA;
        return r;
    }
    uint64_t block = off / s->block_size, in = off % s->block_size;
    uint64_t n = min_u64(len, s->block_size - in);
    uint64_t boff = lookup(s, block);
    if (boff && s->diff)
        return diff_block_status(s, off, n, boff, ext, err);
    if (boff) {
        allocated_extent(boff + s->bitmap_size + in, n, ext);
        return 0;
    }
    /* Unallocated: as far as the following blocks are unallocated too. */
    uint64_t done = n, next = block + 1;
    while (done < len && !lookup(s, next)) {
        done += min_u64(len - done, s->block_size);
        next++;
    }
    ext->length = done;
    /* Without a parent the format defines these as zeros ("present", as
     * qemu-img map shows); a differencing disk's parent answers. */
    ext->flags = s->diff ? 0 : VDISK_EXTENT_ALLOCATED | VDISK_EXTENT_ZERO;
    return 0;
}
