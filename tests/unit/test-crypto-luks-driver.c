/* Unit tests for core/crypto/luks-driver.c: the raw LUKS1 driver. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include <vdisk/vdisk.h>

#include "fixture.h"

static const char pass[] = "correct horse";

static void
make_luks(const char *path, const char *opts, uint64_t size)
{
    vdisk_create_opts o;
    vdisk_error err = { 0 };
    vdisk_create_opts_init(&o, VDISK_FORMAT_LUKS);
    o.size = size;
    assert_int_equal(vdisk_create_opts_parse(&o, "iter-time=10", &err), 0);
    if (opts)
        assert_int_equal(vdisk_create_opts_parse(&o, opts, &err), 0);
    o.encrypt.secret = pass;
    o.encrypt.secret_len = strlen(pass);
    int r = vdisk_create(path, &o, NULL, NULL, &err);
    if (r < 0)
        fail_msg("create: %s", err.message);
    vdisk_create_opts_clear(&o);
}

static int
open_luks(const char *path, const char *pw, unsigned flags, vdisk_image **img, vdisk_error *err)
{
    vdisk_open_opts oo = { .format = VDISK_FORMAT_UNKNOWN, .flags = flags, .secret = pw,
                           .secret_len = pw ? strlen(pw) : 0 };
    return vdisk_open(path, &oo, img, err);
}

static void
test_create_write_read_reopen(void **state)
{
    const char *p = unit_path(0, "disk.luks");
    make_luks(p, NULL, MiB);
    vdisk_image *img;
    vdisk_error err = { 0 };
    assert_int_equal(open_luks(p, pass, VDISK_OPEN_RDWR, &img, &err), 0);
    assert_int_equal(vdisk_get_format(img), VDISK_FORMAT_LUKS);
    assert_int_equal(vdisk_get_size(img), MiB);
    uint8_t data[3000], back[3000];
    unit_fill(data, sizeof(data), 7);
    /* Unaligned on both ends, across sectors. */
    assert_int_equal(vdisk_pwrite(img, data, sizeof(data), 1000, &err), 0);
    assert_int_equal(vdisk_pread(img, back, sizeof(back), 1000, &err), 0);
    assert_memory_equal(data, back, sizeof(data));
    assert_int_equal(vdisk_write_zeroes(img, 100, 1500, 0, &err), 0);
    assert_int_equal(vdisk_close(img, &err), 0);

    assert_int_equal(open_luks(p, pass, 0, &img, &err), 0);
    assert_int_equal(vdisk_pread(img, back, sizeof(back), 1000, &err), 0);
    memset(data + 500, 0, 100);
    assert_memory_equal(data, back, sizeof(data));
    vdisk_info info;
    assert_int_equal(vdisk_get_info(img, &info, &err), 0);
    assert_true(info.encrypted);
    assert_non_null(info.encrypt);
    assert_string_equal(info.encrypt->cipher_alg, "aes-256");
    assert_string_equal(info.encrypt->cipher_mode, "xts");
    assert_string_equal(info.encrypt->ivgen_alg, "plain64");
    assert_string_equal(info.encrypt->hash_alg, "sha256");
    assert_true(info.encrypt->slots[0].active);
    assert_false(info.encrypt->slots[1].active);
    assert_int_equal(info.encrypt->payload_offset, 2068480);
    vdisk_info_clear(&info);
    vdisk_close(img, NULL);

    /* The file holds no plaintext. */
    int fd = open(p, O_RDONLY);
    uint8_t raw[3000];
    assert_int_equal(pread(fd, raw, sizeof(raw), 2068480 + 1000), (ssize_t)sizeof(raw));
    close(fd);
    assert_memory_not_equal(raw, back, sizeof(raw));
}

static void
test_wrong_and_missing_passphrase(void **state)
{
    const char *p = unit_path(0, "disk.luks");
    make_luks(p, "cipher-alg=aes-128,cipher-mode=cbc,ivgen-alg=essiv,hash-alg=sha1", 64 * KiB);
    vdisk_image *img;
    vdisk_error err = { 0 };
    assert_int_equal(open_luks(p, "wrong", 0, &img, &err), -EACCES);
    assert_non_null(strstr(err.message, "Invalid password"));
    assert_null(strstr(err.message, "wrong"));
    assert_int_equal(open_luks(p, NULL, 0, &img, &err), -EACCES);
    assert_non_null(strstr(err.message, "passphrase"));
    /* qemu-img's words for the same refusal. */
    assert_non_null(strstr(err.message, "Parameter 'key-secret' is required for cipher"));
    assert_int_equal(open_luks(p, pass, 0, &img, &err), 0);
    vdisk_close(img, NULL);
}

/* Resize moves the payload end; data before it stays; full preallocation
 * reads back as zeros; metadata preallocation is refused, nothing changed. */
static void
test_resize(void **state)
{
    const char *p = unit_path(0, "disk.luks");
    make_luks(p, NULL, MiB);
    vdisk_image *img;
    vdisk_error err = { 0 };
    assert_int_equal(open_luks(p, pass, VDISK_OPEN_RDWR, &img, &err), 0);
    uint8_t data[4096], back[4096], zero[4096] = { 0 };
    unit_fill(data, sizeof(data), 3);
    assert_int_equal(vdisk_pwrite(img, data, sizeof(data), MiB - 4096, &err), 0);
    struct stat st;
    assert_int_equal(stat(p, &st), 0);
    uint64_t header = (uint64_t)st.st_size - MiB;
    assert_int_equal(vdisk_resize(img, 2 * MiB, false, VDISK_PREALLOC_FULL, NULL, NULL, &err), 0);
    assert_int_equal(vdisk_get_size(img), 2 * MiB);
    assert_int_equal(vdisk_pread(img, back, sizeof(back), 2 * MiB - 4096, &err), 0);
    assert_memory_equal(back, zero, sizeof(back));
    assert_int_equal(vdisk_resize(img, 4 * MiB, false, VDISK_PREALLOC_METADATA, NULL, NULL, &err),
                     -ENOTSUP);
    assert_non_null(strstr(err.message, "disk.luks"));
    assert_int_equal(vdisk_get_size(img), 2 * MiB);
    assert_int_equal(vdisk_resize(img, MiB / 2, false, VDISK_PREALLOC_OFF, NULL, NULL, &err), -EINVAL);
    assert_int_equal(vdisk_resize(img, MiB, true, VDISK_PREALLOC_OFF, NULL, NULL, &err), 0);
    assert_int_equal(vdisk_close(img, &err), 0);
    assert_int_equal(stat(p, &st), 0);
    assert_int_equal((uint64_t)st.st_size, header + MiB);
    assert_int_equal(open_luks(p, pass, 0, &img, &err), 0);
    assert_int_equal(vdisk_get_size(img), MiB);
    assert_int_equal(vdisk_pread(img, back, sizeof(back), MiB - 4096, &err), 0);
    assert_memory_equal(back, data, sizeof(back));
    vdisk_close(img, NULL);
}

static void
test_every_cipher_roundtrips(void **state)
{
    static const char *const specs[] = {
        "cipher-alg=aes-192,cipher-mode=xts",
        "cipher-alg=serpent-256,cipher-mode=cbc,ivgen-alg=essiv,ivgen-hash-alg=sha256",
        "cipher-alg=twofish-128,cipher-mode=xts,hash-alg=sha512",
        "cipher-alg=cast5-128,cipher-mode=cbc,ivgen-alg=plain",
        "cipher-alg=aes-256,cipher-mode=ecb",
    };
    for (size_t i = 0; i < sizeof(specs) / sizeof(specs[0]); i++) {
        const char *p = unit_path(0, "c.luks");
        make_luks(p, specs[i], 64 * KiB);
        vdisk_image *img;
        vdisk_error err = { 0 };
        assert_int_equal(open_luks(p, pass, VDISK_OPEN_RDWR, &img, &err), 0);
        uint8_t d[4096], b[4096];
        unit_fill(d, sizeof(d), (unsigned)i);
        assert_int_equal(vdisk_pwrite(img, d, sizeof(d), 8192, &err), 0);
        vdisk_close(img, NULL);
        assert_int_equal(open_luks(p, pass, 0, &img, &err), 0);
        assert_int_equal(vdisk_pread(img, b, sizeof(b), 8192, &err), 0);
        assert_memory_equal(d, b, sizeof(d));
        vdisk_close(img, NULL);
    }
}

static void
test_bad_options_leave_nothing(void **state)
{
    const char *p = unit_path(0, "bad.luks");
    vdisk_create_opts o;
    vdisk_error err = { 0 };
    vdisk_create_opts_init(&o, VDISK_FORMAT_LUKS);
    o.size = MiB;
    assert_int_equal(vdisk_create(p, &o, NULL, NULL, &err), -EINVAL);
    assert_non_null(strstr(err.message, "key-secret"));
    o.encrypt.secret = pass;
    o.encrypt.secret_len = strlen(pass);
    assert_int_equal(vdisk_create_opts_parse(&o, "cipher-alg=cast5-128,cipher-mode=xts", &err), 0);
    assert_int_equal(vdisk_create(p, &o, NULL, NULL, &err), -ENOTSUP);
    assert_int_equal(vdisk_create_opts_parse(&o, "cipher-alg=aes-256,cipher-mode=cbc,ivgen-alg=essiv,"
                                                 "ivgen-hash-alg=sha1", &err), 0);
    assert_int_equal(vdisk_create(p, &o, NULL, NULL, &err), -ENOTSUP);
    assert_int_equal(vdisk_create_opts_parse(&o, "cipher-alg=blowfish", &err), 0);
    assert_int_equal(vdisk_create(p, &o, NULL, NULL, &err), -EINVAL);
    assert_int_equal(access(p, F_OK), -1);
}

static void
test_corrupt_header(void **state)
{
    const char *p = unit_path(0, "x.luks");
    make_luks(p, NULL, 64 * KiB);
    int fd = open(p, O_RDWR);
    /* Key slot 0's stripes (offset 208 + 44). */
    uint8_t bad[4] = { 0, 0, 0, 1 };
    assert_int_equal(pwrite(fd, bad, 4, 208 + 44), 4);
    close(fd);
    vdisk_image *img;
    vdisk_error err = { 0 };
    assert_int_equal(open_luks(p, pass, 0, &img, &err), -EINVAL);
    assert_non_null(strstr(err.message, "key slot 0"));
    assert_non_null(strstr(err.message, "stripes"));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_create_write_read_reopen, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_wrong_and_missing_passphrase, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_every_cipher_roundtrips, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_resize, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_bad_options_leave_nothing, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_corrupt_header, unit_setup, unit_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
