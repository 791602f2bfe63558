/* libvdisk — the rbd protocol's allocation map.
 *
 * librbd reports the allocated extents of an image (from its object map
 * when the fast-diff feature is on, else by asking each object) through
 * rbd_diff_iterate2 with no "from" snapshot.  Whole objects, as QEMU asks:
 * the object map answers that without a round trip per object, and
 * `qemu-img map` shows the same extents.  Extents arrive in offset order;
 * the walk stops as soon as the answer is known.
 */
#include <errno.h>
#include <string.h>

#include "rbd.h"

/* A value no librbd error uses: our callback's "stop, I know enough". */
#define WALK_DONE (-ECANCELED)

typedef struct extent_walk {
    uint64_t off;        /* where the question starts */
    bool found;          /* a first extent was seen */
    uint64_t start, end; /* the run of contiguous data found so far */
} extent_walk;

/* One allocated extent: open or extend the run, or stop at a gap. */
static int
extent_cb(uint64_t offset, size_t len, int exists, void *opaque)
{
    extent_walk *w = opaque;
    if (!exists)
        return 0;
    if (!w->found) {
        w->found = true;
        w->start = offset;
        w->end = offset + len;
        /* Data starts after a hole: the hole is the answer. */
        return offset > w->off ? WALK_DONE : 0;
    }
    if (offset > w->end)
        return WALK_DONE;
    if (offset + len > w->end)
        w->end = offset + len;
    return 0;
}

int
vdisk_rbd_extent(vdisk_file *f, uint64_t off, uint64_t limit, bool *is_data, uint64_t *end,
                 vdisk_error *err)
{
    rbd_file *p = f->priv;
    uint64_t size = atomic_load(&p->size);
    if (off >= size) {
        /* Past the image: nothing stored, reads as zeros. */
        *is_data = false;
        *end = limit;
        return 0;
    }
    uint64_t stop = limit < size ? limit : size;
    extent_walk w = { .off = off };
    int r = rbd_diff_iterate2(p->image, NULL, off, stop - off, 1, 1, extent_cb, &w);
    if (r < 0 && r != WALK_DONE)
        return vdisk_error_set_errno(err, -r, "%s: cannot read the allocation map at offset 0x%llx",
                                     f->path, (unsigned long long)off);
    if (!w.found || w.start > off) {
        *is_data = false;
        *end = w.found ? w.start : stop;
    } else {
        *is_data = true;
        *end = w.end;
    }
    if (*end > stop || *end <= off)
        *end = stop;
    /* A hole that reaches the end of the image goes on past it. */
    if (!*is_data && *end == size)
        *end = limit;
    return 0;
}

/* Sum of allocated whole objects. */
static int
sum_cb(uint64_t offset, size_t len, int exists, void *opaque)
{
    (void)offset;
    if (exists)
        *(uint64_t *)opaque += len;
    return 0;
}

int
vdisk_rbd_allocated(vdisk_file *f, uint64_t *bytes, vdisk_error *err)
{
    rbd_file *p = f->priv;
    uint64_t sum = 0;
    int r = rbd_diff_iterate2(p->image, NULL, 0, atomic_load(&p->size), 0, 1, sum_cb, &sum);
    if (r < 0)
        return vdisk_error_set_errno(err, -r, "%s: cannot read the allocation map", f->path);
    *bytes = sum;
    return 0;
}
