/* Unit tests for core/vdi/ (header.c, driver.c, check.c): VDI images laid
 * out by hand from VirtualBox's format (pre-header, header 1.1, block map,
 * data area), read, mapped and checked; hostile fields refused. */
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

#define BS 4096u        /* small blocks keep the files small */

static void
le32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* A dynamic image of 4 blocks: block 0 -> data block 1, block 2 -> data
 * block 0 (filled with 0xb0 / 0xb1 by data block), blocks 1 and 3 free
 * (3 discarded).  Returns the path. */
static const char *
make_vdi(uint32_t bmap1, uint32_t blocks_allocated)
{
    static uint8_t f[0x400 + 2 * BS];
    memset(f, 0, sizeof(f));
    memcpy(f, "<<< test VDI >>>\n", 17);
    le32(f + 0x40, 0xbeda107f);
    le32(f + 0x44, 0x00010001);
    le32(f + 0x48, 0x180);
    le32(f + 0x4c, 1);
    le32(f + 0x154, 0x200);
    le32(f + 0x158, 0x400);
    le32(f + 0x168, 512);
    le32(f + 0x170, 4 * BS);
    le32(f + 0x178, BS);
    le32(f + 0x180, 4);
    le32(f + 0x184, blocks_allocated);
    le32(f + 0x200, bmap1);
    le32(f + 0x204, 0xffffffff);
    le32(f + 0x208, 0);
    le32(f + 0x20c, 0xfffffffe);
    memset(f + 0x400, 0xb0, BS);
    memset(f + 0x400 + BS, 0xb1, BS);
    const char *path = unit_path(0, "t.vdi");
    unit_write_file(path, sizeof(f), f, sizeof(f), 0);
    return path;
}

static int
open_vdi(const char *path, unsigned flags, vdisk_image **img, vdisk_error *err)
{
    vdisk_open_opts o = { .format = VDISK_FORMAT_VDI, .flags = flags };
    return vdisk_open(path, &o, img, err);
}

static void
test_reads_through_the_block_map(void **state)
{
    vdisk_image *img;
    assert_int_equal(open_vdi(make_vdi(1, 2), 0, &img, NULL), 0);
    assert_int_equal(vdisk_get_size(img), 4 * BS);
    static uint8_t buf[4 * BS];
    assert_int_equal(vdisk_pread(img, buf, sizeof(buf), 0, NULL), 0);
    for (size_t i = 0; i < sizeof(buf); i++) {
        uint8_t want = i < BS ? 0xb1 : i >= 2 * BS && i < 3 * BS ? 0xb0 : 0;
        if (buf[i] != want)
            fail_msg("byte %zu: %#x, want %#x", i, buf[i], want);
    }
    vdisk_extent e;
    assert_int_equal(vdisk_block_status(img, 0, 4 * BS, &e, NULL), 0);
    assert_true(e.flags & VDISK_EXTENT_DATA);
    assert_int_equal(e.host_offset, 0x400 + BS);
    assert_int_equal(e.length, BS);                 /* next block is free */
    assert_int_equal(vdisk_block_status(img, BS, 3 * BS, &e, NULL), 0);
    assert_int_equal(e.flags, VDISK_EXTENT_ALLOCATED | VDISK_EXTENT_ZERO);
    assert_int_equal(e.length, BS);
    vdisk_info info;
    assert_int_equal(vdisk_get_info(img, &info, NULL), 0);
    assert_int_equal(info.cluster_size, BS);
    vdisk_info_clear(&info);
    vdisk_error err = { 0 };
    assert_int_equal(vdisk_pwrite(img, buf, 512, 0, &err), -EROFS);
    vdisk_close(img, NULL);
}

static void
test_bad_entry_refused_then_checked(void **state)
{
    const char *path = make_vdi(7, 2);          /* block 0 -> data block 7 of 4 */
    vdisk_image *img;
    vdisk_error err = { 0 };
    assert_int_equal(open_vdi(path, 0, &img, &err), -EINVAL);
    assert_non_null(strstr(err.message, "entry 0 points at data block 7"));
    assert_int_equal(open_vdi(path, VDISK_OPEN_CHECK, &img, NULL), 0);
    vdisk_check_result res;
    assert_int_equal(vdisk_check(img, 0, &res, NULL, NULL, NULL, NULL), 0);
    assert_int_equal(res.corruptions, 2);       /* the entry; the allocated count */
    vdisk_close(img, NULL);
}

static void
test_writable_open_refused(void **state)
{
    vdisk_image *img;
    vdisk_error err = { 0 };
    assert_int_equal(open_vdi(make_vdi(1, 2), VDISK_OPEN_RDWR, &img, &err), -EROFS);
    assert_non_null(strstr(err.message, "does not write them"));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_reads_through_the_block_map, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_bad_entry_refused_then_checked, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_writable_open_refused, unit_setup, unit_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
