/* Unit tests for core/qcow2/refcount.c: entry packing at every width,
 * QEMU's refcount metadata fixed point, and cluster allocation including
 * refcount-table growth. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "fixture.h"

#include <vdisk/vdisk.h>
#include "qcow2/qcow2.h"

/* The spec packs sub-byte refcounts least significant bits first. */
static void
test_subbyte_layout(void **state)
{
    uint8_t rb[4] = { 0 };
    qcow2_refcount_write_entry(rb, 1, 0, 1);
    assert_int_equal(rb[0], 0x02);
    qcow2_refcount_write_entry(rb, 1, 1, 3);
    assert_int_equal(rb[0], 0x0e);   /* entry 1 of 2-bit = bits 2..3 */
    memset(rb, 0, sizeof(rb));
    qcow2_refcount_write_entry(rb, 3, 2, 0xa);
    assert_int_equal(rb[1], 0xa0);
}

static void
test_wide_layout_big_endian(void **state)
{
    uint8_t rb[32] = { 0 };
    qcow2_refcount_write_entry(rb, 1, 4, 0x1234);
    assert_int_equal(rb[2], 0x12);
    assert_int_equal(rb[3], 0x34);
    qcow2_refcount_write_entry(rb, 1, 5, 0x01020304);
    assert_memory_equal(rb + 4, "\x01\x02\x03\x04", 4);
    qcow2_refcount_write_entry(rb, 2, 6, UINT64_C(0x0102030405060708));
    assert_memory_equal(rb + 16, "\x01\x02\x03\x04\x05\x06\x07\x08", 8);
}

static void
test_roundtrip_all_widths(void **state)
{
    for (uint32_t order = 0; order <= 6; order++) {
        uint8_t rb[512];
        memset(rb, 0, sizeof(rb));
        uint64_t max = order == 6 ? UINT64_MAX : (UINT64_C(1) << (1u << order)) - 1;
        uint64_t n = 512 * 8 >> order;
        for (uint64_t i = 0; i < n; i++)
            qcow2_refcount_write_entry(rb, i, order, (i * 7 + 3) & max);
        for (uint64_t i = 0; i < n; i++)
            assert_true(qcow2_refcount_read_entry(rb, i, order) == ((i * 7 + 3) & max));
        /* Rewriting one entry leaves its neighbours alone. */
        qcow2_refcount_write_entry(rb, 5, order, 0);
        assert_true(qcow2_refcount_read_entry(rb, 4, order) == ((4 * 7 + 3) & max));
        assert_true(qcow2_refcount_read_entry(rb, 6, order) == ((6 * 7 + 3) & max));
    }
}

/* Hand-computed: 16384 clusters of 64 KiB with 16-bit refcounts need one
 * refblock (32768 entries) and one table cluster. */
static void
test_metadata_size_fixed_point(void **state)
{
    uint64_t blocks;
    assert_int_equal(qcow2_refcount_metadata_size(16384, 65536, 4, false, &blocks), 2 * 65536);
    assert_int_equal(blocks, 1);
    /* 512-byte clusters, 64-bit refcounts: 64 per block, 64 per table
     * cluster; 4096 clusters -> 66 blocks (covering themselves and 2 table
     * clusters: ceil(4164/64) = 66) and 2 table clusters. */
    assert_int_equal(qcow2_refcount_metadata_size(4096, 512, 6, false, &blocks), (66 + 2) * 512);
    assert_int_equal(blocks, 66);
}

static void
test_alloc_is_contiguous_and_counted(void **state)
{
    char path[512];
    unit_tmpname(path, sizeof(path), "a.qcow2");
    vdisk_image *img = unit_make_qcow2(path, NULL, 1 << 30, VDISK_OPEN_RDWR);
    qcow2_state *s = img->priv;
    vdisk_error err;
    uint64_t a, b, rc;
    assert_int_equal(qcow2_alloc_clusters(s, 10, &a, &err), 0);
    assert_int_equal(qcow2_alloc_clusters(s, 1, &b, &err), 0);
    assert_true(a % s->cluster_size == 0);
    assert_true(b == a + 10 * s->cluster_size);
    for (uint64_t c = a >> s->cluster_bits; c <= b >> s->cluster_bits; c++) {
        assert_int_equal(qcow2_refcount_get(s, c, &rc, &err), 0);
        assert_int_equal(rc, 1);
    }
    /* Freed clusters are found again first. */
    assert_int_equal(qcow2_refcount_update(s, (a >> s->cluster_bits) + 2, 3, -1, false, &err), 0);
    uint64_t c;
    assert_int_equal(qcow2_alloc_clusters(s, 3, &c, &err), 0);
    assert_true(c == a + 2 * s->cluster_size);
    /* Dropping below zero is refused with a message naming the cluster. */
    assert_int_equal(qcow2_refcount_update(s, 1000000, 1, -1, false, &err), -EINVAL);
    assert_non_null(strstr(err.message, "refcount"));
    vdisk_close(img, &err);
    unlink(path);
}

static void
test_overflow_refused(void **state)
{
    char path[512];
    unit_tmpname(path, sizeof(path), "o.qcow2");
    vdisk_image *img = unit_make_qcow2(path, "refcount_bits=1", 1 << 20, VDISK_OPEN_RDWR);
    qcow2_state *s = img->priv;
    vdisk_error err;
    assert_int_equal(qcow2_refcount_update(s, 0, 1, 1, false, &err), -ERANGE);
    assert_non_null(strstr(err.message, "overflow"));
    vdisk_close(img, &err);
    unlink(path);
}

/* 512-byte clusters with 64-bit refcounts: one refblock covers 64
 * clusters and one table cluster 64 refblocks, so allocating 20000
 * clusters needs new refblocks and a larger table. */
static void
test_reftable_growth(void **state)
{
    char path[512];
    unit_tmpname(path, sizeof(path), "g.qcow2");
    vdisk_image *img = unit_make_qcow2(path, "cluster_size=512,refcount_bits=64", 64 << 20, VDISK_OPEN_RDWR);
    qcow2_state *s = img->priv;
    vdisk_error err;
    uint64_t old_table = s->reftable_offset;
    uint64_t off;
    for (int i = 0; i < 20; i++)
        assert_int_equal(qcow2_alloc_clusters(s, 1000, &off, &err), 0);
    assert_true(s->reftable_offset != old_table);
    assert_true(s->reftable_clusters > 1);
    /* Every refblock and every table cluster is itself refcounted once. */
    uint64_t rc;
    for (uint64_t i = 0; i < s->reftable_entries; i++) {
        if (!s->reftable[i])
            continue;
        assert_int_equal(qcow2_refcount_get(s, s->reftable[i] >> 9, &rc, &err), 0);
        assert_int_equal(rc, 1);
    }
    for (uint32_t i = 0; i < s->reftable_clusters; i++) {
        assert_int_equal(qcow2_refcount_get(s, (s->reftable_offset >> 9) + i, &rc, &err), 0);
        assert_int_equal(rc, 1);
    }
    /* The old table was released. */
    assert_int_equal(qcow2_refcount_get(s, old_table >> 9, &rc, &err), 0);
    assert_int_equal(rc, 0);
    assert_int_equal(vdisk_close(img, &err), 0);
    /* The header on disk points at the new table: it reopens. */
    vdisk_open_opts oo = { .format = VDISK_FORMAT_QCOW2, .flags = 0 };
    assert_int_equal(vdisk_open(path, &oo, &img, &err), 0);
    vdisk_close(img, &err);
    unlink(path);
}

static void
test_alloc_bytes_packs(void **state)
{
    char path[512];
    unit_tmpname(path, sizeof(path), "b.qcow2");
    vdisk_image *img = unit_make_qcow2(path, NULL, 1 << 20, VDISK_OPEN_RDWR);
    qcow2_state *s = img->priv;
    vdisk_error err;
    uint64_t a, b, c, rc;
    assert_int_equal(qcow2_alloc_bytes(s, 1000, &a, &err), 0);
    assert_int_equal(qcow2_alloc_bytes(s, 2000, &b, &err), 0);
    assert_true(b == a + 1000);
    assert_int_equal(qcow2_refcount_get(s, a >> 16, &rc, &err), 0);
    assert_int_equal(rc, 2);
    /* Spilling over the cluster end takes the next cluster as well. */
    assert_int_equal(qcow2_alloc_bytes(s, 65000, &c, &err), 0);
    assert_true(c == b + 2000);
    assert_int_equal(qcow2_refcount_get(s, a >> 16, &rc, &err), 0);
    assert_int_equal(rc, 3);
    assert_int_equal(qcow2_refcount_get(s, (a >> 16) + 1, &rc, &err), 0);
    assert_int_equal(rc, 1);
    vdisk_close(img, &err);
    unlink(path);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_subbyte_layout),
        cmocka_unit_test(test_wide_layout_big_endian),
        cmocka_unit_test(test_roundtrip_all_widths),
        cmocka_unit_test(test_metadata_size_fixed_point),
        cmocka_unit_test(test_alloc_is_contiguous_and_counted),
        cmocka_unit_test(test_overflow_refused),
        cmocka_unit_test(test_reftable_growth),
        cmocka_unit_test(test_alloc_bytes_packs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
