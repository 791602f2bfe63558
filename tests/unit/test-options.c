/* Unit tests for core/options.c and the format tables: lookups by name and
 * operation, create and amend values stored through the table, qemu-img
 * amend's refusals, and the "-o help" lines.  Expected help texts are
 * qemu-img 7.2's lines (`qemu-img create -f F -o help`, `qemu-img amend -f
 * qcow2 -o help`) for the options both have. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <vdisk/vdisk.h>

static void
test_find_by_name_and_operation(void **state)
{
    (void)state;
    const vdisk_option *o = vdisk_option_find(VDISK_FORMAT_QCOW2, "cluster_size", VDISK_OPTION_CREATE);
    assert_non_null(o);
    assert_int_equal(o->type, VDISK_OPTION_SIZE);
    assert_null(vdisk_option_find(VDISK_FORMAT_QCOW2, "cluster_size", VDISK_OPTION_AMEND));
    assert_non_null(vdisk_option_find(VDISK_FORMAT_QCOW2, "size", VDISK_OPTION_AMEND));
    assert_non_null(vdisk_option_find(VDISK_FORMAT_QCOW2, "encrypt.state", VDISK_OPTION_KEYSLOT));
    assert_null(vdisk_option_find(VDISK_FORMAT_QCOW2, "encrypt.state", VDISK_OPTION_CREATE));
    assert_non_null(vdisk_option_find(VDISK_FORMAT_LUKS, "state", VDISK_OPTION_KEYSLOT));
    assert_null(vdisk_option_find(VDISK_FORMAT_RAW, "cluster_size", VDISK_OPTION_CREATE));
    /* A format without a table of its own takes the common options. */
    assert_non_null(vdisk_option_find(VDISK_FORMAT_ISO, "preallocation", VDISK_OPTION_CREATE));
    /* Every entry that an operation takes can store its value. */
    const vdisk_format fmts[] = { VDISK_FORMAT_RAW, VDISK_FORMAT_QCOW2, VDISK_FORMAT_LUKS,
                                  VDISK_FORMAT_ISO };
    for (size_t f = 0; f < sizeof(fmts) / sizeof(fmts[0]); f++)
        for (const vdisk_option *e = vdisk_format_options(fmts[f]); e->name; e++) {
            assert_true(!(e->ops & VDISK_OPTION_CREATE) || e->create);
            assert_true(!(e->ops & VDISK_OPTION_AMEND) || e->amend);
            assert_true((e->flags & VDISK_OPTION_HIDDEN) || e->help);
        }
}

static void
test_create_values_through_the_table(void **state)
{
    (void)state;
    vdisk_create_opts o;
    vdisk_error err;
    vdisk_create_opts_init(&o, VDISK_FORMAT_QCOW2);
    assert_int_equal(vdisk_create_opts_parse(&o, "cluster_size=4k,compat=0.10,refcount_bits=0x10,"
                                             "encrypt.format=luks,encrypt.cipher-alg=aes-128", &err), 0);
    assert_int_equal(o.cluster_size, 4096);
    assert_int_equal(o.compat, 2);
    assert_int_equal(o.refcount_bits, 16);
    assert_int_equal(o.encrypt.format, VDISK_ENCRYPT_LUKS);
    assert_string_equal(o.encrypt.cipher_alg, "aes-128");
    assert_int_equal(vdisk_create_opts_set(&o, "encrypt.state", "active", &err), -EINVAL);
    assert_string_equal(err.message, "Invalid parameter 'encrypt.state' for format qcow2");
    vdisk_create_opts_clear(&o);
    vdisk_create_opts_init(&o, VDISK_FORMAT_LUKS);
    assert_int_equal(vdisk_create_opts_set(&o, "cipher-mode", "cbc", &err), 0);
    assert_string_equal(o.encrypt.cipher_mode, "cbc");
    assert_int_equal(vdisk_create_opts_set(&o, "format", "luks", &err), -EINVAL);
    assert_string_equal(err.message, "Invalid parameter 'format' for format luks");
    vdisk_create_opts_init(&o, VDISK_FORMAT_RAW);
    assert_int_equal(vdisk_create_opts_set(&o, "backing_file", "b", &err), -EINVAL);
    assert_int_equal(err.kind, VDISK_ERR_INVALID);
}

static void
test_amend_values_and_refusals(void **state)
{
    (void)state;
    vdisk_amend_opts o = { .lazy_refcounts = -1 };
    vdisk_error err;
    const vdisk_format q = VDISK_FORMAT_QCOW2;
    assert_int_equal(vdisk_amend_opts_set(q, &o, "compat", "v2", &err), 0);
    assert_int_equal(o.qcow2_version, 2);
    assert_int_equal(vdisk_amend_opts_set(q, &o, "lazy_refcounts", "on", &err), 0);
    assert_int_equal(o.lazy_refcounts, 1);
    assert_int_equal(vdisk_amend_opts_set(q, &o, "refcount_bits", "0", &err), 0);
    assert_int_equal(o.refcount_bits, -1);   /* vdisk_amend refuses it with its message */
    assert_int_equal(vdisk_amend_opts_set(q, &o, "size", "2M", &err), 0);
    assert_int_equal(o.size, 2u << 20);
    const char *bf = "base.qcow2";
    assert_int_equal(vdisk_amend_opts_set(q, &o, "backing_file", bf, &err), 0);
    assert_ptr_equal(o.backing_file, bf);
    /* qemu-img amend's words */
    assert_int_equal(vdisk_amend_opts_set(q, &o, "compat", "1.2", &err), -EINVAL);
    assert_string_equal(err.message, "Unknown compatibility level 1.2");
    assert_int_equal(vdisk_amend_opts_set(q, &o, "cluster_size", "4k", &err), -EINVAL);
    assert_string_equal(err.message, "Invalid parameter 'cluster_size'\n"
                                     "This option is only supported for image creation");
    assert_int_equal(vdisk_amend_opts_set(q, &o, "nocow", "on", &err), -EINVAL);
    assert_string_equal(err.message, "Invalid parameter 'nocow'");
    assert_int_equal(vdisk_amend_opts_set(q, &o, "data_file_raw", "yes", &err), -EINVAL);
    assert_string_equal(err.message, "Parameter 'data_file_raw' expects 'on' or 'off'");
}

static void
test_help_lines(void **state)
{
    (void)state;
    char *raw = vdisk_options_help(VDISK_FORMAT_RAW, VDISK_OPTION_CREATE);
    assert_non_null(raw);
    assert_string_equal(raw, "  size=<size>            - Virtual disk size\n"
                             "  preallocation=<str>    - Preallocation mode (allowed values: off, "
                             "metadata, falloc, full)\n"
                             "  nocow=<bool (on/off)>  - Turn off copy-on-write (valid only on btrfs)\n");
    free(raw);
    char *q = vdisk_options_help(VDISK_FORMAT_QCOW2, VDISK_OPTION_CREATE);
    assert_non_null(q);
    assert_non_null(strstr(q, "  cluster_size=<size>    - qcow2 cluster size\n"));
    assert_non_null(strstr(q, "  lazy_refcounts=<bool (on/off)> - Postpone refcount updates\n"));
    assert_null(strstr(q, "encryption="));   /* hidden */
    assert_null(strstr(q, "data_file"));     /* amend only */
    free(q);
    /* amend: in name order, as qemu-img amend lists them */
    char *a = vdisk_options_help(VDISK_FORMAT_QCOW2, VDISK_OPTION_AMEND);
    assert_non_null(a);
    assert_string_equal(a,
        "  backing_file=<str>     - File name of a base image\n"
        "  backing_fmt=<str>      - Image format of the base image\n"
        "  compat=<str>           - Compatibility level (v2 [0.10] or v3 [1.1])\n"
        "  data_file=<str>        - File name of an external data file\n"
        "  data_file_raw=<bool (on/off)> - The external data file must stay valid as a raw image\n"
        "  lazy_refcounts=<bool (on/off)> - Postpone refcount updates\n"
        "  refcount_bits=<num>    - Width of a reference count entry in bits\n"
        "  size=<size>            - Virtual disk size\n");
    free(a);
    char *k = vdisk_options_help(VDISK_FORMAT_LUKS, VDISK_OPTION_KEYSLOT);
    assert_non_null(k);
    assert_string_equal(k,
        "  iter-time=<num>        - Time to spend in PBKDF in milliseconds\n"
        "  keyslot=<num>          - Select a single keyslot to modify explicitly\n"
        "  new-secret=<str>       - New secret to set in the matching keyslots\n"
        "  old-secret=<str>       - Select all keyslots that match this password\n"
        "  state=<str>            - Select new state of affected keyslots (active/inactive)\n");
    free(k);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_find_by_name_and_operation),
        cmocka_unit_test(test_create_values_through_the_table),
        cmocka_unit_test(test_amend_values_and_refusals),
        cmocka_unit_test(test_help_lines),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
