/* libvdisk — qcow2 provisioning: what each guest cluster needs, decided
 * from its L2 entry alone (no I/O, no lock; see provision.h).
 *
 * Whose clusters are touched: only the active layer's own (COPIED, i.e.
 * refcount 1).  A cluster shared with an internal snapshot is left: its
 * bytes belong to the snapshot too, and giving the active layer space of
 * its own would mean copying it.  Compressed clusters are left by inflate
 * and eagerzero for the same reason (their data would move).
 *
 * Overlays: a cluster whose unallocated parts read from the backing file is
 * never given host space (see vdisk/provision.h); sparsify drops a cluster
 * of an overlay to zero flags, so the backing data stays hidden.
 */
#include <string.h>

#include "qcow2/provision.h"

unsigned
qcow2_prov_subclusters(const qcow2_state *s)
{
    return s->ext_l2 ? QCOW2_SUBCLUSTERS : 1;
}

/* Guest bytes of `count` subclusters, at most the cluster's. */
static uint64_t
sc_bytes(const qcow2_state *s, const struct qcow2_prov_cluster *c, unsigned count)
{
    uint64_t b = (uint64_t)count * s->sc_size;
    return b < c->bytes ? b : c->bytes;
}

static unsigned
popcount32(uint32_t m)
{
    return (unsigned)__builtin_popcount(m);
}

/* Subclusters of c of type t. */
static uint32_t
mask_of(const qcow2_state *s, const struct qcow2_prov_cluster *c, enum qcow2_sc_type t)
{
    uint32_t m = 0;
    for (unsigned i = 0; i < qcow2_prov_subclusters(s); i++)
        if (qcow2_sc_type(s, c->entry, c->bitmap, i) == t)
            m |= UINT32_C(1) << i;
    return m;
}

/* A cluster with no host cluster: new space, unless the backing file
 * shows through it. */
static void
plan_hostless(const qcow2_state *s, const struct qcow2_prov_cluster *c, bool alloc_new,
              struct qcow2_prov_plan *p)
{
    if (c->backed && mask_of(s, c, QCOW2_SC_UNALLOCATED)) {
        p->backing = c->bytes;
    } else if (!alloc_new) {
        p->thin = c->bytes;
    } else {
        p->act = QCOW2_PROV_NEW;
        p->bitmap = s->ext_l2 ? UINT32_MAX : 0;   /* every subcluster allocated */
    }
}

void
qcow2_plan_inflate(const qcow2_state *s, const struct qcow2_prov_cluster *c, bool eager,
                   bool alloc_new, struct qcow2_prov_plan *p)
{
    memset(p, 0, sizeof(*p));
    uint64_t host = c->entry & L2E_OFFSET_MASK;
    if (c->entry & QCOW_OFLAG_COMPRESSED) {
        p->compressed = c->bytes;
        return;
    }
    if (!host) {
        plan_hostless(s, c, alloc_new, p);
        return;
    }
    if (!(c->entry & QCOW_OFLAG_COPIED)) {
        p->shared = c->bytes;
        return;
    }
    uint32_t backed_unalloc = c->backed ? mask_of(s, c, QCOW2_SC_UNALLOCATED_ALLOC) : 0;
    p->backing = sc_bytes(s, c, popcount32(backed_unalloc));
    /* Zero-flagged (or unallocated, nothing behind) subclusters become data
     * once their host bytes read zeros: reserved and unwritten (lazy, as
     * preallocation=falloc leaves them) or written (eager). */
    p->zero = mask_of(s, c, QCOW2_SC_ZERO_ALLOC) |
              (mask_of(s, c, QCOW2_SC_UNALLOCATED_ALLOC) & ~backed_unalloc);
    if (eager)
        p->fill = mask_of(s, c, QCOW2_SC_NORMAL);
    else
        p->reserve = true;      /* holes in the data get their blocks */
    if (!p->zero)
        return;
    p->act = QCOW2_PROV_SET;
    if (!s->ext_l2) {
        p->entry = c->entry & ~QCOW_OFLAG_ZERO;
        return;
    }
    p->entry = c->entry;
    p->bitmap = (c->bitmap | p->zero) & ~((uint64_t)p->zero << 32);
}

uint32_t
qcow2_plan_data_mask(const qcow2_state *s, const struct qcow2_prov_cluster *c, bool *compressed)
{
    *compressed = c->entry & QCOW_OFLAG_COMPRESSED;
    if (*compressed)
        return 1;
    if (!(c->entry & L2E_OFFSET_MASK) || !(c->entry & QCOW_OFLAG_COPIED))
        return 0;
    return mask_of(s, c, QCOW2_SC_NORMAL);
}

/* The entry of a dropped cluster: what read zeros still does (zero flags
 * where a backing file would show through), what read the backing file
 * still does.  False when version 2 cannot say it. */
static bool
dropped_entry(const qcow2_state *s, const struct qcow2_prov_cluster *c, uint32_t reads_backing,
              uint64_t *entry, uint64_t *bitmap)
{
    *entry = 0;
    *bitmap = 0;
    if (!c->backed)
        return true;
    if (s->ext_l2) {
        *bitmap = (uint64_t)(UINT32_MAX & ~reads_backing) << 32;
        return true;
    }
    if (s->version < 3)
        return false;
    *entry = QCOW_OFLAG_ZERO;
    return true;
}

void
qcow2_plan_sparsify(const qcow2_state *s, const struct qcow2_prov_cluster *c, uint32_t zero_mask,
                    struct qcow2_prov_plan *p)
{
    memset(p, 0, sizeof(*p));
    bool compressed = c->entry & QCOW_OFLAG_COMPRESSED;
    if (!compressed && !(c->entry & L2E_OFFSET_MASK))
        return;     /* no host space to give back */
    if (!compressed && !(c->entry & QCOW_OFLAG_COPIED)) {
        p->shared = c->bytes;
        return;
    }
    uint32_t reads_backing = 0;
    if (compressed) {
        if (!(zero_mask & 1))
            return;
    } else {
        uint32_t data = mask_of(s, c, QCOW2_SC_NORMAL);
        if ((data & zero_mask) != data)
            return;     /* some data that is not zeros */
        if (c->backed)
            reads_backing = mask_of(s, c, QCOW2_SC_UNALLOCATED_ALLOC);
    }
    if (!dropped_entry(s, c, reads_backing, &p->entry, &p->bitmap))
        return;
    p->act = QCOW2_PROV_SET;
    p->free_old = true;
}
