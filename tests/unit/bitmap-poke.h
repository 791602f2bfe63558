/* Persistent dirty bitmaps written and read back by hand (docs/interop/
 * qcow2.txt, "Bitmaps extension") for the bitmap unit tests: an image of
 * 64 MiB with 64 KiB clusters whose bitmaps each have a one-cluster table
 * and, optionally, one data cluster filled with a byte.  Header only;
 * include after cmocka.h, poke.h and vdisk/vdisk.h. */
#ifndef VDISK_UNIT_BITMAP_POKE_H
#define VDISK_UNIT_BITMAP_POKE_H

#include <stdint.h>
#include <string.h>

#define BM_CL (64u * 1024u)
#define BM_EXT 0x23852875u

struct bm_spec {
    const char *name;
    uint8_t gran_bits;
    uint32_t flags;            /* 1 in_use, 2 auto */
    int fill;                  /* byte of the data cluster; -1: zero entry */
    uint64_t entry_flags;      /* or'ed into the table entry */
};

/* Offset of the bitmaps extension's header (0: none). */
static inline long
bm_ext_pos(const char *p)
{
    long pos = (long)peek_be(p, 100, 4);
    while (peek_be(p, pos, 4) != 0) {
        if (peek_be(p, pos, 4) == BM_EXT)
            return pos;
        pos += 8 + (long)((peek_be(p, pos + 4, 4) + 7) & ~UINT64_C(7));
    }
    return 0;
}

/* Add the extension where the end marker is. */
static inline void
bm_add_ext(const char *p, uint32_t nb, uint64_t dir, uint64_t dir_size)
{
    long pos = (long)peek_be(p, 100, 4);
    while (peek_be(p, pos, 4) != 0)
        pos += 8 + (long)((peek_be(p, pos + 4, 4) + 7) & ~UINT64_C(7));
    poke_be(p, pos, 4, BM_EXT);
    poke_be(p, pos + 4, 4, 24);
    poke_be(p, pos + 8, 4, nb);
    poke_be(p, pos + 12, 4, 0);
    poke_be(p, pos + 16, 8, dir_size);
    poke_be(p, pos + 24, 8, dir);
    poke_be(p, pos + 32, 8, 0);
}

/* A new image (path slot 0, name) with the bitmaps of v. */
static inline const char *
bm_make_image(const char *name, const struct bm_spec *v, unsigned n)
{
    const char *p = unit_path(0, name);
    vdisk_error err;
    assert_int_equal(vdisk_close(unit_make_qcow2(p, NULL, 64 * MiB, VDISK_OPEN_RDWR), &err), 0);
    uint64_t dir = poke_file_end(p, BM_CL), next = dir + BM_CL, dsize = 0;
    poke_refcount(p, dir, 1);
    for (unsigned i = 0; i < n; i++) {
        uint64_t table = next, data = v[i].fill >= 0 ? next + BM_CL : 0;
        next += data ? 2 * BM_CL : BM_CL;
        uint8_t e[24 + 64] = { 0 };
        size_t nl = strlen(v[i].name);
        for (int k = 0; k < 8; k++)
            e[k] = (uint8_t)(table >> (56 - 8 * k));
        e[11] = 1;
        e[15] = (uint8_t)v[i].flags;
        e[16] = 1;
        e[17] = v[i].gran_bits;
        e[19] = (uint8_t)nl;
        memcpy(e + 24, v[i].name, nl);
        poke_bytes(p, (long)(dir + dsize), e, 24 + nl);
        dsize += (24 + nl + 7) & ~(size_t)7;
        poke_be(p, (long)table, 8, data | v[i].entry_flags);
        poke_be(p, (long)(table + BM_CL - 8), 8, 0);
        poke_refcount(p, table, 1);
        if (data) {
            uint8_t *b = malloc(BM_CL);
            memset(b, v[i].fill, BM_CL);
            poke_bytes(p, (long)data, b, BM_CL);
            free(b);
            poke_refcount(p, data, 1);
        }
    }
    bm_add_ext(p, n, dir, dsize);
    poke_be(p, 88, 8, 1);
    return p;
}

/* Directory entry i: its offset in the file. */
static inline uint64_t
bm_entry(const char *p, unsigned i)
{
    long pos = bm_ext_pos(p);
    assert_true(pos > 0);
    uint64_t e = peek_be(p, pos + 24, 8);
    while (i--)
        e += (24 + peek_be(p, (long)e + 18, 2) + peek_be(p, (long)e + 20, 4) + 7) & ~UINT64_C(7);
    return e;
}

static inline uint32_t
bm_flags(const char *p, unsigned i)
{
    return (uint32_t)peek_be(p, (long)bm_entry(p, i) + 12, 4);
}

/* Byte `byte` of bitmap i's data (0 for a zero table entry). */
static inline uint8_t
bm_data_byte(const char *p, unsigned i, uint64_t byte)
{
    uint64_t table = peek_be(p, (long)bm_entry(p, i), 8);
    uint64_t e = peek_be(p, (long)(table + 8 * (byte / BM_CL)), 8) & UINT64_C(0x00fffffffffffe00);
    return e ? (uint8_t)peek_be(p, (long)(e + byte % BM_CL), 1) : 0;
}

static inline uint64_t
bm_table_entry(const char *p, unsigned i)
{
    return peek_be(p, (long)peek_be(p, (long)bm_entry(p, i), 8), 8);
}

/* Open p as qcow2 for writing (the bitmaps are loaded and marked in_use). */
static inline vdisk_image *
bm_open_rw(const char *p)
{
    vdisk_open_opts o = { .format = VDISK_FORMAT_QCOW2, .flags = VDISK_OPEN_RDWR };
    vdisk_image *img;
    vdisk_error err;
    assert_int_equal(vdisk_open(p, &o, &img, &err), 0);
    return img;
}

/* p checks clean: no corruption, no leak (bitmap clusters counted). */
static inline void
bm_assert_clean(const char *p)
{
    vdisk_check_result res;
    assert_int_equal(poke_check(p, 0, &res, NULL, NULL), 0);
    assert_int_equal(res.corruptions + res.leaks + res.check_errors, 0);
}

#endif
