/* Unit tests for core/vhdx/driver.c, io.c, write.c and create.c: the
 * layout of new files, round trips through dynamic and fixed files, block
 * status, info. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "fixture.h"
#include "vhd-fixture.h"
#include "vhdx/vhdx.h"

#define MIB (1u << 20)

static uint64_t
file_size(const char *p)
{
    struct stat st;
    assert_int_equal(stat(p, &st), 0);
    return (uint64_t)st.st_size;
}

static void
test_layout(void **state)
{
    (void)state;
    const char *p = unit_path(0, "c.vhdx");
    /* 1 MiB headers, log (2 MiB here), BAT (1 MiB), metadata (1 MiB), 4 MiB spare. */
    vhd_create(p, VDISK_FORMAT_VHDX, "log_size=2M", 8u << 20);
    assert_true(file_size(p) == 9 * MIB);
    uint8_t b[8];
    vhd_peek(p, 0, b, 8);
    assert_memory_equal(b, "vhdxfile", 8);
    vhd_peek(p, 3 * MIB, b, 8);   /* the BAT: block_state_zero=on */
    assert_true(vhdx_le64(b) == VHDX_PAYLOAD_ZERO);
    vhd_peek(p, 4 * MIB, b, 8);
    assert_memory_equal(b, "metadata", 8);
    /* Fixed, block_state_zero=off: payload blocks present at their place. */
    vhd_create(p, VDISK_FORMAT_VHDX, "subformat=fixed,block_state_zero=off,block_size=1M", 3u << 20);
    assert_true(file_size(p) == 8 * MIB + 3 * MIB);
    uint8_t e[24];
    vhd_peek(p, 2 * MIB, e, sizeof(e));
    for (int i = 0; i < 3; i++)
        assert_true(vhdx_le64(e + 8 * i) == ((8u + (unsigned)i) * MIB | VHDX_PAYLOAD_FULLY_PRESENT));
    /* Dynamic, block_state_zero=off: all NOT_PRESENT. */
    vhd_create(p, VDISK_FORMAT_VHDX, "block_state_zero=off", 8u << 20);
    vhd_peek(p, 2 * MIB, b, 8);
    assert_true(vhdx_le64(b) == 0);
}

static void
round_trip(const char *opts)
{
    const char *p = unit_path(0, "d.vhdx");
    vhd_create(p, VDISK_FORMAT_VHDX, opts, 9u << 20);
    vdisk_image *img = vhd_open(p, VDISK_FORMAT_VHDX, VDISK_OPEN_RDWR);
    size_t n = 3 * MIB;
    uint8_t *w = malloc(n), *r = malloc(n);
    unit_pattern(w, n, 11);
    vdisk_error err;
    assert_int_equal(vdisk_pwrite(img, w, n, MIB + 7, &err), 0);
    assert_int_equal(vdisk_pwrite(img, w, 100, (9u << 20) - 100, &err), 0);
    assert_int_equal(vdisk_write_zeroes(img, 8192, 2 * MIB, VDISK_ZERO_MAY_UNMAP, &err), 0);
    assert_int_equal(vdisk_close(img, &err), 0);
    img = vhd_open(p, VDISK_FORMAT_VHDX, 0);
    assert_int_equal(vdisk_pread(img, r, n, MIB + 7, &err), 0);
    memset(w + MIB - 7, 0, 8192);
    assert_memory_equal(r, w, n);
    assert_int_equal(vdisk_pread(img, r, MIB, 0, &err), 0);
    for (size_t i = 0; i < MIB; i++)
        if (r[i])
            fail_msg("byte %zu is %u", i, r[i]);
    vdisk_close(img, NULL);
    free(w);
    free(r);
}

static void
test_round_trips(void **state)
{
    (void)state;
    static const char *const opts[] = { "block_size=1M", "", "subformat=fixed,block_size=1M",
                                        "subformat=fixed,block_state_zero=off,block_size=2M",
                                        "block_state_zero=off,block_size=1M" };
    for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++)
        round_trip(opts[i]);
}

static void
test_block_status_and_info(void **state)
{
    (void)state;
    const char *p = unit_path(0, "s.vhdx");
    vhd_create(p, VDISK_FORMAT_VHDX, "block_size=1M", 8u << 20);
    vdisk_image *img = vhd_open(p, VDISK_FORMAT_VHDX, VDISK_OPEN_RDWR);
    uint8_t b[512] = { 3 };
    vdisk_error err;
    assert_int_equal(vdisk_pwrite(img, b, sizeof(b), 5 * MIB + 512, &err), 0);
    vdisk_extent e;
    assert_int_equal(vdisk_block_status(img, 0, 8 * MIB, &e, &err), 0);
    assert_true(e.length == 5 * MIB);
    assert_int_equal(e.flags, VDISK_EXTENT_ALLOCATED | VDISK_EXTENT_ZERO);
    /* The new block: data where written (a 4 KiB page of the file), zeros
     * where the file has a hole, both at the block's offset. */
    assert_int_equal(vdisk_block_status(img, 5 * MIB, 3 * MIB, &e, &err), 0);
    assert_true(e.length == 4096 && e.host_offset == 8 * MIB);
    assert_int_equal(e.flags, VDISK_EXTENT_ALLOCATED | VDISK_EXTENT_DATA | VDISK_EXTENT_OFFSET_VALID);
    assert_int_equal(vdisk_block_status(img, 5 * MIB + 4096, 3 * MIB - 4096, &e, &err), 0);
    assert_true(e.length == MIB - 4096 && e.host_offset == 8 * MIB + 4096);
    assert_int_equal(e.flags, VDISK_EXTENT_ALLOCATED | VDISK_EXTENT_ZERO | VDISK_EXTENT_OFFSET_VALID);
    vdisk_info info;
    assert_int_equal(vdisk_get_info(img, &info, &err), 0);
    assert_int_equal(info.cluster_size, MIB);
    assert_null(info.backing_file);
    vdisk_info_clear(&info);
    vdisk_close(img, NULL);
}

static void
test_fixed_keeps_its_size(void **state)
{
    (void)state;
    const char *p = unit_path(0, "f.vhdx");
    /* qemu-img's fixed layout: payload from 8 MiB (1 MiB log, BAT and
     * metadata, 4 MiB spare), blocks in the ZERO state. */
    vhd_create(p, VDISK_FORMAT_VHDX, "subformat=fixed,block_size=1M", 4u << 20);
    assert_true(file_size(p) == 12 * MIB);
    static uint8_t stale[4096];
    memset(stale, 0xee, sizeof(stale));
    vhd_poke(p, 9 * MIB + 8192, stale, sizeof(stale));   /* block 1's place held old data */
    vdisk_image *img = vhd_open(p, VDISK_FORMAT_VHDX, VDISK_OPEN_RDWR);
    uint8_t b[512];
    memset(b, 0x42, sizeof(b));
    vdisk_error err;
    assert_int_equal(vdisk_pwrite(img, b, sizeof(b), MIB, &err), 0);
    assert_int_equal(vdisk_close(img, &err), 0);
    assert_true(file_size(p) == 12 * MIB);
    uint8_t e[8];
    vhd_peek(p, 2 * MIB + 8, e, 8);
    assert_true(vhdx_le64(e) == (9 * MIB | VHDX_PAYLOAD_FULLY_PRESENT));
    img = vhd_open(p, VDISK_FORMAT_VHDX, 0);
    uint8_t *r = malloc(MIB);
    assert_int_equal(vdisk_pread(img, r, MIB, MIB, &err), 0);
    assert_int_equal(r[0], 0x42);
    for (size_t i = 512; i < MIB; i++)
        if (r[i])
            fail_msg("byte %zu of block 1 is %u: the old place was not zeroed", i, r[i]);
    free(r);
    vdisk_close(img, NULL);
}

static void
test_default_block_sizes(void **state)
{
    (void)state;
    /* qemu-img's choice by size (its documentation of block_size=0). */
    assert_int_equal(vhdx_default_block_size(1u << 30), 8 * MIB);
    assert_int_equal(vhdx_default_block_size((1u << 30) + 512), 16 * MIB);
    assert_int_equal(vhdx_default_block_size(UINT64_C(100) << 30), 16 * MIB);
    assert_int_equal(vhdx_default_block_size((UINT64_C(100) << 30) + 512), 32 * MIB);
    assert_int_equal(vhdx_default_block_size((UINT64_C(32) << 40) + 512), 64 * MIB);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_layout, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_round_trips, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_block_status_and_info, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_fixed_keeps_its_size, unit_setup, unit_teardown),
        cmocka_unit_test(test_default_block_sizes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
