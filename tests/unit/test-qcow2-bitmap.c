/* Unit tests for core/qcow2/bitmap.c: bitmaps written by hand
 * (bitmap-poke.h) are loaded on a writable open and marked in_use on disk
 * while it lasts; guest writes, zero writes and discards set the bits of
 * the enabled ones only; in_use bitmaps stay inconsistent; resize and
 * snapshot apply follow QEMU's rules. */
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

static const struct bm_spec THREE[] = {
    { "on", 16, 2, -1, 0 },          /* enabled, 64 KiB granularity */
    { "off", 16, 0, -1, 0 },         /* disabled */
    { "fine", 12, 2, -1, 0 },        /* enabled, 4 KiB */
};

static void
test_in_use_while_open(void **state)
{
    (void)state;
    const char *p = bm_make_image("a.qcow2", THREE, 3);
    bm_assert_clean(p);
    vdisk_image *img = bm_open_rw(p);
    for (unsigned i = 0; i < 3; i++)
        assert_int_equal(bm_flags(p, i), THREE[i].flags | 1);
    assert_int_equal(peek_be(p, 88, 8), 1);
    vdisk_error err;
    assert_int_equal(vdisk_close(img, &err), 0);
    for (unsigned i = 0; i < 3; i++)
        assert_int_equal(bm_flags(p, i), THREE[i].flags);
    assert_int_equal(peek_be(p, 88, 8), 1);
    bm_assert_clean(p);
}

static void
test_writes_set_enabled_bits(void **state)
{
    (void)state;
    const char *p = bm_make_image("w.qcow2", THREE, 3);
    vdisk_image *img = bm_open_rw(p);
    vdisk_error err;
    uint8_t b[4096];
    memset(b, 0x5a, sizeof(b));
    /* Guest bytes [64K*9, +4K): bit 9 at 64 KiB, bit 144 at 4 KiB. */
    assert_int_equal(vdisk_pwrite(img, b, sizeof(b), 9 * 65536, &err), 0);
    /* Zeroes over [1M, 1M+64K): bit 16; bits 256..271 at 4 KiB. */
    assert_int_equal(vdisk_write_zeroes(img, 65536, 1 << 20, 0, &err), 0);
    /* Discard of one 4 KiB block at 2M + 8K: bit 32; bit 514. */
    assert_int_equal(vdisk_discard(img, 4096, (2 << 20) + 8192, &err), 0);
    assert_int_equal(vdisk_close(img, &err), 0);
    assert_int_equal(bm_data_byte(p, 0, 1), 0x02);
    assert_int_equal(bm_data_byte(p, 0, 2), 0x01);
    assert_int_equal(bm_data_byte(p, 0, 4), 0x01);
    assert_int_equal(bm_data_byte(p, 0, 0), 0);
    assert_int_equal(bm_table_entry(p, 1), 0);    /* disabled: still all clear */
    assert_int_equal(bm_data_byte(p, 2, 18), 0x01);
    assert_int_equal(bm_data_byte(p, 2, 32), 0xff);
    assert_int_equal(bm_data_byte(p, 2, 33), 0xff);
    assert_int_equal(bm_data_byte(p, 2, 34), 0);
    assert_int_equal(bm_data_byte(p, 2, 64), 0x04);
    bm_assert_clean(p);
}

static void
test_in_use_bitmap_left_alone(void **state)
{
    (void)state;
    static const struct bm_spec v[] = {
        { "ok", 16, 2, -1, 0 },
        { "stale", 16, 3, 0x0f, 0 },
    };
    const char *p = bm_make_image("u.qcow2", v, 2);
    uint64_t table = peek_be(p, (long)bm_entry(p, 1), 8);
    vdisk_image *img = bm_open_rw(p);
    uint8_t b[512] = { 1 };
    vdisk_error err;
    assert_int_equal(vdisk_pwrite(img, b, sizeof(b), 0, &err), 0);
    assert_int_equal(vdisk_close(img, &err), 0);
    assert_int_equal(bm_flags(p, 1), 3);
    assert_int_equal(peek_be(p, (long)bm_entry(p, 1), 8), table);
    assert_int_equal(bm_data_byte(p, 1, 0), 0x0f);
    assert_int_equal(bm_data_byte(p, 0, 0), 0x01);
    bm_assert_clean(p);
}

static void
test_other_autoclear_bits_cleared(void **state)
{
    (void)state;
    const char *p = bm_make_image("c.qcow2", THREE, 1);
    poke_be(p, 88, 8, 0x13);
    vdisk_error err;
    assert_int_equal(vdisk_close(bm_open_rw(p), &err), 0);
    assert_int_equal(peek_be(p, 88, 8), 1);
    bm_assert_clean(p);
}

static void
test_resize_refused_with_in_use(void **state)
{
    (void)state;
    static const struct bm_spec v[] = { { "stale", 16, 3, -1, 0 } };
    const char *p = bm_make_image("r.qcow2", v, 1);
    vdisk_image *img = bm_open_rw(p);
    vdisk_error err;
    assert_int_equal(vdisk_resize(img, 128 * MiB, false, VDISK_PREALLOC_OFF, NULL, NULL, &err),
                     -ENOTSUP);
    assert_non_null(strstr(err.message, "Bitmap 'stale' is inconsistent and cannot be used"));
    assert_int_equal(vdisk_get_size(img), 64 * MiB);
    assert_int_equal(vdisk_close(img, &err), 0);
}

static void
test_resize_grows_and_shrinks_bits(void **state)
{
    (void)state;
    static const struct bm_spec v[] = { { "g", 9, 2, -1, 0 } };   /* 512 B: 16 KiB of data */
    const char *p = bm_make_image("g.qcow2", v, 1);
    vdisk_image *img = bm_open_rw(p);
    vdisk_error err;
    uint8_t b[512] = { 1 };
    assert_int_equal(vdisk_pwrite(img, b, sizeof(b), 64 * MiB - 512, &err), 0);
    /* Growing: the new part is clean; then a write there counts. */
    assert_int_equal(vdisk_resize(img, 96 * MiB, false, VDISK_PREALLOC_OFF, NULL, NULL, &err), 0);
    assert_int_equal(vdisk_pwrite(img, b, sizeof(b), 96 * MiB - 512, &err), 0);
    assert_int_equal(vdisk_close(img, &err), 0);
    assert_int_equal(bm_data_byte(p, 0, 16383), 0x80);
    assert_int_equal(bm_data_byte(p, 0, 16384), 0);
    assert_int_equal(bm_data_byte(p, 0, 24575), 0x80);
    assert_int_equal(peek_be(p, (long)bm_entry(p, 0) + 8, 4), 1);   /* 24 KiB: one cluster */
    /* Shrinking drops the bits past the end. */
    img = bm_open_rw(p);
    assert_int_equal(vdisk_resize(img, 32 * MiB, true, VDISK_PREALLOC_OFF, NULL, NULL, &err), 0);
    assert_int_equal(vdisk_close(img, &err), 0);
    assert_int_equal(peek_be(p, (long)bm_entry(p, 0) + 8, 4), 1);
    assert_int_equal(bm_table_entry(p, 0), 0);
    bm_assert_clean(p);
}

static void
test_snapshot_apply_refused(void **state)
{
    (void)state;
    const char *p = bm_make_image("s.qcow2", THREE, 1);
    vdisk_image *img = bm_open_rw(p);
    vdisk_error err;
    assert_int_equal(vdisk_snapshot_create(img, "s1", &err), 0);
    assert_int_equal(vdisk_snapshot_apply(img, "s1", &err), -EBUSY);
    assert_non_null(strstr(err.message, "Device has active dirty bitmaps"));
    assert_int_equal(vdisk_snapshot_delete(img, "s1", &err), 0);
    assert_int_equal(vdisk_close(img, &err), 0);
    bm_assert_clean(p);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_in_use_while_open, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_writes_set_enabled_bits, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_in_use_bitmap_left_alone, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_other_autoclear_bits_cleared, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_resize_refused_with_in_use, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_resize_grows_and_shrinks_bits, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_snapshot_apply_refused, unit_setup, unit_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
