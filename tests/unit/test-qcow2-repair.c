/* Unit tests for core/qcow2/repair.c: leak repair, refcount rebuild,
 * OFLAG_COPIED repair, the overlap guard, and the repair of a dirty image
 * on a writable open.  After every repair a fresh check must be clean and
 * the guest data must read back as written. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "fixture.h"
#include "poke.h"

#include <vdisk/vdisk.h>

#define CL (64u * KiB)
#define DATA (4 * CL)

static const char *
make_image(const char *opts)
{
    const char *p = unit_path(0, "r.qcow2");
    vdisk_image *img = unit_make_qcow2(p, opts, 64 * MiB, VDISK_OPEN_RDWR);
    uint8_t *b = malloc(DATA);
    unit_fill(b, DATA, 3);
    vdisk_error err;
    assert_int_equal(vdisk_pwrite(img, b, DATA, 0, &err), 0);
    assert_int_equal(vdisk_close(img, &err), 0);
    free(b);
    return p;
}

static void
assert_clean_and_intact(const char *p)
{
    vdisk_check_result res;
    assert_int_equal(poke_check(p, 0, &res, NULL, NULL), 0);
    assert_int_equal(res.corruptions + res.leaks + res.check_errors, 0);
    uint8_t *want = malloc(DATA), *got = malloc(DATA);
    unit_fill(want, DATA, 3);
    vdisk_open_opts o = { .format = VDISK_FORMAT_QCOW2, .flags = 0 };
    vdisk_image *img;
    vdisk_error err;
    assert_int_equal(vdisk_open(p, &o, &img, &err), 0);
    assert_int_equal(vdisk_pread(img, got, DATA, 0, &err), 0);
    assert_memory_equal(want, got, DATA);
    vdisk_close(img, &err);
    free(want);
    free(got);
}

/* A cluster past the old end with refcount 1 and no reference. */
static void
add_leak(const char *p)
{
    uint64_t end = poke_file_end(p, CL);
    poke_be(p, (long)(end + CL - 8), 8, 0);
    poke_refcount(p, end, 1);
}

static void
test_fix_leaks(void **state)
{
    (void)state;
    const char *p = make_image(NULL);
    add_leak(p);
    vdisk_check_result res;
    assert_int_equal(poke_check(p, 0, &res, NULL, NULL), 0);
    assert_int_equal(res.leaks, 1);
    assert_int_equal(poke_check(p, VDISK_CHECK_FIX_LEAKS, &res, NULL, NULL), 0);
    assert_int_equal(res.leaks_fixed, 1);
    assert_int_equal(res.leaks, 0);
    assert_clean_and_intact(p);
}

static void
test_rebuild(void **state)
{
    (void)state;
    const char *p = make_image("refcount_bits=8");
    /* 8-bit refcounts: the block holds one byte per cluster. */
    uint64_t d = poke_data_offset(p, 2);
    poke_be(p, (long)(poke_refblock0(p) + (d >> 16)), 1, 0);
    vdisk_check_result res;
    assert_int_equal(poke_check(p, VDISK_CHECK_FIX_LEAKS, &res, NULL, NULL), -EIO);
    assert_true(res.check_errors >= 1);
    assert_int_equal(poke_check(p, VDISK_CHECK_FIX_LEAKS | VDISK_CHECK_FIX_ERRORS, &res, NULL, NULL), 0);
    assert_true(res.corruptions_fixed >= 1);
    assert_int_equal(res.corruptions, 0);
    assert_clean_and_intact(p);
}

static void
test_fix_copied_flag(void **state)
{
    (void)state;
    const char *p = make_image(NULL);
    uint64_t l2 = peek_be(p, (long)peek_be(p, 40, 8), 8) & POKE_OFFSET_MASK;
    uint64_t e = peek_be(p, (long)(l2 + 8), 8);
    poke_be(p, (long)(l2 + 8), 8, e & ~(UINT64_C(1) << 63));
    vdisk_check_result res;
    assert_int_equal(poke_check(p, 0, &res, NULL, NULL), 0);
    assert_int_equal(res.corruptions, 1);
    /* Safe to fix with -r leaks too: nothing else is wrong. */
    assert_int_equal(poke_check(p, VDISK_CHECK_FIX_LEAKS, &res, NULL, NULL), 0);
    assert_int_equal(res.corruptions_fixed, 1);
    assert_int_equal(peek_be(p, (long)(l2 + 8), 8), e);
    assert_clean_and_intact(p);
}

static void
test_overlap_guard_marks_corrupt(void **state)
{
    (void)state;
    const char *p = make_image(NULL);
    uint64_t l1 = peek_be(p, 40, 8);
    /* Guest cluster 5's entry names its own L2 table as data: once the
     * refcount is raised to 2 its OFLAG_COPIED is wrong, and fixing it
     * would write into a cluster that is both an L2 table and data. */
    uint64_t l2 = peek_be(p, (long)l1, 8) & POKE_OFFSET_MASK;
    poke_be(p, (long)(l2 + 8 * 5), 8, l2 | (UINT64_C(1) << 63));
    vdisk_check_result res;
    int r = poke_check(p, VDISK_CHECK_FIX_LEAKS | VDISK_CHECK_FIX_ERRORS, &res, NULL, NULL);
    assert_int_equal(r, -EIO);
    assert_true(res.check_errors >= 1);
    assert_true(peek_be(p, 72, 8) & 2);   /* corrupt bit */
}

static void
test_dirty_repaired_on_open(void **state)
{
    (void)state;
    const char *p = make_image("lazy_refcounts=on");
    add_leak(p);
    poke_be(p, 72, 8, peek_be(p, 72, 8) | 1);
    vdisk_open_opts ro = { .format = VDISK_FORMAT_QCOW2, .flags = 0 };
    vdisk_open_opts rw = { .format = VDISK_FORMAT_QCOW2, .flags = VDISK_OPEN_RDWR };
    vdisk_image *img;
    vdisk_error err;
    assert_int_equal(vdisk_open(p, &ro, &img, &err), 0);   /* read-only: as it is */
    vdisk_close(img, &err);
    assert_true(peek_be(p, 72, 8) & 1);
    assert_int_equal(vdisk_open(p, &rw, &img, &err), 0);
    assert_false(peek_be(p, 72, 8) & 1);
    vdisk_close(img, &err);
    assert_clean_and_intact(p);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_fix_leaks, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_rebuild, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_fix_copied_flag, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_overlap_guard_marks_corrupt, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_dirty_repaired_on_open, unit_setup, unit_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
