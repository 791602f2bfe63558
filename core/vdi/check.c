/* libvdisk — VDI: qemu-img check.  The block map is the only metadata:
 * every allocated entry must name a data block inside the image, no data
 * block may serve two guest blocks, and the header's count of allocated
 * blocks must match the map.  Repair is not offered (vdisk does not write
 * VDI images; the open refuses -r). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "vdi.h"

static void
say(vdisk_check_report_fn report, void *opaque, const char *line)
{
    if (report)
        report(opaque, line);
}

int
vdi_check(vdisk_image *img, unsigned fix, vdisk_check_result *res,
          vdisk_check_report_fn report, vdisk_progress_fn progress, void *opaque,
          vdisk_error *err)
{
    (void)fix;
    vdi_state *s = img->priv;
    uint32_t n = s->h.blocks;
    /* owner[d] = 1 + the guest block using data block d (bounded like the map). */
    uint32_t *owner = calloc(n ? n : 1, sizeof(*owner));
    if (!owner)
        return vdisk_error_set(err, ENOMEM, "%s: out of memory for the check", img->filename);
    char line[200];
    uint32_t allocated = 0;
    for (uint32_t b = 0; b < n; b++) {
        uint32_t e = s->bmap[b];
        if (!vdi_allocated(e))
            continue;
        if (e >= n) {
            snprintf(line, sizeof(line), "ERROR: block %u points at data block %u, past the "
                     "image's %u blocks", b, e, n);
            say(report, opaque, line);
            res->corruptions++;
            continue;
        }
        allocated++;
        if (owner[e]) {
            snprintf(line, sizeof(line), "ERROR: data block %u is used by blocks %u and %u", e,
                     owner[e] - 1, b);
            say(report, opaque, line);
            res->corruptions++;
        } else {
            owner[e] = b + 1;
        }
        if (progress && progress(opaque, b + 1, n)) {
            free(owner);
            return vdisk_error_set(err, ECANCELED, "%s: check cancelled", img->filename);
        }
    }
    if (allocated != s->h.blocks_allocated) {
        snprintf(line, sizeof(line), "ERROR: the header counts %u allocated blocks, the block "
                 "map %u", s->h.blocks_allocated, allocated);
        say(report, opaque, line);
        res->corruptions++;
    }
    free(owner);
    return 0;
}
