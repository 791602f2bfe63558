/* Unit tests for core/qcow2/check-bitmap.c: a bitmaps header extension
 * written by hand (docs/interop/qcow2.txt) with one bitmap whose table names
 * one data cluster.  While the autoclear bit says the bitmaps are
 * consistent, their three clusters are in use; once it is clear they are
 * leaks; a bad table entry is a corruption. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "fixture.h"
#include "poke.h"

#include <vdisk/vdisk.h>

#define CL (64u * KiB)
#define EXT_BITMAPS 0x23852875u

/* Put the extension where the end-of-extensions marker is now. */
static void
add_extension(const char *p, uint64_t dir, uint64_t dir_size)
{
    long pos = (long)peek_be(p, 100, 4);   /* header_length */
    while (peek_be(p, pos, 4) != 0)
        pos += 8 + (long)((peek_be(p, pos + 4, 4) + 7) & ~UINT64_C(7));
    uint8_t e[8 + 24 + 8] = { 0 };
    for (int i = 0; i < 4; i++)
        e[i] = (uint8_t)(EXT_BITMAPS >> (24 - 8 * i));
    e[7] = 24;
    e[11] = 1;                                       /* one bitmap */
    for (int i = 0; i < 8; i++) {
        e[16 + i] = (uint8_t)(dir_size >> (56 - 8 * i));
        e[24 + i] = (uint8_t)(dir >> (56 - 8 * i));
    }
    poke_bytes(p, pos, e, sizeof(e));
}

/* An image with one bitmap: directory, table and data clusters after the
 * end, refcounted; returns the image path. */
static const char *
make_image(uint64_t table_entry_flags)
{
    const char *p = unit_path(0, "b.qcow2");
    vdisk_image *img = unit_make_qcow2(p, NULL, 64 * MiB, VDISK_OPEN_RDWR);
    uint8_t b[CL];
    unit_fill(b, sizeof(b), 9);
    vdisk_error err;
    assert_int_equal(vdisk_pwrite(img, b, sizeof(b), 0, &err), 0);
    assert_int_equal(vdisk_close(img, &err), 0);
    uint64_t dir = poke_file_end(p, CL), table = dir + CL, data = dir + 2 * CL;
    uint8_t d[32] = { 0 };
    for (int i = 0; i < 8; i++)
        d[i] = (uint8_t)(table >> (56 - 8 * i));
    d[11] = 1;                                       /* table entries */
    d[16] = 1;                                       /* type: dirty tracking */
    d[17] = 16;                                      /* granularity 64k */
    d[19] = 2;                                       /* name size */
    memcpy(d + 24, "b0", 2);
    poke_bytes(p, (long)dir, d, sizeof(d));
    poke_be(p, (long)table, 8, data | table_entry_flags);
    poke_be(p, (long)(data + CL - 8), 8, 0);         /* the file ends after it */
    add_extension(p, dir, 32);
    for (uint64_t off = dir; off <= data; off += CL)
        poke_refcount(p, off, 1);
    poke_be(p, 88, 8, 1);                            /* autoclear: bitmaps */
    return p;
}

static void
test_bitmap_clusters_in_use(void **state)
{
    (void)state;
    const char *p = make_image(0);
    vdisk_check_result res;
    assert_int_equal(poke_check(p, 0, &res, NULL, NULL), 0);
    assert_int_equal(res.corruptions + res.leaks + res.check_errors, 0);
    /* A repair leaves the bitmaps' autoclear bit alone. */
    assert_int_equal(poke_check(p, VDISK_CHECK_FIX_LEAKS, &res, NULL, NULL), 0);
    assert_int_equal(peek_be(p, 88, 8), 1);
}

static void
test_inconsistent_bitmaps_leak(void **state)
{
    (void)state;
    const char *p = make_image(0);
    poke_be(p, 88, 8, 0);
    vdisk_check_result res;
    assert_int_equal(poke_check(p, 0, &res, NULL, NULL), 0);
    assert_int_equal(res.leaks, 3);
    assert_int_equal(res.corruptions, 0);
}

static void
test_bad_table_entry(void **state)
{
    (void)state;
    const char *p = make_image(1);   /* "all ones" with an offset: reserved */
    vdisk_check_result res;
    assert_int_equal(poke_check(p, 0, &res, NULL, NULL), 0);
    assert_int_equal(res.corruptions, 1);
    assert_int_equal(res.leaks, 1);  /* the data cluster it named */
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_bitmap_clusters_in_use, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_inconsistent_bitmaps_leak, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_bad_table_entry, unit_setup, unit_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
