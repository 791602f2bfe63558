/* Unit tests for core/lock.c: QEMU-compatible OFD image locks.
 *
 * The expected lock bytes are those /proc/locks shows for QEMU 7.2's own
 * tools on the same kind of open (qemu-io rw / -r / -U, on raw and qcow2),
 * and they are observed here through a second, independent descriptor with
 * F_OFD_GETLK -- not through the code under test. */
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
#include <cmocka.h>

#include "fixture.h"

#include <vdisk/vdisk.h>
#include "driver.h"
#include "lock.h"

/* Bitmask of which of bytes 100..103 (bits 0-3) and 200..203 (bits 4-7)
 * another descriptor holds, seen from a fresh descriptor of path. */
static unsigned
locked_bytes(const char *path)
{
    int fd = open(path, O_RDONLY);
    assert_true(fd >= 0);
    unsigned m = 0;
    for (int i = 0; i < 8; i++) {
        struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET,
                            .l_start = (i < 4 ? 100 : 196) + i, .l_len = 1 };
        assert_int_equal(fcntl(fd, F_OFD_GETLK, &fl), 0);
        if (fl.l_type != F_UNLCK)
            m |= 1u << i;
    }
    close(fd);
    return m;
}

#define B(n) (1u << ((n) < 200 ? (n) - 100 : (n) - 196))

/* A descriptor holding shared locks on the given bytes, as another QEMU
 * process would. */
static int
hold_bytes(const char *path, const int *bytes, int n)
{
    int fd = open(path, O_RDONLY);
    assert_true(fd >= 0);
    for (int i = 0; i < n; i++) {
        struct flock fl = { .l_type = F_RDLCK, .l_whence = SEEK_SET, .l_start = bytes[i], .l_len = 1 };
        assert_int_equal(fcntl(fd, F_OFD_SETLK, &fl), 0);
    }
    return fd;
}

static const char *
make_image(const char *name, vdisk_format fmt)
{
    const char *path = unit_path(0, name);
    vdisk_create_opts o;
    vdisk_error err;
    vdisk_create_opts_init(&o, fmt);
    o.size = 4 * MiB;
    assert_int_equal(vdisk_create(path, &o, NULL, NULL, &err), 0);
    vdisk_create_opts_clear(&o);
    return path;
}

static int
open_img(const char *path, vdisk_format fmt, unsigned flags, vdisk_image **img, vdisk_error *err)
{
    vdisk_open_opts oo = { .format = fmt, .flags = flags };
    return vdisk_open(path, &oo, img, err);
}

/* The bytes each kind of open holds, as qemu-io holds them. */
static void
test_bytes_per_open(void **state)
{
    (void)state;
    static const struct {
        vdisk_format fmt;
        unsigned flags;
        unsigned bytes;
    } cases[] = {
        { VDISK_FORMAT_QCOW2, VDISK_OPEN_RDWR, B(100) | B(101) | B(103) | B(201) | B(203) },
        { VDISK_FORMAT_QCOW2, 0, B(100) | B(201) | B(203) },
        { VDISK_FORMAT_QCOW2, VDISK_OPEN_FORCE_SHARE, B(100) },
        { VDISK_FORMAT_RAW, VDISK_OPEN_RDWR, B(100) | B(101) },
        { VDISK_FORMAT_RAW, 0, B(100) },
        { VDISK_FORMAT_RAW, VDISK_OPEN_FORCE_SHARE, B(100) },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *path = make_image(cases[i].fmt == VDISK_FORMAT_RAW ? "a.raw" : "a.qcow2",
                                      cases[i].fmt);
        vdisk_image *img;
        vdisk_error err;
        assert_int_equal(open_img(path, cases[i].fmt, cases[i].flags, &img, &err), 0);
        assert_int_equal(locked_bytes(path), cases[i].bytes);
        assert_int_equal(vdisk_close(img, &err), 0);
        assert_int_equal(locked_bytes(path), 0);   /* close releases everything */
    }
}

/* Another process writing a qcow2 image (qemu-io rw: 100,101,103,201,203):
 * write and plain read-only opens are refused, -U is allowed. */
static void
test_writer_holds(void **state)
{
    (void)state;
    const char *path = make_image("w.qcow2", VDISK_FORMAT_QCOW2);
    static const int writer[] = { 100, 101, 103, 201, 203 };
    int fd = hold_bytes(path, writer, 5);
    vdisk_image *img;
    vdisk_error err;
    assert_int_equal(open_img(path, VDISK_FORMAT_QCOW2, VDISK_OPEN_RDWR, &img, &err), -EBUSY);
    assert_non_null(strstr(err.message, "image is in use"));
    assert_non_null(strstr(err.message, "Failed to get \"write\" lock"));
    assert_non_null(strstr(err.message, path));
    assert_int_equal(open_img(path, VDISK_FORMAT_QCOW2, 0, &img, &err), -EBUSY);
    assert_non_null(strstr(err.message, "Failed to get shared \"write\" lock"));
    assert_int_equal(open_img(path, VDISK_FORMAT_QCOW2, VDISK_OPEN_FORCE_SHARE, &img, &err), 0);
    assert_int_equal(vdisk_close(img, &err), 0);
    close(fd);
    /* Refused opens left nothing behind. */
    assert_int_equal(locked_bytes(path), 0);
}

/* A reader (qemu-img info: 100,201,203) blocks writers only. */
static void
test_reader_holds(void **state)
{
    (void)state;
    const char *path = make_image("r.qcow2", VDISK_FORMAT_QCOW2);
    static const int reader[] = { 100, 201, 203 };
    int fd = hold_bytes(path, reader, 3);
    vdisk_image *img;
    vdisk_error err;
    assert_int_equal(open_img(path, VDISK_FORMAT_QCOW2, VDISK_OPEN_RDWR, &img, &err), -EBUSY);
    assert_int_equal(open_img(path, VDISK_FORMAT_QCOW2, 0, &img, &err), 0);
    assert_int_equal(vdisk_close(img, &err), 0);
    close(fd);
}

/* Two descriptors in one process conflict as two processes do. */
static void
test_same_process(void **state)
{
    (void)state;
    const char *path = make_image("s.qcow2", VDISK_FORMAT_QCOW2);
    vdisk_image *a, *b;
    vdisk_error err;
    assert_int_equal(open_img(path, VDISK_FORMAT_QCOW2, VDISK_OPEN_RDWR, &a, &err), 0);
    assert_int_equal(open_img(path, VDISK_FORMAT_QCOW2, VDISK_OPEN_RDWR, &b, &err), -EBUSY);
    assert_int_equal(vdisk_close(a, &err), 0);
    assert_int_equal(open_img(path, VDISK_FORMAT_QCOW2, 0, &a, &err), 0);
    assert_int_equal(open_img(path, VDISK_FORMAT_QCOW2, 0, &b, &err), 0);
    vdisk_close(a, NULL);
    vdisk_close(b, NULL);
}

/* The backing file of a writable overlay is locked as a read-only node. */
static void
test_backing_locked(void **state)
{
    (void)state;
    const char *base = make_image("base.qcow2", VDISK_FORMAT_QCOW2);
    const char *top = unit_path(1, "top.qcow2");
    vdisk_create_opts o;
    vdisk_error err;
    vdisk_create_opts_init(&o, VDISK_FORMAT_QCOW2);
    o.backing_file = strdup("base.qcow2");
    o.backing_format = VDISK_FORMAT_QCOW2;
    assert_int_equal(vdisk_create(top, &o, NULL, NULL, &err), 0);
    vdisk_create_opts_clear(&o);
    vdisk_image *img;
    assert_int_equal(open_img(top, VDISK_FORMAT_QCOW2, VDISK_OPEN_RDWR, &img, &err), 0);
    assert_int_equal(locked_bytes(base), B(100) | B(201) | B(203));
    vdisk_close(img, NULL);
    /* A writer of the base makes the overlay unopenable, naming the base. */
    static const int writer[] = { 100, 101, 103, 201, 203 };
    int fd = hold_bytes(base, writer, 5);
    assert_int_equal(open_img(top, VDISK_FORMAT_QCOW2, 0, &img, &err), -EBUSY);
    assert_non_null(strstr(err.message, "base.qcow2: image is in use"));
    assert_int_equal(locked_bytes(top), 0);
    close(fd);
}

/* qemu-img convert's source does not share writes, down its chain: a raw
 * backing file then holds 100, 201, 203 (as /proc/locks shows for
 * qemu-img convert of a qcow2 overlay on a raw file). */
static void
test_no_share_chain(void **state)
{
    (void)state;
    const char *base = make_image("base.raw", VDISK_FORMAT_RAW);
    const char *top = unit_path(1, "top.qcow2");
    vdisk_create_opts o;
    vdisk_error err;
    vdisk_create_opts_init(&o, VDISK_FORMAT_QCOW2);
    o.backing_file = strdup("base.raw");
    o.backing_format = VDISK_FORMAT_RAW;
    assert_int_equal(vdisk_create(top, &o, NULL, NULL, &err), 0);
    vdisk_create_opts_clear(&o);
    vdisk_image *img;
    assert_int_equal(open_img(top, VDISK_FORMAT_QCOW2, VDISK_OPEN_NO_SHARE, &img, &err), 0);
    assert_int_equal(locked_bytes(base), B(100) | B(201) | B(203));
    assert_int_equal(locked_bytes(top), B(100) | B(201) | B(203));
    vdisk_close(img, NULL);
    /* Opened plainly, the raw backing file shares everything. */
    assert_int_equal(open_img(top, VDISK_FORMAT_QCOW2, 0, &img, &err), 0);
    assert_int_equal(locked_bytes(base), B(100));
    vdisk_close(img, NULL);
}

/* Creating over an image in use is refused and leaves it untouched. */
static void
test_create_in_use(void **state)
{
    (void)state;
    const char *path = make_image("c.qcow2", VDISK_FORMAT_QCOW2);
    struct stat before, after;
    assert_int_equal(stat(path, &before), 0);
    static const int writer[] = { 100, 101, 103, 201, 203 };
    int fd = hold_bytes(path, writer, 5);
    vdisk_create_opts o;
    vdisk_error err;
    vdisk_create_opts_init(&o, VDISK_FORMAT_RAW);
    o.size = MiB;
    assert_int_equal(vdisk_create(path, &o, NULL, NULL, &err), -EBUSY);
    assert_non_null(strstr(err.message, "image is in use"));
    assert_int_equal(stat(path, &after), 0);
    assert_int_equal(after.st_size, before.st_size);
    close(fd);
    assert_int_equal(vdisk_create(path, &o, NULL, NULL, &err), 0);
}

static void
test_force_share_read_only(void **state)
{
    (void)state;
    const char *path = make_image("f.qcow2", VDISK_FORMAT_QCOW2);
    vdisk_image *img;
    vdisk_error err;
    assert_int_equal(open_img(path, VDISK_FORMAT_QCOW2, VDISK_OPEN_RDWR | VDISK_OPEN_FORCE_SHARE,
                              &img, &err), -EINVAL);
    assert_non_null(strstr(err.message, "read-only"));
}

/* Changing what a descriptor holds (a reopen) and giving it all back. */
static void
test_acquire_release(void **state)
{
    (void)state;
    const char *path = make_image("x.raw", VDISK_FORMAT_RAW);
    int fd = open(path, O_RDONLY);
    vdisk_lock lk = { 0 };
    vdisk_error err;
    assert_int_equal(vdisk_lock_acquire(fd, path, &lk, VDISK_PERM_CONSISTENT_READ,
                                        VDISK_PERM_ALL & ~VDISK_PERM_WRITE, &err), 0);
    assert_int_equal(locked_bytes(path), B(100) | B(201));
    assert_int_equal(vdisk_lock_acquire(fd, path, &lk, VDISK_PERM_CONSISTENT_READ | VDISK_PERM_WRITE,
                                        VDISK_PERM_ALL, &err), 0);
    assert_int_equal(locked_bytes(path), B(100) | B(101));
    /* A conflicting upgrade keeps what was held. */
    static const int other[] = { 203 };
    int ofd = hold_bytes(path, other, 1);
    assert_int_equal(vdisk_lock_acquire(fd, path, &lk, VDISK_PERM_RESIZE, VDISK_PERM_ALL, &err), -EBUSY);
    assert_non_null(strstr(err.message, "\"resize\""));
    close(ofd);
    assert_int_equal(locked_bytes(path), B(100) | B(101));
    vdisk_lock_release(fd, &lk);
    assert_int_equal(locked_bytes(path), 0);
    close(fd);
    assert_string_equal(vdisk_lock_perm_name(VDISK_PERM_WRITE_UNCHANGED), "write unchanged");
}

/* A raw image opened for writing asks for resize before resizing: refused
 * while someone (qemu-nbd: 100,101,203) does not share it. */
static void
test_add_perms(void **state)
{
    (void)state;
    const char *path = make_image("p.raw", VDISK_FORMAT_RAW);
    vdisk_image *img;
    vdisk_error err;
    assert_int_equal(open_img(path, VDISK_FORMAT_RAW, VDISK_OPEN_RDWR, &img, &err), 0);
    static const int nbd[] = { 203 };
    int fd = hold_bytes(path, nbd, 1);
    assert_int_equal(vdisk_image_add_perms(img, VDISK_PERM_RESIZE, &err), -EBUSY);
    assert_non_null(strstr(err.message, "Failed to get \"resize\" lock"));
    close(fd);
    assert_int_equal(vdisk_image_add_perms(img, VDISK_PERM_RESIZE, &err), 0);
    assert_int_equal(locked_bytes(path), B(100) | B(101) | B(103));
    vdisk_close(img, NULL);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_bytes_per_open, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_writer_holds, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_reader_holds, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_same_process, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_backing_locked, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_no_share_chain, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_create_in_use, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_force_share_read_only, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_acquire_release, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_add_perms, unit_setup, unit_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
