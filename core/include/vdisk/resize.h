/* libvdisk — changing the virtual size of an image (qemu-img resize).
 *
 * Growing works for every format: raw files are extended (sparse, or with
 * falloc/full preallocation of the new part), qcow2 images get a larger L1
 * table (moved to new clusters when it no longer fits where it is) and the
 * refcount structures the new part needs.  When the image has a backing
 * file longer than the old size, the new part is made to read as zeros
 * (the backing data must not show through), as QEMU does.
 *
 * Shrinking must be asked for: the data past the new end is dropped (its
 * clusters freed, the file truncated after the last used cluster).  A qcow2
 * image with internal snapshots is never shrunk.  A failed resize leaves
 * the image as it was.
 *
 * vdisk_resize needs the handle to itself: no other call on it meanwhile
 * (image.h, "Thread safety").
 */
#ifndef VDISK_RESIZE_H
#define VDISK_RESIZE_H

#include <stdbool.h>
#include <stdint.h>

#include <vdisk/create.h>
#include <vdisk/error.h>
#include <vdisk/image.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Resize an image opened read-write to `size` bytes (> 0).
 *   shrink    allow size < current size (else -EINVAL)
 *   prealloc  how the new part is provisioned (growing only; metadata is
 *             qcow2 only): off, metadata, falloc, full
 * Progress (bytes of the new part) is reported by full preallocation. */
int vdisk_resize(vdisk_image *img, uint64_t size, bool shrink, vdisk_prealloc prealloc,
                 vdisk_progress_fn progress, void *opaque, vdisk_error *err);

/* The same on a file: open it read-write (fmt UNKNOWN probes), resize,
 * close. */
int vdisk_resize_path(const char *path, vdisk_format fmt, uint64_t size, bool shrink,
                      vdisk_prealloc prealloc, vdisk_progress_fn progress, void *opaque,
                      vdisk_error *err);

#ifdef __cplusplus
}
#endif
#endif
