/* Unit tests for core/iso9660/zisofs.c: zisofs decompression. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <cmocka.h>

#include "fixture.h"
#include "iso-fixture.h"

#define BLOCK (1u << 15)
#define SIZE (2 * BLOCK + 1000)   /* three blocks; the second all zeros */

static uint8_t plain[SIZE];

/* zisofs data of `plain` written at sector 19 of a minimal image; returns
 * the stored length. */
static size_t
make_image(const char *path)
{
    for (size_t i = 0; i < SIZE; i++)
        plain[i] = i / BLOCK == 1 ? 0 : (uint8_t)("zisofs "[i % 7]);
    uint8_t *z = calloc(1, 4 * BLOCK);
    const uint8_t magic[8] = { 0x37, 0xE4, 0x53, 0x96, 0xC9, 0xDB, 0xD6, 0x07 };
    memcpy(z, magic, 8);
    iso_put_le32(z + 8, SIZE);
    z[12] = 4;
    z[13] = 15;
    uint32_t pos = 16 + 4 * 4;
    for (int k = 0; k < 3; k++) {
        iso_put_le32(z + 16 + 4 * k, pos);
        if (k == 1)
            continue;   /* an empty block stands for zeros */
        uLongf n = 2 * BLOCK;
        size_t len = k == 2 ? 1000 : BLOCK;
        assert_int_equal(compress(z + pos, &n, plain + (size_t)k * BLOCK, len), Z_OK);
        pos += (uint32_t)n;
    }
    iso_put_le32(z + 16 + 12, pos);
    iso_fix_raw(path, NULL, 0, (pos + 2047) / 2048);
    int fd = open(path, O_WRONLY);
    assert_int_equal(pwrite(fd, z, pos, 19 * 2048), (ssize_t)pos);
    close(fd);
    free(z);
    return pos;
}

static void
test_inflate(void **state)
{
    const char *p = unit_path(0, "z.iso");
    size_t stored = make_image(p);
    vdisk_iso *h;
    vdisk_error err;
    assert_int_equal(vdisk_iso_open(p, 0, &h, &err), 0);
    vdisk_iso_extent x = { 19, (uint32_t)stored };
    vdisk_iso_entry e = { .name = "z", .size = SIZE, .n_extents = 1, .extents = &x, .zisofs = true };
    uint8_t *out = malloc(SIZE);
    assert_int_equal(vdisk_iso_pread(h, &e, out, SIZE, 0, &err), 0);
    assert_memory_equal(out, plain, SIZE);
    /* A read across a block boundary. */
    assert_int_equal(vdisk_iso_pread(h, &e, out, 100, BLOCK - 50, &err), 0);
    assert_memory_equal(out, plain + BLOCK - 50, 100);
    /* Disagreeing sizes, a bad pointer. */
    e.size = SIZE - 1;
    assert_int_equal(vdisk_iso_pread(h, &e, out, 10, 0, &err), -EINVAL);
    assert_non_null(strstr(err.message, "disagrees"));
    e.size = SIZE;
    x.length = 40;   /* the stored data cut short: pointers run past it */
    assert_int_equal(vdisk_iso_pread(h, &e, out, 10, 0, &err), -EINVAL);
    assert_non_null(strstr(err.message, "z.iso: 'z': zisofs data"));
    free(out);
    vdisk_iso_close(h);
}

static void
test_corrupt_block(void **state)
{
    const char *p = unit_path(0, "z.iso");
    size_t stored = make_image(p);
    int fd = open(p, O_WRONLY);
    assert_int_equal(pwrite(fd, "garbage!", 8, 19 * 2048 + 40), 8);
    close(fd);
    vdisk_iso *h;
    vdisk_error err;
    assert_int_equal(vdisk_iso_open(p, 0, &h, &err), 0);
    vdisk_iso_extent x = { 19, (uint32_t)stored };
    vdisk_iso_entry e = { .name = "z", .size = SIZE, .n_extents = 1, .extents = &x, .zisofs = true };
    uint8_t out[64];
    assert_int_equal(vdisk_iso_pread(h, &e, out, sizeof(out), 0, &err), -EINVAL);
    assert_non_null(strstr(err.message, "does not inflate"));
    /* The zero block needs no data. */
    assert_int_equal(vdisk_iso_pread(h, &e, out, sizeof(out), BLOCK + 5, &err), 0);
    vdisk_iso_close(h);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_inflate, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_corrupt_block, unit_setup, unit_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
