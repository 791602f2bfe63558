/* Unit tests for core/dispatch.c: vdisk_amend_keyslots through the public
 * API on real files -- raw luks and qcow2 encrypt.format=luks images gain
 * and lose passphrases and keep their data; formats without LUKS and
 * read-only handles are refused. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <vdisk/vdisk.h>

#include "fixture.h"

static void
make(const char *path, vdisk_format fmt, const char *opts)
{
    vdisk_create_opts o;
    vdisk_error err = { 0 };
    vdisk_create_opts_init(&o, fmt);
    o.size = MiB;
    assert_int_equal(vdisk_create_opts_parse(&o, opts, &err), 0);
    o.encrypt.secret = "pw0";
    o.encrypt.secret_len = 3;
    if (vdisk_create(path, &o, NULL, NULL, &err) < 0)
        fail_msg("create: %s", err.message);
    vdisk_create_opts_clear(&o);
}

static int
open_pw(const char *path, const char *pw, unsigned flags, vdisk_image **img, vdisk_error *err)
{
    vdisk_open_opts oo = { .format = VDISK_FORMAT_UNKNOWN, .flags = flags, .secret = pw,
                           .secret_len = pw ? strlen(pw) : 0 };
    return vdisk_open(path, &oo, img, err);
}

/* Add pw1, write with pw1, erase pw0's slot, read back with pw1 only. */
static void
roundtrip(const char *p)
{
    vdisk_image *img;
    vdisk_error err = { 0 };
    uint8_t data[4096], back[4096];
    unit_fill(data, sizeof(data), 3);
    assert_int_equal(open_pw(p, "pw0", VDISK_OPEN_RDWR, &img, &err), 0);
    assert_int_equal(vdisk_pwrite(img, data, sizeof(data), 8192, &err), 0);
    vdisk_keyslot_opts o = { .state = VDISK_KEYSLOT_ACTIVE, .new_secret = "pw1", .new_secret_len = 3,
                             .has_iter_time = true, .iter_time = 1 };
    if (vdisk_amend_keyslots(img, &o, &err) < 0)
        fail_msg("add: %s", err.message);
    assert_int_equal(vdisk_close(img, &err), 0);

    assert_int_equal(open_pw(p, "pw1", VDISK_OPEN_RDWR, &img, &err), 0);
    vdisk_info info;
    assert_int_equal(vdisk_get_info(img, &info, &err), 0);
    assert_true(info.encrypt->slots[0].active && info.encrypt->slots[1].active);
    vdisk_info_clear(&info);
    o = (vdisk_keyslot_opts){ .state = VDISK_KEYSLOT_INACTIVE, .old_secret = "pw0", .old_secret_len = 3 };
    if (vdisk_amend_keyslots(img, &o, &err) < 0)
        fail_msg("erase: %s", err.message);
    assert_int_equal(vdisk_close(img, &err), 0);

    assert_int_equal(open_pw(p, "pw0", 0, &img, &err), -EACCES);
    assert_int_equal(open_pw(p, "pw1", 0, &img, &err), 0);
    assert_int_equal(vdisk_pread(img, back, sizeof(back), 8192, &err), 0);
    assert_memory_equal(data, back, sizeof(data));
    assert_int_equal(vdisk_close(img, &err), 0);
}

static void
test_raw_luks(void **state)
{
    const char *p = unit_path(0, "d.luks");
    make(p, VDISK_FORMAT_LUKS, "iter-time=1");
    roundtrip(p);
}

static void
test_qcow2_luks(void **state)
{
    const char *p = unit_path(0, "d.qcow2");
    make(p, VDISK_FORMAT_QCOW2, "encrypt.format=luks,encrypt.iter-time=1");
    roundtrip(p);
}

static void
test_refusals(void **state)
{
    const char *q = unit_path(0, "plain.qcow2"), *r = unit_path(1, "plain.raw"), *l = unit_path(2, "d.luks");
    vdisk_image *img;
    vdisk_error err = { 0 };
    vdisk_keyslot_opts o = { .state = VDISK_KEYSLOT_ACTIVE, .new_secret = "x", .new_secret_len = 1 };
    img = unit_make_qcow2(q, NULL, MiB, VDISK_OPEN_RDWR);
    assert_int_equal(vdisk_amend_keyslots(img, &o, &err), -EINVAL);
    assert_non_null(strstr(err.message, "plain.qcow2: Can't amend encryption options - encryption not present"));
    vdisk_close(img, NULL);

    unit_write_file(r, MiB, NULL, 0, 0);
    assert_int_equal(open_pw(r, NULL, VDISK_OPEN_RDWR, &img, &err), 0);
    assert_int_equal(vdisk_amend_keyslots(img, &o, &err), -ENOTSUP);
    assert_non_null(strstr(err.message, "Format driver 'raw' does not support option amendment"));
    vdisk_close(img, NULL);

    make(l, VDISK_FORMAT_LUKS, "iter-time=1");
    assert_int_equal(open_pw(l, "pw0", 0, &img, &err), 0);
    assert_int_equal(vdisk_amend_keyslots(img, &o, &err), -EROFS);
    assert_non_null(strstr(err.message, "d.luks"));
    vdisk_close(img, NULL);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_raw_luks, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_qcow2_luks, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_refusals, unit_setup, unit_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
