/* Unit tests for vdisk_bitmap (core/dispatch.c): the checks before the
 * driver's bitmap callback (format, read-only image, names). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "fixture.h"

#include <vdisk/vdisk.h>

static void
test_raw_not_supported(void **state)
{
    (void)state;
    const char *p = unit_path(0, "r.raw");
    unit_write_file(p, 1 << 20, NULL, 0, 0);
    vdisk_open_opts o = { .format = VDISK_FORMAT_RAW, .flags = VDISK_OPEN_RDWR };
    vdisk_image *img;
    vdisk_error err;
    assert_int_equal(vdisk_open(p, &o, &img, &err), 0);
    vdisk_bitmap_op op = { .action = VDISK_BITMAP_ADD, .name = "x" };
    assert_int_equal(vdisk_bitmap(img, &op, &err), -ENOTSUP);
    assert_non_null(strstr(err.message, "r.raw"));
    assert_int_equal(vdisk_close(img, &err), 0);
}

static void
test_read_only_and_names(void **state)
{
    (void)state;
    const char *p = unit_path(0, "q.qcow2");
    vdisk_error err;
    vdisk_image *img = unit_make_qcow2(p, NULL, 1 << 20, 0);
    vdisk_bitmap_op op = { .action = VDISK_BITMAP_ADD, .name = "x" };
    assert_int_equal(vdisk_bitmap(img, &op, &err), -EROFS);
    assert_int_equal(vdisk_close(img, &err), 0);
    img = unit_make_qcow2(unit_path(1, "w.qcow2"), NULL, 1 << 20, VDISK_OPEN_RDWR);
    op.name = "";
    assert_int_equal(vdisk_bitmap(img, &op, &err), -EINVAL);
    char longname[1100];
    memset(longname, 'n', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = 0;
    op.name = longname;
    assert_int_equal(vdisk_bitmap(img, &op, &err), -EINVAL);
    op = (vdisk_bitmap_op){ .action = VDISK_BITMAP_MERGE, .name = "x", .src_name = NULL };
    assert_int_equal(vdisk_bitmap(img, &op, &err), -EINVAL);
    assert_int_equal(vdisk_close(img, &err), 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_raw_not_supported, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_read_only_and_names, unit_setup, unit_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
