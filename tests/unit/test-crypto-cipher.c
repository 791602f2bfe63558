/* Unit tests for core/crypto/cipher.c: known-answer vectors from the
 * standards (IEEE 1619 XTS-AES, NIST SP 800-38A, RFC 2144 CAST-128, the
 * Twofish paper's table), plus round trips of every cipher and mode. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "crypto/crypto.h"
#include "hex.h"

/* Encrypt `pt` with key/iv and compare with `ct`; then decrypt back. */
static void
check_vector(vdisk_cipher_alg alg, vdisk_cipher_mode mode, const char *key, const char *iv,
             const char *pt, const char *ct)
{
    uint8_t k[64], ivb[16] = { 0 }, buf[512], want[512];
    size_t kl = unit_hex(key, k);
    if (iv)
        unit_hex(iv, ivb);
    size_t n = unit_hex(pt, buf);
    assert_int_equal(unit_hex(ct, want), n);
    vdisk_cipher *c;
    vdisk_error err = { 0 };
    assert_int_equal(vdisk_cipher_new(alg, mode, k, kl, &c, &err), 0);
    assert_int_equal(vdisk_cipher_encrypt(c, ivb, buf, n), 0);
    assert_memory_equal(buf, want, n);
    assert_int_equal(vdisk_cipher_decrypt(c, ivb, buf, n), 0);
    uint8_t orig[512];
    unit_hex(pt, orig);
    assert_memory_equal(buf, orig, n);
    vdisk_cipher_free(c);
}

/* IEEE 1619-2007 XTS-AES-128 vector 2 (data unit 0x3333333333). */
static void
test_xts_aes128_ieee1619_vector2(void **state)
{
    check_vector(VDISK_CIPHER_AES_128, VDISK_CIPHER_MODE_XTS,
                 "1111111111111111111111111111111122222222222222222222222222222222",
                 "33333333330000000000000000000000",
                 "4444444444444444444444444444444444444444444444444444444444444444",
                 "c454185e6a16936e39334038acef838bfb186fff7480adc4289382ecd6d394f0");
}

/* IEEE 1619-2007 XTS-AES-128 vector 3. */
static void
test_xts_aes128_ieee1619_vector3(void **state)
{
    check_vector(VDISK_CIPHER_AES_128, VDISK_CIPHER_MODE_XTS,
                 "fffefdfcfbfaf9f8f7f6f5f4f3f2f1f022222222222222222222222222222222",
                 "33333333330000000000000000000000",
                 "4444444444444444444444444444444444444444444444444444444444444444",
                 "af85336b597afc1a900b2eb21ec949d292df4c047e0b21532186a5971a227a89");
}

/* IEEE 1619-2007 XTS-AES-256 vector 10 (data unit 0xff, 512 bytes 00..ff
 * twice): the first 64 bytes of the ciphertext. */
static void
test_xts_aes256_ieee1619_vector10(void **state)
{
    uint8_t key[64], iv[16] = { 0xff }, buf[512];
    unit_hex("2718281828459045235360287471352662497757247093699959574966967627"
             "3141592653589793238462643383279502884197169399375105820974944592", key);
    for (size_t i = 0; i < sizeof(buf); i++)
        buf[i] = (uint8_t)i;
    uint8_t want[64];
    unit_hex("1c3b3a102f770386e4836c99e370cf9bea00803f5e482357a4ae12d414a3e63b"
             "5d31e276f8fe4a8d66b317f9ac683f44680a86ac35adfc3345befecb4bb188fd", want);
    vdisk_cipher *c;
    assert_int_equal(vdisk_cipher_new(VDISK_CIPHER_AES_256, VDISK_CIPHER_MODE_XTS, key, 64, &c, NULL), 0);
    assert_int_equal(vdisk_cipher_encrypt(c, iv, buf, sizeof(buf)), 0);
    assert_memory_equal(buf, want, sizeof(want));
    vdisk_cipher_free(c);
}

/* NIST SP 800-38A F.2.1 / F.2.5: CBC-AES128 and CBC-AES256, two blocks. */
static void
test_cbc_aes_sp800_38a(void **state)
{
    check_vector(VDISK_CIPHER_AES_128, VDISK_CIPHER_MODE_CBC, "2b7e151628aed2a6abf7158809cf4f3c",
                 "000102030405060708090a0b0c0d0e0f",
                 "6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51",
                 "7649abac8119b246cee98e9b12e9197d5086cb9b507219ee95db113a917678b2");
    check_vector(VDISK_CIPHER_AES_256, VDISK_CIPHER_MODE_CBC,
                 "603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4",
                 "000102030405060708090a0b0c0d0e0f", "6bc1bee22e409f96e93d7e117393172a",
                 "f58c4c04d6e5f1ba779eabfb5f7bfbd6");
}

/* NIST SP 800-38A F.1.1: ECB-AES128. */
static void
test_ecb_aes_sp800_38a(void **state)
{
    check_vector(VDISK_CIPHER_AES_128, VDISK_CIPHER_MODE_ECB, "2b7e151628aed2a6abf7158809cf4f3c", NULL,
                 "6bc1bee22e409f96e93d7e117393172a", "3ad77bb40d7a3660a89ecaf32466ef97");
}

/* RFC 2144 B.1: CAST-128 with a 128-bit key. */
static void
test_cast5_rfc2144(void **state)
{
    check_vector(VDISK_CIPHER_CAST5_128, VDISK_CIPHER_MODE_ECB, "0123456712345678234567893456789a", NULL,
                 "0123456789abcdef", "238b4fe5847e44b2");
}

/* Twofish paper, ECB_TBL.TXT I=1: 128-bit zero key, zero block. */
static void
test_twofish_table(void **state)
{
    check_vector(VDISK_CIPHER_TWOFISH_128, VDISK_CIPHER_MODE_ECB, "00000000000000000000000000000000", NULL,
                 "00000000000000000000000000000000", "9f589f5cf6122c32b6bfec2f2ae8c35a");
}

/* Every supported combination (GnuTLS's and Nettle's paths alike, e.g.
 * AES-192-XTS, which only Nettle offers) round-trips and changes the data. */
static void
test_all_roundtrip(void **state)
{
    for (int a = 0; a < VDISK_CIPHER__COUNT; a++)
        for (int m = 0; m < VDISK_CIPHER_MODE__COUNT; m++) {
            if (!vdisk_cipher_supports(a, m))
                continue;
            uint8_t key[64], iv[16] = { 1, 2, 3 }, buf[512], orig[512];
            for (size_t i = 0; i < sizeof(key); i++)
                key[i] = (uint8_t)(i * 13 + a);
            for (size_t i = 0; i < sizeof(buf); i++)
                orig[i] = buf[i] = (uint8_t)(i ^ m);
            vdisk_cipher *c;
            assert_int_equal(vdisk_cipher_new(a, m, key, vdisk_cipher_mode_key_len(a, m), &c, NULL), 0);
            assert_int_equal(vdisk_cipher_encrypt(c, iv, buf, sizeof(buf)), 0);
            assert_memory_not_equal(buf, orig, sizeof(buf));
            assert_int_equal(vdisk_cipher_decrypt(c, iv, buf, sizeof(buf)), 0);
            assert_memory_equal(buf, orig, sizeof(buf));
            vdisk_cipher_free(c);
        }
}

static void
test_refusals(void **state)
{
    uint8_t key[64] = { 0 };
    vdisk_cipher *c;
    vdisk_error err = { 0 };
    assert_false(vdisk_cipher_supports(VDISK_CIPHER_CAST5_128, VDISK_CIPHER_MODE_XTS));
    assert_int_equal(vdisk_cipher_new(VDISK_CIPHER_CAST5_128, VDISK_CIPHER_MODE_XTS, key, 32, &c, &err),
                     -ENOTSUP);
    assert_non_null(strstr(err.message, "cast5-128"));
    assert_int_equal(vdisk_cipher_new(VDISK_CIPHER_AES_256, VDISK_CIPHER_MODE_XTS, key, 32, &c, &err),
                     -EINVAL);
    assert_non_null(strstr(err.message, "64-byte key"));
}

static void
test_names(void **state)
{
    vdisk_cipher_alg a;
    vdisk_cipher_mode m;
    assert_int_equal(vdisk_cipher_alg_from_name("serpent-192", &a), 0);
    assert_int_equal(a, VDISK_CIPHER_SERPENT_192);
    assert_string_equal(vdisk_cipher_family(a), "serpent");
    assert_int_equal(vdisk_cipher_alg_for("twofish", 32, &a), 0);
    assert_int_equal(a, VDISK_CIPHER_TWOFISH_256);
    assert_int_equal(vdisk_cipher_alg_for("cast5", 32, &a), -EINVAL);
    assert_int_equal(vdisk_cipher_alg_from_name("des", &a), -EINVAL);
    assert_int_equal(vdisk_cipher_mode_from_name("xts", &m), 0);
    assert_int_equal(m, VDISK_CIPHER_MODE_XTS);
    assert_int_equal(vdisk_cipher_mode_from_name("ctr", &m), -EINVAL);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_xts_aes128_ieee1619_vector2),
        cmocka_unit_test(test_xts_aes128_ieee1619_vector3),
        cmocka_unit_test(test_xts_aes256_ieee1619_vector10),
        cmocka_unit_test(test_cbc_aes_sp800_38a),
        cmocka_unit_test(test_ecb_aes_sp800_38a),
        cmocka_unit_test(test_cast5_rfc2144),
        cmocka_unit_test(test_twofish_table),
        cmocka_unit_test(test_all_roundtrip),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
