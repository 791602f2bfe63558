/* Unit tests for core/qcow2/sparsify.c: which clusters give their space
 * back (by L2 entry type, host layout and, with zero detection, bytes),
 * what they become (unallocated, or zero over a backing file), the
 * refcounts (vdisk_check) and the guest bytes read back unchanged. */
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
#include "qcow2/qcow2.h"
#include "qcow2-provision-fixture.h"

#define SIZE (4 * MiB)

static uint64_t
blocks(const char *path)
{
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    return (uint64_t)st.st_blocks * 512;
}

/* Data at 1M, zeros written as data at 2M, the rest inflated (lazy). */
static vdisk_image *
make(const char *path, const char *opts)
{
    vdisk_image *img = unit_make_qcow2(path, opts, SIZE, VDISK_OPEN_RDWR);
    uint8_t b[64 * KiB];
    unit_pattern(b, sizeof(b), 9);
    assert_int_equal(vdisk_pwrite(img, b, sizeof(b), MiB, NULL), 0);
    memset(b, 0, sizeof(b));
    assert_int_equal(vdisk_pwrite(img, b, sizeof(b), 2 * MiB, NULL), 0);
    assert_int_equal(vdisk_inflate(img, 0, NULL, NULL, NULL, NULL), 0);
    return img;
}

static void
test_reserved_then_zero_detect(void **state)
{
    const char *path = unit_path(0, "t.qcow2");
    vdisk_image *img = make(path, NULL);
    uint8_t *before = contents(img);
    uint64_t inflated = blocks(path);
    vdisk_provision_result dry, res;
    /* Without detection: the clusters over unwritten extents go. */
    assert_int_equal(vdisk_sparsify(img, VDISK_PROVISION_DRY_RUN, NULL, NULL, &dry, NULL), 0);
    assert_int_equal(vdisk_sparsify(img, 0, NULL, NULL, &res, NULL), 0);
    assert_int_equal(res.changed, SIZE - 128 * KiB);
    assert_int_equal(dry.changed, res.changed);
    assert_int_equal(type_at(img, 0), QCOW2_SC_UNALLOCATED);
    assert_int_equal(type_at(img, MiB), QCOW2_SC_NORMAL);
    assert_int_equal(type_at(img, 2 * MiB), QCOW2_SC_NORMAL);   /* written zeros: data */
    assert_true(blocks(path) + SIZE - 128 * KiB <= inflated);
    /* With it: the written zeros too. */
    assert_int_equal(vdisk_sparsify(img, VDISK_SPARSIFY_ZERO_DETECT, NULL, NULL, &res, NULL), 0);
    assert_int_equal(res.changed, 64 * KiB);
    assert_int_equal(type_at(img, 2 * MiB), QCOW2_SC_UNALLOCATED);
    assert_int_equal(type_at(img, MiB), QCOW2_SC_NORMAL);
    assert_same(img, before);
    unit_assert_clean(img);
    free(before);
    vdisk_close(img, NULL);
}

static void
test_zero_alloc_dropped(void **state)
{
    vdisk_image *img = unit_make_qcow2(unit_path(0, "z.qcow2"), NULL, SIZE, VDISK_OPEN_RDWR);
    uint8_t b[64 * KiB];
    unit_pattern(b, sizeof(b), 2);
    assert_int_equal(vdisk_pwrite(img, b, sizeof(b), 0, NULL), 0);
    assert_int_equal(vdisk_write_zeroes(img, sizeof(b), 0, 0, NULL), 0);
    assert_int_equal(type_at(img, 0), QCOW2_SC_ZERO_ALLOC);
    assert_int_equal(vdisk_sparsify(img, 0, NULL, NULL, NULL, NULL), 0);
    assert_int_equal(type_at(img, 0), QCOW2_SC_UNALLOCATED);
    unit_assert_clean(img);
    vdisk_close(img, NULL);
}

static void
test_overlay_becomes_zero_clusters(void **state)
{
    vdisk_image *base = unit_make_qcow2(unit_path(1, "base.qcow2"), NULL, SIZE, VDISK_OPEN_RDWR);
    uint8_t b[64 * KiB];
    unit_pattern(b, sizeof(b), 4);
    for (uint64_t off = 0; off < SIZE; off += sizeof(b))
        assert_int_equal(vdisk_pwrite(base, b, sizeof(b), off, NULL), 0);
    vdisk_close(base, NULL);
    static const char *const versions[] = { "compat=1.1", "compat=0.10" };
    for (int v = 0; v < 2; v++) {
        char opts[700];
        snprintf(opts, sizeof(opts), "%s,backing_file=%s,backing_fmt=qcow2", versions[v],
                 unit_path(1, "base.qcow2"));
        vdisk_image *img = unit_make_qcow2(unit_path(0, "ov.qcow2"), opts, SIZE, VDISK_OPEN_RDWR);
        memset(b, 0, sizeof(b));
        assert_int_equal(vdisk_pwrite(img, b, sizeof(b), MiB, NULL), 0);
        uint8_t *before = contents(img);
        assert_int_equal(vdisk_sparsify(img, VDISK_SPARSIFY_ZERO_DETECT, NULL, NULL, NULL, NULL), 0);
        /* v3: a zero cluster keeps hiding the backing data; v2 cannot say
         * so without data, and keeps the cluster. */
        assert_int_equal(type_at(img, MiB), v == 0 ? QCOW2_SC_ZERO_PLAIN : QCOW2_SC_NORMAL);
        assert_same(img, before);
        unit_assert_clean(img);
        free(before);
        vdisk_close(img, NULL);
        unlink(unit_path(0, "ov.qcow2"));
    }
}

static void
test_compressed_zeros(void **state)
{
    vdisk_image *img = unit_make_qcow2(unit_path(0, "c.qcow2"), NULL, SIZE, VDISK_OPEN_RDWR);
    uint8_t *b = calloc(1, 64 * KiB);
    assert_int_equal(vdisk_pwrite_compressed(img, b, 64 * KiB, 0, NULL), 0);
    unit_pattern(b, 64 * KiB, 1);
    memset(b, 'a', 32 * KiB);     /* compressible, not zeros */
    assert_int_equal(vdisk_pwrite_compressed(img, b, 64 * KiB, 64 * KiB, NULL), 0);
    free(b);
    uint8_t *before = contents(img);
    vdisk_provision_result res;
    /* Without detection compressed data is not looked at. */
    assert_int_equal(vdisk_sparsify(img, 0, NULL, NULL, &res, NULL), 0);
    assert_int_equal(res.changed, 0);
    assert_int_equal(vdisk_sparsify(img, VDISK_SPARSIFY_ZERO_DETECT, NULL, NULL, &res, NULL), 0);
    assert_int_equal(res.changed, 64 * KiB);
    assert_int_equal(type_at(img, 0), QCOW2_SC_UNALLOCATED);
    assert_int_equal(type_at(img, 64 * KiB), QCOW2_SC_COMPRESSED);
    assert_same(img, before);
    unit_assert_clean(img);
    free(before);
    vdisk_close(img, NULL);
}

static void
test_truncate_tail(void **state)
{
    const char *path = unit_path(0, "t.qcow2");
    vdisk_image *img = make(path, NULL);
    uint8_t *before = contents(img);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    uint64_t len = (uint64_t)st.st_size;
    assert_int_equal(vdisk_sparsify(img, VDISK_SPARSIFY_ZERO_DETECT | VDISK_SPARSIFY_TRUNCATE,
                                    NULL, NULL, NULL, NULL), 0);
    assert_int_equal(stat(path, &st), 0);
    /* Data cluster at 1M was written before the inflate: near the front. */
    assert_true((uint64_t)st.st_size < len / 2);
    assert_same(img, before);
    unit_assert_clean(img);
    free(before);
    vdisk_close(img, NULL);
}

static void
test_snapshot_shared_left(void **state)
{
    const char *path = unit_path(0, "t.qcow2");
    vdisk_image *img = make(path, NULL);
    assert_int_equal(vdisk_snapshot_create(img, "s1", NULL), 0);
    uint8_t *before = contents(img);
    vdisk_provision_result res;
    assert_int_equal(vdisk_sparsify(img, VDISK_SPARSIFY_ZERO_DETECT, NULL, NULL, &res, NULL), 0);
    assert_int_equal(res.changed, 0);
    assert_int_equal(res.shared, SIZE);
    assert_same(img, before);
    unit_assert_clean(img);
    vdisk_close(img, NULL);
    vdisk_open_opts oo = { .format = VDISK_FORMAT_QCOW2, .snapshot = "s1" };
    assert_int_equal(vdisk_open(path, &oo, &img, NULL), 0);
    assert_same(img, before);
    free(before);
    vdisk_close(img, NULL);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_reserved_then_zero_detect, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_zero_alloc_dropped, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_overlay_becomes_zero_clusters, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_compressed_zeros, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_truncate_tail, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_snapshot_shared_left, unit_setup, unit_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
