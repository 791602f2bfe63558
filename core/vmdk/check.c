/* libvdisk — `check` of a VMDK image, as qemu-img checks one: every grain
 * table entry that points at data must point inside its extent file (and a
 * flat extent's start must lie inside its file).  The first bad entry ends
 * the check with qemu-img's words ("ERROR: cluster offset for sector N
 * points after EOF") and a failure.  VMDK has no reference counts, so
 * there are no leaks to find and nothing to repair.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>

#include "vmdk.h"

/* qemu-img's two findings: a table that cannot be read, a grain past EOF. */
static void
say(vdisk_check_report_fn report, void *opaque, bool unreadable, uint64_t sector)
{
    char line[128];
    if (unreadable)
        snprintf(line, sizeof(line), "ERROR: could not get cluster_offset for sector %" PRIu64, sector);
    else
        snprintf(line, sizeof(line), "ERROR: cluster offset for sector %" PRIu64 " points after EOF",
                 sector);
    if (report)
        report(opaque, line);
}

/* The grains of one sparse extent; *bad set at the first entry past EOF. */
static int
check_sparse(const vmdk_extent *e, vdisk_check_report_fn report, void *opaque, bool *bad,
             vdisk_error *err)
{
    vmdk_sparse *s = e->sparse;
    uint64_t grains = (s->capacity + s->grain - 1) / s->grain;
    for (uint64_t g = 0; g < grains && !*bad; g++) {
        uint32_t gte;
        uint64_t sector = (e->start + g * s->grain) / VMDK_SECTOR;
        pthread_mutex_lock(&s->lock);
        vdisk_error local;
        int r = vmdk_gt_get(s, g, &gte, &local);
        pthread_mutex_unlock(&s->lock);
        if (r < 0) {
            say(report, opaque, true, sector);
            *bad = true;
        } else if (gte != 0 && !(gte == VMDK_GTE_ZEROED && s->zeroed_grain) && vmdk_gte_outside(s, gte)) {
            say(report, opaque, false, sector);
            *bad = true;
        }
    }
    (void)err;
    return 0;
}

int
vmdk_check(vdisk_image *img, unsigned fix, vdisk_check_result *res,
           vdisk_check_report_fn report, vdisk_progress_fn progress, void *opaque,
           vdisk_error *err)
{
    (void)progress;
    vmdk_state *st = img->priv;
    if (fix)
        return vdisk_error_set(err, ENOTSUP, "%s: vmdk images cannot be repaired", img->filename);
    bool bad = false;
    for (size_t i = 0; i < st->nextents && !bad; i++) {
        const vmdk_extent *e = &st->extents[i];
        if (e->kind == VMDK_EXTENT_SPARSE) {
            int r = check_sparse(e, report, opaque, &bad, err);
            if (r < 0)
                return r;
        } else if (e->kind == VMDK_EXTENT_FLAT) {
            uint64_t len;
            int r = vdisk_file_get_length(e->file, &len, err);
            if (r < 0)
                return r;
            if (e->flat_offset >= len) {
                say(report, opaque, false, e->start / VMDK_SECTOR);
                bad = true;
            }
        }
    }
    if (!bad)
        return 0;
    res->corruptions++;
    return vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL,
                                "Invalid argument");
}
