/* Unit tests for core/vpc/opts.c: the options qemu-img takes for vpc,
 * their values and refusals, and the -o help table. */
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
test_set_and_validate(void **state)
{
    (void)state;
    vdisk_create_opts o;
    vdisk_create_opts_init(&o, VDISK_FORMAT_VPC);
    o.size = 1u << 20;
    vdisk_error err;
    assert_false(o.vpc.fixed);
    assert_false(o.vpc.force_size);
    assert_int_equal(vdisk_create_opts_parse(&o, "subformat=fixed,force_size=on", &err), 0);
    assert_true(o.vpc.fixed && o.vpc.force_size);
    assert_int_equal(vdisk_create_opts_parse(&o, "preallocation=full", &err), 0);
    assert_int_equal(vdisk_create_opts_validate(&o, &err), 0);
    assert_int_equal(vdisk_create_opts_parse(&o, "subformat=dynamic", &err), 0);
    assert_int_equal(vdisk_create_opts_validate(&o, &err), -ENOTSUP);
    assert_non_null(strstr(err.message, "subformat=fixed"));
    assert_int_equal(vdisk_create_opts_parse(&o, "subformat=sparse", &err), -EINVAL);
    assert_non_null(strstr(err.message, "'subformat' does not accept value 'sparse'"));
    assert_int_equal(vdisk_create_opts_parse(&o, "force_size=maybe", &err), -EINVAL);
    assert_int_equal(vdisk_create_opts_parse(&o, "cluster_size=4k", &err), -EINVAL);
    assert_non_null(strstr(err.message, "Invalid parameter 'cluster_size'"));
    assert_int_equal(vdisk_create_opts_parse(&o, "backing_file=a.vhd", &err), -EINVAL);
    assert_non_null(strstr(err.message, "Backing file not supported"));
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
test_help_table(void **state)
{
    (void)state;
    assert_non_null(own(VDISK_FORMAT_VPC, 0));
    assert_string_equal(own(VDISK_FORMAT_VPC, 0)->name, "subformat");
    assert_string_equal(own(VDISK_FORMAT_VPC, 1)->name, "force_size");
    assert_null(own(VDISK_FORMAT_VPC, 2));
    assert_null(own(VDISK_FORMAT_RAW, 0));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_set_and_validate),
        cmocka_unit_test(test_help_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
