/* Unit tests for core/rebase.c: a safe rebase keeps what the guest reads
 * (onto another file, onto an image further down the chain, onto nothing),
 * an unsafe one changes only the header, and the refusals (no format,
 * read-only, loops) change nothing. */
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
#define SIZE (2 * MiB)

static void
make(const char *path, const char *backing, vdisk_format bfmt, uint64_t off, size_t len,
     unsigned seed)
{
    vdisk_create_opts o;
    vdisk_error err;
    vdisk_create_opts_init(&o, VDISK_FORMAT_QCOW2);
    o.size = SIZE;
    if (backing) {
        o.backing_file = strdup(backing);
        o.backing_format = bfmt;
    }
    if (vdisk_create(path, &o, NULL, NULL, &err) < 0)
        fail_msg("create %s: %s", path, err.message);
    vdisk_create_opts_clear(&o);
    vdisk_open_opts oo = { .format = VDISK_FORMAT_QCOW2, .flags = VDISK_OPEN_RDWR };
    vdisk_image *img;
    assert_int_equal(vdisk_open(path, &oo, &img, &err), 0);
    uint8_t *b = malloc(len);
    unit_fill(b, len, seed);
    assert_int_equal(vdisk_pwrite(img, b, len, off, &err), 0);
    free(b);
    assert_int_equal(vdisk_close(img, &err), 0);
}

static uint8_t *
contents(const char *path)
{
    vdisk_open_opts oo = { .format = VDISK_FORMAT_QCOW2, .flags = 0 };
    vdisk_image *img;
    vdisk_error err;
    if (vdisk_open(path, &oo, &img, &err) < 0)
        fail_msg("open %s: %s", path, err.message);
    uint8_t *b = malloc(SIZE);
    assert_int_equal(vdisk_pread(img, b, SIZE, 0, &err), 0);
    vdisk_close(img, NULL);
    return b;
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

static char *
backing_name(const char *path)
{
    vdisk_image *img = open_rw(path, VDISK_OPEN_NO_BACKING);
    vdisk_info info;
    vdisk_error err;
    assert_int_equal(vdisk_get_info(img, &info, &err), 0);
    char *name = info.backing_file ? strdup(info.backing_file) : NULL;
    vdisk_info_clear(&info);
    vdisk_close(img, NULL);
    return name;
}

static void
chain(void)
{
    make(unit_path(0, "old.qcow2"), NULL, 0, 0, SIZE, 1);
    make(unit_path(1, "new.qcow2"), NULL, 0, 0, MiB, 1);   /* first half equal */
    make(unit_path(2, "top.qcow2"), "old.qcow2", VDISK_FORMAT_QCOW2, 64 * KiB, 64 * KiB, 3);
}

static void
test_safe_rebase_keeps_content(void **state)
{
    (void)state;
    chain();
    const char *top = unit_path(2, "top.qcow2");
    uint8_t *before = contents(top);
    vdisk_image *img = open_rw(top, 0);
    vdisk_error err;
    assert_int_equal(vdisk_rebase(img, "new.qcow2", VDISK_FORMAT_QCOW2, 0, NULL, NULL, &err), 0);
    /* the handle now reads through the new backing file */
    assert_string_equal(vdisk_get_filename(vdisk_get_backing(img)), unit_path(1, "new.qcow2"));
    vdisk_extent e;
    /* the equal first half was not copied, the differing second half was */
    assert_int_equal(vdisk_block_status(img, 512 * KiB, 64 * KiB, &e, &err), 0);
    assert_false(e.flags & VDISK_EXTENT_ALLOCATED);
    assert_int_equal(vdisk_block_status(img, MiB, 64 * KiB, &e, &err), 0);
    assert_true(e.flags & VDISK_EXTENT_ALLOCATED);
    assert_int_equal(vdisk_close(img, &err), 0);
    uint8_t *after = contents(top);
    assert_memory_equal(before, after, SIZE);
    char *name = backing_name(top);
    assert_string_equal(name, "new.qcow2");
    free(name);
    free(before);
    free(after);
}

static void
test_safe_rebase_to_nothing_and_in_chain(void **state)
{
    (void)state;
    chain();
    make(unit_path(3, "over.qcow2"), "top.qcow2", VDISK_FORMAT_QCOW2, 0, 4096, 9);
    const char *over = unit_path(3, "over.qcow2");
    uint8_t *before = contents(over);
    vdisk_image *img = open_rw(over, 0);
    vdisk_error err;
    /* onto old.qcow2, which is already in the chain below top.qcow2 */
    assert_int_equal(vdisk_rebase(img, "old.qcow2", VDISK_FORMAT_QCOW2, 0, NULL, NULL, &err), 0);
    assert_int_equal(vdisk_close(img, &err), 0);
    uint8_t *mid = contents(over);
    assert_memory_equal(before, mid, SIZE);
    img = open_rw(over, 0);
    assert_int_equal(vdisk_rebase(img, "", VDISK_FORMAT_UNKNOWN, 0, NULL, NULL, &err), 0);
    assert_null(vdisk_get_backing(img));
    assert_int_equal(vdisk_close(img, &err), 0);
    uint8_t *after = contents(over);
    assert_memory_equal(before, after, SIZE);
    assert_null(backing_name(over));
    free(before);
    free(mid);
    free(after);
}

static void
test_unsafe_rebase_header_only(void **state)
{
    (void)state;
    chain();
    const char *top = unit_path(2, "top.qcow2");
    vdisk_image *img = open_rw(top, VDISK_OPEN_NO_BACKING);
    vdisk_error err;
    assert_int_equal(vdisk_rebase(img, "missing.qcow2", VDISK_FORMAT_QCOW2, VDISK_REBASE_UNSAFE, NULL, NULL, &err), 0);
    vdisk_close(img, NULL);
    char *name = backing_name(top);
    assert_string_equal(name, "missing.qcow2");
    free(name);
}

static void
test_refusals(void **state)
{
    (void)state;
    chain();
    const char *top = unit_path(2, "top.qcow2");
    uint8_t *before = contents(top);
    vdisk_image *img = open_rw(top, 0);
    vdisk_error err;
    assert_int_equal(vdisk_rebase(img, "new.qcow2", VDISK_FORMAT_UNKNOWN, 0, NULL, NULL, &err),
                     -EINVAL);
    assert_non_null(strstr(err.message, "backing format must be specified"));
    assert_int_equal(vdisk_rebase(img, "top.qcow2", VDISK_FORMAT_QCOW2, 0, NULL, NULL, &err),
                     -ELOOP);
    assert_int_equal(vdisk_rebase(img, "nope.qcow2", VDISK_FORMAT_QCOW2, 0, NULL, NULL, &err),
                     -ENOENT);
    assert_non_null(strstr(err.message, "nope.qcow2"));
    vdisk_close(img, NULL);
    vdisk_open_opts oo = { .format = VDISK_FORMAT_QCOW2, .flags = 0 };
    assert_int_equal(vdisk_open(top, &oo, &img, &err), 0);
    assert_int_equal(vdisk_rebase(img, "new.qcow2", VDISK_FORMAT_QCOW2, 0, NULL, NULL, &err),
                     -EROFS);
    vdisk_close(img, NULL);
    img = open_rw(top, VDISK_OPEN_NO_BACKING);
    assert_int_equal(vdisk_rebase(img, "new.qcow2", VDISK_FORMAT_QCOW2, 0, NULL, NULL, &err),
                     -EINVAL);
    vdisk_close(img, NULL);
    uint8_t *after = contents(top);
    assert_memory_equal(before, after, SIZE);
    char *name = backing_name(top);
    assert_string_equal(name, "old.qcow2");
    free(name);
    free(before);
    free(after);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        TEST(test_safe_rebase_keeps_content),
        TEST(test_safe_rebase_to_nothing_and_in_chain),
        TEST(test_unsafe_rebase_header_only),
        TEST(test_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
