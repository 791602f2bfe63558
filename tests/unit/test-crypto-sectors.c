/* Unit tests for core/crypto/sectors.c: 512-byte sectors with per-sector
 * IVs, checked against Nettle's XTS-AES-128 called directly, and the
 * context pool under concurrent use. */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <nettle/xts.h>

#include "crypto/crypto.h"

static const struct vdisk_crypt_spec xts128 = {
    .cipher = VDISK_CIPHER_AES_128, .mode = VDISK_CIPHER_MODE_XTS, .ivgen = VDISK_IVGEN_PLAIN64,
};

static void
make_key(uint8_t *key)
{
    for (int i = 0; i < 32; i++)
        key[i] = (uint8_t)(i * 11 + 1);
}

static void
test_sectors_use_their_own_iv(void **state)
{
    uint8_t key[32], buf[1024], want[1024];
    make_key(key);
    for (size_t i = 0; i < sizeof(buf); i++)
        want[i] = buf[i] = (uint8_t)(i * 3);
    struct xts_aes128_key k;
    xts_aes128_set_encrypt_key(&k, key);
    for (int s = 0; s < 2; s++) {
        uint8_t tweak[16] = { (uint8_t)(5 + s) };
        xts_aes128_encrypt_message(&k, tweak, 512, want + 512 * s, want + 512 * s);
    }
    vdisk_sectors *sec;
    assert_int_equal(vdisk_sectors_new(&xts128, key, 32, &sec, NULL), 0);
    assert_int_equal(vdisk_sectors_encrypt(sec, 5, buf, sizeof(buf), NULL), 0);
    assert_memory_equal(buf, want, sizeof(buf));
    assert_int_equal(vdisk_sectors_decrypt(sec, 5, buf, sizeof(buf), NULL), 0);
    for (size_t i = 0; i < sizeof(buf); i++)
        assert_int_equal(buf[i], (uint8_t)(i * 3));
    vdisk_error err = { 0 };
    assert_int_equal(vdisk_sectors_encrypt(sec, 0, buf, 100, &err), -EINVAL);
    assert_non_null(strstr(err.message, "512"));
    vdisk_sectors_free(sec);
}

struct job {
    vdisk_sectors *sec;
    int id;
    int ok;
};

static void *
worker(void *opaque)
{
    struct job *j = opaque;
    uint8_t buf[4096], orig[4096];
    j->ok = 1;
    for (int round = 0; round < 200; round++) {
        for (size_t i = 0; i < sizeof(buf); i++)
            orig[i] = buf[i] = (uint8_t)(i + j->id + round);
        if (vdisk_sectors_encrypt(j->sec, (uint64_t)round, buf, sizeof(buf), NULL) < 0 ||
            vdisk_sectors_decrypt(j->sec, (uint64_t)round, buf, sizeof(buf), NULL) < 0 ||
            memcmp(buf, orig, sizeof(buf)) != 0)
            j->ok = 0;
    }
    return NULL;
}

static void
test_concurrent_use(void **state)
{
    uint8_t key[32];
    make_key(key);
    struct vdisk_crypt_spec essiv = { .cipher = VDISK_CIPHER_AES_256, .mode = VDISK_CIPHER_MODE_CBC,
                                      .ivgen = VDISK_IVGEN_ESSIV, .ivgen_cipher = VDISK_CIPHER_AES_256,
                                      .ivgen_hash = VDISK_HASH_SHA256 };
    vdisk_sectors *sec;
    assert_int_equal(vdisk_sectors_new(&essiv, key, 32, &sec, NULL), 0);
    pthread_t t[6];
    struct job jobs[6];
    for (int i = 0; i < 6; i++) {
        jobs[i] = (struct job){ sec, i, 0 };
        pthread_create(&t[i], NULL, worker, &jobs[i]);
    }
    for (int i = 0; i < 6; i++) {
        pthread_join(t[i], NULL);
        assert_true(jobs[i].ok);
    }
    vdisk_sectors_free(sec);
}

static void
test_bad_key_length(void **state)
{
    uint8_t key[16] = { 0 };
    vdisk_sectors *sec;
    vdisk_error err = { 0 };
    assert_int_equal(vdisk_sectors_new(&xts128, key, 16, &sec, &err), -EINVAL);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sectors_use_their_own_iv),
        cmocka_unit_test(test_concurrent_use),
        cmocka_unit_test(test_bad_key_length),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
