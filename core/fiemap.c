/* libvdisk — host extents with FIEMAP (see fiemap.h for why not SEEK_DATA).
 *
 * One ioctl asks for a handful of extents and merges the contiguous ones of
 * one kind, so a caller walking a file makes about one call per change of
 * kind.  FIEMAP_FLAG_SYNC writes dirty pages back first: ext4 keeps an
 * extent unwritten until its pages reach the disk, and a range vdisk just
 * wrote must not read as "unwritten" to a caller about to punch it.
 */
#include <errno.h>
#include <linux/fiemap.h>
#include <linux/fs.h>
#include <stdbool.h>
#include <string.h>
#include <sys/ioctl.h>

#include "fiemap.h"

#define FIEMAP_BATCH 32

struct fiemap_buf {
    struct fiemap fm;
    struct fiemap_extent ext[FIEMAP_BATCH];
};

static vdisk_host_kind
kind_of(const struct fiemap_extent *e)
{
    /* Delayed allocation and "unknown" extents hold data not yet placed. */
    return (e->fe_flags & FIEMAP_EXTENT_UNWRITTEN) ? VDISK_HOST_UNWRITTEN : VDISK_HOST_DATA;
}

/* Without FIEMAP: SEEK_DATA/SEEK_HOLE (never reports unwritten). */
static int
seek_extent(vdisk_file *f, uint64_t off, uint64_t limit, vdisk_host_kind *kind, uint64_t *end,
            vdisk_error *err)
{
    bool data;
    int r = vdisk_file_extent(f, off, limit, &data, end, err);
    if (r == 0)
        *kind = data ? VDISK_HOST_DATA : VDISK_HOST_HOLE;
    return r;
}

int
vdisk_host_extent(vdisk_file *f, uint64_t off, uint64_t limit, vdisk_host_kind *kind,
                  uint64_t *end, vdisk_error *err)
{
    if (off >= limit)
        return vdisk_error_set(err, EINVAL, "%s: empty host range at 0x%llx", f->path,
                               (unsigned long long)off);
    struct fiemap_buf b;
    memset(&b, 0, sizeof(b));
    b.fm.fm_start = off;
    b.fm.fm_length = limit - off;
    b.fm.fm_flags = FIEMAP_FLAG_SYNC;
    b.fm.fm_extent_count = FIEMAP_BATCH;
    int fd = vdisk_file_host_fd(f);
    if (fd < 0)     /* not a host file: its protocol's data/hole map */
        return seek_extent(f, off, limit, kind, end, err);
    if (ioctl(fd, FS_IOC_FIEMAP, &b.fm) < 0) {
        if (errno == EOPNOTSUPP || errno == ENOTTY || errno == EINVAL || errno == ENOTSUP)
            return seek_extent(f, off, limit, kind, end, err);
        return vdisk_error_set_errno(err, errno, "%s: FIEMAP at offset 0x%llx failed", f->path,
                                     (unsigned long long)off);
    }
    const struct fiemap_extent *e = b.ext;
    uint32_t n = b.fm.fm_mapped_extents;
    if (n == 0 || e[0].fe_logical >= limit) {
        *kind = VDISK_HOST_HOLE;
        *end = limit;
        return 0;
    }
    if (e[0].fe_logical > off) {
        *kind = VDISK_HOST_HOLE;
        *end = e[0].fe_logical;
        return 0;
    }
    *kind = kind_of(&e[0]);
    uint64_t stop = e[0].fe_logical + e[0].fe_length;
    for (uint32_t i = 1; i < n && stop < limit; i++) {
        if (e[i].fe_logical != stop || kind_of(&e[i]) != *kind)
            break;
        stop += e[i].fe_length;
    }
    *end = stop < limit ? stop : limit;
    if (*end <= off)     /* a file system answering nonsense: take it as data */
        *end = limit;
    return 0;
}

int
vdisk_host_allocated(vdisk_file *f, uint64_t off, uint64_t len, uint64_t *bytes, vdisk_error *err)
{
    uint64_t pos = off, end = off + len;
    *bytes = 0;
    while (pos < end) {
        vdisk_host_kind k;
        uint64_t e;
        int r = vdisk_host_extent(f, pos, end, &k, &e, err);
        if (r < 0)
            return r;
        if (k != VDISK_HOST_HOLE)
            *bytes += e - pos;
        pos = e;
    }
    return 0;
}

int
vdisk_host_reads_zero(vdisk_file *f, uint64_t off, uint64_t len, bool *zero, vdisk_error *err)
{
    uint64_t pos = off, end = off + len;
    *zero = true;
    while (pos < end && *zero) {
        vdisk_host_kind k;
        uint64_t e;
        int r = vdisk_host_extent(f, pos, end, &k, &e, err);
        if (r < 0)
            return r;
        *zero = k != VDISK_HOST_DATA;
        pos = e;
    }
    return 0;
}
