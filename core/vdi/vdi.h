/* libvdisk internals — VirtualBox VDI images (read only).
 *
 * Layout (little endian), as VirtualBox's VDI format defines it:
 *
 *   0x000  pre-header: 64 bytes of text, signature 0xbeda107f, version
 *   0x048  header (version 1.1): size, image type (1 dynamic, 2 static),
 *          flags, comment, block map offset, data offset, legacy geometry
 *          (its sector size), disk size, block size, extra bytes per
 *          block, block count, allocated block count, four UUIDs
 *   ...    block map: one uint32 per block of the disk -- the index of the
 *          block in the data area, 0xffffffff (never written: zeros) or
 *          0xfffffffe (discarded: zeros)
 *   ...    data area: allocated blocks, block i at data offset + i * size
 *
 * Files: header.c (the header and block map, checked), driver.c (the
 * driver table: read, block status, info), check.c (qemu-img check).
 */
#ifndef VDISK_VDI_H
#define VDISK_VDI_H

#include <stdbool.h>
#include <stdint.h>

#include "driver.h"

#define VDI_SIGNATURE 0xbeda107fu
#define VDI_VERSION_1_1 0x00010001u
#define VDI_TYPE_DYNAMIC 1u         /* VirtualBox "normal": blocks allocated on write */
#define VDI_TYPE_STATIC 2u          /* "fixed": every block allocated at creation */
#define VDI_BLOCK_FREE 0xffffffffu  /* never written: reads as zeros */
#define VDI_BLOCK_ZERO 0xfffffffeu  /* discarded: reads as zeros */
/* The header fields vdisk reads end with the parent UUID at 0x1c8. */
#define VDI_HEADER_OFFSET 0x48u
#define VDI_HEADER_MIN_SIZE (0x1c8u - VDI_HEADER_OFFSET)
#define VDI_SECTOR 512u

typedef struct vdi_header {
    uint32_t version;
    uint32_t header_size;
    uint32_t type;
    uint32_t bmap_offset;           /* bytes from the start of the file */
    uint32_t data_offset;
    uint32_t sector_size;           /* of the legacy geometry: must be 512 */
    uint64_t disk_size;             /* as stored (may be odd) */
    uint32_t block_size;
    uint32_t block_extra;
    uint32_t blocks;
    uint32_t blocks_allocated;
    uint8_t uuid_link[16];          /* a differencing image's parent link */
    uint8_t uuid_parent[16];
} vdi_header;

typedef struct vdi_state {
    vdi_header h;
    uint32_t *bmap;                 /* h.blocks entries, host byte order */
    uint64_t file_size;
    uint64_t bad_entries;           /* entries past the block count (VDISK_OPEN_CHECK opens) */
} vdi_state;

/* Read and check the header of img->file into s->h (name: for messages). */
int vdi_read_header(vdisk_file *f, const char *name, uint64_t file_size, vdi_header *h,
                    vdisk_error *err);
/* Load the block map; an entry past the block count fails unless
 * tolerate_bad (a check open), which counts them in s->bad_entries. */
int vdi_load_bmap(vdisk_file *f, const char *name, vdi_state *s, bool tolerate_bad,
                  vdisk_error *err);
/* Is a block map entry an allocated block? */
static inline bool
vdi_allocated(uint32_t entry)
{
    return entry != VDI_BLOCK_FREE && entry != VDI_BLOCK_ZERO;
}

/* qemu-img check (check.c). */
int vdi_check(vdisk_image *img, unsigned fix, vdisk_check_result *res,
              vdisk_check_report_fn report, vdisk_progress_fn progress, void *opaque,
              vdisk_error *err);

#endif
