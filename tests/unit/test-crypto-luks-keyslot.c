/* Unit tests for core/crypto/luks-keyslot.c: format a LUKS1 header into
 * memory, unlock it, and check the master key digest by the spec
 * (PBKDF2 of the master key with the header's salt and count, 20 bytes). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <nettle/pbkdf2.h>

#include "crypto/luks.h"

#include "luks-mem.h"

#define AREA LUKS_MEM_AREA

static const struct vdisk_luks_params params = {
    .algs = { .crypt = { .cipher = VDISK_CIPHER_AES_256, .mode = VDISK_CIPHER_MODE_XTS,
                         .ivgen = VDISK_IVGEN_PLAIN64 }, .hash = VDISK_HASH_SHA1 },
    .iter_time_ms = 5,
};

static void
test_format_and_unlock(void **state)
{
    struct luks_mem m = { .buf = calloc(1, AREA) };
    struct vdisk_luks_header h, parsed;
    struct vdisk_luks_algs a;
    uint8_t mk[64], mk2[64];
    assert_int_equal(vdisk_luks_format(&params, (const uint8_t *)"pw", 2, luks_mem_io, &m, &h, mk, "m", NULL), 0);
    assert_int_equal(vdisk_luks_header_parse(m.buf, VDISK_LUKS_HDR_LEN, AREA, &parsed, &a, "m", NULL), 0);
    assert_string_equal(parsed.cipher_name, "aes");
    assert_string_equal(parsed.cipher_mode, "xts-plain64");
    assert_string_equal(parsed.hash_spec, "sha1");
    assert_int_equal(parsed.key_bytes, 64);
    assert_true(parsed.mk_iterations >= VDISK_LUKS_MIN_ITERS);
    assert_true(parsed.slots[0].iterations >= VDISK_LUKS_MIN_ITERS);
    assert_int_equal(parsed.slots[0].active, VDISK_LUKS_SLOT_ACTIVE);
    assert_int_equal(parsed.slots[1].active, VDISK_LUKS_SLOT_INACTIVE);
    /* The digest is PBKDF2-SHA1(mk, salt, iterations), computed by Nettle. */
    uint8_t d[20];
    pbkdf2_hmac_sha1(64, mk, parsed.mk_iterations, 32, parsed.mk_salt, 20, d);
    assert_memory_equal(d, parsed.mk_digest, 20);

    int slot = -1;
    assert_int_equal(vdisk_luks_unlock(&parsed, &a, (const uint8_t *)"pw", 2, luks_mem_io, &m, mk2, &slot, "m",
                                       NULL), 0);
    assert_int_equal(slot, 0);
    assert_memory_equal(mk, mk2, 64);

    vdisk_error err = { 0 };
    assert_int_equal(vdisk_luks_unlock(&parsed, &a, (const uint8_t *)"pX", 2, luks_mem_io, &m, mk2, &slot, "m",
                                       &err), -EACCES);
    assert_non_null(strstr(err.message, "Invalid password"));
    /* Damaged key material: the passphrase no longer opens the slot. */
    m.buf[parsed.slots[0].key_offset * 512 + 1000] ^= 0x80;
    assert_int_equal(vdisk_luks_unlock(&parsed, &a, (const uint8_t *)"pw", 2, luks_mem_io, &m, mk2, &slot, "m",
                                       &err), -EACCES);
    free(m.buf);
}

static void
test_essiv_cast5_layout(void **state)
{
    struct vdisk_luks_params p = {
        .algs = { .crypt = { .cipher = VDISK_CIPHER_CAST5_128, .mode = VDISK_CIPHER_MODE_CBC,
                             .ivgen = VDISK_IVGEN_ESSIV, .ivgen_cipher = VDISK_CIPHER_CAST5_128,
                             .ivgen_hash = VDISK_HASH_MD5 }, .hash = VDISK_HASH_SHA256 },
        .iter_time_ms = 5,
    };
    struct luks_mem m = { .buf = calloc(1, AREA) };
    struct vdisk_luks_header h;
    uint8_t mk[64];
    assert_int_equal(vdisk_luks_format(&p, (const uint8_t *)"", 0, luks_mem_io, &m, &h, mk, "m", NULL), 0);
    assert_string_equal(h.cipher_mode, "cbc-essiv:md5");
    /* 16-byte key: 64000 bytes of material, 4 KiB aligned = 128 sectors. */
    assert_int_equal(h.slots[1].key_offset - h.slots[0].key_offset, 128);
    assert_int_equal(h.payload_offset, 8 + 8 * 128);
    struct vdisk_luks_header parsed;
    struct vdisk_luks_algs a;
    assert_int_equal(vdisk_luks_header_parse(m.buf, VDISK_LUKS_HDR_LEN, AREA, &parsed, &a, "m", NULL), 0);
    uint8_t mk2[64];
    int slot;
    /* The empty passphrase is a passphrase. */
    assert_int_equal(vdisk_luks_unlock(&parsed, &a, (const uint8_t *)"", 0, luks_mem_io, &m, mk2, &slot, "m", NULL), 0);
    assert_memory_equal(mk, mk2, 16);
    free(m.buf);
}

static void
test_format_refuses_cast5_xts(void **state)
{
    struct vdisk_luks_params p = params;
    p.algs.crypt.cipher = VDISK_CIPHER_CAST5_128;
    struct luks_mem m = { .buf = calloc(1, AREA) };
    struct vdisk_luks_header h;
    uint8_t mk[64];
    vdisk_error err = { 0 };
    assert_int_equal(vdisk_luks_format(&p, (const uint8_t *)"pw", 2, luks_mem_io, &m, &h, mk, "m", &err), -ENOTSUP);
    assert_int_equal(m.writes, 0);
    free(m.buf);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_format_and_unlock),
        cmocka_unit_test(test_essiv_cast5_layout),
        cmocka_unit_test(test_format_refuses_cast5_xts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
