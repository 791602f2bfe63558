/* libvdisk internals — what the read-only drivers of other hypervisors'
 * formats share (vdi/, qed/, parallels/): vdisk reads these images (info,
 * convert, compare, map, measure, check) but does not write them, so every
 * write is refused by name and the data extents are described the same way.
 */
#ifndef VDISK_FOREIGN_H
#define VDISK_FOREIGN_H

#include <stdint.h>

#include "driver.h"

/* For a driver's open: refuse a writable open ("disk.vdi: vdisk reads vdi
 * images but does not write them; convert it to qcow2 or raw"). */
int vdisk_foreign_refuse_rdwr(vdisk_image *img, vdisk_error *err);

/* Driver callbacks: every write refused (-EROFS), flush a no-op. */
int vdisk_foreign_pwrite(vdisk_image *img, const void *buf, uint64_t len, uint64_t off,
                         vdisk_error *err);
int vdisk_foreign_write_zeroes(vdisk_image *img, uint64_t len, uint64_t off, unsigned flags,
                               vdisk_error *err);
int vdisk_foreign_discard(vdisk_image *img, uint64_t len, uint64_t off, vdisk_error *err);
int vdisk_foreign_flush(vdisk_image *img, vdisk_error *err);

/* An extent of guest data stored at host offset `host` for `len` bytes:
 * allocated data, marked zero too where the host file has a hole or ends
 * (as QEMU's block status reports it); ext->length may come out shorter. */
int vdisk_foreign_data_extent(vdisk_image *img, uint64_t host, uint64_t len, vdisk_extent *ext,
                              vdisk_error *err);

/* Little-endian fields of on-disk structures. */
static inline uint16_t
vdisk_le16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

static inline uint32_t
vdisk_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint64_t
vdisk_le64(const uint8_t *p)
{
    return (uint64_t)vdisk_le32(p) | (uint64_t)vdisk_le32(p + 4) << 32;
}

#endif
