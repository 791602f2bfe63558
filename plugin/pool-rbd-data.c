/* vdisk plugin — the bytes of RBD volumes: vol-resize, vol-wipe,
 * vol-upload and vol-download, through librbd.  Every one first refuses an
 * image another client (a running guest) holds the exclusive lock of.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include <vdisk/resize.h>

#include "pool-rbd.h"

#define XFER_CHUNK (UINT64_C(4) << 20)
#define SPARSE_BLOCK ((size_t)64 << 10)   /* granularity of zero detection */

/* Open for writing, refusing an image someone else writes; *size its size. */
static int
open_rw(vdisk_pool *pool, const char *name, rbd_image_t *img, uint64_t *size, vdisk_error *err)
{
    rbd_image_info_t st;
    int r = rbd_pool_open_image(pool, name, false, img, err);
    if (r < 0)
        return r;
    if ((r = rbd_pool_check_unlocked(pool, name, *img, err)) == 0 && (r = rbd_stat(*img, &st, sizeof(st))) < 0)
        r = rbd_pool_error(pool, name, r, "read the image's size", err);
    if (r < 0)
        rbd_close(*img);
    else
        *size = st.size;
    return r;
}

/* vol-resize of a qcow2 volume: libvdisk's resize through its rbd protocol
 * (its image grows on write; --allocate: preallocation full). */
static int
resize_formatted(vdisk_pool *pool, const char *name, vdisk_format fmt, uint64_t capacity, unsigned flags,
                 vdisk_progress_fn progress, void *opaque, vdisk_error *err)
{
    vdisk_image *img;
    char what[300];
    int r = rbd_pool_open_formatted(pool, name, fmt, VDISK_OPEN_RDWR, &img, err);
    if (r < 0)
        return r;
    uint64_t old = vdisk_get_size(img);
    bool shrink = capacity < old, allocate = flags & VDISK_VOL_RESIZE_ALLOCATE;
    snprintf(what, sizeof(what), "growing volume '%s'", name);
    if (shrink && !(flags & VDISK_VOL_RESIZE_SHRINK))
        r = vdisk_error_set(err, EINVAL, "volume '%s': Can't shrink capacity below current capacity "
                            "unless shrink flag explicitly specified", name);
    else if (capacity > old)
        r = rbd_pool_check_space(pool, what, capacity - old, allocate ? capacity - old : 0, err);
    if (r == 0 && capacity != old &&
        (r = vdisk_resize(img, capacity, shrink, allocate && !shrink ? VDISK_PREALLOC_FULL : VDISK_PREALLOC_OFF,
                          progress, opaque, err)) < 0)
        rbd_pool_scrub_key(err);
    vdisk_error ignored = { 0 };
    int c = vdisk_close(img, r < 0 ? &ignored : err);
    if (r == 0 && c < 0) {
        rbd_pool_scrub_key(err);
        r = c;
    }
    return r;
}

int
rbd_pool_vol_resize(vdisk_pool *pool, const char *name, uint64_t capacity, unsigned flags,
                    vdisk_progress_fn progress, void *opaque, vdisk_error *err)
{
    rbd_image_t img;
    uint64_t old;
    char what[300];
    if (capacity == 0)
        return vdisk_error_set(err, EINVAL, "volume '%s': capacity must be greater than 0", name);
    vdisk_format fmt;
    int r = open_rw(pool, name, &img, &old, err);
    if (r < 0)
        return r;
    if ((r = rbd_pool_image_format(pool, name, img, &fmt, err)) < 0 || fmt != VDISK_FORMAT_RAW) {
        rbd_close(img);
        return r < 0 ? r : resize_formatted(pool, name, fmt, capacity, flags, progress, opaque, err);
    }
    bool shrink = capacity < old, allocate = flags & VDISK_VOL_RESIZE_ALLOCATE;
    snprintf(what, sizeof(what), "growing volume '%s'", name);
    if (shrink && !(flags & VDISK_VOL_RESIZE_SHRINK))
        r = vdisk_error_set(err, EINVAL, "volume '%s': Can't shrink capacity below current capacity "
                            "unless shrink flag explicitly specified", name);
    else if (capacity > old)
        r = rbd_pool_check_space(pool, what, capacity - old, allocate ? capacity - old : 0, err);
    if (r == 0 && capacity != old && (r = rbd_resize(img, capacity)) < 0)
        r = rbd_pool_error(pool, name, r, "resize the RBD image", err);
    /* --allocate: the new part thick, as it would be on a thick create */
    if (r == 0 && capacity > old && allocate)
        r = rbd_pool_write_thick(pool, name, img, old, capacity - old, 0, capacity - old, progress, opaque,
                                 err);
    rbd_close(img);
    return r;
}

/* An extent of the image (rbd_diff_iterate2 result). */
typedef struct extent_list {
    struct { uint64_t off, len; } *v;
    size_t n, cap;
    uint64_t bytes;
} extent_list;

/* rbd_diff_iterate2 callback: remember each allocated extent. */
static int
keep_extent(uint64_t off, size_t len, int exists, void *opaque)
{
    extent_list *l = opaque;
    if (!exists)
        return 0;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        void *v = realloc(l->v, cap * sizeof(*l->v));
        if (!v)
            return -ENOMEM;
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n].off = off;
    l->v[l->n++].len = len;
    l->bytes += len;
    return 0;
}

/* Overwrite [off, off+len) with zeros (allocated) or random bytes. */
static int
overwrite(vdisk_pool *pool, const char *name, rbd_image_t img, vdisk_wipe_alg alg, uint64_t off,
          uint64_t len, unsigned char *buf, vdisk_error *err)
{
    for (uint64_t done = 0; done < len;) {
        size_t n = len - done < XFER_CHUNK ? (size_t)(len - done) : XFER_CHUNK;
        ssize_t w;
        if (alg == VDISK_WIPE_ZERO) {
            w = rbd_write_zeroes(img, off + done, n, RBD_WRITE_ZEROES_FLAG_THICK_PROVISION, 0);
        } else {
            for (size_t got = 0; got < n;) {
                ssize_t g = getrandom(buf + got, n - got, 0);
                if (g < 0 && errno != EINTR)
                    return vdisk_error_set_errno(err, errno, "volume '%s': no random bytes", name);
                got += g > 0 ? (size_t)g : 0;
            }
            w = rbd_write(img, off + done, n, (const char *)buf);
        }
        if (w < 0)
            return rbd_pool_error(pool, name, (int)w, "overwrite the image", err);
        done += n;
    }
    return 0;
}

int
rbd_pool_vol_wipe(vdisk_pool *pool, const char *name, vdisk_wipe_alg alg, vdisk_progress_fn progress,
                  void *opaque, vdisk_error *err)
{
    rbd_image_t img;
    uint64_t size, done = 0;
    vdisk_format fmt;
    int r = open_rw(pool, name, &img, &size, err);
    if (r < 0)
        return r;
    if ((r = rbd_pool_image_format(pool, name, img, &fmt, err)) == 0 && fmt != VDISK_FORMAT_RAW)
        r = vdisk_error_set(err, ENOTSUP, "pool '%s': volume '%s' is a %s on RBD: wiping it is not supported "
                            "(delete and create it again)", pool->def->name, name, vdisk_format_name(fmt));
    if (r < 0) {
        rbd_close(img);
        return r;
    }
    if (alg == VDISK_WIPE_TRIM) {
        /* discard frees whole objects and zeroes the edges: reads give zeros */
        r = rbd_discard(img, 0, size);
        rbd_close(img);
        return r < 0 ? rbd_pool_error(pool, name, r, "discard the image", err) : 0;
    }
    extent_list l = { 0 };
    unsigned char *buf = alg == VDISK_WIPE_RANDOM ? malloc(XFER_CHUNK) : NULL;
    if (alg == VDISK_WIPE_RANDOM && !buf)
        r = vdisk_error_set(err, ENOMEM, "volume '%s': out of memory", name);
    else if ((r = rbd_diff_iterate2(img, NULL, 0, size, 0, 0, keep_extent, &l)) < 0)
        r = rbd_pool_error(pool, name, r, "map the image's data", err);
    for (size_t i = 0; r == 0 && i < l.n; i++) {
        r = overwrite(pool, name, img, alg, l.v[i].off, l.v[i].len, buf, err);
        done += l.v[i].len;
        if (r == 0 && progress && progress(opaque, done, l.bytes) != 0)
            r = vdisk_error_set(err, ECANCELED, "volume '%s': wipe cancelled", name);
    }
    if (r == 0 && (r = rbd_flush(img)) < 0)
        r = rbd_pool_error(pool, name, r, "flush", err);
    free(buf);
    free(l.v);
    rbd_close(img);
    return r;
}

static bool
all_zero(const unsigned char *p, size_t n)
{
    return n == 0 || (p[0] == 0 && memcmp(p, p + 1, n - 1) == 0);
}

/* The part [offset, offset+length) of an image of `size` bytes (length 0: to the end). */
static int
transfer_range(const char *name, uint64_t size, uint64_t offset, uint64_t *length, vdisk_error *err)
{
    if (offset > size || (*length && *length > size - offset))
        return vdisk_error_set(err, EINVAL, "volume '%s': offset %llu and length %llu pass the end of the "
                               "volume (%llu bytes)", name, (unsigned long long)offset,
                               (unsigned long long)*length, (unsigned long long)size);
    if (!*length)
        *length = size - offset;
    return 0;
}

/* Read up to n bytes (fewer only at the end of input). */
static ssize_t
read_full(int fd, unsigned char *buf, size_t n)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(fd, buf + got, n - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return r < 0 ? -errno : (ssize_t)got;
        got += (size_t)r;
    }
    return (ssize_t)got;
}

/* buf into the image at off; when sparse, blocks of zeros become discards
 * (reads give zeros, nothing stored). */
static int
put_in(vdisk_pool *pool, const char *name, rbd_image_t img, const unsigned char *buf, size_t n,
       uint64_t off, bool sparse, vdisk_error *err)
{
    for (size_t at = 0; at < n;) {
        size_t len = n - at < SPARSE_BLOCK ? n - at : SPARSE_BLOCK;
        ssize_t w = sparse && all_zero(buf + at, len) ? rbd_discard(img, off + at, len)
                                                      : rbd_write(img, off + at, len, (const char *)buf + at);
        if (w < 0)
            return rbd_pool_error(pool, name, (int)w, "write the upload", err);
        at += len;
    }
    return 0;
}

int
rbd_pool_vol_upload(vdisk_pool *pool, const char *name, int fd, uint64_t offset, uint64_t length,
                    bool sparse, vdisk_progress_fn progress, void *opaque, vdisk_error *err)
{
    rbd_image_t img;
    uint64_t size, done = 0;
    int r = open_rw(pool, name, &img, &size, err);
    if (r < 0)
        return r;
    unsigned char *buf = malloc(XFER_CHUNK);
    if (!buf)
        r = vdisk_error_set(err, ENOMEM, "volume '%s': out of memory", name);
    if (r == 0)
        r = transfer_range(name, size, offset, &length, err);
    while (r == 0 && done < length) {
        size_t want = length - done < XFER_CHUNK ? (size_t)(length - done) : XFER_CHUNK;
        ssize_t got = read_full(fd, buf, want);
        if (got < 0)
            r = vdisk_error_set_errno(err, (int)-got, "volume '%s': cannot read the upload", name);
        if (got <= 0)
            break;
        r = put_in(pool, name, img, buf, (size_t)got, offset + done, sparse, err);
        done += (uint64_t)got;
        if (r == 0 && progress && progress(opaque, done, length) != 0)
            r = vdisk_error_set(err, ECANCELED, "volume '%s': upload cancelled", name);
    }
    if (r == 0 && (r = rbd_flush(img)) < 0)
        r = rbd_pool_error(pool, name, r, "flush", err);
    free(buf);
    rbd_close(img);
    return r;
}

/* Write all of buf to fd. */
static int
write_all(int fd, const unsigned char *buf, size_t n, const char *name, vdisk_error *err)
{
    while (n) {
        ssize_t w = write(fd, buf, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return vdisk_error_set_errno(err, w < 0 ? errno : EIO, "volume '%s': cannot write the download",
                                         name);
        buf += w, n -= (size_t)w;
    }
    return 0;
}

/* buf to fd; when sparse and fd seeks, blocks of zeros become holes. */
static int
put_out(int fd, const unsigned char *buf, size_t n, bool sparse, vdisk_error *err, const char *name)
{
    for (size_t at = 0; at < n;) {
        size_t len = n - at < SPARSE_BLOCK ? n - at : SPARSE_BLOCK;
        if (!(sparse && all_zero(buf + at, len) && lseek(fd, (off_t)len, SEEK_CUR) >= 0)) {
            int r = write_all(fd, buf + at, len, name, err);
            if (r < 0)
                return r;
        }
        at += len;
    }
    return 0;
}

int
rbd_pool_vol_download(vdisk_pool *pool, const char *name, int fd, uint64_t offset, uint64_t length,
                      bool sparse, vdisk_progress_fn progress, void *opaque, vdisk_error *err)
{
    rbd_image_t img;
    rbd_image_info_t st;
    uint64_t done = 0;
    int r = rbd_pool_open_image(pool, name, true, &img, err);
    if (r < 0)
        return r;
    unsigned char *buf = malloc(XFER_CHUNK);
    if (!buf)
        r = vdisk_error_set(err, ENOMEM, "volume '%s': out of memory", name);
    else if ((r = rbd_stat(img, &st, sizeof(st))) < 0)
        r = rbd_pool_error(pool, name, r, "read the image's size", err);
    if (r == 0)
        r = transfer_range(name, st.size, offset, &length, err);
    while (r == 0 && done < length) {
        size_t n = length - done < XFER_CHUNK ? (size_t)(length - done) : XFER_CHUNK;
        ssize_t got = rbd_read(img, offset + done, n, (char *)buf);
        if (got < 0 || (size_t)got != n)
            r = rbd_pool_error(pool, name, got < 0 ? (int)got : -EIO, "read the image", err);
        if (r == 0)
            r = put_out(fd, buf, n, sparse, err, name);
        done += n;
        if (r == 0 && progress && progress(opaque, done, length) != 0)
            r = vdisk_error_set(err, ECANCELED, "volume '%s': download cancelled", name);
    }
    /* a sparse download that ends in a hole: the file gets its full length */
    off_t end = sparse && r == 0 ? lseek(fd, 0, SEEK_CUR) : -1;
    if (end > 0 && ftruncate(fd, end) < 0 && errno != EINVAL)
        r = vdisk_error_set_errno(err, errno, "volume '%s': cannot extend the download", name);
    free(buf);
    rbd_close(img);
    return r;
}
