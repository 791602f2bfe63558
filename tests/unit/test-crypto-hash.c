/* Unit tests for core/crypto/hash.c: FIPS 180 "abc" digests and the
 * RFC 6070 PBKDF2-HMAC-SHA1 vectors. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "crypto/crypto.h"
#include "hex.h"

static void
check_digest(vdisk_hash_alg alg, const char *hex)
{
    uint8_t d[VDISK_HASH_MAX_LEN], want[VDISK_HASH_MAX_LEN];
    size_t n = unit_hex(hex, want);
    assert_int_equal(vdisk_hash_len(alg), n);
    /* "abc" split over the two parts. */
    assert_int_equal(vdisk_hash2(alg, "a", 1, "bc", 2, d), 0);
    assert_memory_equal(d, want, n);
}

static void
test_digests_fips180(void **state)
{
    check_digest(VDISK_HASH_SHA1, "a9993e364706816aba3e25717850c26c9cd0d89d");
    check_digest(VDISK_HASH_SHA256, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    check_digest(VDISK_HASH_SHA512, "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
                                    "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f");
}

static void
check_pbkdf2(const char *p, size_t plen, const char *s, size_t slen, uint64_t c, const char *hex)
{
    uint8_t out[64], want[64];
    size_t n = unit_hex(hex, want);
    assert_int_equal(vdisk_pbkdf2(VDISK_HASH_SHA1, (const uint8_t *)p, plen, (const uint8_t *)s, slen, c,
                                  out, n), 0);
    assert_memory_equal(out, want, n);
}

static void
test_pbkdf2_rfc6070(void **state)
{
    check_pbkdf2("password", 8, "salt", 4, 1, "0c60c80f961f0e71f3a9b524af6012062fe037a6");
    check_pbkdf2("password", 8, "salt", 4, 2, "ea6c014dc72d6f8ccd1ed92ace1d41f0d8de8957");
    check_pbkdf2("password", 8, "salt", 4, 4096, "4b007901b765489abead49d926f721d065a429c1");
    check_pbkdf2("passwordPASSWORDpassword", 24, "saltSALTsaltSALTsaltSALTsaltSALTsalt", 36, 4096,
                 "3d2eec4fe41c849b80c8d83662c0e44a8b291a964cf2f07038");
    check_pbkdf2("pass\0word", 9, "sa\0lt", 5, 4096, "56fa6aa75548099dcc37d7f03425e0c3");
}

static void
test_pbkdf2_refuses_zero_iterations(void **state)
{
    uint8_t out[20];
    assert_int_equal(vdisk_pbkdf2(VDISK_HASH_SHA1, (const uint8_t *)"p", 1, (const uint8_t *)"s", 1, 0,
                                  out, sizeof(out)), -EINVAL);
}

static void
test_count_iters(void **state)
{
    uint64_t a = 0, b = 0;
    assert_int_equal(vdisk_pbkdf2_count_iters(VDISK_HASH_SHA256, 32, 10, &a), 0);
    assert_int_equal(vdisk_pbkdf2_count_iters(VDISK_HASH_SHA256, 32, 1000, &b), 0);
    assert_true(a >= 1);
    assert_true(b > a);
}

static void
test_names_and_wipe(void **state)
{
    vdisk_hash_alg h;
    assert_int_equal(vdisk_hash_from_name("sha512", &h), 0);
    assert_int_equal(h, VDISK_HASH_SHA512);
    assert_string_equal(vdisk_hash_name(VDISK_HASH_RIPEMD160), "ripemd160");
    assert_int_equal(vdisk_hash_from_name("whirlpool", &h), -EINVAL);
    uint8_t key[32];
    memset(key, 0xa5, sizeof(key));
    vdisk_wipe(key, sizeof(key));
    uint8_t zero[32] = { 0 };
    assert_memory_equal(key, zero, sizeof(key));
    uint8_t r1[32], r2[32];
    assert_int_equal(vdisk_random(r1, sizeof(r1)), 0);
    assert_int_equal(vdisk_random(r2, sizeof(r2)), 0);
    assert_memory_not_equal(r1, r2, sizeof(r1));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_digests_fips180),
        cmocka_unit_test(test_pbkdf2_rfc6070),
        cmocka_unit_test(test_pbkdf2_refuses_zero_iterations),
        cmocka_unit_test(test_count_iters),
        cmocka_unit_test(test_names_and_wipe),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
