/* libvdisk — the VHDX block allocation table (spec 2.5).
 *
 * One 64-bit entry per payload block, with an entry for a sector bitmap
 * block after every chunk_ratio payload entries (chunk_ratio = 2^23 logical
 * sectors / sectors per block).  A dynamic or fixed file needs entries up
 * to its last payload block; a differencing file up to the sector bitmap
 * entry of its last chunk.  The BAT region must hold them all, so the
 * table we load is bounded by the region, which lies in the file.
 *
 * Every entry that points into the file is checked before use: inside the
 * file (the last block may end early, as QEMU once wrote them), clear of
 * the headers, the log, the regions and every other block, and in a state
 * the file's type allows.  QEMU checks the same at open and in `check`.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vhdx.h"

#define BAT_PAGE 4096u

void
vhdx_bat_geometry(uint64_t size, uint32_t block_size, uint32_t logical_sector, bool diff,
                  uint64_t *payload_blocks, uint64_t *chunk_ratio, uint64_t *entries)
{
    uint64_t cr = VHDX_SECTORS_PER_BITMAP * logical_sector / block_size;
    uint64_t pb = (size + block_size - 1) / block_size;
    uint64_t sb = (pb + cr - 1) / cr;
    *payload_blocks = pb;
    *chunk_ratio = cr;
    if (diff)
        *entries = sb * (cr + 1);
    else
        *entries = pb ? pb + (pb - 1) / cr : 0;
}

int
vhdx_bat_load(vhdx_state *s, uint64_t file_len, vdisk_error *err)
{
    (void)file_len;   /* the region was checked against it (region.c) */
    vhdx_bat_geometry(s->virtual_size, s->block_size, s->logical_sector, s->has_parent,
                      &s->payload_blocks, &s->chunk_ratio, &s->bat_entries);
    if (s->bat_entries > s->bat_region.length / 8)
        return vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL,
                                    "%s: VHDX BAT region (%" PRIu32 " bytes) too small for the %"
                                    PRIu64 " entries of a %" PRIu64 "-byte disk", s->name,
                                    s->bat_region.length, s->bat_entries, s->virtual_size);
    size_t bytes = (size_t)s->bat_entries * 8;
    s->bat = malloc(bytes ? bytes : 1);
    if (!s->bat)
        return vdisk_error_set(err, ENOMEM, "%s: out of memory for the VHDX BAT (%" PRIu64 " entries)",
                               s->name, s->bat_entries);
    /* Read in place, then turn each entry to host order. */
    int r = vdisk_file_pread(s->file, s->bat, bytes, s->bat_region.offset, err);
    for (uint64_t i = 0; r == 0 && i < s->bat_entries; i++)
        s->bat[i] = vhdx_le64((const uint8_t *)&s->bat[i]);
    return r;
}

/* Is entry i a sector bitmap entry? */
static bool
is_bitmap_entry(const vhdx_state *s, uint64_t i)
{
    return (i + 1) % (s->chunk_ratio + 1) == 0;
}

/* What is wrong with entry i (NULL: nothing); *off and *len give the file
 * range it occupies (len 0: none). */
static const char *
entry_problem(const vhdx_state *s, uint64_t i, uint64_t file_len, uint64_t *off, uint64_t *len)
{
    uint64_t e = s->bat[i], state = e & VHDX_BAT_STATE_MASK;
    *off = e & VHDX_BAT_OFFSET_MASK;
    *len = 0;
    if (is_bitmap_entry(s, i)) {
        if (state == VHDX_SB_NOT_PRESENT || !s->has_parent)
            return NULL;   /* a fixed or dynamic file never reads its bitmaps */
        if (state != VHDX_SB_PRESENT)
            return "has an invalid sector bitmap state";
        *len = VHDX_MIB;
    } else {
        uint64_t block = i - i / (s->chunk_ratio + 1);
        if (block >= s->payload_blocks)
            return NULL;   /* past the disk (a differencing file's last chunk): never read */
        switch (state) {
        case VHDX_PAYLOAD_NOT_PRESENT:
        case VHDX_PAYLOAD_UNDEFINED:
        case VHDX_PAYLOAD_ZERO:
        case VHDX_PAYLOAD_UNMAPPED:
        case VHDX_PAYLOAD_UNMAPPED_V095:
            return NULL;
        case VHDX_PAYLOAD_PARTIALLY_PRESENT:
            if (!s->has_parent)
                return "is partially present in a file without a parent";
            break;
        case VHDX_PAYLOAD_FULLY_PRESENT:
            break;
        default:
            return "has an invalid payload block state";
        }
        /* The last block may end where the disk ends (QEMU once made such
         * files). */
        uint64_t left = s->virtual_size - block * s->block_size;
        *len = left < s->block_size ? left : s->block_size;
    }
    if (*off > file_len || file_len - *off < *len)
        return "points after the end of the file; the image has probably been truncated";
    if (vhdx_overlaps_metadata(s, *off, *len))
        return "overlaps the VHDX headers, log or regions";
    return NULL;
}

typedef struct span {
    uint64_t off, len, index;
} span;

static int
cmp_span(const void *a, const void *b)
{
    const span *x = a, *y = b;
    return x->off < y->off ? -1 : x->off > y->off;
}

/* Report one problem: to the check's report callback, or as the error. */
static int
problem(vhdx_state *s, uint64_t *bad, vdisk_check_report_fn report, void *opaque, vdisk_error *err,
        uint64_t index, uint64_t off, const char *what)
{
    char line[256];
    snprintf(line, sizeof(line), "VHDX BAT entry %" PRIu64 " (offset 0x%" PRIx64 ") %s", index, off, what);
    if (!bad)
        return vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL,
                                    "%s: %s", s->name, line);
    (*bad)++;
    if (report)
        report(opaque, line);
    return 0;
}

/* Entries that point into the file: at most one per MiB of it. */
static uint64_t
count_placed(const vhdx_state *s)
{
    uint64_t n = 0;
    for (uint64_t i = 0; i < s->bat_entries; i++) {
        uint64_t st = s->bat[i] & VHDX_BAT_STATE_MASK;
        n += st == VHDX_PAYLOAD_FULLY_PRESENT || st == VHDX_PAYLOAD_PARTIALLY_PRESENT;
    }
    return n;
}

int
vhdx_bat_check(vhdx_state *s, uint64_t file_len, uint64_t *bad, vdisk_check_report_fn report, void *opaque,
               vdisk_error *err)
{
    /* Sized by what the file can hold, not by the BAT. */
    uint64_t placed = count_placed(s);
    span *used = malloc((placed ? placed : 1) * sizeof(*used));
    if (!used)
        return vdisk_error_set(err, ENOMEM, "%s: out of memory", s->name);
    size_t n = 0;
    int r = 0;
    for (uint64_t i = 0; r == 0 && i < s->bat_entries; i++) {
        uint64_t off, len;
        const char *what = entry_problem(s, i, file_len, &off, &len);
        if (what)
            r = problem(s, bad, report, opaque, err, i, off, what);
        else if (len && n < placed)
            used[n++] = (span){ off, len, i };
    }
    qsort(used, n, sizeof(*used), cmp_span);
    for (size_t k = 1; r == 0 && k < n; k++)
        if (used[k].off < used[k - 1].off + used[k - 1].len)
            r = problem(s, bad, report, opaque, err, used[k].index, used[k].off,
                        "overlaps the block of another entry");
    free(used);
    return r;
}

void
vhdx_bat_set(vhdx_state *s, uint64_t index, uint64_t entry)
{
    s->bat[index] = entry;
    if (s->bat_dirty)
        s->bat_dirty[index * 8 / BAT_PAGE] = 1;
}
