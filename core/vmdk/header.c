/* libvdisk — VMDK sparse extent headers and stream markers, byte by byte.
 *
 * Virtual Disk Format 5.0, "Hosted Sparse Extent Header": a packed
 * little-endian SparseExtentHeader in the first sector, magic "KDMV"
 * (0x564d444b read little endian).  The four newline test bytes let a
 * reader see whether a transfer mangled line endings ("\n", " ", "\r\n").
 * ESX 2/3 sparse extents ("COWD", vmfsSparse delta disks) have their own,
 * shorter header.  Markers (streamOptimized) are 12 bytes for a grain
 * (lba, compressed size) and a whole sector for metadata (sector count,
 * size 0, type).
 */
#include <string.h>

#include "vmdk.h"

uint32_t
vmdk_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

uint64_t
vmdk_le64(const uint8_t *p)
{
    return (uint64_t)vmdk_le32(p) | (uint64_t)vmdk_le32(p + 4) << 32;
}

void
vmdk_put_le32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

void
vmdk_put_le64(uint8_t *p, uint64_t v)
{
    vmdk_put_le32(p, (uint32_t)v);
    vmdk_put_le32(p + 4, (uint32_t)(v >> 32));
}

static uint16_t
le16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

bool
vmdk_is_sparse_magic(const uint8_t *p)
{
    return memcmp(p, "KDMV", 4) == 0;
}

bool
vmdk_is_cowd_magic(const uint8_t *p)
{
    return memcmp(p, "COWD", 4) == 0;
}

/* Field offsets of SparseExtentHeader. */
enum {
    H_VERSION = 4, H_FLAGS = 8, H_CAPACITY = 12, H_GRAIN = 20, H_DESC_OFFSET = 28,
    H_DESC_SIZE = 36, H_GT_ENTRIES = 44, H_RGD = 48, H_GD = 56, H_OVERHEAD = 64,
    H_UNCLEAN = 72, H_NL = 73, H_COMPRESS = 77,
};

void
vmdk_header_decode(const uint8_t sector[VMDK_SECTOR], vmdk_header *h)
{
    h->version = vmdk_le32(sector + H_VERSION);
    h->flags = vmdk_le32(sector + H_FLAGS);
    h->capacity = vmdk_le64(sector + H_CAPACITY);
    h->grain_sectors = vmdk_le64(sector + H_GRAIN);
    h->desc_offset = vmdk_le64(sector + H_DESC_OFFSET);
    h->desc_size = vmdk_le64(sector + H_DESC_SIZE);
    h->gt_entries = vmdk_le32(sector + H_GT_ENTRIES);
    h->rgd_offset = vmdk_le64(sector + H_RGD);
    h->gd_offset = vmdk_le64(sector + H_GD);
    h->overhead = vmdk_le64(sector + H_OVERHEAD);
    h->unclean = sector[H_UNCLEAN];
    h->compress = le16(sector + H_COMPRESS);
}

void
vmdk_header_encode(const vmdk_header *h, uint8_t sector[VMDK_SECTOR])
{
    memset(sector, 0, VMDK_SECTOR);
    memcpy(sector, "KDMV", 4);
    vmdk_put_le32(sector + H_VERSION, h->version);
    vmdk_put_le32(sector + H_FLAGS, h->flags);
    vmdk_put_le64(sector + H_CAPACITY, h->capacity);
    vmdk_put_le64(sector + H_GRAIN, h->grain_sectors);
    vmdk_put_le64(sector + H_DESC_OFFSET, h->desc_offset);
    vmdk_put_le64(sector + H_DESC_SIZE, h->desc_size);
    vmdk_put_le32(sector + H_GT_ENTRIES, h->gt_entries);
    vmdk_put_le64(sector + H_RGD, h->rgd_offset);
    vmdk_put_le64(sector + H_GD, h->gd_offset);
    vmdk_put_le64(sector + H_OVERHEAD, h->overhead);
    sector[H_UNCLEAN] = h->unclean;
    memcpy(sector + H_NL, "\n \r\n", 4);
    sector[H_COMPRESS] = (uint8_t)h->compress;
    sector[H_COMPRESS + 1] = (uint8_t)(h->compress >> 8);
}

/* COWD: version, flags, capacity, granularity, GD offset, GD entries (all
 * 32-bit, after the magic). */
void
vmdk_cowd_decode(const uint8_t sector[VMDK_SECTOR], vmdk_cowd_header *h)
{
    h->version = vmdk_le32(sector + 4);
    h->flags = vmdk_le32(sector + 8);
    h->capacity = vmdk_le32(sector + 12);
    h->grain_sectors = vmdk_le32(sector + 16);
    h->gd_offset = vmdk_le32(sector + 20);
    h->gd_entries = vmdk_le32(sector + 24);
}

void
vmdk_marker_decode(const uint8_t *p, vmdk_marker *m)
{
    m->value = vmdk_le64(p);
    m->size = vmdk_le32(p + 8);
    m->type = vmdk_le32(p + 12);
}

void
vmdk_marker_encode_meta(uint64_t sectors, uint32_t type, uint8_t sector[VMDK_SECTOR])
{
    memset(sector, 0, VMDK_SECTOR);
    vmdk_put_le64(sector, sectors);
    vmdk_put_le32(sector + 12, type);
}
