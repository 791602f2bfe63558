/* Unit tests for plugin/volume-resize.c: libvirt's shrink rule, the
 * overcommit cap, growing through libvdisk's resize. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include <vdisk/volume.h>

#include "fixture.h"
#include "pool-fixture.h"

static void
test_shrink_needs_flag_and_zero_refused(void **state)
{
    vdisk_registry *reg = pf_registry();
    vdisk_pool *p = pf_pool(reg, "p", VDISK_ZEROING_LAZY, 0);
    pf_create(p, "v", VDISK_FORMAT_RAW, 4 * MiB, 0);
    vdisk_error err = { 0 };
    assert_int_equal(vdisk_vol_resize(p, "v", MiB, 0, NULL, NULL, &err), -EINVAL);
    assert_non_null(strstr(err.message, "shrink"));
    assert_int_equal(vdisk_vol_resize(p, "v", 0, VDISK_VOL_RESIZE_SHRINK, NULL, NULL, NULL), -EINVAL);
    assert_int_equal(vdisk_vol_resize(p, "v", 4 * MiB, 0, NULL, NULL, NULL), 0);   /* no change */
    assert_int_equal(pf_file_size(unit_path(0, "p/v")), 4 * MiB);
    pf_close(reg, p);
}

static void
test_growth_past_overcommit_cap_refused(void **state)
{
    vdisk_registry *reg = pf_registry();
    vdisk_pool *p = pf_pool(reg, "p", VDISK_ZEROING_LAZY, 1.0);
    vdisk_pool_info info;
    assert_int_equal(vdisk_pool_get_info(p, &info, NULL), 0);
    pf_create(p, "v", VDISK_FORMAT_RAW, MiB, 0);
    vdisk_error err = { 0 };
    assert_int_equal(vdisk_vol_resize(p, "v", info.capacity + MiB, 0, NULL, NULL, &err), -ENOSPC);
    assert_non_null(strstr(err.message, "overcommit"));
    assert_int_equal(pf_file_size(unit_path(0, "p/v")), MiB);
    pf_close(reg, p);
}

static void
test_grow(void **state)
{
    vdisk_registry *reg = pf_registry();
    vdisk_pool *p = pf_pool(reg, "p", VDISK_ZEROING_LAZY, 0);
    pf_create(p, "v.qcow2", VDISK_FORMAT_QCOW2, MiB, 0);
    vdisk_error err = { 0 };
    int r = vdisk_vol_resize(p, "v.qcow2", 3 * MiB, 0, NULL, NULL, &err);
    assert_int_equal(r, 0);
    vdisk_vol_def d;
    assert_int_equal(vdisk_vol_lookup(p, "v.qcow2", &d, NULL), 0);
    assert_int_equal(d.capacity, 3 * MiB);
    vdisk_vol_def_clear(&d);
    pf_close(reg, p);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_shrink_needs_flag_and_zero_refused, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_growth_past_overcommit_cap_refused, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_grow, unit_setup, unit_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
