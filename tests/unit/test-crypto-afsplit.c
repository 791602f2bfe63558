/* Unit tests for core/crypto/afsplit.c: the LUKS1 anti-forensic splitter,
 * merge checked against the specification's formula computed here with
 * Nettle's SHA-1 directly. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <nettle/sha1.h>

#include "crypto/crypto.h"

/* Two stripes, 16-byte key, SHA-1: key = s1 ^ H(be32(0) || s0)[0..16). */
static void
test_merge_two_stripes_by_the_spec(void **state)
{
    uint8_t in[32], key[16], d[20];
    for (size_t i = 0; i < sizeof(in); i++)
        in[i] = (uint8_t)(i * 29 + 5);
    struct sha1_ctx h;
    sha1_init(&h);
    const uint8_t be0[4] = { 0, 0, 0, 0 };
    sha1_update(&h, 4, be0);
    sha1_update(&h, 16, in);
    sha1_digest(&h, sizeof(d), d);
    assert_int_equal(vdisk_af_merge(VDISK_HASH_SHA1, in, 16, 2, key), 0);
    for (size_t i = 0; i < 16; i++)
        assert_int_equal(key[i], in[16 + i] ^ d[i]);
}

/* A 40-byte key with SHA-1: two digest blocks, the second numbered 1 and
 * truncated to 20 bytes... and 40 = 2 x 20, so check a 30-byte key too. */
static void
test_merge_multi_block_diffusion(void **state)
{
    uint8_t in[60], key[30], want[30];
    for (size_t i = 0; i < sizeof(in); i++)
        in[i] = (uint8_t)(i ^ 0x5a);
    uint8_t d0[20], d1[20];
    const uint8_t be0[4] = { 0, 0, 0, 0 }, be1[4] = { 0, 0, 0, 1 };
    struct sha1_ctx h;
    sha1_init(&h);
    sha1_update(&h, 4, be0);
    sha1_update(&h, 20, in);
    sha1_digest(&h, 20, d0);
    sha1_init(&h);
    sha1_update(&h, 4, be1);
    sha1_update(&h, 10, in + 20);
    sha1_digest(&h, 20, d1);
    for (size_t i = 0; i < 20; i++)
        want[i] = in[30 + i] ^ d0[i];
    for (size_t i = 0; i < 10; i++)
        want[20 + i] = in[50 + i] ^ d1[i];
    assert_int_equal(vdisk_af_merge(VDISK_HASH_SHA1, in, 30, 2, key), 0);
    assert_memory_equal(key, want, 30);
}

static void
test_split_merge_roundtrip(void **state)
{
    static const vdisk_hash_alg hashes[] = { VDISK_HASH_SHA1, VDISK_HASH_SHA256, VDISK_HASH_SHA512 };
    for (size_t h = 0; h < 3; h++) {
        static uint8_t split[64 * 4000];
        uint8_t key[64], back[64];
        for (size_t i = 0; i < sizeof(key); i++)
            key[i] = (uint8_t)(i + h);
        assert_int_equal(vdisk_af_split(hashes[h], key, sizeof(key), 4000, split), 0);
        assert_memory_not_equal(split + 3999 * 64, key, 64);
        assert_int_equal(vdisk_af_merge(hashes[h], split, sizeof(key), 4000, back), 0);
        assert_memory_equal(back, key, sizeof(key));
        /* One damaged stripe loses the key. */
        split[100] ^= 1;
        assert_int_equal(vdisk_af_merge(hashes[h], split, sizeof(key), 4000, back), 0);
        assert_memory_not_equal(back, key, sizeof(key));
    }
}

static void
test_one_stripe_is_the_key(void **state)
{
    uint8_t key[32], out[32];
    memset(key, 0x3c, sizeof(key));
    assert_int_equal(vdisk_af_split(VDISK_HASH_SHA256, key, 32, 1, out), 0);
    assert_memory_equal(out, key, 32);
    assert_int_equal(vdisk_af_merge(VDISK_HASH_SHA256, out, 32, 0, key), -EINVAL);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_merge_two_stripes_by_the_spec),
        cmocka_unit_test(test_merge_multi_block_diffusion),
        cmocka_unit_test(test_split_merge_roundtrip),
        cmocka_unit_test(test_one_stripe_is_the_key),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
