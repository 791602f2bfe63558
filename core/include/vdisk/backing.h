/* libvdisk — backing chains: pointing an overlay at another backing file
 * (qemu-img rebase) and merging an overlay into the image below it
 * (qemu-img commit).
 *
 * Names of backing files are stored as given; relative names are resolved
 * against the directory of the overlay naming them (see
 * vdisk_resolve_backing_name).
 *
 * vdisk_rebase and vdisk_commit need their handles to themselves: no other
 * call on them meanwhile (image.h, "Thread safety").
 */
#ifndef VDISK_BACKING_H
#define VDISK_BACKING_H

#include <stdbool.h>
#include <stdint.h>

#include <vdisk/error.h>
#include <vdisk/image.h>

#ifdef __cplusplus
extern "C" {
#endif

enum {
    VDISK_REBASE_UNSAFE = 1u << 0,          /* qemu-img rebase -u (below) */
    VDISK_REBASE_ZEROS_AS_DATA = 1u << 1,   /* safe mode copies zeros the old backing
                                             * file reads (before its end) as data,
                                             * as qemu-img 7.2 does, where it would
                                             * otherwise write zero clusters */
};

/* Make `overlay` (opened read-write) name `backing` (NULL or "": no backing
 * file) of format `fmt` (RAW or QCOW2; must be named when backing is set).
 * flags (VDISK_REBASE_*):
 *   UNSAFE  only rewrite the header (qemu-img rebase -u): the guest-visible
 *           content changes if the old and new backing files differ
 *   else    (safe) first copy into the overlay every range it does not
 *           allocate itself where the old and the new backing files read
 *           differently, so the guest sees the same bytes afterwards (where
 *           the old one reads zeros: zero clusters, or with ZEROS_AS_DATA
 *           allocated clusters of zeros); the overlay must have been opened
 *           with its backing chain
 * Progress is in bytes of the overlay's virtual size. */
int vdisk_rebase(vdisk_image *overlay, const char *backing, vdisk_format fmt, unsigned flags,
                 vdisk_progress_fn progress, void *opaque, vdisk_error *err);

/* As vdisk_rebase with VDISK_REBASE_UNSAFE, for a backing format vdisk
 * does not open but QEMU does (qemu-img rebase -u -F host_device: a
 * block device behind a QEMU protocol driver): only the header changes,
 * naming `backing` and the format `fmt_name` (1 to 32 characters of
 * [a-z0-9_-]).  Opening the overlay with its backing chain later fails
 * with the format's name, as it would for any format vdisk does not read. */
int vdisk_rebase_unsafe_named(vdisk_image *overlay, const char *backing, const char *fmt_name,
                              vdisk_error *err);

/* Find the image of overlay's backing chain (below overlay) that `name`
 * designates: the name stored in the overlay above it, its resolved path,
 * or the same file.  NULL if none. */
vdisk_image *vdisk_find_backing(vdisk_image *overlay, const char *name);

/* Write the data the layers from `overlay` down to (not including) `base`
 * define into `base` (NULL: overlay's immediate backing file), growing base
 * when it is smaller.  Base is reopened read-write for the duration.
 *   drop  false: afterwards empty the overlay (every cluster unallocated,
 *         so it reads through to the base), as qemu-img commit without -d;
 *         true: leave the overlay as it is (-d; implied when base is not the
 *         immediate backing file, as in qemu-img)
 * Progress is in bytes of the overlay's virtual size. */
int vdisk_commit(vdisk_image *overlay, vdisk_image *base, bool drop,
                 vdisk_progress_fn progress, void *opaque, vdisk_error *err);

#ifdef __cplusplus
}
#endif
#endif
