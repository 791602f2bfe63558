/* libvdisk — QED: qemu-img check.
 *
 * As the specification's consistency rules say: every table and data
 * offset must be cluster aligned and inside the file (tables whole), and
 * every cluster referenced once; clusters past the header that nothing
 * references are leaks.  The counts follow what qemu-img check reports for
 * QED (allocated and fragmented data clusters, the guest's cluster count).
 * Repair is not offered: vdisk does not write QED images.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "qed.h"

typedef struct walk {
    qed_state *s;
    vdisk_check_result *res;
    vdisk_check_report_fn report;
    void *opaque;
    uint8_t *used;                  /* one bit per cluster of the file */
    uint64_t nclusters;
    uint64_t last_data;             /* previous data cluster of the L2 table, for fragmentation */
} walk;

static void __attribute__((format(printf, 2, 3)))
say(walk *w, const char *fmt, ...)
{
    char line[200];
    va_list ap;
    if (!w->report)
        return;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    w->report(w->opaque, line);
}

/* Mark n clusters from offset used; false (a corruption) if one already was. */
static bool
mark(walk *w, uint64_t offset, uint64_t n)
{
    bool ok = true;
    for (uint64_t c = offset >> w->s->cluster_bits; n--; c++) {
        if (c >= w->nclusters)
            continue;
        if (w->used[c / 8] & (1u << (c % 8))) {
            ok = false;
            w->res->corruptions++;
        }
        w->used[c / 8] |= (uint8_t)(1u << (c % 8));
    }
    return ok;
}

static int
check_l2(walk *w, uint64_t l2, vdisk_error *err)
{
    qed_state *s = w->s;
    w->last_data = 0;
    for (uint64_t i = 0; i < s->table_entries; i++) {
        uint64_t e;
        int r = qed_table_entry(s, l2, i, &e, err);
        if (r < 0)
            return r;
        if (e == 0 || e == QED_ZERO_CLUSTER)
            continue;
        w->res->allocated_clusters++;
        if (w->last_data && w->last_data + s->h.cluster_size != e)
            w->res->fragmented_clusters++;
        w->last_data = e;
        if (!qed_cluster_offset_ok(s, e)) {
            say(w, "ERROR: L2 table at 0x%llx points at 0x%llx, not a cluster of the file",
                (unsigned long long)l2, (unsigned long long)e);
            w->res->corruptions++;
        } else if (!mark(w, e, 1)) {
            say(w, "ERROR: cluster at 0x%llx is referenced twice (L2 table at 0x%llx)",
                (unsigned long long)e, (unsigned long long)l2);
        }
    }
    return 0;
}

static int
check_l1(walk *w, vdisk_progress_fn progress, void *opaque, vdisk_error *err)
{
    qed_state *s = w->s;
    mark(w, s->h.l1_offset, s->h.table_size);
    for (uint64_t i = 0; i < s->table_entries; i++) {
        uint64_t l2;
        int r = qed_table_entry(s, s->h.l1_offset, i, &l2, err);
        if (r < 0)
            return r;
        if (l2 == 0)
            continue;
        if (!qed_table_offset_ok(s, l2)) {
            say(w, "ERROR: L1 entry %llu points at 0x%llx, not an L2 table inside the file",
                (unsigned long long)i, (unsigned long long)l2);
            w->res->corruptions++;
            continue;
        }
        if (!mark(w, l2, s->h.table_size)) {
            say(w, "ERROR: L2 table at 0x%llx overlaps other metadata (L1 entry %llu)",
                (unsigned long long)l2, (unsigned long long)i);
            continue;
        }
        if ((r = check_l2(w, l2, err)) < 0)
            return r;
        if (progress && progress(opaque, i + 1, s->table_entries))
            return vdisk_error_set(err, ECANCELED, "%s: check cancelled", s->name);
    }
    return 0;
}

int
qed_check(vdisk_image *img, unsigned fix, vdisk_check_result *res,
          vdisk_check_report_fn report, vdisk_progress_fn progress, void *opaque,
          vdisk_error *err)
{
    (void)fix;
    qed_state *s = img->priv;
    walk w = { .s = s, .res = res, .report = report, .opaque = opaque,
               .nclusters = s->file_size >> s->cluster_bits };
    /* One bit per cluster of the file: bounded by the file's size. */
    w.used = calloc(w.nclusters / 8 + 1, 1);
    if (!w.used)
        return vdisk_error_set(err, ENOMEM, "%s: out of memory for the check", img->filename);
    res->total_clusters = (s->h.image_size + s->h.cluster_size - 1) >> s->cluster_bits;
    int r = check_l1(&w, progress, opaque, err);
    if (r < 0)
        res->check_errors++;
    /* Leaks only after a complete walk, as a partial one would invent them. */
    for (uint64_t c = s->h.header_size; r == 0 && c < w.nclusters; c++)
        if (!(w.used[c / 8] & (1u << (c % 8)))) {
            res->leaks++;
            say(&w, "Leaked cluster %llu (offset 0x%llx)", (unsigned long long)c,
                (unsigned long long)(c << s->cluster_bits));
        }
    free(w.used);
    return r;
}
