/* libvdisk — new VHDX images, laid out as qemu-img 7.2 lays them out:
 *
 *   0        file type identifier ("vhdxfile", creator "vdisk")
 *   64 KiB   header 1, 128 KiB header 2 (the current one), empty log
 *   192 KiB  region table, 256 KiB its copy
 *   1 MiB    the log (log_size, default 1 MiB)
 *   then     the BAT (rounded up to 1 MiB), the metadata region (1 MiB),
 *            4 MiB kept free, then the payload.
 *
 * Dynamic: the file ends where the payload starts; blocks are added as the
 * guest writes.  Fixed: the file holds every block; their BAT entries are
 * FULLY_PRESENT at their offsets, or ZERO with block_state_zero=on (QEMU's
 * default), which keeps a new disk reading as zeros without reading its
 * blocks.  preallocation=falloc|full provisions a fixed file's payload.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/crypto.h"
#include "utf16.h"
#include "vhdx.h"

#define SPARE_AFTER_METADATA (4 * VHDX_MIB)
#define SECTOR 512u

uint32_t
vhdx_default_block_size(uint64_t size)
{
    if (size > (UINT64_C(32) << 40))
        return 64u << 20;
    if (size > (UINT64_C(100) << 30))
        return 32u << 20;
    if (size > (UINT64_C(1) << 30))
        return 16u << 20;
    return 8u << 20;
}

static uint64_t
round_mib(uint64_t v)
{
    return (v + VHDX_MIB - 1) / VHDX_MIB * VHDX_MIB;
}

static int
write_identifier(vdisk_file *file, vdisk_error *err)
{
    uint8_t id[8 + 512];
    size_t n = 0;
    memset(id, 0, sizeof(id));
    memcpy(id, "vhdxfile", 8);
    vdisk_utf8_to_utf16("vdisk", false, id + 8, 512, &n);
    return vdisk_file_pwrite(file, id, sizeof(id), 0, err);
}

/* Header 1 with a random sequence number, header 2 one above it. */
static int
write_headers(vdisk_file *file, uint32_t log_size, vdisk_error *err)
{
    vhdx_header h;
    memset(&h, 0, sizeof(h));
    uint32_t seq;
    if (vhdx_guid_generate(&h.file_write) < 0 || vhdx_guid_generate(&h.data_write) < 0 ||
        vdisk_random_id(&seq, sizeof(seq)) < 0)
        return vdisk_error_set(err, EIO, "%s: no random bytes for the VHDX GUIDs", file->path);
    h.seq = seq;
    h.version = 1;
    h.log_length = log_size;
    h.log_offset = VHDX_HEADER_SECTION;
    uint8_t buf[VHDX_HEADER_SIZE];
    vhdx_header_build(&h, buf);
    int r = vdisk_file_pwrite(file, buf, sizeof(buf), VHDX_HEADER1_OFFSET, err);
    h.seq++;
    vhdx_header_build(&h, buf);
    return r < 0 ? r : vdisk_file_pwrite(file, buf, sizeof(buf), VHDX_HEADER2_OFFSET, err);
}

/* The BAT of a new file: ZERO, FULLY_PRESENT or NOT_PRESENT payload
 * entries (see the head of this file). */
static int
write_bat(vdisk_file *file, const vdisk_create_opts *o, uint32_t block, const vhdx_region *bat,
          uint64_t data_start, vdisk_error *err)
{
    uint64_t pb, cr, entries;
    vhdx_bat_geometry(o->size, block, SECTOR, false, &pb, &cr, &entries);
    if (!o->vhdx.fixed && !o->vhdx.block_state_zero)
        return 0;   /* all NOT_PRESENT: the file reads zeros there already */
    uint8_t *buf = calloc(1, bat->length);
    if (!buf)
        return vdisk_error_set(err, ENOMEM, "%s: out of memory for the VHDX BAT", file->path);
    for (uint64_t b = 0; b < pb; b++) {
        uint64_t e = VHDX_PAYLOAD_ZERO;
        if (!o->vhdx.block_state_zero)
            e = round_mib(data_start + b * block) | VHDX_PAYLOAD_FULLY_PRESENT;
        vhdx_put64(buf + 8 * (b + b / cr), e);
    }
    int r = vdisk_file_pwrite(file, buf, bat->length, bat->offset, err);
    free(buf);
    return r;
}

/* The payload of a fixed file, provisioned as asked. */
static int
fixed_payload(vdisk_file *file, const vdisk_create_opts *o, uint64_t start, uint64_t len,
              vdisk_progress_fn progress, void *opaque, vdisk_error *err)
{
    switch (o->prealloc) {
    case VDISK_PREALLOC_FALLOC:
        return vdisk_file_allocate(file, start, len, err);
    case VDISK_PREALLOC_FULL:
        return vdisk_file_write_zeroes_full(file, start, len, progress, opaque, err);
    default:
        return vdisk_file_truncate(file, start + len, err);
    }
}

int
vhdx_create(vdisk_file *file, const vdisk_create_opts *o, vdisk_progress_fn progress, void *opaque,
            vdisk_error *err)
{
    uint32_t block = o->vhdx.block_size ? (uint32_t)o->vhdx.block_size : vhdx_default_block_size(o->size);
    uint32_t log_size = (uint32_t)o->vhdx.log_size;
    uint64_t pb, cr, entries;
    vhdx_bat_geometry(o->size, block, SECTOR, false, &pb, &cr, &entries);
    vhdx_region bat = { round_mib(VHDX_HEADER_SECTION + log_size), (uint32_t)round_mib(entries * 8) };
    vhdx_region meta = { round_mib(bat.offset + bat.length), VHDX_MIB };
    if (entries * 8 > UINT32_MAX - VHDX_MIB)
        return vdisk_error_set_kind(err, VDISK_ERR_INVALID, EFBIG,
                                    "%s: the VHDX BAT would exceed 4 GiB (use a larger block_size)",
                                    file->path);
    uint64_t data_start = bat.offset + bat.length + VHDX_MIB + SPARE_AFTER_METADATA;
    uint8_t *buf = malloc(VHDX_MIB);
    if (!buf)
        return vdisk_error_set(err, ENOMEM, "%s: out of memory", file->path);
    int r = write_identifier(file, err);
    if (r == 0)
        r = write_headers(file, log_size, err);
    if (r == 0) {
        vhdx_region_table_build(&bat, &meta, buf);
        r = vdisk_file_pwrite(file, buf, VHDX_REGION_TABLE_SIZE, VHDX_REGION1_OFFSET, err);
    }
    if (r == 0)
        r = vdisk_file_pwrite(file, buf, VHDX_REGION_TABLE_SIZE, VHDX_REGION2_OFFSET, err);
    if (r == 0 && vhdx_metadata_build(block, o->vhdx.fixed, o->size, SECTOR, buf, VHDX_MIB) < 0)
        r = vdisk_error_set(err, EIO, "%s: no random bytes for the VHDX page 83 data", file->path);
    if (r == 0)
        r = vdisk_file_pwrite(file, buf, VHDX_MIB, meta.offset, err);
    free(buf);
    if (r == 0)
        r = write_bat(file, o, block, &bat, data_start, err);
    if (r == 0 && o->vhdx.fixed)
        r = fixed_payload(file, o, data_start, o->size, progress, opaque, err);
    else if (r == 0)
        r = vdisk_file_truncate(file, data_start, err);
    return r;
}
