/* Unit tests for core/qcow2/bitmap-edit.c: qemu-img bitmap's operations on
 * the loaded list: the first bitmap inserts the header extension (and sets
 * autoclear bit 0), removing the last one takes both away, merges across
 * granularities, and QEMU's refusals. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "fixture.h"
#include "poke.h"
#include <vdisk/vdisk.h>

#include "bitmap-poke.h"

static int
op(vdisk_image *img, vdisk_bitmap_action a, const char *name, uint32_t gran, vdisk_error *err)
{
    vdisk_bitmap_op o = { .action = a, .name = name, .granularity = gran };
    return vdisk_bitmap(img, &o, err);
}

static void
test_first_add_inserts_extension(void **state)
{
    (void)state;
    const char *p = unit_path(0, "a.qcow2");
    vdisk_error err;
    vdisk_image *img = unit_make_qcow2(p, NULL, 64 * MiB, VDISK_OPEN_RDWR);
    assert_int_equal(vdisk_close(img, &err), 0);
    assert_int_equal(bm_ext_pos(p), 0);
    img = bm_open_rw(p);
    assert_int_equal(op(img, VDISK_BITMAP_ADD, "b0", 0, &err), 0);
    assert_int_equal(op(img, VDISK_BITMAP_ADD, "b0", 0, &err), -EEXIST);
    assert_non_null(strstr(err.message, "Bitmap already exists: b0"));
    uint8_t b[512] = { 3 };
    assert_int_equal(vdisk_pwrite(img, b, sizeof(b), 65536, &err), 0);
    assert_int_equal(vdisk_close(img, &err), 0);
    assert_true(bm_ext_pos(p) > 0);
    assert_int_equal(peek_be(p, 88, 8), 1);
    assert_int_equal(bm_flags(p, 0), 2);
    assert_int_equal(peek_be(p, (long)bm_entry(p, 0) + 17, 1), 16);   /* 64 KiB default */
    assert_int_equal(bm_data_byte(p, 0, 0), 0x02);
    bm_assert_clean(p);
    /* Removing the last bitmap takes the extension and the bit away. */
    img = bm_open_rw(p);
    assert_int_equal(op(img, VDISK_BITMAP_REMOVE, "b0", 0, &err), 0);
    assert_int_equal(op(img, VDISK_BITMAP_REMOVE, "b0", 0, &err), -ENOENT);
    assert_non_null(strstr(err.message, "Dirty bitmap 'b0' not found"));
    assert_int_equal(vdisk_close(img, &err), 0);
    assert_int_equal(bm_ext_pos(p), 0);
    assert_int_equal(peek_be(p, 88, 8), 0);
    bm_assert_clean(p);
}

static void
test_granularity_rules(void **state)
{
    (void)state;
    const char *p = unit_path(0, "g.qcow2");
    vdisk_error err;
    vdisk_image *img = unit_make_qcow2(p, "cluster_size=512", 1 * MiB, VDISK_OPEN_RDWR);
    assert_int_equal(op(img, VDISK_BITMAP_ADD, "x", 1000, &err), -EINVAL);
    assert_non_null(strstr(err.message, "Granularity must be power of 2 and at least 512"));
    assert_int_equal(op(img, VDISK_BITMAP_ADD, "x", 256, &err), -EINVAL);
    assert_int_equal(op(img, VDISK_BITMAP_ADD, "x", 0, &err), 0);
    assert_int_equal(vdisk_close(img, &err), 0);
    assert_int_equal(peek_be(p, (long)bm_entry(p, 0) + 17, 1), 12);    /* at least 4 KiB */
}

static void
test_v2_refused(void **state)
{
    (void)state;
    const char *p = unit_path(0, "v2.qcow2");
    vdisk_error err;
    vdisk_image *img = unit_make_qcow2(p, "compat=0.10", 1 * MiB, VDISK_OPEN_RDWR);
    assert_int_equal(op(img, VDISK_BITMAP_ADD, "x", 0, &err), -ENOTSUP);
    assert_non_null(strstr(err.message, "Cannot store dirty bitmaps in qcow2 v2 files"));
    assert_int_equal(vdisk_close(img, &err), 0);
}

static void
test_merge_and_clear(void **state)
{
    (void)state;
    static const struct bm_spec v[] = {
        { "src", 20, 0, 0x05, 0 },        /* 1 MiB granularity: bits 0 and 2 */
        { "dst", 16, 0, -1, 0 },
        { "stale", 16, 3, -1, 0 },
    };
    const char *p = bm_make_image("m.qcow2", v, 3);
    vdisk_image *img = bm_open_rw(p);
    vdisk_error err;
    vdisk_bitmap_op m = { .action = VDISK_BITMAP_MERGE, .name = "dst", .src_name = "src" };
    assert_int_equal(vdisk_bitmap(img, &m, &err), 0);
    m.src_name = "stale";
    assert_int_equal(vdisk_bitmap(img, &m, &err), -EINVAL);
    assert_non_null(strstr(err.message, "Bitmap 'stale' is inconsistent and cannot be used"));
    assert_int_equal(op(img, VDISK_BITMAP_CLEAR, "stale", 0, &err), -EINVAL);
    assert_int_equal(op(img, VDISK_BITMAP_CLEAR, "src", 0, &err), 0);
    assert_int_equal(op(img, VDISK_BITMAP_ENABLE, "dst", 0, &err), 0);
    assert_int_equal(op(img, VDISK_BITMAP_REMOVE, "stale", 0, &err), 0);
    assert_int_equal(vdisk_close(img, &err), 0);
    /* MiB 0 and 2 at 64 KiB: bits 0-15 and 32-47. */
    assert_int_equal(bm_data_byte(p, 1, 0), 0xff);
    assert_int_equal(bm_data_byte(p, 1, 1), 0xff);
    assert_int_equal(bm_data_byte(p, 1, 2), 0);
    assert_int_equal(bm_data_byte(p, 1, 4), 0xff);
    assert_int_equal(bm_data_byte(p, 1, 6), 0);
    assert_int_equal(bm_flags(p, 1), 2);
    assert_int_equal(bm_table_entry(p, 0), 0);
    bm_assert_clean(p);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_first_add_inserts_extension, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_granularity_rules, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_v2_refused, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_merge_and_clear, unit_setup, unit_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
