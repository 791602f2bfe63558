/* libvdisk — VHDX writes, zeroes and discards (dynamic and fixed files;
 * differencing files are opened read-only, driver.c).
 *
 * A write to a block that is not FULLY_PRESENT allocates it: a new 1 MiB
 * aligned block at the end of the file, which the file grows over so that
 * it reads as zeros (what every other state reads as, outside differencing
 * files), then the BAT entry, kept in memory until the next commit
 * (log-write.c).  A fixed file laid out as qemu-img (and vdisk) lay them
 * out keeps its size: a block in the ZERO state (block_state_zero=on,
 * qemu-img's default) goes back to its own place in the file, where QEMU
 * would append it (the ZERO state carries no offset; the place is known
 * from the layout, and used only when every present block sits at its
 * own place, driver.c).
 *
 * Before the first change of the session the headers get a new
 * FileWriteGuid, and before the first change of guest-visible data a new
 * DataWriteGuid (spec 2.2.2.1): a differencing child made from this file
 * then sees that its parent changed.
 */
#include <errno.h>
#include <inttypes.h>

#include "vhdx.h"

static uint64_t
min_u64(uint64_t a, uint64_t b)
{
    return a < b ? a : b;
}

/* New GUIDs before the first guest-visible change (lock held). */
static int
data_write_begins(vhdx_state *s, vdisk_error *err)
{
    return s->data_guid_done ? 0 : vhdx_headers_update(s, true, NULL, err);
}

/* A fixed file's block gets its own place back: zeroed first, since a
 * ZERO, UNMAPPED or UNDEFINED block reads as zeros whatever the place
 * held before (lock held). */
static int
fixed_place(vhdx_state *s, uint64_t index, uint64_t block, uint64_t *host, vdisk_error *err)
{
    uint64_t off = s->fixed_base + block * s->block_size;
    int r = vdisk_file_zero(s->file, off, s->block_size, false, err);
    if (r < 0)
        return r;
    vhdx_bat_set(s, index, off | VHDX_PAYLOAD_FULLY_PRESENT);
    *host = off;
    return 0;
}

/* Host offset of block `block`, allocating it (lock held). */
static int
block_for_write(vhdx_state *s, uint64_t block, uint64_t *host, vdisk_error *err)
{
    uint64_t index = vhdx_payload_index(s, block);
    uint64_t entry = s->bat[index];
    if ((entry & VHDX_BAT_STATE_MASK) == VHDX_PAYLOAD_FULLY_PRESENT) {
        *host = entry & VHDX_BAT_OFFSET_MASK;
        return 0;
    }
    if (s->fixed_base)
        return fixed_place(s, index, block, host, err);
    uint64_t off = s->file_end;
    if (off + s->block_size > (VHDX_BAT_OFFSET_MASK | (VHDX_MIB - 1)))
        return vdisk_error_set_kind(err, VDISK_ERR_NO_SPACE, EFBIG,
                                    "%s: the VHDX file cannot grow further", s->name);
    int r = vdisk_file_truncate(s->file, off + s->block_size, err);
    if (r < 0)
        return r;
    s->file_end = off + s->block_size;
    vhdx_bat_set(s, index, off | VHDX_PAYLOAD_FULLY_PRESENT);
    *host = off;
    return 0;
}

int
vhdx_pwrite(vdisk_image *img, const void *buf, uint64_t len, uint64_t off, vdisk_error *err)
{
    vhdx_state *s = img->priv;
    const uint8_t *p = buf;
    while (len) {
        uint64_t block = off / s->block_size, in = off % s->block_size;
        uint64_t n = min_u64(len, s->block_size - in), host = 0;
        pthread_mutex_lock(&s->lock);
        int r = data_write_begins(s, err);
        if (r == 0)
            r = block_for_write(s, block, &host, err);
        pthread_mutex_unlock(&s->lock);
        if (r == 0)
            r = vdisk_file_pwrite(s->file, p, n, host + in, err);
        if (r < 0)
            return r;
        p += n;
        off += n;
        len -= n;
    }
    return 0;
}

/* Zeros over [off, off+len): in place in present blocks; every other
 * state already reads as zeros. */
static int
zero_range(vhdx_state *s, uint64_t len, uint64_t off, bool may_unmap, vdisk_error *err)
{
    while (len) {
        uint64_t block = off / s->block_size, in = off % s->block_size;
        uint64_t n = min_u64(len, s->block_size - in);
        pthread_mutex_lock(&s->lock);
        int r = data_write_begins(s, err);
        uint64_t entry = s->bat[vhdx_payload_index(s, block)];
        pthread_mutex_unlock(&s->lock);
        if (r == 0 && (entry & VHDX_BAT_STATE_MASK) == VHDX_PAYLOAD_FULLY_PRESENT)
            r = vdisk_file_zero(s->file, (entry & VHDX_BAT_OFFSET_MASK) + in, n, may_unmap, err);
        if (r < 0)
            return r;
        off += n;
        len -= n;
    }
    return 0;
}

int
vhdx_write_zeroes(vdisk_image *img, uint64_t len, uint64_t off, unsigned flags, vdisk_error *err)
{
    return zero_range(img->priv, len, off, flags & VDISK_ZERO_MAY_UNMAP, err);
}

int
vhdx_discard(vdisk_image *img, uint64_t len, uint64_t off, vdisk_error *err)
{
    return zero_range(img->priv, len, off, true, err);
}
