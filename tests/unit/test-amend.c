/* Unit tests for vdisk_amend, the format-neutral amend entry point
 * (core/dispatch.c). */
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
test_refusals(void **state)
{
    const char *path = unit_path(0, "r.raw");
    unit_write_file(path, MiB, NULL, 0, 0);
    vdisk_open_opts oo = { .format = VDISK_FORMAT_RAW, .flags = VDISK_OPEN_RDWR };
    vdisk_image *img;
    vdisk_error err = { 0 };
    vdisk_amend_opts o = { .qcow2_version = 3, .lazy_refcounts = -1 };
    assert_int_equal(vdisk_open(path, &oo, &img, &err), 0);
    assert_int_equal(vdisk_amend(img, &o, &err), -ENOTSUP);
    assert_non_null(strstr(err.message, "does not support option amendment"));
    vdisk_close(img, &err);
    img = unit_make_qcow2(unit_path(1, "q.qcow2"), NULL, MiB, 0);
    assert_int_equal(vdisk_amend(img, &o, &err), -EROFS);
    vdisk_close(img, &err);
    img = unit_make_qcow2(unit_path(2, "w.qcow2"), NULL, MiB, VDISK_OPEN_RDWR);
    o.qcow2_version = 4;
    assert_int_equal(vdisk_amend(img, &o, &err), -EINVAL);
    static const int bad_widths[] = { -1, 3, 12, 65, 128 };
    for (size_t i = 0; i < sizeof(bad_widths) / sizeof(bad_widths[0]); i++) {
        o = (vdisk_amend_opts){ .lazy_refcounts = -1, .refcount_bits = bad_widths[i] };
        assert_int_equal(vdisk_amend(img, &o, &err), -EINVAL);
        assert_non_null(strstr(err.message, "power of two and may not exceed 64 bits"));
    }
    o = (vdisk_amend_opts){ .lazy_refcounts = -1, .refcount_bits = 3, .data_file = "" };
    assert_int_equal(vdisk_amend(img, &o, &err), -EINVAL);
    assert_non_null(strstr(err.message, "data-file can only be set"));
    o = (vdisk_amend_opts){ .lazy_refcounts = -1, .data_file_raw = 1 };
    assert_int_equal(vdisk_amend(img, &o, &err), -EINVAL);
    assert_non_null(strstr(err.message, "data-file-raw cannot be set"));
    vdisk_close(img, &err);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_refusals, unit_setup, unit_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
