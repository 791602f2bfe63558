/* Unit tests for core/fiemap.c: holes, unwritten (fallocated) extents and
 * written data as the kernel lays them out (fallocate, pwrite and truncate
 * are the oracle), and data still in the page cache never reported as
 * unwritten. */
#include <errno.h>
#include <fcntl.h>
#include <linux/fiemap.h>
#include <linux/fs.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <cmocka.h>

#include "fixture.h"

#include <vdisk/vdisk.h>
#include "fiemap.h"

/* A 1 MiB file: data [256K, 320K), reserved [512K, 640K), holes elsewhere. */
static vdisk_file *
layout(void)
{
    const char *path = unit_path(0, "f.raw");
    uint8_t data[64 * KiB];
    unit_pattern(data, sizeof(data), 1);
    unit_write_file(path, MiB, data, sizeof(data), 256 * KiB);
    int fd = open(path, O_RDWR);
    assert_true(fd >= 0);
    assert_int_equal(fallocate(fd, FALLOC_FL_KEEP_SIZE, 512 * KiB, 128 * KiB), 0);
    close(fd);
    vdisk_file *f;
    vdisk_error err;
    assert_int_equal(vdisk_file_open(path, VDISK_OPEN_RDWR, &f, &err), 0);
    return f;
}

/* The file system under the test directory has FIEMAP (tmpfs has not). */
static bool
have_fiemap(vdisk_file *f)
{
    struct fiemap fm;
    memset(&fm, 0, sizeof(fm));
    fm.fm_length = ~0ULL;
    return ioctl(vdisk_file_host_fd(f), FS_IOC_FIEMAP, &fm) == 0;
}

static void
expect(vdisk_file *f, uint64_t off, vdisk_host_kind kind, uint64_t end)
{
    vdisk_host_kind k;
    uint64_t e;
    vdisk_error err;
    assert_int_equal(vdisk_host_extent(f, off, MiB, &k, &e, &err), 0);
    assert_int_equal(k, kind);
    assert_int_equal(e, end);
}

static void
test_kinds(void **state)
{
    vdisk_file *f = layout();
    if (!have_fiemap(f)) {
        vdisk_file_close(f);
        skip();
    }
    expect(f, 0, VDISK_HOST_HOLE, 256 * KiB);
    expect(f, 256 * KiB, VDISK_HOST_DATA, 320 * KiB);
    expect(f, 300 * KiB, VDISK_HOST_DATA, 320 * KiB);
    expect(f, 320 * KiB, VDISK_HOST_HOLE, 512 * KiB);
    expect(f, 512 * KiB, VDISK_HOST_UNWRITTEN, 640 * KiB);
    expect(f, 640 * KiB, VDISK_HOST_HOLE, MiB);
    /* The limit cuts an extent short. */
    vdisk_host_kind k;
    uint64_t e;
    assert_int_equal(vdisk_host_extent(f, 512 * KiB, 600 * KiB, &k, &e, NULL), 0);
    assert_int_equal(e, 600 * KiB);
    assert_int_equal(vdisk_host_extent(f, 5, 5, &k, &e, NULL), -EINVAL);
    vdisk_file_close(f);
}

static void
test_allocated_and_zero(void **state)
{
    vdisk_file *f = layout();
    if (!have_fiemap(f)) {
        vdisk_file_close(f);
        skip();
    }
    uint64_t bytes;
    bool zero;
    assert_int_equal(vdisk_host_allocated(f, 0, MiB, &bytes, NULL), 0);
    assert_int_equal(bytes, 192 * KiB);
    assert_int_equal(vdisk_host_allocated(f, 300 * KiB, 300 * KiB, &bytes, NULL), 0);
    assert_int_equal(bytes, 20 * KiB + 88 * KiB);
    assert_int_equal(vdisk_host_reads_zero(f, 320 * KiB, 320 * KiB, &zero, NULL), 0);
    assert_true(zero);
    assert_int_equal(vdisk_host_reads_zero(f, 0, 300 * KiB, &zero, NULL), 0);
    assert_false(zero);
    vdisk_file_close(f);
}

static void
test_dirty_data_is_data(void **state)
{
    /* Written into a reservation but not yet on disk: ext4 still has the
     * extent unwritten; it must read as data, or sparsify would punch it. */
    vdisk_file *f = layout();
    if (!have_fiemap(f)) {
        vdisk_file_close(f);
        skip();
    }
    uint8_t b[4 * KiB];
    unit_pattern(b, sizeof(b), 2);
    assert_int_equal(pwrite(vdisk_file_host_fd(f), b, sizeof(b), 576 * KiB), (ssize_t)sizeof(b));
    expect(f, 512 * KiB, VDISK_HOST_UNWRITTEN, 576 * KiB);
    expect(f, 576 * KiB, VDISK_HOST_DATA, 580 * KiB);
    vdisk_file_close(f);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_kinds, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_allocated_and_zero, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_dirty_data_is_data, unit_setup, unit_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
