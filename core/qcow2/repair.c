/* libvdisk — qcow2 repair: compare the references the check counted with
 * the refcounts on disk and fix them (leaks: lower; corruptions: raise),
 * rebuild the refcount structures from scratch when they cannot be trusted
 * (a referenced cluster with refcount 0, a bad refcount table entry), and
 * fix OFLAG_COPIED flags.  Same decisions and messages as QEMU.
 *
 * Rebuilding writes new refcount blocks and a new refcount table only into
 * clusters nothing references, and points the header at the new table last
 * (synced), so a crash in the middle leaves the old structures in charge.
 * The old ones become leaks that the following leak repair frees.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "check-int.h"
#include "ordering.h"

/* ---- compare ------------------------------------------------------------ */

/* Copy the refcounts of refblock idx into rc[0..per); 0s where none. */
static int
load_refcounts(struct qcow2_check *c, uint64_t idx, uint64_t *rc, vdisk_error *err)
{
    qcow2_state *s = c->s;
    uint64_t per = UINT64_C(1) << s->rb_bits;
    uint64_t rbo = idx < s->reftable_entries ? s->reftable[idx] : 0;
    if (!rbo) {
        memset(rc, 0, per * sizeof(*rc));
        return 0;
    }
    if (rbo & (s->cluster_size - 1))
        return vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EIO,
                                    "%s: refcount block at 0x%" PRIx64 " is not cluster "
                                    "aligned", s->name, rbo);
    uint8_t *rb;
    int r = qcow2_cache_get(s->rb_cache, rbo, false, &rb, err);
    if (r < 0)
        return r;
    for (uint64_t i = 0; i < per; i++)
        rc[i] = qcow2_refcount_read_entry(rb, i, s->refcount_order);
    qcow2_cache_put(s->rb_cache, rb);
    return 0;
}

/* The on-disk refcount of a cluster; -EIO when its refcount block entry
 * is misaligned (as QEMU, which will not read a refblock there). */
static int
disk_refcount(qcow2_state *s, uint64_t cluster, uint64_t *rc)
{
    uint64_t idx = cluster >> s->rb_bits;
    if (idx < s->reftable_entries && (s->reftable[idx] & (s->cluster_size - 1)))
        return -EIO;
    return qcow2_refcount_get(s, cluster, rc, NULL);
}

/* One mismatch: report it, fix it when allowed, count it otherwise. */
static void
mismatch(struct qcow2_check *c, uint64_t k, uint64_t disk, uint64_t found, unsigned fix,
         vdisk_error *err)
{
    uint64_t *fixed = NULL;
    vdisk_check_result *res = c->res;
    if (disk == 0)
        c->rebuild = true;
    else if (disk > found && (fix & VDISK_CHECK_FIX_LEAKS))
        fixed = &res->leaks_fixed;
    else if (disk < found && (fix & VDISK_CHECK_FIX_ERRORS))
        fixed = &res->corruptions_fixed;
    qcow2_check_say(c, "%s cluster %" PRIu64 " refcount=%" PRIu64 " reference=%" PRIu64,
                    fixed ? "Repairing" : disk < found ? "ERROR" : "Leaked", k, disk, found);
    if (fixed && qcow2_refcount_update(c->s, k, 1, (int64_t)(found - disk), disk > found, err) == 0) {
        (*fixed)++;
        return;
    }
    if (disk < found)
        res->corruptions++;
    else
        res->leaks++;
}

int
qcow2_check_compare(struct qcow2_check *c, unsigned fix, vdisk_error *err)
{
    qcow2_state *s = c->s;
    uint64_t per = UINT64_C(1) << s->rb_bits;
    uint64_t *rc = malloc(per * sizeof(*rc));
    if (!rc) {
        c->res->check_errors++;
        return vdisk_error_set(err, ENOMEM, "%s: out of memory", s->name);
    }
    c->highest = 0;
    for (uint64_t base = 0; base < c->nb; base += per) {
        vdisk_error e2 = { 0 };
        bool readable = load_refcounts(c, base >> s->rb_bits, rc, &e2) == 0;
        uint64_t end = base + per < c->nb ? base + per : c->nb;
        for (uint64_t k = base; k < end; k++) {
            if (!readable) {
                qcow2_check_say(c, "Can't get refcount for cluster %" PRIu64 ": %s", k,
                                strerror(-e2.code));
                c->res->check_errors++;
                continue;
            }
            uint64_t disk = rc[k - base], found = c->ref[k];
            if (disk || found)
                c->highest = k;
            if (disk != found)
                mismatch(c, k, disk, found, fix, err);
        }
    }
    free(rc);
    int r = fix ? qcow2_flush_metadata(s, err) : 0;
    if (r < 0)
        c->res->check_errors++;
    return r;
}

/* ---- rebuild ------------------------------------------------------------ */

/* n free clusters in a row in the IMRT at or after *first_free (growing it
 * past the end as needed); marks them used; returns the first cluster. */
static int
alloc_imrt(struct qcow2_check *c, uint64_t n, uint64_t *first_free, uint64_t *out,
           vdisk_error *err)
{
    uint64_t k = *first_free, run = 0;
    bool gap = true;
    for (; k < c->nb && run < n; k++) {
        if (c->ref[k]) {
            run = 0;
            continue;
        }
        run++;
        if (gap) {
            *first_free = k;
            gap = false;
        }
    }
    if (run < n) {
        int r = qcow2_check_grow(c, k + n - run, err);
        if (r < 0)
            return r;
        k += n - run;
    }
    *out = k - n;
    for (uint64_t i = 0; i < n; i++)
        c->ref[*out + i] = 1;
    return 0;
}

/* Write the refcount block idx as a slice of the IMRT. */
static int
write_refblock(struct qcow2_check *c, uint64_t idx, uint64_t off, uint8_t *buf, vdisk_error *err)
{
    qcow2_state *s = c->s;
    uint64_t per = UINT64_C(1) << s->rb_bits, base = idx << s->rb_bits;
    memset(buf, 0, s->cluster_size);
    for (uint64_t i = 0; i < per && base + i < c->nb; i++)
        qcow2_refcount_write_entry(buf, i, s->refcount_order, c->ref[base + i]);
    return vdisk_file_pwrite(s->file, buf, s->cluster_size, off, err);
}

struct new_reftable {
    uint64_t *e;
    uint64_t n;
};

/* Allocate and write the refcount blocks covering used clusters of
 * [first, end).  Returns 1 when the new table had to grow, 0, or -errno. */
static int
write_refblocks(struct qcow2_check *c, uint64_t first, uint64_t end, struct new_reftable *rt,
                uint8_t *buf, vdisk_error *err)
{
    qcow2_state *s = c->s;
    uint64_t per_cluster = s->cluster_size / 8;
    uint64_t first_free = 0;
    int grown = 0;
    for (uint64_t k = first; k < end && k < c->nb; k++) {
        if (!c->ref[k])
            continue;
        uint64_t idx = k >> s->rb_bits, off;
        if (idx < rt->n && rt->e[idx]) {
            off = rt->e[idx];
        } else {
            uint64_t cl, start = idx << s->rb_bits;
            /* Never in a refcount block already written. */
            if (first_free < start)
                first_free = start;
            int r = alloc_imrt(c, 1, &first_free, &cl, err);
            if (r < 0)
                return r;
            if (cl >= end)
                end = cl + 1;
            if (idx >= rt->n) {
                uint64_t n = (idx + per_cluster) / per_cluster * per_cluster;
                uint64_t *e = realloc(rt->e, n * 8);
                if (!e)
                    return vdisk_error_set(err, ENOMEM, "%s: out of memory for the refcount "
                                           "table", s->name);
                memset(e + rt->n, 0, (n - rt->n) * 8);
                rt->e = e;
                rt->n = n;
                grown = 1;
            }
            off = cl << s->cluster_bits;
            rt->e[idx] = off;
        }
        int r = write_refblock(c, idx, off, buf, err);
        if (r < 0)
            return r;
        k = ((idx + 1) << s->rb_bits) - 1;
    }
    return grown;
}

/* Write the new table, point the header at it, adopt it in memory. */
static int
install_reftable(struct qcow2_check *c, struct new_reftable *rt, uint64_t off, vdisk_error *err)
{
    qcow2_state *s = c->s;
    uint8_t *raw = malloc(rt->n * 8);
    if (!raw)
        return vdisk_error_set(err, ENOMEM, "%s: out of memory", s->name);
    for (uint64_t i = 0; i < rt->n; i++)
        qcow2_put_be64(raw + i * 8, rt->e[i]);
    int r = vdisk_file_pwrite(s->file, raw, rt->n * 8, off, err);
    free(raw);
    if (r == 0)
        r = vdisk_file_flush(s->file, err);
    uint32_t clusters = (uint32_t)((rt->n * 8) >> s->cluster_bits);
    if (r == 0)
        r = qcow2_header_write_reftable(s, off, clusters, err);
    if (r < 0)
        return r;
    free(s->reftable);
    s->reftable = rt->e;
    s->reftable_entries = rt->n;
    s->reftable_offset = off;
    s->reftable_clusters = clusters;
    rt->e = NULL;
    return 0;
}

int
qcow2_check_rebuild(struct qcow2_check *c, vdisk_error *err)
{
    qcow2_state *s = c->s;
    struct new_reftable rt = { 0 };
    /* The cached refcount blocks describe the old structures. */
    struct qcow2_cache *fresh = qcow2_cache_new(s->file, qcow2_cache_capacity(s->rb_cache),
                                                (uint32_t)s->cluster_size, "refcount block");
    uint8_t *buf = vdisk_alloc_aligned(s->cluster_size, true);
    int r = fresh && buf ? 0 : vdisk_error_set(err, ENOMEM, "%s: out of memory", s->name);
    if (r == 0) {
        qcow2_cache_free(s->rb_cache);
        s->rb_cache = fresh;
        fresh = NULL;
        r = write_refblocks(c, 0, c->nb, &rt, buf, err);
    }
    uint64_t table = 0;
    while (r > 0) {
        uint64_t clusters = (rt.n * 8) >> s->cluster_bits, first_free = 0;
        if (rt.n * 8 > QCOW2_MAX_REFTABLE_BYTES) {
            r = vdisk_error_set(err, EFBIG, "%s: the rebuilt refcount table would exceed %u bytes",
                                s->name, QCOW2_MAX_REFTABLE_BYTES);
            break;
        }
        r = alloc_imrt(c, clusters, &first_free, &table, err);
        if (r == 0)
            r = write_refblocks(c, table, table + clusters, &rt, buf, err);
    }
    if (r == 0)
        r = install_reftable(c, &rt, table << s->cluster_bits, err);
    if (r < 0)
        qcow2_check_say(c, "ERROR rebuilding the refcount structure: %s", err ? err->message : "");
    if (fresh)
        qcow2_cache_free(fresh);
    free(buf);
    free(rt.e);
    return r;
}

/* ---- OFLAG_COPIED -------------------------------------------------------- */

/* A repair write into a cluster two structures claim would corrupt one
 * of them: refuse, as QEMU's overlap guard does. */
static int
refuse_write(struct qcow2_check *c, const char *what, uint64_t off, vdisk_error *err)
{
    qcow2_state *s = c->s;
    qcow2_check_say(c, "ERROR: Could not write %s at 0x%" PRIx64 "; metadata overlap check "
                    "failed", what, off);
    c->res->check_errors++;
    /* Keep writers away until the data is copied out, as QEMU does. */
    if (qcow2_header_write_u64(s, QCOW2_HDR_INCOMPAT, s->incompat | QCOW2_INCOMPAT_CORRUPT,
                               NULL) == 0)
        s->incompat |= QCOW2_INCOMPAT_CORRUPT;
    return vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EIO,
                                "%s: %s at 0x%" PRIx64 " overlaps other metadata; not "
                                "repaired (copy the data out with convert instead)", s->name, what, off);
}

static int
write_l1_entry(qcow2_state *s, uint32_t i, vdisk_error *err)
{
    uint8_t b[8];
    qcow2_put_be64(b, s->l1[i]);
    int r = vdisk_file_pwrite(s->file, b, 8, s->l1_offset + (uint64_t)i * 8, err);
    return r < 0 ? r : vdisk_file_flush(s->file, err);
}

/* The data clusters of one active L2 table; *dirty counts entries fixed. */
static void
copied_l2(struct qcow2_check *c, uint8_t *t, bool repair, unsigned *dirty)
{
    qcow2_state *s = c->s;
    for (uint32_t j = 0; j < s->l2_entries; j++) {
        uint64_t e, bm, rc;
        qcow2_l2_get_entry(s, t, j, &e, &bm);
        uint64_t off = e & L2E_OFFSET_MASK;
        if ((e & QCOW_OFLAG_COMPRESSED) || !off)
            continue;
        if (disk_refcount(s, off >> s->cluster_bits, &rc) < 0)
            continue;
        if ((rc == 1) == !!(e & QCOW_OFLAG_COPIED))
            continue;
        c->res->corruptions++;
        qcow2_check_say(c, "%s OFLAG_COPIED data cluster: l2_entry=%" PRIx64 " refcount=%" PRIu64,
                        repair ? "Repairing" : "ERROR", e, rc);
        if (repair) {
            qcow2_l2_set_entry(s, t, j, rc == 1 ? e | QCOW_OFLAG_COPIED : e & ~QCOW_OFLAG_COPIED, bm);
            (*dirty)++;
        }
    }
}

static int
copied_l1_entry(struct qcow2_check *c, uint32_t i, bool repair, uint8_t *t, vdisk_error *err)
{
    qcow2_state *s = c->s;
    uint64_t e = s->l1[i], l2 = e & L1E_OFFSET_MASK, rc;
    if (!l2 || disk_refcount(s, l2 >> s->cluster_bits, &rc) < 0)
        return 0;
    if ((rc == 1) != !!(e & QCOW_OFLAG_COPIED)) {
        c->res->corruptions++;
        qcow2_check_say(c, "%s OFLAG_COPIED L2 cluster: l1_index=%u l1_entry=%" PRIx64
                        " refcount=%" PRIu64, repair ? "Repairing" : "ERROR", i, e, rc);
        if (repair) {
            if (qcow2_check_overlapped(c, s->l1_offset + (uint64_t)i * 8, 8))
                return refuse_write(c, "the L1 table", s->l1_offset, err);
            s->l1[i] = rc == 1 ? e | QCOW_OFLAG_COPIED : e & ~QCOW_OFLAG_COPIED;
            if (write_l1_entry(s, i, err) < 0) {
                c->res->check_errors++;
                return -EIO;
            }
            c->res->corruptions--;
            c->res->corruptions_fixed++;
        }
    }
    /* A misaligned L2 table was reported by the walk; do not write there. */
    if (l2 & (s->cluster_size - 1))
        return 0;
    int r = vdisk_file_pread(s->file, t, s->cluster_size, l2, err);
    if (r < 0) {
        qcow2_check_say(c, "ERROR: Could not read L2 table: %s", err ? err->message : "");
        c->res->check_errors++;
        return r;
    }
    unsigned dirty = 0;
    copied_l2(c, t, repair, &dirty);
    if (!dirty)
        return 0;
    if (qcow2_check_overlapped(c, l2, s->cluster_size))
        return refuse_write(c, "an L2 table", l2, err);
    qcow2_cache_discard(s->l2_cache, l2);
    r = vdisk_file_pwrite(s->file, t, s->cluster_size, l2, err);
    if (r < 0) {
        qcow2_check_say(c, "ERROR: Could not write L2 table: %s", err ? err->message : "");
        c->res->check_errors++;
        return r;
    }
    c->res->corruptions -= dirty;
    c->res->corruptions_fixed += dirty;
    return 0;
}

int
qcow2_check_oflag_copied(struct qcow2_check *c, unsigned fix, vdisk_error *err)
{
    qcow2_state *s = c->s;
    const vdisk_check_result *res = c->res;
    bool repair = (fix & VDISK_CHECK_FIX_ERRORS) ||
                  ((fix & VDISK_CHECK_FIX_LEAKS) && !res->check_errors && !res->corruptions &&
                   !res->leaks);
    uint8_t *t = vdisk_alloc_aligned(s->cluster_size, false);
    if (!t)
        return vdisk_error_set(err, ENOMEM, "%s: out of memory", s->name);
    int r = 0;
    for (uint32_t i = 0; r == 0 && i < s->l1_size; i++)
        r = copied_l1_entry(c, i, repair, t, err);
    free(t);
    return r == 0 && repair ? vdisk_file_flush(s->file, err) : r;
}
