/* Unit tests for core/option-values.c: sizes as qemu reads them.
 *
 * Expected sizes and refusals are the ones qemu-img 7.2 gives for the same
 * input (tried by hand: `qemu-img create -f raw x.raw SIZE`). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <vdisk/vdisk.h>

static void
test_parse_size_accepts_qemu_spellings(void **state)
{
    static const struct {
        const char *text;
        uint64_t want;
    } ok[] = {
        { "0", 0 }, { "512", 512 }, { "00012", 12 }, { "1b", 1 }, { "1B", 1 },
        { "1k", 1024 }, { "1K", 1024 }, { "1m", 1048576 }, { "1M", 1048576 },
        { "2G", 2147483648ull }, { "1t", 1099511627776ull }, { "1P", 1125899906842624ull },
        { "1E", 1152921504606846976ull }, { " 1k", 1024 }, { "1.5k", 1536 },
        { "1.25M", 1310720 }, { "1.5g", 1610612736 }, { "0.75T", 824633720832ull },
        { "3.1415926G", 3373259369ull }, { "2.5P", 2814749767106560ull },
        { "7.5E", 8646911284551352320ull }, { "7.99999E", 9223360507639729792ull },
        { "0.0005k", 1 },   /* 0.512 bytes rounds up */
        { "1.k", 1024 }, { "1.", 1 }, { "1.0", 1 }, { "0x10", 16 }, { "0x1k", 1024 },
        { "8E", 9223372036854775808ull }, { "18446744073709551615", 18446744073709551615ull },
    };
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        uint64_t v = 42;
        vdisk_error err;
        int r = vdisk_parse_size(ok[i].text, &v, &err);
        if (r != 0)
            fail_msg("'%s': %s", ok[i].text, err.message);
        if (v != ok[i].want)
            fail_msg("'%s': got %llu, want %llu", ok[i].text, (unsigned long long)v,
                     (unsigned long long)ok[i].want);
    }
}

static void
test_parse_size_refuses_what_qemu_refuses(void **state)
{
    static const char *const bad[] = {
        "", "abc", "-1", "-0", ".5k", "0.5", "1.1b", "1e3", "1.5e3k", "1kb", "1 ", "1k ",
        "1.k5", "1.5.5k", "0x1.5k", "k", "1Q", "0x",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        uint64_t v = 42;
        vdisk_error err;
        int r = vdisk_parse_size(bad[i], &v, &err);
        if (r != -EINVAL)
            fail_msg("'%s': got %d (%llu), want -EINVAL", bad[i], r, (unsigned long long)v);
        assert_int_equal(v, 42);
        assert_non_null(strstr(err.message, bad[i]));
    }
    static const char *const big[] = { "16E", "16384P", "18446744073709551616", "99999999999T" };
    for (size_t i = 0; i < sizeof(big) / sizeof(big[0]); i++) {
        uint64_t v;
        vdisk_error err;
        assert_int_equal(vdisk_parse_size(big[i], &v, &err), -ERANGE);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_size_accepts_qemu_spellings),
        cmocka_unit_test(test_parse_size_refuses_what_qemu_refuses),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
