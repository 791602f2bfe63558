/* libvdisk — VHDX reads and block status.
 *
 * Each payload block's BAT state decides (spec 2.5.1.1):
 *   FULLY_PRESENT        the data is in this file at the entry's offset;
 *   PARTIALLY_PRESENT    (differencing only) the chunk's sector bitmap
 *                        says, sector by sector: a set bit (least
 *                        significant first) is in this file, a clear one
 *                        in the parent;
 *   NOT_PRESENT          the parent's data in a differencing file, zeros
 *                        otherwise (one of the spec's allowed readings, and
 *                        QEMU's);
 *   ZERO, UNMAPPED, UNDEFINED (and the draft's UNMAPPED value 5)  zeros.
 * Every offset was checked at open (bat.c).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "vhdx.h"

static uint64_t
min_u64(uint64_t a, uint64_t b)
{
    return a < b ? a : b;
}

/* The payload entry and, for a partially present block, its sector
 * bitmap entry, under the lock allocation takes. */
static void
lookup(vhdx_state *s, uint64_t block, uint64_t *entry, uint64_t *sb_entry)
{
    pthread_mutex_lock(&s->lock);
    *entry = s->bat[vhdx_payload_index(s, block)];
    *sb_entry = s->has_parent ? s->bat[vhdx_bitmap_index(s, block)] : 0;
    pthread_mutex_unlock(&s->lock);
}

/* What the parent holds there: zeros past its end, or without one. */
static int
read_parent(vhdx_state *s, uint8_t *buf, uint64_t len, uint64_t off, vdisk_error *err)
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

/* The part of a chunk's sector bitmap that covers block `block`. */
static int
read_bitmap(vhdx_state *s, uint64_t block, uint64_t sb_entry, uint8_t **out, vdisk_error *err)
{
    uint64_t per_block = s->block_size / s->logical_sector / 8;
    *out = NULL;
    if ((sb_entry & VHDX_BAT_STATE_MASK) != VHDX_SB_PRESENT)
        return vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EIO,
                                    "%s: VHDX block %" PRIu64 " is partially present but its sector "
                                    "bitmap is not", s->name, block);
    if (!(*out = malloc(per_block)))
        return vdisk_error_set(err, ENOMEM, "%s: out of memory", s->name);
    uint64_t at = (sb_entry & VHDX_BAT_OFFSET_MASK) + block % s->chunk_ratio * per_block;
    int r = vdisk_file_pread(s->file, *out, per_block, at, err);
    if (r < 0) {
        free(*out);
        *out = NULL;
    }
    return r;
}

static bool
bit_set(const uint8_t *bitmap, uint64_t sector)
{
    return bitmap[sector / 8] & (1u << (sector % 8));
}

/* End of the run of sectors sharing the bit of byte `pos` (in-block
 * offsets), at most `end`. */
static uint64_t
run_end(const vhdx_state *s, const uint8_t *bitmap, uint64_t pos, uint64_t end, bool *present)
{
    uint64_t sec = pos / s->logical_sector;
    *present = bit_set(bitmap, sec);
    uint64_t e = (sec + 1) * s->logical_sector;
    while (e < end && bit_set(bitmap, e / s->logical_sector) == *present)
        e += s->logical_sector;
    return min_u64(e, end);
}

static int
read_partial(vhdx_state *s, uint8_t *buf, uint64_t len, uint64_t off, uint64_t entry, uint64_t sb_entry,
             vdisk_error *err)
{
    uint64_t block = off / s->block_size, in = off % s->block_size, end = in + len;
    uint8_t *bitmap;
    int r = read_bitmap(s, block, sb_entry, &bitmap, err);
    for (uint64_t pos = in; r == 0 && pos < end;) {
        bool present;
        uint64_t e = run_end(s, bitmap, pos, end, &present);
        if (present)
            r = vdisk_file_pread(s->file, buf + (pos - in), e - pos,
                                 (entry & VHDX_BAT_OFFSET_MASK) + pos, err);
        else
            r = read_parent(s, buf + (pos - in), e - pos, off + (pos - in), err);
        pos = e;
    }
    free(bitmap);
    return r;
}

int
vhdx_pread(vdisk_image *img, void *buf, uint64_t len, uint64_t off, vdisk_error *err)
{
    vhdx_state *s = img->priv;
    uint8_t *p = buf;
    while (len) {
        uint64_t block = off / s->block_size, in = off % s->block_size;
        uint64_t n = min_u64(len, s->block_size - in), entry, sb;
        lookup(s, block, &entry, &sb);
        int r = 0;
        switch (entry & VHDX_BAT_STATE_MASK) {
        case VHDX_PAYLOAD_FULLY_PRESENT:
            r = vdisk_file_pread(s->file, p, n, (entry & VHDX_BAT_OFFSET_MASK) + in, err);
            break;
        case VHDX_PAYLOAD_PARTIALLY_PRESENT:
            r = read_partial(s, p, n, off, entry, sb, err);
            break;
        case VHDX_PAYLOAD_NOT_PRESENT:
            r = s->has_parent ? read_parent(s, p, n, off, err) : (memset(p, 0, n), 0);
            break;
        default:
            memset(p, 0, n);
            break;
        }
        if (r < 0)
            return r;
        p += n;
        off += n;
        len -= n;
    }
    return 0;
}

/* A present range at host offset `host`: data, or zeros where the file
 * has a hole (a block written only in part), so that a copy skips them. */
static int
present_status(vhdx_state *s, uint64_t host, uint64_t n, vdisk_extent *ext, vdisk_error *err)
{
    bool data;
    uint64_t end;
    int r = vdisk_file_extent(s->file, host, host + n, &data, &end, err);
    if (r < 0)
        return r;
    ext->length = end - host;
    ext->flags = VDISK_EXTENT_ALLOCATED | VDISK_EXTENT_OFFSET_VALID |
                 (data ? VDISK_EXTENT_DATA : VDISK_EXTENT_ZERO);
    ext->host_offset = host;
    return 0;
}

static int
partial_status(vhdx_state *s, uint64_t off, uint64_t n, uint64_t entry, uint64_t sb, vdisk_extent *ext,
               vdisk_error *err)
{
    uint64_t block = off / s->block_size, in = off % s->block_size;
    uint8_t *bitmap;
    int r = read_bitmap(s, block, sb, &bitmap, err);
    if (r < 0)
        return r;
    bool present;
    uint64_t len = run_end(s, bitmap, in, in + n, &present) - in;
    free(bitmap);
    if (present)
        return present_status(s, (entry & VHDX_BAT_OFFSET_MASK) + in, len, ext, err);
    ext->length = len;
    ext->flags = 0;   /* the parent answers */
    return 0;
}

/* One block's status class, for merging neighbours: 0 parent, 1 zeros. */
static int
absent_class(const vhdx_state *s, uint64_t entry)
{
    uint64_t st = entry & VHDX_BAT_STATE_MASK;
    if (st == VHDX_PAYLOAD_FULLY_PRESENT || st == VHDX_PAYLOAD_PARTIALLY_PRESENT)
        return -1;
    return st == VHDX_PAYLOAD_NOT_PRESENT && s->has_parent ? 0 : 1;
}

int
vhdx_block_status(vdisk_image *img, uint64_t off, uint64_t len, vdisk_extent *ext, vdisk_error *err)
{
    vhdx_state *s = img->priv;
    uint64_t block = off / s->block_size, in = off % s->block_size;
    uint64_t n = min_u64(len, s->block_size - in), entry, sb;
    lookup(s, block, &entry, &sb);
    uint64_t st = entry & VHDX_BAT_STATE_MASK;
    if (st == VHDX_PAYLOAD_FULLY_PRESENT)
        return present_status(s, (entry & VHDX_BAT_OFFSET_MASK) + in, n, ext, err);
    if (st == VHDX_PAYLOAD_PARTIALLY_PRESENT)
        return partial_status(s, off, n, entry, sb, ext, err);
    /* Absent: as far as the next blocks are absent the same way. */
    int cls = absent_class(s, entry);
    uint64_t done = n, next = block + 1;
    while (done < len) {
        uint64_t e2, sb2;
        lookup(s, next++, &e2, &sb2);
        if (absent_class(s, e2) != cls)
            break;
        done += min_u64(len - done, s->block_size);
    }
    ext->length = done;
    ext->flags = cls ? VDISK_EXTENT_ALLOCATED | VDISK_EXTENT_ZERO : 0;
    return 0;
}
