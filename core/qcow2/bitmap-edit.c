/* libvdisk — qcow2 persistent dirty bitmaps edited as `qemu-img bitmap`
 * does (--add, --remove, --clear, --enable, --disable, --merge), on the
 * list bitmap.c loaded at open; bitmap-store.c writes the result at close.
 * Messages are QEMU's (blockdev.c, block/dirty-bitmap.c).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "qcow2.h"

/* QEMU's default: the cluster size, within [4 KiB, 64 KiB]. */
static uint32_t
default_granularity(const qcow2_state *s)
{
    uint64_t g = s->cluster_size < 4096 ? 4096 : s->cluster_size;
    return (uint32_t)(g > 65536 ? 65536 : g);
}

static struct qcow2_bitmap *
find(struct qcow2_bitmaps *bm, const char *name)
{
    for (uint32_t i = 0; i < bm->n; i++)
        if (strcmp(bm->v[i].name, name) == 0)
            return &bm->v[i];
    return NULL;
}

static int
add(qcow2_state *s, const vdisk_bitmap_op *op, vdisk_error *err)
{
    struct qcow2_bitmaps *bm = s->bitmaps;
    uint32_t g = op->granularity ? op->granularity : default_granularity(s);
    if (g < 512 || (g & (g - 1)))
        return vdisk_error_set(err, EINVAL, "%s: Granularity must be power of 2 and at least 512",
                               s->name);
    if (find(bm, op->name))
        return vdisk_error_set(err, EEXIST, "%s: Bitmap already exists: %s", s->name, op->name);
    if (bm->n >= QCOW2_MAX_BITMAPS)
        return vdisk_error_set(err, ENOSPC, "%s: Can't make bitmap '%s' persistent: too many "
                               "bitmaps", s->name, op->name);
    struct qcow2_bitmap *v = realloc(bm->v, (bm->n + 1) * sizeof(*v));
    if (!v)
        return vdisk_error_set(err, ENOMEM, "%s: out of memory", s->name);
    bm->v = v;
    struct qcow2_bitmap *b = &v[bm->n];
    memset(b, 0, sizeof(*b));
    b->type = 1;
    b->gran_bits = (uint8_t)__builtin_ctz(g);
    b->flags = op->disabled ? 0 : QCOW2_BME_AUTO;
    b->nbytes = qcow2_bitmap_data_bytes(s->img->size, b->gran_bits);
    uint64_t alloc = (b->nbytes + s->cluster_size - 1) & ~(s->cluster_size - 1);
    b->name = strdup(op->name);
    b->bits = calloc(1, alloc ? alloc : s->cluster_size);
    if (!b->name || !b->bits) {
        free(b->name);
        free(b->bits);
        return vdisk_error_set(err, ENOMEM, "%s: out of memory", s->name);
    }
    bm->n++;
    return 0;
}

/* Move b out of the list; its clusters are freed at store. */
static int
drop(qcow2_state *s, struct qcow2_bitmap *b, vdisk_error *err)
{
    struct qcow2_bitmaps *bm = s->bitmaps;
    struct qcow2_bitmap *d = realloc(bm->dropped, (bm->ndropped + 1) * sizeof(*d));
    if (!d)
        return vdisk_error_set(err, ENOMEM, "%s: out of memory", s->name);
    bm->dropped = d;
    d[bm->ndropped++] = *b;
    size_t i = (size_t)(b - bm->v);
    memmove(b, b + 1, (bm->n - i - 1) * sizeof(*b));
    bm->n--;
    return 0;
}

/* Set in dst every range src has dirty (any granularities). */
static void
merge_bits(struct qcow2_bitmap *dst, const struct qcow2_bitmap *src)
{
    for (uint64_t i = 0; i < src->nbytes; i++) {
        if (!src->bits[i])
            continue;
        for (unsigned j = 0; j < 8; j++)
            if (src->bits[i] >> j & 1)
                qcow2_bitmap_set(dst, (i * 8 + j) << src->gran_bits, UINT64_C(1) << src->gran_bits);
    }
}

static int
merge(qcow2_state *s, struct qcow2_bitmap *b, const vdisk_bitmap_op *op, vdisk_error *err)
{
    qcow2_state *src = op->src ? op->src->priv : s;
    struct qcow2_bitmap *c;
    /* (A bitmap of this image: its lock is ours already.) */
    pthread_mutex_unlock(&s->bitmaps->lock);
    int r = qcow2_bitmap_copy(src, op->src_name, &c, err);
    pthread_mutex_lock(&s->bitmaps->lock);
    if (r < 0)
        return r;
    b = find(s->bitmaps, op->name);
    if (b)
        merge_bits(b, c);
    else
        r = vdisk_error_set(err, ENOENT, "%s: Dirty bitmap '%s' not found", s->name, op->name);
    qcow2_bitmaps_free_dir(c, 1);
    return r;
}

static int
edit(qcow2_state *s, const vdisk_bitmap_op *op, vdisk_error *err)
{
    if (op->action == VDISK_BITMAP_ADD)
        return add(s, op, err);
    struct qcow2_bitmap *b = find(s->bitmaps, op->name);
    if (!b)
        return vdisk_error_set(err, ENOENT, "%s: Dirty bitmap '%s' not found", s->name, op->name);
    if (op->action == VDISK_BITMAP_REMOVE)
        return drop(s, b, err);
    if (!b->bits)
        return vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL,
                                    "%s: Bitmap '%s' is inconsistent and cannot be used",
                                    s->name, b->name);
    switch (op->action) {
    case VDISK_BITMAP_CLEAR:
        memset(b->bits, 0, b->nbytes);
        return 0;
    case VDISK_BITMAP_ENABLE:
        b->flags |= QCOW2_BME_AUTO;
        return 0;
    case VDISK_BITMAP_DISABLE:
        b->flags &= ~QCOW2_BME_AUTO;
        return 0;
    case VDISK_BITMAP_MERGE:
        return merge(s, b, op, err);
    default:
        return vdisk_error_set(err, EINVAL, "%s: unknown bitmap operation %d", s->name,
                               (int)op->action);
    }
}

/* Bitmap: one qemu-img bitmap operation (see the file comment). */
int
qcow2_bitmap(vdisk_image *img, const vdisk_bitmap_op *op, vdisk_error *err)
{
    qcow2_state *s = img->priv;
    int r = qcow2_bitmaps_ensure(s, err);
    if (r < 0)
        return r;
    pthread_mutex_lock(&s->bitmaps->lock);
    r = edit(s, op, err);
    pthread_mutex_unlock(&s->bitmaps->lock);
    return r;
}
