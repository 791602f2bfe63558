/* libvdisk internals — the host bytes under an image layer.
 *
 * A vdisk_file is what a format driver reads and writes: a handle over one
 * protocol driver (protocol/protocol.h: a host file, an RBD image, an NBD
 * export), chosen by the image name.  Every function here dispatches to
 * that table, so format drivers never know where their bytes live.
 *
 * The file protocol gives complete (non-short, EINTR-safe) positional I/O,
 * O_DIRECT alignment handled with bounce buffers, and the Linux
 * space-management calls (fallocate modes, SEEK_DATA/SEEK_HOLE) with
 * capabilities probed once and remembered, nbdkit-style: a fast path that
 * returns EOPNOTSUPP switches itself off and the correct slow path takes
 * over.
 *
 * Every function is safe to call from several threads at once, except that
 * two unaligned O_DIRECT writes into the same alignment block may race (the
 * drivers never issue those).
 */
#ifndef VDISK_FILE_H
#define VDISK_FILE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <vdisk/error.h>
#include <vdisk/image.h>

#include "lock.h"

struct vdisk_protocol;

typedef struct vdisk_file {
    const struct vdisk_protocol *proto;   /* protocol/protocol.h */
    void *priv;                 /* the protocol's state */
    char *path;                 /* the image name as opened (for messages) */
    bool read_only;
    bool direct;                /* opened with O_DIRECT (file protocol only) */
    uint32_t align;             /* offset/length/memory alignment O_DIRECT needs (1 when buffered) */
    atomic_bool skip_sync;      /* cache=unsafe: vdisk_file_flush does not sync */
    unsigned lock_perm;         /* QEMU permissions asked of proto->lock (lock.h) */
    unsigned lock_shared;
} vdisk_file;

/* Open an existing image by name (a path, rbd:..., nbd://...).  flags:
 * VDISK_OPEN_RDWR, VDISK_OPEN_DIRECT.  *out is freed with vdisk_file_close. */
int vdisk_file_open(const char *path, unsigned flags, vdisk_file **out, vdisk_error *err);
/* Create (or truncate) a file for writing a new image: O_RDWR|O_CREAT, mode
 * 0644 less umask, then QEMU's create locks (lock.c) are taken and only then
 * is the file truncated: an image another process has open is refused
 * (-EBUSY) untouched.  nocow: set FS_NOCOW_FL while the file is empty
 * (ignored where the file system has no such flag). */
int vdisk_file_create(const char *path, bool nocow, vdisk_file **out, vdisk_error *err);
void vdisk_file_close(vdisk_file *f);
/* Close a handle from vdisk_file_create whose image could not be finished,
 * and delete that image where the protocol can (never a device node). */
void vdisk_file_abandon(vdisk_file *f);
/* Delete an image made by vdisk_create that failed afterwards (convert's
 * target): a regular file, an RBD image; nothing for NBD exports. */
void vdisk_file_remove(const char *name);
/* Does `name` designate the image behind f (same file, same RBD image,
 * same NBD export)? */
bool vdisk_file_same_as(vdisk_file *f, const char *name);
/* Does a newly created image here read as zeros where nothing was written
 * (a regular file, an RBD image), or may it hold old data (a device, an
 * NBD export)? */
bool vdisk_file_has_zero_init(vdisk_file *f);
/* The protocol's name: "file", "rbd", "nbd". */
const char *vdisk_file_protocol(const vdisk_file *f);

/* Hold QEMU's permissions perm / not-shared ~shared (lock.h) on the image:
 * OFD lock bytes on a host file, RBD's exclusive lock when perm has write
 * or resize; nothing on NBD.  -EBUSY ("image is in use") on a conflict. */
int vdisk_file_lock(vdisk_file *f, unsigned perm, unsigned shared, vdisk_error *err);
/* Add permissions to those held (no-op when held or when unlocked). */
int vdisk_file_add_perms(vdisk_file *f, unsigned perm, vdisk_error *err);

/* The host descriptor for fast paths (copy_file_range); -1 when the image
 * is not a host file. */
int vdisk_file_host_fd(vdisk_file *f);
/* Start writeback of what was written so far without waiting (a hint;
 * host files only). */
void vdisk_file_start_writeback(vdisk_file *f);
/* The file will be read front to back: larger read-ahead (a hint; host
 * files only). */
void vdisk_file_advise_sequential(vdisk_file *f);

/* Read exactly len bytes; bytes past the end of the file read as zeros. */
int vdisk_file_pread(vdisk_file *f, void *buf, size_t len, uint64_t off, vdisk_error *err);
/* Write exactly len bytes (extends the file as needed). */
int vdisk_file_pwrite(vdisk_file *f, const void *buf, size_t len, uint64_t off, vdisk_error *err);
int vdisk_file_flush(vdisk_file *f, vdisk_error *err);

int vdisk_file_get_length(vdisk_file *f, uint64_t *len, vdisk_error *err);
int vdisk_file_truncate(vdisk_file *f, uint64_t len, vdisk_error *err);
/* Bytes the image occupies on its storage (st_blocks * 512 for a file);
 * -ENOTSUP where the protocol cannot tell (NBD). */
int vdisk_file_allocated(vdisk_file *f, uint64_t *bytes, vdisk_error *err);

/* Reserve blocks for [off, off+len) without writing them (lazy-zeroed
 * thick); extends the file.  -ENOTSUP when the file system cannot. */
int vdisk_file_allocate(vdisk_file *f, uint64_t off, uint64_t len, vdisk_error *err);
/* Make [off, off+len) read as zeros.  may_unmap: a hole is acceptable
 * (punch); otherwise blocks stay allocated (FALLOC_FL_ZERO_RANGE, falling
 * back to writing zeros). */
int vdisk_file_zero(vdisk_file *f, uint64_t off, uint64_t len, bool may_unmap, vdisk_error *err);
/* Deallocate [off, off+len) (punch a hole).  -ENOTSUP when impossible. */
int vdisk_file_punch_hole(vdisk_file *f, uint64_t off, uint64_t len, vdisk_error *err);
/* Eager-zeroed thick: [off, off+len) really allocated and reading as
 * zeros, the fastest way for where the file lives: a block device zeroes
 * itself (BLKZEROOUT); on tmpfs fallocate allocates the pages themselves;
 * elsewhere (ext4, xfs, ...) fallocate, then zeros written in large
 * aligned chunks.  Reports progress (bytes done, total len); returns
 * -ECANCELED if progress asks to stop. */
int vdisk_file_write_zeroes_full(vdisk_file *f, uint64_t off, uint64_t len,
                                 vdisk_progress_fn progress, void *opaque,
                                 vdisk_error *err);

/* Data/hole map (SEEK_DATA/SEEK_HOLE, RBD's diff, NBD's base:allocation): sets *is_data for the extent
 * starting at off and *end to where it stops (at most `limit`).  Without
 * a map the whole range is reported as data. */
int vdisk_file_extent(vdisk_file *f, uint64_t off, uint64_t limit,
                      bool *is_data, uint64_t *end, vdisk_error *err);

/* Block status of the storage itself: VDISK_EXTENT_ALLOCATED, _DATA and
 * _ZERO of the run from off to *end (<= limit).  Where the protocol has
 * only a data/hole map, a hole is allocated zeros. */
int vdisk_file_status(vdisk_file *f, uint64_t off, uint64_t limit,
                      unsigned *flags, uint64_t *end, vdisk_error *err);

/* Memory aligned for O_DIRECT I/O (4 KiB), zero-initialised when zero is
 * true.  Free with free().  Returns NULL on ENOMEM. */
void *vdisk_alloc_aligned(size_t len, bool zero);

/* Is the buffer all zero bytes? (fast, word at a time) */
bool vdisk_buffer_is_zero(const void *buf, size_t len);

#endif
