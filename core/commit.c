/* libvdisk — commit: merge the layers above a base image into it
 * (vdisk/backing.h), as `qemu-img commit`.
 *
 * The base, opened read-only as part of the chain, is closed and reopened
 * read-write in place (so that no second handle on the same file exists at
 * any time), grown to the overlay's size when smaller, and given every range
 * some layer above it allocates: data is copied, zeros become zero writes.
 * Without `drop` the overlay is then emptied so that it reads through to
 * the base.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <vdisk/backing.h>
#include <vdisk/resize.h>

#include "driver.h"

#define COMMIT_CHUNK (UINT64_C(4) << 20)
/* Copy threads.  Measured on tmpfs (2 cores): the copy is bound by the
 * kernel's memory copies, and a second worker only added contention on the
 * base's allocation, so one; raise it for storage with deep queues. */
#define COMMIT_WORKERS 1

static bool
same_file(const char *path, const vdisk_image *img)
{
    return path && vdisk_file_same_as(img->file, path);
}

/* Does `name` designate b, the backing image of `above`?  As qemu-img:
 * the name recorded in `above`, or a path that is absolute or relative to
 * the directory of `above` -- never to the current directory, which would
 * let "base.qcow2" typed in one directory commit into an unrelated image
 * of the chain elsewhere.  A protocol name (nbd://...) is compared as it is. */
static bool
names_backing(vdisk_image *above, vdisk_image *b, const char *name)
{
    if (strstr(name, "://") && strcmp(name, b->filename) == 0)
        return true;
    vdisk_info info;
    bool match = false;
    if (vdisk_get_info(above, &info, NULL) == 0 && info.backing_file)
        match = strcmp(info.backing_file, name) == 0;
    vdisk_info_clear(&info);
    char *full = vdisk_resolve_backing_name(above->filename, name);
    match = match || same_file(full, b);
    free(full);
    return match;
}

vdisk_image *
vdisk_find_backing(vdisk_image *overlay, const char *name)
{
    for (vdisk_image *above = overlay; above->backing; above = above->backing)
        if (names_backing(above, above->backing, name))
            return above->backing;
    return NULL;
}

/* Is [off, off+*n) allocated in a layer from top down to (not including)
 * base?  Narrows *n to a range of uniform answer; *zero: it reads as zeros. */
static int
allocated_above(vdisk_image *top, vdisk_image *base, uint64_t off, uint64_t *n, bool *alloc,
                bool *zero, vdisk_error *err)
{
    *alloc = *zero = false;
    for (vdisk_image *img = top; img && img != base; img = img->backing) {
        if (off >= img->size) {
            /* Past a lower layer's end the layers above read zeros. */
            *alloc = *zero = true;
            return 0;
        }
        vdisk_extent e;
        uint64_t len = *n < img->size - off ? *n : img->size - off;
        int r = vdisk_block_status(img, off, len, &e, err);
        if (r < 0)
            return r;
        *n = e.length;
        if (e.flags & VDISK_EXTENT_ALLOCATED) {
            *alloc = true;
            *zero = (e.flags & VDISK_EXTENT_ZERO) != 0;
            return 0;
        }
    }
    return 0;
}

/* The parallel copy: workers claim COMMIT_CHUNK pieces in order. */
struct copy_job {
    vdisk_image *top, *base;
    pthread_mutex_t lock;
    uint64_t next, done;
    int ret;
    vdisk_error err;
    vdisk_progress_fn progress;
    void *opaque;
};

/* Copy [off, end) where it is allocated above base. */
static int
copy_piece(struct copy_job *j, uint8_t *buf, uint64_t off, uint64_t end, vdisk_error *err)
{
    int r = 0;
    while (r == 0 && off < end) {
        uint64_t n = end - off;
        bool alloc, zero;
        r = allocated_above(j->top, j->base, off, &n, &alloc, &zero, err);
        if (r == 0 && alloc && !zero)
            r = vdisk_pread(j->top, buf, n, off, err);
        if (r == 0 && alloc) {
            if (zero || vdisk_buffer_is_zero(buf, n))
                r = vdisk_write_zeroes(j->base, n, off, VDISK_ZERO_MAY_UNMAP, err);
            else
                r = vdisk_pwrite(j->base, buf, n, off, err);
        }
        off += n;
    }
    return r;
}

static void *
copy_worker(void *opaque)
{
    struct copy_job *j = opaque;
    uint8_t *buf = vdisk_alloc_aligned(COMMIT_CHUNK, false);
    vdisk_error err = { 0 };
    int r = buf ? 0 : vdisk_error_set(&err, ENOMEM, "%s: out of memory", j->top->filename);
    pthread_mutex_lock(&j->lock);
    while (r == 0 && j->ret == 0 && j->next < j->top->size) {
        uint64_t off = j->next;
        uint64_t end = j->top->size - off < COMMIT_CHUNK ? j->top->size : off + COMMIT_CHUNK;
        j->next = end;
        pthread_mutex_unlock(&j->lock);
        r = copy_piece(j, buf, off, end, &err);
        pthread_mutex_lock(&j->lock);
        j->done += end - off;
        if (r == 0 && j->progress && j->progress(j->opaque, j->done, j->top->size))
            r = vdisk_error_set(&err, ECANCELED, "%s: commit cancelled", j->top->filename);
    }
    if (r < 0 && j->ret == 0) {
        j->ret = r;
        j->err = err;
    }
    pthread_mutex_unlock(&j->lock);
    free(buf);
    return NULL;
}

/* Copy every range allocated above base into it (base open read-write). */
static int
copy_down(vdisk_image *top, vdisk_image *base, vdisk_progress_fn progress, void *opaque,
          vdisk_error *err)
{
    struct copy_job j = { .top = top, .base = base, .progress = progress, .opaque = opaque };
    pthread_t tids[COMMIT_WORKERS];
    int started = 0;
    pthread_mutex_init(&j.lock, NULL);
    while (started < COMMIT_WORKERS && pthread_create(&tids[started], NULL, copy_worker, &j) == 0)
        started++;
    if (started == 0)
        copy_worker(&j);   /* no threads to be had: do it here */
    for (int i = 0; i < started; i++)
        pthread_join(tids[i], NULL);
    pthread_mutex_destroy(&j.lock);
    if (j.ret < 0) {
        if (err)
            *err = j.err;
        return j.ret;
    }
    return vdisk_flush(base, err);
}

/* Replace above->backing (the read-only base) by a read-write handle on
 * the same file, its own backing chain reopened under it. */
static int
reopen_base_rw(vdisk_image *above, vdisk_error *err)
{
    vdisk_image *old = above->backing;
    vdisk_open_opts oo = { .format = old->drv->format,
                           .flags = VDISK_OPEN_RDWR | (old->flags & VDISK_OPEN_DIRECT),
                           .secret = above->secret, .secret_len = above->secret_len,
                           .backing_policy = old->backing_policy };
    bool probed = old->probed_raw;
    char *path = strdup(old->filename);
    if (!path)
        return vdisk_error_set(err, ENOMEM, "%s: out of memory", old->filename);
    above->backing = NULL;
    vdisk_close(old, NULL);
    vdisk_image *nb;
    int r = vdisk_open(path, &oo, &nb, err);
    if (r < 0) {
        vdisk_error_prefix(err, "cannot open the base image for writing");
        /* Put the chain back as it was, read-only. */
        oo.flags &= ~VDISK_OPEN_RDWR;
        if (vdisk_open(path, &oo, &nb, NULL) < 0)
            nb = NULL;
    }
    free(path);
    if (nb) {
        nb->overlay = above;
        nb->depth = above->depth + 1;
        nb->probed_raw = probed;
    }
    above->backing = nb;
    return r;
}

static int
find_above(vdisk_image *overlay, vdisk_image **base, vdisk_image **above, vdisk_error *err)
{
    if (!overlay->backing)
        return vdisk_error_set(err, EINVAL, "%s: Image does not have a backing file",
                               overlay->filename);
    if (!*base)
        *base = overlay->backing;
    for (*above = overlay; (*above)->backing; *above = (*above)->backing)
        if ((*above)->backing == *base)
            return 0;
    return vdisk_error_set(err, EINVAL, "%s: the base image %s is not in its backing chain",
                           overlay->filename, (*base)->filename);
}

int
vdisk_commit(vdisk_image *overlay, vdisk_image *base, bool drop, vdisk_progress_fn progress,
             void *opaque, vdisk_error *err)
{
    vdisk_image *above = NULL;
    int r = find_above(overlay, &base, &above, err);
    if (r < 0)
        return r;
    if (base != overlay->backing)
        drop = true;   /* emptying would let the intermediate layers show */
    if (!drop && !overlay->drv->make_empty)
        drop = true;   /* nothing to empty, as qemu-img ignores ENOTSUP */
    if (!drop && vdisk_is_read_only(overlay))
        return vdisk_error_set(err, EROFS, "%s: the overlay is open read-only and cannot be "
                               "emptied after the commit", overlay->filename);
    r = reopen_base_rw(above, err);
    if (r < 0)
        return r;
    base = above->backing;
    if (base->size < overlay->size) {
        r = vdisk_resize(base, overlay->size, false, VDISK_PREALLOC_OFF, NULL, NULL, err);
        if (r < 0)
            vdisk_error_prefix(err, "%s: cannot grow the base image", overlay->filename);
    }
    if (r == 0)
        r = copy_down(overlay, base, progress, opaque, err);
    if (r == 0 && !drop)
        r = overlay->drv->make_empty(overlay, err);
    return r;
}
