/* libvdisk — qcow2 persistent dirty bitmaps, as `qemu-img bitmap` edits them.
 *
 * The image must be open read-write.  Changes are made in memory and stored
 * when the image is closed (vdisk_close), like every bitmap update; the
 * bitmaps of a qcow2 image are loaded and kept up to date by any writable
 * open (see README, "Persistent dirty bitmaps").  Names are 1 to 1023 bytes.
 *
 * vdisk_bitmap needs the handle to itself: no other call on it meanwhile
 * (image.h, "Thread safety").
 */
#ifndef VDISK_BITMAP_H
#define VDISK_BITMAP_H

#include <stdbool.h>
#include <stdint.h>

#include <vdisk/error.h>
#include <vdisk/image.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum vdisk_bitmap_action {
    VDISK_BITMAP_ADD,       /* new empty bitmap (granularity, disabled) */
    VDISK_BITMAP_REMOVE,
    VDISK_BITMAP_CLEAR,     /* all bits clear */
    VDISK_BITMAP_ENABLE,    /* track writes ("auto") */
    VDISK_BITMAP_DISABLE,
    VDISK_BITMAP_MERGE,     /* set the bits src_name has in src (or img) */
} vdisk_bitmap_action;

typedef struct vdisk_bitmap_op {
    vdisk_bitmap_action action;
    const char *name;
    uint32_t granularity;   /* ADD: bytes per bit, power of 2 >= 512; 0: QEMU's default */
    bool disabled;          /* ADD: start disabled */
    vdisk_image *src;       /* MERGE: image holding src_name; NULL: img itself */
    const char *src_name;   /* MERGE */
} vdisk_bitmap_op;

/* Apply op to img's bitmaps.  Errors in QEMU's words ("Bitmap already
 * exists: b0", "Dirty bitmap 'b0' not found", "Bitmap 'b0' is inconsistent
 * and cannot be used"); -ENOTSUP for formats without bitmaps. */
int vdisk_bitmap(vdisk_image *img, const vdisk_bitmap_op *op, vdisk_error *err);

#ifdef __cplusplus
}
#endif
#endif
