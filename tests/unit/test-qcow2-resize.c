/* Unit tests for core/qcow2/resize.c: L1 growth in place and by moving,
 * shrink freeing clusters and trimming the file, preallocation of the new
 * part, the snapshot and alignment refusals, emptying. */
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

#define TEST(f) cmocka_unit_test_setup_teardown(f, unit_setup, unit_teardown)

static void
write_pattern(vdisk_image *img, uint64_t off, size_t len, unsigned seed)
{
    uint8_t *b = malloc(len);
    vdisk_error err;
    unit_fill(b, len, seed);
    if (vdisk_pwrite(img, b, len, off, &err) < 0)
        fail_msg("write: %s", err.message);
    free(b);
}

static void
assert_pattern(vdisk_image *img, uint64_t off, size_t len, unsigned seed)
{
    uint8_t *b = malloc(len), *want = malloc(len);
    vdisk_error err;
    unit_fill(want, len, seed);
    assert_int_equal(vdisk_pread(img, b, len, off, &err), 0);
    assert_memory_equal(b, want, len);
    free(b);
    free(want);
}

static void
assert_zero(vdisk_image *img, uint64_t off, size_t len)
{
    uint8_t *b = malloc(len);
    vdisk_error err;
    assert_int_equal(vdisk_pread(img, b, len, off, &err), 0);
    assert_true(vdisk_buffer_is_zero(b, len));
    free(b);
}

static uint64_t
refcount(vdisk_image *img, uint64_t host)
{
    qcow2_state *s = img->priv;
    uint64_t rc;
    vdisk_error err;
    pthread_mutex_lock(&s->lock);
    assert_int_equal(qcow2_refcount_get(s, host >> s->cluster_bits, &rc, &err), 0);
    pthread_mutex_unlock(&s->lock);
    return rc;
}

static vdisk_image *
reopen(vdisk_image *img, const char *path, unsigned flags)
{
    vdisk_error err;
    assert_int_equal(vdisk_close(img, &err), 0);
    vdisk_open_opts oo = { .format = VDISK_FORMAT_QCOW2, .flags = flags };
    assert_int_equal(vdisk_open(path, &oo, &img, &err), 0);
    return img;
}

static uint64_t
file_len(const char *path)
{
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    return (uint64_t)st.st_size;
}

static void
test_grow_l1_in_place(void **state)
{
    (void)state;
    const char *path = unit_path(0, "a.qcow2");
    vdisk_image *img = unit_make_qcow2(path, NULL, MiB, VDISK_OPEN_RDWR);
    write_pattern(img, 0, 64 * KiB, 1);
    qcow2_state *s = img->priv;
    uint64_t l1_off = s->l1_offset;
    vdisk_error err;
    /* 10 GiB needs 20 L1 entries: they fit in the table's cluster. */
    assert_int_equal(vdisk_resize(img, UINT64_C(10) << 30, false, VDISK_PREALLOC_OFF, NULL, NULL, &err), 0);
    img = reopen(img, path, VDISK_OPEN_RDWR);
    s = img->priv;
    assert_int_equal(vdisk_get_size(img), UINT64_C(10) << 30);
    assert_int_equal(s->l1_offset, l1_off);
    assert_int_equal(s->l1_size, 20);
    assert_pattern(img, 0, 64 * KiB, 1);
    write_pattern(img, (UINT64_C(10) << 30) - 64 * KiB, 64 * KiB, 2);
    assert_pattern(img, (UINT64_C(10) << 30) - 64 * KiB, 64 * KiB, 2);
    vdisk_close(img, &err);
}

static void
test_grow_l1_moves(void **state)
{
    (void)state;
    const char *path = unit_path(0, "b.qcow2");
    vdisk_image *img = unit_make_qcow2(path, "cluster_size=512", MiB, VDISK_OPEN_RDWR);
    write_pattern(img, 4096, 8192, 3);
    qcow2_state *s = img->priv;
    uint64_t old_l1 = s->l1_offset;
    vdisk_error err;
    assert_int_equal(vdisk_resize(img, 256 * MiB, false, VDISK_PREALLOC_OFF, NULL, NULL, &err), 0);
    assert_int_not_equal(s->l1_offset, old_l1);
    /* The old table's cluster is free again. */
    assert_int_equal(refcount(img, old_l1), 0);
    assert_int_equal(refcount(img, s->l1_offset), 1);
    img = reopen(img, path, VDISK_OPEN_RDWR);
    s = img->priv;
    assert_int_equal(s->l1_size, (256 * MiB) / (512 * 64));
    assert_pattern(img, 4096, 8192, 3);
    assert_zero(img, MiB, 64 * KiB);
    vdisk_close(img, &err);
}

static void
test_shrink_frees_and_trims(void **state)
{
    (void)state;
    const char *path = unit_path(0, "c.qcow2");
    vdisk_image *img = unit_make_qcow2(path, NULL, 8 * MiB, VDISK_OPEN_RDWR);
    write_pattern(img, 0, MiB, 4);
    write_pattern(img, 6 * MiB, 2 * MiB, 5);
    qcow2_state *s = img->priv;
    struct qcow2_map m;
    vdisk_error err;
    pthread_mutex_lock(&s->lock);
    assert_int_equal(qcow2_get_mapping(s, 7 * MiB, 64 * KiB, &m, &err), 0);
    pthread_mutex_unlock(&s->lock);
    uint64_t dropped = m.host;
    uint64_t before = file_len(path);
    assert_int_equal(vdisk_resize(img, 2 * MiB, true, VDISK_PREALLOC_OFF, NULL, NULL, &err), 0);
    assert_int_equal(refcount(img, dropped), 0);
    assert_true(file_len(path) <= before - 2 * MiB);
    img = reopen(img, path, VDISK_OPEN_RDWR);
    assert_int_equal(vdisk_get_size(img), 2 * MiB);
    assert_pattern(img, 0, MiB, 4);
    /* Grown again, the dropped range does not come back. */
    assert_int_equal(vdisk_resize(img, 8 * MiB, false, VDISK_PREALLOC_OFF, NULL, NULL, &err), 0);
    assert_zero(img, 2 * MiB, 6 * MiB);
    vdisk_close(img, &err);
}

static void
test_refusals_leave_image(void **state)
{
    (void)state;
    const char *path = unit_path(0, "d.qcow2");
    vdisk_image *img = unit_make_qcow2(path, NULL, 4 * MiB, VDISK_OPEN_RDWR);
    vdisk_error err;
    assert_int_equal(vdisk_resize(img, 4 * MiB + 100, false, VDISK_PREALLOC_OFF, NULL, NULL, &err),
                     -EINVAL);
    assert_non_null(strstr(err.message, "multiple of 512"));
    qcow2_state *s = img->priv;
    s->nb_snapshots = 1;   /* as if an internal snapshot existed */
    assert_int_equal(vdisk_resize(img, MiB, true, VDISK_PREALLOC_OFF, NULL, NULL, &err), -ENOTSUP);
    assert_non_null(strstr(err.message, "snapshot"));
    assert_non_null(strstr(err.message, "d.qcow2"));
    s->version = 2;
    assert_int_equal(vdisk_resize(img, 8 * MiB, false, VDISK_PREALLOC_OFF, NULL, NULL, &err), -ENOTSUP);
    s->version = 3;
    s->nb_snapshots = 0;
    assert_int_equal(vdisk_get_size(img), 4 * MiB);
    vdisk_close(img, &err);
}

static void
test_prealloc_new_part(void **state)
{
    (void)state;
    const vdisk_prealloc modes[] = { VDISK_PREALLOC_METADATA, VDISK_PREALLOC_FALLOC,
                                     VDISK_PREALLOC_FULL };
    for (size_t i = 0; i < 3; i++) {
        const char *path = unit_path(0, "e.qcow2");
        vdisk_image *img = unit_make_qcow2(path, NULL, MiB, VDISK_OPEN_RDWR);
        vdisk_error err;
        assert_int_equal(vdisk_resize(img, 3 * MiB, false, modes[i], NULL, NULL, &err), 0);
        qcow2_state *s = img->priv;
        for (uint64_t c = 0; c < 48; c++) {
            uint64_t e, b;
            pthread_mutex_lock(&s->lock);
            assert_int_equal(qcow2_l2_lookup(s, c, &e, &b, &err), 0);
            pthread_mutex_unlock(&s->lock);
            /* old part untouched, new part has host clusters */
            if (c < 16)
                assert_true(e == 0);
            else
                assert_true((e & L2E_OFFSET_MASK) != 0);
        }
        assert_true(file_len(path) >= 2 * MiB);
        assert_zero(img, MiB, 2 * MiB);
        vdisk_close(img, &err);
    }
}

static void
test_make_empty(void **state)
{
    (void)state;
    const char *path = unit_path(0, "f.qcow2");
    vdisk_image *img = unit_make_qcow2(path, NULL, 4 * MiB, VDISK_OPEN_RDWR);
    write_pattern(img, 0, 4 * MiB, 6);
    vdisk_error err;
    assert_int_equal(qcow2_make_empty(img, &err), 0);
    qcow2_state *s = img->priv;
    assert_true(s->l1[0] == 0);
    assert_zero(img, 0, 4 * MiB);
    /* header, refcount table and block, L1: nothing else is left */
    assert_true(file_len(path) <= 4 * 65536);
    vdisk_close(img, &err);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        TEST(test_grow_l1_in_place),
        TEST(test_grow_l1_moves),
        TEST(test_shrink_frees_and_trims),
        TEST(test_refusals_leave_image),
        TEST(test_prealloc_new_part),
        TEST(test_make_empty),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
