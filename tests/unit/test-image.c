/* Unit tests for core/image.c: the format-neutral handle. */
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

static vdisk_image *
open_as(const char *path, vdisk_format fmt, unsigned flags)
{
    vdisk_open_opts oo = { .format = fmt, .flags = flags };
    vdisk_image *img = NULL;
    vdisk_error err;
    int r = vdisk_open(path, &oo, &img, &err);
    if (r != 0)
        fail_msg("open %s: %s", path, err.message);
    return img;
}

static void
read_file(const char *path, void *buf, size_t len)
{
    int fd = open(path, O_RDONLY);
    assert_true(fd >= 0);
    assert_int_equal(pread(fd, buf, len, 0), (ssize_t)len);
    close(fd);
}

static void
test_open_errors(void **state)
{
    vdisk_image *img;
    vdisk_error err;
    assert_int_equal(vdisk_open(unit_path(0, "missing.raw"), NULL, &img, &err), -ENOENT);
    assert_non_null(strstr(err.message, "missing.raw"));
    assert_int_equal(vdisk_open(unit_tmpdir, NULL, &img, &err), -EISDIR);
    /* A file opened as iso must be one: the ISO driver checks the descriptors. */
    vdisk_open_opts oo = { .format = VDISK_FORMAT_ISO };
    unit_write_file(unit_path(0, "x.iso"), 64 * KiB, NULL, 0, 0);
    assert_int_equal(vdisk_open(unit_path(0, "x.iso"), &oo, &img, &err), -EINVAL);
    assert_non_null(strstr(err.message, "x.iso"));
    assert_int_equal(vdisk_close(NULL, &err), 0);
}

static void
test_bounds_checks(void **state)
{
    const char *p = unit_path(0, "b.raw");
    unit_write_file(p, 64 * KiB, NULL, 0, 0);
    vdisk_image *img = open_as(p, VDISK_FORMAT_RAW, VDISK_OPEN_RDWR);
    uint8_t buf[8192] = { 0 };
    vdisk_error err;
    assert_int_equal(vdisk_pread(img, buf, 4096, 60 * KiB, &err), 0);
    assert_int_equal(vdisk_pread(img, buf, 4097, 60 * KiB, &err), -EINVAL);
    assert_non_null(strstr(err.message, "b.raw"));
    assert_non_null(strstr(err.message, "past the end"));
    assert_int_equal(vdisk_pread(img, buf, 0, 64 * KiB, &err), 0);
    assert_int_equal(vdisk_pread(img, buf, 0, 64 * KiB + 1, &err), -EINVAL);
    assert_int_equal(vdisk_pread(img, buf, 2, UINT64_MAX, &err), -EINVAL);
    assert_int_equal(vdisk_pread(img, buf, UINT64_MAX, 2, &err), -EINVAL);
    assert_int_equal(vdisk_pwrite(img, buf, 1, 64 * KiB, &err), -EINVAL);
    assert_int_equal(vdisk_write_zeroes(img, 8192, 60 * KiB, 0, &err), -EINVAL);
    assert_int_equal(vdisk_discard(img, 8192, 60 * KiB, &err), -EINVAL);
    vdisk_extent e;
    assert_int_equal(vdisk_block_status(img, 0, 0, &e, &err), -EINVAL);
    assert_int_equal(vdisk_block_status(img, 60 * KiB, 8192, &e, &err), -EINVAL);
    /* Writes past the end did not grow the file. */
    struct stat st;
    assert_int_equal(stat(p, &st), 0);
    assert_int_equal(st.st_size, 64 * KiB);
    vdisk_close(img, NULL);
}

static void
test_read_only_refusal(void **state)
{
    const char *p = unit_path(0, "ro.raw");
    uint8_t ref[4096];
    memset(ref, 0x5c, sizeof(ref));
    unit_write_file(p, 64 * KiB, ref, sizeof(ref), 0);
    vdisk_image *img = open_as(p, VDISK_FORMAT_RAW, 0);
    assert_true(vdisk_is_read_only(img));
    uint8_t buf[4096] = { 0 };
    vdisk_error err;
    assert_int_equal(vdisk_pwrite(img, buf, sizeof(buf), 0, &err), -EROFS);
    assert_non_null(strstr(err.message, "read-only"));
    assert_int_equal(vdisk_write_zeroes(img, 4096, 0, 0, &err), -EROFS);
    assert_int_equal(vdisk_discard(img, 4096, 0, &err), -EROFS);
    assert_int_equal(vdisk_pwrite_compressed(img, buf, 4096, 0, &err), -EROFS);
    assert_int_equal(vdisk_flush(img, &err), 0);
    vdisk_close(img, NULL);
    read_file(p, buf, sizeof(buf));
    assert_memory_equal(buf, ref, sizeof(ref));
}

/* Try to write `magic` at off into a probed-raw image whose head holds
 * `head`; expect EPERM and an unchanged file. */
static void
expect_guarded(const char *p, const void *magic, size_t len, uint64_t off)
{
    uint8_t before[40 * 1024], after[40 * 1024];
    read_file(p, before, sizeof(before));
    vdisk_image *img = open_as(p, VDISK_FORMAT_UNKNOWN, VDISK_OPEN_RDWR);
    assert_int_equal(vdisk_get_format(img), VDISK_FORMAT_RAW);
    vdisk_error err;
    assert_int_equal(vdisk_pwrite(img, magic, len, off, &err), -EPERM);
    assert_non_null(strstr(err.message, "probed as raw"));
    vdisk_close(img, NULL);
    read_file(p, after, sizeof(after));
    assert_memory_equal(before, after, sizeof(before));
}

static void
test_probed_raw_head_guard(void **state)
{
    const char *p = unit_path(0, "guest.raw");
    unit_write_file(p, MiB, NULL, 0, 0);
    /* A qcow2 header (with a backing file name behind it) into sector 0. */
    uint8_t hdr[512] = { 'Q', 'F', 'I', 0xfb, 0, 0, 0, 3 };
    expect_guarded(p, hdr, sizeof(hdr), 0);
    /* A larger write that covers sector 0. */
    uint8_t *big = calloc(1, 64 * KiB);
    memcpy(big, hdr, 8);
    expect_guarded(p, big, 64 * KiB, 0);
    free(big);
    /* The LUKS magic. */
    expect_guarded(p, "LUKS\xba\xbe\0\1", 8, 0);
    /* Completing a magic from bytes already there. */
    unit_write_file(p, MiB, "QF", 2, 0);
    expect_guarded(p, "I\xfb", 2, 2);
    /* An ISO volume descriptor. */
    expect_guarded(p, "\1CD001", 6, 0x8000);

    /* Other writes to the head are fine. */
    vdisk_image *img = open_as(p, VDISK_FORMAT_UNKNOWN, VDISK_OPEN_RDWR);
    vdisk_error err;
    assert_int_equal(vdisk_pwrite(img, "hello", 5, 0, &err), 0);
    assert_int_equal(vdisk_pwrite(img, "QFI\xfb", 4, 512, &err), 0);
    assert_int_equal(vdisk_write_zeroes(img, 4096, 0, 0, &err), 0);
    vdisk_close(img, NULL);

    /* Naming the format lifts the guard. */
    img = open_as(p, VDISK_FORMAT_RAW, VDISK_OPEN_RDWR);
    assert_int_equal(vdisk_pwrite(img, hdr, sizeof(hdr), 0, &err), 0);
    vdisk_close(img, NULL);
    uint8_t got[8];
    read_file(p, got, sizeof(got));
    assert_memory_equal(got, hdr, 8);
}

static void
test_probed_iso_may_keep_its_magic(void **state)
{
    /* Opened as raw, an ISO may rewrite its own descriptor (it keeps
     * probing as what it was); turning it into qcow2 is not allowed. */
    const char *p = unit_path(0, "cd.iso");
    unit_write_file(p, 64 * KiB, "\1CD001\1", 7, 0x8000);
    vdisk_image *img = open_as(p, VDISK_FORMAT_RAW, VDISK_OPEN_RDWR);
    img->probed_raw = true;
    vdisk_error err;
    assert_int_equal(vdisk_pwrite(img, "\1CD001\1", 7, 0x8000, &err), 0);
    assert_int_equal(vdisk_pwrite(img, "QFI\xfb", 4, 0, &err), -EPERM);
    vdisk_close(img, NULL);
}

static void
test_backing_name_resolution(void **state)
{
    static const struct {
        const char *overlay, *backing, *want;
    } cases[] = {
        { "dir/top.qcow2", "base.qcow2", "dir/base.qcow2" },
        { "/a/b/top.qcow2", "../base.qcow2", "/a/b/../base.qcow2" },
        { "/a/b/top.qcow2", "/abs/base.qcow2", "/abs/base.qcow2" },
        { "top.qcow2", "base.qcow2", "base.qcow2" },
        { "dir/top.qcow2", "sub/base.qcow2", "dir/sub/base.qcow2" },
        { "dir/top.qcow2", "nbd:localhost:10809", "nbd:localhost:10809" },
        { "dir/top.qcow2", "sub/a:b.qcow2", "dir/sub/a:b.qcow2" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *got = vdisk_resolve_backing_name(cases[i].overlay, cases[i].backing);
        assert_non_null(got);
        assert_string_equal(got, cases[i].want);
        free(got);
    }
}

static void
test_chain_status_of_raw_is_its_own(void **state)
{
    const char *p = unit_path(0, "c.raw");
    uint8_t d[4096];
    memset(d, 1, sizeof(d));
    unit_write_file(p, MiB, d, sizeof(d), 64 * KiB);
    vdisk_image *img = open_as(p, VDISK_FORMAT_RAW, 0);
    vdisk_extent a, b;
    vdisk_error err;
    for (uint64_t off = 0; off < MiB; off += a.length) {
        assert_int_equal(vdisk_block_status(img, off, MiB - off, &a, &err), 0);
        assert_int_equal(vdisk_block_status_chain(img, off, MiB - off, &b, &err), 0);
        assert_int_equal(a.length, b.length);
        assert_int_equal(a.flags, b.flags);
        assert_int_equal(b.depth, 0);
        assert_true(b.flags & VDISK_EXTENT_ALLOCATED);
    }
    vdisk_close(img, NULL);
}

static void
test_direct_open_of_a_small_image(void **state)
{
    /* Probing reads 32 KiB + 6 bytes: with O_DIRECT on a 1000-byte file
     * that is an unaligned read across EOF. */
    const char *p = unit_path(0, "small.raw");
    uint8_t d[1000];
    memset(d, 7, sizeof(d));
    unit_write_file(p, sizeof(d), d, sizeof(d), 0);
    vdisk_open_opts oo = { .flags = VDISK_OPEN_DIRECT };
    vdisk_image *img;
    vdisk_error err;
    int r = vdisk_open(p, &oo, &img, &err);
    if (r == -EINVAL)
        skip();   /* no O_DIRECT on this file system */
    assert_int_equal(r, 0);
    uint8_t got[1000];
    assert_int_equal(vdisk_pread(img, got, sizeof(got), 0, &err), 0);
    assert_memory_equal(got, d, sizeof(d));
    vdisk_close(img, NULL);
}

static void
test_qcow2_backing_chain(void **state)
{
    /* Needs the qcow2 driver: a relative backing name resolves against the
     * overlay's directory, and the chain answers block status. */
    const char *base = unit_path(0, "base.raw"), *top = unit_path(1, "top.qcow2");
    uint8_t d[4096];
    memset(d, 9, sizeof(d));
    unit_write_file(base, MiB, d, sizeof(d), 0);
    vdisk_create_opts o;
    vdisk_create_opts_init(&o, VDISK_FORMAT_QCOW2);
    o.backing_file = "base.raw";
    o.backing_format = VDISK_FORMAT_RAW;
    vdisk_error err;
    int r = vdisk_create(top, &o, NULL, NULL, &err);
    assert_int_equal(r, 0);
    vdisk_image *img = NULL;
    r = vdisk_open(top, NULL, &img, &err);
    assert_int_equal(r, 0);
    assert_int_equal(vdisk_get_size(img), MiB);
    assert_non_null(vdisk_get_backing(img));
    assert_string_equal(vdisk_get_filename(vdisk_get_backing(img)), base);
    uint8_t got[4096];
    assert_int_equal(vdisk_pread(img, got, sizeof(got), 0, &err), 0);
    assert_memory_equal(got, d, sizeof(d));
    vdisk_extent e;
    assert_int_equal(vdisk_block_status_chain(img, 0, 4096, &e, &err), 0);
    assert_int_equal(e.depth, 1);
    assert_true(e.flags & VDISK_EXTENT_DATA);
    assert_int_equal(vdisk_block_status(img, 0, 4096, &e, &err), 0);
    assert_false(e.flags & VDISK_EXTENT_ALLOCATED);
    vdisk_close(img, NULL);
}

/* A backing policy sees every backing file of the chain (overlay as opened,
 * resolved path, the format the overlay records), decides the format, or
 * refuses with its own message. */
typedef struct policy_log {
    int calls;
    char overlay[256], backing[256];
    vdisk_format seen, give;
    int refuse;
} policy_log;

static int
logging_policy(void *opaque, const char *overlay, const char *backing, vdisk_format *fmt,
               vdisk_error *err)
{
    policy_log *l = opaque;
    l->calls++;
    snprintf(l->overlay, sizeof(l->overlay), "%s", overlay);
    snprintf(l->backing, sizeof(l->backing), "%s", backing);
    l->seen = *fmt;
    if (l->refuse)
        return vdisk_error_set(err, l->refuse, "policy says no to %s", backing);
    *fmt = l->give;
    return 0;
}

static void
test_backing_policy_decides(void **state)
{
    const char *base = unit_path(0, "base.raw"), *top = unit_path(1, "top.qcow2");
    unit_write_file(base, MiB, "QFI\xfb", 4, 0);      /* looks like qcow2 if probed */
    vdisk_create_opts o;
    vdisk_create_opts_init(&o, VDISK_FORMAT_QCOW2);
    o.backing_file = "base.raw";
    o.backing_format = VDISK_FORMAT_RAW;
    assert_int_equal(vdisk_create(top, &o, NULL, NULL, NULL), 0);
    policy_log l = { .give = VDISK_FORMAT_RAW };
    vdisk_backing_policy pol = { .check = logging_policy, .opaque = &l };
    vdisk_open_opts oo = { .backing_policy = &pol };
    vdisk_image *img;
    assert_int_equal(vdisk_open(top, &oo, &img, NULL), 0);
    assert_int_equal(l.calls, 1);
    assert_string_equal(l.overlay, top);
    assert_string_equal(l.backing, base);
    assert_int_equal(l.seen, VDISK_FORMAT_RAW);
    assert_int_equal(vdisk_get_format(vdisk_get_backing(img)), VDISK_FORMAT_RAW);
    vdisk_close(img, NULL);
    l.refuse = EPERM;
    vdisk_error err = { 0 };
    assert_int_equal(vdisk_open(top, &oo, &img, &err), -EPERM);
    assert_non_null(strstr(err.message, "policy says no to"));
    /* without the backing files, no policy question */
    l.calls = 0;
    oo.flags = VDISK_OPEN_NO_BACKING;
    assert_int_equal(vdisk_open(top, &oo, &img, NULL), 0);
    assert_int_equal(l.calls, 0);
    vdisk_close(img, NULL);
}

static void
test_creatable_formats(void **state)
{
    assert_true(vdisk_format_can_create(VDISK_FORMAT_RAW));
    assert_true(vdisk_format_can_create(VDISK_FORMAT_QCOW2));
    assert_true(vdisk_format_can_create(VDISK_FORMAT_LUKS));
    assert_false(vdisk_format_can_create(VDISK_FORMAT_ISO));    /* iso-create builds those */
    assert_false(vdisk_format_can_create(VDISK_FORMAT_VDI));    /* read only */
    assert_true(vdisk_format_supported(VDISK_FORMAT_VDI));
    char list[128];
    vdisk_format_list_creatable(list, sizeof(list));
    assert_non_null(strstr(list, "raw, qcow2"));
    assert_null(strstr(list, "vdi"));
    vdisk_create_opts o;
    vdisk_create_opts_init(&o, VDISK_FORMAT_VDI);
    vdisk_error err = { 0 };
    assert_int_equal(vdisk_create_opts_validate(&o, &err), -ENOTSUP);
    assert_non_null(strstr(err.message, "format vdi (vdisk creates raw, qcow2"));
}

/* The handle keeps its own copy of the passphrase (the caller's buffer may
 * be wiped as soon as open returns): a backing file opened later, as rebase
 * and commit do, still unlocks with it. */
static void
test_passphrase_kept_for_later_backing_opens(void **state)
{
    const char *a = unit_path(0, "a.qcow2"), *b = unit_path(1, "b.qcow2");
    char pw[] = "kept passphrase";
    vdisk_error err = { 0 };
    for (int i = 0; i < 2; i++) {
        vdisk_create_opts o;
        vdisk_create_opts_init(&o, VDISK_FORMAT_QCOW2);
        o.size = MiB;
        assert_int_equal(vdisk_create_opts_parse(&o, "encrypt.format=luks,encrypt.iter-time=10",
                                                 &err), 0);
        o.encrypt.secret = pw;
        o.encrypt.secret_len = strlen(pw);
        if (vdisk_create(i ? b : a, &o, NULL, NULL, &err) < 0)
            fail_msg("create: %s", err.message);
        vdisk_create_opts_clear(&o);
    }
    vdisk_open_opts oo = { .format = VDISK_FORMAT_QCOW2, .secret = pw, .secret_len = strlen(pw) };
    vdisk_image *img, *back;
    assert_int_equal(vdisk_open(a, &oo, &img, &err), 0);
    assert_ptr_not_equal(img->secret, pw);
    memset(pw, 'x', sizeof(pw) - 1);
    if (vdisk_open_backing(img, "b.qcow2", VDISK_FORMAT_QCOW2, &back, &err) < 0)
        fail_msg("backing open: %s", err.message);
    vdisk_close(back, NULL);
    vdisk_close(img, NULL);
    /* Without a passphrase nothing is kept, and the backing file is refused. */
    oo.secret = NULL;
    oo.flags = VDISK_OPEN_NO_KEY;
    assert_int_equal(vdisk_open(a, &oo, &img, &err), 0);
    assert_null(img->secret);
    img->flags &= ~(unsigned)VDISK_OPEN_NO_KEY;
    assert_int_equal(vdisk_open_backing(img, "b.qcow2", VDISK_FORMAT_QCOW2, &back, &err), -EACCES);
    vdisk_close(img, NULL);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_open_errors, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_bounds_checks, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_read_only_refusal, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_probed_raw_head_guard, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_probed_iso_may_keep_its_magic, unit_setup, unit_teardown),
        cmocka_unit_test(test_backing_name_resolution),
        cmocka_unit_test_setup_teardown(test_chain_status_of_raw_is_its_own, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_direct_open_of_a_small_image, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_qcow2_backing_chain, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_backing_policy_decides, unit_setup, unit_teardown),
        cmocka_unit_test(test_creatable_formats),
        cmocka_unit_test_setup_teardown(test_passphrase_kept_for_later_backing_opens, unit_setup,
                                        unit_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
