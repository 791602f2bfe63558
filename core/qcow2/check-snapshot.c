/* libvdisk — the snapshot table as the check sees it: parsed with the
 * snapshot module's parser (snapshot-table.c) but tolerant as QEMU's check
 * is: bytes past the end of the file read as zeros, and entries whose L1
 * tables are bad are reported by the walk instead of refused.  v3 entries
 * without the 16 bytes of extra data version 3 requires are corruptions;
 * `-r all` rewrites the table with complete entries (QEMU's
 * qcow2_check_fix_snapshot_table).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "check-int.h"
#include "ordering.h"

#define V3_MIN_EXTRA 16u
#define FIRST_READ (64u * 1024)

int
qcow2_check_read_snapshots(struct qcow2_check *c, vdisk_error *err)
{
    qcow2_state *s = c->s;
    uint32_t n = s->nb_snapshots;
    if (n > QCOW2_MAX_SNAPSHOTS || (n && (s->snapshots_offset & (s->cluster_size - 1)))) {
        qcow2_check_say(c, "ERROR snapshot table offset invalid");
        c->res->check_errors++;
        return vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL,
                                    "%s: snapshot table at 0x%" PRIx64 " (%u entries) is "
                                    "invalid", s->name, s->snapshots_offset, n);
    }
    if (!n)
        return 0;
    int r = -ENODATA;
    /* Read a little, and more only when the entries go on. */
    for (size_t want = FIRST_READ; r == -ENODATA && want / 4 < QCOW2_MAX_SNAPSHOTS_SIZE; want *= 4) {
        size_t len = want < QCOW2_MAX_SNAPSHOTS_SIZE ? want : QCOW2_MAX_SNAPSHOTS_SIZE;
        uint8_t *buf = malloc(len);
        if (!buf)
            return vdisk_error_set(err, ENOMEM, "%s: out of memory for the snapshot table", s->name);
        r = vdisk_file_pread(s->file, buf, len, s->snapshots_offset, err);
        if (r == 0)
            r = qcow2_snapshot_table_parse(s->name, buf, len, n, s->img->size, &c->snaps,
                                           &c->snap_table_size, err);
        free(buf);
    }
    if (r == -ENODATA)
        r = vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EFBIG,
                                 "%s: snapshot table at 0x%" PRIx64 " is too big",
                                 s->name, s->snapshots_offset);
    if (r < 0) {
        qcow2_check_say(c, "ERROR failed to read the snapshot table: %s", err ? err->message : "");
        c->res->check_errors++;
        return r;
    }
    c->nsnaps = n;
    for (uint32_t i = 0; s->version >= 3 && i < n; i++) {
        if (c->snaps[i].extra_size >= V3_MIN_EXTRA)
            continue;
        qcow2_check_say(c, "%s snapshot table entry %u is incomplete",
                        (c->fix & VDISK_CHECK_FIX_ERRORS) ? "Repairing" : "ERROR", i);
        c->res->corruptions++;
        c->snap_corruptions++;
    }
    return 0;
}

/* Is the old table (or part of it) referenced by nothing?  Then it has no
 * refcount to drop (past the end of the file, say). */
static bool
old_table_counted(const struct qcow2_check *c)
{
    uint64_t first = c->s->snapshots_offset >> c->s->cluster_bits;
    uint64_t last = (c->s->snapshots_offset + c->snap_table_size - 1) >> c->s->cluster_bits;
    for (uint64_t k = first; k <= last; k++)
        if (k >= c->nb || c->ref[k] == 0)
            return false;
    return true;
}

int
qcow2_check_fix_snapshots(struct qcow2_check *c, unsigned fix, vdisk_error *err)
{
    if (!c->snap_corruptions || !(fix & VDISK_CHECK_FIX_ERRORS))
        return 0;
    /* Formatting writes every entry with its full extra data. */
    size_t old_len = old_table_counted(c) ? c->snap_table_size : 0;
    int r = qcow2_snapshots_write(c->s, c->snaps, c->nsnaps, old_len, err);
    if (r == 0)
        r = qcow2_flush_metadata(c->s, err);
    if (r < 0) {
        qcow2_check_say(c, "ERROR failed to update snapshot table: %s", err ? err->message : "");
        c->res->check_errors++;
        return r;
    }
    c->res->corruptions_fixed += c->snap_corruptions;
    c->res->corruptions -= c->snap_corruptions;
    c->snap_corruptions = 0;
    return 0;
}

void
qcow2_check_free_snapshots(struct qcow2_check *c)
{
    qcow2_snapshots_free(c->snaps, c->nsnaps);
    c->snaps = NULL;
    c->nsnaps = 0;
}
