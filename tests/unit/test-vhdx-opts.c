/* Unit tests for core/vhdx/opts.c: qemu-img's defaults, its roundings of
 * block_size and log_size, and its messages. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "fixture.h"

#include <vdisk/vdisk.h>

static void
test_defaults_and_roundings(void **state)
{
    (void)state;
    vdisk_create_opts o;
    vdisk_create_opts_init(&o, VDISK_FORMAT_VHDX);
    vdisk_error err;
    assert_true(o.vhdx.log_size == 1u << 20 && o.vhdx.block_size == 0 && o.vhdx.block_state_zero);
    assert_int_equal(vdisk_create_opts_parse(&o, "block_size=1000k,log_size=1500k", &err), 0);
    assert_true(o.vhdx.block_size == 1u << 20 && o.vhdx.log_size == 2u << 20);
    assert_int_equal(vdisk_create_opts_parse(&o, "block_size=1G", &err), 0);
    assert_true(o.vhdx.block_size == 256u << 20);   /* capped, as qemu-img */
    assert_int_equal(vdisk_create_opts_parse(&o, "subformat=fixed,block_state_zero=off", &err), 0);
    assert_true(o.vhdx.fixed && !o.vhdx.block_state_zero);
    o.size = 1u << 30;
    assert_int_equal(vdisk_create_opts_validate(&o, &err), 0);
    vdisk_create_opts_clear(&o);
}

/* The n-th option fmt has of its own (listed, not size/preallocation/nocow). */
static const vdisk_option *
own(vdisk_format fmt, int n)
{
    for (const vdisk_option *o = vdisk_format_options(fmt); o->name; o++)
        if (!(o->flags & (VDISK_OPTION_COMMON | VDISK_OPTION_HIDDEN)) && n-- == 0)
            return o;
    return NULL;
}

static void
test_messages(void **state)
{
    (void)state;
    static const struct {
        const char *opts;
        uint64_t size;
        const char *want;
    } cases[] = {
        { "block_size=3M", 1u << 20, "Block size must be a power of two" },
        { "log_size=5G", 1u << 20, "Log size must be smaller than 4 GB" },
        { "log_size=0", 1u << 20, "Log size must be a multiple of 1 MB" },
        { "", (UINT64_C(64) << 40) + 512, "Image size too large; max of 64TB" },
        { "preallocation=falloc", 1u << 20, "needs subformat=fixed" },
        { "subformat=fixed,preallocation=metadata", 1u << 20, "metadata" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        vdisk_create_opts o;
        vdisk_create_opts_init(&o, VDISK_FORMAT_VHDX);
        o.size = cases[i].size;
        vdisk_error err;
        assert_int_equal(vdisk_create_opts_parse(&o, cases[i].opts, &err), 0);
        assert_true(vdisk_create_opts_validate(&o, &err) < 0);
        if (!strstr(err.message, cases[i].want))
            fail_msg("%s: '%s' lacks '%s'", cases[i].opts, err.message, cases[i].want);
        vdisk_create_opts_clear(&o);
    }
    vdisk_create_opts o;
    vdisk_create_opts_init(&o, VDISK_FORMAT_VHDX);
    vdisk_error err;
    assert_int_equal(vdisk_create_opts_parse(&o, "subformat=sparse", &err), -EINVAL);
    assert_int_equal(vdisk_create_opts_parse(&o, "block_state_zero=2", &err), -EINVAL);
    assert_non_null(strstr(err.message, "expects 'on' or 'off'"));
    assert_int_equal(vdisk_create_opts_parse(&o, "force_size=on", &err), -EINVAL);   /* vpc's */
    assert_string_equal(own(VDISK_FORMAT_VHDX, 0)->name, "log_size");
    assert_string_equal(own(VDISK_FORMAT_VHDX, 0)->def, "1048576");
    assert_string_equal(own(VDISK_FORMAT_VHDX, 1)->name, "block_size");
    assert_string_equal(own(VDISK_FORMAT_VHDX, 1)->def, "0");
    vdisk_create_opts_clear(&o);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults_and_roundings),
        cmocka_unit_test(test_messages),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
