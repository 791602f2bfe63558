/* Unit tests for plugin/volume-snapshot.c: internal snapshots of a qcow2
 * volume; raw volumes refused. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <vdisk/snapshot.h>
#include <vdisk/volume.h>

#include "fixture.h"
#include "pool-fixture.h"

static void
write_pattern(const char *path, uint32_t seed)
{
    vdisk_image *img;
    vdisk_open_opts oo = { .format = VDISK_FORMAT_QCOW2, .flags = VDISK_OPEN_RDWR };
    assert_int_equal(vdisk_open(path, &oo, &img, NULL), 0);
    uint8_t buf[4096];
    unit_pattern(buf, sizeof(buf), seed);
    assert_int_equal(vdisk_pwrite(img, buf, sizeof(buf), 0, NULL), 0);
    assert_int_equal(vdisk_close(img, NULL), 0);
}

static int
first_byte_matches(const char *path, uint32_t seed)
{
    vdisk_image *img;
    vdisk_open_opts oo = { .format = VDISK_FORMAT_QCOW2 };
    assert_int_equal(vdisk_open(path, &oo, &img, NULL), 0);
    uint8_t buf[4096], expect[4096];
    unit_pattern(expect, sizeof(expect), seed);
    assert_int_equal(vdisk_pread(img, buf, sizeof(buf), 0, NULL), 0);
    vdisk_close(img, NULL);
    return memcmp(buf, expect, sizeof(buf)) == 0;
}

static void
test_create_list_revert_delete(void **state)
{
    vdisk_registry *reg = pf_registry();
    vdisk_pool *p = pf_pool(reg, "p", VDISK_ZEROING_LAZY, 0);
    pf_create(p, "v.qcow2", VDISK_FORMAT_QCOW2, 4 * MiB, 0);
    const char *path = unit_path(0, "p/v.qcow2");
    write_pattern(path, 1);
    assert_int_equal(vdisk_vol_snapshot_create(p, "v.qcow2", "before", NULL), 0);
    write_pattern(path, 2);
    vdisk_snapshot_info *list;
    size_t n;
    assert_int_equal(vdisk_vol_snapshot_list(p, "v.qcow2", &list, &n, NULL), 0);
    assert_int_equal(n, 1);
    assert_string_equal(list[0].name, "before");
    vdisk_snapshot_list_free(list, n);
    assert_true(first_byte_matches(path, 2));
    assert_int_equal(vdisk_vol_snapshot_revert(p, "v.qcow2", "before", NULL), 0);
    assert_true(first_byte_matches(path, 1));
    vdisk_error err = { 0 };
    assert_int_equal(vdisk_vol_snapshot_revert(p, "v.qcow2", "nope", &err), -ENOENT);
    assert_null(strstr(err.message, "/proc/self/fd"));
    assert_int_equal(vdisk_vol_snapshot_delete(p, "v.qcow2", "before", NULL), 0);
    assert_int_equal(vdisk_vol_snapshot_list(p, "v.qcow2", &list, &n, NULL), 0);
    assert_int_equal(n, 0);
    vdisk_snapshot_list_free(list, n);
    pf_close(reg, p);
}

static void
test_raw_refused(void **state)
{
    vdisk_registry *reg = pf_registry();
    vdisk_pool *p = pf_pool(reg, "p", VDISK_ZEROING_LAZY, 0);
    pf_create(p, "v.raw", VDISK_FORMAT_RAW, MiB, 0);
    vdisk_error err = { 0 };
    assert_int_equal(vdisk_vol_snapshot_create(p, "v.raw", "s", &err), -ENOTSUP);
    assert_non_null(strstr(err.message, "qcow2"));
    pf_close(reg, p);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_create_list_revert_delete, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_raw_refused, unit_setup, unit_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
