/* libvdisk — qcow2 sparsify (vdisk/provision.h): clusters of the active
 * layer that read as zeros give their host space back.
 *
 * Without zero detection only what reads zeros by metadata and host
 * layout is taken: zero-flagged clusters keeping a host cluster, and data
 * clusters whose host range is all holes or unwritten extents (what
 * preallocation=metadata and falloc leave).  With it, data clusters (and,
 * when no internal snapshot shares them, compressed clusters) whose bytes
 * are all zeros go too.  A dropped cluster becomes unallocated, or a zero
 * cluster where a backing file would show through; its host cluster is
 * released after the L2 update is on disk and then punched (qcow2_release);
 * an L2 table left mapping nothing is dropped the same way.  Optionally the
 * file is then cut after its last used cluster.
 */
#include <errno.h>
#include <stdlib.h>

#include "fiemap.h"
#include "ordering.h"
#include "qcow2/provision.h"

struct sparsify_ctx {
    bool detect;
    uint8_t *buf;       /* one cluster, for zero detection */
};

/* Guest-visible bytes of subcluster j of c: [*a, *a + *n). */
static void
sc_span(const qcow2_state *s, const struct qcow2_prov_cluster *c, unsigned j, uint64_t *a,
        uint64_t *n)
{
    *a = (uint64_t)j << s->sc_bits;
    *n = *a >= c->bytes ? 0 : c->bytes - *a < s->sc_size ? c->bytes - *a : s->sc_size;
}

/* Which data subclusters (mask) of c read zeros: by the host layout, then,
 * with detection, by their bytes.  Lock held. */
static int
zero_subclusters(qcow2_state *s, struct sparsify_ctx *ctx, const struct qcow2_prov_cluster *c,
                 uint32_t mask, uint32_t *zero, vdisk_error *err)
{
    uint64_t host = c->entry & L2E_OFFSET_MASK;
    bool read = false;
    *zero = 0;
    for (unsigned j = 0; j < qcow2_prov_subclusters(s); j++) {
        uint32_t bit = UINT32_C(1) << j;
        uint64_t a, n;
        bool z = true;
        if (!(mask & bit))
            continue;
        sc_span(s, c, j, &a, &n);
        int r = n ? vdisk_host_reads_zero(s->file, host + a, n, &z, err) : 0;
        if (r == 0 && !z && ctx->detect && !read) {
            r = vdisk_file_pread(s->file, ctx->buf, (size_t)c->bytes, host, err);
            read = true;
        }
        if (r < 0)
            return r;
        if (z || (ctx->detect && vdisk_buffer_is_zero(ctx->buf + a, (size_t)n)))
            *zero |= bit;
    }
    return 0;
}

/* A compressed cluster's length on the host (an estimate of what it frees). */
static uint64_t
compressed_bytes(const qcow2_state *s, uint64_t entry)
{
    return (((entry >> s->csize_shift) & s->csize_mask) + 1) * 512;
}

/* Plan cluster i of b; *frees gets the host bytes dropping it returns. */
static int
plan_cluster(qcow2_state *s, struct sparsify_ctx *ctx, const struct qcow2_prov_cluster *c,
             struct qcow2_prov_plan *p, uint64_t *frees, vdisk_error *err)
{
    bool compressed;
    uint32_t mask = qcow2_plan_data_mask(s, c, &compressed), zero = 0;
    int r = 0;
    *frees = 0;
    if (compressed && ctx->detect && s->nb_snapshots == 0) {
        r = qcow2_decompress_cluster(s, c->entry, ctx->buf, err);
        if (r == 0 && vdisk_buffer_is_zero(ctx->buf, (size_t)c->bytes))
            zero = 1;
    } else if (!compressed && mask) {
        r = zero_subclusters(s, ctx, c, mask, &zero, err);
    }
    if (r < 0)
        return r;
    if (compressed && !zero) {
        /* Not looked at (no detection, or shared with a snapshot: compressed
         * clusters carry no COPIED flag to tell), or holding data. */
        qcow2_plan_sparsify(s, c, 0, p);
        p->shared = ctx->detect && s->nb_snapshots ? c->bytes : 0;
        return 0;
    }
    qcow2_plan_sparsify(s, c, zero, p);
    if (p->act == QCOW2_PROV_KEEP)
        return 0;
    if (compressed)
        *frees = compressed_bytes(s, c->entry);
    else
        r = vdisk_host_allocated(s->file, c->entry & L2E_OFFSET_MASK, s->cluster_size, frees, err);
    return r;
}

/* Does the L2 table at l2 map nothing at all (lock held)? */
static int
table_empty(qcow2_state *s, uint64_t l2, bool *empty, vdisk_error *err)
{
    uint8_t *t;
    int r = qcow2_cache_get(s->l2_cache, l2, false, &t, err);
    if (r < 0)
        return r;
    *empty = true;
    for (uint32_t j = 0; j < s->l2_entries && *empty; j++) {
        uint64_t e, bm;
        qcow2_l2_get_entry(s, t, j, &e, &bm);
        *empty = !e && !bm;
    }
    qcow2_cache_put(s->l2_cache, t);
    return 0;
}

/* Once a batch has finished an L2 table: a table of ours that maps nothing
 * any more goes too -- its L1 entry cleared on disk first, then its cluster
 * released and punched (qcow2_release), so a crash leaks it at worst.  A
 * dry run only counts what a table that would be empty holds. */
static int
drop_empty_table(qcow2_state *s, vdisk_provision_req *req, const struct qcow2_prov_batch *b,
                 vdisk_error *err)
{
    uint64_t i = b->g0 >> s->l2_bits, l1e = s->l1[i], l2 = l1e & L1E_OFFSET_MASK;
    uint64_t total = (s->img->size + s->cluster_size - 1) >> s->cluster_bits;
    uint64_t end = b->g0 + b->n;
    if (!l2 || !(l1e & QCOW_OFLAG_COPIED) || ((end & (s->l2_entries - 1)) && end != total))
        return 0;
    bool empty = true;
    int r = 0;
    if (vdisk_provision_dry(req)) {
        /* Only a batch that is the whole table can tell. */
        for (uint64_t k = 0; k < b->n && empty; k++)
            empty = (b->p[k].act == QCOW2_PROV_SET && !b->p[k].entry && !b->p[k].bitmap) ||
                    (b->p[k].act == QCOW2_PROV_KEEP && !b->c[k].entry && !b->c[k].bitmap);
        uint64_t held = 0;
        if (empty && (b->g0 & (s->l2_entries - 1)) == 0)
            r = vdisk_host_allocated(s->file, l2, s->cluster_size, &held, err);
        req->res->host_after -= held < req->res->host_after ? held : req->res->host_after;
        return r;
    }
    if ((r = table_empty(s, l2, &empty, err)) < 0 || !empty)
        return r;
    struct qcow2_freelist fl = { 0 };
    qcow2_l1_set(s, i, 0);
    r = qcow2_freelist_add(s, &fl, l2, s->cluster_size, true, err);
    int r2 = qcow2_release(s, &fl, err);
    return r < 0 ? r : r2;
}

static int
sparsify_batch(qcow2_state *s, vdisk_provision_req *req, struct qcow2_prov_batch *b, void *opaque,
               vdisk_error *err)
{
    struct sparsify_ctx *ctx = opaque;
    uint64_t freed = 0;
    bool any = false;
    for (uint64_t i = 0; i < b->n; i++) {
        uint64_t f;
        int r = plan_cluster(s, ctx, &b->c[i], &b->p[i], &f, err);
        if (r < 0)
            return r;
        if (b->p[i].act != QCOW2_PROV_KEEP) {
            req->res->changed += b->c[i].bytes;
            freed += f;
            any = true;
        }
    }
    qcow2_prov_count_skipped(b, req->res);
    if (vdisk_provision_dry(req)) {
        req->res->host_after -= freed < req->res->host_after ? freed : req->res->host_after;
        return drop_empty_table(s, req, b, err);
    }
    int r = any ? qcow2_prov_switch(s, b, 0, err) : 0;
    return r == 0 ? drop_empty_table(s, req, b, err) : r;
}

/* Cut the file after its last used cluster, once every refcount saying
 * the clusters past it are free is on disk. */
static int
truncate_tail(qcow2_state *s, vdisk_error *err)
{
    pthread_mutex_lock(&s->lock);
    int r = qcow2_flush_metadata(s, err);
    if (r == 0)
        r = vdisk_file_flush(s->file, err);
    if (r == 0)
        r = qcow2_trim_file(s, err);
    pthread_mutex_unlock(&s->lock);
    return r;
}

int
qcow2_sparsify(vdisk_image *img, vdisk_provision_req *req, vdisk_error *err)
{
    qcow2_state *s = img->priv;
    struct sparsify_ctx ctx = { .detect = req->flags & VDISK_SPARSIFY_ZERO_DETECT };
    req->res->host_after = req->res->host_before;
    int r = qcow2_prov_check(s, req, err);
    if (r < 0)
        return r;
    ctx.buf = vdisk_alloc_aligned(s->cluster_size, false);
    if (!ctx.buf)
        return vdisk_error_set(err, ENOMEM, "%s: out of memory", s->name);
    r = qcow2_prov_walk(s, req, sparsify_batch, &ctx, err);
    free(ctx.buf);
    if (r == 0 && (req->flags & VDISK_SPARSIFY_TRUNCATE) && !vdisk_provision_dry(req))
        r = truncate_tail(s, err);
    return r;
}
