/* Unit tests for plugin/volume-backing.c: the backing policy of a pool.
 * A backing volume of the pool opens with its recorded format (a header
 * naming another is refused); a file outside the pool only when the pool
 * allows it or the volume's creator named it, and never probed. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <vdisk/create.h>
#include <vdisk/volume.h>

#include "fixture.h"
#include "pool-fixture.h"
#include "pool-internal.h"

/* The policy as libvdisk calls it. */
static int
check(vdisk_pool *p, const char *overlay, const char *backing, vdisk_format *fmt, vdisk_error *err)
{
    return vdisk_vol_backing_check(p, overlay, backing, fmt, err);
}

static void
test_pool_volume_takes_its_recorded_format(void **state)
{
    vdisk_registry *reg = pf_registry();
    vdisk_pool *p = pf_pool(reg, "p", VDISK_ZEROING_LAZY, 0);
    pf_create(p, "base", VDISK_FORMAT_RAW, MiB, 0);
    vdisk_format f = VDISK_FORMAT_UNKNOWN;
    assert_int_equal(check(p, "top", unit_path(0, "p/base"), &f, NULL), 0);
    assert_int_equal(f, VDISK_FORMAT_RAW);
    f = VDISK_FORMAT_QCOW2;
    vdisk_error err = { 0 };
    assert_int_equal(check(p, "top", unit_path(0, "p/base"), &f, &err), -EPERM);
    assert_non_null(strstr(err.message, "as qcow2, but that volume is raw"));
    f = VDISK_FORMAT_RAW;
    assert_int_equal(check(p, "top", unit_path(0, "p/missing"), &f, &err), -ENOENT);
    pf_close(reg, p);
}

static void
test_outside_refused_unless_allowed(void **state)
{
    vdisk_registry *reg = pf_registry();
    vdisk_pool *p = pf_pool(reg, "p", VDISK_ZEROING_LAZY, 0);
    unit_write_file(unit_path(1, "host"), 4096, NULL, 0, 0);
    vdisk_format f = VDISK_FORMAT_RAW;
    vdisk_error err = { 0 };
    assert_int_equal(check(p, "top", unit_path(1, "host"), &f, &err), -EPERM);
    assert_non_null(strstr(err.message, "outside the directory of pool 'p'"));
    assert_false(vdisk_vol_backing_allowed(p, "top", unit_path(1, "host")));
    /* the pool option: allowed, with a recorded format only */
    ((vdisk_pool_def *)vdisk_pool_get_def(p))->backing_outside = true;
    assert_int_equal(check(p, "top", unit_path(1, "host"), &f, NULL), 0);
    f = VDISK_FORMAT_UNKNOWN;
    assert_int_equal(check(p, "top", unit_path(1, "host"), &f, &err), -EPERM);
    assert_non_null(strstr(err.message, "does not probe"));
    pf_close(reg, p);
}

static void
test_backing_named_at_creation_allowed_for_that_volume(void **state)
{
    vdisk_registry *reg = pf_registry();
    vdisk_pool *p = pf_pool(reg, "p", VDISK_ZEROING_LAZY, 0);
    unit_write_file(unit_path(1, "base.raw"), MiB, NULL, 0, 0);
    vdisk_vol_def d = pf_vol("top", VDISK_FORMAT_QCOW2, MiB, 0);
    d.backing_path = strdup(unit_path(1, "base.raw"));
    vdisk_error err = { 0 };
    if (vdisk_vol_create(p, &d, 0, NULL, NULL, &err) < 0)
        fail_msg("%s", err.message);
    vdisk_vol_def_clear(&d);
    vdisk_format f = VDISK_FORMAT_RAW;
    assert_int_equal(check(p, unit_path(0, "p/top"), unit_path(1, "base.raw"), &f, NULL), 0);
    assert_true(vdisk_vol_backing_allowed(p, "top", unit_path(1, "base.raw")));
    /* ... and for no other volume */
    pf_create(p, "other", VDISK_FORMAT_QCOW2, MiB, 0);
    assert_int_equal(check(p, unit_path(0, "p/other"), unit_path(1, "base.raw"), &f, NULL), -EPERM);
    vdisk_image *img;
    assert_int_equal(vdisk_vol_open_image(p, "top", 0, &img, NULL), 0);
    assert_non_null(vdisk_get_backing(img));
    vdisk_close(img, NULL);
    pf_close(reg, p);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_pool_volume_takes_its_recorded_format, unit_setup,
                                        unit_teardown),
        cmocka_unit_test_setup_teardown(test_outside_refused_unless_allowed, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_backing_named_at_creation_allowed_for_that_volume,
                                        unit_setup, unit_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
