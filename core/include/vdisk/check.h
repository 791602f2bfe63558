/* libvdisk — image consistency check and repair (qemu-img check).
 *
 * vdisk_check walks an image's metadata, counts what it finds in the same
 * categories as `qemu-img check` and, when asked, repairs it as QEMU does:
 * leaked clusters get their refcounts lowered (VDISK_CHECK_FIX_LEAKS);
 * refcounts that are too low, wrong OFLAG_COPIED flags and refcount
 * structures that cannot be trusted are rebuilt (VDISK_CHECK_FIX_ERRORS).
 *
 * The image must be opened with VDISK_OPEN_CHECK (and VDISK_OPEN_RDWR to
 * repair): such an open accepts images marked dirty or corrupt and leaves
 * per-entry table damage for the check to report instead of refusing.
 *
 * vdisk_check needs the handle to itself: no other call on it meanwhile
 * (image.h, "Thread safety").
 */
#ifndef VDISK_CHECK_H
#define VDISK_CHECK_H

#include <stdint.h>

#include <vdisk/error.h>
#include <vdisk/image.h>

#ifdef __cplusplus
extern "C" {
#endif

enum {
    VDISK_CHECK_FIX_LEAKS  = 1u << 0,   /* -r leaks */
    VDISK_CHECK_FIX_ERRORS = 1u << 1,   /* with FIX_LEAKS: -r all */
    VDISK_CHECK_QEMU_LINES = 1u << 2,   /* report only what qemu-img check reports:
                                         * none of libvdisk's own findings beyond
                                         * it (qcow2: which structures overlap) */
};

/* The counts qemu-img check reports (its ImageCheck fields). */
typedef struct vdisk_check_result {
    uint64_t corruptions;          /* references the refcounts do not cover, bad entries */
    uint64_t leaks;                /* clusters with refcounts but no reference */
    uint64_t check_errors;         /* the check itself could not read or write something */
    uint64_t corruptions_fixed;
    uint64_t leaks_fixed;
    uint64_t image_end_offset;     /* end of the last cluster in use (bytes) */
    uint64_t total_clusters;       /* clusters of the virtual disk */
    uint64_t allocated_clusters;   /* of those, allocated in this image (active L1) */
    uint64_t fragmented_clusters;  /* allocated clusters not right after their predecessor */
    uint64_t compressed_clusters;
} vdisk_check_result;

/* One finding, as one line of text without newline ("Leaked cluster 8
 * refcount=2 reference=1"); qemu-img prints these to stderr. */
typedef void (*vdisk_check_report_fn)(void *opaque, const char *line);

/* Check img (and repair it with VDISK_CHECK_FIX_* in fix).  Fills *res.
 * Returns 0 when the check ran to the end, whatever it found; a negative
 * errno when it could not (res->check_errors says how far it got):
 * -ENOTSUP for formats that have nothing to check (raw), -EROFS when fix is
 * asked of a read-only handle.  report and progress may be NULL; progress
 * counts the tables walked and may cancel (-ECANCELED). */
int vdisk_check(vdisk_image *img, unsigned fix, vdisk_check_result *res,
                vdisk_check_report_fn report, vdisk_progress_fn progress,
                void *opaque, vdisk_error *err);

#ifdef __cplusplus
}
#endif
#endif
