/* libvdisk — changing the options of an existing image, as `qemu-img amend`.
 *
 * vdisk_amend needs the handle to itself: no other call on it meanwhile
 * (image.h, "Thread safety").
 */
#ifndef VDISK_AMEND_H
#define VDISK_AMEND_H

#include <vdisk/error.h>
#include <vdisk/image.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct vdisk_amend_opts {
    int qcow2_version;     /* 0: keep; 2 (compat=0.10) or 3 (compat=1.1) */
    int lazy_refcounts;    /* -1: keep; 0 off; 1 on (qcow2 v3 only) */
    int refcount_bits;     /* 0: keep; 1..64, a power of two (16 only for version 2) */
    uint64_t size;         /* 0: keep; else the new virtual size (grow or shrink) */
    /* As qemu-img amend: the backing file and format can only be "set" to
     * what the image already names; anything else is refused (rebase). */
    const char *backing_file;      /* NULL: not given */
    const char *backing_format;    /* NULL: not given */
    /* vdisk has no external data files: any data_file (even "") and
     * data_file_raw 1 are refused with qemu-img's messages. */
    const char *data_file;         /* NULL: not given */
    int data_file_raw;             /* 0: not given or off; 1: on */
    vdisk_progress_fn progress;    /* optional; fractions of the whole amend */
    void *progress_opaque;
} vdisk_amend_opts;

/* Amend img (open for writing), in QEMU's order: upgrade, refcount width,
 * lazy refcounts, size, downgrade.  What can be refused is checked before
 * anything is written.  Downgrading to version 2 expands zero
 * clusters and is refused for images using version 3 only features
 * (refcount widths other than 16, extended L2, zstd, external data). */
int vdisk_amend(vdisk_image *img, const vdisk_amend_opts *opts, vdisk_error *err);

#ifdef __cplusplus
}
#endif
#endif
