/* Unit tests for core/qcow2/backing.c: the backing name and format
 * written into the header cluster, removed again, refused when too long or
 * when the header cluster has no room, and unknown header extensions kept. */
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
#include "qcow2/qcow2.h"

#define TEST(f) cmocka_unit_test_setup_teardown(f, unit_setup, unit_teardown)

static vdisk_image *
reopen(vdisk_image *img, const char *path, unsigned flags)
{
    vdisk_error err;
    assert_int_equal(vdisk_close(img, &err), 0);
    vdisk_open_opts oo = { .format = VDISK_FORMAT_QCOW2, .flags = flags };
    assert_int_equal(vdisk_open(path, &oo, &img, &err), 0);
    return img;
}

static void
test_set_backing_round_trip(void **state)
{
    (void)state;
    const char *path = unit_path(0, "g.qcow2");
    vdisk_image *img = unit_make_qcow2(path, NULL, MiB, VDISK_OPEN_RDWR);
    vdisk_error err;
    assert_int_equal(qcow2_set_backing(img, "dir/base image.raw", "raw", &err), 0);
    img = reopen(img, path, VDISK_OPEN_RDWR | VDISK_OPEN_NO_BACKING);
    vdisk_info info;
    assert_int_equal(vdisk_get_info(img, &info, &err), 0);
    assert_string_equal(info.backing_file, "dir/base image.raw");
    assert_string_equal(info.backing_format, "raw");
    vdisk_info_clear(&info);
    char longname[1100];
    memset(longname, 'x', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = '\0';
    assert_int_equal(qcow2_set_backing(img, longname, "raw", &err), -EINVAL);
    assert_int_equal(qcow2_set_backing(img, NULL, NULL, &err), 0);
    img = reopen(img, path, VDISK_OPEN_RDWR);
    assert_int_equal(vdisk_get_info(img, &info, &err), 0);
    assert_null(info.backing_file);
    assert_null(info.backing_format);
    vdisk_info_clear(&info);
    vdisk_close(img, &err);
}

static void
test_set_backing_no_room(void **state)
{
    (void)state;
    const char *path = unit_path(0, "h.qcow2");
    vdisk_image *img = unit_make_qcow2(path, "cluster_size=512", MiB, VDISK_OPEN_RDWR);
    vdisk_error err;
    char name[600];
    memset(name, 'n', sizeof(name) - 1);
    name[sizeof(name) - 1] = '\0';
    assert_int_equal(qcow2_set_backing(img, name, "qcow2", &err), -ENOSPC);
    assert_non_null(strstr(err.message, "h.qcow2"));
    img = reopen(img, path, VDISK_OPEN_RDWR);
    assert_null(vdisk_get_backing(img));
    vdisk_close(img, &err);
}

/* An extension no driver knows (magic 0x1badcafe) before the end marker. */
static const uint8_t unknown_ext[16] = { 0x1b, 0xad, 0xca, 0xfe, 0, 0, 0, 5,
                                         'h', 'e', 'l', 'l', 'o', 0, 0, 0 };

static size_t
find_bytes(const uint8_t *h, size_t n, const uint8_t *what, size_t len)
{
    for (size_t i = 0; i + len <= n; i++)
        if (memcmp(h + i, what, len) == 0)
            return i;
    return 0;
}

static void
test_unknown_extension_kept(void **state)
{
    (void)state;
    const char *path = unit_path(0, "u.qcow2");
    vdisk_image *img = unit_make_qcow2(path, NULL, MiB, 0);
    vdisk_close(img, NULL);
    uint8_t h[4096];
    int fd = open(path, O_RDWR);
    assert_true(fd >= 0);
    assert_int_equal(pread(fd, h, sizeof(h), 0), (ssize_t)sizeof(h));
    /* Walk to the end marker and put the unknown extension there. */
    size_t p = qcow2_be32(h + 100);
    while (qcow2_be32(h + p) != 0)
        p += 8 + ((qcow2_be32(h + p + 4) + 7) & ~7u);
    memmove(h + p + sizeof(unknown_ext), h + p, 8);
    memcpy(h + p, unknown_ext, sizeof(unknown_ext));
    assert_int_equal(pwrite(fd, h, sizeof(h), 0), (ssize_t)sizeof(h));
    close(fd);
    vdisk_open_opts oo = { .format = VDISK_FORMAT_QCOW2, .flags = VDISK_OPEN_RDWR };
    vdisk_error err;
    assert_int_equal(vdisk_open(path, &oo, &img, &err), 0);
    assert_int_equal(qcow2_set_backing(img, "base.raw", "raw", &err), 0);
    vdisk_close(img, NULL);
    fd = open(path, O_RDONLY);
    assert_int_equal(pread(fd, h, sizeof(h), 0), (ssize_t)sizeof(h));
    close(fd);
    assert_true(find_bytes(h, sizeof(h), unknown_ext, sizeof(unknown_ext)) > 0);
    uint64_t name_off = qcow2_be64(h + 8);
    assert_int_equal(qcow2_be32(h + 16), 8);
    assert_memory_equal(h + name_off, "base.raw", 8);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        TEST(test_set_backing_round_trip),
        TEST(test_set_backing_no_room),
        TEST(test_unknown_extension_kept),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
