/* Unit tests for core/qcow2/zero.c: zero clusters (v3 flag, v2
 * deallocation), unmapping, subcluster zero bits, discard over a backing
 * file, unaligned edges. */
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
#include "qcow2/qcow2.h"

static uint64_t
l2_entry(vdisk_image *img, uint64_t gc, uint64_t *bitmap)
{
    qcow2_state *s = img->priv;
    uint64_t e, b;
    vdisk_error err;
    pthread_mutex_lock(&s->lock);
    assert_int_equal(qcow2_l2_lookup(s, gc, &e, &b, &err), 0);
    pthread_mutex_unlock(&s->lock);
    if (bitmap)
        *bitmap = b;
    return e;
}

static void
assert_zero(vdisk_image *img, uint64_t off, uint64_t len)
{
    uint8_t *b = malloc(len);
    vdisk_error err;
    assert_int_equal(vdisk_pread(img, b, len, off, &err), 0);
    for (uint64_t i = 0; i < len; i++)
        if (b[i])
            fail_msg("byte %llu at 0x%llx is 0x%02x", (unsigned long long)i,
                     (unsigned long long)(off + i), b[i]);
    free(b);
}

static vdisk_image *
written(const char *path, const char *opts)
{
    vdisk_image *img = unit_make_qcow2(path, opts, 4 << 20, VDISK_OPEN_RDWR);
    uint8_t *b = malloc(1 << 20);
    vdisk_error err;
    unit_fill(b, 1 << 20, 9);
    assert_int_equal(vdisk_pwrite(img, b, 1 << 20, 0, &err), 0);
    free(b);
    return img;
}

static void
test_v3_zero_keeps_allocation(void **state)
{
    char path[512];
    unit_tmpname(path, sizeof(path), "v3.qcow2");
    vdisk_image *img = written(path, NULL);
    vdisk_error err;
    uint64_t before = l2_entry(img, 1, NULL);
    assert_int_equal(vdisk_write_zeroes(img, 65536, 65536, 0, &err), 0);
    uint64_t after = l2_entry(img, 1, NULL);
    assert_true(after & QCOW_OFLAG_ZERO);
    assert_true((after & L2E_OFFSET_MASK) == (before & L2E_OFFSET_MASK));
    assert_zero(img, 65536, 65536);
    vdisk_extent e;
    assert_int_equal(vdisk_block_status(img, 65536, 65536, &e, &err), 0);
    assert_int_equal(e.flags & (VDISK_EXTENT_ZERO | VDISK_EXTENT_ALLOCATED),
                     VDISK_EXTENT_ZERO | VDISK_EXTENT_ALLOCATED);
    /* With unmap the host cluster is released. */
    assert_int_equal(vdisk_write_zeroes(img, 65536, 2 * 65536, VDISK_ZERO_MAY_UNMAP, &err), 0);
    uint64_t e2 = l2_entry(img, 2, NULL);
    assert_true(e2 == QCOW_OFLAG_ZERO);
    qcow2_state *s = img->priv;
    uint64_t rc;
    pthread_mutex_lock(&s->lock);
    assert_int_equal(qcow2_refcount_get(s, (before >> 16) + 1, &rc, &err), 0);
    pthread_mutex_unlock(&s->lock);
    assert_int_equal(rc, 0);
    assert_zero(img, 0x20000, 65536);
    vdisk_close(img, &err);
    unlink(path);
}

static void
test_v2_deallocates_without_backing(void **state)
{
    char path[512];
    unit_tmpname(path, sizeof(path), "v2.qcow2");
    vdisk_image *img = written(path, "compat=0.10");
    vdisk_error err;
    assert_int_equal(vdisk_write_zeroes(img, 3 * 65536, 65536, VDISK_ZERO_MAY_UNMAP, &err), 0);
    assert_true(l2_entry(img, 1, NULL) == 0);
    assert_true(l2_entry(img, 3, NULL) == 0);
    assert_zero(img, 65536, 3 * 65536);
    /* Without unmap the cluster stays, its data zeroed. */
    uint64_t keep = l2_entry(img, 5, NULL);
    assert_int_equal(vdisk_write_zeroes(img, 65536, 5 * 65536, 0, &err), 0);
    assert_true(l2_entry(img, 5, NULL) == keep);
    assert_zero(img, 5 * 65536, 65536);
    vdisk_close(img, &err);
    unlink(path);
}

static void
test_unaligned_edges_are_written(void **state)
{
    char path[512];
    unit_tmpname(path, sizeof(path), "edge.qcow2");
    vdisk_image *img = written(path, NULL);
    vdisk_error err;
    uint8_t *before = malloc(1 << 20), *after = malloc(1 << 20);
    assert_int_equal(vdisk_pread(img, before, 1 << 20, 0, &err), 0);
    assert_int_equal(vdisk_write_zeroes(img, 200000, 1000, 0, &err), 0);
    assert_int_equal(vdisk_pread(img, after, 1 << 20, 0, &err), 0);
    memset(before + 1000, 0, 200000);
    assert_memory_equal(before, after, 1 << 20);
    free(before);
    free(after);
    vdisk_close(img, &err);
    unlink(path);
}

static void
test_subcluster_zero_bits(void **state)
{
    char path[512];
    unit_tmpname(path, sizeof(path), "ext.qcow2");
    vdisk_image *img = written(path, "extended_l2=on");
    vdisk_error err;
    /* 64 KiB clusters: 2 KiB subclusters.  Zero subclusters 3..5 of cluster 0. */
    assert_int_equal(vdisk_write_zeroes(img, 3 * 2048, 3 * 2048, 0, &err), 0);
    uint64_t bm;
    l2_entry(img, 0, &bm);
    assert_true(bm == ((UINT64_C(0xffffffff) & ~UINT64_C(0x38)) | (UINT64_C(0x38) << 32)));
    assert_zero(img, 3 * 2048, 3 * 2048);
    vdisk_close(img, &err);
    unlink(path);
}

static void
test_discard_hides_backing(void **state)
{
    char base[512], top[512];
    unit_tmpname(base, sizeof(base), "base.qcow2");
    unit_tmpname(top, sizeof(top), "top.qcow2");
    vdisk_image *b = written(base, NULL);
    vdisk_error err;
    vdisk_close(b, &err);
    char opts[1100];
    snprintf(opts, sizeof(opts), "backing_file=%s,backing_fmt=qcow2", base);
    vdisk_image *t = unit_make_qcow2(top, opts, 0, VDISK_OPEN_RDWR);
    assert_int_equal(vdisk_discard(t, 300000, 10000, &err), 0);
    assert_zero(t, 10000, 300000);
    /* Whole clusters became zero clusters, not unallocated ones. */
    assert_true(l2_entry(t, 1, NULL) == QCOW_OFLAG_ZERO);
    vdisk_close(t, &err);
    unlink(top);
    unlink(base);
}

static void
test_discard_without_backing_unallocates(void **state)
{
    char path[512];
    unit_tmpname(path, sizeof(path), "disc.qcow2");
    vdisk_image *img = written(path, NULL);
    vdisk_error err;
    assert_int_equal(vdisk_discard(img, 1 << 20, 0, &err), 0);
    for (uint64_t c = 0; c < 16; c++)
        assert_true(l2_entry(img, c, NULL) == 0);
    assert_zero(img, 0, 1 << 20);
    vdisk_close(img, &err);
    unlink(path);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_v3_zero_keeps_allocation),
        cmocka_unit_test(test_v2_deallocates_without_backing),
        cmocka_unit_test(test_unaligned_edges_are_written),
        cmocka_unit_test(test_subcluster_zero_bits),
        cmocka_unit_test(test_discard_hides_backing),
        cmocka_unit_test(test_discard_without_backing_unallocates),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
