/* libvdisk — Parallels: qemu-img check.
 *
 * Counts what qemu-img check reports for Parallels images: the in-use mark
 * (not closed cleanly) and BAT entries past the end of the file are
 * corruptions; the file past the last allocated cluster is leaked space;
 * the BAT gives the cluster counts (allocated, fragmented: not right after
 * the previous allocated cluster) and the image end offset.  Repair is not
 * offered: vdisk does not write Parallels images.
 */
#include <errno.h>
#include <stdio.h>

#include "parallels.h"

static void
say(vdisk_check_report_fn report, void *opaque, const char *line)
{
    if (report)
        report(opaque, line);
}

int
prl_check(vdisk_image *img, unsigned fix, vdisk_check_result *res,
          vdisk_check_report_fn report, vdisk_progress_fn progress, void *opaque,
          vdisk_error *err)
{
    (void)fix;
    prl_state *s = img->priv;
    char line[160];
    if (s->unclean) {
        say(report, opaque, "ERROR image was not closed correctly");
        res->corruptions++;
    }
    res->total_clusters = s->bat_entries;
    uint64_t high = 0, prev = 0;
    for (uint32_t i = 0; i < s->bat_entries; i++) {
        uint64_t off = prl_host(s, i);
        if (!off) {
            prev = 0;
            continue;
        }
        if (off > s->file_size) {
            snprintf(line, sizeof(line), "ERROR cluster %u is outside the image", i);
            say(report, opaque, line);
            res->corruptions++;
        }
        res->allocated_clusters++;
        if (off > high)
            high = off;
        if (prev && prev + s->cluster_size != off)
            res->fragmented_clusters++;
        prev = off;
        if (progress && progress(opaque, (uint64_t)i + 1, s->bat_entries))
            return vdisk_error_set(err, ECANCELED, "%s: check cancelled", img->filename);
    }
    res->image_end_offset = high + s->cluster_size;
    if (s->file_size > res->image_end_offset) {
        uint64_t extra = s->file_size - res->image_end_offset;
        snprintf(line, sizeof(line), "ERROR space leaked at the end of the image %llu",
                 (unsigned long long)extra);
        say(report, opaque, line);
        res->leaks += (extra + s->cluster_size - 1) / s->cluster_size;
    }
    return 0;
}
