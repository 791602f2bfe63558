/* libvdisk — qcow2 inflate and eagerzero (vdisk/provision.h).
 *
 * inflate gives every cluster of the active layer a host cluster, as
 * preallocation=falloc (lazy) or full (eager) would have: clusters without
 * one get new host clusters that read zeros (fallocated, or written with
 * zeros), taken in one run per batch right after the batch's L2 table, so
 * the new part is laid out as qemu-img lays out a preallocated image.  The
 * host clusters that exist already have their holes reserved (lazy) or
 * their holes and unwritten extents written with zeros (eager); zero-flagged
 * clusters that keep a host cluster become data clusters reading zeros
 * (their host cluster zeroed first: unwritten, or written when eager).  No
 * existing data is moved or rewritten.
 *
 * eagerzero is the eager pass without new clusters: what is reserved gets
 * its zeros, what is thin stays thin (and is counted).
 */
#include <errno.h>
#include <stdlib.h>

#include "fiemap.h"
#include "qcow2/provision.h"

struct fill_ctx {
    bool eager;
    bool alloc_new;     /* inflate (true) or eagerzero */
};

/* Make [off, off+len) of the host file hold blocks without changing what
 * it reads: holes are reserved (fallocate) -- or, eager, holes and
 * unwritten extents are written with zeros. */
static int
host_fill(qcow2_state *s, vdisk_provision_req *req, uint64_t off, uint64_t len, bool eager,
          vdisk_error *err)
{
    bool dry = vdisk_provision_dry(req);
    for (uint64_t pos = off, end = off + len; pos < end;) {
        vdisk_host_kind k;
        uint64_t stop;
        int r = vdisk_host_extent(s->file, pos, end, &k, &stop, err);
        if (r < 0)
            return r;
        if (k == VDISK_HOST_HOLE)
            req->res->host_after += dry ? stop - pos : 0;
        if (k == VDISK_HOST_HOLE || (eager && k == VDISK_HOST_UNWRITTEN)) {
            req->res->changed += stop - pos;
            if (!eager && !dry)
                r = vdisk_file_allocate(s->file, pos, stop - pos, err);
            if (r < 0 && r != -ENOTSUP)
                return r;
            /* Eager, or no fallocate here: real zeros (the range read zeros). */
            if (eager || r == -ENOTSUP) {
                req->res->zeroed += stop - pos;
                r = dry ? 0 : vdisk_file_write_zeroes_full(s->file, pos, stop - pos, NULL, NULL, err);
                if (r < 0)
                    return r;
            }
        }
        pos = stop;
    }
    return 0;
}

/* New host clusters [host, host+len) must read zeros before anything names
 * them; part of them may be reused space holding old bytes. */
static int
prepare_new(qcow2_state *s, vdisk_provision_req *req, uint64_t host, uint64_t len, bool eager,
            vdisk_error *err)
{
    if (eager) {
        req->res->zeroed += len;
        return vdisk_file_write_zeroes_full(s->file, host, len, NULL, NULL, err);
    }
    uint64_t flen;
    int r = vdisk_file_get_length(s->file, &flen, err);
    if (r == 0 && host < flen)
        r = vdisk_file_zero(s->file, host, len < flen - host ? len : flen - host, false, err);
    if (r == 0)
        r = vdisk_file_allocate(s->file, host, len, err);
    if (r == -ENOTSUP) {
        req->res->zeroed += len;
        r = vdisk_file_write_zeroes_full(s->file, host, len, NULL, NULL, err);
    }
    return r;
}

/* A subcluster that reads zeros by its flag (or by having nothing behind
 * it) is to become data: make its host bytes read zeros first -- reserved
 * and unwritten (lazy), or written (eager).  Its old bytes do not matter. */
static int
zero_subcluster(qcow2_state *s, vdisk_provision_req *req, uint64_t host, bool eager,
                vdisk_error *err)
{
    req->res->changed += s->sc_size;
    if (eager)
        req->res->zeroed += s->sc_size;
    if (vdisk_provision_dry(req))
        return 0;
    if (eager)
        return vdisk_file_write_zeroes_full(s->file, host, s->sc_size, NULL, NULL, err);
    /* FALLOC_FL_ZERO_RANGE: unwritten blocks (or zeros written where the
     * file system cannot). */
    return vdisk_file_zero(s->file, host, s->sc_size, false, err);
}

/* The host work on the clusters that keep their host cluster. */
static int
existing_host_work(qcow2_state *s, vdisk_provision_req *req, const struct qcow2_prov_batch *b,
                   bool eager, vdisk_error *err)
{
    int r = 0;
    for (uint64_t i = 0; r == 0 && i < b->n; i++) {
        const struct qcow2_prov_plan *p = &b->p[i];
        uint64_t host = b->c[i].entry & L2E_OFFSET_MASK;
        if (p->reserve)
            r = host_fill(s, req, host, s->cluster_size, false, err);
        for (unsigned j = 0; r == 0 && j < qcow2_prov_subclusters(s); j++) {
            uint64_t sc = host + ((uint64_t)j << s->sc_bits);
            if (p->fill & (UINT32_C(1) << j))
                r = host_fill(s, req, sc, s->sc_size, true, err);
            if (r == 0 && (p->zero & (UINT32_C(1) << j)))
                r = zero_subcluster(s, req, sc, eager, err);
        }
    }
    return r;
}

/* An L2 table for the batch exists (and is ours) before its new data
 * clusters are allocated, so it comes first on the host. */
static int
prepare_table(qcow2_state *s, uint64_t gc, vdisk_error *err)
{
    struct qcow2_freelist fl = { 0 };
    uint8_t *t;
    uint32_t idx;
    int r = qcow2_l2_get_for_write(s, gc, &t, &idx, &fl, err);
    if (r == 0)
        qcow2_cache_put(s->l2_cache, t);
    int r2 = qcow2_release(s, &fl, err);
    return r < 0 ? r : r2;
}

/* Count a dry run's new clusters (and the table they may need). */
static void
count_new(qcow2_state *s, vdisk_provision_req *req, uint64_t gc, uint64_t nnew)
{
    uint64_t l1e = s->l1[gc >> s->l2_bits];
    bool table = !(l1e & L1E_OFFSET_MASK) || !(l1e & QCOW_OFLAG_COPIED);
    req->res->host_after += (nnew + (table ? 1 : 0)) << s->cluster_bits;
}

static int
fill_batch(qcow2_state *s, vdisk_provision_req *req, struct qcow2_prov_batch *b, void *opaque,
           vdisk_error *err)
{
    const struct fill_ctx *ctx = opaque;
    uint64_t nnew = 0, host = 0, len;
    for (uint64_t i = 0; i < b->n; i++) {
        qcow2_plan_inflate(s, &b->c[i], ctx->eager, ctx->alloc_new, &b->p[i]);
        if (b->p[i].act == QCOW2_PROV_NEW) {
            nnew++;
            req->res->changed += b->c[i].bytes;
        }
    }
    qcow2_prov_count_skipped(b, req->res);
    len = nnew << s->cluster_bits;
    if (vdisk_provision_dry(req)) {
        if (nnew)
            count_new(s, req, b->g0, nnew);
        req->res->zeroed += ctx->eager ? len : 0;
        return existing_host_work(s, req, b, ctx->eager, err);
    }
    int r = nnew ? prepare_table(s, b->g0, err) : 0;
    if (r == 0 && nnew)
        r = qcow2_alloc_clusters(s, nnew, &host, err);
    bool allocated = r == 0 && nnew;
    if (r == 0 && nnew)
        r = prepare_new(s, req, host, len, ctx->eager, err);
    if (r == 0)
        r = existing_host_work(s, req, b, ctx->eager, err);
    /* Data before the tables that name it. */
    if (r == 0)
        r = vdisk_file_flush(s->file, err);
    if (r == 0)
        return qcow2_prov_switch(s, b, host, err);
    /* Nothing names the new clusters yet: give them back. */
    if (allocated)
        qcow2_refcount_update(s, host >> s->cluster_bits, nnew, -1, false, NULL);
    return r;
}

int
qcow2_inflate(vdisk_image *img, vdisk_provision_req *req, vdisk_error *err)
{
    qcow2_state *s = img->priv;
    struct fill_ctx ctx = { .eager = req->flags & VDISK_INFLATE_EAGER, .alloc_new = true };
    req->res->host_after = req->res->host_before;
    int r = qcow2_prov_check(s, req, err);
    return r < 0 ? r : qcow2_prov_walk(s, req, fill_batch, &ctx, err);
}

int
qcow2_eagerzero(vdisk_image *img, vdisk_provision_req *req, vdisk_error *err)
{
    qcow2_state *s = img->priv;
    struct fill_ctx ctx = { .eager = true, .alloc_new = false };
    req->res->host_after = req->res->host_before;
    int r = qcow2_prov_check(s, req, err);
    return r < 0 ? r : qcow2_prov_walk(s, req, fill_batch, &ctx, err);
}
