/* Unit tests for core/vhdx/crc32c.c against the CRC-32C test vectors of
 * RFC 3720 (iSCSI), appendix B.4. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "fixture.h"
#include "vhdx/vhdx.h"

static void
test_rfc3720_vectors(void **state)
{
    (void)state;
    uint8_t b[32];
    memset(b, 0, sizeof(b));
    assert_int_equal(vhdx_crc32c(b, 32), 0x8a9136aa);
    memset(b, 0xff, sizeof(b));
    assert_int_equal(vhdx_crc32c(b, 32), 0x62a8ab43);
    for (int i = 0; i < 32; i++)
        b[i] = (uint8_t)i;
    assert_int_equal(vhdx_crc32c(b, 32), 0x46dd794e);
    for (int i = 0; i < 32; i++)
        b[i] = (uint8_t)(31 - i);
    assert_int_equal(vhdx_crc32c(b, 32), 0x113fdb5c);
    assert_int_equal(vhdx_crc32c("123456789", 9), 0xe3069283);
}

static void
test_update_and_checksum_field(void **state)
{
    (void)state;
    uint8_t b[64];
    for (int i = 0; i < 64; i++)
        b[i] = (uint8_t)(i * 3);
    assert_int_equal(vhdx_crc32c_update(vhdx_crc32c(b, 10), b + 10, 54), vhdx_crc32c(b, 64));
    /* The field counts as zero, whatever it holds. */
    vhdx_checksum_store(b, 64, 4);
    uint32_t stored = vhdx_le32(b + 4);
    uint8_t z[64];
    memcpy(z, b, 64);
    memset(z + 4, 0, 4);
    assert_int_equal(stored, vhdx_crc32c(z, 64));
    assert_int_equal(vhdx_checksum(b, 64, 4), stored);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc3720_vectors),
        cmocka_unit_test(test_update_and_checksum_field),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
