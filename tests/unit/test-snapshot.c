/* Unit tests for core/dispatch.c: the format-neutral snapshot entry points
 * refuse formats without internal snapshots and empty names. */
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
test_raw_has_none(void **state)
{
    const char *path = unit_path(0, "r.raw");
    unit_write_file(path, MiB, NULL, 0, 0);
    vdisk_open_opts oo = { .format = VDISK_FORMAT_RAW, .flags = VDISK_OPEN_RDWR };
    vdisk_image *img;
    vdisk_error err = { 0 };
    assert_int_equal(vdisk_open(path, &oo, &img, &err), 0);
    vdisk_snapshot_info *l = (void *)1;
    size_t n = 9;
    assert_int_equal(vdisk_snapshot_list(img, &l, &n, &err), -ENOTSUP);
    assert_null(l);
    assert_int_equal(n, 0);
    assert_int_equal(vdisk_snapshot_create(img, "x", &err), -ENOTSUP);
    assert_non_null(strstr(err.message, "r.raw"));
    assert_non_null(strstr(err.message, "raw"));
    assert_int_equal(vdisk_snapshot_apply(img, "x", &err), -ENOTSUP);
    assert_int_equal(vdisk_snapshot_delete(img, "x", &err), -ENOTSUP);
    vdisk_close(img, &err);
    oo = (vdisk_open_opts){ .format = VDISK_FORMAT_RAW, .snapshot = "x" };
    assert_int_equal(vdisk_open(path, &oo, &img, &err), -ENOTSUP);
}

static void
test_empty_names(void **state)
{
    vdisk_error err = { 0 };
    vdisk_image *img = unit_make_qcow2(unit_path(0, "q.qcow2"), NULL, MiB, VDISK_OPEN_RDWR);
    assert_int_equal(vdisk_snapshot_create(img, "", &err), -EINVAL);
    assert_int_equal(vdisk_snapshot_apply(img, "", &err), -EINVAL);
    assert_int_equal(vdisk_snapshot_delete(img, NULL, &err), -EINVAL);
    vdisk_close(img, &err);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_raw_has_none, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_empty_names, unit_setup, unit_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
