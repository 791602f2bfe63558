/* Unit tests for vdisk_resize (core/dispatch.c): the checks shared by all
 * formats (read-only handles, zero size, shrinking without the flag,
 * preallocation when not growing), and the raw driver's truncate (grow sparse
 * / falloc / full, shrink, metadata refused). */
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

#include "fixture.h"

#include <vdisk/vdisk.h>

#define TEST(f) cmocka_unit_test_setup_teardown(f, unit_setup, unit_teardown)

static struct stat
stat_of(const char *path)
{
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    return st;
}

static vdisk_image *
open_raw(const char *path, unsigned flags)
{
    vdisk_open_opts oo = { .format = VDISK_FORMAT_RAW, .flags = flags };
    vdisk_image *img;
    vdisk_error err;
    if (vdisk_open(path, &oo, &img, &err) < 0)
        fail_msg("open: %s", err.message);
    return img;
}

static void
test_generic_refusals(void **state)
{
    (void)state;
    const char *path = unit_path(0, "a.raw");
    uint8_t data[4096];
    unit_pattern(data, sizeof(data), 1);
    unit_write_file(path, MiB, data, sizeof(data), 0);
    vdisk_error err;
    vdisk_image *img = open_raw(path, 0);
    assert_int_equal(vdisk_resize(img, 2 * MiB, false, VDISK_PREALLOC_OFF, NULL, NULL, &err), -EROFS);
    assert_non_null(strstr(err.message, "a.raw"));
    vdisk_close(img, NULL);
    img = open_raw(path, VDISK_OPEN_RDWR);
    assert_int_equal(vdisk_resize(img, 0, true, VDISK_PREALLOC_OFF, NULL, NULL, &err), -EINVAL);
    assert_non_null(strstr(err.message, "positive"));
    assert_int_equal(vdisk_resize(img, MiB / 2, false, VDISK_PREALLOC_OFF, NULL, NULL, &err), -EINVAL);
    assert_non_null(strstr(err.message, "--shrink"));
    assert_int_equal(vdisk_resize(img, MiB / 2, true, VDISK_PREALLOC_FULL, NULL, NULL, &err), -EINVAL);
    assert_int_equal(vdisk_resize(img, MiB, false, VDISK_PREALLOC_FALLOC, NULL, NULL, &err), -EINVAL);
    assert_int_equal(vdisk_resize(img, 2 * MiB, false, VDISK_PREALLOC_METADATA, NULL, NULL, &err),
                     -ENOTSUP);
    vdisk_close(img, NULL);
    /* Nothing changed. */
    assert_int_equal(stat_of(path).st_size, MiB);
}

static void
test_raw_grow_and_shrink(void **state)
{
    (void)state;
    const char *path = unit_path(0, "b.raw");
    uint8_t data[8192], back[8192];
    unit_pattern(data, sizeof(data), 2);
    unit_write_file(path, MiB, data, sizeof(data), MiB - sizeof(data));
    vdisk_error err;
    assert_int_equal(vdisk_resize_path(path, VDISK_FORMAT_RAW, 3 * MiB, false, VDISK_PREALLOC_OFF,
                                       NULL, NULL, &err), 0);
    struct stat st = stat_of(path);
    assert_int_equal(st.st_size, 3 * MiB);
    assert_true((uint64_t)st.st_blocks * 512 < 2 * MiB);   /* still sparse */
    vdisk_image *img = open_raw(path, VDISK_OPEN_RDWR);
    assert_int_equal(vdisk_get_size(img), 3 * MiB);
    assert_int_equal(vdisk_pread(img, back, sizeof(back), MiB - sizeof(back), &err), 0);
    assert_memory_equal(back, data, sizeof(data));
    assert_int_equal(vdisk_resize(img, MiB - 4096, true, VDISK_PREALLOC_OFF, NULL, NULL, &err), 0);
    assert_int_equal(vdisk_get_size(img), MiB - 4096);
    vdisk_close(img, NULL);
    assert_int_equal(stat_of(path).st_size, MiB - 4096);
}

static int
count_progress(void *opaque, uint64_t done, uint64_t total)
{
    (void)total;
    *(uint64_t *)opaque = done;
    return 0;
}

static void
test_raw_preallocated_growth(void **state)
{
    (void)state;
    const vdisk_prealloc modes[] = { VDISK_PREALLOC_FALLOC, VDISK_PREALLOC_FULL };
    for (int i = 0; i < 2; i++) {
        const char *path = unit_path(0, "c.raw");
        unit_write_file(path, MiB, NULL, 0, 0);
        uint64_t done = 0;
        vdisk_error err;
        int r = vdisk_resize_path(path, VDISK_FORMAT_RAW, 5 * MiB, false, modes[i],
                                  count_progress, &done, &err);
        if (r == -ENOTSUP && modes[i] == VDISK_PREALLOC_FALLOC)
            continue;   /* file system without fallocate */
        assert_int_equal(r, 0);
        struct stat st = stat_of(path);
        assert_int_equal(st.st_size, 5 * MiB);
        assert_true((uint64_t)st.st_blocks * 512 >= 4 * MiB);
        if (modes[i] == VDISK_PREALLOC_FULL)
            assert_true(done > 0);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        TEST(test_generic_refusals),
        TEST(test_raw_grow_and_shrink),
        TEST(test_raw_preallocated_growth),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
