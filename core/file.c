/* libvdisk — the bytes under an image layer.  See file.h.
 *
 * Names are parsed once (protocol/location.c) and the handle is bound to its
 * protocol's table; what every protocol would repeat lives here: the
 * read-only guard, cache=unsafe, writing zeros where a protocol cannot zero
 * quickly, eager-zeroed thick, the permissions asked of the lock.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "file.h"
#include "protocol/protocol.h"

#define DIRECT_ALIGN 4096u
/* Chunk for writing zeros (eager-zeroed thick, zero fallbacks).  64 KiB,
 * as qemu-img writes them: on an AMD EPYC host (Linux 6.18, ext4, a
 * virtual machine) 1 MiB buffered writes cost five times the system time
 * of 64 KiB ones, all of it in the copy into the page cache (perf:
 * copy_folio_from_iter_atomic), likely the large folios a big write asks
 * for: `create -f raw -o preallocation=full 1G` from a dropped page cache
 * after a qemu-img create of the same file took 1.57-1.99 s (1.0-1.5 s
 * system) with 1 MiB writes, 0.63-0.82 s (0.21-0.24 s) with 64 KiB (3
 * alternating rounds).  (On the Intel host before, 1 MiB was as fast as
 * 4 MiB on ext4, xfs and tmpfs.) */
#define ZERO_CHUNK (64u << 10)

void *
vdisk_alloc_aligned(size_t len, bool zero)
{
    void *p = NULL;
    if (len == 0)
        len = DIRECT_ALIGN;
    if (posix_memalign(&p, DIRECT_ALIGN, len) != 0)
        return NULL;
    if (zero)
        memset(p, 0, len);
    return p;
}

bool
vdisk_buffer_is_zero(const void *buf, size_t len)
{
    const unsigned char *p = buf;
    /* Check the first 16 bytes by hand, then compare the buffer with itself
     * shifted by 16: memcmp is vectorised and this needs no zero page. */
    size_t head = len < 16 ? len : 16;
    for (size_t i = 0; i < head; i++)
        if (p[i])
            return false;
    if (len <= 16)
        return true;
    return memcmp(p, p + 16, len - 16) == 0;
}

/* ---- open / create / close ---------------------------------------------- */

/* Parse the name and allocate a handle bound to its protocol. */
static int
file_new(const char *name, bool read_only, vdisk_location *loc, vdisk_file **out, vdisk_error *err)
{
    int r = vdisk_location_parse(name, loc, err);
    if (r < 0)
        return r;
    const struct vdisk_protocol *proto = vdisk_protocol_for(loc, err);
    if (!proto) {
        vdisk_location_clear(loc);
        return err ? err->code : -ENOTSUP;
    }
    vdisk_file *f = calloc(1, sizeof(*f));
    if (!f || !(f->path = strdup(name))) {
        free(f);
        vdisk_location_clear(loc);
        return vdisk_error_set(err, ENOMEM, "%s: out of memory", name);
    }
    f->proto = proto;
    f->read_only = read_only;
    f->align = 1;
    atomic_init(&f->skip_sync, false);
    *out = f;
    return 0;
}

static void
file_free(vdisk_file *f)
{
    free(f->path);
    free(f);
}

int
vdisk_file_open(const char *path, unsigned flags, vdisk_file **out, vdisk_error *err)
{
    vdisk_location loc;
    vdisk_file *f;
    int r = file_new(path, !(flags & VDISK_OPEN_RDWR), &loc, &f, err);
    if (r < 0)
        return r;
    r = f->proto->open(f, &loc, flags, err);
    vdisk_location_clear(&loc);
    if (r < 0) {
        file_free(f);
        return r;
    }
    *out = f;
    return 0;
}

int
vdisk_file_create(const char *path, bool nocow, vdisk_file **out, vdisk_error *err)
{
    vdisk_location loc;
    vdisk_file *f;
    int r = file_new(path, false, &loc, &f, err);
    if (r < 0)
        return r;
    r = f->proto->create(f, &loc, nocow, err);
    vdisk_location_clear(&loc);
    if (r < 0) {
        file_free(f);
        return r;
    }
    *out = f;
    return 0;
}

void
vdisk_file_close(vdisk_file *f)
{
    if (!f)
        return;
    f->proto->close(f);
    file_free(f);
}

void
vdisk_file_abandon(vdisk_file *f)
{
    if (!f)
        return;
    if (f->proto->remove_created)
        f->proto->remove_created(f);
    vdisk_file_close(f);
}

void
vdisk_file_remove(const char *name)
{
    vdisk_location loc;
    if (vdisk_location_parse(name, &loc, NULL) < 0)
        return;
    const struct vdisk_protocol *proto = vdisk_protocol_for(&loc, NULL);
    if (proto && proto->remove)
        proto->remove(&loc);
    vdisk_location_clear(&loc);
}

bool
vdisk_file_same_as(vdisk_file *f, const char *name)
{
    vdisk_location loc;
    if (!f->proto->same_as || vdisk_location_parse(name, &loc, NULL) < 0)
        return false;
    bool same = f->proto->same_as(f, &loc);
    vdisk_location_clear(&loc);
    return same;
}

bool
vdisk_file_has_zero_init(vdisk_file *f)
{
    return f->proto->zero_init && f->proto->zero_init(f);
}

const char *
vdisk_file_protocol(const vdisk_file *f)
{
    return f->proto->name;
}

/* ---- locks and host fast paths ------------------------------------------ */

int
vdisk_file_lock(vdisk_file *f, unsigned perm, unsigned shared, vdisk_error *err)
{
    if (!f->proto->lock)
        return 0;
    int r = f->proto->lock(f, perm, shared, err);
    if (r == 0) {
        f->lock_perm = perm;
        f->lock_shared = shared;
    }
    return r;
}

int
vdisk_file_add_perms(vdisk_file *f, unsigned perm, vdisk_error *err)
{
    if ((f->lock_perm & perm) == perm)
        return 0;
    return vdisk_file_lock(f, f->lock_perm | perm, f->lock_shared, err);
}

int
vdisk_file_host_fd(vdisk_file *f)
{
    return f->proto->host_fd ? f->proto->host_fd(f) : -1;
}

void
vdisk_file_start_writeback(vdisk_file *f)
{
    int fd = vdisk_file_host_fd(f);
    if (fd >= 0 && !f->direct)
        (void)sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WRITE);
}

void
vdisk_file_advise_sequential(vdisk_file *f)
{
    int fd = vdisk_file_host_fd(f);
    if (fd >= 0)
        (void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
}

/* ---- data --------------------------------------------------------------- */

static int
refuse_read_only(vdisk_file *f, vdisk_error *err)
{
    return vdisk_error_set(err, EROFS, "%s: opened read-only", f->path);
}

int
vdisk_file_pread(vdisk_file *f, void *buf, size_t len, uint64_t off, vdisk_error *err)
{
    return f->proto->pread(f, buf, len, off, err);
}

int
vdisk_file_pwrite(vdisk_file *f, const void *buf, size_t len, uint64_t off, vdisk_error *err)
{
    if (f->read_only)
        return refuse_read_only(f, err);
    return f->proto->pwrite(f, buf, len, off, err);
}

int
vdisk_file_flush(vdisk_file *f, vdisk_error *err)
{
    if (f->read_only || atomic_load(&f->skip_sync))
        return 0;
    return f->proto->flush(f, err);
}

int
vdisk_file_get_length(vdisk_file *f, uint64_t *len, vdisk_error *err)
{
    return f->proto->get_length(f, len, err);
}

int
vdisk_file_truncate(vdisk_file *f, uint64_t len, vdisk_error *err)
{
    if (f->read_only)
        return refuse_read_only(f, err);
    return f->proto->truncate(f, len, err);
}

int
vdisk_file_allocated(vdisk_file *f, uint64_t *bytes, vdisk_error *err)
{
    if (!f->proto->allocated)
        return vdisk_error_set(err, ENOTSUP, "%s: %s images do not report their allocation",
                               f->path, f->proto->name);
    return f->proto->allocated(f, bytes, err);
}

int
vdisk_file_allocate(vdisk_file *f, uint64_t off, uint64_t len, vdisk_error *err)
{
    if (len == 0)
        return 0;
    if (!f->proto->allocate)
        return vdisk_error_set(err, ENOTSUP, "%s: %s images cannot reserve space without writing it "
                               "(preallocation=falloc); use full", f->path, f->proto->name);
    return f->proto->allocate(f, off, len, err);
}

int
vdisk_file_punch_hole(vdisk_file *f, uint64_t off, uint64_t len, vdisk_error *err)
{
    if (len == 0)
        return 0;
    if (!f->proto->punch_hole)
        return vdisk_error_set(err, ENOTSUP, "%s: %s images cannot deallocate ranges", f->path,
                               f->proto->name);
    return f->proto->punch_hole(f, off, len, err);
}

/* Write real zeros over a range, in large aligned chunks, out of ordinary
 * zeroed memory (aligned for O_DIRECT).  Until 2026-12-08 buffered writes
 * took them from a read-only anonymous mapping never written, all of it the
 * kernel's one zero page: no memory of its own, but on an AMD EPYC host
 * (Linux 6.18, ext4) the copies out of it cost three times the system time:
 * `create -f raw -o preallocation=full FILE 1G` from a dropped page cache
 * took 0.86-2.32 s, 0.49-1.80 s of it system time, 88% of the samples in
 * copy_folio_from_iter_atomic; out of zeroed memory 0.57-0.70 s, 0.14-0.23 s
 * system; qemu-img 0.73-0.87 s (4 alternating rounds). */
static int
write_zero_chunks(vdisk_file *f, uint64_t off, uint64_t len, vdisk_progress_fn progress,
                  void *opaque, vdisk_error *err)
{
    size_t chunk = ZERO_CHUNK;
    if (len < chunk)
        chunk = (size_t)((len + DIRECT_ALIGN - 1) / DIRECT_ALIGN * DIRECT_ALIGN);
    char *zeros = vdisk_alloc_aligned(chunk, true);
    if (!zeros)
        return vdisk_error_set(err, ENOMEM, "%s: out of memory", f->path);
    uint64_t done = 0;
    int r = 0;
    while (done < len) {
        /* First chunk ends on a chunk boundary, so later ones are aligned. */
        uint64_t pos = off + done;
        uint64_t n = chunk - (pos % chunk);
        if (n > len - done)
            n = len - done;
        r = vdisk_file_pwrite(f, zeros, (size_t)n, pos, err);
        if (r < 0)
            break;
        done += n;
        if (progress && progress(opaque, done, len)) {
            r = vdisk_error_set(err, ECANCELED, "%s: cancelled", f->path);
            break;
        }
    }
    free(zeros);
    return r;
}

int
vdisk_file_zero(vdisk_file *f, uint64_t off, uint64_t len, bool may_unmap, vdisk_error *err)
{
    if (len == 0)
        return 0;
    if (f->read_only)
        return refuse_read_only(f, err);
    if (f->proto->zero) {
        int r = f->proto->zero(f, off, len, may_unmap, err);
        if (r != -ENOTSUP)
            return r;
    }
    return write_zero_chunks(f, off, len, NULL, NULL, err);
}

int
vdisk_file_write_zeroes_full(vdisk_file *f, uint64_t off, uint64_t len,
                             vdisk_progress_fn progress, void *opaque, vdisk_error *err)
{
    if (len == 0)
        return 0;
    if (f->proto->zero_full) {
        int r = f->proto->zero_full(f, off, len, progress, opaque, err);
        if (r != -ENOTSUP)
            return r;
    }
    /* Reserve, then write.  Reserving first lets the file system lay the
     * range out contiguously and fail early (ENOSPC) before a byte is
     * written; and on ext4 and xfs (Linux 6.18) writing zeros over the
     * unwritten extents took a fifth of the CPU time of writing them into
     * a file without (1 MiB writes). */
    int r = vdisk_file_allocate(f, off, len, err);
    if (r < 0 && r != -ENOTSUP)
        return r;
    return write_zero_chunks(f, off, len, progress, opaque, err);
}

int
vdisk_file_extent(vdisk_file *f, uint64_t off, uint64_t limit, bool *is_data, uint64_t *end,
                  vdisk_error *err)
{
    if (off >= limit) {
        *is_data = false;
        *end = limit;
        return 0;
    }
    if (f->proto->extent)
        return f->proto->extent(f, off, limit, is_data, end, err);
    *is_data = true;
    *end = limit;
    return 0;
}

int
vdisk_file_status(vdisk_file *f, uint64_t off, uint64_t limit, unsigned *flags, uint64_t *end,
                  vdisk_error *err)
{
    if (off < limit && f->proto->status)
        return f->proto->status(f, off, limit, flags, end, err);
    bool data;
    int r = vdisk_file_extent(f, off, limit, &data, end, err);
    if (r == 0)
        *flags = VDISK_EXTENT_ALLOCATED | (data ? VDISK_EXTENT_DATA : VDISK_EXTENT_ZERO);
    return r;
}
