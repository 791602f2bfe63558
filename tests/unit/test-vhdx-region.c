/* Unit tests for core/vhdx/region.c: the table at the spec's offsets, the
 * second copy standing in for a damaged first, and the placement rules. */
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

#define R1 (192 << 10)
#define R2 (256 << 10)

static void
test_build(void **state)
{
    (void)state;
    static uint8_t b[64 << 10];
    vhdx_region bat = { 2u << 20, 1u << 20 }, meta = { 3u << 20, 1u << 20 };
    vhdx_region_table_build(&bat, &meta, b);
    assert_memory_equal(b, "regi", 4);
    assert_int_equal(vhdx_le32(b + 8), 2);
    assert_memory_equal(b + 16, vhdx_region_bat.b, 16);
    assert_true(vhdx_le64(b + 32) == 2u << 20);
    assert_int_equal(vhdx_le32(b + 40), 1u << 20);
    assert_int_equal(vhdx_le32(b + 44), 1);   /* required */
    assert_memory_equal(b + 48, vhdx_region_metadata.b, 16);
    assert_int_equal(vhdx_le32(b + 4), vhdx_checksum(b, sizeof(b), 4));
}

/* Rewrite table 1 with entry `i`'s field at `off` set, checksum fixed. */
static void
edit_table(const char *p, int i, int off, uint64_t v, int width)
{
    static uint8_t t[64 << 10];
    vhd_peek(p, R1, t, sizeof(t));
    if (width == 8)
        vhdx_put64(t + 16 + 32 * i + off, v);
    else
        vhdx_put32(t + 16 + 32 * i + off, (uint32_t)v);
    vhdx_checksum_store(t, sizeof(t), 4);
    vhd_poke(p, R1, t, sizeof(t));
}

static void
test_copies_and_rules(void **state)
{
    (void)state;
    const char *p = unit_path(0, "r.vhdx");
    vhd_create(p, VDISK_FORMAT_VHDX, "block_size=1M", 8u << 20);
    static uint8_t t[64 << 10];
    vhd_peek(p, R1, t, sizeof(t));
    /* A damaged first copy: the second is used. */
    vhd_poke(p, R1 + 1000, "x", 1);
    vdisk_close(vhd_open(p, VDISK_FORMAT_VHDX, 0), NULL);
    vhd_poke(p, R2 + 1000, "x", 1);
    vhd_open_fails(p, VDISK_FORMAT_VHDX, 0, "both VHDX region tables");
    vhd_poke(p, R1, t, sizeof(t));
    /* An intact first copy counts even when wrong. */
    edit_table(p, 0, 16, 3u << 20, 8);          /* BAT onto the metadata */
    vhd_open_fails(p, VDISK_FORMAT_VHDX, 0, "overlap");
    vhd_poke(p, R1, t, sizeof(t));
    edit_table(p, 0, 16, (2u << 20) + 4096, 8); /* not MiB aligned */
    vhd_open_fails(p, VDISK_FORMAT_VHDX, 0, "aligned");
    vhd_poke(p, R1, t, sizeof(t));
    edit_table(p, 1, 16, 1u << 20, 8);          /* metadata on the log */
    vhd_open_fails(p, VDISK_FORMAT_VHDX, 0, "the log");
    vhd_poke(p, R1, t, sizeof(t));
    edit_table(p, 1, 0, 0x12345678, 4);         /* metadata GUID unknown, required */
    vhd_open_fails(p, VDISK_FORMAT_VHDX, 0, "required but unknown");
    edit_table(p, 1, 28, 0, 4);                 /* now optional: but metadata is missing */
    vhd_open_fails(p, VDISK_FORMAT_VHDX, 0, "lacks the metadata");
    vhd_poke(p, R1, t, sizeof(t));
    vdisk_close(vhd_open(p, VDISK_FORMAT_VHDX, 0), NULL);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_build),
        cmocka_unit_test_setup_teardown(test_copies_and_rules, unit_setup, unit_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
