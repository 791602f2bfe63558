/* libvdisk — qcow2 cluster map: L1/L2 lookup, (extended) L2 entry types,
 * L2 table allocation, and freeing in the safe order: the L2/L1 updates
 * that drop a reference reach the disk before the refcount decrement
 * (qcow2_release; the write-back order itself is ordering.c's).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "ordering.h"

enum qcow2_sc_type
qcow2_sc_type(const qcow2_state *s, uint64_t entry, uint64_t bitmap, unsigned sc)
{
    if (entry & QCOW_OFLAG_COMPRESSED)
        return QCOW2_SC_COMPRESSED;
    uint64_t host = entry & L2E_OFFSET_MASK;
    if (!s->ext_l2) {
        if (entry & QCOW_OFLAG_ZERO)
            return host ? QCOW2_SC_ZERO_ALLOC : QCOW2_SC_ZERO_PLAIN;
        return host ? QCOW2_SC_NORMAL : QCOW2_SC_UNALLOCATED;
    }
    bool alloc = (bitmap >> sc) & 1, zero = (bitmap >> (32 + sc)) & 1;
    if (alloc && zero)
        return QCOW2_SC_INVALID;
    if (!host)
        return alloc ? QCOW2_SC_INVALID : zero ? QCOW2_SC_ZERO_PLAIN : QCOW2_SC_UNALLOCATED;
    return alloc ? QCOW2_SC_NORMAL : zero ? QCOW2_SC_ZERO_ALLOC : QCOW2_SC_UNALLOCATED_ALLOC;
}

void
qcow2_l2_get_entry(const qcow2_state *s, const uint8_t *table, uint32_t idx, uint64_t *entry,
                   uint64_t *bitmap)
{
    const uint8_t *p = table + (size_t)idx * s->l2_entry_size;
    *entry = qcow2_be64(p);
    *bitmap = s->ext_l2 ? qcow2_be64(p + 8) : 0;
}

void
qcow2_l2_set_entry(const qcow2_state *s, uint8_t *table, uint32_t idx, uint64_t entry,
                   uint64_t bitmap)
{
    uint8_t *p = table + (size_t)idx * s->l2_entry_size;
    qcow2_put_be64(p, entry);
    if (s->ext_l2)
        qcow2_put_be64(p + 8, bitmap);
}

static int
l2_offset_of(qcow2_state *s, uint64_t gc, uint64_t *l2, vdisk_error *err)
{
    uint64_t i = gc >> s->l2_bits;
    *l2 = 0;
    if (i >= s->l1_size)
        return vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL,
                                    "%s: guest offset 0x%" PRIx64 " is beyond the L1 table "
                                    "(%u entries)", s->name, gc << s->cluster_bits, s->l1_size);
    *l2 = s->l1[i] & L1E_OFFSET_MASK;
    if (*l2 & (s->cluster_size - 1))
        return vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL,
                                    "%s: L2 table at 0x%" PRIx64 " is not cluster aligned",
                                    s->name, *l2);
    return 0;
}

int
qcow2_l2_lookup(qcow2_state *s, uint64_t gc, uint64_t *entry, uint64_t *bitmap, vdisk_error *err)
{
    uint64_t l2;
    int r = l2_offset_of(s, gc, &l2, err);
    if (r < 0)
        return r;
    if (!l2) {
        *entry = *bitmap = 0;
        return 0;
    }
    uint8_t *t;
    r = qcow2_cache_get(s->l2_cache, l2, false, &t, err);
    if (r < 0)
        return r;
    qcow2_l2_get_entry(s, t, (uint32_t)(gc & (s->l2_entries - 1)), entry, bitmap);
    qcow2_cache_put(s->l2_cache, t);
    return 0;
}

static int
bad_entry(qcow2_state *s, uint64_t gc, uint64_t entry, const char *why, vdisk_error *err)
{
    return vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EIO,
                                "%s: L2 entry 0x%016" PRIx64 " for guest offset 0x%" PRIx64
                                " is invalid: %s", s->name, entry, gc << s->cluster_bits, why);
}

/* Type of the subcluster holding guest offset `off` in entry; checks the
 * host offset of allocated clusters. */
static int
classify(qcow2_state *s, uint64_t gc, uint64_t entry, uint64_t bitmap, unsigned sc,
         enum qcow2_sc_type *t, vdisk_error *err)
{
    *t = qcow2_sc_type(s, entry, bitmap, sc);
    if (*t == QCOW2_SC_INVALID)
        return bad_entry(s, gc, entry, "subcluster both allocated and zero, or allocated without "
                         "a host cluster", err);
    if (*t != QCOW2_SC_COMPRESSED && *t != QCOW2_SC_UNALLOCATED && *t != QCOW2_SC_ZERO_PLAIN &&
        (entry & L2E_OFFSET_MASK & (s->cluster_size - 1)))
        return bad_entry(s, gc, entry, "host offset is not cluster aligned", err);
    if (*t == QCOW2_SC_COMPRESSED && s->ext_l2 && bitmap)
        return bad_entry(s, gc, entry, "compressed cluster with a subcluster bitmap", err);
    return 0;
}

int
qcow2_get_mapping(qcow2_state *s, uint64_t off, uint64_t len, struct qcow2_map *m, vdisk_error *err)
{
    uint64_t gc = off >> s->cluster_bits;
    uint64_t l2;
    int r = l2_offset_of(s, gc, &l2, err);
    if (r < 0)
        return r;
    uint64_t table_end = ((gc >> s->l2_bits) + 1) << (s->l2_bits + s->cluster_bits);
    uint64_t end = off + len < table_end ? off + len : table_end;
    if (!l2) {
        m->type = QCOW2_SC_UNALLOCATED;
        m->len = end - off;
        return 0;
    }
    uint8_t *t;
    r = qcow2_cache_get(s->l2_cache, l2, false, &t, err);
    if (r < 0)
        return r;
    uint64_t pos = off;
    bool first = true;
    while (pos < end) {
        uint64_t c = pos >> s->cluster_bits, entry, bitmap;
        qcow2_l2_get_entry(s, t, (uint32_t)(c & (s->l2_entries - 1)), &entry, &bitmap);
        unsigned sc = (unsigned)((pos & (s->cluster_size - 1)) >> s->sc_bits);
        enum qcow2_sc_type ty;
        r = classify(s, c, entry, bitmap, sc, &ty, err);
        if (r < 0)
            break;
        uint64_t host = (entry & L2E_OFFSET_MASK) + (pos & (s->cluster_size - 1));
        if (first) {
            m->type = ty;
            m->host = host;
            m->entry = entry;
            first = false;
        } else if (ty != m->type || ty == QCOW2_SC_COMPRESSED ||
                   ((ty == QCOW2_SC_NORMAL || ty == QCOW2_SC_ZERO_ALLOC ||
                     ty == QCOW2_SC_UNALLOCATED_ALLOC) && host != m->host + (pos - off))) {
            break;
        }
        /* A compressed cluster has no subclusters: it is one unit. */
        pos = (pos | ((ty == QCOW2_SC_COMPRESSED ? s->cluster_size : s->sc_size) - 1)) + 1;
    }
    qcow2_cache_put(s->l2_cache, t);
    if (r < 0)
        return r;
    m->len = (pos < end ? pos : end) - off;
    return 0;
}

/* ---- freeing ------------------------------------------------------------ */

int
qcow2_freelist_add(qcow2_state *s, struct qcow2_freelist *fl, uint64_t off, uint64_t len,
                   bool punch, vdisk_error *err)
{
    if (fl->n && fl->v[fl->n - 1].off + fl->v[fl->n - 1].len == off && fl->v[fl->n - 1].punch == punch) {
        fl->v[fl->n - 1].len += len;
        return 0;
    }
    if (fl->n == fl->cap) {
        size_t cap = fl->cap ? fl->cap * 2 : 16;
        void *v = realloc(fl->v, cap * sizeof(*fl->v));
        if (!v)
            return vdisk_error_set(err, ENOMEM, "%s: out of memory", s->name);
        fl->v = v;
        fl->cap = cap;
    }
    fl->v[fl->n].off = off;
    fl->v[fl->n].len = len;
    fl->v[fl->n].punch = punch;
    fl->n++;
    return 0;
}

int
qcow2_freelist_add_entry(qcow2_state *s, struct qcow2_freelist *fl, uint64_t entry, vdisk_error *err)
{
    if (entry & QCOW_OFLAG_COMPRESSED) {
        uint64_t coff = entry & s->coffset_mask;
        uint64_t nsec = ((entry >> s->csize_shift) & s->csize_mask) + 1;
        uint64_t start = coff & ~UINT64_C(511);
        uint64_t first = start >> s->cluster_bits;
        uint64_t last = (start + nsec * 512 - 1) >> s->cluster_bits;
        return qcow2_freelist_add(s, fl, first << s->cluster_bits, (last - first + 1) << s->cluster_bits,
                                  false, err);
    }
    uint64_t host = entry & L2E_OFFSET_MASK;
    if (!host)
        return 0;
    return qcow2_freelist_add(s, fl, host, s->cluster_size, true, err);
}

int
qcow2_release(qcow2_state *s, struct qcow2_freelist *fl, vdisk_error *err)
{
    int r = 0;
    if (fl->n) {
        r = qcow2_flush_metadata(s, err);
        if (r == 0)
            r = qcow2_order_barrier(s, err);
        for (size_t i = 0; r == 0 && i < fl->n; i++)
            r = qcow2_refcount_update(s, fl->v[i].off >> s->cluster_bits,
                                      fl->v[i].len >> s->cluster_bits, -1, fl->v[i].punch, err);
    }
    free(fl->v);
    memset(fl, 0, sizeof(*fl));
    return r;
}

/* ---- L2 allocation ------------------------------------------------------ */

void
qcow2_l1_set(qcow2_state *s, uint64_t i, uint64_t v)
{
    s->l1[i] = v;
    if (s->l1_dirty_lo == s->l1_dirty_hi) {
        s->l1_dirty_lo = (uint32_t)i;
        s->l1_dirty_hi = (uint32_t)i + 1;
    } else {
        if (i < s->l1_dirty_lo)
            s->l1_dirty_lo = (uint32_t)i;
        if (i + 1 > s->l1_dirty_hi)
            s->l1_dirty_hi = (uint32_t)i + 1;
    }
}

int
qcow2_l2_get_for_write(qcow2_state *s, uint64_t gc, uint8_t **table, uint32_t *idx,
                       struct qcow2_freelist *fl, vdisk_error *err)
{
    uint64_t l2;
    int r = l2_offset_of(s, gc, &l2, err);
    if (r < 0)
        return r;
    uint64_t i = gc >> s->l2_bits;
    *idx = (uint32_t)(gc & (s->l2_entries - 1));
    if (l2 && (s->l1[i] & QCOW_OFLAG_COPIED))
        return qcow2_cache_get(s->l2_cache, l2, false, table, err);
    uint64_t nl2;
    r = qcow2_alloc_clusters(s, 1, &nl2, err);
    if (r < 0)
        return r;
    uint8_t *t;
    r = qcow2_cache_get(s->l2_cache, nl2, true, &t, err);
    if (r < 0)
        return r;
    if (l2) {
        /* Shared with a snapshot: copy it; the data clusters it names keep
         * their refcounts (the copy takes over the active reference). */
        uint8_t *old;
        r = qcow2_cache_get(s->l2_cache, l2, false, &old, err);
        if (r == 0) {
            memcpy(t, old, s->cluster_size);
            qcow2_cache_put(s->l2_cache, old);
            r = qcow2_freelist_add(s, fl, l2, s->cluster_size, false, err);
        }
        if (r < 0) {
            qcow2_cache_put(s->l2_cache, t);
            return r;
        }
    }
    qcow2_l1_set(s, i, nl2 | QCOW_OFLAG_COPIED);
    *table = t;
    return 0;
}
