/* libvdisk — the nbd protocol: an NBD export through libnbd.
 *
 * The name is an NBD URI (nbd://, nbd+unix://, nbds:// ...) handed to
 * libnbd as is.  The connection is made with a deadline, so a socket
 * nobody answers on is an error after CONNECT_TIMEOUT_MS, not a hang.
 *
 * An export has a fixed size: writes past its end fail, resizing is
 * refused, and "creating" an image on it (qemu-img's fallback for NBD)
 * takes the export as it is, refusing one that is too small.  The server
 * owns locking; there is nothing to lock here.
 *
 * Block status comes from base:allocation, or, with QEMU's debugging
 * option x-dirty-bitmap=CONTEXT, from that metadata context read as if it
 * were base:allocation (bit 0 a hole, bit 1 zeros), as QEMU's client does;
 * qemu:allocation-depth's depths above 2 count as 2 there.
 *
 * A libnbd handle runs one synchronous command at a time, so when the
 * server allows it (multi-conn) several connections carry requests from
 * several threads at once; a flush on one then covers them all.
 *
 * libnbd is loaded by the first open or create (nbd-load.h), so that the
 * processes that never connect to an export do not map it and libxml2.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "file.h"
#include "nbd-load.h"
#include "protocol.h"

#define CONNECT_TIMEOUT_MS 10000
/* Connections when the server advertises multi-conn. */
#define MULTI_CONN 4
/* Largest request sent at once (servers must accept 32 MiB). */
#define MAX_REQUEST (32u << 20)

typedef struct nbd_file {
    struct nbd_handle *conn[MULTI_CONN];
    unsigned nconn;
    atomic_uint next;            /* round robin over conn[] */
    char *uri;                   /* for same_as */
    char *context;               /* the metadata context block status reads */
    bool alloc_depth;            /* it is qemu:allocation-depth */
    uint64_t size;
    bool created;                /* opened by create: a smaller image may live in it */
    bool can_flush, can_trim, can_zero, can_extents;
} nbd_file;

static struct nbd_handle *
pick(nbd_file *p)
{
    return p->conn[atomic_fetch_add(&p->next, 1) % p->nconn];
}

static int
nbd_fail(vdisk_file *f, const char *what, vdisk_error *err)
{
    int e = nbd_get_errno();
    const char *msg = nbd_get_error();
    return vdisk_error_set(err, e > 0 ? e : EIO, "%s: %s: %s", f->path, what, msg ? msg : "NBD error");
}

static long
ms_since(const struct timespec *t0)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (t.tv_sec - t0->tv_sec) * 1000 + (t.tv_nsec - t0->tv_nsec) / 1000000;
}

/* Connect one handle to the URI, within the deadline. */
static int
connect_one(vdisk_file *f, const char *uri, const char *context, struct nbd_handle **out,
            vdisk_error *err)
{
    struct nbd_handle *h = nbd_create();
    if (!h)
        return nbd_fail(f, "cannot create an NBD handle", err);
    int r = 0;
    if (nbd_add_meta_context(h, context) < 0 || nbd_aio_connect_uri(h, uri) < 0)
        r = nbd_fail(f, "cannot connect", err);
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    while (r == 0 && nbd_aio_is_connecting(h)) {
        long left = CONNECT_TIMEOUT_MS - ms_since(&t0);
        if (left <= 0) {
            r = vdisk_error_set(err, ETIMEDOUT, "%s: the NBD server did not complete the handshake "
                                "within %d s", f->path, CONNECT_TIMEOUT_MS / 1000);
            break;
        }
        if (nbd_poll(h, (int)left) < 0)
            r = nbd_fail(f, "cannot connect", err);
    }
    if (r == 0 && !nbd_aio_is_ready(h))
        r = nbd_fail(f, "cannot connect", err);
    if (r < 0) {
        nbd_close(h);
        return r;
    }
    *out = h;
    return 0;
}

/* What the server offers, read from the first connection. */
static int
read_caps(vdisk_file *f, nbd_file *p, bool rw, vdisk_error *err)
{
    struct nbd_handle *h = p->conn[0];
    int64_t size = nbd_get_size(h);
    if (size < 0)
        return nbd_fail(f, "cannot read the export size", err);
    p->size = (uint64_t)size;
    if (rw && nbd_is_read_only(h) != 0)
        return vdisk_error_set(err, EROFS, "%s: the NBD export is read-only", f->path);
    p->can_flush = nbd_can_flush(h) == 1;
    p->can_trim = nbd_can_trim(h) == 1;
    p->can_zero = nbd_can_zero(h) == 1;
    p->can_extents = nbd_can_meta_context(h, p->context) == 1;
    if (!p->can_extents && strcmp(p->context, LIBNBD_CONTEXT_BASE_ALLOCATION) != 0)
        return vdisk_error_set(err, ENOTSUP, "%s: the NBD server does not offer the metadata "
                               "context '%s' (x-dirty-bitmap)", f->path, p->context);
    return 0;
}

static void
nbd_file_free(nbd_file *p)
{
    for (unsigned i = 0; i < p->nconn; i++) {
        nbd_shutdown(p->conn[i], 0);
        nbd_close(p->conn[i]);
    }
    free(p->uri);
    free(p->context);
    free(p);
}

static int
connect_all(vdisk_file *f, const vdisk_location *loc, bool rw, nbd_file **out, vdisk_error *err)
{
    int r = vdisk_nbd_load(f->path, err);
    if (r < 0)
        return r;
    nbd_file *p = calloc(1, sizeof(*p));
    if (p)
        p->context = strdup(loc->nbd_context ? loc->nbd_context : LIBNBD_CONTEXT_BASE_ALLOCATION);
    if (!p || !(p->uri = strdup(loc->uri)) || !p->context) {
        if (p)
            nbd_file_free(p);
        return vdisk_error_set(err, ENOMEM, "%s: out of memory", f->path);
    }
    p->alloc_depth = strcmp(p->context, "qemu:allocation-depth") == 0;
    r = connect_one(f, loc->uri, p->context, &p->conn[0], err);
    if (r == 0)
        p->nconn = 1;
    if (r == 0)
        r = read_caps(f, p, rw, err);
    /* More connections only where the server says they see one image. */
    if (r == 0 && nbd_can_multi_conn(p->conn[0]) == 1)
        while (r == 0 && p->nconn < MULTI_CONN) {
            r = connect_one(f, loc->uri, p->context, &p->conn[p->nconn], err);
            if (r == 0)
                p->nconn++;
        }
    if (r < 0) {
        nbd_file_free(p);
        return r;
    }
    *out = p;
    return 0;
}

/* Connect to an existing export.  cache=none needs nothing: the client
 * keeps no cache of its own. */
static int
nbd_proto_open(vdisk_file *f, const vdisk_location *loc, unsigned flags, vdisk_error *err)
{
    nbd_file *p;
    int r = connect_all(f, loc, flags & VDISK_OPEN_RDWR, &p, err);
    if (r < 0)
        return r;
    f->priv = p;
    return 0;
}

/* An export cannot be made: take it as it is, and wipe its first sector
 * so that what it held before cannot be probed as a format (as qemu-img). */
static int
nbd_proto_create(vdisk_file *f, const vdisk_location *loc, bool nocow, vdisk_error *err)
{
    if (nocow)
        return vdisk_error_set(err, ENOTSUP, "%s: nocow applies to files on copy-on-write file "
                               "systems, not to NBD exports", f->path);
    nbd_file *p;
    int r = connect_all(f, loc, true, &p, err);
    if (r < 0)
        return r;
    p->created = true;
    f->priv = p;
    uint64_t n = p->size < 512 ? p->size : 512;
    if (n > 0 && (p->can_zero ? nbd_zero(p->conn[0], n, 0, LIBNBD_CMD_FLAG_NO_HOLE)
                              : nbd_pwrite(p->conn[0], (char[512]){ 0 }, n, 0, 0)) < 0) {
        r = nbd_fail(f, "cannot clear the first sector", err);
        nbd_file_free(p);
        f->priv = NULL;
    }
    return r;
}

/* Disconnect politely. */
static void
nbd_proto_close(vdisk_file *f)
{
    if (f->priv)
        nbd_file_free(f->priv);
    f->priv = NULL;
}

/* Read in requests the server must accept; past the end reads as zeros. */
static int
nbd_proto_pread(vdisk_file *f, void *buf, size_t len, uint64_t off, vdisk_error *err)
{
    nbd_file *p = f->priv;
    size_t n = off >= p->size ? 0 : (p->size - off < len ? (size_t)(p->size - off) : len);
    memset((char *)buf + n, 0, len - n);
    for (size_t done = 0; done < n;) {
        size_t c = n - done < MAX_REQUEST ? n - done : MAX_REQUEST;
        if (nbd_pread(pick(p), (char *)buf + done, c, off + done, 0) < 0)
            return nbd_fail(f, "read failed", err);
        done += c;
    }
    return 0;
}

static int
past_end(vdisk_file *f, nbd_file *p, uint64_t end, vdisk_error *err)
{
    return vdisk_error_set(err, ENOSPC, "%s: write up to byte %llu is past the end of the NBD export "
                           "(%llu bytes); exports cannot grow", f->path, (unsigned long long)end,
                           (unsigned long long)p->size);
}

/* Write inside the export. */
static int
nbd_proto_pwrite(vdisk_file *f, const void *buf, size_t len, uint64_t off, vdisk_error *err)
{
    nbd_file *p = f->priv;
    if (off > p->size || len > p->size - off)
        return past_end(f, p, off + len, err);
    for (size_t done = 0; done < len;) {
        size_t c = len - done < MAX_REQUEST ? len - done : MAX_REQUEST;
        if (nbd_pwrite(pick(p), (const char *)buf + done, c, off + done, 0) < 0)
            return nbd_fail(f, "write failed", err);
        done += c;
    }
    return 0;
}

/* NBD_CMD_FLUSH, when the server has a cache to flush. */
static int
nbd_proto_flush(vdisk_file *f, vdisk_error *err)
{
    nbd_file *p = f->priv;
    if (p->can_flush && nbd_flush(pick(p), 0) < 0)
        return nbd_fail(f, "flush failed", err);
    return 0;
}

/* The export size. */
static int
nbd_proto_get_length(vdisk_file *f, uint64_t *len, vdisk_error *err)
{
    (void)err;
    *len = ((nbd_file *)f->priv)->size;
    return 0;
}

/* Exports have a fixed size; an image created in one may be smaller. */
static int
nbd_proto_truncate(vdisk_file *f, uint64_t len, vdisk_error *err)
{
    nbd_file *p = f->priv;
    if (len == p->size || (p->created && len < p->size))
        return 0;
    if (len > p->size)
        return vdisk_error_set(err, ENOSPC, "%s: the NBD export (%llu bytes) is too small for %llu "
                               "bytes; exports cannot grow", f->path, (unsigned long long)p->size,
                               (unsigned long long)len);
    return vdisk_error_set(err, ENOTSUP, "%s: NBD exports cannot be resized", f->path);
}

/* Ranges of at most MAX_REQUEST, for a zero or trim command. */
static int
range_cmd(vdisk_file *f, nbd_file *p, bool trim, uint64_t off, uint64_t len, uint32_t flags,
          vdisk_error *err)
{
    for (uint64_t done = 0; done < len;) {
        uint64_t c = len - done < MAX_REQUEST ? len - done : MAX_REQUEST;
        int r = trim ? nbd_trim(pick(p), c, off + done, flags) : nbd_zero(pick(p), c, off + done, flags);
        if (r < 0)
            return nbd_fail(f, trim ? "trim failed" : "write zeroes failed", err);
        done += c;
    }
    return 0;
}

/* NBD_CMD_WRITE_ZEROES (NO_HOLE unless unmapping is allowed). */
static int
nbd_proto_zero(vdisk_file *f, uint64_t off, uint64_t len, bool may_unmap, vdisk_error *err)
{
    nbd_file *p = f->priv;
    if (off > p->size || len > p->size - off)
        return past_end(f, p, off + len, err);
    if (!p->can_zero)
        return -ENOTSUP;
    return range_cmd(f, p, false, off, len, may_unmap ? 0 : LIBNBD_CMD_FLAG_NO_HOLE, err);
}

/* NBD_CMD_TRIM inside the export.  Trimmed ranges need not read as zeros
 * on every server: trim is only a hint here, zeroing is zero's job. */
static int
nbd_proto_punch_hole(vdisk_file *f, uint64_t off, uint64_t len, vdisk_error *err)
{
    nbd_file *p = f->priv;
    if (!p->can_trim)
        return vdisk_error_set(err, ENOTSUP, "%s: the NBD server does not support trim", f->path);
    if (off >= p->size)
        return 0;
    if (len > p->size - off)
        len = p->size - off;
    return range_cmd(f, p, true, off, len, 0, err);
}

typedef struct status_answer {
    const char *context;
    bool alloc_depth;
    uint64_t off;
    unsigned flags;
    uint64_t end;
    bool got;
} status_answer;

/* One NBD status word as QEMU reads base:allocation: data unless a hole,
 * zero when the zero bit is set; allocated when either.  A hole without
 * the zero bit (unallocated, contents unknown) is neither. */
static unsigned
status_flags(uint32_t word, bool alloc_depth)
{
    if (alloc_depth && word > 2)
        word = 2;
    unsigned flags = (word & LIBNBD_STATE_HOLE ? 0 : VDISK_EXTENT_DATA) |
                     (word & LIBNBD_STATE_ZERO ? VDISK_EXTENT_ZERO : 0);
    return flags ? flags | VDISK_EXTENT_ALLOCATED : 0;
}

/* The first run of equal status from the requested context. */
static int
status_cb(void *opaque, const char *context, uint64_t offset, uint32_t *entries, size_t n, int *error)
{
    status_answer *a = opaque;
    (void)error;
    if (strcmp(context, a->context) != 0 || a->got)
        return 0;
    uint64_t pos = offset;
    for (size_t i = 0; i + 1 < n; i += 2) {
        unsigned flags = status_flags(entries[i + 1], a->alloc_depth);
        if (i == 0)
            a->flags = flags;
        else if (flags != a->flags)
            break;
        pos += entries[i];
    }
    a->end = pos;
    a->got = pos > a->off;
    return 0;
}

/* NBD_CMD_BLOCK_STATUS.  Past the export's end: unallocated zeros up to
 * limit; without block status from the server: allocated data. */
static int
nbd_proto_status(vdisk_file *f, uint64_t off, uint64_t limit, unsigned *flags, uint64_t *end,
                 vdisk_error *err)
{
    nbd_file *p = f->priv;
    *flags = VDISK_EXTENT_ALLOCATED | VDISK_EXTENT_DATA;
    *end = limit;
    if (off >= p->size) {
        *flags = VDISK_EXTENT_ZERO;
        return 0;
    }
    if (!p->can_extents)
        return 0;
    uint64_t stop = limit < p->size ? limit : p->size;
    uint64_t count = stop - off < (UINT64_C(1) << 31) ? stop - off : (UINT64_C(1) << 31);
    status_answer a = { .context = p->context, .alloc_depth = p->alloc_depth, .off = off };
    nbd_extent_callback cb = { .callback = status_cb, .user_data = &a };
    if (nbd_block_status(pick(p), count, off, cb, 0) < 0)
        return nbd_fail(f, "block status failed", err);
    if (!a.got)
        return 0;
    *flags = a.flags;
    *end = a.end < stop ? a.end : stop;
    return 0;
}

/* Data unless the server says the range reads as zeros and holds no data
 * (an unallocated range of unknown contents must be read). */
static int
nbd_proto_extent(vdisk_file *f, uint64_t off, uint64_t limit, bool *is_data, uint64_t *end,
                 vdisk_error *err)
{
    nbd_file *p = f->priv;
    unsigned flags;
    int r = nbd_proto_status(f, off, limit, &flags, end, err);
    if (r < 0)
        return r;
    *is_data = !(flags & VDISK_EXTENT_ZERO) || (flags & VDISK_EXTENT_DATA);
    if (!*is_data && *end == p->size)
        *end = limit;
    return 0;
}

/* Same URI. */
static bool
nbd_proto_same_as(vdisk_file *f, const vdisk_location *loc)
{
    return loc->kind == VDISK_LOCATION_NBD && strcmp(((nbd_file *)f->priv)->uri, loc->uri) == 0;
}

const struct vdisk_protocol vdisk_protocol_nbd = {
    .name = "nbd",
    .open = nbd_proto_open,
    .create = nbd_proto_create,
    .close = nbd_proto_close,
    .pread = nbd_proto_pread,
    .pwrite = nbd_proto_pwrite,
    .flush = nbd_proto_flush,
    .get_length = nbd_proto_get_length,
    .truncate = nbd_proto_truncate,
    .zero = nbd_proto_zero,
    .punch_hole = nbd_proto_punch_hole,
    .extent = nbd_proto_extent,
    .status = nbd_proto_status,
    .same_as = nbd_proto_same_as,
};
