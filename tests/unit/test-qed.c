/* Unit tests for core/qed/ (header.c, table.c, driver.c, check.c): QED
 * images laid out by hand from QEMU's specification (4 KiB clusters, tables
 * of one cluster), read through L1 and L2, zero clusters, bad offsets. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include <vdisk/vdisk.h>

#include "fixture.h"
#include "poke.h"

#define CS 4096u

static void
le(uint8_t *p, uint64_t v, int n)
{
    for (int i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* header | L1 | L2 | data: cluster 0 -> data (0xd0), cluster 1 zero,
 * cluster 2 -> `third` (an offset), the rest unallocated. */
static const char *
make_qed(uint64_t third)
{
    static uint8_t f[4 * CS];
    memset(f, 0, sizeof(f));
    memcpy(f, "QED", 4);
    le(f + 4, CS, 4);
    le(f + 8, 1, 4);
    le(f + 12, 1, 4);
    le(f + 40, CS, 8);                  /* L1 at cluster 1 */
    le(f + 48, 64 * CS, 8);
    le(f + CS, 2 * CS, 8);              /* L1[0] -> L2 at cluster 2 */
    le(f + 2 * CS, 3 * CS, 8);          /* L2[0] -> data at cluster 3 */
    le(f + 2 * CS + 8, 1, 8);           /* L2[1]: zero cluster */
    le(f + 2 * CS + 16, third, 8);
    memset(f + 3 * CS, 0xd0, CS);
    const char *path = unit_path(0, "t.qed");
    unit_write_file(path, sizeof(f), f, sizeof(f), 0);
    return path;
}

static int
open_qed(const char *path, unsigned flags, vdisk_image **img, vdisk_error *err)
{
    vdisk_open_opts o = { .format = VDISK_FORMAT_QED, .flags = flags };
    return vdisk_open(path, &o, img, err);
}

static void
test_reads_through_the_tables(void **state)
{
    vdisk_image *img;
    assert_int_equal(open_qed(make_qed(3 * CS), 0, &img, NULL), 0);
    assert_int_equal(vdisk_get_size(img), 64 * CS);
    static uint8_t buf[4 * CS];
    assert_int_equal(vdisk_pread(img, buf, sizeof(buf), 0, NULL), 0);
    for (size_t i = 0; i < sizeof(buf); i++) {
        uint8_t want = i < CS || (i >= 2 * CS && i < 3 * CS) ? 0xd0 : 0;
        if (buf[i] != want)
            fail_msg("byte %zu: %#x, want %#x", i, buf[i], want);
    }
    vdisk_extent e;
    assert_int_equal(vdisk_block_status(img, CS, 63 * CS, &e, NULL), 0);
    assert_int_equal(e.flags, VDISK_EXTENT_ALLOCATED | VDISK_EXTENT_ZERO);
    assert_int_equal(vdisk_block_status(img, 3 * CS, 61 * CS, &e, NULL), 0);
    assert_int_equal(e.flags, 0);               /* unallocated: reads go to the backing */
    assert_int_equal(e.length, 61 * CS);
    vdisk_check_result res;
    vdisk_close(img, NULL);
    assert_int_equal(open_qed(unit_path(0, "t.qed"), VDISK_OPEN_CHECK, &img, NULL), 0);
    assert_int_equal(vdisk_check(img, 0, &res, NULL, NULL, NULL, NULL), 0);
    assert_int_equal(res.corruptions, 1);       /* data cluster 3 referenced twice */
    assert_int_equal(res.allocated_clusters, 2);
    vdisk_close(img, NULL);
}

static void
test_bad_offsets(void **state)
{
    vdisk_image *img;
    vdisk_error err = { 0 };
    assert_int_equal(open_qed(make_qed(1ull << 40), 0, &img, NULL), 0);
    uint8_t buf[CS];
    assert_int_equal(vdisk_pread(img, buf, CS, 2 * CS, &err), -EIO);
    assert_non_null(strstr(err.message, "L2 entry of cluster 2 points at 0x10000000000"));
    vdisk_close(img, NULL);
    assert_int_equal(open_qed(make_qed(3 * CS + 5), 0, &img, NULL), 0);   /* unaligned */
    assert_int_equal(vdisk_pread(img, buf, CS, 2 * CS, &err), -EIO);
    vdisk_close(img, NULL);
}

static void
test_hostile_headers(void **state)
{
    static const struct { int off, len; uint64_t v; const char *words; } cases[] = {
        { 4, 4, 1000, "cluster size 1000" },
        { 8, 4, 3, "table size 3" },
        { 16, 8, 0x80, "unknown features 0x80" },
        { 40, 8, 1ull << 50, "L1 table" },
        { 48, 8, 1ull << 62, "image size" },
        { 12, 4, 1000, "header of 1000 clusters" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *path = make_qed(3 * CS);
        uint8_t b[8];
        le(b, cases[i].v, cases[i].len);
        poke_bytes(path, cases[i].off, b, (size_t)cases[i].len);
        vdisk_image *img;
        vdisk_error err = { 0 };
        assert_true(open_qed(path, 0, &img, &err) < 0);
        if (!strstr(err.message, cases[i].words))
            fail_msg("case %zu: %s", i, err.message);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_reads_through_the_tables, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_bad_offsets, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_hostile_headers, unit_setup, unit_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
