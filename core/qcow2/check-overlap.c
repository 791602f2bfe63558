/* libvdisk — cheap metadata sanity checks for a writable open of a qcow2
 * image: the fixed tables (L1, refcount table, snapshot table) must not
 * overlap each other or the header, and no L2 table or refcount block may
 * sit inside one of them or coincide with each other.  Writing through
 * such an image would overwrite one structure with another, so the open
 * is refused with a message naming both; `check -r all` is the remedy.
 * Offsets only: no table is read here beyond what the open loaded.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>

#include "check-int.h"

struct range {
    const char *what;
    uint64_t off, len;
};

static bool
overlaps(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
    return alen && blen && a < b + blen && b < a + alen;
}

static int
cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* A cluster-sized table at off must not fall inside a fixed table. */
static int
check_in_fixed(qcow2_state *s, const struct range *fixed, unsigned nfixed, const char *what,
               uint64_t off, vdisk_error *err)
{
    for (unsigned i = 0; i < nfixed; i++)
        if (overlaps(off, s->cluster_size, fixed[i].off, fixed[i].len))
            return vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL,
                                        "%s: %s at 0x%" PRIx64 " overlaps %s at 0x%" PRIx64
                                        " (repair the image with 'check -r all')", s->name, what, off,
                                        fixed[i].what, fixed[i].off);
    return 0;
}

/* Refcount blocks, sorted, for lookups of L2 table offsets. */
static int
check_l2_vs_refblocks(qcow2_state *s, const struct range *fixed, unsigned nfixed,
                      vdisk_error *err)
{
    uint64_t *rb = malloc((s->reftable_entries ? s->reftable_entries : 1) * sizeof(uint64_t));
    if (!rb)
        return vdisk_error_set(err, ENOMEM, "%s: out of memory", s->name);
    size_t n = 0;
    int r = 0;
    for (uint64_t i = 0; r == 0 && i < s->reftable_entries; i++) {
        if (!s->reftable[i])
            continue;
        r = check_in_fixed(s, fixed, nfixed, "refcount block", s->reftable[i], err);
        rb[n++] = s->reftable[i];
    }
    if (r == 0)
        qsort(rb, n, sizeof(*rb), cmp_u64);
    for (size_t i = 1; r == 0 && i < n; i++)
        if (rb[i] == rb[i - 1])
            r = vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL,
                                     "%s: refcount block at 0x%" PRIx64 " is used twice in "
                                     "the refcount table (repair the image with 'check -r all')",
                                     s->name, rb[i]);
    for (uint32_t i = 0; r == 0 && i < s->l1_size; i++) {
        uint64_t l2 = s->l1[i] & L1E_OFFSET_MASK;
        if (!l2)
            continue;
        r = check_in_fixed(s, fixed, nfixed, "L2 table", l2, err);
        if (r == 0 && n && bsearch(&l2, rb, n, sizeof(*rb), cmp_u64))
            r = vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL,
                                     "%s: L2 table at 0x%" PRIx64 " (L1 entry %u) overlaps "
                                     "a refcount block (repair the image with 'check -r all')",
                                     s->name, l2, i);
    }
    free(rb);
    return r;
}

int
qcow2_check_open_overlaps(qcow2_state *s, vdisk_error *err)
{
    struct range fixed[] = {
        { "the header", 0, s->cluster_size },
        { "the L1 table", s->l1_offset, (uint64_t)s->l1_size * 8 },
        { "the refcount table", s->reftable_offset, (uint64_t)s->reftable_clusters << s->cluster_bits },
        /* At least the first entry; the table's full size needs reading it. */
        { "the snapshot table", s->snapshots_offset, s->nb_snapshots ? 40 : 0 },
        { "the LUKS header", s->crypt_hdr_offset, s->crypt_hdr_length },
    };
    unsigned nfixed = sizeof(fixed) / sizeof(fixed[0]);
    for (unsigned i = 1; i < nfixed; i++)
        for (unsigned j = 0; j < i; j++)
            if (overlaps(fixed[i].off, fixed[i].len, fixed[j].off, fixed[j].len))
                return vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL,
                                            "%s: %s at 0x%" PRIx64 " overlaps %s at 0x%"
                                            PRIx64, s->name, fixed[i].what, fixed[i].off,
                                            fixed[j].what, fixed[j].off);
    return check_l2_vs_refblocks(s, fixed, nfixed, err);
}
