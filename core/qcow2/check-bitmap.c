/* libvdisk — persistent dirty bitmaps as the check counts them: the bitmap
 * directory, each bitmap's table and the data clusters its entries name
 * (docs/interop/qcow2.txt, "Bitmaps extension").  As in QEMU, bitmaps count
 * only while the autoclear "bitmaps" bit says they are consistent; once a
 * program without bitmap support has written the image (and cleared the
 * bit), their clusters are leaks that `check -r leaks` gives back.
 * Only offsets and sizes are read here (bitmap.c loads the bitmaps).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "check-int.h"

#define DIR_ENTRY_FIXED 24u
#define MAX_TABLE_ENTRIES (UINT64_C(1) << 24)

/* Read the header cluster and find the bitmaps extension (bitmap-dir.c). */
static int
find_ext(qcow2_state *s, struct qcow2_bitmaps_ext *ext, vdisk_error *err)
{
    uint8_t *h = malloc(s->cluster_size);
    if (!h)
        return vdisk_error_set(err, ENOMEM, "%s: out of memory", s->name);
    int r = vdisk_file_pread(s->file, h, s->cluster_size, 0, err);
    if (r == 0)
        qcow2_bitmaps_find_ext(s, h, ext);
    free(h);
    return r;
}

/* Count one bitmap's table and the clusters it names. */
static int
count_table(struct qcow2_check *c, uint64_t off, uint32_t size, vdisk_error *err)
{
    qcow2_state *s = c->s;
    int r = qcow2_check_inc(c, off, (uint64_t)size * 8, OWN_BITMAP, err);
    if (r < 0)
        return r;
    if (size > MAX_TABLE_ENTRIES || (off & (s->cluster_size - 1))) {
        qcow2_check_say(c, "ERROR bitmap table at 0x%" PRIx64 " (%u entries) is invalid", off, size);
        c->res->corruptions++;
        return vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL,
                                    "%s: bitmap table at 0x%" PRIx64 " is invalid", s->name,
                                    off);
    }
    uint8_t *t = malloc((size_t)size * 8 + 8);
    if (!t)
        return vdisk_error_set(err, ENOMEM, "%s: out of memory", s->name);
    r = vdisk_file_pread(s->file, t, (size_t)size * 8, off, err);
    for (uint32_t i = 0; r == 0 && i < size; i++) {
        uint64_t e = qcow2_be64(t + (size_t)i * 8), data = e & QCOW2_BME_OFFSET_MASK;
        if ((e & QCOW2_BME_TABLE_RESERVED) || (data && ((e & QCOW2_BME_ALL_ONES) || (data & (s->cluster_size - 1))))) {
            qcow2_check_say(c, "ERROR bitmap table entry 0x%" PRIx64 " is invalid", e);
            c->res->corruptions++;
            continue;
        }
        if (data)
            r = qcow2_check_inc(c, data, s->cluster_size, OWN_BITMAP, err);
    }
    free(t);
    return r;
}

/* Walk the directory: each entry names a bitmap table. */
static int
count_directory(struct qcow2_check *c, const struct qcow2_bitmaps_ext *ext, const uint8_t *dir,
                vdisk_error *err)
{
    uint64_t p = 0;
    for (uint32_t i = 0; i < ext->nb; i++) {
        if (ext->dir_size - p < DIR_ENTRY_FIXED)
            goto bad;
        const uint8_t *e = dir + p;
        uint32_t name = (uint32_t)((e[18] << 8) | e[19]), extra = qcow2_be32(e + 20);
        uint64_t len = (DIR_ENTRY_FIXED + (uint64_t)extra + name + 7) & ~UINT64_C(7);
        if (len > ext->dir_size - p)
            goto bad;
        int r = count_table(c, qcow2_be64(e), qcow2_be32(e + 8), err);
        if (r < 0)
            return r;
        p += len;
    }
    return 0;
bad:
    qcow2_check_say(c, "ERROR bitmap directory at 0x%" PRIx64 " is corrupt", ext->dir_offset);
    c->res->corruptions++;
    return vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL,
                                "%s: bitmap directory at 0x%" PRIx64 " is corrupt",
                                c->s->name, ext->dir_offset);
}

int
qcow2_check_bitmaps(struct qcow2_check *c, vdisk_error *err)
{
    qcow2_state *s = c->s;
    struct qcow2_bitmaps_ext ext;
    if (s->version < 3 || !(s->autoclear & QCOW2_AUTOCLEAR_BITMAPS))
        return 0;
    int r = find_ext(s, &ext, err);
    if (r < 0 || !ext.pos || ext.nb == 0)
        return r;
    r = qcow2_check_inc(c, ext.dir_offset, ext.dir_size, OWN_BITMAP, err);
    if (r < 0)
        return r;
    if (ext.dir_size > QCOW2_MAX_BITMAP_DIR_SIZE || (ext.dir_offset & (s->cluster_size - 1))) {
        qcow2_check_say(c, "ERROR bitmap directory at 0x%" PRIx64 " is invalid", ext.dir_offset);
        c->res->corruptions++;
        return vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL,
                                    "%s: bitmap directory at 0x%" PRIx64 " is invalid",
                                    s->name, ext.dir_offset);
    }
    uint8_t *dir = malloc(ext.dir_size + 1);
    if (!dir)
        return vdisk_error_set(err, ENOMEM, "%s: out of memory", s->name);
    r = vdisk_file_pread(s->file, dir, ext.dir_size, ext.dir_offset, err);
    if (r == 0)
        r = count_directory(c, &ext, dir, err);
    free(dir);
    return r;
}
