/* libvdisk internals — the host file under an image layer.
 *
 * Wraps one file descriptor with the things every format driver needs:
 * complete (non-short, EINTR-safe) positional I/O, O_DIRECT alignment
 * handled with bounce buffers, and the Linux space-management calls
 * (fallocate modes, SEEK_DATA/SEEK_HOLE) with capabilities probed once and
 * remembered, nbdkit-style: a fast path that returns EOPNOTSUPP switches
 * itself off and the correct slow path takes over.
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

typedef struct vdisk_file {
    int fd;
    char *path;                 /* for messages */
    bool read_only;
    bool direct;                /* opened with O_DIRECT */
    uint32_t align;             /* offset/length/memory alignment O_DIRECT needs (1 when buffered) */
    atomic_bool can_punch_hole;
    atomic_bool can_zero_range;
    atomic_bool can_fallocate;
    atomic_bool can_seek_data;
    atomic_bool skip_sync;      /* cache=unsafe: vdisk_file_flush does not fdatasync */
    vdisk_lock lock;            /* QEMU-compatible OFD locks held on fd (lock.c) */
} vdisk_file;

/* Open an existing file.  flags: VDISK_OPEN_RDWR, VDISK_OPEN_DIRECT.
 * *out is freed with vdisk_file_close. */
int vdisk_file_open(const char *path, unsigned flags, vdisk_file **out, vdisk_error *err);
/* Create (or truncate) a file for writing a new image: O_RDWR|O_CREAT, mode
 * 0644 less umask, then QEMU's create locks (lock.c) are taken and only then
 * is the file truncated: an image another process has open is refused
 * (-EBUSY) untouched.  nocow: set FS_NOCOW_FL while the file is empty
 * (ignored where the file system has no such flag). */
int vdisk_file_create(const char *path, bool nocow, vdisk_file **out, vdisk_error *err);
void vdisk_file_close(vdisk_file *f);

/* Read exactly len bytes; bytes past the end of the file read as zeros. */
int vdisk_file_pread(vdisk_file *f, void *buf, size_t len, uint64_t off, vdisk_error *err);
/* Write exactly len bytes (extends the file as needed). */
int vdisk_file_pwrite(vdisk_file *f, const void *buf, size_t len, uint64_t off, vdisk_error *err);
int vdisk_file_flush(vdisk_file *f, vdisk_error *err);

int vdisk_file_get_length(vdisk_file *f, uint64_t *len, vdisk_error *err);
int vdisk_file_truncate(vdisk_file *f, uint64_t len, vdisk_error *err);
/* Bytes the file occupies on the host (st_blocks * 512). */
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

/* Data/hole map from SEEK_DATA/SEEK_HOLE: sets *is_data for the extent
 * starting at off and *end to where it stops (at most `limit`).  Without
 * SEEK_DATA support the whole range is reported as data. */
int vdisk_file_extent(vdisk_file *f, uint64_t off, uint64_t limit,
                      bool *is_data, uint64_t *end, vdisk_error *err);

/* Memory aligned for O_DIRECT I/O (4 KiB), zero-initialised when zero is
 * true.  Free with free().  Returns NULL on ENOMEM. */
void *vdisk_alloc_aligned(size_t len, bool zero);

/* Is the buffer all zero bytes? (fast, word at a time) */
bool vdisk_buffer_is_zero(const void *buf, size_t len);

#endif
