/* Unit tests for core/qcow2/bitmap-dir.c: a bitmap directory QEMU would
 * refuse makes a writable open fail with QEMU's reason and the file's name
 * (and leaves the file as it was); a read-only open does not read it. */
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

static const struct bm_spec ONE[] = { { "b0", 16, 2, -1, 0 } };

/* Open read-write; expect failure with `what` in the message. */
static void
assert_refused(const char *p, const char *what)
{
    vdisk_open_opts o = { .format = VDISK_FORMAT_QCOW2, .flags = VDISK_OPEN_RDWR };
    vdisk_image *img = NULL;
    vdisk_error err;
    FILE *f = fopen(p, "rb");
    uint8_t before[4096], after[4096];
    assert_int_equal(fread(before, 1, sizeof(before), f), sizeof(before));
    fclose(f);
    assert_true(vdisk_open(p, &o, &img, &err) < 0);
    assert_non_null(strstr(err.message, what));
    assert_non_null(strstr(err.message, "d.qcow2"));
    f = fopen(p, "rb");
    assert_int_equal(fread(after, 1, sizeof(after), f), sizeof(after));
    fclose(f);
    assert_memory_equal(before, after, sizeof(before));
    /* Read-only: the bitmaps are not loaded, the image opens. */
    o.flags = 0;
    assert_int_equal(vdisk_open(p, &o, &img, &err), 0);
    assert_int_equal(vdisk_close(img, &err), 0);
}

static void
test_count_mismatch(void **state)
{
    (void)state;
    const char *p = bm_make_image("d.qcow2", ONE, 1);
    poke_be(p, bm_ext_pos(p) + 8, 4, 2);
    assert_refused(p, "Less bitmaps found than specified in header extension");
}

static void
test_zero_bitmaps(void **state)
{
    (void)state;
    const char *p = bm_make_image("d.qcow2", ONE, 1);
    poke_be(p, bm_ext_pos(p) + 8, 4, 0);
    assert_refused(p, "found bitmaps extension with zero bitmaps");
}

static void
test_bad_granularity(void **state)
{
    (void)state;
    static const struct bm_spec v[] = { { "tiny", 8, 2, -1, 0 } };
    const char *p = bm_make_image("d.qcow2", v, 1);
    assert_refused(p, "Bitmap 'tiny' doesn't satisfy the constraints");
}

static void
test_too_small_for_disk(void **state)
{
    (void)state;
    /* One table cluster at 512 B granularity covers 256 MiB: grow the disk. */
    static const struct bm_spec v[] = { { "small", 9, 2, -1, 0 } };
    const char *p = bm_make_image("d.qcow2", v, 1);
    poke_be(p, 24, 8, UINT64_C(512) << 20);
    assert_refused(p, "Bitmap 'small' doesn't satisfy the constraints");
}

static void
test_extra_data(void **state)
{
    (void)state;
    const char *p = bm_make_image("d.qcow2", ONE, 1);
    poke_be(p, (long)bm_entry(p, 0) + 20, 4, 8);
    poke_be(p, bm_ext_pos(p) + 16, 8, 40);
    assert_refused(p, "Bitmap extra data is not supported");
}

static void
test_broken_directory(void **state)
{
    (void)state;
    const char *p = bm_make_image("d.qcow2", ONE, 1);
    poke_be(p, bm_ext_pos(p) + 16, 8, 20);   /* shorter than one entry */
    assert_refused(p, "Broken bitmap directory");
}

static void
test_unaligned_directory(void **state)
{
    (void)state;
    const char *p = bm_make_image("d.qcow2", ONE, 1);
    poke_be(p, bm_ext_pos(p) + 24, 8, peek_be(p, bm_ext_pos(p) + 24, 8) + 512);
    assert_refused(p, "invalid bitmap directory offset");
}

static void
test_bad_table_entry(void **state)
{
    (void)state;
    static const struct bm_spec v[] = { { "b0", 16, 2, 0x01, UINT64_C(2) } };   /* reserved bit */
    const char *p = bm_make_image("d.qcow2", v, 1);
    assert_refused(p, "of the bitmap table at");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_count_mismatch, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_zero_bitmaps, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_bad_granularity, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_too_small_for_disk, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_extra_data, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_broken_directory, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_unaligned_directory, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_bad_table_entry, unit_setup, unit_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
