/* libvdisk — the VHD dynamic disk header and block allocation table.
 *
 * Open reads the dynamic header the footer points at and the BAT it
 * describes, after checking every number against the file: the BAT must
 * lie in the file (so its allocation is bounded by the file's size), cover
 * the virtual disk, and every allocated block must lie in the file without
 * overlapping the metadata or another block.  A hostile image gets a
 * message naming the entry, never a read outside what it describes.
 *
 * New blocks go where the footer sits (the end of the used part of the
 * file): the footer moves behind the block first, then the block's bitmap
 * overwrites the old footer, and the BAT entry is written last.  A crash
 * at any point leaves either the old BAT entry (the block is lost space)
 * or the new one pointing at a block that reads as zeros until its data
 * lands, so no flush is needed between the steps.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "vpc.h"

static bool
is_pow2(uint64_t v)
{
    return v && !(v & (v - 1));
}

static int
read_dynheader(vpc_state *s, uint64_t file_len, vdisk_error *err)
{
    uint64_t off = s->footer.data_offset;
    if (off > file_len || file_len - off < VPC_DYNHDR_SIZE)
        return vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL,
                                    "%s: VHD dynamic disk header at 0x%" PRIx64 " lies outside "
                                    "the file (%" PRIu64 " bytes)", s->name, off, file_len);
    uint8_t buf[VPC_DYNHDR_SIZE];
    int r = vdisk_file_pread(s->file, buf, sizeof(buf), off, err);
    if (r < 0)
        return r;
    r = vpc_dynheader_parse(buf, s->name, &s->dyn, err);
    if (r < 0)
        return r;
    uint32_t bs = s->dyn.block_size;
    if (!is_pow2(bs) || bs < VPC_SECTOR)
        return vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL,
                                    "%s: invalid VHD block size %" PRIu32 " (a power of two of "
                                    "at least 512 expected)", s->name, bs);
    s->block_size = bs;
    /* One bit per sector, stored in whole sectors. */
    s->bitmap_size = (bs / (8 * VPC_SECTOR) + VPC_SECTOR - 1) / VPC_SECTOR * VPC_SECTOR;
    return 0;
}

static int
cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static bool
overlaps(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
    return a < b + blen && b < a + alen;
}

/* The BAT must cover the disk and lie inside the file. */
static int
check_bat_extent(vpc_state *s, uint64_t file_len, vdisk_error *err)
{
    uint64_t need = (s->img->size + s->block_size - 1) / s->block_size;
    uint32_t n = s->dyn.max_table_entries;
    if (n < need)
        return vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL,
                                    "%s: VHD block allocation table has %" PRIu32 " entries, "
                                    "too few for a disk of %" PRIu64 " bytes (%" PRIu64 " blocks of "
                                    "%" PRIu32 ")", s->name, n, s->img->size, need, s->block_size);
    uint64_t bytes = (uint64_t)n * 4;
    uint64_t off = s->dyn.table_offset;
    if (off > file_len || file_len - off < bytes)
        return vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL,
                                    "%s: VHD block allocation table at 0x%" PRIx64 " (%" PRIu32
                                    " entries) lies outside the file (%" PRIu64 " bytes)", s->name, off, n,
                                    file_len);
    /* Allocation writes BAT entries: they must not land on a header. */
    if (overlaps(off, bytes, 0, VPC_FOOTER_SIZE) ||
        overlaps(off, bytes, s->footer.data_offset, VPC_DYNHDR_SIZE))
        return vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL,
                                    "%s: VHD block allocation table at 0x%" PRIx64 " overlaps "
                                    "the VHD headers", s->name, off);
    return 0;
}

/* Every allocated block in the file, clear of the metadata and of each
 * other; sets s->next_block past the last one. */
static int
check_blocks(vpc_state *s, uint64_t file_len, vdisk_error *err)
{
    uint64_t span = (uint64_t)s->bitmap_size + s->block_size;
    uint64_t bat_len = (uint64_t)s->bat_entries * 4;
    uint64_t end = (s->dyn.table_offset + bat_len + VPC_SECTOR - 1) / VPC_SECTOR * VPC_SECTOR;
    uint32_t *sorted = malloc(bat_len ? bat_len : 1);
    if (!sorted)
        return vdisk_error_set(err, ENOMEM, "%s: out of memory for the VHD block table", s->name);
    size_t n = 0;
    for (uint32_t i = 0; i < s->bat_entries; i++) {
        uint32_t e = s->bat[i];
        if (e == VPC_BAT_UNUSED)
            continue;
        uint64_t off = (uint64_t)e * VPC_SECTOR;
        const char *what = NULL;
        if (overlaps(off, span, 0, VPC_FOOTER_SIZE) ||
            overlaps(off, span, s->footer.data_offset, VPC_DYNHDR_SIZE) ||
            overlaps(off, span, s->dyn.table_offset, bat_len))
            what = "overlaps the VHD headers or the block allocation table";
        else if (off > file_len || file_len - off < span)
            what = "lies outside the file";
        if (what) {
            free(sorted);
            return vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL,
                                        "%s: VHD block %" PRIu32 " at 0x%" PRIx64 " %s (%" PRIu64
                                        " bytes)", s->name, i, off, what, file_len);
        }
        if (off + span > end)
            end = off + span;
        sorted[n++] = e;
    }
    qsort(sorted, n, sizeof(*sorted), cmp_u32);
    for (size_t i = 1; i < n; i++)
        if ((uint64_t)(sorted[i] - sorted[i - 1]) * VPC_SECTOR < span) {
            uint32_t e = sorted[i];
            free(sorted);
            return vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL,
                                        "%s: two VHD blocks overlap at 0x%" PRIx64, s->name,
                                        (uint64_t)e * VPC_SECTOR);
        }
    free(sorted);
    s->next_block = end;
    return 0;
}

int
vpc_bat_open(vpc_state *s, uint64_t file_len, vdisk_error *err)
{
    int r = read_dynheader(s, file_len, err);
    if (r == 0)
        r = check_bat_extent(s, file_len, err);
    if (r < 0)
        return r;
    s->bat_entries = s->dyn.max_table_entries;
    size_t bytes = (size_t)s->bat_entries * 4;
    uint8_t *raw = malloc(bytes ? bytes : 1);
    s->bat = malloc(bytes ? bytes : 1);
    if (!raw || !s->bat) {
        free(raw);
        return vdisk_error_set(err, ENOMEM, "%s: out of memory for the VHD block table (%" PRIu32
                               " entries)", s->name, s->bat_entries);
    }
    r = vdisk_file_pread(s->file, raw, bytes, s->dyn.table_offset, err);
    for (uint32_t i = 0; r == 0 && i < s->bat_entries; i++)
        s->bat[i] = vpc_be32(raw + 4 * (size_t)i);
    free(raw);
    return r < 0 ? r : check_blocks(s, file_len, err);
}

uint64_t
vpc_block_offset(const vpc_state *s, uint64_t block)
{
    if (block >= s->bat_entries || s->bat[block] == VPC_BAT_UNUSED)
        return 0;
    return (uint64_t)s->bat[block] * VPC_SECTOR;
}

int
vpc_bat_allocate(vpc_state *s, uint64_t block, uint64_t *bitmap_off, vdisk_error *err)
{
    uint64_t off = s->next_block;
    uint64_t span = (uint64_t)s->bitmap_size + s->block_size;
    if (off / VPC_SECTOR > UINT32_MAX - 1 || (off + span) / VPC_SECTOR > UINT32_MAX)
        return vdisk_error_set_kind(err, VDISK_ERR_NO_SPACE, EFBIG,
                                    "%s: the VHD file cannot grow past 2 TiB", s->name);
    uint64_t file_len;
    int r = vdisk_file_get_length(s->file, &file_len, err);
    /* The footer moves behind the new block. */
    if (r == 0)
        r = vdisk_file_pwrite(s->file, s->footer_raw, VPC_FOOTER_SIZE, off + span, err);
    /* Bytes past the old footer (a file longer than its VHD) must not show
     * through in the new block. */
    if (r == 0 && file_len > off + VPC_FOOTER_SIZE)
        r = vdisk_file_zero(s->file, off + VPC_FOOTER_SIZE, span - VPC_FOOTER_SIZE, true, err);
    uint8_t *bitmap = NULL;
    if (r == 0 && !(bitmap = malloc(s->bitmap_size)))
        r = vdisk_error_set(err, ENOMEM, "%s: out of memory", s->name);
    if (r == 0) {
        /* Every sector of a dynamic disk's block is in this file (QEMU's
         * choice too): the data reads as written, or as zeros. */
        memset(bitmap, 0xff, s->bitmap_size);
        r = vdisk_file_pwrite(s->file, bitmap, s->bitmap_size, off, err);
    }
    free(bitmap);
    uint8_t entry[4];
    vpc_put32(entry, (uint32_t)(off / VPC_SECTOR));
    if (r == 0)
        r = vdisk_file_pwrite(s->file, entry, 4, s->dyn.table_offset + 4 * block, err);
    if (r < 0)
        return r;
    s->bat[block] = (uint32_t)(off / VPC_SECTOR);
    s->next_block = off + span;
    *bitmap_off = off;
    return 0;
}
