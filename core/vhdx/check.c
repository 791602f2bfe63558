/* libvdisk — `check` of a VHDX image, as qemu-img checks one: a log the
 * open replayed counts as a corruption fixed (only a writable open, i.e.
 * `check -r`, replays it; a read-only check of such a file fails to open,
 * as in QEMU), and every BAT entry that points outside the file or into
 * the headers, log, regions or another block counts as a corruption, each
 * reported on its own line.  There is nothing to repair beyond the log:
 * a wrong BAT entry's data is lost either way.
 */
#include <string.h>

#include "vhdx.h"

int
vhdx_check(vdisk_image *img, unsigned fix, vdisk_check_result *res, vdisk_check_report_fn report,
           vdisk_progress_fn progress, void *opaque, vdisk_error *err)
{
    (void)fix;
    (void)progress;
    vhdx_state *s = img->priv;
    if (s->log_replayed)
        res->corruptions_fixed++;
    uint64_t file_len, bad = 0;
    int r = vdisk_file_get_length(s->file, &file_len, err);
    if (r == 0)
        r = vhdx_bat_check(s, file_len, &bad, report, opaque, err);
    res->corruptions += bad;
    if (r < 0)
        res->check_errors++;
    return r;
}
