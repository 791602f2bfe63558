/* libvdisk — qcow2 writes: in place, allocating with copy-on-write.
 *
 * A write is cut into operations, each planned under the lock:
 *  - in place: clusters that are allocated, ours alone (COPIED) and, with
 *    extended L2, whose touched subclusters are allocated.  One pwrite per
 *    host-contiguous run, without the lock.
 *  - allocating: a run of clusters that need new host clusters (allocated
 *    contiguously, so a large sequential write is one pwrite), or one
 *    cluster of ours whose touched part is not allocated yet (zero cluster
 *    with preallocation, unallocated subclusters).  The guest clusters are
 *    registered in flight, the head/tail copy-on-write data is read
 *    (backing file, zeros, old or compressed cluster) and merged with the
 *    new data into one host write, then the L2 entries are switched under
 *    the lock and whatever they pointed at before is released.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "ordering.h"
#include "write-op.h"

/* Largest merged COW + data buffer; bigger writes do head/data/tail apart. */
#define MERGE_MAX (16u << 20)
/* Most guest bytes one allocating operation covers. */
#define OP_MAX (64u << 20)

enum wclass { W_INPLACE, W_REUSE, W_NEW };


static uint64_t
touched_mask(const qcow2_state *s, uint64_t a, uint64_t b)
{
    /* subclusters [a, b) of a cluster, given as byte offsets in it */
    unsigned first = (unsigned)(a >> s->sc_bits), last = (unsigned)((b - 1) >> s->sc_bits);
    uint64_t m = last >= 31 ? UINT32_MAX : (UINT64_C(1) << (last + 1)) - 1;
    return m & ~((UINT64_C(1) << first) - 1);
}

/* How a write of bytes [a, b) of a cluster with this entry proceeds. */
static enum wclass
classify_write(const qcow2_state *s, uint64_t entry, uint64_t bitmap, uint64_t a, uint64_t b,
               bool *full)
{
    uint64_t host = entry & L2E_OFFSET_MASK;
    bool ours = host && (entry & QCOW_OFLAG_COPIED) && !(entry & QCOW_OFLAG_COMPRESSED);
    *full = !s->ext_l2 || (entry & QCOW_OFLAG_COMPRESSED) || (host && !ours);
    if (!ours)
        return W_NEW;
    if (!s->ext_l2)
        return (entry & QCOW_OFLAG_ZERO) ? W_REUSE : W_INPLACE;
    uint64_t t = touched_mask(s, a, b);
    return (bitmap & t) == t ? W_INPLACE : W_REUSE;
}

/* Look up guest cluster gc for a write of [off, end); waits out other
 * writers' in-flight allocations of it first (lock held). */
static int
lookup_for_write(qcow2_state *s, uint64_t gc, uint64_t off, uint64_t end, enum wclass *cls,
                 uint64_t *entry, uint64_t *bitmap, bool *full, vdisk_error *err)
{
    qcow2_inflight_wait(s, gc, gc + 1);
    int r = qcow2_l2_lookup(s, gc, entry, bitmap, err);
    if (r < 0)
        return r;
    uint64_t cstart = gc << s->cluster_bits;
    uint64_t a = off > cstart ? off - cstart : 0;
    uint64_t b = end - cstart < s->cluster_size ? end - cstart : s->cluster_size;
    *cls = classify_write(s, *entry, *bitmap, a, b, full);
    return 0;
}

/* Extend an in-place run over following clusters (lock held). */
static int
extend_inplace(qcow2_state *s, uint64_t off, uint64_t end, struct qcow2_wop *op, vdisk_error *err)
{
    while (off + op->len < end && op->len < OP_MAX) {
        uint64_t pos = off + op->len, gc = pos >> s->cluster_bits;
        if (qcow2_inflight_overlaps(s, gc, gc + 1))
            break;
        uint64_t entry, bitmap;
        bool full;
        int r = qcow2_l2_lookup(s, gc, &entry, &bitmap, err);
        if (r < 0)
            return r;
        uint64_t b = end - pos < s->cluster_size ? end - pos : s->cluster_size;
        if (classify_write(s, entry, bitmap, 0, b, &full) != W_INPLACE ||
            (entry & L2E_OFFSET_MASK) != op->host + op->len)
            break;
        op->len += b;
    }
    return 0;
}

/* Count clusters after gc that also need new host clusters (lock held). */
static int
count_new(qcow2_state *s, uint64_t gc, uint64_t end, bool full, uint64_t *nc, vdisk_error *err)
{
    uint64_t max = OP_MAX >> s->cluster_bits;
    *nc = 1;
    while (*nc < max && ((gc + *nc) << s->cluster_bits) < end) {
        uint64_t c = gc + *nc;
        if (qcow2_inflight_overlaps(s, c, c + 1))
            break;
        uint64_t entry, bitmap;
        bool f;
        int r = qcow2_l2_lookup(s, c, &entry, &bitmap, err);
        if (r < 0)
            return r;
        uint64_t b = end - (c << s->cluster_bits);
        if (classify_write(s, entry, bitmap, 0, b < s->cluster_size ? b : s->cluster_size, &f) != W_NEW ||
            f != full)
            break;
        (*nc)++;
    }
    return 0;
}

/* Make sure the L2 tables of guest clusters [gc, gc+nc) exist before their
 * data clusters are allocated (lock held): tables then come first on the
 * host and the data of a sequential write stays contiguous, as QEMU lays
 * images out. */
static int
prepare_l2_tables(qcow2_state *s, uint64_t gc, uint64_t nc, vdisk_error *err)
{
    struct qcow2_freelist fl = { 0 };
    int r = 0;
    for (uint64_t c = gc; c < gc + nc && r == 0; c = ((c >> s->l2_bits) + 1) << s->l2_bits) {
        uint8_t *t;
        uint32_t idx;
        r = qcow2_l2_get_for_write(s, c, &t, &idx, &fl, err);
        if (r == 0)
            qcow2_cache_put(s->l2_cache, t);
    }
    int r2 = qcow2_release(s, &fl, err);
    return r < 0 ? r : r2;
}

/* Extended L2, a write into a cluster of ours that allocates some of its
 * subclusters (W_REUSE, lock held).  The allocating operation rewrites
 * whole subclusters: the bytes of its first and last touched subcluster
 * that the write does not cover are copied (head/tail COW) from what they
 * read as when the copy is made.  Only the clusters of allocating
 * operations are registered in flight, not in-place writes, so if such an
 * edge subcluster is allocated, another thread's in-place write of other
 * bytes of it may have been planned already and land between our copy and
 * our write back, which then undoes it (a lost write or zeroing; O_DIRECT's
 * slower writes made it show, vdisk-soak qcow2-direct).  So an allocating
 * operation never starts or ends in an allocated subcluster: a leading run
 * of allocated subclusters is written in place (*inplace_len), and the
 * operation stops (*stop) before a trailing one, which the next operation
 * writes in place.  Its COW edges are then unallocated subclusters, which
 * no in-place write can target, and allocating writes and zeroings of them
 * wait for our in-flight registration. */
static void
trim_reuse(const qcow2_state *s, uint64_t gc, uint64_t bitmap, uint64_t off, uint64_t end,
           uint64_t *inplace_len, uint64_t *stop)
{
    uint64_t cstart = gc << s->cluster_bits, cend = cstart + s->cluster_size;
    uint64_t e = end < cend ? end : cend;
    unsigned first = (unsigned)((off - cstart) >> s->sc_bits);
    unsigned last = (unsigned)((e - 1 - cstart) >> s->sc_bits);
    *inplace_len = 0;
    *stop = e;
    if (bitmap & (UINT64_C(1) << first)) {
        unsigned sc = first;
        while (sc < last && (bitmap & (UINT64_C(1) << (sc + 1))))
            sc++;
        uint64_t run_end = cstart + ((uint64_t)(sc + 1) << s->sc_bits);
        *inplace_len = (e < run_end ? e : run_end) - off;
        return;
    }
    while (last > first && (bitmap & (UINT64_C(1) << last)))
        last--;
    uint64_t last_end = cstart + ((uint64_t)(last + 1) << s->sc_bits);
    if (last_end < e)
        *stop = last_end;
}

int
qcow2_write_plan(qcow2_state *s, uint64_t off, uint64_t end, struct qcow2_wop *op, vdisk_error *err)
{
    uint64_t gc = off >> s->cluster_bits, entry, bitmap;
    enum wclass cls;
    memset(op, 0, sizeof(*op));
    op->off = off;
    int r = lookup_for_write(s, gc, off, end, &cls, &entry, &bitmap, &op->full, err);
    if (r < 0)
        return r;
    uint64_t cend = (gc + 1) << s->cluster_bits;
    uint64_t stop = end;
    if (cls == W_REUSE && s->ext_l2) {
        uint64_t inplace_len;
        trim_reuse(s, gc, bitmap, off, end, &inplace_len, &stop);
        if (inplace_len) {
            op->inplace = true;
            op->host = (entry & L2E_OFFSET_MASK) + (off & (s->cluster_size - 1));
            op->len = inplace_len;
            return 0;
        }
    }
    if (cls == W_INPLACE) {
        op->inplace = true;
        op->host = (entry & L2E_OFFSET_MASK) + (off & (s->cluster_size - 1));
        op->len = (end < cend ? end : cend) - off;
        return extend_inplace(s, off, end, op, err);
    }
    r = qcow2_mark_dirty(s, err);
    if (r < 0)
        return r;
    op->gc = gc;
    op->nc = 1;
    if (cls == W_REUSE) {
        op->reuse = true;
        op->host = entry & L2E_OFFSET_MASK;
    } else {
        r = count_new(s, gc, end, op->full, &op->nc, err);
        if (r == 0)
            r = prepare_l2_tables(s, gc, op->nc, err);
        if (r == 0)
            r = qcow2_alloc_clusters(s, op->nc, &op->host, err);
        if (r < 0)
            return r;
    }
    uint64_t opend = (gc + op->nc) << s->cluster_bits;
    uint64_t de = stop < opend ? stop : opend;
    op->stop = de;
    if (op->full) {
        op->rs = gc << s->cluster_bits;
        op->re = opend;
    } else {
        op->rs = off & ~(s->sc_size - 1);
        op->re = (de + s->sc_size - 1) & ~(s->sc_size - 1);
    }
    op->node.first = gc;
    op->node.end = gc + op->nc;
    op->node.next = s->inflight;
    s->inflight = &op->node;
    return 0;
}

/* n bytes of guest data at guest offset `guest` into the host file at
 * `host` (encrypted images: legacy AES takes its IV from the guest offset). */
static int
host_write(qcow2_state *s, const void *buf, uint64_t n, uint64_t host, uint64_t guest, vdisk_error *err)
{
    if (s->crypt)
        return qcow2_crypt_pwrite(s, buf, n, host, guest, err);   /* crypt.c */
    return vdisk_file_pwrite(s->file, buf, (size_t)n, host, err);
}

/* Head COW + data + tail COW of an allocating operation (no lock). */
static int
write_data(qcow2_state *s, const struct qcow2_wop *op, const uint8_t *buf, uint64_t off, uint64_t n,
           vdisk_error *err)
{
    uint64_t head = off - op->rs, tail = op->re - (off + n);
    uint64_t hbase = op->host + (op->rs - (op->gc << s->cluster_bits));
    if (!head && !tail)
        return host_write(s, buf, n, hbase, op->rs, err);
    uint64_t total = op->re - op->rs;
    int r;
    if (total <= MERGE_MAX) {
        uint8_t *tmp = qcow2_buf_get(s, total);
        if (!tmp)
            return vdisk_error_set(err, ENOMEM, "%s: out of memory", s->name);
        r = qcow2_read_layer(s, tmp, head, op->rs, err);
        if (r == 0)
            r = qcow2_read_layer(s, tmp + head + n, tail, off + n, err);
        if (r == 0) {
            memcpy(tmp + head, buf, n);
            r = host_write(s, tmp, total, hbase, op->rs, err);
        }
        qcow2_buf_put(s, tmp, total);
        return r;
    }
    uint64_t big = head > tail ? head : tail;
    uint8_t *tmp = vdisk_alloc_aligned(big, false);
    if (!tmp)
        return vdisk_error_set(err, ENOMEM, "%s: out of memory", s->name);
    r = 0;
    if (head) {
        r = qcow2_read_layer(s, tmp, head, op->rs, err);
        if (r == 0)
            r = host_write(s, tmp, head, hbase, op->rs, err);
    }
    if (r == 0)
        r = host_write(s, buf, n, hbase + head, off, err);
    if (r == 0 && tail) {
        r = qcow2_read_layer(s, tmp, tail, off + n, err);
        if (r == 0)
            r = host_write(s, tmp, tail, hbase + head + n, off + n, err);
    }
    free(tmp);
    return r;
}

bool
qcow2_inflight_overlaps(const qcow2_state *s, uint64_t first, uint64_t end)
{
    for (const struct qcow2_inflight *i = s->inflight; i; i = i->next)
        if (i->first < end && first < i->end)
            return true;
    return false;
}

void
qcow2_inflight_wait(qcow2_state *s, uint64_t first, uint64_t end)
{
    while (qcow2_inflight_overlaps(s, first, end))
        pthread_cond_wait(&s->inflight_done, &s->lock);
}

static void
inflight_remove(qcow2_state *s, struct qcow2_inflight *node)
{
    for (struct qcow2_inflight **pp = &s->inflight; *pp; pp = &(*pp)->next)
        if (*pp == node) {
            *pp = node->next;
            break;
        }
    pthread_cond_broadcast(&s->inflight_done);
}

/* New L2 entry (and bitmap) for cluster c of op. */
static void
new_entry(const qcow2_state *s, const struct qcow2_wop *op, uint64_t c, uint64_t old_bitmap,
          uint64_t *entry, uint64_t *bitmap)
{
    *entry = (op->host + ((c - op->gc) << s->cluster_bits)) | QCOW_OFLAG_COPIED;
    *bitmap = 0;
    if (!s->ext_l2)
        return;
    if (op->full) {
        *bitmap = UINT32_MAX;
        return;
    }
    uint64_t cs = c << s->cluster_bits, ce = cs + s->cluster_size;
    uint64_t a = op->rs > cs ? op->rs : cs, b = op->re < ce ? op->re : ce;
    uint64_t t = touched_mask(s, a - cs, b - cs);
    /* Without a host cluster before, no subcluster was allocated. */
    *bitmap = ((op->reuse ? old_bitmap : old_bitmap & ~(uint64_t)UINT32_MAX) | t) & ~(t << 32);
}

/* Switch the L2 entries of op to the new data (lock held). */
static int
commit(qcow2_state *s, const struct qcow2_wop *op, vdisk_error *err)
{
    struct qcow2_freelist fl = { 0 };
    int r = 0;
    for (uint64_t c = op->gc; c < op->gc + op->nc && r == 0; c++) {
        uint8_t *t;
        uint32_t idx;
        r = qcow2_l2_get_for_write(s, c, &t, &idx, &fl, err);
        if (r < 0)
            break;
        uint64_t old, old_bitmap, e, bm;
        qcow2_l2_get_entry(s, t, idx, &old, &old_bitmap);
        new_entry(s, op, c, old_bitmap, &e, &bm);
        qcow2_l2_set_entry(s, t, idx, e, bm);
        qcow2_cache_mark_dirty(s->l2_cache, t);
        qcow2_cache_put(s->l2_cache, t);
        if (!op->reuse && ((old & QCOW_OFLAG_COMPRESSED) || (old & L2E_OFFSET_MASK)))
            r = qcow2_freelist_add_entry(s, &fl, old, err);
    }
    int r2 = qcow2_release(s, &fl, err);
    return r < 0 ? r : r2;
}

uint64_t
qcow2_write_op_len(const struct qcow2_wop *op)
{
    return op->inplace ? op->len : op->stop - op->off;
}

/* Give back what the operation allocated, end its in-flight registration
 * (lock held). */
static void
release_op_locked(qcow2_state *s, struct qcow2_wop *op)
{
    /* Nothing points at the new clusters yet. */
    if (!op->reuse)
        qcow2_refcount_update(s, op->host >> s->cluster_bits, op->nc, -1, false, NULL);
    inflight_remove(s, &op->node);
}

int
qcow2_write_planned(qcow2_state *s, struct qcow2_wop *op, const uint8_t *buf, vdisk_error *err)
{
    if (op->inplace)
        return host_write(s, buf, op->len, op->host, op->off, err);
    int r = write_data(s, op, buf, op->off, op->stop - op->off, err);
    pthread_mutex_lock(&s->lock);
    if (r == 0) {
        r = commit(s, op, err);
        inflight_remove(s, &op->node);
    } else {
        release_op_locked(s, op);
    }
    pthread_mutex_unlock(&s->lock);
    return r;
}

void
qcow2_write_abandon(qcow2_state *s, struct qcow2_wop *op)
{
    if (op->inplace)
        return;
    pthread_mutex_lock(&s->lock);
    release_op_locked(s, op);
    pthread_mutex_unlock(&s->lock);
}

static int
write_locked_op(qcow2_state *s, const uint8_t *buf, uint64_t off, uint64_t end, uint64_t *done,
                vdisk_error *err)
{
    struct qcow2_wop op;
    pthread_mutex_lock(&s->lock);
    int r = qcow2_write_plan(s, off, end, &op, err);
    pthread_mutex_unlock(&s->lock);
    if (r < 0)
        return r;
    *done = qcow2_write_op_len(&op);
    return qcow2_write_planned(s, &op, buf, err);
}

/* One partial sector: read it (plaintext), merge, write it back whole,
 * under rmw_lock (two partial writers of one sector would otherwise both
 * merge into the old content, and the later write back lose the other's
 * bytes). */
static int
rmw_sector(vdisk_image *img, const uint8_t *buf, uint64_t n, uint64_t off, vdisk_error *err)
{
    qcow2_state *s = img->priv;
    uint8_t sec[512];
    uint64_t a = off & ~UINT64_C(511);
    pthread_mutex_lock(&s->rmw_lock);
    int r = qcow2_read_layer(s, sec, 512, a, err);
    if (r == 0) {
        memcpy(sec + (off - a), buf, n);
        r = qcow2_pwrite(img, sec, 512, a, err);
    }
    pthread_mutex_unlock(&s->rmw_lock);
    return r;
}

/* Encrypted images, guest writes not covering whole sectors:
 * read-modify-write of the partial sectors at the edges (rmw_sector); the
 * whole sectors between are written as they are. */
static int
crypt_pwrite_unaligned(vdisk_image *img, const uint8_t *buf, uint64_t len, uint64_t off,
                             vdisk_error *err)
{
    int r = 0;
    if (off & 511) {
        uint64_t n = 512 - (off & 511) < len ? 512 - (off & 511) : len;
        r = rmw_sector(img, buf, n, off, err);
        buf += n;
        off += n;
        len -= n;
    }
    uint64_t mid = len & ~UINT64_C(511);
    if (r == 0 && mid)
        r = qcow2_pwrite(img, buf, mid, off, err);
    if (r == 0 && len > mid)
        r = rmw_sector(img, buf + mid, len - mid, off + mid, err);
    return r;
}

/* Write: see the file comment. */
int
qcow2_pwrite(vdisk_image *img, const void *buf, uint64_t len, uint64_t off, vdisk_error *err)
{
    qcow2_state *s = img->priv;
    qcow2_bitmaps_mark(s, off, len);   /* bitmap.c */
    if (s->crypt && ((off | len) & 511))
        return crypt_pwrite_unaligned(img, buf, len, off, err);
    const uint8_t *p = buf;
    uint64_t end = off + len;
    while (off < end) {
        uint64_t done = 0;
        int r = write_locked_op(s, p, off, end, &done, err);
        if (r < 0)
            return r;
        p += done;
        off += done;
    }
    return 0;
}
