/* Unit tests for core/crypto/ivgen.c: the IV layouts dm-crypt defines
 * (plain: 32-bit little-endian sector, plain64: 64-bit), and essiv checked
 * against Nettle's SHA-256 and AES-256 used directly. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <nettle/aes.h>
#include <nettle/sha2.h>

#include "crypto/crypto.h"

static void
test_plain_and_plain64(void **state)
{
    vdisk_ivgen *g;
    uint8_t iv[16];
    const uint64_t sector = UINT64_C(0x1122334455667788);
    assert_int_equal(vdisk_ivgen_new(VDISK_IVGEN_PLAIN64, 0, 0, NULL, 0, 16, &g, NULL), 0);
    assert_int_equal(vdisk_ivgen_calc(g, sector, iv), 0);
    const uint8_t want64[16] = { 0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11 };
    assert_memory_equal(iv, want64, 16);
    vdisk_ivgen_free(g);
    assert_int_equal(vdisk_ivgen_new(VDISK_IVGEN_PLAIN, 0, 0, NULL, 0, 8, &g, NULL), 0);
    memset(iv, 0xff, sizeof(iv));
    assert_int_equal(vdisk_ivgen_calc(g, sector, iv), 0);
    const uint8_t want32[8] = { 0x88, 0x77, 0x66, 0x55, 0, 0, 0, 0 };
    assert_memory_equal(iv, want32, 8);
    vdisk_ivgen_free(g);
}

static void
test_essiv_sha256_aes256(void **state)
{
    uint8_t key[32];
    for (size_t i = 0; i < sizeof(key); i++)
        key[i] = (uint8_t)(0xa0 + i);
    /* Expected: AES-256-ECB keyed with SHA-256(key) over le64(sector). */
    uint8_t salt[32], want[16] = { 42 };
    struct sha256_ctx h;
    sha256_init(&h);
    sha256_update(&h, sizeof(key), key);
    sha256_digest(&h, sizeof(salt), salt);
    struct aes256_ctx a;
    aes256_set_encrypt_key(&a, salt);
    aes256_encrypt(&a, 16, want, want);

    vdisk_ivgen *g;
    uint8_t iv[16];
    assert_int_equal(vdisk_ivgen_new(VDISK_IVGEN_ESSIV, VDISK_CIPHER_AES_256, VDISK_HASH_SHA256, key,
                                     sizeof(key), 16, &g, NULL), 0);
    assert_int_equal(vdisk_ivgen_calc(g, 42, iv), 0);
    assert_memory_equal(iv, want, 16);
    vdisk_ivgen_free(g);
}

static void
test_essiv_refuses_mismatched_hash(void **state)
{
    uint8_t key[32] = { 0 };
    vdisk_ivgen *g;
    vdisk_error err = { 0 };
    /* SHA-1 gives 20 bytes: no AES-256 key. */
    assert_int_equal(vdisk_ivgen_new(VDISK_IVGEN_ESSIV, VDISK_CIPHER_AES_256, VDISK_HASH_SHA1, key, 32, 16,
                                     &g, &err), -EINVAL);
    assert_non_null(strstr(err.message, "sha1"));
}

static void
test_names(void **state)
{
    vdisk_ivgen_alg a;
    assert_int_equal(vdisk_ivgen_from_name("essiv", &a), 0);
    assert_int_equal(a, VDISK_IVGEN_ESSIV);
    assert_string_equal(vdisk_ivgen_name(VDISK_IVGEN_PLAIN64), "plain64");
    assert_int_equal(vdisk_ivgen_from_name("benbi", &a), -EINVAL);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain_and_plain64),
        cmocka_unit_test(test_essiv_sha256_aes256),
        cmocka_unit_test(test_essiv_refuses_mismatched_hash),
        cmocka_unit_test(test_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
