/* Byte-level access to image files for the check/repair unit tests: read
 * and patch big-endian fields at known offsets (docs/interop/qcow2.txt),
 * the way a crash or a hostile writer would leave them; and a whole check
 * of a file.  Header only; include after cmocka.h. */
#ifndef VDISK_UNIT_POKE_H
#define VDISK_UNIT_POKE_H

#include <stdint.h>
#include <stdio.h>

#include <vdisk/vdisk.h>

static inline void
poke_bytes(const char *path, long off, const void *b, size_t n)
{
    FILE *f = fopen(path, "r+b");
    assert_non_null(f);
    assert_int_equal(fseek(f, off, SEEK_SET), 0);
    assert_int_equal(fwrite(b, 1, n, f), n);
    fclose(f);
}

static inline uint64_t
peek_be(const char *path, long off, unsigned n)
{
    uint8_t b[8] = { 0 };
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    assert_int_equal(fseek(f, off, SEEK_SET), 0);
    assert_int_equal(fread(b, 1, n, f), n);
    fclose(f);
    uint64_t v = 0;
    for (unsigned i = 0; i < n; i++)
        v = (v << 8) | b[i];
    return v;
}

static inline void
poke_be(const char *path, long off, unsigned n, uint64_t v)
{
    uint8_t b[8];
    for (int i = (int)n - 1; i >= 0; i--, v >>= 8)
        b[i] = (uint8_t)v;
    poke_bytes(path, off, b, n);
}

/* Default qcow2 geometry of the tests: 64 KiB clusters, 16-bit refcounts. */
#define POKE_OFFSET_MASK UINT64_C(0x00fffffffffffe00)

static inline uint64_t
poke_refblock0(const char *path)
{
    return peek_be(path, (long)peek_be(path, 48, 8), 8);
}

/* Host offset of guest cluster gc (first L2 table only). */
static inline uint64_t
poke_data_offset(const char *path, uint64_t gc)
{
    uint64_t l2 = peek_be(path, (long)peek_be(path, 40, 8), 8) & POKE_OFFSET_MASK;
    return peek_be(path, (long)(l2 + 8 * gc), 8) & POKE_OFFSET_MASK;
}

static inline void
poke_refcount(const char *path, uint64_t host, uint16_t v)
{
    poke_be(path, (long)(poke_refblock0(path) + 2 * (host >> 16)), 2, v);
}

/* The file's length rounded up to a multiple of `cluster`. */
static inline uint64_t
poke_file_end(const char *path, uint64_t cluster)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    uint64_t n = (uint64_t)ftell(f);
    fclose(f);
    return (n + cluster - 1) / cluster * cluster;
}

/* Open p for checking (writable when fixing), check, close. */
static inline int
poke_check(const char *p, unsigned fix, vdisk_check_result *res, vdisk_check_report_fn report,
           void *opaque)
{
    vdisk_open_opts o = { .format = VDISK_FORMAT_QCOW2, .flags = VDISK_OPEN_CHECK | (fix ? VDISK_OPEN_RDWR : 0) };
    vdisk_image *img;
    vdisk_error err;
    assert_int_equal(vdisk_open(p, &o, &img, &err), 0);
    int r = vdisk_check(img, fix, res, report, NULL, opaque, &err);
    assert_int_equal(vdisk_close(img, &err), 0);
    return r;
}

#endif
