/* Unit tests for plugin/vol-provision.c: what a volume definition asks
 * qemu-img for, libvirt's way, with DESIGN.md's thin/lazy/eager rules. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <vdisk/storage-xml.h>
#include <vdisk/vol-provision.h>

static vdisk_vol_def *
vol(const char *text)
{
    vdisk_vol_def *def;
    vdisk_error err = {0};

    if (vdisk_vol_def_parse(text, strlen(text), "v.xml", &def, &err) < 0)
        fail_msg("%s", err.message);
    return def;
}

/* Plan text with a pool of the given zeroing; returns the options (freed by
 * caller); p keeps the other fields (backing_file cleared: def is gone). */
static char *
plan(const char *text, vdisk_zeroing zeroing, unsigned flags, vdisk_vol_provision *p)
{
    vdisk_pool_def pool = { .zeroing = zeroing };
    vdisk_vol_def *def = vol(text);
    vdisk_error err = {0};
    char *opts;

    if (vdisk_vol_provision_plan(def, &pool, flags, p, &err) < 0)
        fail_msg("%s", err.message);
    opts = p->options;
    p->options = NULL;
    p->backing_file = NULL;
    vdisk_vol_def_free(def);
    return opts;
}

static void
test_thin_lazy_eager(void **state)
{
    vdisk_vol_provision p;
    char *o;

    o = plan("<volume><name>a</name><capacity>1048576</capacity></volume>", VDISK_ZEROING_LAZY, 0, &p);
    assert_int_equal(p.prealloc, VDISK_PREALLOC_OFF);
    assert_string_equal(o, "");
    free(o);
    o = plan("<volume><name>a</name><capacity>1048576</capacity><allocation>0</allocation></volume>",
             VDISK_ZEROING_EAGER, 0, &p);
    assert_int_equal(p.prealloc, VDISK_PREALLOC_OFF);
    free(o);
    o = plan("<volume><name>a</name><capacity unit='M'>1</capacity><allocation unit='K'>1024</allocation>"
             "</volume>", VDISK_ZEROING_LAZY, 0, &p);
    assert_int_equal(p.prealloc, VDISK_PREALLOC_FALLOC);
    assert_string_equal(o, "preallocation=falloc");
    assert_string_equal(p.format, "raw");
    free(o);
    o = plan("<volume><name>a</name><capacity unit='M'>1</capacity><allocation unit='M'>1</allocation>"
             "<target><format type='qcow2'/></target></volume>", VDISK_ZEROING_EAGER, 0, &p);
    assert_int_equal(p.prealloc, VDISK_PREALLOC_FULL);
    assert_string_equal(o, "preallocation=full,compat=0.10");
    free(o);
    /* in between: thin; --prealloc-metadata gives qcow2 its tables */
    o = plan("<volume><name>a</name><capacity unit='M'>1</capacity><allocation>4096</allocation>"
             "<target><format type='qcow2'/><compat>1.1</compat></target></volume>",
             VDISK_ZEROING_EAGER, VDISK_VOL_PREALLOC_METADATA, &p);
    assert_string_equal(o, "preallocation=metadata,compat=1.1");
    free(o);
}

/* The option strings of libvirt's storagevolxml2argvdata for the same XML. */
static void
test_libvirt_option_order(void **state)
{
    vdisk_vol_provision p;
    char *o;

    o = plan("<volume><name>a</name><capacity unit='G'>5</capacity><allocation>294912</allocation>"
             "<target><format type='qcow2'/><nocow/></target>"
             "<backingStore><path>/dev/null</path><format type='raw'/></backingStore></volume>",
             VDISK_ZEROING_LAZY, 0, &p);
    assert_string_equal(o, "backing_fmt=raw,nocow=on,compat=0.10");
    free(o);
    o = plan("<volume><name>a</name><capacity unit='G'>5</capacity>"
             "<target><format type='qcow2'/><compat>1.1</compat><features><lazy_refcounts/></features>"
             "<clusterSize unit='KiB'>128</clusterSize></target></volume>", VDISK_ZEROING_LAZY, 0, &p);
    assert_string_equal(o, "compat=1.1,cluster_size=131072,lazy_refcounts=on");
    free(o);
    o = plan("<volume><name>l</name><capacity unit='G'>5</capacity><target><format type='raw'/>"
             "<encryption format='luks'><secret type='passphrase' usage='l'/>"
             "<cipher name='serpent' size='256' mode='cbc' hash='sha256'/>"
             "<ivgen name='plain64' hash='sha256'/></encryption></target></volume>",
             VDISK_ZEROING_LAZY, 0, &p);
    assert_string_equal(p.format, "luks");
    assert_true(p.encrypted);
    assert_string_equal(o, "cipher-alg=serpent-256,cipher-mode=cbc,hash-alg=sha256,"
                           "ivgen-alg=plain64,ivgen-hash-alg=sha256");
    free(o);
    o = plan("<volume><name>l</name><capacity unit='G'>5</capacity><target><format type='qcow2'/>"
             "<encryption format='luks'><secret type='passphrase' usage='l'/></encryption></target>"
             "</volume>", VDISK_ZEROING_LAZY, 0, &p);
    assert_string_equal(o, "encrypt.format=luks,compat=0.10");
    free(o);
}

static void
test_backing_and_sizes(void **state)
{
    vdisk_vol_def *def = vol("<volume><name>c</name><target><format type='qcow2'/></target>"
                             "<backingStore><path>/b.qcow2</path></backingStore></volume>");
    vdisk_vol_provision p;
    vdisk_error err = {0};

    assert_int_equal(vdisk_vol_provision_plan(def, NULL, 0, &p, &err), 0);
    assert_true(p.size_from_backing);
    assert_int_equal(p.size, 0);
    assert_string_equal(p.backing_file, "/b.qcow2");
    assert_string_equal(p.options, "compat=0.10");      /* format probed: no backing_fmt */
    vdisk_vol_provision_clear(&p);
    vdisk_vol_def_free(def);
}

static void
test_refusals(void **state)
{
    static const struct { const char *text; int r; const char *msg; } bad[] = {
        { "<volume><name>n</name></volume>", -EINVAL, "missing <capacity>" },
        { "<volume><name>r</name><capacity>1</capacity><backingStore><path>/b</path></backingStore>"
          "</volume>", -ENOTSUP, "needs a qcow2 volume" },
        { "<volume><name>q</name><capacity>1</capacity><target><format type='qcow2'/>"
          "<encryption format='qcow'/></target></volume>", -ENOTSUP, "legacy qcow encryption" },
        { "<volume><name>z</name><capacity>1</capacity><target><format type='qcow2'/>"
          "<compat>0.10</compat><features><lazy_refcounts/></features></target></volume>", -EINVAL,
          "needs compat 1.1" },
    };
    vdisk_vol_provision p;
    vdisk_error err = {0};

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        vdisk_vol_def *def = vol(bad[i].text);

        assert_int_equal(vdisk_vol_provision_plan(def, NULL, 0, &p, &err), bad[i].r);
        if (!strstr(err.message, bad[i].msg))
            fail_msg("%s: got '%s'", bad[i].text, err.message);
        assert_null(p.options);
        vdisk_vol_def_free(def);
    }
}

/* The options are qemu-img's keys: libvdisk's own option parser takes them. */
static void
test_options_feed_create_opts(void **state)
{
    vdisk_vol_def *def = vol("<volume><name>a</name><capacity unit='M'>1</capacity>"
                             "<allocation unit='M'>1</allocation><target><format type='qcow2'/>"
                             "<nocow/><clusterSize unit='K'>4</clusterSize>"
                             "<features><lazy_refcounts/><extended_l2/></features></target></volume>");
    vdisk_vol_provision p;
    vdisk_create_opts opts;
    vdisk_error err = {0};

    assert_int_equal(vdisk_vol_provision_plan(def, NULL, 0, &p, &err), 0);
    vdisk_create_opts_init(&opts, VDISK_FORMAT_QCOW2);
    if (vdisk_create_opts_parse(&opts, p.options, &err) < 0)
        fail_msg("%s: %s", p.options, err.message);
    assert_int_equal(opts.prealloc, VDISK_PREALLOC_FALLOC);
    assert_int_equal(opts.compat, 3);
    assert_int_equal(opts.cluster_size, 4096);
    assert_true(opts.lazy_refcounts);
    assert_true(opts.extended_l2);
    assert_true(opts.nocow);
    vdisk_create_opts_clear(&opts);
    vdisk_vol_provision_clear(&p);
    vdisk_vol_def_free(def);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_thin_lazy_eager),
        cmocka_unit_test(test_libvirt_option_order),
        cmocka_unit_test(test_backing_and_sizes),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_options_feed_create_opts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
