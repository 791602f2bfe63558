/* Unit tests for core/vmdk/opts.c: the -o options of create -f vmdk, the
 * provisioning words, and the checks of their combination (qemu-img 7.2's
 * messages where qemu-img refuses too). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include <vdisk/vdisk.h>

static int
opts_of(const char *list, vdisk_create_opts *o, vdisk_error *err)
{
    vdisk_create_opts_init(o, VDISK_FORMAT_VMDK);
    o->size = 1 << 20;
    int r = vdisk_create_opts_parse(o, list, err);
    return r < 0 ? r : vdisk_create_opts_validate(o, err);
}

static void
test_defaults_and_values(void **state)
{
    (void)state;
    vdisk_create_opts o;
    vdisk_error err;
    assert_int_equal(opts_of("size=1M", &o, &err), 0);
    assert_int_equal(o.vmdk.subformat, VDISK_VMDK_MONOLITHIC_SPARSE);
    assert_int_equal(o.vmdk.adapter_type, VDISK_VMDK_ADAPTER_IDE);
    assert_string_equal(o.vmdk.hwversion, "");
    assert_int_equal(opts_of("subformat=twoGbMaxExtentFlat,adapter_type=legacyESX,hwversion=13,"
                             "toolsversion=10338,compat6=off,zeroed_grain=off,nocow=on", &o, &err), 0);
    assert_int_equal(o.vmdk.subformat, VDISK_VMDK_TWOGB_FLAT);
    assert_int_equal(o.vmdk.adapter_type, VDISK_VMDK_ADAPTER_LEGACYESX);
    assert_string_equal(o.vmdk.hwversion, "13");
    assert_string_equal(o.vmdk.toolsversion, "10338");
    assert_true(o.nocow);
    assert_int_equal(opts_of("hwversion=7,hwversion=undefined,compat6=on", &o, &err), 0);
    assert_true(o.vmdk.compat6);
    assert_string_equal(vdisk_vmdk_subformat_name(VDISK_VMDK_STREAM_OPTIMIZED), "streamOptimized");
    assert_string_equal(vdisk_vmdk_adapter_name(VDISK_VMDK_ADAPTER_LSILOGIC), "lsilogic");
    assert_null(vdisk_vmdk_subformat_name((vdisk_vmdk_subformat)9));
}

static void
test_provisioning_words(void **state)
{
    (void)state;
    static const struct { const char *word; vdisk_prealloc mode; } w[] = {
        { "thin", VDISK_PREALLOC_OFF }, { "zeroedthick", VDISK_PREALLOC_FALLOC },
        { "eagerzeroedthick", VDISK_PREALLOC_FULL }, { "off", VDISK_PREALLOC_OFF },
        { "falloc", VDISK_PREALLOC_FALLOC }, { "full", VDISK_PREALLOC_FULL },
    };
    for (size_t i = 0; i < sizeof(w) / sizeof(w[0]); i++) {
        char list[64];
        snprintf(list, sizeof(list), "subformat=monolithicFlat,preallocation=%s", w[i].word);
        vdisk_create_opts o;
        vdisk_error err;
        assert_int_equal(opts_of(list, &o, &err), 0);
        assert_int_equal(o.prealloc, w[i].mode);
    }
    /* The words are vmdk's: qcow2 does not take them. */
    vdisk_create_opts q;
    vdisk_error err;
    vdisk_create_opts_init(&q, VDISK_FORMAT_QCOW2);
    assert_int_equal(vdisk_create_opts_set(&q, "preallocation", "zeroedthick", &err), -EINVAL);
}

static void
expect_refused(const char *list, int code, const char *msg)
{
    vdisk_create_opts o;
    vdisk_error err;
    vdisk_create_opts_init(&o, VDISK_FORMAT_VMDK);
    int r = vdisk_create_opts_parse(&o, list, &err);
    if (r == 0)
        r = vdisk_create_opts_validate(&o, &err);
    if (r != -code || !strstr(err.message, msg))
        fail_msg("%s: got %d '%s', wanted %d '%s'", list, r, err.message, -code, msg);
    vdisk_create_opts_clear(&o);
}

static void
test_refusals(void **state)
{
    (void)state;
    expect_refused("subformat=foo", EINVAL, "Parameter 'subformat' does not accept value 'foo'");
    expect_refused("adapter_type=scsi", EINVAL, "Parameter 'adapter_type'");
    expect_refused("compat6=maybe", EINVAL, "'on' or 'off'");
    expect_refused("compat6=on,hwversion=7", EINVAL, "compat6 cannot be enabled with hwversion set");
    expect_refused("subformat=monolithicFlat,zeroed_grain=on", ENOTSUP,
                   "Flat image can't enable zeroed grain");
    expect_refused("subformat=twoGbMaxExtentFlat,backing_file=p.vmdk", ENOTSUP,
                   "Flat image can't have backing file");
    expect_refused("backing_file=p.vmdk,backing_fmt=qcow2", EINVAL, "backing_file must be a vmdk image");
    expect_refused("preallocation=metadata", ENOTSUP, "Unsupported preallocation mode: metadata");
    expect_refused("subformat=streamOptimized,preallocation=falloc", ENOTSUP, "streamOptimized");
    expect_refused("backing_file=p.vmdk,preallocation=full", ENOTSUP, "Backing file and preallocation");
    expect_refused("toolsversion=a\"b", EINVAL, "toolsversion");
    expect_refused("hwversion=0123456789abcdef", EINVAL, "hwversion");
    expect_refused("cluster_size=64k", EINVAL, "Invalid parameter 'cluster_size' for format vmdk");
    expect_refused("backing_file=a\"b", EINVAL, "cannot be written into a VMDK descriptor");
}

/* The table lists qemu-img's options in its order, then the protocol ones. */
static void
test_option_table(void **state)
{
    (void)state;
    static const char *const order[] = { "size", "adapter_type", "backing_file", "backing_fmt",
                                         "compat6", "hwversion", "toolsversion", "subformat",
                                         "zeroed_grain", "nocow", "preallocation" };
    const vdisk_option *table = vdisk_format_options(VDISK_FORMAT_VMDK);
    size_t n = 0;
    while (table[n].name) {
        assert_true(n < sizeof(order) / sizeof(order[0]));
        assert_string_equal(table[n].name, order[n]);
        n++;
    }
    assert_int_equal(n, sizeof(order) / sizeof(order[0]));
    assert_string_equal(table[4].def, "off");
    assert_string_equal(table[5].def, "undefined");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults_and_values),
        cmocka_unit_test(test_provisioning_words),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_option_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
