/* Unit tests for core/qcow2/check.c: the reference
 * counting walk on images libvdisk writes, then damaged byte by byte; the
 * counts are worked out from the writes made, not from the code. */
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

struct lines {
    int n;
    char last[512];
    int leaked, overlap;
};

static void
collect(void *opaque, const char *line)
{
    struct lines *l = opaque;
    l->n++;
    snprintf(l->last, sizeof(l->last), "%s", line);
    if (strncmp(line, "Leaked cluster", 14) == 0)
        l->leaked++;
    if (strstr(line, "overlaps"))
        l->overlap++;
}

/* An image with guest clusters 10 and 0..3 written, closed. */
static const char *
make_image(void)
{
    const char *p = unit_path(0, "c.qcow2");
    vdisk_image *img = unit_make_qcow2(p, NULL, 64 * MiB, VDISK_OPEN_RDWR);
    uint8_t *b = malloc(4 * CL);
    unit_fill(b, 4 * CL, 7);
    vdisk_error err;
    /* Cluster 10 first: on the host it comes before clusters 0..3. */
    assert_int_equal(vdisk_pwrite(img, b, CL, 10 * CL, &err), 0);
    assert_int_equal(vdisk_pwrite(img, b, 4 * CL, 0, &err), 0);
    assert_int_equal(vdisk_close(img, &err), 0);
    free(b);
    return p;
}

static void
test_clean_counts(void **state)
{
    (void)state;
    const char *p = make_image();
    vdisk_check_result res;
    struct lines l = { 0 };
    assert_int_equal(poke_check(p, 0, &res, collect, &l), 0);
    assert_int_equal(l.n, 0);
    assert_int_equal(res.corruptions + res.leaks + res.check_errors, 0);
    assert_int_equal(res.total_clusters, 64 * MiB / CL);
    assert_int_equal(res.allocated_clusters, 5);
    assert_int_equal(res.compressed_clusters, 0);
    /* In L2 order, cluster 10's host cluster does not follow cluster 3's. */
    assert_int_equal(res.fragmented_clusters, 1);
    assert_int_equal(res.image_end_offset % CL, 0);
}

static void
test_leak_and_refcount_too_low(void **state)
{
    (void)state;
    const char *p = make_image();
    uint64_t d1 = poke_data_offset(p, 1);
    /* d1: refcount 3 for one reference (a leak); d2 (guest cluster 2):
     * referenced again through guest cluster 5, refcount still 1. */
    poke_refcount(p, d1, 3);
    uint64_t l2 = peek_be(p, (long)peek_be(p, 40, 8), 8) & POKE_OFFSET_MASK;
    poke_be(p, (long)(l2 + 8 * 5), 8, peek_be(p, (long)(l2 + 8 * 2), 8));
    vdisk_check_result res;
    struct lines l = { 0 };
    assert_int_equal(poke_check(p, 0, &res, collect, &l), 0);
    assert_int_equal(res.leaks, 1);
    assert_int_equal(l.leaked, 1);
    /* d2: refcount 1 < 2 references; d1 and d2: OFLAG_COPIED contradicts
     * refcounts 3 and 1-with-two-users (the flag is right for d2's
     * refcount 1), so corruptions = 1 (d2) + 1 (d1 flag). */
    assert_int_equal(res.corruptions, 2);
    assert_int_equal(res.allocated_clusters, 6);
}

static void
test_data_past_eof_and_unaligned(void **state)
{
    (void)state;
    const char *p = make_image();
    uint64_t l2 = peek_be(p, (long)peek_be(p, 40, 8), 8) & POKE_OFFSET_MASK;
    poke_be(p, (long)(l2 + 8 * 20), 8, (UINT64_C(1) << 63) | (UINT64_C(1) << 40));
    poke_be(p, (long)(l2 + 8 * 3), 8, peek_be(p, (long)(l2 + 8 * 3), 8) + 512);
    vdisk_check_result res;
    struct lines l = { 0 };
    assert_int_equal(poke_check(p, 0, &res, collect, &l), 0);
    /* past EOF: 1; unaligned: 1, and its cluster then has refcount 1 but no
     * reference (a leak) while the unaligned one counts for the same
     * cluster: no change there. */
    assert_true(res.corruptions >= 2);
}

static void
test_overlap_reported(void **state)
{
    (void)state;
    const char *p = make_image();
    /* The first L2 table entry of guest cluster 4 points at the refcount
     * block: a data cluster over metadata. */
    uint64_t l2 = peek_be(p, (long)peek_be(p, 40, 8), 8) & POKE_OFFSET_MASK;
    poke_be(p, (long)(l2 + 8 * 4), 8, poke_refblock0(p) | (UINT64_C(1) << 63));
    vdisk_check_result res;
    struct lines l = { 0 };
    assert_int_equal(poke_check(p, 0, &res, collect, &l), 0);
    assert_int_equal(l.overlap, 1);
    assert_true(res.corruptions >= 1);
}

static int
cancel_at_first(void *opaque, uint64_t done, uint64_t total)
{
    (void)opaque;
    (void)total;
    return done >= 1;
}

static void
test_progress_cancels(void **state)
{
    (void)state;
    const char *p = make_image();
    vdisk_open_opts o = { .format = VDISK_FORMAT_QCOW2, .flags = VDISK_OPEN_CHECK };
    vdisk_image *img;
    vdisk_error err;
    vdisk_check_result res;
    assert_int_equal(vdisk_open(p, &o, &img, &err), 0);
    assert_int_equal(vdisk_check(img, 0, &res, NULL, cancel_at_first, NULL, &err), -ECANCELED);
    vdisk_close(img, &err);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_clean_counts, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_leak_and_refcount_too_low, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_data_past_eof_and_unaligned, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_overlap_reported, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_progress_cancels, unit_setup, unit_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
