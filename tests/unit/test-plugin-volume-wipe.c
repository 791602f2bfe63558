/* Unit tests for plugin/volume-wipe.c: algorithm names, zero / random /
 * trim on raw, qcow2 formatted again after a wipe. */
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
read_file(const char *path, uint8_t *buf, size_t len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    assert_int_equal(fread(buf, 1, len, f), len);
    fclose(f);
}

static void
test_algorithm_names(void **state)
{
    vdisk_wipe_alg a;
    assert_int_equal(vdisk_wipe_alg_from_name("zero", &a, NULL), 0);
    assert_int_equal(a, VDISK_WIPE_ZERO);
    assert_int_equal(vdisk_wipe_alg_from_name("random", &a, NULL), 0);
    assert_int_equal(a, VDISK_WIPE_RANDOM);
    assert_int_equal(vdisk_wipe_alg_from_name("trim", &a, NULL), 0);
    assert_int_equal(a, VDISK_WIPE_TRIM);
    assert_int_equal(vdisk_wipe_alg_from_name("gutmann", &a, NULL), 0);
    assert_int_equal(a, VDISK_WIPE_GUTMANN);
    assert_int_equal(vdisk_wipe_alg_from_name("dod", &a, NULL), 0);
    assert_int_equal(a, VDISK_WIPE_DOD);
    assert_int_equal(vdisk_wipe_alg_from_name("pfitzner33", &a, NULL), 0);
    assert_int_equal(a, VDISK_WIPE_PFITZNER33);
    vdisk_error err = { 0 };
    assert_int_equal(vdisk_wipe_alg_from_name("bogus", &a, &err), -EINVAL);
    assert_non_null(strstr(err.message, "unknown wipe algorithm 'bogus'"));
}

static void
test_zero_random_trim_raw(void **state)
{
    vdisk_registry *reg = pf_registry();
    vdisk_pool *p = pf_pool(reg, "p", VDISK_ZEROING_LAZY, 0);
    uint8_t data[64 * 1024], buf[64 * 1024], zero[64 * 1024] = { 0 };
    unit_pattern(data, sizeof(data), 7);
    static const vdisk_wipe_alg algs[] = { VDISK_WIPE_ZERO, VDISK_WIPE_RANDOM, VDISK_WIPE_TRIM };
    for (size_t i = 0; i < 3; i++) {
        unit_write_file(unit_path(0, "p/v"), 4 * MiB, data, sizeof(data), MiB);
        assert_int_equal(vdisk_vol_wipe(p, "v", algs[i], NULL, NULL, NULL), 0);
        read_file(unit_path(0, "p/v"), buf, sizeof(buf));      /* the hole at 0 stays zeros */
        assert_memory_equal(buf, zero, sizeof(buf));
        FILE *f = fopen(unit_path(0, "p/v"), "rb");
        fseek(f, MiB, SEEK_SET);
        assert_int_equal(fread(buf, 1, sizeof(buf), f), sizeof(buf));
        fclose(f);
        assert_memory_not_equal(buf, data, sizeof(buf));
        if (algs[i] != VDISK_WIPE_RANDOM)
            assert_memory_equal(buf, zero, sizeof(buf));
        assert_int_equal(pf_file_size(unit_path(0, "p/v")), 4 * MiB);
    }
    pf_close(reg, p);
}

static void
test_qcow2_stays_a_qcow2(void **state)
{
    vdisk_registry *reg = pf_registry();
    vdisk_pool *p = pf_pool(reg, "p", VDISK_ZEROING_LAZY, 0);
    vdisk_image *img = unit_make_qcow2(unit_path(0, "p/q.qcow2"), "cluster_size=4096", 8 * MiB,
                                       VDISK_OPEN_RDWR);
    uint8_t data[4096], buf[4096], zero[4096] = { 0 };
    unit_pattern(data, sizeof(data), 3);
    assert_int_equal(vdisk_pwrite(img, data, sizeof(data), 2 * MiB, NULL), 0);
    vdisk_close(img, NULL);
    assert_int_equal(vdisk_vol_wipe(p, "q.qcow2", VDISK_WIPE_ZERO, NULL, NULL, NULL), 0);
    vdisk_open_opts oo = { .format = VDISK_FORMAT_QCOW2 };
    assert_int_equal(vdisk_open(unit_path(0, "p/q.qcow2"), &oo, &img, NULL), 0);
    assert_int_equal(vdisk_get_size(img), 8 * MiB);
    assert_int_equal(vdisk_get_cluster_size(img), 4096);
    assert_int_equal(vdisk_pread(img, buf, sizeof(buf), 2 * MiB, NULL), 0);
    assert_memory_equal(buf, zero, sizeof(buf));
    vdisk_close(img, NULL);
    pf_close(reg, p);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_algorithm_names),
        cmocka_unit_test_setup_teardown(test_zero_random_trim_raw, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_qcow2_stays_a_qcow2, unit_setup, unit_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
