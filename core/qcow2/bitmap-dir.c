/* libvdisk — the qcow2 bitmap directory (docs/interop/qcow2.txt, "Bitmaps
 * extension"): finding the header extension, reading and validating the
 * directory with QEMU's rules (block/qcow2-bitmap.c bitmap_list_load and
 * check_dir_entry) and writing it back.
 *
 * A directory entry: table offset (8), table size (4), flags (4), type (1),
 * granularity bits (1), name size (2), extra data size (4), extra data,
 * name, padding to 8 bytes.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "qcow2.h"

#define DIR_ENTRY_FIXED 24u
#define BT_DIRTY_TRACKING 1u
#define MAX_TABLE_SIZE 0x8000000u
#define MAX_PHYS_SIZE UINT64_C(0x20000000)
#define MIN_GRAN_BITS 9u
#define MAX_GRAN_BITS 31u
#define MAX_NAME_SIZE 1023u

void
qcow2_bitmaps_find_ext(const qcow2_state *s, const uint8_t *h, struct qcow2_bitmaps_ext *ext)
{
    memset(ext, 0, sizeof(*ext));
    uint64_t p = s->header_length, end = s->cluster_size, bf = qcow2_be64(h + 8);
    if (bf && bf < end)
        end = bf;
    while (p + 8 <= end) {
        uint32_t magic = qcow2_be32(h + p), len = qcow2_be32(h + p + 4);
        if (magic == QCOW2_EXT_END || len > end - p - 8)
            return;
        if (magic == QCOW2_EXT_BITMAPS && len == QCOW2_BITMAPS_EXT_LEN) {
            ext->pos = (uint32_t)p;
            ext->nb = qcow2_be32(h + p + 8);
            ext->dir_size = qcow2_be64(h + p + 16);
            ext->dir_offset = qcow2_be64(h + p + 24);
            return;
        }
        p += 8 + (((uint64_t)len + 7) & ~UINT64_C(7));
    }
}

uint64_t
qcow2_bitmap_data_bytes(uint64_t size, unsigned gran_bits)
{
    uint64_t nbits = (size + (UINT64_C(1) << gran_bits) - 1) >> gran_bits;
    return (nbits + 7) / 8;
}

static uint64_t
entry_len(uint32_t name_size, uint32_t extra)
{
    return (DIR_ENTRY_FIXED + (uint64_t)extra + name_size + 7) & ~UINT64_C(7);
}

/* QEMU's check_dir_entry: the constraints a loadable entry meets. */
static bool
entry_ok(const qcow2_state *s, const struct qcow2_bitmap *b)
{
    if (b->table_size == 0 || b->table_offset == 0 ||
        (b->table_offset & (s->cluster_size - 1)) || b->table_size > MAX_TABLE_SIZE ||
        b->gran_bits > MAX_GRAN_BITS || b->gran_bits < MIN_GRAN_BITS ||
        (b->flags & QCOW2_BME_RESERVED_FLAGS) || b->type != BT_DIRTY_TRACKING)
        return false;
    uint64_t phys = (uint64_t)b->table_size * s->cluster_size;
    if (phys > MAX_PHYS_SIZE)
        return false;
    /* A consistent bitmap must cover the whole disk. */
    return (b->flags & QCOW2_BME_IN_USE) || s->img->size <= ((phys * 8) << b->gran_bits);
}

/* Parse the entry at dir[p]; *len is its padded length. */
static int
parse_entry(qcow2_state *s, const struct qcow2_bitmaps_ext *ext, const uint8_t *dir, uint64_t p,
            struct qcow2_bitmap *b, uint64_t *len, vdisk_error *err)
{
    const uint8_t *e = dir + p;
    uint32_t name_size = (uint32_t)((e[18] << 8) | e[19]), extra = qcow2_be32(e + 20);
    *len = entry_len(name_size, extra);
    if (*len > ext->dir_size - p)
        return vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL,
                                    "%s: bitmap directory at 0x%" PRIx64 ": Broken bitmap "
                                    "directory (entry at +0x%" PRIx64 " runs past its end)", s->name,
                                    ext->dir_offset, p);
    if (extra)
        return vdisk_error_set(err, ENOTSUP, "%s: bitmap directory at 0x%" PRIx64 ": Bitmap extra "
                               "data is not supported", s->name, ext->dir_offset);
    b->table_offset = qcow2_be64(e);
    b->table_size = qcow2_be32(e + 8);
    b->flags = qcow2_be32(e + 12);
    b->type = e[16];
    b->gran_bits = e[17];
    b->name = malloc(name_size + 1u);
    if (!b->name)
        return vdisk_error_set(err, ENOMEM, "%s: out of memory", s->name);
    memcpy(b->name, e + DIR_ENTRY_FIXED, name_size);
    b->name[name_size] = 0;
    if (name_size > MAX_NAME_SIZE || !entry_ok(s, b))
        return vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL,
                                    "%s: bitmap directory at 0x%" PRIx64 ": Bitmap '%s' "
                                    "doesn't satisfy the constraints", s->name, ext->dir_offset, b->name);
    return 0;
}

static int
parse_dir(qcow2_state *s, const struct qcow2_bitmaps_ext *ext, const uint8_t *dir,
          struct qcow2_bitmap *v, uint32_t *n, vdisk_error *err)
{
    uint64_t p = 0;
    *n = 0;
    while (p < ext->dir_size) {
        if (ext->dir_size - p < DIR_ENTRY_FIXED)
            return vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL,
                                        "%s: bitmap directory at 0x%" PRIx64 ": Broken "
                                        "bitmap directory", s->name, ext->dir_offset);
        if (*n >= ext->nb)
            return vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL,
                                        "%s: bitmap directory at 0x%" PRIx64 ": More bitmaps "
                                        "found than specified in header extension", s->name,
                                        ext->dir_offset);
        uint64_t len;
        int r = parse_entry(s, ext, dir, p, &v[*n], &len, err);
        (*n)++;
        if (r < 0)
            return r;
        p += len;
    }
    if (*n != ext->nb)
        return vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL,
                                    "%s: bitmap directory at 0x%" PRIx64 ": Less bitmaps "
                                    "found than specified in header extension", s->name, ext->dir_offset);
    return 0;
}

int
qcow2_bitmaps_read_dir(qcow2_state *s, const struct qcow2_bitmaps_ext *ext,
                       struct qcow2_bitmap **out, uint32_t *n, vdisk_error *err)
{
    *out = NULL;
    *n = 0;
    if (ext->nb > QCOW2_MAX_BITMAPS)
        return vdisk_error_set(err, EINVAL, "%s: bitmaps_ext: Image has %" PRIu32 " bitmaps, "
                               "exceeding the QEMU supported maximum of %u", s->name, ext->nb,
                               QCOW2_MAX_BITMAPS);
    if (ext->nb == 0)
        return vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL,
                                    "%s: found bitmaps extension with zero bitmaps", s->name);
    if (ext->dir_offset & (s->cluster_size - 1))
        return vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL,
                                    "%s: bitmaps_ext: invalid bitmap directory offset "
                                    "0x%" PRIx64, s->name, ext->dir_offset);
    if (ext->dir_size == 0 || ext->dir_size > QCOW2_MAX_BITMAP_DIR_SIZE)
        return vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL,
                                    "%s: bitmaps_ext: bitmap directory size (%" PRIu64
                                    ") is zero or exceeds the maximum supported size (%" PRIu64 ")",
                                    s->name, ext->dir_size, QCOW2_MAX_BITMAP_DIR_SIZE);
    uint8_t *dir = malloc(ext->dir_size);
    struct qcow2_bitmap *v = calloc(ext->nb, sizeof(*v));
    int r = dir && v ? 0 : vdisk_error_set(err, ENOMEM, "%s: out of memory", s->name);
    if (r == 0)
        r = vdisk_file_pread(s->file, dir, ext->dir_size, ext->dir_offset, err);
    if (r < 0)
        vdisk_error_prefix(err, "%s: cannot read the bitmap directory at 0x%" PRIx64, s->name,
                           ext->dir_offset);
    uint32_t got = 0;
    if (r == 0)
        r = parse_dir(s, ext, dir, v, &got, err);
    free(dir);
    if (r < 0) {
        qcow2_bitmaps_free_dir(v, got);
        return r;
    }
    *out = v;
    *n = got;
    return 0;
}

int
qcow2_bitmaps_build_dir(qcow2_state *s, const struct qcow2_bitmap *v, uint32_t n, uint8_t **out,
                        uint64_t *len, vdisk_error *err)
{
    uint64_t total = 0;
    for (uint32_t i = 0; i < n; i++)
        total += entry_len((uint32_t)strlen(v[i].name), 0);
    uint64_t alloc = (total + s->cluster_size - 1) & ~(s->cluster_size - 1);
    uint8_t *d = calloc(1, alloc ? alloc : 1);
    if (!d)
        return vdisk_error_set(err, ENOMEM, "%s: out of memory", s->name);
    uint64_t p = 0;
    for (uint32_t i = 0; i < n; i++) {
        uint8_t *e = d + p;
        uint32_t nl = (uint32_t)strlen(v[i].name);
        qcow2_put_be64(e, v[i].table_offset);
        qcow2_put_be32(e + 8, v[i].table_size);
        qcow2_put_be32(e + 12, v[i].flags);
        e[16] = v[i].type;
        e[17] = v[i].gran_bits;
        e[18] = (uint8_t)(nl >> 8);
        e[19] = (uint8_t)nl;
        memcpy(e + DIR_ENTRY_FIXED, v[i].name, nl);
        p += entry_len(nl, 0);
    }
    *out = d;
    *len = total;
    return 0;
}

void
qcow2_bitmaps_free_dir(struct qcow2_bitmap *v, uint32_t n)
{
    for (uint32_t i = 0; v && i < n; i++) {
        free(v[i].name);
        free(v[i].bits);
    }
    free(v);
}

/* End of what the header cluster h uses: its extensions' end marker (at
 * *marker) and the backing file name. */
static int
header_used(qcow2_state *s, const uint8_t *h, uint64_t *marker, uint64_t *used, vdisk_error *err)
{
    uint64_t bf = qcow2_be64(h + 8), bflen = qcow2_be32(h + 16);
    uint64_t p = s->header_length;
    while (p + 8 <= s->cluster_size && qcow2_be32(h + p) != QCOW2_EXT_END)
        p += 8 + ((qcow2_be32(h + p + 4) + UINT64_C(7)) & ~UINT64_C(7));
    if (p + 8 > s->cluster_size)
        return vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL,
                                    "%s: header extensions at 0x%" PRIx32 " have no end "
                                    "marker", s->name, s->header_length);
    *marker = p;
    *used = bf && bf + bflen > p + 8 ? bf + bflen : p + 8;
    return 0;
}

/* Insert (nb > 0, none yet) or drop (nb == 0) the 32-byte extension in h. */
static int
move_ext(qcow2_state *s, uint8_t *h, struct qcow2_bitmaps_ext *ext, uint32_t nb, vdisk_error *err)
{
    const uint64_t len = 8 + QCOW2_BITMAPS_EXT_LEN;
    uint64_t marker = 0, used = 0, bf = qcow2_be64(h + 8);
    int r = header_used(s, h, &marker, &used, err);
    if (r < 0)
        return r;
    if (nb) {
        if (used + len > s->cluster_size)
            return vdisk_error_set(err, ENOSPC, "%s: no space left in the header cluster for the "
                                   "bitmaps extension", s->name);
        memmove(h + marker + len, h + marker, used - marker);
        qcow2_put_be32(h + marker, QCOW2_EXT_BITMAPS);
        qcow2_put_be32(h + marker + 4, QCOW2_BITMAPS_EXT_LEN);
        ext->pos = (uint32_t)marker;
    } else {
        memmove(h + ext->pos, h + ext->pos + len, used - ext->pos - len);
        memset(h + used - len, 0, len);
        ext->pos = 0;
    }
    if (bf)
        qcow2_put_be64(h + 8, nb ? bf + len : bf - len);
    return 0;
}

int
qcow2_bitmaps_write_ext(qcow2_state *s, struct qcow2_bitmaps_ext *ext, uint32_t nb,
                        uint64_t dir_off, uint64_t dir_size, vdisk_error *err)
{
    uint8_t *h = vdisk_alloc_aligned(s->cluster_size, true);
    if (!h)
        return vdisk_error_set(err, ENOMEM, "%s: out of memory", s->name);
    int r = vdisk_file_pread(s->file, h, s->cluster_size, 0, err);
    /* Where the extension is now: a header rewrite since the open (amend,
     * rebase) may have moved it. */
    struct qcow2_bitmaps_ext cur;
    if (r == 0) {
        qcow2_bitmaps_find_ext(s, h, &cur);
        ext->pos = cur.pos;
    }
    if (r == 0 && (nb ? !ext->pos : ext->pos != 0))
        r = move_ext(s, h, ext, nb, err);
    uint64_t autoclear = nb ? s->autoclear | QCOW2_AUTOCLEAR_BITMAPS
                            : s->autoclear & ~QCOW2_AUTOCLEAR_BITMAPS;
    if (r == 0 && ext->pos) {
        qcow2_put_be32(h + ext->pos + 8, nb);
        qcow2_put_be32(h + ext->pos + 12, 0);
        qcow2_put_be64(h + ext->pos + 16, dir_size);
        qcow2_put_be64(h + ext->pos + 24, dir_off);
    }
    if (r == 0) {
        qcow2_put_be64(h + QCOW2_HDR_AUTOCLEAR, autoclear);
        r = vdisk_file_pwrite(s->file, h, s->cluster_size, 0, err);
    }
    if (r == 0)
        r = vdisk_file_flush(s->file, err);
    free(h);
    if (r < 0) {
        vdisk_error_prefix(err, "%s: cannot update the bitmaps header extension", s->name);
        return r;
    }
    s->autoclear = autoclear;
    ext->nb = nb;
    ext->dir_offset = dir_off;
    ext->dir_size = dir_size;
    return 0;
}
