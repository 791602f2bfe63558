/* Unit tests for core/compare.c: `qemu-img compare` semantics.
 *
 * Images are written with plain POSIX calls; expected offsets are worked
 * out from where the test put the difference (qemu-img reports the start
 * of the 512-byte sector holding it). */

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
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

static void
make_sparse(const char *path, uint64_t size)
{
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
    assert_true(fd >= 0);
    assert_int_equal(ftruncate(fd, (off_t)size), 0);
    close(fd);
}

static void
put_byte(const char *path, uint64_t off, uint8_t v)
{
    int fd = open(path, O_RDWR);
    assert_true(fd >= 0);
    assert_int_equal(pwrite(fd, &v, 1, (off_t)off), 1);
    close(fd);
}

static void
put_fill(const char *path, uint64_t off, size_t len, uint8_t v)
{
    uint8_t *b = malloc(len);
    memset(b, v, len);
    int fd = open(path, O_RDWR);
    assert_true(fd >= 0);
    assert_int_equal(pwrite(fd, b, len, (off_t)off), (ssize_t)len);
    close(fd);
    free(b);
}

static vdisk_image *
open_raw(const char *path)
{
    vdisk_open_opts o = { .format = VDISK_FORMAT_RAW };
    vdisk_image *img = NULL;
    vdisk_error err;
    assert_int_equal(vdisk_open(path, &o, &img, &err), 0);
    return img;
}

/* Compare two files; returns the result (asserting success). */
static vdisk_compare_result
cmp(const char *a, const char *b, bool strict)
{
    vdisk_image *ia = open_raw(a), *ib = open_raw(b);
    vdisk_compare_result res;
    vdisk_error err;
    assert_int_equal(vdisk_compare(ia, ib, strict, NULL, NULL, &res, &err), 0);
    vdisk_close(ia, NULL);
    vdisk_close(ib, NULL);
    return res;
}

static void
test_identical_sparse_vs_written_zeros(void **state)
{
    const char *a = unit_path(0, "a.raw"), *b = unit_path(1, "b.raw");
    make_sparse(a, 8 * MiB);
    make_sparse(b, 8 * MiB);
    put_fill(a, MiB, 3 * MiB, 0x5a);
    put_fill(b, MiB, 3 * MiB, 0x5a);
    put_fill(b, 5 * MiB, MiB, 0);   /* zeros written in b, a hole in a */
    vdisk_compare_result r = cmp(a, b, false);
    assert_true(r.identical);
    /* Strict: the allocation state differs where b holds written zeros
     * (qemu-img: "Strict mode: Offset N block status mismatch!"). */
    r = cmp(a, b, true);
    assert_false(r.identical);
    assert_false(r.size_mismatch);
    assert_int_equal(r.first_difference, 4 * MiB);
    /* An image is strictly identical to itself. */
    r = cmp(a, a, true);
    assert_true(r.identical);
}

static void
test_first_difference_is_the_sector_start(void **state)
{
    const char *a = unit_path(0, "a.raw"), *b = unit_path(1, "b.raw");
    const uint64_t offs[] = { 0, 511, 512, 4095, 2 * MiB - 1, 2 * MiB, 3 * MiB + 12345, 8 * MiB - 1 };
    for (size_t i = 0; i < sizeof(offs) / sizeof(offs[0]); i++) {
        make_sparse(a, 8 * MiB);
        make_sparse(b, 8 * MiB);
        put_fill(a, 0, 8 * MiB, 0x11);
        put_fill(b, 0, 8 * MiB, 0x11);
        put_byte(b, offs[i], 0x12);
        vdisk_compare_result r = cmp(a, b, false);
        assert_false(r.identical);
        assert_int_equal(r.first_difference, offs[i] / 512 * 512);
    }
}

static void
test_data_against_hole(void **state)
{
    const char *a = unit_path(0, "a.raw"), *b = unit_path(1, "b.raw");
    make_sparse(a, 4 * MiB);
    make_sparse(b, 4 * MiB);
    put_byte(a, 3 * MiB + 1000, 7);   /* b is all hole */
    vdisk_compare_result r = cmp(a, b, false);
    assert_false(r.identical);
    assert_int_equal(r.first_difference, 3 * MiB + 512);
    r = cmp(b, a, false);   /* and the other way round */
    assert_false(r.identical);
    assert_int_equal(r.first_difference, 3 * MiB + 512);
}

static void
test_size_mismatch(void **state)
{
    const char *a = unit_path(0, "a.raw"), *b = unit_path(1, "b.raw");
    make_sparse(a, 2 * MiB);
    make_sparse(b, 6 * MiB);
    put_fill(a, 0, 4096, 3);
    put_fill(b, 0, 4096, 3);
    put_fill(b, 3 * MiB, 64 * KiB, 0);   /* written zeros past a's end */
    /* The extra part reads as zeros: identical (qemu-img warns only). */
    vdisk_compare_result r = cmp(a, b, false);
    assert_true(r.identical);
    r = cmp(b, a, false);
    assert_true(r.identical);
    /* Strict: a size mismatch is a difference. */
    r = cmp(a, b, true);
    assert_false(r.identical);
    assert_true(r.size_mismatch);
    /* Data in the extra part is found, at its sector. */
    put_byte(b, 5 * MiB + 700, 1);
    r = cmp(a, b, false);
    assert_false(r.identical);
    assert_false(r.size_mismatch);
    assert_int_equal(r.first_difference, 5 * MiB + 512);
    r = cmp(b, a, false);
    assert_int_equal(r.first_difference, 5 * MiB + 512);
}

static void
test_unaligned_sizes(void **state)
{
    /* 1000 and 1100 bytes, a difference at 1050 (as tried on qemu-img:
     * "Content mismatch at offset 1024!"). */
    const char *a = unit_path(0, "a.raw"), *b = unit_path(1, "b.raw");
    make_sparse(a, 1000);
    make_sparse(b, 1100);
    put_fill(a, 0, 1000, 9);
    put_fill(b, 0, 1000, 9);
    vdisk_compare_result r = cmp(a, b, false);
    assert_true(r.identical);
    put_byte(b, 1050, 'y');
    r = cmp(a, b, false);
    assert_false(r.identical);
    assert_int_equal(r.first_difference, 1024);
    /* A difference in the last, partial sector. */
    put_byte(b, 1050, 0);
    put_byte(b, 999, 1);
    r = cmp(a, b, false);
    assert_false(r.identical);
    assert_int_equal(r.first_difference, 512);
}

typedef struct prog {
    uint64_t last, total;
    int calls, cancel_at;
} prog;

static int
on_progress(void *opaque, uint64_t done, uint64_t total)
{
    prog *p = opaque;
    assert_true(done >= p->last);
    p->last = done;
    p->total = total;
    return ++p->calls == p->cancel_at;
}

static void
test_progress_and_cancel(void **state)
{
    const char *a = unit_path(0, "a.raw"), *b = unit_path(1, "b.raw");
    make_sparse(a, 8 * MiB);
    make_sparse(b, 12 * MiB);
    put_fill(a, 0, 8 * MiB, 1);
    put_fill(b, 0, 8 * MiB, 1);
    vdisk_image *ia = open_raw(a), *ib = open_raw(b);
    vdisk_compare_result res;
    vdisk_error err;
    prog p = { 0 };
    assert_int_equal(vdisk_compare(ia, ib, false, on_progress, &p, &res, &err), 0);
    assert_true(res.identical);
    assert_int_equal(p.last, 12 * MiB);
    assert_int_equal(p.total, 12 * MiB);
    prog c = { .cancel_at = 1 };
    assert_int_equal(vdisk_compare(ia, ib, false, on_progress, &c, &res, &err), -ECANCELED);
    assert_int_equal(err.code, -ECANCELED);
    vdisk_close(ia, NULL);
    vdisk_close(ib, NULL);
}

static void
test_qcow2_against_raw(void **state)
{
    /* A qcow2 copy compares identical to its raw source, and a changed
     * byte is found. */
    const char *a = unit_path(0, "a.raw"), *q = unit_path(1, "q.qcow2");
    make_sparse(a, 4 * MiB);
    put_fill(a, MiB, 100 * KiB, 0x77);
    vdisk_create_opts co;
    vdisk_create_opts_init(&co, VDISK_FORMAT_QCOW2);
    vdisk_convert_opts o = { .target = &co };
    vdisk_error err;
    int r = vdisk_convert(a, q, &o, &err);
    assert_int_equal(r, 0);
    vdisk_image *ia = open_raw(a), *iq = NULL;
    assert_int_equal(vdisk_open(q, NULL, &iq, &err), 0);
    vdisk_compare_result res;
    assert_int_equal(vdisk_compare(ia, iq, false, NULL, NULL, &res, &err), 0);
    assert_true(res.identical);
    vdisk_close(ia, NULL);
    put_byte(a, 2 * MiB + 513, 1);
    ia = open_raw(a);
    assert_int_equal(vdisk_compare(ia, iq, false, NULL, NULL, &res, &err), 0);
    assert_false(res.identical);
    assert_int_equal(res.first_difference, 2 * MiB + 512);
    vdisk_close(ia, NULL);
    vdisk_close(iq, NULL);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_identical_sparse_vs_written_zeros, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_first_difference_is_the_sector_start, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_data_against_hole, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_size_mismatch, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_unaligned_sizes, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_progress_and_cancel, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_qcow2_against_raw, unit_setup, unit_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
