/* Unit tests for core/protocol/options.c: image names from qemu's
 * structured protocol options (--image-opts file.driver=...).  Expected
 * names are qemu-img's spellings; every name made is parsed back and must
 * give the options it was made from. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <vdisk/protocol.h>

#include "protocol/protocol.h"

static char *
name_of(const char *driver, const char *const *kv)
{
    const char *keys[16], *values[16];
    size_t n = 0;
    for (; kv[2 * n]; n++) {
        keys[n] = kv[2 * n];
        values[n] = kv[2 * n + 1];
    }
    char *name = NULL;
    vdisk_error err = { 0 };
    if (vdisk_protocol_name(driver, keys, values, n, &name, &err) < 0)
        fail_msg("%s", err.message);
    return name;
}

static void
refused(const char *driver, const char *const *kv, const char *why)
{
    const char *keys[16], *values[16];
    size_t n = 0;
    for (; kv[2 * n]; n++) {
        keys[n] = kv[2 * n];
        values[n] = kv[2 * n + 1];
    }
    char *name = NULL;
    vdisk_error err = { 0 };
    assert_true(vdisk_protocol_name(driver, keys, values, n, &name, &err) < 0);
    assert_null(name);
    assert_non_null(strstr(err.message, why));
}

static void
test_rbd(void **state)
{
    const char *kv[] = { "pool", "rbd", "image", "vm1", "conf", "/etc/ceph/ceph.conf", "user", "admin", NULL };
    char *n = name_of("rbd", kv);
    assert_string_equal(n, "rbd:rbd/vm1:conf=/etc/ceph/ceph.conf:id=admin");
    free(n);
    const char *kv2[] = { "pool", "p", "namespace", "ns", "image", "a:b@c/d", "snapshot", "s", NULL };
    n = name_of("rbd", kv2);
    assert_string_equal(n, "rbd:p/ns/a\\:b\\@c\\/d@s");
    vdisk_location loc;
    assert_int_equal(vdisk_location_parse(n, &loc, NULL), 0);
    assert_string_equal(loc.pool, "p");
    assert_string_equal(loc.ns, "ns");
    assert_string_equal(loc.image, "a:b@c/d");
    assert_string_equal(loc.snap, "s");
    vdisk_location_clear(&loc);
    free(n);
}

static void
test_nbd(void **state)
{
    const char *unix_kv[] = { "server.type", "unix", "server.path", "/run/my sock", "export", "disk 1", NULL };
    char *n = name_of("nbd", unix_kv);
    assert_string_equal(n, "nbd+unix:///disk%201?socket=/run/my%20sock");
    free(n);
    const char *legacy[] = { "path", "/s", NULL };
    n = name_of("nbd", legacy);
    assert_string_equal(n, "nbd+unix:///?socket=/s");
    free(n);
    const char *inet[] = { "server.type", "inet", "server.host", "localhost", "server.port", "10809",
                           "export", "e", NULL };
    n = name_of("nbd", inet);
    assert_string_equal(n, "nbd://localhost:10809/e");
    free(n);
    const char *v6[] = { "server.host", "::1", NULL };
    n = name_of("nbd", v6);
    assert_string_equal(n, "nbd://[::1]/");
    free(n);
    const char *bitmap_unix[] = { "path", "/s", "x-dirty-bitmap", "qemu:allocation-depth", NULL };
    n = name_of("nbd", bitmap_unix);
    assert_string_equal(n, "nbd+unix:///?socket=/s&x-dirty-bitmap=qemu%3Aallocation-depth");
    free(n);
    const char *bitmap_inet[] = { "host", "h", "x-dirty-bitmap", "qemu:dirty-bitmap:b 1", NULL };
    n = name_of("nbd", bitmap_inet);
    assert_string_equal(n, "nbd://h/?x-dirty-bitmap=qemu%3Adirty-bitmap%3Ab%201");
    free(n);
}

static void
test_file(void **state)
{
    const char *kv[] = { "filename", "/images/a.qcow2", NULL };
    char *n = name_of("file", kv);
    assert_string_equal(n, "/images/a.qcow2");
    free(n);
    n = name_of(NULL, kv);
    assert_string_equal(n, "/images/a.qcow2");
    free(n);
}

static void
test_refusals(void **state)
{
    const char *no_pool[] = { "image", "i", NULL };
    refused("rbd", no_pool, "'file.pool' is required");
    const char *unknown[] = { "pool", "p", "image", "i", "bogus", "1", NULL };
    refused("rbd", unknown, "unknown option 'file.bogus'");
    const char *no_path[] = { "server.type", "unix", NULL };
    refused("nbd", no_path, "'file.server.path' is required");
    const char *mixed[] = { "server.type", "unix", "server.path", "/s", "server.port", "1", NULL };
    refused("nbd", mixed, "no host or port");
    const char *bad_v6[] = { "server.host", "::1]/x", NULL };
    refused("nbd", bad_v6, "not an IPv6 address");
    const char *bad_type[] = { "server.type", "vsock", NULL };
    refused("nbd", bad_type, "not supported");
    const char *none[] = { NULL };
    refused("gluster", none, "'gluster' is not supported");
    refused("file", none, "'file.filename' is required");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rbd),
        cmocka_unit_test(test_nbd),
        cmocka_unit_test(test_file),
        cmocka_unit_test(test_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
