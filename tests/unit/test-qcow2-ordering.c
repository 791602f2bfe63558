/* Unit tests for core/qcow2/ordering.c: the metadata write-back a flush
 * makes, and the dirty bit of lazy-refcount images (incompatible feature
 * bit 0 of the header field at byte 72, docs/interop/qcow2.txt). */
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
#include "poke.h"

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

/* qcow2_mark_dirty sets the dirty bit on disk once, and from then on
 * ordering barriers are skipped (lazy); without lazy refcounts it does
 * nothing.  (test-qcow2-driver.c checks that writes and close do it.) */
static void
test_mark_dirty(void **state)
{
    char path[512];
    unit_tmpname(path, sizeof(path), "lazy.qcow2");
    vdisk_image *img = unit_make_qcow2(path, "lazy_refcounts=on", 4 << 20, VDISK_OPEN_RDWR);
    qcow2_state *s = img->priv;
    vdisk_error err;
    assert_false(s->lazy);
    assert_int_equal(peek_be(path, 72, 8) & 1, 0);
    assert_int_equal(qcow2_mark_dirty(s, &err), 0);
    assert_int_equal(peek_be(path, 72, 8) & 1, 1);
    assert_true(s->lazy && s->dirty_written);
    assert_int_equal(qcow2_mark_dirty(s, &err), 0);
    assert_int_equal(vdisk_close(img, &err), 0);
    unlink(path);

    img = unit_make_qcow2(path, NULL, 4 << 20, VDISK_OPEN_RDWR);
    s = img->priv;
    assert_int_equal(qcow2_mark_dirty(s, &err), 0);
    assert_int_equal(peek_be(path, 72, 8) & 1, 0);
    assert_false(s->lazy);
    assert_int_equal(vdisk_close(img, &err), 0);
    unlink(path);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_metadata_reaches_disk_on_flush),
        cmocka_unit_test(test_mark_dirty),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
