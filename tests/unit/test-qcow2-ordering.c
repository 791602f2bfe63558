/* Unit tests for core/qcow2/ordering.c: the metadata write-back a flush
 * makes, and the dirty bit of lazy-refcount images (incompatible feature
 * bit 0 of the header field at byte 72, docs/interop/qcow2.txt): set on
 * disk before the first metadata change, cleared by a clean close, never
 * set on images without lazy refcounts. */
#include <errno.h>
#include <fcntl.h>
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
#include "qcow2/ordering.h"

/* A flush writes back every dirty table (refcount blocks, L2, L1): another
 * handle then reads the data without the first one closing. */
static void
test_metadata_reaches_disk_on_flush(void **state)
{
    char path[512];
    unit_tmpname(path, sizeof(path), "f.qcow2");
    vdisk_image *img = unit_make_qcow2(path, NULL, 64 << 20, VDISK_OPEN_RDWR);
    vdisk_error err;
    uint8_t b[512];
    memset(b, 7, sizeof(b));
    assert_int_equal(vdisk_pwrite(img, b, sizeof(b), 600 << 20 >> 4, &err), 0);
    qcow2_state *s = img->priv;
    assert_true(qcow2_cache_is_dirty(s->l2_cache) || s->l1_dirty_lo != s->l1_dirty_hi);
    assert_int_equal(vdisk_flush(img, &err), 0);
    assert_false(qcow2_cache_is_dirty(s->l2_cache));
    assert_false(qcow2_cache_is_dirty(s->rb_cache));
    assert_true(s->l1_dirty_lo == s->l1_dirty_hi);
    /* A second handle sees the data without the first one closing. */
    vdisk_open_opts ro = { .format = VDISK_FORMAT_QCOW2, .flags = VDISK_OPEN_FORCE_SHARE };
    vdisk_image *other;
    assert_int_equal(vdisk_open(path, &ro, &other, &err), 0);
    uint8_t back[512];
    assert_int_equal(vdisk_pread(other, back, sizeof(back), 600 << 20 >> 4, &err), 0);
    assert_memory_equal(b, back, sizeof(b));
    vdisk_close(other, &err);
    vdisk_close(img, &err);
    unlink(path);
}

/* The incompatible features field as the file holds it now. */
static uint64_t
incompat_on_disk(const char *path)
{
    int fd = open(path, O_RDONLY);
    assert_true(fd >= 0);
    uint8_t b[8];
    assert_int_equal(pread(fd, b, 8, 72), 8);
    close(fd);
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | b[i];
    return v;
}

static void
test_dirty_bit_with_lazy_refcounts(void **state)
{
    char path[512];
    unit_tmpname(path, sizeof(path), "lazy.qcow2");
    vdisk_image *img = unit_make_qcow2(path, "lazy_refcounts=on", 4 << 20, VDISK_OPEN_RDWR);
    vdisk_error err;
    assert_int_equal(incompat_on_disk(path) & 1, 0);
    uint8_t b[4096];
    memset(b, 3, sizeof(b));
    assert_int_equal(vdisk_pwrite(img, b, sizeof(b), 65536, &err), 0);
    assert_int_equal(incompat_on_disk(path) & 1, 1);
    qcow2_state *s = img->priv;
    assert_true(s->lazy);
    /* Marking again writes nothing new. */
    assert_int_equal(qcow2_mark_dirty(s, &err), 0);
    assert_int_equal(vdisk_close(img, &err), 0);
    assert_int_equal(incompat_on_disk(path) & 1, 0);
    unlink(path);
}

static void
test_no_dirty_bit_without_lazy_refcounts(void **state)
{
    char path[512];
    unit_tmpname(path, sizeof(path), "strict.qcow2");
    vdisk_image *img = unit_make_qcow2(path, NULL, 4 << 20, VDISK_OPEN_RDWR);
    vdisk_error err;
    uint8_t b[4096];
    memset(b, 5, sizeof(b));
    assert_int_equal(vdisk_pwrite(img, b, sizeof(b), 0, &err), 0);
    assert_int_equal(qcow2_mark_dirty(img->priv, &err), 0);
    assert_int_equal(incompat_on_disk(path) & 1, 0);
    assert_false(((qcow2_state *)img->priv)->lazy);
    assert_int_equal(vdisk_close(img, &err), 0);
    unlink(path);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_metadata_reaches_disk_on_flush),
        cmocka_unit_test(test_dirty_bit_with_lazy_refcounts),
        cmocka_unit_test(test_no_dirty_bit_without_lazy_refcounts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
