/* Unit tests for core/qcow2/inflate.c (and the walk of provision.c):
 * inflate and eagerzero judged by the L2 entries they leave (the
 * specification's types), qemu-img's consistency rules (vdisk_check), the
 * host file's layout, and the guest bytes read back unchanged. */
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
#include "fiemap.h"
#include "qcow2/qcow2.h"
#include "qcow2-provision-fixture.h"

#define SIZE (4 * MiB)


/* Data at 1M (64K), zero clusters at 2M (64K, written as zeros without unmap). */
static vdisk_image *
make(const char *opts)
{
    vdisk_image *img = unit_make_qcow2(unit_path(0, "t.qcow2"), opts, SIZE, VDISK_OPEN_RDWR);
    uint8_t b[64 * KiB];
    unit_pattern(b, sizeof(b), 5);
    assert_int_equal(vdisk_pwrite(img, b, sizeof(b), MiB, NULL), 0);
    assert_int_equal(vdisk_pwrite(img, b, sizeof(b), 2 * MiB, NULL), 0);
    assert_int_equal(vdisk_write_zeroes(img, sizeof(b), 2 * MiB, 0, NULL), 0);
    return img;
}

static void
test_inflate_lazy(void **state)
{
    vdisk_image *img = make(NULL);
    uint8_t *before = contents(img);
    assert_int_equal(type_at(img, 0), QCOW2_SC_UNALLOCATED);
    assert_int_equal(type_at(img, 2 * MiB), QCOW2_SC_ZERO_ALLOC);
    vdisk_provision_result dry, res;
    vdisk_error err;
    assert_int_equal(vdisk_inflate(img, VDISK_PROVISION_DRY_RUN, NULL, NULL, &dry, &err), 0);
    assert_int_equal(type_at(img, 0), QCOW2_SC_UNALLOCATED);
    assert_int_equal(vdisk_inflate(img, 0, NULL, NULL, &res, &err), 0);
    /* Every cluster is data now, the zero cluster too (its host cluster
     * zeroed first). */
    for (uint64_t off = 0; off < SIZE; off += 64 * KiB)
        assert_int_equal(type_at(img, off), QCOW2_SC_NORMAL);
    assert_int_equal(res.changed, SIZE - 64 * KiB);
    assert_int_equal(dry.changed, res.changed);
    assert_true(res.host_after >= SIZE);
    /* The estimate is the clusters; the file system may add a block of its own. */
    assert_true(dry.host_after + 64 * KiB >= res.host_after);
    assert_same(img, before);
    unit_assert_clean(img);
    /* Again: nothing left to do. */
    assert_int_equal(vdisk_inflate(img, 0, NULL, NULL, &res, &err), 0);
    assert_int_equal(res.changed, 0);
    free(before);
    vdisk_close(img, NULL);
}

static void
test_eagerzero_after_lazy(void **state)
{
    vdisk_image *img = make(NULL);
    uint8_t *before = contents(img);
    vdisk_provision_result res;
    assert_int_equal(vdisk_inflate(img, 0, NULL, NULL, NULL, NULL), 0);
    assert_int_equal(vdisk_eagerzero(img, 0, NULL, NULL, &res, NULL), 0);
    assert_int_equal(type_at(img, 2 * MiB), QCOW2_SC_NORMAL);
    assert_int_equal(res.zeroed, SIZE - 64 * KiB);
    /* Every data cluster's host range is written: no hole, no reservation. */
    qcow2_state *s = img->priv;
    uint64_t flen, data = 0;
    assert_int_equal(vdisk_file_get_length(s->file, &flen, NULL), 0);
    for (uint64_t pos = 0, end; pos < flen; pos = end) {
        vdisk_host_kind k;
        assert_int_equal(vdisk_host_extent(s->file, pos, flen, &k, &end, NULL), 0);
        if (k == VDISK_HOST_DATA)
            data += end - pos;
    }
    assert_true(data >= SIZE);
    assert_same(img, before);
    unit_assert_clean(img);
    free(before);
    vdisk_close(img, NULL);
}

static void
test_eagerzero_leaves_thin(void **state)
{
    vdisk_image *img = make(NULL);
    vdisk_provision_result res;
    assert_int_equal(vdisk_eagerzero(img, 0, NULL, NULL, &res, NULL), 0);
    assert_int_equal(type_at(img, 0), QCOW2_SC_UNALLOCATED);
    assert_int_equal(type_at(img, 2 * MiB), QCOW2_SC_NORMAL);
    assert_int_equal(res.thin, SIZE - 128 * KiB);
    unit_assert_clean(img);
    vdisk_close(img, NULL);
}

static void
test_formats(void **state)
{
    /* Version 2, extended L2, tiny clusters (many L2 tables and batches). */
    static const char *const opts[] = {
        "compat=0.10", "extended_l2=on,cluster_size=128k", "cluster_size=512", "refcount_bits=1",
    };
    for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++) {
        vdisk_image *img = make(opts[i]);
        uint8_t *before = contents(img);
        assert_int_equal(vdisk_inflate(img, VDISK_INFLATE_EAGER, NULL, NULL, NULL, NULL), 0);
        assert_same(img, before);
        unit_assert_clean(img);
        assert_int_equal(type_at(img, 3 * MiB), QCOW2_SC_NORMAL);
        free(before);
        vdisk_close(img, NULL);
        unlink(unit_path(0, "t.qcow2"));
    }
}

static void
test_overlay_leaves_backing(void **state)
{
    vdisk_image *base = unit_make_qcow2(unit_path(1, "base.qcow2"), NULL, 2 * MiB, VDISK_OPEN_RDWR);
    uint8_t b[64 * KiB];
    unit_pattern(b, sizeof(b), 7);
    assert_int_equal(vdisk_pwrite(base, b, sizeof(b), 0, NULL), 0);
    vdisk_close(base, NULL);
    char opts[700];
    snprintf(opts, sizeof(opts), "backing_file=%s,backing_fmt=qcow2", unit_path(1, "base.qcow2"));
    vdisk_image *img = unit_make_qcow2(unit_path(0, "ov.qcow2"), opts, SIZE, VDISK_OPEN_RDWR);
    uint8_t *before = contents(img);
    vdisk_provision_result res;
    assert_int_equal(vdisk_inflate(img, 0, NULL, NULL, &res, NULL), 0);
    /* The backing file's 2 MiB keep reading through; the rest is ours. */
    assert_int_equal(type_at(img, 0), QCOW2_SC_UNALLOCATED);
    assert_int_equal(type_at(img, 2 * MiB - 64 * KiB), QCOW2_SC_UNALLOCATED);
    assert_int_equal(type_at(img, 2 * MiB), QCOW2_SC_NORMAL);
    assert_int_equal(res.from_backing, 2 * MiB);
    assert_same(img, before);
    unit_assert_clean(img);
    free(before);
    vdisk_close(img, NULL);
    /* Without its backing file open, it cannot tell: refused. */
    vdisk_open_opts oo = { .format = VDISK_FORMAT_QCOW2, .flags = VDISK_OPEN_RDWR | VDISK_OPEN_NO_BACKING };
    vdisk_error err;
    assert_int_equal(vdisk_open(unit_path(0, "ov.qcow2"), &oo, &img, &err), 0);
    assert_int_equal(vdisk_inflate(img, 0, NULL, NULL, &res, &err), -EINVAL);
    assert_non_null(strstr(err.message, "backing file"));
    vdisk_close(img, NULL);
}

static void
test_snapshot_shared_left(void **state)
{
    vdisk_image *img = make(NULL);
    vdisk_error err;
    assert_int_equal(vdisk_snapshot_create(img, "s1", &err), 0);
    uint8_t *before = contents(img);
    vdisk_provision_result res;
    assert_int_equal(vdisk_inflate(img, VDISK_INFLATE_EAGER, NULL, NULL, &res, &err), 0);
    assert_int_equal(res.shared, 128 * KiB);    /* the data and the zero cluster */
    assert_same(img, before);
    unit_assert_clean(img);
    vdisk_close(img, NULL);
    /* The snapshot still reads what it read. */
    vdisk_open_opts oo = { .format = VDISK_FORMAT_QCOW2, .snapshot = "s1" };
    assert_int_equal(vdisk_open(unit_path(0, "t.qcow2"), &oo, &img, &err), 0);
    assert_same(img, before);
    free(before);
    vdisk_close(img, NULL);
}

static int
cancel_after_two(void *opaque, uint64_t done, uint64_t total)
{
    (void)done;
    (void)total;
    return ++*(int *)opaque >= 2;
}

static void
test_cancel_keeps_consistent(void **state)
{
    /* 512-byte clusters: 64 entries per L2 table, so many batches. */
    vdisk_image *img = make("cluster_size=512");
    uint8_t *before = contents(img);
    int calls = 0;
    assert_int_equal(vdisk_inflate(img, 0, cancel_after_two, &calls, NULL, NULL), -ECANCELED);
    assert_int_equal(type_at(img, 0), QCOW2_SC_NORMAL);          /* the first batches done */
    assert_int_equal(type_at(img, SIZE - 512), QCOW2_SC_UNALLOCATED);
    assert_same(img, before);
    unit_assert_clean(img);
    assert_int_equal(vdisk_inflate(img, 0, NULL, NULL, NULL, NULL), 0);
    assert_int_equal(type_at(img, SIZE - 512), QCOW2_SC_NORMAL);
    unit_assert_clean(img);
    free(before);
    vdisk_close(img, NULL);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_inflate_lazy, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_eagerzero_after_lazy, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_eagerzero_leaves_thin, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_formats, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_overlay_leaves_backing, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_snapshot_shared_left, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_cancel_keeps_consistent, unit_setup, unit_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
