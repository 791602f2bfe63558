/* Unit tests for core/vpc/driver.c, io.c and write.c: round trips through
 * dynamic and fixed disks, block status, which footer counts, and what a
 * writable open refuses. */
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
#include "vpc/vpc.h"

static void
round_trip(const char *opts)
{
    const char *p = unit_path(0, "d.vhd");
    vhd_create(p, VDISK_FORMAT_VPC, opts, 9u << 20);
    vdisk_image *img = vhd_open(p, VDISK_FORMAT_VPC, VDISK_OPEN_RDWR);
    uint64_t size = vdisk_get_size(img);
    size_t n = 3u << 20;
    uint8_t *w = malloc(n), *r = malloc(n);
    unit_pattern(w, n, 7);
    vdisk_error err;
    /* Across a block boundary, at an odd offset, and the last bytes. */
    assert_int_equal(vdisk_pwrite(img, w, n, (1u << 20) + 3, &err), 0);
    assert_int_equal(vdisk_pwrite(img, w, 100, size - 100, &err), 0);
    assert_int_equal(vdisk_write_zeroes(img, 4096, 2u << 20, 0, &err), 0);
    assert_int_equal(vdisk_close(img, &err), 0);
    img = vhd_open(p, VDISK_FORMAT_VPC, 0);
    assert_true(vdisk_get_size(img) == size);
    assert_int_equal(vdisk_pread(img, r, n, (1u << 20) + 3, &err), 0);
    memset(w + (2u << 20) - (1u << 20) - 3, 0, 4096);
    assert_memory_equal(r, w, n);
    assert_int_equal(vdisk_pread(img, r, 1u << 20, 0, &err), 0);
    for (size_t i = 0; i < (1u << 20) + 3 && i < (1u << 20); i++)
        if (r[i])
            fail_msg("byte %zu is %u, not 0", i, r[i]);
    vdisk_close(img, NULL);
    free(w);
    free(r);
}

static void
test_dynamic_round_trip(void **state)
{
    (void)state;
    round_trip(NULL);
}

static void
test_fixed_round_trip(void **state)
{
    (void)state;
    round_trip("subformat=fixed,force_size=on");
    struct stat st;
    assert_int_equal(stat(unit_path(0, "d.vhd"), &st), 0);
    assert_int_equal(st.st_size, (9u << 20) + 512);
}

static void
test_block_status(void **state)
{
    (void)state;
    const char *p = unit_path(0, "d.vhd");
    vhd_create(p, VDISK_FORMAT_VPC, "force_size=on", 8u << 20);
    vdisk_image *img = vhd_open(p, VDISK_FORMAT_VPC, VDISK_OPEN_RDWR);
    uint8_t b[512] = { 9 };
    vdisk_error err;
    assert_int_equal(vdisk_pwrite(img, b, sizeof(b), (4u << 20) + 512, &err), 0);
    vdisk_extent e;
    assert_int_equal(vdisk_block_status(img, 0, 8u << 20, &e, &err), 0);
    assert_true(e.length == 4u << 20);   /* blocks 0 and 1 unallocated */
    assert_int_equal(e.flags, VDISK_EXTENT_ALLOCATED | VDISK_EXTENT_ZERO);
    assert_int_equal(vdisk_block_status(img, 4u << 20, 4u << 20, &e, &err), 0);
    assert_true(e.length == 2u << 20);
    assert_int_equal(e.flags, VDISK_EXTENT_ALLOCATED | VDISK_EXTENT_DATA | VDISK_EXTENT_OFFSET_VALID);
    assert_true(e.host_offset == 1536 + 512 + 512);   /* after the block's bitmap */
    vdisk_info info;
    assert_int_equal(vdisk_get_info(img, &info, &err), 0);
    assert_int_equal(info.cluster_size, 2u << 20);
    vdisk_info_clear(&info);
    vdisk_close(img, NULL);
}

static void
test_fixed_footer_wins(void **state)
{
    (void)state;
    const char *p = unit_path(0, "f.vhd");
    vhd_create(p, VDISK_FORMAT_VPC, "subformat=fixed,force_size=on", 4u << 20);
    /* The guest writes a dynamic footer into its first sector. */
    vpc_footer f;
    memset(&f, 0, sizeof(f));
    f.data_offset = 512;
    f.type = VPC_TYPE_DYNAMIC;
    memcpy(f.creator_app, "evil", 4);
    f.current_size = 1u << 30;
    uint8_t fake[512];
    vpc_footer_build(&f, fake);
    vdisk_image *img = vhd_open(p, VDISK_FORMAT_VPC, VDISK_OPEN_RDWR);
    vdisk_error err;
    assert_int_equal(vdisk_pwrite(img, fake, sizeof(fake), 0, &err), 0);
    vdisk_close(img, NULL);
    img = vhd_open(p, VDISK_FORMAT_VPC, 0);
    assert_true(vdisk_get_size(img) == 4u << 20);
    uint8_t back[512];
    assert_int_equal(vdisk_pread(img, back, 512, 0, &err), 0);
    assert_memory_equal(back, fake, 512);
    vdisk_close(img, NULL);
}

static void
test_truncated_fixed(void **state)
{
    (void)state;
    const char *p = unit_path(0, "f.vhd");
    vhd_create(p, VDISK_FORMAT_VPC, "subformat=fixed,force_size=on", 4u << 20);
    uint8_t tail[512];
    vhd_peek(p, -512, tail, 512);
    assert_int_equal(truncate(p, 2u << 20), 0);
    vhd_poke(p, 2u << 20, tail, 512);
    /* Read-only: past the end reads zeros; writable: refused. */
    vdisk_image *img = vhd_open(p, VDISK_FORMAT_VPC, 0);
    uint8_t b[512];
    vdisk_error err;
    assert_int_equal(vdisk_pread(img, b, 512, 3u << 20, &err), 0);
    vdisk_close(img, NULL);
    vhd_open_fails(p, VDISK_FORMAT_VPC, VDISK_OPEN_RDWR, "truncated");
}

static void
test_not_a_vhd(void **state)
{
    (void)state;
    const char *p = unit_path(0, "x.vhd");
    unit_write_file(p, 4096, "hello", 5, 0);
    vhd_open_fails(p, VDISK_FORMAT_VPC, 0, "not a VHD");
    unit_write_file(p, 100, NULL, 0, 0);
    vhd_open_fails(p, VDISK_FORMAT_VPC, 0, "too small");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_dynamic_round_trip, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_fixed_round_trip, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_block_status, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_fixed_footer_wins, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_truncated_fixed, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_not_a_vhd, unit_setup, unit_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
