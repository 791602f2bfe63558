/* Unit tests for core/vmdk/stream.c: deflated grains with markers, the
 * footer, appending in a second open, and broken streams. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>
#include <cmocka.h>

#include "driver.h"
#include "fixture.h"
#include "vmdk-fixture.h"

#define GRAIN 65536u

static void
write_grains(const char *p, uint64_t first, int n, unsigned seed)
{
    vdisk_image *img = vmdk_open_named(p, VDISK_OPEN_RDWR);
    uint8_t *buf = malloc(GRAIN);
    vdisk_error err;
    for (int i = 0; i < n; i++) {
        unit_fill(buf, GRAIN, seed + (unsigned)i);
        assert_int_equal(vdisk_pwrite(img, buf, GRAIN, (first + (uint64_t)i) * GRAIN, &err), 0);
    }
    assert_int_equal(vdisk_close(img, &err), 0);
    free(buf);
}

static void
check_grains(vdisk_image *img, uint64_t first, int n, unsigned seed)
{
    uint8_t *buf = malloc(GRAIN), *want = malloc(GRAIN);
    vdisk_error err;
    for (int i = 0; i < n; i++) {
        unit_fill(want, GRAIN, seed + (unsigned)i);
        assert_int_equal(vdisk_pread(img, buf, GRAIN, (first + (uint64_t)i) * GRAIN, &err), 0);
        assert_memory_equal(buf, want, GRAIN);
    }
    free(buf);
    free(want);
}

static void
test_write_reopen_append(void **state)
{
    (void)state;
    const char *p = unit_path(0, "s.vmdk");
    vmdk_make(p, "subformat=streamOptimized", 100 * MiB);
    write_grains(p, 0, 10, 1);
    write_grains(p, 600, 3, 50);     /* another table, another open */
    vdisk_image *img = vmdk_open_named(p, 0);
    check_grains(img, 0, 10, 1);
    check_grains(img, 600, 3, 50);
    vdisk_extent ext;
    vdisk_error err;
    assert_int_equal(vdisk_block_status(img, 0, MiB, &ext, &err), 0);
    assert_int_equal(ext.flags, VDISK_EXTENT_ALLOCATED | VDISK_EXTENT_DATA | VDISK_EXTENT_COMPRESSED);
    assert_int_equal(vdisk_block_status(img, 20 * MiB, MiB, &ext, &err), 0);
    assert_int_equal(ext.flags, 0);
    vdisk_close(img, NULL);
    /* The first grain: a marker with lba 0 and a zlib stream. */
    FILE *f = fopen(p, "rb");
    uint8_t m[14];
    assert_int_equal(fseek(f, 65536, SEEK_SET), 0);
    assert_int_equal(fread(m, 1, sizeof(m), f), sizeof(m));
    fclose(f);
    assert_int_equal(vmdk_le64(m), 0);
    assert_true(vmdk_le32(m + 8) > 0 && vmdk_le32(m + 8) < 2 * GRAIN);
    assert_int_equal(m[12], 0x78);   /* zlib header */
}

/* Written grains stay written; parts of grains are refused. */
static void
test_append_only(void **state)
{
    (void)state;
    const char *p = unit_path(0, "a.vmdk");
    vmdk_make(p, "subformat=streamOptimized", MiB + 4096);
    write_grains(p, 0, 1, 9);
    vdisk_image *img = vmdk_open_named(p, VDISK_OPEN_RDWR);
    uint8_t buf[GRAIN] = { 0 };
    vdisk_error err;
    assert_int_equal(vdisk_pwrite(img, buf, GRAIN, 0, &err), -EINVAL);
    assert_non_null(strstr(err.message, "append-only"));
    assert_int_equal(vdisk_pwrite(img, buf, 4096, GRAIN, &err), -EINVAL);
    assert_non_null(strstr(err.message, "whole grains"));
    /* The last, short grain of the disk is whole. */
    memset(buf, 0x5a, 4096);
    assert_int_equal(vdisk_pwrite(img, buf, 4096, MiB, &err), 0);
    assert_int_equal(vdisk_close(img, &err), 0);
    img = vmdk_open_named(p, 0);
    uint8_t back[4096];
    assert_int_equal(vdisk_pread(img, back, 4096, MiB, &err), 0);
    assert_memory_equal(back, buf, 4096);
    check_grains(img, 0, 1, 9);
    vdisk_close(img, NULL);
}

static void
test_broken_footer(void **state)
{
    (void)state;
    const char *p = unit_path(0, "b.vmdk");
    vmdk_make(p, "subformat=streamOptimized", MiB);
    struct stat st;
    assert_int_equal(stat(p, &st), 0);
    vmdk_patch(p, (uint64_t)st.st_size - 1024, "XXXX", 4);   /* the footer's magic */
    vdisk_error err;
    assert_int_equal(vmdk_open_fails(p, VDISK_FORMAT_VMDK, &err), -EINVAL);
    assert_non_null(strstr(err.message, "invalid footer"));
    assert_int_equal(truncate(p, 1536), 0);
    assert_int_equal(vmdk_open_fails(p, VDISK_FORMAT_VMDK, &err), -EINVAL);
}

/* A grain that does not inflate, or whose marker lies: named errors. */
static void
test_broken_grains(void **state)
{
    (void)state;
    const char *p = unit_path(0, "g.vmdk");
    vmdk_make(p, "subformat=streamOptimized", MiB);
    write_grains(p, 0, 1, 3);
    vmdk_patch(p, 65536 + 12, "\xff\xff\xff\xff\xff\xff\xff\xff", 8);
    vdisk_image *img = vmdk_open_named(p, 0);
    uint8_t buf[512];
    vdisk_error err;
    assert_int_equal(vdisk_pread(img, buf, sizeof(buf), 0, &err), -EINVAL);
    assert_non_null(strstr(err.message, "does not inflate"));
    vdisk_close(img, NULL);
    vmdk_patch(p, 65536 + 8, "\xff\xff\xff\x7f", 4);
    img = vmdk_open_named(p, 0);
    assert_int_equal(vdisk_pread(img, buf, sizeof(buf), 0, &err), -EINVAL);
    assert_non_null(strstr(err.message, "bad marker"));
    vdisk_close(img, NULL);
}

/* convert's path: grains deflated ahead (one of them random, which does
 * not shrink and is stored as stored blocks), then appended in order. */
static void
test_precompressed(void **state)
{
    (void)state;
    const char *p = unit_path(0, "pc.vmdk");
    vmdk_make(p, "subformat=streamOptimized", 4 * GRAIN);
    vdisk_image *img = vmdk_open_named(p, VDISK_OPEN_RDWR);
    uint8_t *data = malloc(3 * GRAIN), *out = malloc(3 * GRAIN);
    uint32_t clen[3];
    memset(data, 'a', GRAIN);
    uint64_t x = 0x9e3779b97f4a7c15ull;   /* xorshift: noise deflate cannot shrink */
    for (unsigned i = 0; i < GRAIN; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        data[GRAIN + i] = (uint8_t)(x >> 24);
    }
    unit_fill(data + 2 * GRAIN, GRAIN, 5);
    vdisk_precompressed c = { .off = GRAIN, .len = 3 * GRAIN, .data = data, .out = out, .clen = clen };
    vdisk_error err;
    assert_int_equal(vdisk_compress_ahead(img, &c, &err), 0);
    assert_true(clen[0] > 0 && clen[0] < 1000);
    assert_int_equal(clen[1], 0);
    assert_int_equal(vdisk_pwrite_precompressed(img, &c, &err), 0);
    /* Not twice. */
    assert_int_equal(vdisk_pwrite_precompressed(img, &c, &err), -EINVAL);
    assert_int_equal(vdisk_close(img, &err), 0);
    img = vmdk_open_named(p, 0);
    uint8_t *back = malloc(4 * GRAIN);
    assert_int_equal(vdisk_pread(img, back, 4 * GRAIN, 0, &err), 0);
    for (unsigned i = 0; i < GRAIN; i++)
        assert_int_equal(back[i], 0);
    assert_memory_equal(back + GRAIN, data, 3 * GRAIN);
    vdisk_close(img, NULL);
    free(data);
    free(out);
    free(back);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_write_reopen_append, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_append_only, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_broken_footer, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_broken_grains, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_precompressed, unit_setup, unit_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
