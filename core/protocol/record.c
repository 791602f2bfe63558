/* libvdisk — the record protocol (test builds only): a host file whose
 * every change is also appended to a log, for the power-loss crash-state
 * generator of tests/crash.
 *
 *   vdisk-record:PATH   the file PATH, logged to PATH.iolog (appended)
 *
 * Each change the format driver makes through the protocol table, once the
 * file protocol has done it, is one record: a 24-byte head (op, pad, off,
 * len; host endian) followed, for writes, by the len bytes written:
 *
 *   1 write     off, len + data       4 truncate  off = the new length
 *   2 zero      off, len              5 flush     (completed: durable)
 *   3 discard   off, len              6 allocate  off, len (size grows)
 *
 * It has no host_fd: copy_file_range and the like would bypass the log.
 * Built only with -Dtests=true, never exported from libvdisk (no public
 * header names it): release builds read "vdisk-record:" as a file name.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "file.h"
#include "protocol.h"

enum record_op {
    REC_WRITE = 1,
    REC_ZERO = 2,
    REC_DISCARD = 3,
    REC_TRUNCATE = 4,
    REC_FLUSH = 5,
    REC_ALLOCATE = 6,
};

struct record_head {
    uint32_t op;
    uint32_t pad;
    uint64_t off;
    uint64_t len;
};

typedef struct record_file {
    vdisk_file inner;          /* the file protocol's handle on PATH */
    int log_fd;
    pthread_mutex_t lock;      /* one record at a time in the log */
} record_file;

static record_file *
rec_of(vdisk_file *f)
{
    return f->priv;
}

/* Append one record; a log that cannot be written fails the operation, so
 * that a test never trusts an incomplete log. */
static int
log_op(vdisk_file *f, uint32_t op, uint64_t off, uint64_t len, const void *data,
       vdisk_error *err)
{
    record_file *rf = rec_of(f);
    struct record_head h = { .op = op, .off = off, .len = len };
    struct iovec iov[2] = {
        { .iov_base = &h, .iov_len = sizeof(h) },
        { .iov_base = (void *)data, .iov_len = data ? len : 0 },
    };
    size_t want = sizeof(h) + iov[1].iov_len;
    pthread_mutex_lock(&rf->lock);
    ssize_t n = writev(rf->log_fd, iov, 2);
    pthread_mutex_unlock(&rf->lock);
    if (n < 0 || (size_t)n != want)
        return vdisk_error_set_errno(err, n < 0 ? errno : EIO, "%s: cannot append to its I/O log",
                                     f->path);
    return 0;
}

/* The handle for PATH and its log, with the file protocol's generic
 * fields mirrored into the inner handle. */
static int
attach(vdisk_file *f, const vdisk_location *loc, bool create, vdisk_error *err)
{
    record_file *rf = calloc(1, sizeof(*rf));
    size_t plen = strlen(loc->path);
    char *log = malloc(plen + sizeof(".iolog"));
    if (!rf || !log) {
        free(rf);
        free(log);
        return vdisk_error_set(err, ENOMEM, "%s: out of memory", f->path);
    }
    memcpy(log, loc->path, plen);
    memcpy(log + plen, ".iolog", sizeof(".iolog"));
    rf->log_fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | (create ? O_TRUNC : 0),
                      0644);
    free(log);
    if (rf->log_fd < 0) {
        int e = errno;
        free(rf);
        return vdisk_error_set_errno(err, e, "%s: cannot open its I/O log", f->path);
    }
    pthread_mutex_init(&rf->lock, NULL);
    rf->inner.proto = &vdisk_protocol_file;
    rf->inner.path = f->path;
    rf->inner.read_only = f->read_only;
    rf->inner.align = 1;
    atomic_init(&rf->inner.skip_sync, false);
    f->priv = rf;
    return 0;
}

static void
detach(vdisk_file *f)
{
    record_file *rf = rec_of(f);
    close(rf->log_fd);
    pthread_mutex_destroy(&rf->lock);
    free(rf);
    f->priv = NULL;
}

/* Open PATH through the file protocol. */
static int
record_open(vdisk_file *f, const vdisk_location *loc, unsigned flags, vdisk_error *err)
{
    int r = attach(f, loc, false, err);
    if (r < 0)
        return r;
    record_file *rf = rec_of(f);
    r = vdisk_protocol_file.open(&rf->inner, loc, flags, err);
    if (r < 0) {
        detach(f);
        return r;
    }
    f->direct = rf->inner.direct;
    f->align = rf->inner.align;
    return 0;
}

/* Create PATH through the file protocol; the log starts afresh. */
static int
record_create(vdisk_file *f, const vdisk_location *loc, bool nocow, vdisk_error *err)
{
    int r = attach(f, loc, true, err);
    if (r < 0)
        return r;
    record_file *rf = rec_of(f);
    r = vdisk_protocol_file.create(&rf->inner, loc, nocow, err);
    if (r < 0)
        detach(f);
    return r;
}

/* Close the file and the log. */
static void
record_close(vdisk_file *f)
{
    vdisk_protocol_file.close(&rec_of(f)->inner);
    detach(f);
}

/* A failed create: the file protocol deletes PATH. */
static void
record_remove_created(vdisk_file *f)
{
    vdisk_protocol_file.remove_created(&rec_of(f)->inner);
}

/* Delete PATH by location. */
static void
record_remove(const vdisk_location *loc)
{
    vdisk_protocol_file.remove(loc);
}

/* Reads are not logged: they change nothing. */
static int
record_pread(vdisk_file *f, void *buf, size_t len, uint64_t off, vdisk_error *err)
{
    return vdisk_protocol_file.pread(&rec_of(f)->inner, buf, len, off, err);
}

/* Write, then log the bytes. */
static int
record_pwrite(vdisk_file *f, const void *buf, size_t len, uint64_t off, vdisk_error *err)
{
    int r = vdisk_protocol_file.pwrite(&rec_of(f)->inner, buf, len, off, err);
    return r < 0 ? r : log_op(f, REC_WRITE, off, len, buf, err);
}

/* Sync, then log that everything before is durable. */
static int
record_flush(vdisk_file *f, vdisk_error *err)
{
    int r = vdisk_protocol_file.flush(&rec_of(f)->inner, err);
    return r < 0 ? r : log_op(f, REC_FLUSH, 0, 0, NULL, err);
}

/* The file's length, unlogged. */
static int
record_get_length(vdisk_file *f, uint64_t *len, vdisk_error *err)
{
    return vdisk_protocol_file.get_length(&rec_of(f)->inner, len, err);
}

/* Truncate, then log the new length. */
static int
record_truncate(vdisk_file *f, uint64_t len, vdisk_error *err)
{
    int r = vdisk_protocol_file.truncate(&rec_of(f)->inner, len, err);
    return r < 0 ? r : log_op(f, REC_TRUNCATE, len, 0, NULL, err);
}

/* Bytes on the host, unlogged. */
static int
record_allocated(vdisk_file *f, uint64_t *bytes, vdisk_error *err)
{
    return vdisk_protocol_file.allocated(&rec_of(f)->inner, bytes, err);
}

/* Reserve, then log the range (the file may have grown). */
static int
record_allocate(vdisk_file *f, uint64_t off, uint64_t len, vdisk_error *err)
{
    int r = vdisk_protocol_file.allocate(&rec_of(f)->inner, off, len, err);
    return r < 0 ? r : log_op(f, REC_ALLOCATE, off, len, NULL, err);
}

/* Zero a range, then log it; -ENOTSUP lets file.c write zeros (logged as
 * writes). */
static int
record_zero(vdisk_file *f, uint64_t off, uint64_t len, bool may_unmap, vdisk_error *err)
{
    int r = vdisk_protocol_file.zero(&rec_of(f)->inner, off, len, may_unmap, err);
    return r < 0 ? r : log_op(f, REC_ZERO, off, len, NULL, err);
}

/* Deallocate a range, then log it. */
static int
record_punch_hole(vdisk_file *f, uint64_t off, uint64_t len, vdisk_error *err)
{
    int r = vdisk_protocol_file.punch_hole(&rec_of(f)->inner, off, len, err);
    return r < 0 ? r : log_op(f, REC_DISCARD, off, len, NULL, err);
}

/* The data/hole map of PATH. */
static int
record_extent(vdisk_file *f, uint64_t off, uint64_t limit, bool *is_data, uint64_t *end,
              vdisk_error *err)
{
    return vdisk_protocol_file.extent(&rec_of(f)->inner, off, limit, is_data, end, err);
}

/* QEMU's image locks on PATH. */
static int
record_lock(vdisk_file *f, unsigned perm, unsigned shared, vdisk_error *err)
{
    return vdisk_protocol_file.lock(&rec_of(f)->inner, perm, shared, err);
}

/* A new file reads as zeros, as with the file protocol. */
static bool
record_zero_init(vdisk_file *f)
{
    return vdisk_protocol_file.zero_init(&rec_of(f)->inner);
}

const struct vdisk_protocol vdisk_protocol_record = {
    .name = "record",
    .open = record_open,
    .create = record_create,
    .close = record_close,
    .remove_created = record_remove_created,
    .remove = record_remove,
    .pread = record_pread,
    .pwrite = record_pwrite,
    .flush = record_flush,
    .get_length = record_get_length,
    .truncate = record_truncate,
    .allocated = record_allocated,
    .allocate = record_allocate,
    .zero = record_zero,
    .punch_hole = record_punch_hole,
    .extent = record_extent,
    .lock = record_lock,
    .zero_init = record_zero_init,
};
