/* libvdisk — qcow2 provisioning: the walk over the active layer's clusters
 * in batches, the refusals, and the ordered switch of L2 entries (see
 * provision.h for the order and why). */
#include <errno.h>
#include <stdlib.h>

#include "ordering.h"
#include "qcow2/provision.h"

/* Most clusters planned at once (their plans take ~100 bytes each). */
#define BATCH_MAX 8192u

int
qcow2_prov_check(qcow2_state *s, const vdisk_provision_req *req, vdisk_error *err)
{
    if (s->crypt_method)
        return vdisk_error_set(err, ENOTSUP, "%s: %s of encrypted images is not supported (zeros "
                               "on the host do not decrypt to zeros in the guest)", s->name,
                               req->what);
    if (s->backing_file && !s->img->backing)
        return vdisk_error_set(err, EINVAL, "%s: %s needs the backing file '%s' open (it decides "
                               "which clusters read from it)", s->name, req->what, s->backing_file);
    return 0;
}

bool
qcow2_prov_backed(const qcow2_state *s, uint64_t gc)
{
    const vdisk_image *b = s->img->backing;
    return s->backing_file && (!b || (gc << s->cluster_bits) < b->size);
}

/* Read the entries of [g0, g0+n) (lock held). */
static int
load_batch(qcow2_state *s, struct qcow2_prov_batch *b, vdisk_error *err)
{
    for (uint64_t i = 0; i < b->n; i++) {
        struct qcow2_prov_cluster *c = &b->c[i];
        uint64_t gc = b->g0 + i, start = gc << s->cluster_bits;
        int r = qcow2_l2_lookup(s, gc, &c->entry, &c->bitmap, err);
        if (r < 0)
            return r;
        c->backed = qcow2_prov_backed(s, gc);
        c->bytes = s->img->size - start < s->cluster_size ? s->img->size - start : s->cluster_size;
    }
    return 0;
}

int
qcow2_prov_walk(qcow2_state *s, vdisk_provision_req *req, qcow2_prov_batch_fn fn, void *ctx,
                vdisk_error *err)
{
    uint64_t size = s->img->size;
    uint64_t total = (size + s->cluster_size - 1) >> s->cluster_bits;
    uint64_t max = s->l2_entries < BATCH_MAX ? s->l2_entries : BATCH_MAX;
    struct qcow2_prov_batch b = { 0 };
    b.c = calloc(max, sizeof(*b.c));
    b.p = calloc(max, sizeof(*b.p));
    int r = b.c && b.p ? 0 : vdisk_error_set(err, ENOMEM, "%s: out of memory", s->name);
    if (r == 0 && !vdisk_provision_dry(req)) {
        pthread_mutex_lock(&s->lock);
        r = qcow2_mark_dirty(s, err);
        pthread_mutex_unlock(&s->lock);
    }
    for (uint64_t g = 0; r == 0 && g < total; g += b.n) {
        uint64_t table_left = s->l2_entries - (g & (s->l2_entries - 1));
        b.g0 = g;
        b.n = table_left < max ? table_left : max;
        if (b.n > total - g)
            b.n = total - g;
        pthread_mutex_lock(&s->lock);
        r = load_batch(s, &b, err);
        if (r == 0)
            r = fn(s, req, &b, ctx, err);
        /* Block status asks the host file again: holes may have moved. */
        s->meta_prealloc = 0;
        pthread_mutex_unlock(&s->lock);
        uint64_t done = (g + b.n) << s->cluster_bits;
        if (r == 0)
            r = vdisk_provision_step(req, s->img, done < size ? done : size, size, err);
    }
    free(b.c);
    free(b.p);
    return r;
}

void
qcow2_prov_count_skipped(const struct qcow2_prov_batch *b, vdisk_provision_result *res)
{
    for (uint64_t i = 0; i < b->n; i++) {
        res->from_backing += b->p[i].backing;
        res->shared += b->p[i].shared;
        res->compressed += b->p[i].compressed;
        res->thin += b->p[i].thin;
    }
}

int
qcow2_prov_switch(qcow2_state *s, const struct qcow2_prov_batch *b, uint64_t new_host,
                  vdisk_error *err)
{
    struct qcow2_freelist fl = { 0 };
    uint64_t k = 0;
    int r = 0;
    for (uint64_t i = 0; r == 0 && i < b->n; i++) {
        const struct qcow2_prov_plan *p = &b->p[i];
        if (p->act == QCOW2_PROV_KEEP)
            continue;
        uint8_t *t;
        uint32_t idx;
        uint64_t old, old_bitmap, e = p->entry;
        r = qcow2_l2_get_for_write(s, b->g0 + i, &t, &idx, &fl, err);
        if (r < 0)
            break;
        qcow2_l2_get_entry(s, t, idx, &old, &old_bitmap);
        if (p->act == QCOW2_PROV_NEW)
            e = (new_host + (k++ << s->cluster_bits)) | QCOW_OFLAG_COPIED;
        qcow2_l2_set_entry(s, t, idx, e, p->bitmap);
        qcow2_cache_mark_dirty(s->l2_cache, t);
        qcow2_cache_put(s->l2_cache, t);
        if (p->free_old)
            r = qcow2_freelist_add_entry(s, &fl, old, err);
    }
    /* References dropped: the tables reach the disk before the refcounts
     * fall (qcow2_release); otherwise only the tables are written. */
    int r2 = fl.n ? qcow2_release(s, &fl, err) : qcow2_flush_metadata(s, err);
    free(fl.v);
    return r < 0 ? r : r2;
}
