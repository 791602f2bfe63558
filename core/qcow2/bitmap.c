/* libvdisk — qcow2 persistent dirty bitmaps kept up to date, as QEMU does
 * (block/qcow2-bitmap.c):
 *   open   (writable) the directory is validated, every bitmap that is not
 *          in_use is loaded into memory, then all of them are marked in_use
 *          on disk: a crash leaves them inconsistent, never silently wrong.
 *          Bitmaps already in_use stay so (inconsistent) and keep their
 *          clusters.  Autoclear bit 0 stays set.
 *   write  every guest write, zero write and discard sets the bits it
 *          covers in the enabled ("auto") bitmaps (qcow2_bitmaps_mark).
 *   close  each loaded bitmap gets a new table and data clusters (all-zero
 *          clusters as zero entries), written and synced; then a new
 *          directory with in_use cleared, then the header extension points
 *          at it; then the old clusters are freed.
 * Bitmap data is LSB first: bit j of byte i covers the guest bytes
 * [(8i + j) << gran, (8i + j + 1) << gran).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "qcow2.h"

/* Buffer size for n data bytes: whole clusters, so store writes from it. */
static uint64_t
bits_alloc_size(const qcow2_state *s, uint64_t n)
{
    uint64_t a = (n + s->cluster_size - 1) & ~(s->cluster_size - 1);
    return a ? a : s->cluster_size;
}

/* Bits past the last one the disk size needs are kept clear. */
static void
clear_tail(struct qcow2_bitmap *b, uint64_t size, uint64_t alloc)
{
    uint64_t nbits = (size + (UINT64_C(1) << b->gran_bits) - 1) >> b->gran_bits;
    if (nbits & 7)
        b->bits[nbits / 8] &= (uint8_t)((1u << (nbits & 7)) - 1);
    uint64_t from = (nbits + 7) / 8;
    memset(b->bits + from, 0, alloc - from);
}

/* Read a bitmap's table into *table (host endian; caller frees). */
static int
read_table(qcow2_state *s, const struct qcow2_bitmap *b, uint64_t **table, vdisk_error *err)
{
    uint64_t *t = malloc((size_t)b->table_size * 8);
    if (!t)
        return vdisk_error_set(err, ENOMEM, "%s: out of memory", s->name);
    int r = vdisk_file_pread(s->file, t, (size_t)b->table_size * 8, b->table_offset, err);
    for (uint32_t i = 0; r == 0 && i < b->table_size; i++) {
        uint64_t e = qcow2_be64(&t[i]), off = e & QCOW2_BME_OFFSET_MASK;
        t[i] = e;
        if ((e & QCOW2_BME_TABLE_RESERVED) || (off & (s->cluster_size - 1)) ||
            (off && (e & QCOW2_BME_ALL_ONES)))
            r = vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL,
                                     "%s: bitmap '%s': entry %" PRIu32 " of the bitmap "
                                     "table at 0x%" PRIx64 " is invalid (0x%016" PRIx64 ")", s->name,
                                     b->name, i, b->table_offset, e);
    }
    if (r < 0) {
        free(t);
        return r;
    }
    *table = t;
    return 0;
}

/* Load a consistent bitmap's data into b->bits. */
static int
load_bits(qcow2_state *s, struct qcow2_bitmap *b, vdisk_error *err)
{
    uint64_t *t = NULL;
    int r = read_table(s, b, &t, err);
    if (r < 0)
        return r;
    b->nbytes = qcow2_bitmap_data_bytes(s->img->size, b->gran_bits);
    uint64_t alloc = bits_alloc_size(s, b->nbytes);
    b->bits = calloc(1, alloc);
    if (!b->bits)
        r = vdisk_error_set(err, ENOMEM, "%s: out of memory for bitmap '%s'", s->name, b->name);
    for (uint64_t i = 0; r == 0 && i < b->table_size && i * s->cluster_size < alloc; i++) {
        uint64_t off = t[i] & QCOW2_BME_OFFSET_MASK;
        uint8_t *dst = b->bits + i * s->cluster_size;
        if (off)
            r = vdisk_file_pread(s->file, dst, s->cluster_size, off, err);
        else if (t[i] & QCOW2_BME_ALL_ONES)
            memset(dst, 0xff, s->cluster_size);
    }
    free(t);
    if (r == 0)
        clear_tail(b, s->img->size, alloc);
    return r;
}

/* Write the directory back over itself (same size: only flags changed). */
static int
rewrite_dir_in_place(qcow2_state *s, vdisk_error *err)
{
    struct qcow2_bitmaps *bm = s->bitmaps;
    uint8_t *d;
    uint64_t len;
    int r = qcow2_bitmaps_build_dir(s, bm->v, bm->n, &d, &len, err);
    if (r < 0)
        return r;
    if (len != bm->ext.dir_size)
        r = vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EIO,
                                 "%s: bitmap directory at 0x%" PRIx64 " changed size",
                                 s->name, bm->ext.dir_offset);
    if (r == 0)
        r = vdisk_file_pwrite(s->file, d, len, bm->ext.dir_offset, err);
    if (r == 0)
        r = vdisk_file_flush(s->file, err);
    free(d);
    return r;
}

int
qcow2_bitmaps_ensure(qcow2_state *s, vdisk_error *err)
{
    if (s->bitmaps)
        return 0;
    if (s->version < 3)
        return vdisk_error_set(err, ENOTSUP, "%s: Cannot store dirty bitmaps in qcow2 v2 files",
                               s->name);
    struct qcow2_bitmaps *bm = calloc(1, sizeof(*bm));
    if (!bm)
        return vdisk_error_set(err, ENOMEM, "%s: out of memory", s->name);
    pthread_mutex_init(&bm->lock, NULL);
    s->bitmaps = bm;
    return 0;
}

static int
load_all(qcow2_state *s, const struct qcow2_bitmaps_ext *ext, vdisk_error *err)
{
    int r = qcow2_bitmaps_ensure(s, err);
    if (r < 0)
        return r;
    struct qcow2_bitmaps *bm = s->bitmaps;
    bm->ext = *ext;
    r = qcow2_bitmaps_read_dir(s, ext, &bm->v, &bm->n, err);
    bool changed = false;
    for (uint32_t i = 0; r == 0 && i < bm->n; i++) {
        struct qcow2_bitmap *b = &bm->v[i];
        if (b->flags & QCOW2_BME_IN_USE)
            continue;   /* inconsistent: left as it is */
        r = load_bits(s, b, err);
        b->flags |= QCOW2_BME_IN_USE;
        changed = true;
    }
    if (r == 0 && changed)
        r = rewrite_dir_in_place(s, err);
    return r;
}

int
qcow2_bitmaps_open(qcow2_state *s, vdisk_error *err)
{
    uint64_t keep = s->version >= 3 ? s->autoclear & QCOW2_AUTOCLEAR_BITMAPS : 0;
    int r = 0;
    if (s->version >= 3) {
        uint8_t *h = malloc(s->cluster_size);
        if (!h)
            return vdisk_error_set(err, ENOMEM, "%s: out of memory", s->name);
        struct qcow2_bitmaps_ext ext = { 0 };
        r = vdisk_file_pread(s->file, h, s->cluster_size, 0, err);
        if (r == 0)
            qcow2_bitmaps_find_ext(s, h, &ext);
        free(h);
        /* The bit without an extension vouches for nothing: QEMU keeps it,
         * then marks the image corrupt on its next write; we clear it. */
        if (!ext.pos)
            keep = 0;
        if (r == 0 && ext.pos && keep)
            r = load_all(s, &ext, err);
        /* Inconsistent bitmaps of a program lacking bitmap support: QEMU
         * drops the extension (their clusters are leaks for check -r). */
        else if (r == 0 && ext.pos)
            r = qcow2_bitmaps_write_ext(s, &ext, 0, 0, 0, err);
    }
    /* Other autoclear data (of newer programs) goes stale once we write. */
    if (r == 0 && s->autoclear != keep) {
        r = qcow2_header_write_u64(s, QCOW2_HDR_AUTOCLEAR, keep, err);
        if (r == 0)
            s->autoclear = keep;
    }
    return r;
}

static int
fill_info(qcow2_state *s, const struct qcow2_bitmap *v, uint32_t n, vdisk_info *info,
          vdisk_error *err)
{
    info->bitmaps = calloc(n ? n : 1, sizeof(*info->bitmaps));
    if (!info->bitmaps)
        return vdisk_error_set(err, ENOMEM, "%s: out of memory", s->name);
    for (uint32_t i = 0; i < n; i++) {
        vdisk_bitmap_info *b = &info->bitmaps[info->nbitmaps];
        if (!(b->name = strdup(v[i].name)))
            return vdisk_error_set(err, ENOMEM, "%s: out of memory", s->name);
        b->granularity = UINT32_C(1) << v[i].gran_bits;
        b->in_use = v[i].flags & QCOW2_BME_IN_USE;
        b->enabled = v[i].flags & QCOW2_BME_AUTO;
        info->nbitmaps++;
    }
    return 0;
}

int
qcow2_bitmaps_info(qcow2_state *s, vdisk_info *info, vdisk_error *err)
{
    if (s->bitmaps)
        return fill_info(s, s->bitmaps->v, s->bitmaps->n, info, err);
    if (s->version < 3 || !(s->autoclear & QCOW2_AUTOCLEAR_BITMAPS))
        return 0;
    uint8_t *h = malloc(s->cluster_size);
    if (!h)
        return vdisk_error_set(err, ENOMEM, "%s: out of memory", s->name);
    struct qcow2_bitmaps_ext ext;
    int r = vdisk_file_pread(s->file, h, s->cluster_size, 0, err);
    if (r == 0)
        qcow2_bitmaps_find_ext(s, h, &ext);
    free(h);
    if (r < 0 || !ext.pos)
        return r;
    struct qcow2_bitmap *v;
    uint32_t n;
    r = qcow2_bitmaps_read_dir(s, &ext, &v, &n, err);
    if (r == 0)
        r = fill_info(s, v, n, info, err);
    qcow2_bitmaps_free_dir(v, n);
    return r;
}

bool
qcow2_bitmaps_active(const qcow2_state *s)
{
    return s->bitmaps && s->bitmaps->n > 0;
}

/* Set bits [a, b) of map. */
static void
set_range(uint8_t *map, uint64_t a, uint64_t b)
{
    while (a < b && (a & 7))
        map[a / 8] |= (uint8_t)(1u << (a & 7)), a++;
    if (b - a >= 8) {
        memset(map + a / 8, 0xff, (b - a) / 8);
        a += (b - a) & ~UINT64_C(7);
    }
    for (; a < b; a++)
        map[a / 8] |= (uint8_t)(1u << (a & 7));
}

void
qcow2_bitmap_set(struct qcow2_bitmap *b, uint64_t off, uint64_t len)
{
    uint64_t nbits = b->nbytes * 8;
    uint64_t first = off >> b->gran_bits, end = ((off + len - 1) >> b->gran_bits) + 1;
    if (end > nbits)
        end = nbits;
    if (len && first < end)
        set_range(b->bits, first, end);
}

void
qcow2_bitmaps_mark(qcow2_state *s, uint64_t off, uint64_t len)
{
    struct qcow2_bitmaps *bm = s->bitmaps;
    if (!bm || len == 0)
        return;
    pthread_mutex_lock(&bm->lock);
    for (uint32_t i = 0; i < bm->n; i++) {
        struct qcow2_bitmap *b = &bm->v[i];
        if (b->bits && (b->flags & QCOW2_BME_AUTO))
            qcow2_bitmap_set(b, off, len);
    }
    pthread_mutex_unlock(&bm->lock);
}

/* Bitmap `name` of the directory v (NULL if none). */
static struct qcow2_bitmap *
find(struct qcow2_bitmap *v, uint32_t n, const char *name)
{
    for (uint32_t i = 0; i < n; i++)
        if (strcmp(v[i].name, name) == 0)
            return &v[i];
    return NULL;
}

/* Copy b (bits loaded from disk when b has none in memory). */
static int
copy_one(qcow2_state *s, const struct qcow2_bitmap *b, struct qcow2_bitmap **out, vdisk_error *err)
{
    if (b->flags & QCOW2_BME_IN_USE && !b->bits)
        return vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL,
                                    "%s: Bitmap '%s' is inconsistent and cannot be used",
                                    s->name, b->name);
    struct qcow2_bitmap *c = calloc(1, sizeof(*c));
    if (!c)
        return vdisk_error_set(err, ENOMEM, "%s: out of memory", s->name);
    *c = *b;
    c->name = strdup(b->name);
    c->bits = NULL;
    int r = c->name ? 0 : vdisk_error_set(err, ENOMEM, "%s: out of memory", s->name);
    if (r == 0 && b->bits) {
        uint64_t alloc = bits_alloc_size(s, b->nbytes);
        c->bits = malloc(alloc);
        if (c->bits)
            memcpy(c->bits, b->bits, alloc);
        else
            r = vdisk_error_set(err, ENOMEM, "%s: out of memory", s->name);
    } else if (r == 0) {
        r = load_bits(s, c, err);
    }
    if (r < 0) {
        qcow2_bitmaps_free_dir(c, 1);
        return r;
    }
    *out = c;
    return 0;
}

int
qcow2_bitmap_copy(qcow2_state *s, const char *name, struct qcow2_bitmap **out, vdisk_error *err)
{
    struct qcow2_bitmaps *bm = s->bitmaps;
    if (bm) {
        pthread_mutex_lock(&bm->lock);
        struct qcow2_bitmap *b = find(bm->v, bm->n, name);
        int r = b ? copy_one(s, b, out, err)
                  : vdisk_error_set(err, ENOENT, "%s: Dirty bitmap '%s' not found", s->name, name);
        pthread_mutex_unlock(&bm->lock);
        return r;
    }
    struct qcow2_bitmaps_ext ext = { 0 };
    uint8_t *h = malloc(s->cluster_size);
    int r = h ? vdisk_file_pread(s->file, h, s->cluster_size, 0, err)
              : vdisk_error_set(err, ENOMEM, "%s: out of memory", s->name);
    if (r == 0 && s->version >= 3 && (s->autoclear & QCOW2_AUTOCLEAR_BITMAPS))
        qcow2_bitmaps_find_ext(s, h, &ext);
    free(h);
    struct qcow2_bitmap *v = NULL;
    uint32_t n = 0;
    if (r == 0 && ext.pos)
        r = qcow2_bitmaps_read_dir(s, &ext, &v, &n, err);
    struct qcow2_bitmap *b = r == 0 ? find(v, n, name) : NULL;
    if (r == 0)
        r = b ? copy_one(s, b, out, err)
              : vdisk_error_set(err, ENOENT, "%s: Dirty bitmap '%s' not found", s->name, name);
    qcow2_bitmaps_free_dir(v, n);
    return r;
}

int
qcow2_bitmaps_resize_check(qcow2_state *s, vdisk_error *err)
{
    struct qcow2_bitmaps *bm = s->bitmaps;
    for (uint32_t i = 0; bm && i < bm->n; i++)
        if (!bm->v[i].bits)
            return vdisk_error_set(err, ENOTSUP, "%s: Bitmap '%s' is inconsistent and cannot be "
                                   "used", s->name, bm->v[i].name);
    return 0;
}

int
qcow2_bitmaps_resize(qcow2_state *s, uint64_t size, vdisk_error *err)
{
    struct qcow2_bitmaps *bm = s->bitmaps;
    for (uint32_t i = 0; bm && i < bm->n; i++) {
        struct qcow2_bitmap *b = &bm->v[i];
        if (!b->bits)
            continue;
        uint64_t n = qcow2_bitmap_data_bytes(size, b->gran_bits);
        uint64_t old_alloc = bits_alloc_size(s, b->nbytes), alloc = bits_alloc_size(s, n);
        uint8_t *p = realloc(b->bits, alloc);
        if (!p)
            return vdisk_error_set(err, ENOMEM, "%s: out of memory for bitmap '%s'", s->name,
                                   b->name);
        if (alloc > old_alloc)
            memset(p + old_alloc, 0, alloc - old_alloc);
        b->bits = p;
        b->nbytes = n;
        clear_tail(b, size, alloc);
    }
    return 0;
}

void
qcow2_bitmaps_free(qcow2_state *s)
{
    struct qcow2_bitmaps *bm = s->bitmaps;
    if (!bm)
        return;
    qcow2_bitmaps_free_dir(bm->v, bm->n);
    qcow2_bitmaps_free_dir(bm->dropped, bm->ndropped);
    pthread_mutex_destroy(&bm->lock);
    free(bm);
    s->bitmaps = NULL;
}
