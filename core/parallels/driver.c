/* libvdisk — the Parallels format driver (Parallels Desktop / Virtuozzo
 * expandable images, both magics), read only.
 *
 * Guest cluster i lies where BAT entry i says, or reads as zeros.  An
 * image whose in-use mark is set (not closed by the program that last
 * wrote it) is read as it is, as QEMU does for read-only opens; check
 * reports it.  Files: parallels.h.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "foreign.h"
#include "parallels.h"

static void
prl_close(vdisk_image *img)
{
    prl_state *s = img->priv;
    if (s)
        free(s->bat);
    free(s);
    img->priv = NULL;
}

/* Open: header and BAT (header.c). */
static int
prl_open(vdisk_image *img, vdisk_error *err)
{
    int r = vdisk_foreign_refuse_rdwr(img, err);
    if (r < 0)
        return r;
    prl_state *s = calloc(1, sizeof(*s));
    if (!s)
        return vdisk_error_set(err, ENOMEM, "%s: out of memory", img->filename);
    img->priv = s;
    if ((r = vdisk_file_get_length(img->file, &s->file_size, err)) < 0 ||
        (r = prl_load(img->file, img->filename, s, (img->flags & VDISK_OPEN_CHECK) != 0, err)) < 0) {
        prl_close(img);     /* image.c does not close a handle whose open failed */
        return r;
    }
    img->size = s->size;
    return 0;
}

/* The cluster of guest offset off: its BAT index, checked. */
static int
cluster_of(vdisk_image *img, uint64_t off, uint32_t *i, vdisk_error *err)
{
    prl_state *s = img->priv;
    *i = (uint32_t)(off / s->cluster_size);     /* < bat_entries: the size is covered */
    if (s->bat[*i] && !prl_entry_ok(s, *i))
        return vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EIO,
                                    "%s: Parallels BAT entry %u points outside the data area",
                                    img->filename, *i);
    return 0;
}

/* Read: cluster by cluster, zeros where none is allocated. */
static int
prl_pread(vdisk_image *img, void *buf, uint64_t len, uint64_t off, vdisk_error *err)
{
    prl_state *s = img->priv;
    uint8_t *p = buf;
    while (len > 0) {
        uint64_t in = off % s->cluster_size;
        uint64_t n = s->cluster_size - in < len ? s->cluster_size - in : len;
        uint32_t i;
        int r = cluster_of(img, off, &i, err);
        if (r == 0 && !s->bat[i])
            memset(p, 0, n);
        else if (r == 0)
            r = vdisk_file_pread(img->file, p, n, prl_host(s, i) + in, err);
        if (r < 0)
            return r;
        p += n, off += n, len -= n;
    }
    return 0;
}

/* Block status: a run of unallocated clusters (no backing file: zeros), or
 * of allocated clusters that follow each other in the file. */
static int
prl_block_status(vdisk_image *img, uint64_t off, uint64_t len, vdisk_extent *ext, vdisk_error *err)
{
    prl_state *s = img->priv;
    uint32_t first;
    int r = cluster_of(img, off, &first, err);
    if (r < 0)
        return r;
    uint64_t in = off % s->cluster_size, run = s->cluster_size - in;
    for (uint64_t i = (uint64_t)first + 1; run < len && i < s->bat_entries; i++, run += s->cluster_size) {
        bool same = s->bat[first] ? s->bat[i] && prl_entry_ok(s, (uint32_t)i) &&
                                        prl_host(s, (uint32_t)i) ==
                                            prl_host(s, first) + (i - first) * s->cluster_size
                                  : !s->bat[i];
        if (!same)
            break;
    }
    if (run > len)
        run = len;
    if (!s->bat[first]) {
        ext->flags = 0;
        ext->length = run;
        return 0;
    }
    return vdisk_foreign_data_extent(img, prl_host(s, first) + in, run, ext, err);
}

const struct vdisk_driver vdisk_parallels_driver = {
    .name = "parallels",
    .format = VDISK_FORMAT_PARALLELS,
    .open = prl_open,                           /* header and BAT (header.c) */
    .close = prl_close,
    .pread = prl_pread,
    .pwrite = vdisk_foreign_pwrite,             /* read only: refused */
    .write_zeroes = vdisk_foreign_write_zeroes,
    .discard = vdisk_foreign_discard,
    .flush = vdisk_foreign_flush,
    .block_status = prl_block_status,
    .check = prl_check,                         /* BAT, in-use mark, leaks (check.c) */
};
