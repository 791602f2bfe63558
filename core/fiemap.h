/* libvdisk internals — how the host file system holds a byte range:
 * a hole, blocks reserved but never written (FIEMAP's UNWRITTEN extents,
 * what fallocate leaves), or written blocks.
 *
 * SEEK_DATA/SEEK_HOLE cannot tell the first two apart (ext4 and XFS report
 * unwritten extents as holes), and provisioning must: a lazy-zeroed thick
 * file is all unwritten extents, a thin one all holes.  FIEMAP does; where
 * the file system has no FIEMAP (tmpfs), SEEK_DATA/SEEK_HOLE answers and no
 * range is ever reported unwritten.
 */
#ifndef VDISK_FIEMAP_H
#define VDISK_FIEMAP_H

#include <stdint.h>

#include "file.h"

typedef enum vdisk_host_kind {
    VDISK_HOST_HOLE,        /* no blocks: reads zeros, takes no space */
    VDISK_HOST_UNWRITTEN,   /* blocks reserved, never written: reads zeros */
    VDISK_HOST_DATA,        /* written blocks (or delayed allocation) */
} vdisk_host_kind;

/* The kind of the host range starting at off and where it ends (*end <=
 * limit, > off).  Dirty page-cache data is written back first, so that a
 * write not yet on disk is never mistaken for an unwritten extent. */
int vdisk_host_extent(vdisk_file *f, uint64_t off, uint64_t limit, vdisk_host_kind *kind,
                      uint64_t *end, vdisk_error *err);

/* Bytes of [off, off+len) that hold blocks (unwritten or written): what
 * punching the range would give back. */
int vdisk_host_allocated(vdisk_file *f, uint64_t off, uint64_t len, uint64_t *bytes,
                         vdisk_error *err);

/* Is every byte of [off, off+len) a hole or unwritten (reads zeros without
 * reading anything)? */
int vdisk_host_reads_zero(vdisk_file *f, uint64_t off, uint64_t len, bool *zero,
                          vdisk_error *err);

#endif
