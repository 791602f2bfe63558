/* Unit tests for core/vmdk/sparse.c: header checks on open (every bound
 * named in the message), reads and writes through the grain tables,
 * zeroed grains, and block status runs. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "fixture.h"
#include "vmdk-fixture.h"

static void
put64(const char *p, uint64_t off, uint64_t v)
{
    uint8_t b[8];
    vmdk_put_le64(b, v);
    vmdk_patch(p, off, b, 8);
}

static void
put32(const char *p, uint64_t off, uint32_t v)
{
    uint8_t b[4];
    vmdk_put_le32(b, v);
    vmdk_patch(p, off, b, 4);
}

/* Each field out of range: refused, the message naming it. */
static void
test_header_checks(void **state)
{
    (void)state;
    static const struct { uint64_t off; uint64_t value; int width; const char *word; } cases[] = {
        { 4, 7, 4, "version" },
        { 12, UINT64_C(1) << 60, 8, "capacity" },
        { 12, UINT64_C(1) << 50, 8, "grain directory of" },
        { 20, 0, 8, "grain size" },
        { 20, 8192, 8, "grain size" },
        { 44, 0, 4, "grain tables of" },
        { 44, 513, 4, "grain tables of" },
        { 56, 1u << 30, 8, "grain directory at" },
        { 48, 1u << 30, 8, "redundant grain directory" },
        { 64, 1u << 30, 8, "truncated" },
        { 77, 5, 4, "compression" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *p = unit_path(0, "h.vmdk");
        vmdk_make(p, NULL, 8 * MiB);
        if (cases[i].width == 8)
            put64(p, cases[i].off, cases[i].value);
        else
            put32(p, cases[i].off, (uint32_t)cases[i].value);
        vdisk_error err;
        assert_true(vmdk_open_fails(p, VDISK_FORMAT_VMDK, &err) < 0);
        if (!strstr(err.message, cases[i].word))
            fail_msg("case %zu: '%s' lacks '%s'", i, err.message, cases[i].word);
    }
    /* Version 3 (changed block tracking) opens read-only only. */
    const char *p = unit_path(0, "v3.vmdk");
    vmdk_make(p, NULL, MiB);
    put32(p, 4, 3);
    vdisk_image *img = vmdk_open_named(p, 0);
    vdisk_close(img, NULL);
    vdisk_open_opts oo = { .format = VDISK_FORMAT_VMDK, .flags = VDISK_OPEN_RDWR };
    vdisk_error err;
    assert_int_equal(vdisk_open(p, &oo, &img, &err), -EROFS);
    assert_non_null(strstr(err.message, "version 3 must be read only"));
}

static void
test_read_write_grains(void **state)
{
    (void)state;
    const char *p = unit_path(0, "rw.vmdk");
    vmdk_make(p, NULL, 64 * MiB);
    vdisk_image *img = vmdk_open_named(p, VDISK_OPEN_RDWR);
    uint8_t *buf = malloc(3 * MiB), *back = malloc(3 * MiB);
    unit_pattern(buf, 3 * MiB, 7);
    vdisk_error err;
    /* Unaligned, across grains and a table boundary (32 MiB). */
    assert_int_equal(vdisk_pwrite(img, buf, 3 * MiB - 1000, 31 * MiB + 777, &err), 0);
    assert_int_equal(vdisk_pwrite(img, buf, 100, 5, &err), 0);
    assert_int_equal(vdisk_close(img, &err), 0);
    img = vmdk_open_named(p, 0);
    assert_int_equal(vdisk_pread(img, back, 3 * MiB - 1000, 31 * MiB + 777, &err), 0);
    assert_memory_equal(back, buf, 3 * MiB - 1000);
    assert_int_equal(vdisk_pread(img, back, 70000, 0, &err), 0);
    assert_memory_equal(back + 5, buf, 100);
    for (size_t i = 0; i < 5; i++)
        assert_int_equal(back[i], 0);
    for (size_t i = 105; i < 70000; i++)
        assert_int_equal(back[i], 0);
    /* Block status: grains written in order lie one after the other. */
    vdisk_extent ext;
    assert_int_equal(vdisk_block_status(img, 31 * MiB, 4 * MiB, &ext, &err), 0);
    assert_int_equal(ext.flags, VDISK_EXTENT_ALLOCATED | VDISK_EXTENT_DATA | VDISK_EXTENT_OFFSET_VALID);
    assert_true(ext.length >= MiB);
    assert_int_equal(vdisk_block_status(img, 10 * MiB, MiB, &ext, &err), 0);
    assert_int_equal(ext.flags, 0);
    assert_int_equal(ext.length, MiB);
    vdisk_close(img, NULL);
    free(buf);
    free(back);
}

static void
test_zeroed_grains(void **state)
{
    (void)state;
    const char *p = unit_path(0, "z.vmdk");
    vmdk_make(p, "zeroed_grain=on", 8 * MiB);
    vdisk_image *img = vmdk_open_named(p, VDISK_OPEN_RDWR);
    uint8_t buf[65536];
    memset(buf, 0xee, sizeof(buf));
    vdisk_error err;
    for (int i = 0; i < 4; i++)
        assert_int_equal(vdisk_pwrite(img, buf, sizeof(buf), (uint64_t)i * 65536, &err), 0);
    /* Whole grains: entries become "zeroed"; a partial one is written. */
    assert_int_equal(vdisk_write_zeroes(img, 131072 + 100, 0, 0, &err), 0);
    vdisk_extent ext;
    assert_int_equal(vdisk_block_status(img, 0, 4 * 65536, &ext, &err), 0);
    assert_int_equal(ext.flags, VDISK_EXTENT_ALLOCATED | VDISK_EXTENT_ZERO);
    assert_int_equal(ext.length, 131072);
    assert_int_equal(vdisk_pread(img, buf, sizeof(buf), 131072, &err), 0);
    for (int i = 0; i < 100; i++)
        assert_int_equal(buf[i], 0);
    assert_int_equal(buf[100], 0xee);
    /* Written again: a new grain replaces the zeroed entry. */
    memset(buf, 0x11, sizeof(buf));
    assert_int_equal(vdisk_pwrite(img, buf, 512, 1024, &err), 0);
    assert_int_equal(vdisk_pread(img, buf, 2048, 0, &err), 0);
    assert_int_equal(buf[1023], 0);
    assert_int_equal(buf[1024], 0x11);
    assert_int_equal(buf[1536], 0);
    vdisk_close(img, NULL);
}

/* A grain entry pointing past the end of the file: a read names it. */
static void
test_grain_outside_file(void **state)
{
    (void)state;
    const char *p = unit_path(0, "o.vmdk");
    vmdk_make(p, NULL, 8 * MiB);
    vdisk_image *img = vmdk_open_named(p, VDISK_OPEN_RDWR);
    uint8_t buf[512] = { 1 };
    vdisk_error err;
    assert_int_equal(vdisk_pwrite(img, buf, 512, 0, &err), 0);
    vdisk_close(img, NULL);
    /* 8 MiB: one table; the directory at 21 + 1 + 4 = 26, its table at 27. */
    put32(p, 27 * 512, 0x00ffffff);
    img = vmdk_open_named(p, 0);
    assert_int_equal(vdisk_pread(img, buf, 512, 0, &err), -EINVAL);
    assert_non_null(strstr(err.message, "grain at 0x1fffffe00 lies outside the file"));
    vdisk_close(img, NULL);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_header_checks, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_read_write_grains, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_zeroed_grains, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_grain_outside_file, unit_setup, unit_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
