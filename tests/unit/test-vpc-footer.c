/* Unit tests for core/vpc/footer.c: the footer's fields at the spec's
 * offsets, its checksum, and the virtual size rule by creator application
 * (CHS geometry, or the current size for Hyper-V, disk2vhd, XenServer, ...
 * and for maximal geometries). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "fixture.h"
#include "vpc/vpc.h"

static vpc_footer
sample(const char *app, uint16_t c, uint8_t h, uint8_t s, uint64_t size)
{
    vpc_footer f;
    memset(&f, 0, sizeof(f));
    f.features = 2;
    f.version = 0x10000;
    f.data_offset = 512;
    memcpy(f.creator_app, app, 4);
    f.current_size = f.original_size = size;
    f.cylinders = c;
    f.heads = h;
    f.sectors = s;
    f.type = VPC_TYPE_DYNAMIC;
    f.uuid[0] = 0x42;
    return f;
}

static void
test_layout_and_checksum(void **state)
{
    (void)state;
    vpc_footer f = sample("win ", 301, 4, 17, 10u << 20);
    uint8_t b[512];
    vpc_footer_build(&f, b);
    assert_memory_equal(b, "conectix", 8);
    assert_int_equal(vpc_be32(b + 8), 2);
    assert_true(vpc_be64(b + 16) == 512);
    assert_memory_equal(b + 28, "win ", 4);
    assert_true(vpc_be64(b + 48) == 10u << 20);
    assert_int_equal(vpc_be16(b + 56), 301);
    assert_int_equal(b[58], 4);
    assert_int_equal(b[59], 17);
    assert_int_equal(vpc_be32(b + 60), 3);
    assert_int_equal(b[68], 0x42);
    /* One's complement of the byte sum without the checksum field. */
    uint32_t sum = 0;
    for (int i = 0; i < 512; i++)
        if (i < 64 || i >= 68)
            sum += b[i];
    assert_int_equal(vpc_be32(b + 64), ~sum);
    vpc_footer back;
    vdisk_error err;
    assert_int_equal(vpc_footer_parse(b, "t.vhd", &back, &err), 0);
    assert_int_equal(back.cylinders, 301);
    assert_memory_equal(back.uuid, f.uuid, 16);
    b[100] ^= 1;
    assert_int_equal(vpc_footer_parse(b, "t.vhd", &back, &err), -EINVAL);
    assert_non_null(strstr(err.message, "checksum"));
    b[0] = 'C';
    assert_int_equal(vpc_footer_parse(b, "t.vhd", &back, &err), -EINVAL);
    assert_non_null(strstr(err.message, "conectix"));
}

static void
test_size_by_creator(void **state)
{
    (void)state;
    /* CHS 301*4*17 = 20468 sectors; the footer says 10 MiB (20480). */
    static const struct {
        const char *app;
        uint64_t want;
    } cases[] = {
        { "vpc ", 20468 * 512 }, { "qemu", 20468 * 512 }, { "xyz ", 20468 * 512 },
        { "win ", 10u << 20 }, { "qem2", 10u << 20 }, { "d2v ", 10u << 20 }, { "CTXS", 10u << 20 },
        { "tap\0", 10u << 20 }, { "tap ", 20468 * 512 },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        vpc_footer f = sample(cases[i].app, 301, 4, 17, 10u << 20);
        assert_true(vpc_footer_virtual_size(&f) == cases[i].want);
    }
    /* A maximal geometry: the current size, whoever made it; rounded down
     * to whole sectors. */
    vpc_footer f = sample("qemu", 65535, 16, 255, (UINT64_C(200) << 30) + 100);
    assert_true(vpc_footer_virtual_size(&f) == UINT64_C(200) << 30);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_layout_and_checksum),
        cmocka_unit_test(test_size_by_creator),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
