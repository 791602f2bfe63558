/* libvdisk — changing an image's provisioning in place, and where its space
 * goes.
 *
 * The three kinds of DESIGN.md's vocabulary, and the moves between them:
 *
 *   thin  --inflate-->  lazy-zeroed thick  --eagerzero-->  eager-zeroed thick
 *   thin  --inflate (VDISK_INFLATE_EAGER)----------------> eager-zeroed thick
 *   thick --sparsify-->  thin
 *
 * inflate    gives every guest byte of the image's own layer host space:
 *            raw holes are reserved with fallocate (or written with zeros,
 *            eager); a qcow2 cluster that has none gets a new host cluster
 *            (metadata first, existing data never moved), as
 *            preallocation=falloc / full would have made it.
 * eagerzero  writes zeros over space that is reserved but was never
 *            written (FIEMAP's unwritten extents; qcow2 zero clusters that
 *            keep their host cluster), so that a guest's first write to it
 *            costs no extent conversion and no metadata update.  Thin ranges
 *            stay thin (inflate with VDISK_INFLATE_EAGER fills them).
 * sparsify   gives back the space of ranges that read as zeros: raw
 *            unwritten extents are punched, qcow2 clusters that read as
 *            zeros (zero clusters with a host cluster, data clusters over
 *            holes or unwritten extents) lose their host cluster.  With
 *            VDISK_SPARSIFY_ZERO_DETECT the data itself is read and blocks or
 *            clusters holding nothing but zero bytes are returned too.
 *
 * What none of them does: change a byte the guest reads.  An overlay's
 * clusters that read from its backing file are left as they are (giving
 * them space would mean copying the backing data up -- rebase, not inflate --
 * or hiding it behind zeros, which changes what the guest reads); clusters
 * shared with internal snapshots and compressed clusters are left too
 * (giving them space of their own would move data).  The result counts
 * them.  Encrypted images are refused (a zero on the host is not a zero in
 * the guest); formats other than raw and qcow2 are refused by name.
 *
 * Every operation takes the image's QEMU-compatible locks exclusively
 * (write and resize not shared): an image a VM, qemu-io or another vdisk
 * has open is refused (-EBUSY, "image is in use"), and nothing else writes
 * while the space is rearranged.  It is safe to interrupt at any point: data
 * reaches the disk before the metadata that names it, a reference is dropped
 * on disk before its refcount, and space is punched only after both, so a
 * crash leaves at worst leaked clusters (qemu-img check -r leaks).  Progress
 * is reported in guest bytes; returning non-zero from it cancels
 * (-ECANCELED, the image consistent, the work done so far kept).
 *
 * Threads (image.h, "Thread safety"): inflate, eagerzero and sparsify need
 * the handle to themselves; vdisk_alloc_map and vdisk_alloc_summary are
 * queries like block status and may run alongside data I/O.
 */
#ifndef VDISK_PROVISION_H
#define VDISK_PROVISION_H

#include <stdint.h>

#include <vdisk/error.h>
#include <vdisk/image.h>

#ifdef __cplusplus
extern "C" {
#endif

enum {
    VDISK_PROVISION_DRY_RUN     = 1u << 0,  /* change nothing, count what would change */
    VDISK_INFLATE_EAGER         = 1u << 1,  /* inflate: write zeros (eager-zeroed thick) */
    VDISK_SPARSIFY_ZERO_DETECT  = 1u << 2,  /* sparsify: also return data that is all zeros */
    VDISK_SPARSIFY_TRUNCATE     = 1u << 3,  /* sparsify, qcow2: cut the file after its last used cluster */
};

typedef struct vdisk_provision_result {
    uint64_t changed;        /* guest bytes whose provisioning changed (dry run: would) */
    uint64_t host_before;    /* host bytes the image file occupied before (st_blocks) */
    uint64_t host_after;     /* ... and after (dry run: the estimate) */
    uint64_t zeroed;         /* bytes of zeros written (inflate --eager, eagerzero) */
    /* Guest bytes left as they are, and why: */
    uint64_t from_backing;   /* read from the backing file */
    uint64_t shared;         /* clusters shared with an internal snapshot */
    uint64_t compressed;     /* compressed clusters (inflate, eagerzero) */
    uint64_t thin;           /* eagerzero: no host space at all (inflate --eager fills it) */
} vdisk_provision_result;

/* Thin -> thick (lazy-zeroed; eager with VDISK_INFLATE_EAGER). */
int vdisk_inflate(vdisk_image *img, unsigned flags, vdisk_progress_fn progress, void *opaque,
                  vdisk_provision_result *res, vdisk_error *err);
/* Lazy-zeroed -> eager-zeroed: reserved, unwritten space gets its zeros. */
int vdisk_eagerzero(vdisk_image *img, unsigned flags, vdisk_progress_fn progress, void *opaque,
                    vdisk_provision_result *res, vdisk_error *err);
/* Thick -> thin: space of ranges reading as zeros goes back to the host. */
int vdisk_sparsify(vdisk_image *img, unsigned flags, vdisk_progress_fn progress, void *opaque,
                   vdisk_provision_result *res, vdisk_error *err);

/* ---- the allocation map ------------------------------------------------- */

/* Where the bytes of a guest range of the image's own layer are. */
typedef enum vdisk_alloc_kind {
    VDISK_ALLOC_DATA = 0,       /* written host blocks hold the data */
    VDISK_ALLOC_RESERVED,       /* host blocks reserved, never written: reads zeros
                                   (unwritten extent; qcow2 zero cluster keeping its host cluster) */
    VDISK_ALLOC_ZERO,           /* reads zeros by metadata alone, no host space (qcow2 zero cluster) */
    VDISK_ALLOC_UNALLOCATED,    /* nothing at all: reads zeros (raw hole, thin qcow2) */
    VDISK_ALLOC_COMPRESSED,     /* qcow2 compressed cluster */
    VDISK_ALLOC_BACKING,        /* nothing in this layer: reads from the backing file */
    VDISK_ALLOC_KINDS
} vdisk_alloc_kind;

/* "data", "reserved", "zero", "unallocated", "compressed", "backing". */
const char *vdisk_alloc_kind_name(vdisk_alloc_kind kind);

/* Called for each run of one kind, in guest order, runs of one kind merged;
 * return non-zero to stop the walk (vdisk_alloc_map returns -ECANCELED). */
typedef int (*vdisk_alloc_fn)(void *opaque, uint64_t off, uint64_t len, vdisk_alloc_kind kind);

/* Walk the guest range [off, off+len) of img's own layer (len 0: to the
 * end).  Asks the image's metadata (block status) and the host file system
 * (FIEMAP) but reads no data. */
int vdisk_alloc_map(vdisk_image *img, uint64_t off, uint64_t len, vdisk_alloc_fn fn,
                    void *opaque, vdisk_error *err);

/* Bytes of each kind over the whole image (bytes[VDISK_ALLOC_KINDS]). */
int vdisk_alloc_summary(vdisk_image *img, uint64_t *bytes, vdisk_error *err);

#ifdef __cplusplus
}
#endif
#endif
