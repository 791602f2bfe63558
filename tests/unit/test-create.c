/* Unit tests for core/create.c: -o options, their checks, and vdisk_create
 * for raw images (sizes: test-option-values.c).
 *
 * Expected values and refusals are the ones qemu-img 7.2 gives for the same
 * input (tried by hand: `qemu-img create -f raw x.raw SIZE`, `qemu-img
 * create -f qcow2 -o OPTS x.qcow2 1M`). */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "fixture.h"

#include <vdisk/vdisk.h>

static void
test_defaults(void **state)
{
    vdisk_create_opts o;
    vdisk_create_opts_init(&o, VDISK_FORMAT_QCOW2);
    assert_int_equal(o.format, VDISK_FORMAT_QCOW2);
    assert_int_equal(o.prealloc, VDISK_PREALLOC_OFF);
    assert_int_equal(o.cluster_size, 65536);
    assert_int_equal(o.compat, 3);
    assert_int_equal(o.refcount_bits, 16);
    assert_false(o.lazy_refcounts);
    assert_false(o.extended_l2);
    assert_int_equal(o.compression_type, VDISK_COMPRESSION_ZLIB);
    assert_null(o.backing_file);
    assert_int_equal(o.backing_format, VDISK_FORMAT_UNKNOWN);
    assert_string_equal(vdisk_prealloc_name(VDISK_PREALLOC_FALLOC), "falloc");
    assert_string_equal(vdisk_prealloc_name((vdisk_prealloc)99), "unknown");
}

static void
test_every_option(void **state)
{
    vdisk_create_opts o;
    vdisk_create_opts_init(&o, VDISK_FORMAT_QCOW2);
    vdisk_error err;
    assert_int_equal(vdisk_create_opts_parse(&o,
        "size=1.5G,preallocation=falloc,nocow=on,cluster_size=128k,compat=1.1,refcount_bits=64,"
        "lazy_refcounts=on,extended_l2=on,compression_type=zstd,backing_file=base.img,backing_fmt=raw",
        &err), 0);
    assert_int_equal(o.size, 1610612736ull);
    assert_int_equal(o.prealloc, VDISK_PREALLOC_FALLOC);
    assert_true(o.nocow);
    assert_int_equal(o.cluster_size, 131072);
    assert_int_equal(o.compat, 3);
    assert_int_equal(o.refcount_bits, 64);
    assert_true(o.lazy_refcounts);
    assert_true(o.extended_l2);
    assert_int_equal(o.compression_type, VDISK_COMPRESSION_ZSTD);
    assert_string_equal(o.backing_file, "base.img");
    assert_int_equal(o.backing_format, VDISK_FORMAT_RAW);
    /* Spellings: v2/v3 and 0.10; off/no/false; a later value wins. */
    assert_int_equal(vdisk_create_opts_parse(&o, "compat=v2,lazy_refcounts=off,nocow=no,extended_l2=false",
                                             &err), 0);
    assert_int_equal(o.compat, 2);
    assert_false(o.lazy_refcounts);
    assert_false(o.nocow);
    assert_int_equal(vdisk_create_opts_set(&o, "compat", "0.10", &err), 0);
    assert_int_equal(o.compat, 2);
    assert_int_equal(vdisk_create_opts_set(&o, "compat", "v3", &err), 0);
    assert_int_equal(o.compat, 3);
    assert_int_equal(vdisk_create_opts_set(&o, "backing_file", "other.img", &err), 0);
    assert_string_equal(o.backing_file, "other.img");
    const char *pre[] = { "off", "metadata", "falloc", "full" };
    for (int i = 0; i < 4; i++) {
        assert_int_equal(vdisk_create_opts_set(&o, "preallocation", pre[i], &err), 0);
        assert_int_equal(o.prealloc, (vdisk_prealloc)i);
    }
    vdisk_create_opts_clear(&o);
    assert_null(o.backing_file);
}

/* Set (or validate) and expect a refusal whose message holds `msg`. */
static void
expect_refusal(vdisk_format fmt, const char *list, const char *msg)
{
    vdisk_create_opts o;
    vdisk_create_opts_init(&o, fmt);
    o.size = 1 << 20;
    vdisk_error err;
    int r = vdisk_create_opts_parse(&o, list, &err);
    if (r == 0)
        r = vdisk_create_opts_validate(&o, &err);
    if (r >= 0)
        fail_msg("'%s' was accepted", list);
    if (!strstr(err.message, msg))
        fail_msg("'%s': message '%s' lacks '%s'", list, err.message, msg);
    vdisk_create_opts_clear(&o);
}

static void
test_refusals_match_qemu(void **state)
{
    const vdisk_format Q = VDISK_FORMAT_QCOW2, R = VDISK_FORMAT_RAW;
    expect_refusal(Q, "compat=0.10,lazy_refcounts=on",
                   "Lazy refcounts only supported with compatibility level 1.1 and above");
    expect_refusal(Q, "compat=0.10,extended_l2=on",
                   "Extended L2 entries are only supported with compatibility level 1.1 and above");
    expect_refusal(Q, "cluster_size=8k,extended_l2=on",
                   "Extended L2 entries are only supported with cluster sizes of at least 16384 bytes");
    expect_refusal(Q, "compat=0.10,refcount_bits=8",
                   "Different refcount widths than 16 bits require compatibility level 1.1 or above");
    expect_refusal(Q, "refcount_bits=3", "Refcount width must be a power of two and may not exceed 64 bits");
    expect_refusal(Q, "refcount_bits=128", "Refcount width must be a power of two and may not exceed 64 bits");
    expect_refusal(Q, "refcount_bits=0", "Refcount width must be a power of two");
    expect_refusal(Q, "refcount_bits=abc", "Parameter 'refcount_bits'");
    expect_refusal(Q, "cluster_size=1000", "Cluster size must be a power of two between 512 and 2048k");
    expect_refusal(Q, "cluster_size=256", "Cluster size must be a power of two between 512 and 2048k");
    expect_refusal(Q, "cluster_size=4M", "Cluster size must be a power of two between 512 and 2048k");
    expect_refusal(Q, "cluster_size=abc", "Parameter 'cluster_size' expects a non-negative number below 2^64");
    expect_refusal(Q, "compat=0.10,compression_type=zstd",
                   "Non-zlib compression type is only supported with compatibility level 1.1 and above");
    expect_refusal(Q, "compat=2", "Parameter 'compat' does not accept value '2'");
    expect_refusal(Q, "preallocation=foo", "Parameter 'preallocation' does not accept value 'foo'");
    expect_refusal(Q, "compression_type=lz4", "does not accept value 'lz4'");
    expect_refusal(Q, "lazy_refcounts=maybe", "Parameter 'lazy_refcounts' expects 'on' or 'off'");
    expect_refusal(Q, "foo=bar", "Invalid parameter 'foo'");
    expect_refusal(Q, "size", "Invalid option 'size'");
    expect_refusal(Q, "size=abc", "Parameter 'size' expects a non-negative number");
    expect_refusal(Q, "backing_fmt=raw", "Backing format cannot be used without backing file");
    expect_refusal(Q, "backing_file=b.img,preallocation=metadata",
                   "Backing file and preallocation can only be used at the same time if extended_l2 is on");
    expect_refusal(Q, "size=8E", "Image size must be less than 8 EiB!");
    expect_refusal(R, "preallocation=metadata", "Unsupported preallocation mode: metadata");
    expect_refusal(R, "cluster_size=64k", "Invalid parameter 'cluster_size'");
    expect_refusal(R, "backing_file=x.raw", "Invalid parameter 'backing_file'");
    expect_refusal(R, "compat=1.1", "Invalid parameter 'compat'");
    /* The combination qemu accepts: backing + preallocation with extended_l2. */
    vdisk_create_opts o;
    vdisk_create_opts_init(&o, Q);
    vdisk_error err;
    assert_int_equal(vdisk_create_opts_parse(&o, "backing_file=b,preallocation=metadata,extended_l2=on,"
                                             "cluster_size=128k", &err), 0);
    assert_int_equal(vdisk_create_opts_validate(&o, &err), 0);
    vdisk_create_opts_clear(&o);
    /* A format that cannot be created. */
    vdisk_create_opts_init(&o, VDISK_FORMAT_ISO);
    assert_int_equal(vdisk_create_opts_validate(&o, &err), -ENOTSUP);
}

static void
test_create_raw_rounds_to_sectors(void **state)
{
    static const struct {
        uint64_t size, want;
    } cases[] = { { 0, 0 }, { 1, 512 }, { 1000, 1024 }, { 1536, 1536 }, { 1 << 20, 1 << 20 } };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        vdisk_create_opts o;
        vdisk_create_opts_init(&o, VDISK_FORMAT_RAW);
        o.size = cases[i].size;
        vdisk_error err;
        assert_int_equal(vdisk_create(unit_path(0, "r.raw"), &o, NULL, NULL, &err), 0);
        struct stat st;
        assert_int_equal(stat(unit_path(0, "r.raw"), &st), 0);
        assert_int_equal(st.st_size, cases[i].want);
    }
}

static void
test_create_replaces_and_cleans_up(void **state)
{
    const char *p = unit_path(0, "x.raw");
    int fd = open(p, O_WRONLY | O_CREAT, 0644);
    assert_int_equal(write(fd, "old content", 11), 11);
    close(fd);
    vdisk_create_opts o;
    vdisk_create_opts_init(&o, VDISK_FORMAT_RAW);
    o.size = 4096;
    vdisk_error err;
    assert_int_equal(vdisk_create(p, &o, NULL, NULL, &err), 0);
    char buf[11];
    fd = open(p, O_RDONLY);
    assert_int_equal(read(fd, buf, sizeof(buf)), 11);
    close(fd);
    for (int i = 0; i < 11; i++)
        assert_int_equal(buf[i], 0);
    /* An invalid combination creates nothing. */
    unlink(p);
    o.prealloc = VDISK_PREALLOC_METADATA;
    assert_int_equal(vdisk_create(p, &o, NULL, NULL, &err), -ENOTSUP);
    assert_int_equal(access(p, F_OK), -1);
    /* A missing backing file is named. */
    vdisk_create_opts_init(&o, VDISK_FORMAT_QCOW2);
    o.backing_file = "nope.qcow2";
    assert_true(vdisk_create(unit_path(0, "y.qcow2"), &o, NULL, NULL, &err) < 0);
    assert_non_null(strstr(err.message, "nope.qcow2"));
    assert_int_equal(access(unit_path(0, "y.qcow2"), F_OK), -1);
    /* A directory in the way is reported with its name. */
    assert_int_equal(mkdir(unit_path(0, "d"), 0755), 0);
    vdisk_create_opts_init(&o, VDISK_FORMAT_RAW);
    assert_true(vdisk_create(unit_path(0, "d"), &o, NULL, NULL, &err) < 0);
    assert_non_null(strstr(err.message, "/d"));
}

static int
cancel_now(void *opaque, uint64_t done, uint64_t total)
{
    return 1;
}

static void
test_create_cancel_removes_file(void **state)
{
    vdisk_create_opts o;
    vdisk_create_opts_init(&o, VDISK_FORMAT_RAW);
    o.size = 64 << 20;
    o.prealloc = VDISK_PREALLOC_FULL;
    vdisk_error err;
    assert_int_equal(vdisk_create(unit_path(0, "c.raw"), &o, cancel_now, NULL, &err), -ECANCELED);
    assert_int_equal(access(unit_path(0, "c.raw"), F_OK), -1);
}

static void
test_measure_raw(void **state)
{
    vdisk_create_opts o;
    vdisk_create_opts_init(&o, VDISK_FORMAT_RAW);
    o.size = 5 << 20;
    vdisk_measure m;
    vdisk_error err;
    assert_int_equal(vdisk_measure_image(&o, NULL, &m, &err), 0);
    assert_int_equal(m.required, 5 << 20);
    assert_int_equal(m.fully_allocated, 5 << 20);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_every_option),
        cmocka_unit_test(test_refusals_match_qemu),
        cmocka_unit_test_setup_teardown(test_create_raw_rounds_to_sectors, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_create_replaces_and_cleans_up, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_create_cancel_removes_file, unit_setup, unit_teardown),
        cmocka_unit_test(test_measure_raw),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
