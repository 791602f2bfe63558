/* Unit tests for core/commit.c: commit into the immediate backing file
 * (the overlay emptied, or kept with drop), into a deeper base, growing a
 * smaller base, finding a base by name, and the refusals. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "fixture.h"

#include <vdisk/vdisk.h>

#define TEST(f) cmocka_unit_test_setup_teardown(f, unit_setup, unit_teardown)

/* A qcow2 image of `size` (0: the backing file's) over `backing` (NULL:
 * none), with `seed` written at off (len bytes; 0: nothing). */
static void
make(const char *path, const char *backing, vdisk_format bfmt, uint64_t size, uint64_t off,
     size_t len, unsigned seed)
{
    vdisk_create_opts o;
    vdisk_error err;
    vdisk_create_opts_init(&o, VDISK_FORMAT_QCOW2);
    o.size = size;
    if (backing) {
        o.backing_file = strdup(backing);
        o.backing_format = bfmt;
    }
    if (vdisk_create(path, &o, NULL, NULL, &err) < 0)
        fail_msg("create %s: %s", path, err.message);
    vdisk_create_opts_clear(&o);
    if (!len)
        return;
    vdisk_open_opts oo = { .format = VDISK_FORMAT_QCOW2, .flags = VDISK_OPEN_RDWR };
    vdisk_image *img;
    assert_int_equal(vdisk_open(path, &oo, &img, &err), 0);
    uint8_t *b = malloc(len);
    unit_fill(b, len, seed);
    assert_int_equal(vdisk_pwrite(img, b, len, off, &err), 0);
    free(b);
    assert_int_equal(vdisk_close(img, &err), 0);
}

static vdisk_image *
open_rw(const char *path, unsigned extra)
{
    vdisk_open_opts oo = { .format = VDISK_FORMAT_QCOW2, .flags = VDISK_OPEN_RDWR | extra };
    vdisk_image *img;
    vdisk_error err;
    if (vdisk_open(path, &oo, &img, &err) < 0)
        fail_msg("open %s: %s", path, err.message);
    return img;
}

static void
assert_reads(vdisk_image *img, uint64_t off, size_t len, unsigned seed)
{
    uint8_t *b = malloc(len), *want = malloc(len);
    vdisk_error err;
    if (seed)
        unit_fill(want, len, seed);
    else
        memset(want, 0, len);
    assert_int_equal(vdisk_pread(img, b, len, off, &err), 0);
    assert_memory_equal(b, want, len);
    free(b);
    free(want);
}

static bool
layer_allocates(vdisk_image *img, uint64_t off, uint64_t len)
{
    vdisk_extent e;
    vdisk_error err;
    assert_int_equal(vdisk_block_status(img, off, len, &e, &err), 0);
    return (e.flags & VDISK_EXTENT_ALLOCATED) != 0;
}

static void
test_commit_empties_overlay(void **state)
{
    (void)state;
    make(unit_path(0, "base.qcow2"), NULL, 0, 4 * MiB, 0, 4 * MiB, 1);
    make(unit_path(1, "top.qcow2"), "base.qcow2", VDISK_FORMAT_QCOW2, 0, MiB, MiB, 2);
    vdisk_image *top = open_rw(unit_path(1, "top.qcow2"), 0);
    vdisk_error err;
    assert_int_equal(vdisk_commit(top, NULL, false, NULL, NULL, &err), 0);
    assert_false(layer_allocates(top, MiB, MiB));
    assert_reads(top, MiB, MiB, 2);
    assert_int_equal(vdisk_close(top, &err), 0);
    vdisk_image *base = open_rw(unit_path(0, "base.qcow2"), 0);
    assert_reads(base, 0, MiB, 1);
    assert_reads(base, MiB, MiB, 2);
    vdisk_close(base, NULL);
}

static void
test_commit_drop_keeps_overlay_and_grows_base(void **state)
{
    (void)state;
    make(unit_path(0, "base.qcow2"), NULL, 0, MiB, 0, MiB, 3);
    make(unit_path(1, "top.qcow2"), "base.qcow2", VDISK_FORMAT_QCOW2, 3 * MiB, 2 * MiB, MiB, 4);
    vdisk_image *top = open_rw(unit_path(1, "top.qcow2"), 0);
    vdisk_error err;
    assert_int_equal(vdisk_commit(top, NULL, true, NULL, NULL, &err), 0);
    assert_true(layer_allocates(top, 2 * MiB, MiB));
    assert_int_equal(vdisk_get_size(vdisk_get_backing(top)), 3 * MiB);
    vdisk_close(top, NULL);
    vdisk_image *base = open_rw(unit_path(0, "base.qcow2"), 0);
    assert_int_equal(vdisk_get_size(base), 3 * MiB);
    assert_reads(base, 0, MiB, 3);
    assert_reads(base, MiB, MiB, 0);
    assert_reads(base, 2 * MiB, MiB, 4);
    vdisk_close(base, NULL);
}

static void
test_commit_deeper_base(void **state)
{
    (void)state;
    make(unit_path(0, "base.qcow2"), NULL, 0, 2 * MiB, 0, 2 * MiB, 5);
    make(unit_path(1, "mid.qcow2"), "base.qcow2", VDISK_FORMAT_QCOW2, 0, 0, 64 * KiB, 6);
    make(unit_path(2, "top.qcow2"), "mid.qcow2", VDISK_FORMAT_QCOW2, 0, MiB, 64 * KiB, 7);
    vdisk_image *top = open_rw(unit_path(2, "top.qcow2"), 0);
    vdisk_image *base = vdisk_find_backing(top, "base.qcow2");
    assert_non_null(base);
    assert_ptr_equal(vdisk_find_backing(top, unit_path(0, "base.qcow2")), base);
    assert_null(vdisk_find_backing(top, "other.qcow2"));
    vdisk_error err;
    /* drop is implied: the mid layer would show through an emptied top */
    assert_int_equal(vdisk_commit(top, base, false, NULL, NULL, &err), 0);
    assert_true(layer_allocates(top, MiB, 64 * KiB));
    vdisk_close(top, NULL);
    base = open_rw(unit_path(0, "base.qcow2"), 0);
    assert_reads(base, 0, 64 * KiB, 6);
    assert_reads(base, MiB, 64 * KiB, 7);
    vdisk_close(base, NULL);
}

static void
test_commit_refusals(void **state)
{
    (void)state;
    make(unit_path(0, "alone.qcow2"), NULL, 0, MiB, 0, 0, 0);
    vdisk_image *img = open_rw(unit_path(0, "alone.qcow2"), 0);
    vdisk_error err;
    assert_int_equal(vdisk_commit(img, NULL, false, NULL, NULL, &err), -EINVAL);
    assert_non_null(strstr(err.message, "does not have a backing file"));
    vdisk_close(img, NULL);
    make(unit_path(1, "top.qcow2"), "alone.qcow2", VDISK_FORMAT_QCOW2, 0, 0, 0, 0);
    vdisk_open_opts oo = { .format = VDISK_FORMAT_QCOW2, .flags = 0 };
    assert_int_equal(vdisk_open(unit_path(1, "top.qcow2"), &oo, &img, &err), 0);
    assert_int_equal(vdisk_commit(img, NULL, false, NULL, NULL, &err), -EROFS);
    vdisk_close(img, NULL);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        TEST(test_commit_empties_overlay),
        TEST(test_commit_drop_keeps_overlay_and_grows_base),
        TEST(test_commit_deeper_base),
        TEST(test_commit_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
