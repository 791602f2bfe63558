/* Unit tests for plugin/pool-info.c: refresh (which files are volumes),
 * info sums and overcommit, dumpxml. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include <vdisk/pool.h>

#include "fixture.h"
#include "pool-fixture.h"
#include "pool-internal.h"

static void
test_refresh_lists_regular_files_only(void **state)
{
    vdisk_registry *reg = pf_registry();
    vdisk_pool *p = pf_pool(reg, "p", VDISK_ZEROING_LAZY, 0);
    unit_write_file(unit_path(0, "p/b.img"), 2 * MiB, "data", 4, 0);
    unit_write_file(unit_path(0, "p/a.img"), 1 * MiB, NULL, 0, 0);
    unit_write_file(unit_path(0, "p/.vdisk-tmp-0123"), 1 * MiB, NULL, 0, 0);   /* stale */
    unit_write_file(unit_path(0, "p/.vdisk-tmp-4567"), 1 * MiB, NULL, 0, 0);   /* being created */
    int held = open(unit_path(0, "p/.vdisk-tmp-4567"), O_RDWR);
    vdisk_vol_tmp_hold(held);       /* as a create holds its file */
    unit_write_file(unit_path(0, "outside"), 1 * MiB, NULL, 0, 0);
    assert_int_equal(symlink(unit_path(0, "outside"), unit_path(1, "p/link")), 0);
    assert_int_equal(mkdir(unit_path(0, "p/subdir"), 0755), 0);
    vdisk_vol_def *v;
    size_t n;
    assert_int_equal(vdisk_pool_refresh(p, &v, &n, NULL), 0);
    assert_int_equal(n, 2);
    assert_string_equal(v[0].name, "a.img");
    assert_string_equal(v[1].name, "b.img");
    assert_int_equal(v[1].capacity, 2 * MiB);
    assert_int_equal(v[1].format, VDISK_FORMAT_RAW);
    assert_string_equal(v[1].key, unit_path(0, "p/b.img"));
    vdisk_pool_volumes_free(v, n);
    /* A create killed half-way leaves a hidden file nobody holds: reaped. */
    assert_int_equal(access(unit_path(0, "p/.vdisk-tmp-0123"), F_OK), -1);
    assert_int_equal(access(unit_path(0, "p/.vdisk-tmp-4567"), F_OK), 0);
    close(held);
    pf_close(reg, p);
}

static void
test_info_sums_and_overcommit(void **state)
{
    vdisk_registry *reg = pf_registry();
    vdisk_pool *p = pf_pool(reg, "p", VDISK_ZEROING_LAZY, 3.5);
    unit_write_file(unit_path(0, "p/a"), 3 * MiB, NULL, 0, 0);
    unit_write_file(unit_path(0, "p/b"), 5 * MiB, NULL, 0, 0);
    vdisk_pool_info info;
    assert_int_equal(vdisk_pool_get_info(p, &info, NULL), 0);
    assert_int_equal(info.state, VDISK_POOL_RUNNING);
    assert_int_equal(info.volumes, 2);
    assert_int_equal(info.volume_capacity, 8 * MiB);
    assert_true(info.capacity > 0 && info.available <= info.capacity);
    assert_true(info.allocation <= info.capacity);
    double expect = (double)(8 * MiB) / (double)info.capacity;
    assert_true(info.overcommit > expect * 0.999 && info.overcommit < expect * 1.001);
    assert_true(info.overcommit_max == 3.5);
    pf_close(reg, p);
}

static void
test_inactive_pool_has_no_sizes(void **state)
{
    vdisk_registry *reg = pf_registry();
    vdisk_pool *p = pf_pool(reg, "p", VDISK_ZEROING_LAZY, 0);
    assert_int_equal(vdisk_pool_stop(p, NULL), 0);
    vdisk_pool_info info;
    assert_int_equal(vdisk_pool_get_info(p, &info, NULL), 0);
    assert_int_equal(info.state, VDISK_POOL_INACTIVE);
    assert_int_equal(info.capacity, 0);
    vdisk_vol_def *v;
    size_t n;
    assert_int_equal(vdisk_pool_refresh(p, &v, &n, NULL), -EINVAL);
    pf_close(reg, p);
}

static void
test_dumpxml_has_runtime_sizes(void **state)
{
    vdisk_registry *reg = pf_registry();
    vdisk_pool *p = pf_pool(reg, "p", VDISK_ZEROING_EAGER, 0);
    char *xml;
    assert_int_equal(vdisk_pool_dumpxml(p, &xml, NULL), 0);
    assert_non_null(strstr(xml, "<name>p</name>"));
    assert_non_null(strstr(xml, "eager"));
    assert_null(strstr(xml, "<capacity unit='bytes'>0</capacity>"));
    free(xml);
    pf_close(reg, p);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_refresh_lists_regular_files_only, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_info_sums_and_overcommit, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_inactive_pool_has_no_sizes, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_dumpxml_has_runtime_sizes, unit_setup, unit_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
