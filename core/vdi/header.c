/* libvdisk — VDI: the header and the block map, checked before use.
 *
 * Every field that later decides an offset or a size is bounded here, so
 * that a hostile header gets a clear error and never a huge allocation:
 * the block map must lie inside the file (its size is then bounded by the
 * file's), and the blocks must cover the disk.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "foreign.h"
#include "vdi.h"

/* Largest block vdisk accepts (VirtualBox uses 1 MiB). */
#define VDI_BLOCK_MAX (64u << 20)

static bool
is_null_uuid(const uint8_t *u)
{
    static const uint8_t zero[16];
    return memcmp(u, zero, 16) == 0;
}

/* Field values into h (no checks). */
static void
decode(const uint8_t *b, vdi_header *h)
{
    h->version = vdisk_le32(b + 0x44);
    h->header_size = vdisk_le32(b + 0x48);
    h->type = vdisk_le32(b + 0x4c);
    h->bmap_offset = vdisk_le32(b + 0x154);
    h->data_offset = vdisk_le32(b + 0x158);
    h->sector_size = vdisk_le32(b + 0x168);
    h->disk_size = vdisk_le64(b + 0x170);
    h->block_size = vdisk_le32(b + 0x178);
    h->block_extra = vdisk_le32(b + 0x17c);
    h->blocks = vdisk_le32(b + 0x180);
    h->blocks_allocated = vdisk_le32(b + 0x184);
    memcpy(h->uuid_link, b + 0x1a8, 16);
    memcpy(h->uuid_parent, b + 0x1b8, 16);
}

/* What this reader supports of the format. */
static int
check_kind(const vdi_header *h, const char *name, vdisk_error *err)
{
    if (h->version != VDI_VERSION_1_1)
        return vdisk_error_set(err, ENOTSUP, "%s: VDI version %u.%u is not supported (vdisk "
                               "reads version 1.1)", name, h->version >> 16, h->version & 0xffff);
    if (h->header_size < VDI_HEADER_MIN_SIZE)
        return vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL,
                                    "%s: VDI header size %u is smaller than the %u bytes "
                                    "of a version 1.1 header", name, h->header_size, VDI_HEADER_MIN_SIZE);
    if (h->type != VDI_TYPE_DYNAMIC && h->type != VDI_TYPE_STATIC)
        return vdisk_error_set(err, ENOTSUP, "%s: VDI image type %u is not supported (vdisk reads "
                               "dynamic and fixed images, not undo or differencing ones)", name,
                               h->type);
    if (!is_null_uuid(h->uuid_link) || !is_null_uuid(h->uuid_parent))
        return vdisk_error_set(err, ENOTSUP, "%s: VDI differencing images (with a parent UUID) "
                               "are not supported; merge the snapshot in VirtualBox first", name);
    if (h->sector_size != VDI_SECTOR)
        return vdisk_error_set(err, ENOTSUP, "%s: VDI sector size %u is not supported (512)", name,
                               h->sector_size);
    if (h->block_extra != 0)
        return vdisk_error_set(err, ENOTSUP, "%s: VDI blocks with %u extra bytes are not supported",
                               name, h->block_extra);
    return 0;
}

/* Sizes and offsets: consistent with each other and with the file. */
static int
check_geometry(const vdi_header *h, const char *name, uint64_t file_size, vdisk_error *err)
{
    uint32_t bs = h->block_size;
    if (bs < VDI_SECTOR || bs > VDI_BLOCK_MAX || (bs & (bs - 1)))
        return vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL,
                                    "%s: VDI block size %u is not a power of two between "
                                    "512 bytes and 64 MiB", name, bs);
    if ((uint64_t)h->blocks * bs < h->disk_size)
        return vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL,
                                    "%s: VDI disk size %llu is larger than its %u blocks "
                                    "of %u bytes", name, (unsigned long long)h->disk_size, h->blocks, bs);
    if (h->blocks_allocated > h->blocks)
        return vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL,
                                    "%s: VDI header counts %u allocated blocks of %u",
                                    name, h->blocks_allocated, h->blocks);
    if (h->bmap_offset % VDI_SECTOR || h->data_offset % VDI_SECTOR)
        return vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL,
                                    "%s: VDI block map offset 0x%x or data offset 0x%x is "
                                    "not sector aligned", name, h->bmap_offset, h->data_offset);
    uint64_t bmap_end = (uint64_t)h->bmap_offset + (uint64_t)h->blocks * 4;
    if (h->bmap_offset < VDI_HEADER_OFFSET + VDI_HEADER_MIN_SIZE || bmap_end > file_size)
        return vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL,
                                    "%s: VDI block map at 0x%x (%u entries) lies outside "
                                    "the file (%llu bytes) or over the header", name, h->bmap_offset,
                                    h->blocks, (unsigned long long)file_size);
    if (h->data_offset < bmap_end)
        return vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL,
                                    "%s: VDI data area at 0x%x overlaps the block map "
                                    "(which ends at 0x%llx)", name, h->data_offset,
                                    (unsigned long long)bmap_end);
    return 0;
}

int
vdi_read_header(vdisk_file *f, const char *name, uint64_t file_size, vdi_header *h,
                vdisk_error *err)
{
    uint8_t b[0x200];
    if (file_size < sizeof(b))
        return vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL,
                                    "%s: too short for a VDI header (%llu bytes)", name,
                                    (unsigned long long)file_size);
    int r = vdisk_file_pread(f, b, sizeof(b), 0, err);
    if (r < 0)
        return r;
    if (vdisk_le32(b + 0x40) != VDI_SIGNATURE)
        return vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL,
                                    "%s: no VDI signature at offset 0x40", name);
    decode(b, h);
    if ((r = check_kind(h, name, err)) < 0)
        return r;
    return check_geometry(h, name, file_size, err);
}

int
vdi_load_bmap(vdisk_file *f, const char *name, vdi_state *s, bool tolerate_bad, vdisk_error *err)
{
    const vdi_header *h = &s->h;
    /* Bounded by the file size (check_geometry). */
    size_t bytes = (size_t)h->blocks * 4;
    uint8_t *raw = malloc(bytes ? bytes : 1);
    s->bmap = malloc(bytes ? bytes : 1);
    if (!raw || !s->bmap) {
        free(raw);
        return vdisk_error_set(err, ENOMEM, "%s: out of memory for a block map of %u entries",
                               name, h->blocks);
    }
    int r = bytes ? vdisk_file_pread(f, raw, bytes, h->bmap_offset, err) : 0;
    for (uint32_t i = 0; r == 0 && i < h->blocks; i++) {
        uint32_t e = vdisk_le32(raw + (size_t)i * 4);
        s->bmap[i] = e;
        if (!vdi_allocated(e) || e < h->blocks)
            continue;
        if (!tolerate_bad)
            r = vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL,
                                     "%s: VDI block map entry %u points at data block %u, "
                                     "past the image's %u blocks", name, i, e, h->blocks);
        s->bad_entries++;
    }
    free(raw);
    return r;
}
