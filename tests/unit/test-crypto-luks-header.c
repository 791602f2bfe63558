/* Unit tests for core/crypto/luks-header.c: field positions of the LUKS1
 * on-disk format (magic 0, version 6, cipher-name 8, cipher-mode 40,
 * hash-spec 72, payload-offset 104, key-bytes 108, mk-digest 112,
 * mk-salt 132, mk-iterations 164, uuid 168, key slots from 208, 48 bytes
 * each), and the checks a hostile header must fail. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "crypto/luks.h"

static void
put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* A valid aes-xts-plain64 / sha256 header written field by field. */
static void
spec_header(uint8_t *b)
{
    memset(b, 0, VDISK_LUKS_HDR_LEN);
    memcpy(b, "LUKS\xba\xbe\0\1", 8);
    strcpy((char *)b + 8, "aes");
    strcpy((char *)b + 40, "xts-plain64");
    strcpy((char *)b + 72, "sha256");
    put32(b + 104, 4040);
    put32(b + 108, 64);
    put32(b + 164, 1000);
    strcpy((char *)b + 168, "01234567-89ab-cdef-0123-456789abcdef");
    for (int i = 0; i < 8; i++) {
        uint8_t *s = b + 208 + 48 * i;
        put32(s, i == 0 ? 0x00ac71f3 : 0x0000dead);
        put32(s + 4, i == 0 ? 2000 : 0);
        put32(s + 40, 8 + 504 * (uint32_t)i);
        put32(s + 44, 4000);
    }
}

static int
parse(const uint8_t *b, struct vdisk_luks_header *h, struct vdisk_luks_algs *a, vdisk_error *err)
{
    return vdisk_luks_header_parse(b, VDISK_LUKS_HDR_LEN, 4040 * 512, h, a, "t.luks", err);
}

static void
test_parse_fields(void **state)
{
    uint8_t b[VDISK_LUKS_HDR_LEN];
    spec_header(b);
    struct vdisk_luks_header h;
    struct vdisk_luks_algs a;
    assert_int_equal(parse(b, &h, &a, NULL), 0);
    assert_int_equal(h.payload_offset, 4040);
    assert_int_equal(h.key_bytes, 64);
    assert_int_equal(h.slots[0].active, VDISK_LUKS_SLOT_ACTIVE);
    assert_int_equal(h.slots[7].key_offset, 8 + 504 * 7);
    assert_int_equal(a.crypt.cipher, VDISK_CIPHER_AES_256);
    assert_int_equal(a.crypt.mode, VDISK_CIPHER_MODE_XTS);
    assert_int_equal(a.crypt.ivgen, VDISK_IVGEN_PLAIN64);
    assert_int_equal(a.hash, VDISK_HASH_SHA256);
    /* Build gives back the same bytes. */
    uint8_t again[VDISK_LUKS_HDR_LEN];
    vdisk_luks_header_build(&h, again);
    assert_memory_equal(again, b, sizeof(b));
    /* QEMU's layout for a 64-byte key: payload at sector 4040. */
    assert_int_equal(vdisk_luks_payload_sectors(64), 4040);
    assert_int_equal(vdisk_luks_payload_sectors(32), 2056);
}

static void
test_decode_modes(void **state)
{
    uint8_t b[VDISK_LUKS_HDR_LEN];
    struct vdisk_luks_header h;
    struct vdisk_luks_algs a;
    spec_header(b);
    strcpy((char *)b + 8, "serpent");
    memset(b + 40, 0, 32);
    strcpy((char *)b + 40, "cbc-essiv:sha256");
    put32(b + 108, 32);
    for (int i = 0; i < 8; i++)
        put32(b + 208 + 48 * i + 40, 8 + 256 * (uint32_t)i);
    assert_int_equal(parse(b, &h, &a, NULL), 0);
    assert_int_equal(a.crypt.cipher, VDISK_CIPHER_SERPENT_256);
    assert_int_equal(a.crypt.ivgen, VDISK_IVGEN_ESSIV);
    assert_int_equal(a.crypt.ivgen_cipher, VDISK_CIPHER_SERPENT_256);
    assert_int_equal(a.crypt.ivgen_hash, VDISK_HASH_SHA256);
    memset(b + 40, 0, 32);
    strcpy((char *)b + 40, "ecb");
    assert_int_equal(parse(b, &h, &a, NULL), 0);
    assert_int_equal(a.crypt.mode, VDISK_CIPHER_MODE_ECB);
    /* What qemu-img writes for ivgen-alg=plain64,ivgen-hash-alg=sha256: the hash is ignored. */
    memset(b + 40, 0, 32);
    strcpy((char *)b + 40, "cbc-plain64:sha256");
    assert_int_equal(parse(b, &h, &a, NULL), 0);
    assert_int_equal(a.crypt.ivgen, VDISK_IVGEN_PLAIN64);
    assert_true(a.crypt.ivgen_hashed);
    /* essiv still needs its hash. */
    memset(b + 40, 0, 32);
    strcpy((char *)b + 40, "cbc-essiv");
    assert_int_equal(parse(b, &h, &a, NULL), -EINVAL);
}

/* Patch one field of a good header and expect a message with `want`. */
static void
expect_bad(size_t off, const void *val, size_t len, int code, const char *want)
{
    uint8_t b[VDISK_LUKS_HDR_LEN];
    spec_header(b);
    memcpy(b + off, val, len);
    struct vdisk_luks_header h;
    struct vdisk_luks_algs a;
    vdisk_error err = { 0 };
    assert_int_equal(parse(b, &h, &a, &err), code);
    if (!strstr(err.message, want))
        fail_msg("'%s' lacks '%s'", err.message, want);
    assert_non_null(strstr(err.message, "t.luks"));
}

static void
test_refusals(void **state)
{
    uint8_t v[4];
    expect_bad(0, "LUKZ", 4, -EINVAL, "bad magic");
    expect_bad(6, "\0\2", 2, -ENOTSUP, "version 2");
    expect_bad(8, "des\0", 4, -ENOTSUP, "cipher 'des'");
    expect_bad(40, "ctr-plain64\0", 12, -ENOTSUP, "cipher mode");
    expect_bad(40, "xts-benbi\0", 10, -ENOTSUP, "IV generator 'benbi'");
    expect_bad(72, "whirlpool\0", 10, -ENOTSUP, "hash 'whirlpool'");
    put32(v, 0);
    expect_bad(164, v, 4, -EINVAL, "0 iterations");
    put32(v, 100);
    expect_bad(108, v, 4, -EINVAL, "key length 100");
    put32(v, 0x12345678);
    expect_bad(208, v, 4, -EINVAL, "key slot 0 has state 0x12345678");
    put32(v, 3999);
    expect_bad(208 + 48 + 44, v, 4, -EINVAL, "key slot 1 is corrupted (stripes 3999");
    put32(v, 0);
    expect_bad(208 + 40, v, 4, -EINVAL, "overlaps the LUKS header");
    put32(v, 8 + 504);
    expect_bad(208 + 48 * 2 + 40, v, 4, -EINVAL, "key slots 1 and 2 overlap");
    put32(v, 4000);
    expect_bad(104, v, 4, -EINVAL, "overlaps the encrypted payload");
}

static void
test_slot_past_area(void **state)
{
    uint8_t b[VDISK_LUKS_HDR_LEN];
    spec_header(b);
    struct vdisk_luks_header h;
    struct vdisk_luks_algs a;
    vdisk_error err = { 0 };
    /* Only 64 KiB of file: slot 0's material (256000 bytes) does not fit. */
    assert_int_equal(vdisk_luks_header_parse(b, sizeof(b), 65536, &h, &a, "t.luks", &err), -EINVAL);
    assert_non_null(strstr(err.message, "ends past"));
    assert_int_equal(vdisk_luks_header_parse(b, 100, 0, &h, &a, "t.luks", &err), -EINVAL);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_fields),
        cmocka_unit_test(test_decode_modes),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_slot_past_area),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
