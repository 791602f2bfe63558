/* Unit tests for core/vpc/dynheader.c: fields at the spec's offsets,
 * locators, checksum. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "fixture.h"
#include "vpc/vpc.h"

static void
test_round_trip(void **state)
{
    (void)state;
    vpc_dynheader d;
    memset(&d, 0, sizeof(d));
    d.data_offset = UINT64_MAX;
    d.table_offset = 1536;
    d.version = 0x10000;
    d.max_table_entries = 5;
    d.block_size = 2u << 20;
    memset(d.parent_uuid, 0x77, 16);
    d.parent_name[1] = 'p';
    d.loc[7] = (vpc_locator){ VPC_PLAT_W2RU, 1, 24, 4096 };
    uint8_t b[1024];
    vpc_dynheader_build(&d, b);
    assert_memory_equal(b, "cxsparse", 8);
    assert_true(vpc_be64(b + 8) == UINT64_MAX);
    assert_true(vpc_be64(b + 16) == 1536);
    assert_int_equal(vpc_be32(b + 28), 5);
    assert_int_equal(vpc_be32(b + 32), 2u << 20);
    assert_int_equal(b[40], 0x77);
    assert_int_equal(b[65], 'p');
    const uint8_t *l = b + 576 + 7 * 24;
    assert_memory_equal(l, "W2ru", 4);
    assert_int_equal(vpc_be32(l + 8), 24);
    assert_true(vpc_be64(l + 16) == 4096);
    vpc_dynheader back;
    vdisk_error err;
    assert_int_equal(vpc_dynheader_parse(b, "t.vhd", &back, &err), 0);
    assert_int_equal(back.loc[7].platform, VPC_PLAT_W2RU);
    assert_true(back.loc[7].offset == 4096);
    b[700] ^= 1;
    assert_int_equal(vpc_dynheader_parse(b, "t.vhd", &back, &err), -EINVAL);
    assert_non_null(strstr(err.message, "checksum"));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
