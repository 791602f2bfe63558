/* Unit tests for core/qcow2/provision-plan.c: what inflate, eagerzero and
 * sparsify plan for each kind of L2 entry (the entry types of the qcow2
 * specification, standard and extended), from first principles: never give
 * space to what reads the backing file, never touch what a snapshot shares,
 * never change what a cluster reads. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "fixture.h"

#include <vdisk/vdisk.h>
#include "qcow2/provision.h"

#define CS (UINT64_C(1) << 16)
#define HOST UINT64_C(0x50000)

static qcow2_state
state(int version, bool ext_l2)
{
    qcow2_state s;
    memset(&s, 0, sizeof(s));
    s.version = version;
    s.cluster_bits = 16;
    s.cluster_size = CS;
    s.ext_l2 = ext_l2;
    s.sc_bits = ext_l2 ? 11 : 16;
    s.sc_size = UINT64_C(1) << s.sc_bits;
    return s;
}

static struct qcow2_prov_cluster
cluster(uint64_t entry, uint64_t bitmap, bool backed)
{
    struct qcow2_prov_cluster c = { .entry = entry, .bitmap = bitmap, .backed = backed, .bytes = CS };
    return c;
}

static void
test_inflate_standard(void **state_)
{
    qcow2_state s = state(3, false);
    struct qcow2_prov_plan p;
    /* Unallocated, nothing behind it: a new cluster. */
    struct qcow2_prov_cluster c = cluster(0, 0, false);
    qcow2_plan_inflate(&s, &c, false, true, &p);
    assert_int_equal(p.act, QCOW2_PROV_NEW);
    assert_int_equal(p.bitmap, 0);
    /* ... but with a backing file behind it: left, counted. */
    c = cluster(0, 0, true);
    qcow2_plan_inflate(&s, &c, false, true, &p);
    assert_int_equal(p.act, QCOW2_PROV_KEEP);
    assert_int_equal(p.backing, CS);
    /* A zero cluster hides the backing file: it reads zeros, new space is fine. */
    c = cluster(QCOW_OFLAG_ZERO, 0, true);
    qcow2_plan_inflate(&s, &c, false, true, &p);
    assert_int_equal(p.act, QCOW2_PROV_NEW);
    /* Our data: reserved (lazy), holes filled (eager), entry unchanged. */
    c = cluster(HOST | QCOW_OFLAG_COPIED, 0, false);
    qcow2_plan_inflate(&s, &c, false, true, &p);
    assert_int_equal(p.act, QCOW2_PROV_KEEP);
    assert_true(p.reserve);
    qcow2_plan_inflate(&s, &c, true, true, &p);
    assert_int_equal(p.act, QCOW2_PROV_KEEP);
    assert_int_equal(p.fill, 1);
    assert_int_equal(p.zero, 0);
    /* Shared with a snapshot (no COPIED): left. */
    c = cluster(HOST, 0, false);
    qcow2_plan_inflate(&s, &c, true, true, &p);
    assert_int_equal(p.act, QCOW2_PROV_KEEP);
    assert_int_equal(p.shared, CS);
    /* Compressed: left. */
    c = cluster(QCOW_OFLAG_COMPRESSED | 0x12345, 0, false);
    qcow2_plan_inflate(&s, &c, true, true, &p);
    assert_int_equal(p.act, QCOW2_PROV_KEEP);
    assert_int_equal(p.compressed, CS);
}

static void
test_inflate_zero_alloc(void **state_)
{
    qcow2_state s = state(3, false);
    struct qcow2_prov_plan p;
    struct qcow2_prov_cluster c = cluster(HOST | QCOW_OFLAG_COPIED | QCOW_OFLAG_ZERO, 0, true);
    /* Lazy: its host cluster is made to read zeros (unwritten), then the
     * flag goes: a data cluster over reserved space, as falloc makes. */
    qcow2_plan_inflate(&s, &c, false, true, &p);
    assert_int_equal(p.act, QCOW2_PROV_SET);
    assert_int_equal(p.zero, 1);
    assert_int_equal(p.entry, HOST | QCOW_OFLAG_COPIED);
    assert_true(p.reserve);
    /* Eager: zeros written into it, then the flag goes (same host cluster). */
    qcow2_plan_inflate(&s, &c, true, true, &p);
    assert_int_equal(p.act, QCOW2_PROV_SET);
    assert_int_equal(p.zero, 1);
    assert_int_equal(p.entry, HOST | QCOW_OFLAG_COPIED);
    assert_false(p.free_old);
}

static void
test_eagerzero_leaves_thin(void **state_)
{
    qcow2_state s = state(3, false);
    struct qcow2_prov_plan p;
    struct qcow2_prov_cluster c = cluster(0, 0, false);
    qcow2_plan_inflate(&s, &c, true, false, &p);
    assert_int_equal(p.act, QCOW2_PROV_KEEP);
    assert_int_equal(p.thin, CS);
    c = cluster(QCOW_OFLAG_ZERO, 0, false);
    qcow2_plan_inflate(&s, &c, true, false, &p);
    assert_int_equal(p.thin, CS);
}

static void
test_inflate_extended(void **state_)
{
    qcow2_state s = state(3, true);
    struct qcow2_prov_plan p;
    /* Subcluster 0 data, 1 zero with the host cluster, 2.. unallocated. */
    uint64_t bm = UINT64_C(1) | (UINT64_C(1) << 33);
    struct qcow2_prov_cluster c = cluster(HOST | QCOW_OFLAG_COPIED, bm, false);
    qcow2_plan_inflate(&s, &c, true, true, &p);
    assert_int_equal(p.act, QCOW2_PROV_SET);
    assert_int_equal(p.fill, 1);
    assert_int_equal(p.zero, UINT32_MAX & ~UINT32_C(1));
    assert_int_equal(p.bitmap, UINT32_MAX);           /* all allocated, no zero bits */
    qcow2_plan_inflate(&s, &c, false, true, &p);       /* lazy: the same, no fill */
    assert_int_equal(p.fill, 0);
    assert_int_equal(p.zero, UINT32_MAX & ~UINT32_C(1));
    assert_int_equal(p.bitmap, UINT32_MAX);
    /* With a backing file, unallocated subclusters keep reading it. */
    c = cluster(HOST | QCOW_OFLAG_COPIED, bm, true);
    qcow2_plan_inflate(&s, &c, true, true, &p);
    assert_int_equal(p.zero, 2);
    assert_int_equal(p.bitmap, 3);
    assert_int_equal(p.backing, 30 * s.sc_size);
    /* No host cluster, zero bits everywhere: new, all allocated. */
    c = cluster(0, (uint64_t)UINT32_MAX << 32, true);
    qcow2_plan_inflate(&s, &c, false, true, &p);
    assert_int_equal(p.act, QCOW2_PROV_NEW);
    assert_int_equal(p.bitmap, UINT32_MAX);
    /* No host cluster, one subcluster reading the backing file: left. */
    c = cluster(0, (uint64_t)(UINT32_MAX - 1) << 32, true);
    qcow2_plan_inflate(&s, &c, false, true, &p);
    assert_int_equal(p.act, QCOW2_PROV_KEEP);
    assert_int_equal(p.backing, CS);
}

static void
test_sparsify_standard(void **state_)
{
    qcow2_state s = state(3, false);
    struct qcow2_prov_plan p;
    bool comp;
    struct qcow2_prov_cluster c = cluster(HOST | QCOW_OFLAG_COPIED, 0, false);
    assert_int_equal(qcow2_plan_data_mask(&s, &c, &comp), 1);
    assert_false(comp);
    /* Data that is not zeros stays. */
    qcow2_plan_sparsify(&s, &c, 0, &p);
    assert_int_equal(p.act, QCOW2_PROV_KEEP);
    /* Zeros: unallocated, the host cluster released. */
    qcow2_plan_sparsify(&s, &c, 1, &p);
    assert_int_equal(p.act, QCOW2_PROV_SET);
    assert_int_equal(p.entry, 0);
    assert_true(p.free_old);
    /* Over a backing file: a zero cluster, so the backing data stays hidden. */
    c = cluster(HOST | QCOW_OFLAG_COPIED, 0, true);
    qcow2_plan_sparsify(&s, &c, 1, &p);
    assert_int_equal(p.act, QCOW2_PROV_SET);
    assert_int_equal(p.entry, QCOW_OFLAG_ZERO);
    /* A zero cluster with its host cluster goes without looking at data. */
    c = cluster(HOST | QCOW_OFLAG_COPIED | QCOW_OFLAG_ZERO, 0, false);
    assert_int_equal(qcow2_plan_data_mask(&s, &c, &comp), 0);
    qcow2_plan_sparsify(&s, &c, 0, &p);
    assert_int_equal(p.act, QCOW2_PROV_SET);
    assert_int_equal(p.entry, 0);
    /* Shared with a snapshot: left and counted. */
    c = cluster(HOST, 0, false);
    assert_int_equal(qcow2_plan_data_mask(&s, &c, &comp), 0);
    qcow2_plan_sparsify(&s, &c, 1, &p);
    assert_int_equal(p.act, QCOW2_PROV_KEEP);
    assert_int_equal(p.shared, CS);
    /* Nothing to give back. */
    c = cluster(QCOW_OFLAG_ZERO, 0, true);
    qcow2_plan_sparsify(&s, &c, 0, &p);
    assert_int_equal(p.act, QCOW2_PROV_KEEP);
    /* Compressed zeros go. */
    c = cluster(QCOW_OFLAG_COMPRESSED | 0x12345, 0, false);
    assert_int_equal(qcow2_plan_data_mask(&s, &c, &comp), 1);
    assert_true(comp);
    qcow2_plan_sparsify(&s, &c, 1, &p);
    assert_int_equal(p.act, QCOW2_PROV_SET);
    assert_true(p.free_old);
}

static void
test_sparsify_v2_backed_kept(void **state_)
{
    /* Version 2 has no zero flag: a cluster over a backing file cannot
     * become "zeros" without data, so it stays. */
    qcow2_state s = state(2, false);
    struct qcow2_prov_plan p;
    struct qcow2_prov_cluster c = cluster(HOST | QCOW_OFLAG_COPIED, 0, true);
    qcow2_plan_sparsify(&s, &c, 1, &p);
    assert_int_equal(p.act, QCOW2_PROV_KEEP);
    c.backed = false;
    qcow2_plan_sparsify(&s, &c, 1, &p);
    assert_int_equal(p.act, QCOW2_PROV_SET);
    assert_int_equal(p.entry, 0);
}

static void
test_sparsify_extended(void **state_)
{
    qcow2_state s = state(3, true);
    struct qcow2_prov_plan p;
    /* Subclusters 0, 1 data; 2 zero; the rest unallocated. */
    uint64_t bm = UINT64_C(3) | (UINT64_C(1) << 34);
    struct qcow2_prov_cluster c = cluster(HOST | QCOW_OFLAG_COPIED, bm, true);
    bool comp;
    assert_int_equal(qcow2_plan_data_mask(&s, &c, &comp), 3);
    qcow2_plan_sparsify(&s, &c, 1, &p);      /* subcluster 1 holds data */
    assert_int_equal(p.act, QCOW2_PROV_KEEP);
    qcow2_plan_sparsify(&s, &c, 3, &p);
    assert_int_equal(p.act, QCOW2_PROV_SET);
    assert_int_equal(p.entry, 0);
    /* What read zeros (0..2) reads zeros by flag; the rest still reads
     * the backing file. */
    assert_int_equal(p.bitmap, UINT64_C(7) << 32);
    c.backed = false;
    qcow2_plan_sparsify(&s, &c, 3, &p);
    assert_int_equal(p.bitmap, 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_inflate_standard),
        cmocka_unit_test(test_inflate_zero_alloc),
        cmocka_unit_test(test_eagerzero_leaves_thin),
        cmocka_unit_test(test_inflate_extended),
        cmocka_unit_test(test_sparsify_standard),
        cmocka_unit_test(test_sparsify_v2_backed_kept),
        cmocka_unit_test(test_sparsify_extended),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
