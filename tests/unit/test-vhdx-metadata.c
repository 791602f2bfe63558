/* Unit tests for core/vhdx/metadata.c: the table and items qemu-img's
 * layout puts at the spec's offsets, and refusals of items missing,
 * repeated, misplaced, unknown and required, or out of range. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "fixture.h"
#include "vhd-fixture.h"
#include "vhdx/vhdx.h"

#define META (3u << 20)   /* 1 MiB log, 1 MiB BAT (block_size=1M, 8 MiB) */

static void
test_build(void **state)
{
    (void)state;
    uint8_t *b = malloc(1u << 20);
    assert_int_equal(vhdx_metadata_build(2u << 20, true, 5u << 20, 512, b, 1u << 20), 0);
    assert_memory_equal(b, "metadata", 8);
    assert_int_equal(vhdx_le16(b + 10), 5);
    /* Entry 0: file parameters at 64 KiB, 8 bytes, required. */
    assert_memory_equal(b + 32, vhdx_meta_file_params.b, 16);
    assert_int_equal(vhdx_le32(b + 48), 64u << 10);
    assert_int_equal(vhdx_le32(b + 52), 8);
    assert_int_equal(vhdx_le32(b + 56), 4);
    assert_int_equal(vhdx_le32(b + (64 << 10)), 2u << 20);
    assert_int_equal(vhdx_le32(b + (64 << 10) + 4), 1);   /* LeaveBlocksAllocated */
    /* Entry 1: the size, required and about the virtual disk. */
    assert_int_equal(vhdx_le32(b + 64 + 24), 6);
    assert_true(vhdx_le64(b + vhdx_le32(b + 64 + 16)) == 5u << 20);
    free(b);
}

static void
put_item_u32(const char *p, int entry, uint32_t at, uint32_t v)
{
    uint8_t e[32];
    vhd_peek(p, META + 32 + 32 * entry, e, sizeof(e));
    uint8_t b[4];
    vhdx_put32(b, v);
    vhd_poke(p, META + vhdx_le32(e + 16) + at, b, 4);
}

static void
test_value_ranges(void **state)
{
    (void)state;
    const char *p = unit_path(0, "m.vhdx");
    static const struct {
        int entry, at;
        uint32_t v;
        const char *want;
    } cases[] = {
        { 0, 0, 3u << 20, "block size" }, { 0, 0, 512u << 20, "block size" },
        { 3, 0, 1024, "logical sector" }, { 4, 0, 520, "physical sector" },
        { 1, 0, 1000, "virtual disk size" },  /* not a multiple of 512 */
        { 0, 4, 2, "parent locator" },        /* HasParent without a locator */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        vhd_create(p, VDISK_FORMAT_VHDX, "block_size=1M", 8u << 20);
        put_item_u32(p, cases[i].entry, (uint32_t)cases[i].at, cases[i].v);
        vhd_open_fails(p, VDISK_FORMAT_VHDX, 0, cases[i].want);
    }
}

static void
test_table_refusals(void **state)
{
    (void)state;
    const char *p = unit_path(0, "m.vhdx");
    uint8_t e[32], v[4];
    vhd_create(p, VDISK_FORMAT_VHDX, "block_size=1M", 8u << 20);
    vhd_peek(p, META + 32, e, 32);
    vhd_poke(p, META + 32 + 32, e, 32);   /* file parameters twice */
    vhd_open_fails(p, VDISK_FORMAT_VHDX, 0, "appears twice");
    vhd_create(p, VDISK_FORMAT_VHDX, "block_size=1M", 8u << 20);
    vhdx_put32(v, 16);
    vhd_poke(p, META + 32 + 16, v, 4);    /* inside the table */
    vhd_open_fails(p, VDISK_FORMAT_VHDX, 0, "misplaced");
    vhd_create(p, VDISK_FORMAT_VHDX, "block_size=1M", 8u << 20);
    vhdx_put32(v, 9);
    vhd_poke(p, META + 32 + 20, v, 4);    /* wrong length */
    vhd_open_fails(p, VDISK_FORMAT_VHDX, 0, "wrong size");
    vhd_create(p, VDISK_FORMAT_VHDX, "block_size=1M", 8u << 20);
    vhd_poke(p, META + 32 + 32 * 2, "\x01\x02", 2);   /* page 83 GUID unknown, required */
    vhd_open_fails(p, VDISK_FORMAT_VHDX, 0, "required but unknown");
    vhdx_put32(v, 0);
    vhd_poke(p, META + 32 + 32 * 2 + 24, v, 4);       /* unknown and optional: but page 83 is missing */
    vhd_open_fails(p, VDISK_FORMAT_VHDX, 0, "page 83");
    vhd_create(p, VDISK_FORMAT_VHDX, "block_size=1M", 8u << 20);
    vhdx_put16(v, 3000);
    vhd_poke(p, META + 10, v, 2);         /* entry count */
    vhd_open_fails(p, VDISK_FORMAT_VHDX, 0, "entries");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_build),
        cmocka_unit_test_setup_teardown(test_value_ranges, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_table_refusals, unit_setup, unit_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
