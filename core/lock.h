/* libvdisk internals — QEMU-compatible image locking.
 *
 * QEMU (block/file-posix.c) advertises what an open file description does
 * with an image through shared OFD byte-range locks on the image file:
 *
 *   byte 100 + N   held while permission N is in use
 *   byte 200 + N   held while permission N is NOT shared with others
 *
 * with QEMU's permission numbering (include/block/block-common.h):
 * consistent read = 0, write = 1, write unchanged = 2, resize = 3.  Before
 * taking a permission a process checks that nobody holds the matching
 * "not shared" byte, and before refusing to share one that nobody holds
 * it; it takes its own bytes first, so two processes racing see each other.
 * vdisk takes exactly the bytes QEMU's tools take for the same kind of
 * open, so vdisk and qemu-img / qemu-io / qemu-nbd / a VM keep out of each
 * other's way.
 *
 * OFD locks belong to the open file description: they go away when the
 * descriptor is closed, and two descriptors of one process conflict just as
 * two processes do.
 */
#ifndef VDISK_LOCK_H
#define VDISK_LOCK_H

#include <stdbool.h>

#include <vdisk/error.h>
#include <vdisk/image.h>

enum {
    VDISK_PERM_CONSISTENT_READ = 1u << 0,
    VDISK_PERM_WRITE           = 1u << 1,
    VDISK_PERM_WRITE_UNCHANGED = 1u << 2,
    VDISK_PERM_RESIZE          = 1u << 3,
    VDISK_PERM_ALL             = 0xfu,
};

#define VDISK_LOCK_PERM_BASE 100
#define VDISK_LOCK_SHARED_BASE 200

/* Internal vdisk_open flag: do not share write/resize with others, as
 * qemu-img convert opens its source (BDRV_O_NO_SHARE).  Not in the public
 * VDISK_OPEN_* range. */
#define VDISK_OPEN_NO_SHARE (1u << 24)

/* What one descriptor holds. */
typedef struct vdisk_lock {
    bool active;        /* locks are in use on this descriptor */
    unsigned perm;      /* VDISK_PERM_* held (bytes 100+N) */
    unsigned shared;    /* VDISK_PERM_* shared (bytes 200+N held for the others) */
} vdisk_lock;

/* The permissions QEMU's tools take for an open of an image of format fmt
 * with VDISK_OPEN_* flags (backing files are opened read-only):
 *   read-only raw        perm consistent-read, shares everything
 *   read-only qcow2      perm consistent-read, does not share write, resize
 *   read-write raw       perm consistent-read + write, shares everything
 *   read-write qcow2     perm consistent-read + write + resize, does not share write, resize
 *   force share          perm consistent-read, shares everything
 *   no share             additionally does not share write, resize */
void vdisk_lock_perms_for_open(vdisk_format fmt, unsigned flags, unsigned *perm,
                               unsigned *shared);
/* What creating (truncating) an image file takes: write + resize, resize
 * not shared. */
void vdisk_lock_perms_for_create(unsigned *perm, unsigned *shared);

/* Take the locks for perm/shared on fd (path for messages) and check that
 * no other descriptor conflicts; *lk is updated to what is held.  On a
 * conflict the previous locks are restored and -EBUSY is returned with
 * "PATH: image is in use: Failed to get "write" lock. Is another process
 * using the image [PATH]? ..." (QEMU's words, with the path in front).  A kernel
 * without OFD locks leaves *lk inactive and succeeds (QEMU's locking=auto). */
int vdisk_lock_acquire(int fd, const char *path, vdisk_lock *lk, unsigned perm,
                       unsigned shared, vdisk_error *err);
/* Drop every lock byte held (closing the descriptor does the same). */
void vdisk_lock_release(int fd, vdisk_lock *lk);

/* Would taking perm/shared on fd conflict with another descriptor?
 * 0 if not; -EBUSY with the message vdisk_lock_acquire would give. */
int vdisk_lock_check(int fd, const char *path, unsigned perm, unsigned shared,
                     vdisk_error *err);

/* "consistent read", "write", "write unchanged", "resize". */
const char *vdisk_lock_perm_name(unsigned perm_bit);

#endif
