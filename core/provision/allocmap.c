/* libvdisk — the allocation map of an image layer (vdisk/provision.h):
 * where each guest byte's space is, in the categories provisioning talks
 * about.
 *
 * Two sources, no data read: the format's block status (allocated, zero,
 * compressed, host offset) and, under every range with a host offset, the
 * host file system's extents (fiemap.h), which tell written blocks from
 * reserved-but-unwritten ones and from holes.  So a qcow2 data cluster over
 * a hole (preallocation=metadata) counts as unallocated: it takes no space,
 * whatever its L2 entry says; a zero cluster keeping its host cluster
 * counts as reserved only while that cluster holds blocks.
 */
#include <errno.h>

#include <vdisk/provision.h>

#include "fiemap.h"
#include "driver.h"

static const char *const kind_names[VDISK_ALLOC_KINDS] = {
    [VDISK_ALLOC_DATA] = "data",
    [VDISK_ALLOC_RESERVED] = "reserved",
    [VDISK_ALLOC_ZERO] = "zero",
    [VDISK_ALLOC_UNALLOCATED] = "unallocated",
    [VDISK_ALLOC_COMPRESSED] = "compressed",
    [VDISK_ALLOC_BACKING] = "backing",
};

const char *
vdisk_alloc_kind_name(vdisk_alloc_kind kind)
{
    return (unsigned)kind < VDISK_ALLOC_KINDS ? kind_names[kind] : "unknown";
}

/* The run being merged, and where runs go. */
struct walker {
    vdisk_alloc_fn fn;
    void *opaque;
    uint64_t off, len;
    vdisk_alloc_kind kind;
    bool stopped;       /* fn asked to stop */
};

static int
flush_run(struct walker *w)
{
    if (!w->len)
        return 0;
    w->stopped = w->fn(w->opaque, w->off, w->len, w->kind) != 0;
    w->len = 0;
    return w->stopped ? -ECANCELED : 0;
}

static int
emit(struct walker *w, uint64_t off, uint64_t len, vdisk_alloc_kind kind)
{
    if (w->len && w->kind == kind && w->off + w->len == off) {
        w->len += len;
        return 0;
    }
    int r = flush_run(w);
    w->off = off;
    w->len = len;
    w->kind = kind;
    return r;
}

/* A range with a host offset: split it by the host file's extents. */
static int
host_runs(vdisk_image *img, struct walker *w, const vdisk_extent *x, vdisk_error *err)
{
    /* A qcow2 zero cluster that keeps its host cluster reads zeros by its
     * flag: its blocks are a reservation; over a hole it takes nothing. */
    bool zero_flag = img->drv->format == VDISK_FORMAT_QCOW2 && (x->flags & VDISK_EXTENT_ZERO) &&
                     !(x->flags & VDISK_EXTENT_DATA);
    for (uint64_t done = 0; done < x->length;) {
        uint64_t h = x->host_offset + done, end;
        vdisk_host_kind k;
        int r = vdisk_host_extent(img->file, h, x->host_offset + x->length, &k, &end, err);
        if (r < 0)
            return r;
        vdisk_alloc_kind kind = k == VDISK_HOST_HOLE ? (zero_flag ? VDISK_ALLOC_ZERO : VDISK_ALLOC_UNALLOCATED)
                              : k == VDISK_HOST_UNWRITTEN || zero_flag ? VDISK_ALLOC_RESERVED
                              : VDISK_ALLOC_DATA;
        if ((r = emit(w, x->offset + done, end - h, kind)) < 0)
            return r;
        done += end - h;
    }
    return 0;
}

/* One block status extent of this layer into runs; *len may be cut short
 * where a backing file ends inside an unallocated range. */
static int
classify(vdisk_image *img, struct walker *w, vdisk_extent *x, vdisk_error *err)
{
    unsigned f = x->flags;
    if (f & VDISK_EXTENT_ALLOCATED) {
        if (f & VDISK_EXTENT_COMPRESSED)
            return emit(w, x->offset, x->length, VDISK_ALLOC_COMPRESSED);
        if (f & VDISK_EXTENT_OFFSET_VALID)
            return host_runs(img, w, x, err);
        /* No host offset: a zero cluster, or data we cannot place (encrypted). */
        return emit(w, x->offset, x->length,
                    (f & VDISK_EXTENT_ZERO) ? VDISK_ALLOC_ZERO : VDISK_ALLOC_DATA);
    }
    const vdisk_image *b = img->backing;
    if (b && x->offset < b->size) {
        if (x->length > b->size - x->offset)
            x->length = b->size - x->offset;
        return emit(w, x->offset, x->length, VDISK_ALLOC_BACKING);
    }
    /* Extended L2: a host cluster is there for a subcluster reading zeros. */
    if (f & VDISK_EXTENT_OFFSET_VALID)
        return host_runs(img, w, x, err);
    return emit(w, x->offset, x->length, VDISK_ALLOC_UNALLOCATED);
}

int
vdisk_alloc_map(vdisk_image *img, uint64_t off, uint64_t len, vdisk_alloc_fn fn, void *opaque,
                vdisk_error *err)
{
    uint64_t size = vdisk_get_size(img);
    if (off > size)
        return vdisk_error_set(err, EINVAL, "%s: allocation map from offset %llu, past the end "
                               "(%llu bytes)", img->filename, (unsigned long long)off,
                               (unsigned long long)size);
    uint64_t end = len == 0 || len > size - off ? size : off + len;
    struct walker w = { .fn = fn, .opaque = opaque };
    int r = 0;
    for (uint64_t pos = off; r == 0 && pos < end;) {
        vdisk_extent x;
        r = vdisk_block_status(img, pos, end - pos, &x, err);
        if (r == 0)
            r = classify(img, &w, &x, err);
        pos += x.length;
    }
    if (r == 0)
        r = flush_run(&w);
    if (w.stopped)
        r = vdisk_error_set(err, ECANCELED, "%s: allocation map stopped", img->filename);
    return r;
}

static int
add_up(void *opaque, uint64_t off, uint64_t len, vdisk_alloc_kind kind)
{
    (void)off;
    ((uint64_t *)opaque)[kind] += len;
    return 0;
}

int
vdisk_alloc_summary(vdisk_image *img, uint64_t *bytes, vdisk_error *err)
{
    for (int k = 0; k < VDISK_ALLOC_KINDS; k++)
        bytes[k] = 0;
    return vdisk_alloc_map(img, 0, 0, add_up, bytes, err);
}
