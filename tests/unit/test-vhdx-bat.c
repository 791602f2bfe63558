/* Unit tests for core/vhdx/bat.c: the BAT geometry (the spec's formulas,
 * worked by hand), entry checks and their reports. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "fixture.h"
#include "vhd-fixture.h"
#include "vhdx/vhdx.h"

static void
test_geometry(void **state)
{
    (void)state;
    uint64_t pb, cr, n;
    /* 1 TiB, 32 MiB blocks, 512-byte sectors: chunk ratio 2^23*512/2^25. */
    vhdx_bat_geometry(UINT64_C(1) << 40, 32u << 20, 512, false, &pb, &cr, &n);
    assert_true(cr == 128 && pb == 32768 && n == 32768 + 255);
    vhdx_bat_geometry(UINT64_C(1) << 40, 32u << 20, 512, true, &pb, &cr, &n);
    assert_true(n == 256 * 129);
    /* A partial last block counts; 4 KiB sectors multiply the ratio. */
    vhdx_bat_geometry((10u << 20) + 1536, 1u << 20, 512, false, &pb, &cr, &n);
    assert_true(cr == 4096 && pb == 11 && n == 11);
    vhdx_bat_geometry(10u << 20, 1u << 20, 4096, true, &pb, &cr, &n);
    assert_true(cr == 32768 && n == 32769);
    vhdx_bat_geometry(0, 8u << 20, 512, false, &pb, &cr, &n);
    assert_true(pb == 0 && n == 0);
}

static void
count_line(void *opaque, const char *line)
{
    (void)line;
    (*(int *)opaque)++;
}

static void
test_entry_checks(void **state)
{
    (void)state;
    const char *p = unit_path(0, "b.vhdx");
    vhd_create(p, VDISK_FORMAT_VHDX, "block_size=1M", 8u << 20);
    vdisk_image *img = vhd_open(p, VDISK_FORMAT_VHDX, VDISK_OPEN_RDWR);
    uint8_t b[512] = { 1 };
    vdisk_error err;
    assert_int_equal(vdisk_pwrite(img, b, sizeof(b), 0, &err), 0);
    assert_int_equal(vdisk_pwrite(img, b, sizeof(b), 1u << 20, &err), 0);
    vdisk_close(img, NULL);
    uint8_t e0[8], e[8];
    vhd_peek(p, 2u << 20, e0, 8);
    vhd_poke(p, (2u << 20) + 8, e0, 8);   /* block 1 = block 0 */
    vhd_open_fails(p, VDISK_FORMAT_VHDX, 0, "another entry");
    vhdx_put64(e, (UINT64_C(1) << 40) | VHDX_PAYLOAD_FULLY_PRESENT);
    vhd_poke(p, (2u << 20) + 8, e, 8);
    vhd_open_fails(p, VDISK_FORMAT_VHDX, 0, "end of the file");
    vhdx_put64(e, (2u << 20) | VHDX_PAYLOAD_FULLY_PRESENT);   /* on the BAT */
    vhd_poke(p, (2u << 20) + 8, e, 8);
    vhd_open_fails(p, VDISK_FORMAT_VHDX, 0, "overlaps");
    vhdx_put64(e, 4);                                          /* reserved state */
    vhd_poke(p, (2u << 20) + 8, e, 8);
    vhd_open_fails(p, VDISK_FORMAT_VHDX, 0, "invalid payload block state");
    /* A check open counts and reports instead. */
    img = vhd_open(p, VDISK_FORMAT_VHDX, VDISK_OPEN_CHECK);
    vdisk_check_result res;
    int lines = 0;
    assert_int_equal(vdisk_check(img, 0, &res, count_line, NULL, &lines, &err), 0);
    assert_true(res.corruptions == 1 && lines == 1);
    vdisk_close(img, NULL);
    vhdx_put64(e, VHDX_PAYLOAD_UNMAPPED_V095);                 /* the draft's value: zeros */
    vhd_poke(p, (2u << 20) + 8, e, 8);
    img = vhd_open(p, VDISK_FORMAT_VHDX, 0);
    assert_int_equal(vdisk_pread(img, b, sizeof(b), 1u << 20, &err), 0);
    assert_int_equal(b[0], 0);
    vdisk_close(img, NULL);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_geometry),
        cmocka_unit_test_setup_teardown(test_entry_checks, unit_setup, unit_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
