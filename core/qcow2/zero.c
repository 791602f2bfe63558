/* libvdisk — qcow2 write-zeroes and discard.
 *
 * Whole clusters (whole subclusters with extended L2) become zero or
 * unallocated entries: version 3 has a zero flag (and zero bits per
 * subcluster); version 2 deallocates when no backing file shows through
 * and otherwise writes real zeros.  Clusters that are freed are released
 * after the L2 update is on disk, and their host range is punched.
 * Unaligned edges are written as zeros unless they already read as zeros.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "ordering.h"

struct zreq {
    bool unmap;      /* host clusters may be released */
    bool discard;    /* unallocated is as good as zero where nothing shows through */
};

/* Does the range read as zeros already?  (lock held) */
static int
reads_zero(qcow2_state *s, uint64_t off, uint64_t len, bool *zero, vdisk_error *err)
{
    vdisk_image *b = s->img->backing;
    *zero = true;
    while (len > 0 && *zero) {
        struct qcow2_map m;
        int r = qcow2_get_mapping(s, off, len, &m, err);
        if (r < 0)
            return r;
        bool unalloc = m.type == QCOW2_SC_UNALLOCATED || m.type == QCOW2_SC_UNALLOCATED_ALLOC;
        *zero = m.type == QCOW2_SC_ZERO_PLAIN || m.type == QCOW2_SC_ZERO_ALLOC ||
                (unalloc && (!b || off >= b->size));
        off += m.len;
        len -= m.len;
    }
    return 0;
}

/* A piece smaller than a subcluster: write zeros unless already zero. */
static int
zero_partial(qcow2_state *s, uint64_t off, uint64_t len, vdisk_error *err)
{
    if (len == 0)
        return 0;
    bool zero;
    pthread_mutex_lock(&s->lock);
    qcow2_inflight_wait(s, off >> s->cluster_bits, ((off + len - 1) >> s->cluster_bits) + 1);
    int r = reads_zero(s, off, len, &zero, err);
    pthread_mutex_unlock(&s->lock);
    if (r < 0 || zero)
        return r;
    uint8_t *z = calloc(1, len);
    if (!z)
        return vdisk_error_set(err, ENOMEM, "%s: out of memory", s->name);
    r = qcow2_pwrite(s->img, z, len, off, err);
    free(z);
    return r;
}

enum zaction { Z_SKIP, Z_SET, Z_FALLBACK };

/* Decide the new entry for zeroing bytes [x, y) of cluster c. */
static enum zaction
zero_entry(qcow2_state *s, uint64_t c, uint64_t x, uint64_t y, const struct zreq *q,
           uint64_t old, uint64_t obm, uint64_t *ne, uint64_t *nbm, bool *free_old)
{
    uint64_t cs = c << s->cluster_bits;
    uint64_t host = old & L2E_OFFSET_MASK;
    bool compressed = old & QCOW_OFLAG_COMPRESSED;
    bool ours = host && (old & QCOW_OFLAG_COPIED) && !compressed;
    vdisk_image *b = s->img->backing;
    bool shows = b && cs < b->size;
    bool whole = x == cs && (y - x == s->cluster_size || y >= s->img->size);
    *ne = old;
    *nbm = obm;
    *free_old = false;
    /* Unallocated with nothing behind it already reads as zeros. */
    if (!old && !obm && !shows)
        return Z_SKIP;
    if (!s->ext_l2) {
        if (!shows && (q->discard || s->version < 3) && (q->unmap || !ours)) {
            *ne = 0;
        } else if (s->version >= 3) {
            *ne = (q->unmap || !ours) ? QCOW_OFLAG_ZERO : old | QCOW_OFLAG_ZERO;
        } else {
            /* v2: our cluster without unmap is zeroed in place, anything
             * with a backing file behind it gets real zeros (caller). */
            return Z_FALLBACK;
        }
        *free_old = (q->unmap || !ours || *ne == 0) && (host || compressed);
    } else if (whole) {
        if (!shows && q->discard) {
            *ne = 0;
            *nbm = 0;
        } else if (q->unmap || !ours) {
            *ne = 0;
            *nbm = (uint64_t)UINT32_MAX << 32;
        } else {
            *nbm = (uint64_t)UINT32_MAX << 32;
        }
        *free_old = *ne == 0 && (host || compressed);
    } else {
        if (compressed || (host && !ours))
            return Z_FALLBACK;
        unsigned first = (unsigned)((x - cs) >> s->sc_bits), last = (unsigned)((y - 1 - cs) >> s->sc_bits);
        uint64_t t = (last >= 31 ? UINT32_MAX : (UINT64_C(1) << (last + 1)) - 1) & ~((UINT64_C(1) << first) - 1);
        *nbm = (!shows && q->discard) ? obm & ~t & ~(t << 32) : (obm & ~t) | (t << 32);
    }
    return *ne == old && *nbm == obm ? Z_SKIP : Z_SET;
}

/* Zero cluster c's bytes [x, y) (lock held); *fallback asks the caller to
 * write real zeros instead. */
static int
zero_cluster(qcow2_state *s, uint64_t c, uint64_t x, uint64_t y, const struct zreq *q,
             struct qcow2_freelist *fl, bool *fallback, vdisk_error *err)
{
    uint64_t old, obm, ne, nbm;
    bool free_old;
    *fallback = false;
    qcow2_inflight_wait(s, c, c + 1);
    int r = qcow2_l2_lookup(s, c, &old, &obm, err);
    if (r < 0)
        return r;
    enum zaction a = zero_entry(s, c, x, y, q, old, obm, &ne, &nbm, &free_old);
    if (a == Z_SKIP)
        return 0;
    if (a == Z_FALLBACK) {
        uint64_t host = old & L2E_OFFSET_MASK;
        bool ours = host && (old & QCOW_OFLAG_COPIED) && !(old & QCOW_OFLAG_COMPRESSED);
        vdisk_image *b = s->img->backing;
        /* (Encrypted: host zeros would decrypt to noise; write real zeros.) */
        if (!s->ext_l2 && ours && !s->crypt && !(b && (c << s->cluster_bits) < b->size))
            return vdisk_file_zero(s->file, host, s->cluster_size, false, err);
        *fallback = true;
        return 0;
    }
    r = qcow2_mark_dirty(s, err);
    uint8_t *t;
    uint32_t idx;
    if (r == 0)
        r = qcow2_l2_get_for_write(s, c, &t, &idx, fl, err);
    if (r < 0)
        return r;
    qcow2_l2_set_entry(s, t, idx, ne, nbm);
    qcow2_cache_mark_dirty(s->l2_cache, t);
    qcow2_cache_put(s->l2_cache, t);
    return free_old ? qcow2_freelist_add_entry(s, fl, old, err) : 0;
}

/* Subcluster-aligned range [a, b). */
static int
zero_aligned(qcow2_state *s, uint64_t a, uint64_t b, const struct zreq *q, vdisk_error *err)
{
    uint64_t pos = a;
    int r = 0;
    while (pos < b && r == 0) {
        struct qcow2_freelist fl = { 0 };
        uint64_t fb_off = 0, fb_len = 0;
        pthread_mutex_lock(&s->lock);
        while (pos < b && r == 0) {
            uint64_t c = pos >> s->cluster_bits;
            uint64_t ce = (c + 1) << s->cluster_bits;
            uint64_t y = b < ce ? b : ce;
            bool fallback;
            r = zero_cluster(s, c, pos, y, q, &fl, &fallback, err);
            if (r == 0 && fallback) {
                fb_off = pos;
                fb_len = (y < s->img->size ? y : s->img->size) - pos;
                pos = y;
                break;
            }
            pos = y;
        }
        int r2 = qcow2_release(s, &fl, err);
        if (r == 0)
            r = r2;
        pthread_mutex_unlock(&s->lock);
        if (r == 0 && fb_len) {
            uint8_t *z = vdisk_alloc_aligned(fb_len, true);
            if (!z)
                return vdisk_error_set(err, ENOMEM, "%s: out of memory", s->name);
            r = qcow2_pwrite(s->img, z, fb_len, fb_off, err);
            free(z);
        }
    }
    return r;
}

static int
zero_range(qcow2_state *s, uint64_t off, uint64_t len, const struct zreq *q, vdisk_error *err)
{
    uint64_t end = off + len, mask = s->sc_size - 1;
    uint64_t a = (off + mask) & ~mask;
    /* The last subcluster may end past the virtual size: it counts as whole. */
    uint64_t b = end == s->img->size ? (end + mask) & ~mask : end & ~mask;
    if (a >= b)
        return zero_partial(s, off, len, err);
    int r = zero_partial(s, off, a - off, err);
    if (r == 0)
        r = zero_aligned(s, a, b, q, err);
    if (r == 0 && b < end)
        r = zero_partial(s, b, end - b, err);
    return r;
}

/* Write zeroes: zero clusters where the format can say so. */
int
qcow2_write_zeroes(vdisk_image *img, uint64_t len, uint64_t off, unsigned flags, vdisk_error *err)
{
    struct zreq q = { .unmap = flags & VDISK_ZERO_MAY_UNMAP, .discard = false };
    qcow2_bitmaps_mark(img->priv, off, len);   /* bitmap.c */
    return zero_range(img->priv, off, len, &q, err);
}

/* Discard: free the clusters; the range reads as zeros afterwards. */
int
qcow2_discard(vdisk_image *img, uint64_t len, uint64_t off, vdisk_error *err)
{
    struct zreq q = { .unmap = true, .discard = true };
    qcow2_bitmaps_mark(img->priv, off, len);   /* bitmap.c */
    return zero_range(img->priv, off, len, &q, err);
}
