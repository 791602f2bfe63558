/* Unit tests for core/qcow2/create.c: the layout of new images (checked
 * at the spec's offsets), preallocation modes, and measure numbers
 * worked out by hand from QEMU's formula. */
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

static void
read_file(const char *path, uint8_t *buf, size_t len, long off)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, off, SEEK_SET);
    assert_int_equal(fread(buf, 1, len, f), len);
    fclose(f);
}

static void
test_default_layout(void **state)
{
    char path[512];
    unit_tmpname(path, sizeof(path), "d.qcow2");
    vdisk_error err;
    vdisk_close(unit_make_qcow2(path, NULL, UINT64_C(2) << 30, 0), &err);
    uint8_t h[112];
    read_file(path, h, sizeof(h), 0);
    assert_int_equal(qcow2_be32(h + 4), 3);
    assert_int_equal(qcow2_be32(h + 20), 16);
    assert_true(qcow2_be64(h + 24) == UINT64_C(2) << 30);
    assert_true(qcow2_be64(h + 48) == 0x10000);   /* refcount table: cluster 1 */
    assert_int_equal(qcow2_be32(h + 56), 1);
    assert_true(qcow2_be64(h + 40) == 0x30000);   /* L1: cluster 3 */
    assert_int_equal(qcow2_be32(h + 36), 4);      /* 2 GiB / 512 MiB per L2 table */
    uint8_t rt[8], rb[8];
    read_file(path, rt, 8, 0x10000);
    assert_true(qcow2_be64(rt) == 0x20000);
    read_file(path, rb, 8, 0x20000);
    assert_memory_equal(rb, "\0\1\0\1\0\1\0\1", 8);   /* clusters 0..3 used once */
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_size, 3 * 65536 + 32);
    unlink(path);
}

static void
test_preallocation_modes(void **state)
{
    const char *modes[] = { "preallocation=metadata", "preallocation=falloc", "preallocation=full" };
    for (size_t i = 0; i < 3; i++) {
        char path[512];
        unit_tmpname(path, sizeof(path), "p.qcow2");
        vdisk_image *img = unit_make_qcow2(path, modes[i], 10 << 20, 0);
        vdisk_error err;
        vdisk_extent e;
        assert_int_equal(vdisk_block_status(img, 0, 10 << 20, &e, &err), 0);
        assert_true(e.flags & VDISK_EXTENT_ALLOCATED);
        assert_true(e.flags & VDISK_EXTENT_OFFSET_VALID);
        assert_int_equal(e.length, 10 << 20);
        uint8_t b[4096];
        assert_int_equal(vdisk_pread(img, b, sizeof(b), 5 << 20, &err), 0);
        for (size_t k = 0; k < sizeof(b); k++)
            assert_int_equal(b[k], 0);
        vdisk_close(img, &err);
        struct stat st;
        assert_int_equal(stat(path, &st), 0);
        if (i > 0)
            assert_true((uint64_t)st.st_blocks * 512 >= 10 << 20);
        else
            assert_true((uint64_t)st.st_blocks * 512 < 1 << 20);
        unlink(path);
    }
}

static void
test_measure_by_hand(void **state)
{
    vdisk_create_opts o;
    vdisk_measure m;
    vdisk_error err;
    vdisk_create_opts_init(&o, VDISK_FORMAT_QCOW2);
    o.size = UINT64_C(1) << 30;
    /* header 64k + 16384 L2 entries (128k) + L1 rounded to a cluster (64k)
     * + one refblock and one table cluster (128k) = 384k of metadata. */
    assert_int_equal(vdisk_measure_image(&o, NULL, &m, &err), 0);
    assert_true(m.fully_allocated == (UINT64_C(1) << 30) + 393216);
    assert_true(m.required == 393216);
    o.prealloc = VDISK_PREALLOC_FULL;
    assert_int_equal(vdisk_measure_image(&o, NULL, &m, &err), 0);
    assert_true(m.required == m.fully_allocated);
    o.prealloc = VDISK_PREALLOC_OFF;
    o.cluster_size = 512;
    o.size = UINT64_C(1) << 50;
    assert_int_equal(vdisk_measure_image(&o, NULL, &m, &err), -EFBIG);
    assert_non_null(strstr(err.message, "larger cluster size"));
}

static void
test_backing_name_recorded(void **state)
{
    char base[512], top[512];
    unit_tmpname(base, sizeof(base), "base.qcow2");
    unit_tmpname(top, sizeof(top), "top.qcow2");
    vdisk_error err;
    vdisk_close(unit_make_qcow2(base, NULL, 3 << 20, 0), &err);
    char opts[1100];
    snprintf(opts, sizeof(opts), "backing_file=%s", base);
    vdisk_image *t = unit_make_qcow2(top, opts, 0, 0);
    vdisk_info info;
    assert_int_equal(vdisk_get_info(t, &info, &err), 0);
    assert_string_equal(info.backing_file, base);
    assert_string_equal(info.backing_format, "qcow2");   /* probed and recorded */
    assert_true(info.virtual_size == 3 << 20);
    assert_non_null(vdisk_get_backing(t));
    vdisk_info_clear(&info);
    vdisk_close(t, &err);
    unlink(top);
    unlink(base);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_default_layout),
        cmocka_unit_test(test_preallocation_modes),
        cmocka_unit_test(test_measure_by_hand),
        cmocka_unit_test(test_backing_name_recorded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
