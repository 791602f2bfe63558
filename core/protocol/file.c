/* libvdisk — the file protocol: a host file or block device (POSIX).
 *
 * Complete positional I/O, O_DIRECT bounce buffers for unaligned requests,
 * fallocate modes and SEEK_DATA/SEEK_HOLE with capabilities probed once
 * (a fast path that answers EOPNOTSUPP switches itself off), and the
 * QEMU-compatible OFD image locks of lock.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <linux/magic.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "file.h"
#include "protocol.h"

#define DIRECT_ALIGN 4096u
/* BLKZEROOUT piece: progress and cancellation between pieces. */
#define BLKZERO_CHUNK (64u << 20)

typedef struct posix_file {
    int fd;
    atomic_bool can_punch_hole;
    atomic_bool can_zero_range;
    atomic_bool can_fallocate;
    atomic_bool can_seek_data;
    vdisk_lock lock;            /* QEMU-compatible OFD locks held on fd (lock.c) */
    /* O_DIRECT only: an unaligned write reads its aligned blocks, merges
     * and writes them back (bounce_io), then may cut the file back to its
     * length; it holds this lock exclusively, every other change of the
     * file (aligned writes, zeroing, holes, allocation, truncation) holds
     * it shared.  Otherwise a write or a zeroing of other bytes of the
     * same block, landing between the read and the write back, would be
     * undone, and the cut could drop a concurrent allocation past the end. */
    pthread_rwlock_t io_lock;
} posix_file;

static int
fd_of(vdisk_file *f)
{
    return ((posix_file *)f->priv)->fd;
}

static int
attach(vdisk_file *f, int fd, bool direct, vdisk_error *err)
{
    posix_file *p = calloc(1, sizeof(*p));
    if (!p)
        return vdisk_error_set(err, ENOMEM, "%s: out of memory", f->path);
    p->fd = fd;
    pthread_rwlock_init(&p->io_lock, NULL);
    atomic_init(&p->can_punch_hole, true);
    atomic_init(&p->can_zero_range, true);
    atomic_init(&p->can_fallocate, true);
    atomic_init(&p->can_seek_data, true);
    f->priv = p;
    f->direct = direct;
    f->align = direct ? DIRECT_ALIGN : 1;
    return 0;
}

/* Open an existing file or device. */
static int
file_open(vdisk_file *f, const vdisk_location *loc, unsigned flags, vdisk_error *err)
{
    bool rw = flags & VDISK_OPEN_RDWR;
    bool direct = flags & VDISK_OPEN_DIRECT;
    int oflags = (rw ? O_RDWR : O_RDONLY) | O_CLOEXEC | (direct ? O_DIRECT : 0);
    int fd = open(loc->path, oflags);
    if (fd < 0) {
        int r = vdisk_error_set_errno(err, errno, "Could not open '%s'", f->path);
        vdisk_error_name(err, f->path);
        return r;
    }
    struct stat st;
    if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
        close(fd);
        return vdisk_error_set(err, EISDIR, "%s: is a directory, not an image", f->path);
    }
    int r = attach(f, fd, direct, err);
    if (r < 0)
        close(fd);
    return r;
}

/* Only effective on an empty file; file systems without the flag (ext4,
 * xfs) reject the ioctl, which is fine: they do not COW. */
static void
set_nocow(int fd)
{
    int attr = 0;
    if (ioctl(fd, FS_IOC_GETFLAGS, &attr) == 0) {
        attr |= FS_NOCOW_FL;
        (void)ioctl(fd, FS_IOC_SETFLAGS, &attr);
    }
}

/* Create or take over a file: QEMU's create locks first, and only then is
 * the old content truncated, so an image another process has open is
 * refused untouched. */
static int
file_create(vdisk_file *f, const vdisk_location *loc, bool nocow, vdisk_error *err)
{
    const char *path = loc->path;
    bool created = true;
    int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0 && errno == EEXIST) {
        created = false;
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    }
    if (fd < 0)
        return vdisk_error_set_errno(err, errno, "%s: cannot create", f->path);
    int r = attach(f, fd, false, err);
    if (r < 0) {
        close(fd);
        if (created)
            unlink(path);
        return r;
    }
    posix_file *p = f->priv;
    unsigned perm, shared;
    vdisk_lock_perms_for_create(&perm, &shared);
    r = vdisk_lock_acquire(fd, f->path, &p->lock, perm, shared, err);
    struct stat st;
    /* Only now may the old content go; a device keeps its size. */
    if (r == 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && ftruncate(fd, 0) < 0)
        r = vdisk_error_set_errno(err, errno, "%s: cannot truncate", f->path);
    if (r < 0) {
        close(fd);
        pthread_rwlock_destroy(&p->io_lock);
        free(p);
        f->priv = NULL;
        if (created)
            unlink(path);   /* nothing half-made; an existing file stays as it was */
        return r;
    }
    f->lock_perm = perm;
    f->lock_shared = shared;
    if (nocow)
        set_nocow(fd);
    return 0;
}

/* Close the descriptor (its OFD locks go with it). */
static void
file_close(vdisk_file *f)
{
    posix_file *p = f->priv;
    if (!p)
        return;
    close(p->fd);
    pthread_rwlock_destroy(&p->io_lock);
    free(p);
    f->priv = NULL;
}

/* Unlink a file we were writing -- never a device node or anything else
 * that is not a plain file. */
static void
file_remove_created(vdisk_file *f)
{
    struct stat st;
    /* f->path is the name as given: "file:PATH" names PATH (location.c) */
    const char *path = strncmp(f->path, "file:", 5) == 0 ? f->path + 5 : f->path;
    if (fstat(fd_of(f), &st) == 0 && S_ISREG(st.st_mode))
        unlink(path);
}

/* Unlink a regular file by name (not what a symlink points to). */
static void
file_remove(const vdisk_location *loc)
{
    struct stat st;
    if (lstat(loc->path, &st) == 0 && S_ISREG(st.st_mode))
        unlink(loc->path);
}

static bool
is_aligned(const vdisk_file *f, const void *buf, size_t len, uint64_t off)
{
    uint64_t a = f->align;
    return ((uintptr_t)buf % a) == 0 && (len % a) == 0 && (off % a) == 0;
}

/* Plain loop over pread: handles EINTR, short reads and EOF (zero fill). */
static int
pread_full(vdisk_file *f, void *buf, size_t len, uint64_t off, vdisk_error *err)
{
    char *p = buf;
    int fd = fd_of(f);
    while (len > 0) {
        ssize_t r = pread(fd, p, len, (off_t)off);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return vdisk_error_set_errno(err, errno, "%s: read of %zu bytes at offset 0x%llx failed",
                                         f->path, len, (unsigned long long)off);
        }
        if (r == 0) {
            memset(p, 0, len);   /* past EOF */
            return 0;
        }
        p += r;
        len -= (size_t)r;
        off += (uint64_t)r;
        /* O_DIRECT reads come up short only at EOF, and the next read would
         * start unaligned (EINVAL on XFS and others): the rest is past EOF. */
        if (f->direct && len > 0 && (uint64_t)r % f->align) {
            memset(p, 0, len);
            return 0;
        }
    }
    return 0;
}

/* EFBIG from a write, truncate or fallocate: the file reached the
 * process's file size limit (RLIMIT_FSIZE) or the largest file the file
 * system holds -- for the caller, as ENOSPC, no more space. */
static int
space_kind(vdisk_error *err, int r)
{
    if (err && r == -EFBIG)
        err->kind = VDISK_ERR_NO_SPACE;
    return r;
}

static int
pwrite_full(vdisk_file *f, const void *buf, size_t len, uint64_t off, vdisk_error *err)
{
    const char *p = buf;
    int fd = fd_of(f);
    while (len > 0) {
        ssize_t r = pwrite(fd, p, len, (off_t)off);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return space_kind(err, vdisk_error_set_errno(err, errno, "%s: write of %zu bytes at "
                                                         "offset 0x%llx failed", f->path, len,
                                                         (unsigned long long)off));
        }
        p += r;
        len -= (size_t)r;
        off += (uint64_t)r;
    }
    return 0;
}

static int file_get_length(vdisk_file *f, uint64_t *len, vdisk_error *err);
static int file_truncate(vdisk_file *f, uint64_t len, vdisk_error *err);

/* O_DIRECT with an unaligned request: go through an aligned bounce buffer
 * covering the enclosing aligned range (read-modify-write for writes: the
 * caller holds io_lock exclusively). */
static int
bounce_io(vdisk_file *f, void *rbuf, const void *wbuf, size_t len, uint64_t off, vdisk_error *err)
{
    uint64_t a = f->align;
    uint64_t start = off / a * a;
    uint64_t end = (off + len + a - 1) / a * a;
    size_t blen = (size_t)(end - start);
    char *b = vdisk_alloc_aligned(blen, false);
    if (!b)
        return vdisk_error_set(err, ENOMEM, "%s: out of memory for a %zu-byte I/O buffer", f->path, blen);
    uint64_t old_len = 0;
    int r = 0;
    if (wbuf)
        r = file_get_length(f, &old_len, err);
    if (r == 0)
        r = pread_full(f, b, blen, start, err);
    if (r == 0 && rbuf)
        memcpy(rbuf, b + (off - start), len);
    if (r == 0 && wbuf) {
        memcpy(b + (off - start), wbuf, len);
        r = pwrite_full(f, b, blen, start, err);
        /* The aligned write may have extended the file past the request's
         * end; put the length back where a buffered write leaves it. */
        uint64_t want = old_len > off + len ? old_len : off + len;
        if (r == 0 && end > want)
            r = file_truncate(f, want, err);
    }
    free(b);
    return r;
}

/* Read, through a bounce buffer when O_DIRECT needs one. */
static int
file_pread(vdisk_file *f, void *buf, size_t len, uint64_t off, vdisk_error *err)
{
    if (f->direct && !is_aligned(f, buf, len, off))
        return bounce_io(f, buf, NULL, len, off, err);
    return pread_full(f, buf, len, off, err);
}

/* Write, through a bounce buffer when O_DIRECT needs one (io_lock held
 * exclusively then, shared for an aligned O_DIRECT write). */
static int
file_pwrite(vdisk_file *f, const void *buf, size_t len, uint64_t off, vdisk_error *err)
{
    if (!f->direct)
        return pwrite_full(f, buf, len, off, err);
    posix_file *p = f->priv;
    bool bounce = !is_aligned(f, buf, len, off);
    if (bounce)
        pthread_rwlock_wrlock(&p->io_lock);
    else
        pthread_rwlock_rdlock(&p->io_lock);
    int r = bounce ? bounce_io(f, NULL, buf, len, off, err) : pwrite_full(f, buf, len, off, err);
    pthread_rwlock_unlock(&p->io_lock);
    return r;
}

/* fdatasync: data and what is needed to read it back. */
static int
file_flush(vdisk_file *f, vdisk_error *err)
{
    if (fdatasync(fd_of(f)) < 0)
        return vdisk_error_set_errno(err, errno, "%s: flush failed", f->path);
    return 0;
}

/* st_size, or the device size for a block device. */
static int
file_get_length(vdisk_file *f, uint64_t *len, vdisk_error *err)
{
    struct stat st;
    int fd = fd_of(f);
    if (fstat(fd, &st) < 0)
        return vdisk_error_set_errno(err, errno, "%s: stat failed", f->path);
    if (S_ISBLK(st.st_mode)) {
        uint64_t bytes;
        if (ioctl(fd, BLKGETSIZE64, &bytes) < 0)
            return vdisk_error_set_errno(err, errno, "%s: cannot read the device size", f->path);
        *len = bytes;
        return 0;
    }
    *len = (uint64_t)st.st_size;
    return 0;
}

/* ftruncate. */
static int
file_truncate(vdisk_file *f, uint64_t len, vdisk_error *err)
{
    if (ftruncate(fd_of(f), (off_t)len) < 0)
        return space_kind(err, vdisk_error_set_errno(err, errno, "%s: cannot set the file length "
                                                     "to %llu", f->path, (unsigned long long)len));
    return 0;
}

/* st_blocks * 512. */
static int
file_allocated(vdisk_file *f, uint64_t *bytes, vdisk_error *err)
{
    struct stat st;
    if (fstat(fd_of(f), &st) < 0)
        return vdisk_error_set_errno(err, errno, "%s: stat failed", f->path);
    *bytes = (uint64_t)st.st_blocks * 512;
    return 0;
}

static bool
not_supported(int e)
{
    return e == EOPNOTSUPP || e == ENOTSUP || e == ENOSYS || e == EINVAL;
}

/* fallocate mode 0: reserve (and extend) without writing. */
static int
file_allocate(vdisk_file *f, uint64_t off, uint64_t len, vdisk_error *err)
{
    posix_file *p = f->priv;
    if (atomic_load(&p->can_fallocate)) {
        if (fallocate(p->fd, 0, (off_t)off, (off_t)len) == 0)
            return 0;
        if (!not_supported(errno))
            return space_kind(err, vdisk_error_set_errno(err, errno, "%s: cannot reserve %llu bytes at "
                                                         "offset 0x%llx", f->path, (unsigned long long)len,
                                                         (unsigned long long)off));
        atomic_store(&p->can_fallocate, false);
    }
    return vdisk_error_set(err, ENOTSUP, "%s: the file system cannot preallocate space (fallocate)",
                           f->path);
}

/* Eager zeroing on a block device: the device writes the zeros itself
 * (BLKZEROOUT: WRITE ZEROES without unmap, or the kernel's own writes),
 * piece by piece for progress.  -ENOTSUP when the device cannot. */
static int
zero_device(vdisk_file *f, uint64_t off, uint64_t len, vdisk_progress_fn progress,
            void *opaque, vdisk_error *err)
{
    if ((off | len) % 512)
        return -ENOTSUP;
    for (uint64_t done = 0; done < len;) {
        uint64_t range[2] = { off + done, len - done < BLKZERO_CHUNK ? len - done : BLKZERO_CHUNK };
        if (ioctl(fd_of(f), BLKZEROOUT, range) < 0) {
            if (done == 0 && not_supported(errno))
                return -ENOTSUP;
            return vdisk_error_set_errno(err, errno, "%s: cannot zero %llu bytes at offset 0x%llx",
                                         f->path, (unsigned long long)range[1],
                                         (unsigned long long)range[0]);
        }
        done += range[1];
        if (progress && progress(opaque, done, len))
            return vdisk_error_set(err, ECANCELED, "%s: cancelled", f->path);
    }
    return 0;
}

/* Eager-zeroed thick per file system.  A block device zeroes itself
 * (BLKZEROOUT).  On tmpfs fallocate allocates the memory pages themselves,
 * which read as zeros: nothing is left to write (writing zeros over them
 * cost about 2.5 times the CPU of the fallocate alone).  Elsewhere (ext4,
 * xfs, ...) -ENOTSUP: file.c reserves, then writes zeros, since
 * FALLOC_FL_ZERO_RANGE there leaves unwritten extents, not zeroed blocks. */
static int
file_zero_full(vdisk_file *f, uint64_t off, uint64_t len, vdisk_progress_fn progress,
               void *opaque, vdisk_error *err)
{
    struct stat st;
    if (fstat(fd_of(f), &st) == 0 && S_ISBLK(st.st_mode))
        return zero_device(f, off, len, progress, opaque, err);
    struct statfs fs;
    if (fstatfs(fd_of(f), &fs) < 0 || fs.f_type != TMPFS_MAGIC)
        return -ENOTSUP;
    int r = file_allocate(f, off, len, err);
    if (r == 0 && progress && progress(opaque, len, len))
        r = vdisk_error_set(err, ECANCELED, "%s: cancelled", f->path);
    return r;
}

/* FALLOC_FL_PUNCH_HOLE, keeping the size. */
static int
file_punch_hole(vdisk_file *f, uint64_t off, uint64_t len, vdisk_error *err)
{
    posix_file *p = f->priv;
    if (atomic_load(&p->can_punch_hole)) {
        if (fallocate(p->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)off, (off_t)len) == 0)
            return 0;
        if (!not_supported(errno))
            return vdisk_error_set_errno(err, errno, "%s: cannot punch a hole at offset 0x%llx",
                                         f->path, (unsigned long long)off);
        atomic_store(&p->can_punch_hole, false);
    }
    return vdisk_error_set(err, ENOTSUP, "%s: the file system cannot punch holes", f->path);
}

/* Punch inside the file when allowed, else FALLOC_FL_ZERO_RANGE; -ENOTSUP
 * sends file.c to writing zeros. */
static int
file_zero(vdisk_file *f, uint64_t off, uint64_t len, bool may_unmap, vdisk_error *err)
{
    posix_file *p = f->priv;
    uint64_t flen;
    int r = file_get_length(f, &flen, err);
    if (r < 0)
        return r;
    if (may_unmap && off + len <= flen && file_punch_hole(f, off, len, NULL) == 0)
        return 0;
    if (atomic_load(&p->can_zero_range)) {
        if (fallocate(p->fd, FALLOC_FL_ZERO_RANGE, (off_t)off, (off_t)len) == 0)
            return 0;
        if (!not_supported(errno))
            return space_kind(err, vdisk_error_set_errno(err, errno, "%s: cannot zero %llu bytes at "
                                                         "offset 0x%llx", f->path, (unsigned long long)len,
                                                         (unsigned long long)off));
        atomic_store(&p->can_zero_range, false);
    }
    return -ENOTSUP;
}

/* SEEK_DATA / SEEK_HOLE. */
static int
file_extent(vdisk_file *f, uint64_t off, uint64_t limit, bool *is_data, uint64_t *end,
            vdisk_error *err)
{
    posix_file *p = f->priv;
    if (atomic_load(&p->can_seek_data)) {
        off_t d = lseek(p->fd, (off_t)off, SEEK_DATA);
        if (d < 0 && errno == ENXIO) {
            /* No data from off to EOF: one hole. */
            *is_data = false;
            *end = limit;
            return 0;
        }
        if (d >= 0) {
            if ((uint64_t)d > off) {
                *is_data = false;
                *end = (uint64_t)d < limit ? (uint64_t)d : limit;
                return 0;
            }
            off_t h = lseek(p->fd, (off_t)off, SEEK_HOLE);
            if (h >= 0) {
                *is_data = true;
                *end = (uint64_t)h < limit ? (uint64_t)h : limit;
                if (*end <= off)
                    *end = limit;
                return 0;
            }
        }
        if (errno != EINVAL && errno != ENOTSUP && errno != EOPNOTSUPP && errno != ENXIO)
            return vdisk_error_set_errno(err, errno, "%s: SEEK_DATA at offset 0x%llx failed",
                                         f->path, (unsigned long long)off);
        atomic_store(&p->can_seek_data, false);
    }
    *is_data = true;
    *end = limit;
    return 0;
}

/* QEMU's OFD lock bytes (lock.c). */
static int
file_lock(vdisk_file *f, unsigned perm, unsigned shared, vdisk_error *err)
{
    posix_file *p = f->priv;
    return vdisk_lock_acquire(p->fd, f->path, &p->lock, perm, shared, err);
}

/* Same device and inode. */
static bool
file_same_as(vdisk_file *f, const vdisk_location *loc)
{
    struct stat a, b;
    return loc->kind == VDISK_LOCATION_FILE && stat(loc->path, &a) == 0 &&
           fstat(fd_of(f), &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

/* A created regular file starts empty; a device keeps what it held. */
static bool
file_zero_init(vdisk_file *f)
{
    struct stat st;
    return fstat(fd_of(f), &st) == 0 && S_ISREG(st.st_mode);
}

/* The descriptor itself. */
static int
file_host_fd(vdisk_file *f)
{
    return fd_of(f);
}

/* ---- O_DIRECT: changes of the file other than writes hold io_lock shared
 * (see posix_file), so that an unaligned write's read-modify-write never
 * undoes them.  Buffered files take no lock. */

static void
shared_begin(vdisk_file *f)
{
    if (f->direct)
        pthread_rwlock_rdlock(&((posix_file *)f->priv)->io_lock);
}

static void
shared_end(vdisk_file *f)
{
    if (f->direct)
        pthread_rwlock_unlock(&((posix_file *)f->priv)->io_lock);
}

/* ftruncate, shared. */
static int
locked_truncate(vdisk_file *f, uint64_t len, vdisk_error *err)
{
    shared_begin(f);
    int r = file_truncate(f, len, err);
    shared_end(f);
    return r;
}

/* fallocate, shared. */
static int
locked_allocate(vdisk_file *f, uint64_t off, uint64_t len, vdisk_error *err)
{
    shared_begin(f);
    int r = file_allocate(f, off, len, err);
    shared_end(f);
    return r;
}

/* Eager zeroing, shared. */
static int
locked_zero_full(vdisk_file *f, uint64_t off, uint64_t len, vdisk_progress_fn progress,
                 void *opaque, vdisk_error *err)
{
    shared_begin(f);
    int r = file_zero_full(f, off, len, progress, opaque, err);
    shared_end(f);
    return r;
}

/* Hole punching, shared. */
static int
locked_punch_hole(vdisk_file *f, uint64_t off, uint64_t len, vdisk_error *err)
{
    shared_begin(f);
    int r = file_punch_hole(f, off, len, err);
    shared_end(f);
    return r;
}

/* Zeroing, shared. */
static int
locked_zero(vdisk_file *f, uint64_t off, uint64_t len, bool may_unmap, vdisk_error *err)
{
    shared_begin(f);
    int r = file_zero(f, off, len, may_unmap, err);
    shared_end(f);
    return r;
}

const struct vdisk_protocol vdisk_protocol_file = {
    .name = "file",
    .open = file_open,
    .create = file_create,
    .close = file_close,
    .remove_created = file_remove_created,
    .remove = file_remove,
    .pread = file_pread,
    .pwrite = file_pwrite,
    .flush = file_flush,
    .get_length = file_get_length,
    .truncate = locked_truncate,
    .allocated = file_allocated,
    .allocate = locked_allocate,
    .zero = locked_zero,
    .zero_full = locked_zero_full,
    .punch_hole = locked_punch_hole,
    .extent = file_extent,
    .lock = file_lock,
    .same_as = file_same_as,
    .zero_init = file_zero_init,
    .host_fd = file_host_fd,
};
