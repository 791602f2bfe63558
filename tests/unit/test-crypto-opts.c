/* Unit tests for core/crypto/opts.c: qemu-img's encrypt.* option names,
 * QEMU's defaults, and the refusals. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <vdisk/vdisk.h>

#include "crypto/luks.h"

static void
test_defaults_are_qemus(void **state)
{
    vdisk_encrypt_opts o = { .format = VDISK_ENCRYPT_LUKS };
    struct vdisk_luks_params p;
    assert_int_equal(vdisk_luks_params_from_opts(&o, &p, NULL), 0);
    assert_int_equal(p.algs.crypt.cipher, VDISK_CIPHER_AES_256);
    assert_int_equal(p.algs.crypt.mode, VDISK_CIPHER_MODE_XTS);
    assert_int_equal(p.algs.crypt.ivgen, VDISK_IVGEN_PLAIN64);
    assert_int_equal(p.algs.hash, VDISK_HASH_SHA256);
    assert_int_equal(p.iter_time_ms, 2000);
}

static void
test_set_every_key(void **state)
{
    vdisk_encrypt_opts o = { 0 };
    assert_int_equal(vdisk_encrypt_opts_set(&o, "format", "luks", NULL), 0);
    assert_int_equal(vdisk_encrypt_opts_set(&o, "cipher-alg", "twofish-192", NULL), 0);
    assert_int_equal(vdisk_encrypt_opts_set(&o, "cipher-mode", "cbc", NULL), 0);
    assert_int_equal(vdisk_encrypt_opts_set(&o, "ivgen-alg", "essiv", NULL), 0);
    assert_int_equal(vdisk_encrypt_opts_set(&o, "ivgen-hash-alg", "sha256", NULL), 0);
    assert_int_equal(vdisk_encrypt_opts_set(&o, "hash-alg", "sha512", NULL), 0);
    assert_int_equal(vdisk_encrypt_opts_set(&o, "iter-time", "10", NULL), 0);
    assert_int_equal(vdisk_encrypt_opts_set(&o, "key-secret", "sec0", NULL), 0);
    assert_int_equal(vdisk_encrypt_opts_set(&o, "cluster_size", "4k", NULL), -ENOENT);
    struct vdisk_luks_params p;
    assert_int_equal(vdisk_luks_params_from_opts(&o, &p, NULL), 0);
    assert_int_equal(p.algs.crypt.cipher, VDISK_CIPHER_TWOFISH_192);
    /* The essiv cipher takes the digest as its key: 32 bytes of SHA-256. */
    assert_int_equal(p.algs.crypt.ivgen_cipher, VDISK_CIPHER_TWOFISH_256);
    assert_string_equal(o.key_secret, "sec0");
    assert_int_equal(o.iter_time, 10);
}

static void
test_refusals(void **state)
{
    vdisk_encrypt_opts o = { .format = VDISK_ENCRYPT_LUKS };
    vdisk_error err = { 0 };
    assert_int_equal(vdisk_encrypt_opts_set(&o, "iter-time", "0", &err), -EINVAL);
    assert_int_equal(vdisk_encrypt_opts_set(&o, "format", "plain", &err), -EINVAL);
    assert_int_equal(vdisk_encrypt_opts_validate(&o, &err), -EINVAL);     /* no passphrase */
    assert_non_null(strstr(err.message, "key-secret"));
    o.secret = "x";
    o.secret_len = 1;
    assert_int_equal(vdisk_encrypt_opts_validate(&o, &err), 0);
    assert_int_equal(vdisk_encrypt_opts_set(&o, "ivgen-hash-alg", "sha1", &err), 0);
    /* A hash without essiv: accepted and ignored, as qemu-img create accepts it (libvirt's
     * vol-luks-cipher.xml asks for ivgen plain64 with hash sha256). */
    assert_int_equal(vdisk_encrypt_opts_validate(&o, &err), 0);
    assert_int_equal(vdisk_encrypt_opts_set(&o, "ivgen-alg", "essiv", &err), 0);
    assert_int_equal(vdisk_encrypt_opts_validate(&o, &err), -ENOTSUP);    /* 20-byte essiv key */
    assert_non_null(strstr(err.message, "key size 20"));
    /* Legacy AES: a passphrase and nothing else (QEMU's qcow options). */
    vdisk_encrypt_opts aes = { .format = VDISK_ENCRYPT_AES };
    assert_int_equal(vdisk_encrypt_opts_validate(&aes, &err), -EINVAL);
    assert_non_null(strstr(err.message, "encrypt.key-secret"));
    aes.secret = "x";
    aes.secret_len = 1;
    assert_int_equal(vdisk_encrypt_opts_validate(&aes, &err), 0);
    assert_int_equal(vdisk_encrypt_opts_set(&aes, "cipher-alg", "aes-256", &err), 0);
    assert_int_equal(vdisk_encrypt_opts_validate(&aes, &err), -EINVAL);
    assert_non_null(strstr(err.message, "'encrypt.cipher-alg' is unexpected"));
    assert_string_equal(vdisk_encrypt_format_name(VDISK_ENCRYPT_AES), "aes");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults_are_qemus),
        cmocka_unit_test(test_set_every_key),
        cmocka_unit_test(test_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
