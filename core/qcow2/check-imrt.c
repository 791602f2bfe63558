/* libvdisk — qcow2 check: the in-memory refcount table (QEMU's IMRT) that
 * the walk fills, one reference counter and one owner byte per host
 * cluster, and the report lines of the check.  check.c, check-bitmap.c,
 * check-snapshot.c and repair.c all count and report through it.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check-int.h"

static const char *const owner_names[] = {
    [OWN_NONE] = "nothing",
    [OWN_HEADER] = "the header",
    [OWN_L1] = "the L1 table",
    [OWN_L2] = "an L2 table",
    [OWN_DATA] = "a data cluster",
    [OWN_COMPRESSED] = "compressed data",
    [OWN_REFTABLE] = "the refcount table",
    [OWN_REFBLOCK] = "a refcount block",
    [OWN_SNAPTABLE] = "the snapshot table",
    [OWN_SNAP_L1] = "a snapshot L1 table",
    [OWN_BITMAP] = "bitmap data",
    [OWN_CRYPT_HEADER] = "the LUKS header",
};

void
qcow2_check_say(struct qcow2_check *c, const char *fmt, ...)
{
    if (!c->report)
        return;
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    c->report(c->opaque, line);
}

int
qcow2_check_grow(struct qcow2_check *c, uint64_t n, vdisk_error *err)
{
    if (n <= c->nb)
        return 0;
    if (n > c->cap) {
        uint64_t cap = n + n / 8 + 64;
        if (cap > SIZE_MAX / sizeof(uint32_t))
            return vdisk_error_set(err, ENOMEM, "%s: too many clusters to check", c->s->name);
        uint32_t *ref = realloc(c->ref, cap * sizeof(uint32_t));
        if (ref)
            c->ref = ref;
        uint8_t *own = ref ? realloc(c->owner, cap) : NULL;
        if (!own)
            return vdisk_error_set(err, ENOMEM, "%s: out of memory for the refcount check "
                                   "(%" PRIu64 " clusters)", c->s->name, n);
        c->owner = own;
        c->cap = cap;
    }
    memset(c->ref + c->nb, 0, (n - c->nb) * sizeof(uint32_t));
    memset(c->owner + c->nb, 0, n - c->nb);
    c->nb = n;
    return 0;
}

/* Kinds that may legitimately share a cluster with their own kind. */
static bool
shareable(enum qcow2_owner who)
{
    return who == OWN_L2 || who == OWN_DATA || who == OWN_COMPRESSED;
}

static void
note_owner(struct qcow2_check *c, uint64_t k, enum qcow2_owner who)
{
    enum qcow2_owner had = c->owner[k] & ~OWN_CONFLICT;
    if (had == OWN_NONE) {
        c->owner[k] = (uint8_t)who;
        return;
    }
    if (had == who && shareable(who))
        return;
    c->owner[k] |= OWN_CONFLICT;
    if (!c->qemu_lines)
        qcow2_check_say(c, "ERROR cluster %" PRIu64 " (host offset 0x%" PRIx64 "): %s overlaps %s",
                        k, k << c->s->cluster_bits, owner_names[who], owner_names[had]);
}

bool
qcow2_check_overlapped(const struct qcow2_check *c, uint64_t off, uint64_t len)
{
    uint64_t first = off >> c->s->cluster_bits, last = (off + len - 1) >> c->s->cluster_bits;
    for (uint64_t k = first; k <= last && k < c->nb; k++)
        if (c->owner[k] & OWN_CONFLICT)
            return true;
    return false;
}

/* A data cluster past the end of the file in a dirty image: what a power
 * loss leaves when an L2 entry reached the disk and the write that grew
 * the file for its data did not (lazy refcounts order nothing between
 * them; without them the barrier before the L2 write makes the data
 * durable first).  The cluster reads as zeros either way; with fix, grow
 * the file to hold it (as for a refcount block outside the image) so that
 * it can be counted.  A clean image gets QEMU's verdict, unrepaired. */
static bool
data_outside_repaired(struct qcow2_check *c, uint64_t end)
{
    qcow2_state *s = c->s;
    if (!(c->fix & VDISK_CHECK_FIX_ERRORS) || !(s->incompat & QCOW2_INCOMPAT_DIRTY) ||
        end > INT64_MAX ||
        ((end + s->cluster_size - 1) >> s->cluster_bits) > c->grow_limit ||
        vdisk_file_truncate(s->file, end, NULL) < 0)
        return false;
    qcow2_check_say(c, "Repairing data cluster past the end of the file: the file now ends at "
                    "0x%" PRIx64, end);
    c->file_len = end;
    c->res->corruptions_fixed++;
    return true;
}

int
qcow2_check_inc(struct qcow2_check *c, uint64_t off, uint64_t size, enum qcow2_owner who,
                vdisk_error *err)
{
    qcow2_state *s = c->s;
    if (size == 0)
        return 0;
    /* The last cluster may be partly past the end of the file, no more
     * (a region whose end wraps past 2^64 is beyond it too). */
    if (size > UINT64_MAX - off ||
        (off + size > c->file_len && off + size - c->file_len >= s->cluster_size &&
         !(who == OWN_DATA && data_outside_repaired(c, off + size)))) {
        qcow2_check_say(c, "ERROR: counting reference for region exceeding the end of the file "
                        "by one cluster or more: offset 0x%" PRIx64 " size 0x%" PRIx64, off, size);
        c->res->corruptions++;
        return 0;
    }
    uint64_t first = off >> s->cluster_bits, last = (off + size - 1) >> s->cluster_bits;
    int r = qcow2_check_grow(c, last + 1, err);
    if (r < 0) {
        c->res->check_errors++;
        return r;
    }
    for (uint64_t k = first; k <= last; k++) {
        if (c->ref[k] >= c->ref_max) {
            qcow2_check_say(c, "ERROR: overflow cluster offset=0x%" PRIx64, k << s->cluster_bits);
            c->res->corruptions++;
            continue;
        }
        c->ref[k]++;
        note_owner(c, k, who);
    }
    return 0;
}
