/* Unit tests for the protocol table (core/file.c dispatching to
 * core/protocol/file.c): what every protocol answers, with the file
 * protocol -- identity, zero-initialisation, removal of failed creates,
 * locks through the table, the host descriptor; and the errors of names
 * whose protocol is rbd or nbd, without any server. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include <vdisk/protocol.h>

#include "fixture.h"

#include "file.h"

static vdisk_file *
create(const char *path)
{
    vdisk_file *f = NULL;
    vdisk_error err = { 0 };
    if (vdisk_file_create(path, false, &f, &err) < 0)
        fail_msg("%s", err.message);
    return f;
}

static bool
exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

static void
test_file_is_the_protocol_of_paths(void **state)
{
    vdisk_file *f = create(unit_path(0, "a.raw"));
    assert_string_equal(vdisk_file_protocol(f), "file");
    assert_true(vdisk_file_host_fd(f) >= 0);
    struct stat a, b;
    assert_int_equal(fstat(vdisk_file_host_fd(f), &a), 0);
    assert_int_equal(stat(unit_path(0, "a.raw"), &b), 0);
    assert_int_equal(a.st_ino, b.st_ino);
    vdisk_file_close(f);
}

static void
test_same_as_follows_the_file_not_the_name(void **state)
{
    char path[512], sym[512], hard[512], other[512];
    snprintf(path, sizeof(path), "%s", unit_path(0, "a.raw"));
    snprintf(sym, sizeof(sym), "%s", unit_path(1, "sym.raw"));
    snprintf(hard, sizeof(hard), "%s", unit_path(2, "hard.raw"));
    snprintf(other, sizeof(other), "%s", unit_path(3, "b.raw"));
    vdisk_file *f = create(path);
    vdisk_file_close(create(other));
    assert_int_equal(symlink(path, sym), 0);
    assert_int_equal(link(path, hard), 0);
    assert_true(vdisk_file_same_as(f, path));
    assert_true(vdisk_file_same_as(f, sym));
    assert_true(vdisk_file_same_as(f, hard));
    assert_false(vdisk_file_same_as(f, other));
    assert_false(vdisk_file_same_as(f, unit_path(0, "missing.raw")));
    assert_false(vdisk_file_same_as(f, "rbd:pool/a.raw"));
    assert_false(vdisk_file_same_as(f, "nbd+unix:///?socket=/nowhere"));
    vdisk_file_close(f);
}

static void
test_zero_init(void **state)
{
    vdisk_file *f = create(unit_path(0, "a.raw"));
    assert_true(vdisk_file_has_zero_init(f));
    vdisk_file_close(f);
    /* A device keeps what it held: a copy into it must write its zeros. */
    vdisk_error err;
    assert_int_equal(vdisk_file_open("/dev/zero", 0, &f, &err), 0);
    assert_false(vdisk_file_has_zero_init(f));
    vdisk_file_close(f);
}

static void
test_abandon_removes_only_regular_files(void **state)
{
    vdisk_file *f = create(unit_path(0, "half.raw"));
    assert_true(exists(unit_path(0, "half.raw")));
    vdisk_file_abandon(f);
    assert_false(exists(unit_path(0, "half.raw")));
    /* A device given as the target is never unlinked. */
    vdisk_error err = { 0 };
    assert_int_equal(vdisk_file_create("/dev/null", false, &f, &err), 0);
    vdisk_file_abandon(f);
    assert_true(exists("/dev/null"));
}

static void
test_remove_by_name(void **state)
{
    char path[512], sym[512];
    snprintf(path, sizeof(path), "%s", unit_path(0, "t.raw"));
    snprintf(sym, sizeof(sym), "%s", unit_path(1, "t-link.raw"));
    vdisk_file_close(create(path));
    assert_int_equal(symlink(path, sym), 0);
    vdisk_file_remove(sym);             /* a symlink is not the file we made */
    assert_true(exists(sym) && exists(path));
    vdisk_file_remove(path);
    assert_false(exists(path));
    vdisk_file_remove("/dev/null");     /* nor is a device */
    assert_true(exists("/dev/null"));
    vdisk_file_remove("rbd:");          /* a malformed name removes nothing */
}

/* Locks through the table are QEMU's OFD bytes: a second handle that wants
 * to write is refused while the first holds "write" unshared. */
static void
test_lock_through_the_table(void **state)
{
    const char *path = unit_path(0, "l.raw");
    vdisk_file_close(create(path));
    vdisk_file *a, *b;
    vdisk_error err = { 0 };
    assert_int_equal(vdisk_file_open(path, VDISK_OPEN_RDWR, &a, &err), 0);
    assert_int_equal(vdisk_file_open(path, VDISK_OPEN_RDWR, &b, &err), 0);
    unsigned all = VDISK_PERM_ALL;
    assert_int_equal(vdisk_file_lock(a, VDISK_PERM_CONSISTENT_READ, all & ~(unsigned)VDISK_PERM_WRITE, &err), 0);
    assert_int_equal(vdisk_file_lock(b, VDISK_PERM_CONSISTENT_READ | VDISK_PERM_WRITE, all, &err), -EBUSY);
    assert_non_null(strstr(err.message, "image is in use"));
    assert_non_null(strstr(err.message, "l.raw"));
    /* Adding a permission keeps what was asked before. */
    assert_int_equal(vdisk_file_add_perms(a, VDISK_PERM_RESIZE, &err), 0);
    assert_int_equal(a->lock_perm, VDISK_PERM_CONSISTENT_READ | VDISK_PERM_RESIZE);
    assert_int_equal(a->lock_shared, all & ~(unsigned)VDISK_PERM_WRITE);
    assert_int_equal(vdisk_file_add_perms(a, VDISK_PERM_RESIZE, &err), 0);   /* held: no-op */
    vdisk_file_close(a);
    assert_int_equal(vdisk_file_lock(b, VDISK_PERM_CONSISTENT_READ | VDISK_PERM_WRITE, all, &err), 0);
    vdisk_file_close(b);
}

/* Names of the other protocols fail cleanly without a server, naming the
 * image (or the build that lacks them). */
static void
test_rbd_and_nbd_names_without_servers(void **state)
{
    vdisk_file *f = NULL;
    vdisk_error err = { 0 };
    char name[600];
    snprintf(name, sizeof(name), "rbd:pool/img:conf=%s", unit_path(0, "none.conf"));
    assert_true(vdisk_file_open(name, 0, &f, &err) < 0);
    assert_null(f);
    assert_non_null(strstr(err.message, name));
    if (vdisk_protocol_supported("rbd"))
        assert_non_null(strstr(err.message, "configuration file"));
    else
        assert_int_equal(err.code, -ENOTSUP);

    snprintf(name, sizeof(name), "nbd+unix:///e?socket=%s", unit_path(0, "none.sock"));
    assert_true(vdisk_file_create(name, false, &f, &err) < 0);
    assert_null(f);
    assert_non_null(strstr(err.message, name));
    if (!vdisk_protocol_supported("nbd"))
        assert_int_equal(err.code, -ENOTSUP);

    assert_int_equal(vdisk_file_open("rbd:pool", 0, &f, &err), -EINVAL);
    assert_non_null(strstr(err.message, "invalid RBD image name"));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_file_is_the_protocol_of_paths, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_same_as_follows_the_file_not_the_name, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_zero_init, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_abandon_removes_only_regular_files, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_remove_by_name, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_lock_through_the_table, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_rbd_and_nbd_names_without_servers, unit_setup, unit_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
