/* Unit tests for core/dispatch.c: vdisk_check's format-neutral checks (raw has
 * nothing to check; repair needs a writable handle). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "fixture.h"

#include <vdisk/vdisk.h>

static void
test_raw_not_supported(void **state)
{
    (void)state;
    const char *r = unit_path(1, "r.raw");
    unit_write_file(r, MiB, NULL, 0, 0);
    vdisk_open_opts o = { .format = VDISK_FORMAT_RAW, .flags = VDISK_OPEN_CHECK };
    vdisk_image *img;
    vdisk_error err;
    vdisk_check_result res;
    assert_int_equal(vdisk_open(r, &o, &img, &err), 0);
    assert_int_equal(vdisk_check(img, 0, &res, NULL, NULL, NULL, &err), -ENOTSUP);
    assert_non_null(strstr(err.message, "r.raw"));
    assert_int_equal(res.check_errors, 0);
    vdisk_close(img, &err);
}

static void
test_fix_needs_writable_handle(void **state)
{
    (void)state;
    const char *p = unit_path(0, "c.qcow2");
    vdisk_image *img = unit_make_qcow2(p, NULL, 64 * MiB, VDISK_OPEN_CHECK);
    vdisk_error err;
    vdisk_check_result res;
    assert_int_equal(vdisk_check(img, VDISK_CHECK_FIX_LEAKS, &res, NULL, NULL, NULL, &err),
                     -EROFS);
    assert_non_null(strstr(err.message, "c.qcow2"));
    assert_int_equal(vdisk_check(img, 0, &res, NULL, NULL, NULL, &err), 0);
    assert_int_equal(res.corruptions + res.leaks + res.check_errors, 0);
    vdisk_close(img, &err);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_raw_not_supported, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_fix_needs_writable_handle, unit_setup, unit_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
