/* libvdisk — the snapshot table as the check needs it: where each
 * snapshot's L1 table is and how big, its id and name for messages, and
 * the size of the table itself.  Every length read from the file is bounded
 * before use (QEMU's limits: 65536 snapshots, 1 KiB per entry on average).
 *
 * TODO(owner): dedupe with the snapshot module (core/qcow2/snapshot.c on
 * the `snap` branch) once it lands; this reads offsets and sizes only.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "check-int.h"

#define SNAP_HEADER_LEN 40u
#define SNAP_MIN_EXTRA_V3 16u
#define SNAP_TABLE_MAX ((uint64_t)QCOW2_MAX_SNAPSHOTS * 1024)

static char *
read_string(qcow2_state *s, uint64_t off, uint16_t len, vdisk_error *err)
{
    char *p = malloc((size_t)len + 1);
    if (!p) {
        vdisk_error_set(err, ENOMEM, "%s: out of memory", s->name);
        return NULL;
    }
    if (vdisk_file_pread(s->file, p, len, off, err) < 0) {
        free(p);
        return NULL;
    }
    p[len] = '\0';
    return p;
}

/* Read entry i at *pos; advances *pos past it (8-byte aligned). */
static int
read_entry(struct qcow2_check *c, uint32_t i, uint64_t *pos, vdisk_error *err)
{
    qcow2_state *s = c->s;
    uint8_t h[SNAP_HEADER_LEN];
    int r = vdisk_file_pread(s->file, h, sizeof(h), *pos, err);
    if (r < 0)
        return r;
    struct qcow2_snap_ref *sn = &c->snaps[i];
    sn->l1_offset = qcow2_be64(h);
    sn->l1_size = qcow2_be32(h + 8);
    uint16_t id_len = (uint16_t)((h[12] << 8) | h[13]);
    uint16_t name_len = (uint16_t)((h[14] << 8) | h[15]);
    uint32_t extra = qcow2_be32(h + 36);
    if (extra > 1024)
        return vdisk_error_set(err, EFBIG, "%s: snapshot table entry %u at 0x%" PRIx64 " has %u "
                               "bytes of extra data (at most 1024)", s->name, i, *pos, extra);
    if (s->version >= 3 && extra < SNAP_MIN_EXTRA_V3) {
        qcow2_check_say(c, "%s snapshot table entry %u is incomplete",
                        (c->fix & VDISK_CHECK_FIX_ERRORS) ? "Repairing" : "ERROR", i);
        c->res->corruptions++;
    }
    uint64_t p = *pos + SNAP_HEADER_LEN + extra;
    sn->id = read_string(s, p, id_len, err);
    if (!sn->id)
        return -EIO;
    p += id_len;
    sn->name = read_string(s, p, name_len, err);
    if (!sn->name)
        return -EIO;
    p += name_len;
    *pos = (p + 7) & ~UINT64_C(7);
    if (*pos - s->snapshots_offset > SNAP_TABLE_MAX)
        return vdisk_error_set(err, EFBIG, "%s: snapshot table at 0x%" PRIx64 " is too big",
                               s->name, s->snapshots_offset);
    return 0;
}

int
qcow2_check_read_snapshots(struct qcow2_check *c, vdisk_error *err)
{
    qcow2_state *s = c->s;
    uint32_t n = s->nb_snapshots;
    if (n > QCOW2_MAX_SNAPSHOTS || (n && (s->snapshots_offset & (s->cluster_size - 1)))) {
        qcow2_check_say(c, "ERROR snapshot table offset invalid");
        c->res->check_errors++;
        return vdisk_error_set(err, EINVAL, "%s: snapshot table at 0x%" PRIx64 " (%u entries) is "
                               "invalid", s->name, s->snapshots_offset, n);
    }
    if (!n)
        return 0;
    c->snaps = calloc(n, sizeof(*c->snaps));
    if (!c->snaps) {
        c->res->check_errors++;
        return vdisk_error_set(err, ENOMEM, "%s: out of memory for the snapshot table", s->name);
    }
    c->nsnaps = n;
    uint64_t pos = s->snapshots_offset;
    for (uint32_t i = 0; i < n; i++) {
        int r = read_entry(c, i, &pos, err);
        if (r < 0) {
            qcow2_check_say(c, "ERROR failed to read the snapshot table: %s",
                            err ? err->message : "");
            c->res->check_errors++;
            return r;
        }
    }
    c->snap_table_size = pos - s->snapshots_offset;
    return 0;
}

void
qcow2_check_free_snapshots(struct qcow2_check *c)
{
    for (uint32_t i = 0; i < c->nsnaps; i++) {
        free(c->snaps[i].id);
        free(c->snaps[i].name);
    }
    free(c->snaps);
    c->snaps = NULL;
    c->nsnaps = 0;
}
