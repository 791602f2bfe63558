/* Unit tests for core/error.c: messages, and the kinds errors carry --
 * defaulted from the errno, named where raised, kept by a prefix -- and the
 * kinds representative operations raise (expected kinds from what happened
 * to the file, not from our own output). */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>
#include <cmocka.h>

#include <vdisk/vdisk.h>

#include "fixture.h"

static void
test_set_returns_negative_errno(void **state)
{
    vdisk_error err;
    assert_int_equal(vdisk_error_set(&err, EINVAL, "disk.qcow2: L2 table at 0x%x is not aligned", 0x50000),
                     -EINVAL);
    assert_int_equal(err.code, -EINVAL);
    assert_string_equal(err.message, "disk.qcow2: L2 table at 0x50000 is not aligned");
}

static void
test_set_null_error_is_allowed(void **state)
{
    assert_int_equal(vdisk_error_set(NULL, EIO, "ignored"), -EIO);
}

static void
test_set_errno_appends_strerror(void **state)
{
    vdisk_error err;
    vdisk_error_set_errno(&err, ENOENT, "pread: %s", "x.raw");
    assert_string_equal(err.message, "pread: x.raw: No such file or directory");
}

static void
test_prefix(void **state)
{
    vdisk_error err;
    vdisk_error_set(&err, EIO, "inner");
    vdisk_error_prefix(&err, "outer %d", 1);
    assert_string_equal(err.message, "outer 1: inner");
}

static void
test_prefix_keeps_buffer_terminated(void **state)
{
    vdisk_error err;
    char big[VDISK_ERROR_MAX * 2];
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    vdisk_error_set(&err, EIO, "%s", big);
    vdisk_error_prefix(&err, "%s", "ctx");
    assert_int_equal(strlen(err.message), VDISK_ERROR_MAX - 1);
    assert_memory_equal(err.message, "ctx: aaa", 8);
}

/* ---- kinds ------------------------------------------------------------- */

static void
test_kind_defaults_from_errno(void **state)
{
    static const struct { int errnum; vdisk_error_kind kind; } cases[] = {
        { ENOENT, VDISK_ERR_NOT_FOUND }, { EEXIST, VDISK_ERR_EXISTS },
        { EINVAL, VDISK_ERR_INVALID }, { EBUSY, VDISK_ERR_IN_USE },
        { ENOSPC, VDISK_ERR_NO_SPACE }, { EDQUOT, VDISK_ERR_NO_SPACE },
        { ENOTSUP, VDISK_ERR_UNSUPPORTED }, { EOPNOTSUPP, VDISK_ERR_UNSUPPORTED },
        { EACCES, VDISK_ERR_PERMISSION }, { EPERM, VDISK_ERR_PERMISSION },
        { EROFS, VDISK_ERR_READ_ONLY }, { EIO, VDISK_ERR_IO },
        { ECANCELED, VDISK_ERR_CANCELLED }, { ENOMEM, VDISK_ERR_NO_MEMORY },
        /* errnos that do not say what happened */
        { ERANGE, VDISK_ERR_FAILED }, { ELOOP, VDISK_ERR_FAILED }, { EFBIG, VDISK_ERR_FAILED },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        vdisk_error err;
        assert_int_equal(vdisk_error_set(&err, cases[i].errnum, "x"), -cases[i].errnum);
        assert_int_equal(err.kind, cases[i].kind);
        vdisk_error_set_errno(&err, cases[i].errnum, "y");
        assert_int_equal(err.kind, cases[i].kind);
        assert_int_equal(vdisk_error_kind_from_errno(cases[i].errnum), cases[i].kind);
    }
}

static void
test_set_kind_names_what_the_errno_does_not(void **state)
{
    vdisk_error err;
    assert_int_equal(vdisk_error_set_kind(&err, VDISK_ERR_CORRUPT, EINVAL, "d.qcow2: L1 at 0x%x", 0x200),
                     -EINVAL);
    assert_int_equal(err.code, -EINVAL);
    assert_int_equal(err.kind, VDISK_ERR_CORRUPT);
    assert_string_equal(err.message, "d.qcow2: L1 at 0x200");
    assert_int_equal(vdisk_error_set_kind(NULL, VDISK_ERR_CORRUPT, EIO, "ignored"), -EIO);
}

static void
test_prefix_and_clear_keep_kind_consistent(void **state)
{
    vdisk_error err;
    vdisk_error_set_kind(&err, VDISK_ERR_CORRUPT, EIO, "inner");
    vdisk_error_prefix(&err, "outer");
    assert_int_equal(err.kind, VDISK_ERR_CORRUPT);
    assert_int_equal(err.code, -EIO);
    vdisk_error_clear(&err);
    assert_int_equal(err.kind, VDISK_ERR_NONE);
    assert_int_equal(err.code, 0);
    assert_string_equal(err.message, "");
}

/* A reason rides along with the error until the next one replaces it. */
static void
test_reason(void **state)
{
    (void)state;
    vdisk_error err = { 0 };
    assert_int_equal(vdisk_error_set_reason(&err, VDISK_REASON_L1_TOO_SMALL,
                                            vdisk_error_set_kind(&err, VDISK_ERR_CORRUPT, EINVAL, "%s: L1", "f")),
                     -EINVAL);
    assert_int_equal(err.reason, VDISK_REASON_L1_TOO_SMALL);
    vdisk_error_prefix(&err, "open");
    assert_int_equal(err.reason, VDISK_REASON_L1_TOO_SMALL);
    assert_int_equal(err.kind, VDISK_ERR_CORRUPT);
    vdisk_error_set(&err, EIO, "other");
    assert_int_equal(err.reason, VDISK_REASON_NONE);
    vdisk_error_set_reason(&err, VDISK_REASON_IMAGE_TOO_BIG, -EIO);
    vdisk_error_clear(&err);
    assert_int_equal(err.reason, VDISK_REASON_NONE);
    assert_int_equal(vdisk_error_set_reason(NULL, VDISK_REASON_IMAGE_TOO_BIG, -EFBIG), -EFBIG);
}

static void
test_kind_names(void **state)
{
    assert_string_equal(vdisk_error_kind_name(VDISK_ERR_NOT_FOUND), "not found");
    assert_string_equal(vdisk_error_kind_name(VDISK_ERR_IN_USE), "in use");
    assert_string_equal(vdisk_error_kind_name(VDISK_ERR_CORRUPT), "corrupt");
    assert_string_equal(vdisk_error_kind_name(VDISK_ERR_NO_SPACE), "no space");
    /* Every kind has a name of its own; an unknown value has one too. */
    for (int a = VDISK_ERR_NONE; a <= VDISK_ERR_INVALID_STATE; a++) {
        assert_string_not_equal(vdisk_error_kind_name((vdisk_error_kind)a), "unknown");
        for (int b = VDISK_ERR_NONE; b < a; b++)
            assert_string_not_equal(vdisk_error_kind_name((vdisk_error_kind)a),
                                    vdisk_error_kind_name((vdisk_error_kind)b));
    }
    assert_string_equal(vdisk_error_kind_name((vdisk_error_kind)999), "unknown");
}

/* ---- kinds raised by operations ----------------------------------------- */

static int
open_path(const char *path, vdisk_format fmt, unsigned flags, vdisk_image **img, vdisk_error *err)
{
    vdisk_open_opts oo = { .format = fmt, .flags = flags };
    return vdisk_open(path, &oo, img, err);
}

static void
test_missing_file_is_not_found(void **state)
{
    vdisk_image *img;
    vdisk_error err;
    assert_int_equal(open_path(unit_path(0, "absent.qcow2"), VDISK_FORMAT_UNKNOWN, 0, &img, &err),
                     -ENOENT);
    assert_int_equal(err.kind, VDISK_ERR_NOT_FOUND);
}

/* The name a message begins with is recorded from the "%s: " convention,
 * moves with a prefix, and is dropped when the message no longer holds it. */
static void
test_leading_name_is_recorded(void **state)
{
    vdisk_error err;
    vdisk_error_set(&err, EINVAL, "%s: L2 table at 0x%x is not aligned", "disk.qcow2", 0x50000);
    assert_true(vdisk_error_names(&err, "disk.qcow2"));
    assert_false(vdisk_error_names(&err, "disk"));          /* a prefix of the name is not it */
    assert_false(vdisk_error_names(&err, "disk.qcow2x"));
    assert_true(vdisk_error_is_about(&err, "disk.qcow2"));
    vdisk_error_set(&err, EINVAL, "cannot read %s", "disk.qcow2");
    assert_false(vdisk_error_names(&err, "disk.qcow2"));    /* no leading name recorded */
    assert_false(vdisk_error_is_about(&err, "disk.qcow2"));
    vdisk_error_set(&err, EINVAL, "%s", "disk.qcow2: a whole message passed through");
    assert_false(vdisk_error_names(&err, "disk.qcow2"));    /* "%s" alone names nothing */
}

static void
test_prefix_moves_or_replaces_the_name(void **state)
{
    vdisk_error err;
    vdisk_error_set(&err, EIO, "%s: short read", "base.qcow2");
    vdisk_error_prefix(&err, "cannot create snapshot '%s'", "s1");
    assert_string_equal(err.message, "cannot create snapshot 's1': base.qcow2: short read");
    assert_false(vdisk_error_names(&err, "base.qcow2"));
    assert_true(vdisk_error_is_about(&err, "base.qcow2"));  /* still named, further right */
    vdisk_error_prefix(&err, "%s: cannot open backing file", "top.qcow2");
    assert_true(vdisk_error_names(&err, "top.qcow2"));
    vdisk_error_prefix_name(&err, "out.iso");
    assert_true(vdisk_error_names(&err, "out.iso"));
    assert_string_equal(err.message + err.name_len + 2,
                        "top.qcow2: cannot open backing file: cannot create snapshot 's1': "
                        "base.qcow2: short read");
    vdisk_error_clear(&err);
    assert_false(vdisk_error_is_about(&err, "out.iso"));
}

static void
test_name_recorded_inside_a_message(void **state)
{
    vdisk_error err;
    vdisk_error_set(&err, ENOENT, "Could not open '%s'", "a.raw");
    vdisk_error_name(&err, "a.raw");
    assert_true(vdisk_error_is_about(&err, "a.raw"));
    assert_false(vdisk_error_names(&err, "a.raw"));
    vdisk_error_name(&err, "b.raw");                         /* not in the message: nothing */
    assert_true(vdisk_error_is_about(&err, "a.raw"));
}

/* A name longer than the message can hold is not recorded as whole. */
static void
test_cut_name_is_not_recorded(void **state)
{
    char name[VDISK_ERROR_MAX + 16];
    memset(name, 'n', sizeof(name) - 1);
    name[sizeof(name) - 1] = '\0';
    vdisk_error err;
    vdisk_error_set(&err, EINVAL, "%s: too long", name);
    assert_false(vdisk_error_names(&err, name));
    assert_int_equal(err.name_len, 0);
}

/* A file that cannot be opened: the error is about that file. */
static void
test_open_error_is_about_the_file(void **state)
{
    const char *path = unit_path(0, "absent.qcow2");
    vdisk_image *img;
    vdisk_error err;
    assert_true(open_path(path, VDISK_FORMAT_UNKNOWN, 0, &img, &err) < 0);
    assert_true(vdisk_error_is_about(&err, path));
}

/* A second writer in this process takes the same OFD locks another
 * process would: the image is in use. */
static void
test_locked_image_is_in_use(void **state)
{
    const char *path = unit_path(0, "locked.qcow2");
    vdisk_image *a = unit_make_qcow2(path, NULL, MiB, VDISK_OPEN_RDWR), *b;
    vdisk_error err;
    assert_int_equal(open_path(path, VDISK_FORMAT_QCOW2, VDISK_OPEN_RDWR, &b, &err), -EBUSY);
    assert_int_equal(err.kind, VDISK_ERR_IN_USE);
    assert_int_equal(vdisk_close(a, &err), 0);
}

static void
test_existing_bitmap_exists(void **state)
{
    const char *path = unit_path(0, "bm.qcow2");
    vdisk_image *img = unit_make_qcow2(path, NULL, MiB, VDISK_OPEN_RDWR);
    vdisk_bitmap_op op = { .action = VDISK_BITMAP_ADD, .name = "b0" };
    vdisk_error err;
    assert_int_equal(vdisk_bitmap(img, &op, &err), 0);
    assert_int_equal(vdisk_bitmap(img, &op, &err), -EEXIST);
    assert_int_equal(err.kind, VDISK_ERR_EXISTS);
    op.action = VDISK_BITMAP_REMOVE;
    op.name = "nope";
    assert_int_equal(vdisk_bitmap(img, &op, &err), -ENOENT);
    assert_int_equal(err.kind, VDISK_ERR_NOT_FOUND);
    assert_int_equal(vdisk_close(img, &err), 0);
}

/* Overwrite 8 bytes of a file at off (a hostile or damaged header). */
static void
poke(const char *path, uint64_t off, uint64_t v)
{
    int fd = open(path, O_WRONLY);
    assert_true(fd >= 0);
    uint8_t b[8];
    for (int i = 7; i >= 0; i--, v >>= 8)
        b[i] = (uint8_t)v;
    assert_int_equal(pwrite(fd, b, 8, (off_t)off), 8);
    close(fd);
}

/* qcow2 header fields (docs/interop/qcow2.txt): the L1 table offset at
 * byte 40, the refcount table offset at 48.  An unaligned offset, or one
 * past the end of the file, is metadata no writer makes. */
static void
test_corrupt_qcow2_header_is_corrupt(void **state)
{
    static const struct { uint64_t field, value; } cases[] = {
        { 40, 0x10200 },                    /* L1 table not cluster aligned */
        { 48, UINT64_C(0x7000000000) },     /* refcount table past the end */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *path = unit_path(0, "bad.qcow2");
        vdisk_error err;
        assert_int_equal(vdisk_close(unit_make_qcow2(path, NULL, MiB, 0), &err), 0);
        poke(path, cases[i].field, cases[i].value);
        vdisk_image *img;
        assert_true(open_path(path, VDISK_FORMAT_QCOW2, 0, &img, &err) < 0);
        assert_int_equal(err.kind, VDISK_ERR_CORRUPT);
        assert_non_null(strstr(err.message, path));
    }
}

/* A file opened as ISO 9660 whose sectors from 16 on, where ECMA-119 puts
 * the volume descriptor set, are zeros. */
static void
test_damaged_iso_is_corrupt(void **state)
{
    const char *path = unit_path(0, "zero.iso");
    unit_write_file(path, 64 * 2048, NULL, 0, 0);
    vdisk_image *img;
    vdisk_error err;
    assert_true(open_path(path, VDISK_FORMAT_ISO, 0, &img, &err) < 0);
    assert_int_equal(err.kind, VDISK_ERR_CORRUPT);
}

/* Zeros opened as one of the foreign formats: each of them starts (or, for
 * a fixed VHD, ends) with a signature that zeros are not, so the file is
 * damaged for that format, not of a format vdisk does not know. */
static void
test_zeros_as_a_foreign_format_are_corrupt(void **state)
{
    static const vdisk_format fmts[] = { VDISK_FORMAT_VMDK, VDISK_FORMAT_VPC, VDISK_FORMAT_VHDX,
                                         VDISK_FORMAT_VDI, VDISK_FORMAT_QED, VDISK_FORMAT_PARALLELS };
    const char *path = unit_path(0, "zeros.img");
    unit_write_file(path, MiB, NULL, 0, 0);
    for (size_t i = 0; i < sizeof(fmts) / sizeof(fmts[0]); i++) {
        vdisk_image *img;
        vdisk_error err;
        assert_true(open_path(path, fmts[i], 0, &img, &err) < 0);
        if (err.kind != VDISK_ERR_CORRUPT)
            fail_msg("%s: kind %s: %s", vdisk_format_name(fmts[i]), vdisk_error_kind_name(err.kind),
                     err.message);
    }
}

/* A qcow2 header whose version field says 4: a format vdisk does not
 * know, not a damaged one; and a format with no driver at all. */
static void
test_unknown_version_and_format_are_unsupported(void **state)
{
    const char *path = unit_path(0, "v4.qcow2");
    vdisk_error err;
    vdisk_image *img;
    assert_int_equal(vdisk_close(unit_make_qcow2(path, NULL, MiB, 0), &err), 0);
    int fd = open(path, O_WRONLY);
    assert_true(fd >= 0);
    assert_int_equal(pwrite(fd, "\0\0\0\4", 4, 4), 4);
    close(fd);
    assert_int_equal(open_path(path, VDISK_FORMAT_QCOW2, 0, &img, &err), -ENOTSUP);
    assert_int_equal(err.kind, VDISK_ERR_UNSUPPORTED);

    vdisk_create_opts o;
    vdisk_create_opts_init(&o, VDISK_FORMAT_QCOW);
    o.size = MiB;
    assert_int_equal(vdisk_create(unit_path(1, "x.qcow"), &o, NULL, NULL, &err), -ENOTSUP);
    assert_int_equal(err.kind, VDISK_ERR_UNSUPPORTED);
}

/* A size no image can have is a bad argument, whatever its errno (EFBIG). */
static void
test_impossible_size_is_invalid(void **state)
{
    vdisk_create_opts o;
    vdisk_create_opts_init(&o, VDISK_FORMAT_QCOW2);
    o.size = UINT64_C(1) << 63;
    vdisk_error err;
    assert_int_equal(vdisk_create(unit_path(0, "huge.qcow2"), &o, NULL, NULL, &err), -EFBIG);
    assert_int_equal(err.kind, VDISK_ERR_INVALID);
}

/* A full disk: the process's file size limit (RLIMIT_FSIZE) stops the
 * writes of a fully preallocated image, as a full file system would. */
static void
test_full_disk_is_no_space(void **state)
{
    struct rlimit old, lim;
    assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
    void (*old_handler)(int) = signal(SIGXFSZ, SIG_IGN);   /* EFBIG, not a signal */
    lim = old;
    lim.rlim_cur = 256 * KiB;
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
    const char *path = unit_path(0, "full.raw");
    vdisk_create_opts o;
    vdisk_create_opts_init(&o, VDISK_FORMAT_RAW);
    o.size = 4 * MiB;
    o.prealloc = VDISK_PREALLOC_FULL;
    vdisk_error err;
    int r = vdisk_create(path, &o, NULL, NULL, &err);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
    signal(SIGXFSZ, old_handler);
    assert_true(r < 0);
    assert_int_equal(err.kind, VDISK_ERR_NO_SPACE);
    assert_int_equal(access(path, F_OK), -1);   /* nothing half-made left */
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_set_returns_negative_errno),
        cmocka_unit_test(test_set_null_error_is_allowed),
        cmocka_unit_test(test_set_errno_appends_strerror),
        cmocka_unit_test(test_prefix),
        cmocka_unit_test(test_prefix_keeps_buffer_terminated),
        cmocka_unit_test(test_kind_defaults_from_errno),
        cmocka_unit_test(test_set_kind_names_what_the_errno_does_not),
        cmocka_unit_test(test_prefix_and_clear_keep_kind_consistent),
        cmocka_unit_test(test_reason),
        cmocka_unit_test(test_kind_names),
        cmocka_unit_test(test_leading_name_is_recorded),
        cmocka_unit_test(test_prefix_moves_or_replaces_the_name),
        cmocka_unit_test(test_name_recorded_inside_a_message),
        cmocka_unit_test(test_cut_name_is_not_recorded),
        cmocka_unit_test_setup_teardown(test_open_error_is_about_the_file, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_missing_file_is_not_found, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_locked_image_is_in_use, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_existing_bitmap_exists, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_corrupt_qcow2_header_is_corrupt, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_damaged_iso_is_corrupt, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_zeros_as_a_foreign_format_are_corrupt, unit_setup,
                                        unit_teardown),
        cmocka_unit_test_setup_teardown(test_unknown_version_and_format_are_unsupported, unit_setup,
                                        unit_teardown),
        cmocka_unit_test_setup_teardown(test_impossible_size_is_invalid, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_full_disk_is_no_space, unit_setup, unit_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
