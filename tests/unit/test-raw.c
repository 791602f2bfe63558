/* Unit tests for core/raw.c: the raw format driver. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
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

/* Write a file of `size` bytes (sparse) with `len` bytes of data at off. */

#include <vdisk/vdisk.h>
#include "driver.h"

static struct stat
stat_of(const char *path)
{
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    return st;
}

static void
create_raw(const char *path, uint64_t size, vdisk_prealloc p)
{
    vdisk_create_opts o;
    vdisk_create_opts_init(&o, VDISK_FORMAT_RAW);
    o.size = size;
    o.prealloc = p;
    vdisk_error err;
    int r = vdisk_create(path, &o, NULL, NULL, &err);
    if (r != 0)
        fail_msg("create %s: %s", path, err.message);
}

static vdisk_image *
open_rw(const char *path)
{
    vdisk_open_opts oo = { .format = VDISK_FORMAT_RAW, .flags = VDISK_OPEN_RDWR };
    vdisk_image *img;
    vdisk_error err;
    assert_int_equal(vdisk_open(path, &oo, &img, &err), 0);
    return img;
}

static void
test_thin_falloc_full(void **state)
{
    const uint64_t size = 32 * MiB;
    create_raw(unit_path(0, "thin.raw"), size, VDISK_PREALLOC_OFF);
    struct stat st = stat_of(unit_path(0, "thin.raw"));
    assert_int_equal(st.st_size, size);
    assert_true((uint64_t)st.st_blocks * 512 < 64 * KiB);

    create_raw(unit_path(0, "falloc.raw"), size, VDISK_PREALLOC_FALLOC);
    st = stat_of(unit_path(0, "falloc.raw"));
    assert_int_equal(st.st_size, size);
    assert_true((uint64_t)st.st_blocks * 512 >= size);

    create_raw(unit_path(0, "full.raw"), size, VDISK_PREALLOC_FULL);
    st = stat_of(unit_path(0, "full.raw"));
    assert_int_equal(st.st_size, size);
    assert_true((uint64_t)st.st_blocks * 512 >= size);
    /* Eager-zeroed: written blocks, so SEEK_DATA sees data at 0 and no
     * hole before the end. */
    int fd = open(unit_path(0, "full.raw"), O_RDONLY);
    assert_int_equal(lseek(fd, 0, SEEK_DATA), 0);
    assert_int_equal(lseek(fd, 0, SEEK_HOLE), (off_t)size);
    close(fd);
    /* Every preallocation mode reads as zeros. */
    const char *names[] = { "thin.raw", "falloc.raw", "full.raw" };
    uint8_t *buf = malloc(size);
    for (int i = 0; i < 3; i++) {
        vdisk_image *img = open_rw(unit_path(0, names[i]));
        vdisk_error err;
        memset(buf, 0xee, size);
        assert_int_equal(vdisk_pread(img, buf, size, 0, &err), 0);
        for (uint64_t j = 0; j < size; j += 4096)
            assert_int_equal(buf[j], 0);
        vdisk_close(img, NULL);
    }
    free(buf);
}

static void
test_metadata_refused_clearly(void **state)
{
    /* vdisk_create refuses before touching the disk... */
    vdisk_create_opts o;
    vdisk_create_opts_init(&o, VDISK_FORMAT_RAW);
    o.size = MiB;
    o.prealloc = VDISK_PREALLOC_METADATA;
    vdisk_error err;
    assert_int_equal(vdisk_create(unit_path(0, "m.raw"), &o, NULL, NULL, &err), -ENOTSUP);
    assert_non_null(strstr(err.message, "metadata"));
    assert_int_equal(access(unit_path(0, "m.raw"), F_OK), -1);
    /* ...and so does the driver's own create callback, naming the file. */
    vdisk_file *f;
    assert_int_equal(vdisk_file_create(unit_path(0, "m2.raw"), false, &f, &err), 0);
    assert_int_equal(vdisk_raw_driver.create(f, &o, NULL, NULL, &err), -ENOTSUP);
    assert_non_null(strstr(err.message, "m2.raw"));
    assert_non_null(strstr(err.message, "metadata"));
    vdisk_file_close(f);
}

static void
test_holes_read_as_zero_and_block_status(void **state)
{
    const char *p = unit_path(0, "bs.raw");
    uint8_t data[8192];
    memset(data, 0x42, sizeof(data));
    unit_write_file(p, 8 * MiB, data, sizeof(data), 2 * MiB);
    vdisk_open_opts oo = { .format = VDISK_FORMAT_RAW };
    vdisk_image *img;
    vdisk_error err;
    assert_int_equal(vdisk_open(p, &oo, &img, &err), 0);
    assert_int_equal(vdisk_get_size(img), 8 * MiB);
    assert_int_equal(vdisk_get_format(img), VDISK_FORMAT_RAW);
    assert_int_equal(vdisk_get_cluster_size(img), 0);
    assert_null(vdisk_get_backing(img));
    assert_true(vdisk_is_read_only(img));
    uint8_t buf[4096];
    memset(buf, 0xee, sizeof(buf));
    assert_int_equal(vdisk_pread(img, buf, sizeof(buf), 5 * MiB, &err), 0);
    for (size_t i = 0; i < sizeof(buf); i++)
        assert_int_equal(buf[i], 0);
    struct { uint64_t off, len; unsigned kind; } want[] = {
        { 0, 2 * MiB, VDISK_EXTENT_ZERO },
        { 2 * MiB, 8192, VDISK_EXTENT_DATA },
        { 2 * MiB + 8192, 6 * MiB - 8192, VDISK_EXTENT_ZERO },
    };
    for (size_t i = 0; i < 3; i++) {
        vdisk_extent e;
        assert_int_equal(vdisk_block_status(img, want[i].off, 8 * MiB - want[i].off, &e, &err), 0);
        assert_int_equal(e.offset, want[i].off);
        assert_int_equal(e.length, want[i].len);
        assert_int_equal(e.flags, VDISK_EXTENT_ALLOCATED | VDISK_EXTENT_OFFSET_VALID | want[i].kind);
        assert_int_equal(e.host_offset, want[i].off);
        assert_int_equal(e.depth, 0);
        assert_string_equal(e.filename, p);
    }
    /* The query length caps the extent. */
    vdisk_extent e;
    assert_int_equal(vdisk_block_status(img, 0, 4096, &e, &err), 0);
    assert_int_equal(e.length, 4096);
    vdisk_info info;
    assert_int_equal(vdisk_get_info(img, &info, &err), 0);
    assert_int_equal(info.format, VDISK_FORMAT_RAW);
    assert_int_equal(info.virtual_size, 8 * MiB);
    assert_true(info.actual_size >= 8192 && info.actual_size < MiB);
    assert_null(info.backing_file);
    vdisk_info_clear(&info);
    vdisk_close(img, NULL);
}

static void
test_write_zeroes_discard(void **state)
{
    const char *p = unit_path(0, "wz.raw");
    create_raw(p, 4 * MiB, VDISK_PREALLOC_OFF);
    vdisk_image *img = open_rw(p);
    uint8_t *buf = malloc(4 * MiB);
    memset(buf, 0x33, 4 * MiB);
    vdisk_error err;
    assert_int_equal(vdisk_pwrite(img, buf, 4 * MiB, 0, &err), 0);
    assert_int_equal(vdisk_write_zeroes(img, MiB, 0, VDISK_ZERO_MAY_UNMAP, &err), 0);
    assert_int_equal(vdisk_write_zeroes(img, MiB, MiB, 0, &err), 0);
    assert_int_equal(vdisk_discard(img, MiB, 2 * MiB, &err), 0);
    assert_int_equal(vdisk_pread(img, buf, 4 * MiB, 0, &err), 0);
    for (uint64_t i = 0; i < 3 * MiB; i++)
        if (buf[i])
            fail_msg("byte %llu not zero", (unsigned long long)i);
    for (uint64_t i = 3 * MiB; i < 4 * MiB; i++)
        assert_int_equal(buf[i], 0x33);
    /* Unmapped zeroes and discards became holes; plain zeroes need not. */
    vdisk_extent e;
    assert_int_equal(vdisk_block_status(img, 0, MiB, &e, &err), 0);
    assert_true(e.flags & VDISK_EXTENT_ZERO);
    assert_int_equal(vdisk_block_status(img, 2 * MiB, MiB, &e, &err), 0);
    assert_true(e.flags & VDISK_EXTENT_ZERO);
    assert_int_equal(vdisk_flush(img, &err), 0);
    free(buf);
    assert_int_equal(vdisk_close(img, &err), 0);
}

static void
test_no_compressed_writes_and_measure(void **state)
{
    const char *p = unit_path(0, "c.raw");
    create_raw(p, MiB, VDISK_PREALLOC_OFF);
    vdisk_image *img = open_rw(p);
    uint8_t buf[65536] = { 1 };
    vdisk_error err;
    assert_int_equal(vdisk_pwrite_compressed(img, buf, sizeof(buf), 0, &err), -ENOTSUP);
    assert_non_null(strstr(err.message, "c.raw"));
    vdisk_create_opts o;
    vdisk_create_opts_init(&o, VDISK_FORMAT_RAW);
    vdisk_measure m;
    assert_int_equal(vdisk_measure_image(&o, img, &m, &err), 0);
    assert_int_equal(m.required, MiB);
    assert_int_equal(m.fully_allocated, MiB);
    vdisk_close(img, NULL);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_thin_falloc_full, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_metadata_refused_clearly, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_holes_read_as_zero_and_block_status, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_write_zeroes_discard, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_no_compressed_writes_and_measure, unit_setup, unit_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
