/* Unit tests for core/qcow2/check-overlap.c: a writable open refuses an
 * image whose tables overlap, naming both; read-only and check opens still
 * work (the check is the remedy). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "fixture.h"
#include "poke.h"

#include <vdisk/vdisk.h>

static const char *
make_image(void)
{
    const char *p = unit_path(0, "o.qcow2");
    vdisk_image *img = unit_make_qcow2(p, NULL, 2048 * MiB, VDISK_OPEN_RDWR);
    uint8_t b[4096];
    unit_fill(b, sizeof(b), 1);
    vdisk_error err;
    assert_int_equal(vdisk_pwrite(img, b, sizeof(b), 0, &err), 0);
    assert_int_equal(vdisk_close(img, &err), 0);
    return p;
}

static void
expect_refused(const char *p, const char *what, const char *other)
{
    vdisk_open_opts o = { .format = VDISK_FORMAT_QCOW2, .flags = VDISK_OPEN_RDWR };
    vdisk_image *img;
    vdisk_error err;
    assert_int_equal(vdisk_open(p, &o, &img, &err), -EINVAL);
    assert_non_null(strstr(err.message, "o.qcow2"));
    assert_non_null(strstr(err.message, what));
    assert_non_null(strstr(err.message, other));
    o.flags = 0;
    assert_int_equal(vdisk_open(p, &o, &img, &err), 0);
    vdisk_close(img, &err);
    o.flags = VDISK_OPEN_RDWR | VDISK_OPEN_CHECK;
    assert_int_equal(vdisk_open(p, &o, &img, &err), 0);
    vdisk_close(img, &err);
}

static void
test_l2_on_refcount_table(void **state)
{
    (void)state;
    const char *p = make_image();
    uint64_t l1 = peek_be(p, 40, 8), rt = peek_be(p, 48, 8);
    poke_be(p, (long)(l1 + 8), 8, rt | (UINT64_C(1) << 63));
    expect_refused(p, "L2 table", "the refcount table");
}

static void
test_l2_on_refblock(void **state)
{
    (void)state;
    const char *p = make_image();
    uint64_t l1 = peek_be(p, 40, 8);
    poke_be(p, (long)(l1 + 8), 8, poke_refblock0(p) | (UINT64_C(1) << 63));
    expect_refused(p, "L2 table", "refcount block");
}

static void
test_l1_on_refcount_table(void **state)
{
    (void)state;
    const char *p = make_image();
    poke_be(p, 40, 8, peek_be(p, 48, 8));
    expect_refused(p, "refcount table", "L1 table");
}

static void
test_clean_image_opens(void **state)
{
    (void)state;
    const char *p = make_image();
    vdisk_open_opts o = { .format = VDISK_FORMAT_QCOW2, .flags = VDISK_OPEN_RDWR };
    vdisk_image *img;
    vdisk_error err;
    assert_int_equal(vdisk_open(p, &o, &img, &err), 0);
    vdisk_close(img, &err);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_l2_on_refcount_table, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_l2_on_refblock, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_l1_on_refcount_table, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_clean_image_opens, unit_setup, unit_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
