/* Unit tests for core/protocol/location.c: which protocol an image name
 * designates, and its parts (qemu-img's rbd: and NBD URI spellings). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <vdisk/protocol.h>

#include "protocol/protocol.h"

static vdisk_location
parse_ok(const char *name)
{
    vdisk_location loc;
    vdisk_error err = { 0 };
    int r = vdisk_location_parse(name, &loc, &err);
    if (r != 0)
        fail_msg("%s: %s", name, err.message);
    assert_string_equal(loc.name, name);
    return loc;
}

static void
parse_bad(const char *name, const char *why)
{
    vdisk_location loc;
    vdisk_error err = { 0 };
    assert_int_equal(vdisk_location_parse(name, &loc, &err), -EINVAL);
    assert_non_null(strstr(err.message, name));
    assert_non_null(strstr(err.message, why));
}

/* QEMU's other protocols and debug drivers are refused by name. */
static void
test_qemu_only_protocols(void **state)
{
    const char *names[] = { "blkdebug:conf:x.qcow2", "null-co://", "fat:/dir", "iscsi://h/t/0",
                            "https://h/x.img", "gluster+tcp://h/v/f" };
    (void)state;
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        vdisk_location loc;
        vdisk_error err = { 0 };
        assert_int_equal(vdisk_location_parse(names[i], &loc, &err), -ENOTSUP);
        assert_non_null(strstr(err.message, names[i]));
        assert_non_null(strstr(err.message, "QEMU's"));
    }
    vdisk_location loc = parse_ok("file:blkdebug:x");
    assert_int_equal(loc.kind, VDISK_LOCATION_FILE);
    assert_string_equal(loc.path, "blkdebug:x");
    vdisk_location_clear(&loc);
}

static void
test_paths_are_files(void **state)
{
    /* Colons do not make a protocol unless it is one vdisk knows. */
    const char *names[] = { "disk.qcow2", "/var/lib/x.img", "a:b.raw", "nbd:unix:/s", "rbdx:p/i" };
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        vdisk_location loc = parse_ok(names[i]);
        assert_int_equal(loc.kind, VDISK_LOCATION_FILE);
        assert_string_equal(loc.path, names[i]);
        assert_ptr_equal(vdisk_protocol_for(&loc, NULL), &vdisk_protocol_file);
        vdisk_location_clear(&loc);
    }
    /* "file:PATH": QEMU's file protocol prefix names the host file PATH */
    const char *prefixed[][2] = { { "file:x", "x" }, { "file:a:b.raw", "a:b.raw" },
                                  { "file:/abs/y", "/abs/y" } };
    for (size_t i = 0; i < sizeof(prefixed) / sizeof(prefixed[0]); i++) {
        vdisk_location loc = parse_ok(prefixed[i][0]);
        assert_int_equal(loc.kind, VDISK_LOCATION_FILE);
        assert_string_equal(loc.path, prefixed[i][1]);
        vdisk_location_clear(&loc);
    }
}

static void
test_rbd_names(void **state)
{
    vdisk_location loc = parse_ok("rbd:pool/img");
    assert_int_equal(loc.kind, VDISK_LOCATION_RBD);
    assert_string_equal(loc.pool, "pool");
    assert_string_equal(loc.image, "img");
    assert_null(loc.ns);
    assert_null(loc.snap);
    assert_null(loc.conf);
    assert_null(loc.user);
    assert_int_equal(loc.nopts, 0);
    vdisk_location_clear(&loc);

    loc = parse_ok("rbd:pool/ns/img@snap:conf=/etc/ceph/c.conf:id=admin:rados_osd_op_timeout=5");
    assert_string_equal(loc.pool, "pool");
    assert_string_equal(loc.ns, "ns");
    assert_string_equal(loc.image, "img");
    assert_string_equal(loc.snap, "snap");
    assert_string_equal(loc.conf, "/etc/ceph/c.conf");
    assert_string_equal(loc.user, "admin");
    assert_int_equal(loc.nopts, 1);
    assert_string_equal(loc.opts[0].key, "rados_osd_op_timeout");
    assert_string_equal(loc.opts[0].value, "5");
    vdisk_location_clear(&loc);
}

static void
test_rbd_escapes(void **state)
{
    /* qemu's rule: '\' takes the next character literally. */
    vdisk_location loc = parse_ok("rbd:p/a\\:b\\@c:mon_host=127.0.0.1\\:6789");
    assert_string_equal(loc.image, "a:b@c");
    assert_null(loc.snap);
    assert_int_equal(loc.nopts, 1);
    assert_string_equal(loc.opts[0].key, "mon_host");
    assert_string_equal(loc.opts[0].value, "127.0.0.1:6789");
    vdisk_location_clear(&loc);
}

static void
test_rbd_malformed(void **state)
{
    parse_bad("rbd:", "no pool or no image");
    parse_bad("rbd:pool", "no pool or no image");
    parse_bad("rbd:/img", "no pool or no image");
    parse_bad("rbd:pool/", "no pool or no image");
    parse_bad("rbd:p//i", "no pool or no image");
    parse_bad("rbd:a/b/c/d", "too many '/'");
    parse_bad("rbd:p/i@", "empty snapshot name");
    parse_bad("rbd:p/i:conf", "not KEY=VALUE");
    parse_bad("rbd:p/i:=x", "not KEY=VALUE");
}

static void
test_nbd_uris(void **state)
{
    const char *uris[] = { "nbd://host/exp", "nbd://[::1]:10809/", "nbd+unix:///e?socket=/run/s",
                           "nbds://h/e", "nbds+unix:///?socket=/s" };
    for (size_t i = 0; i < sizeof(uris) / sizeof(uris[0]); i++) {
        vdisk_location loc = parse_ok(uris[i]);
        assert_int_equal(loc.kind, VDISK_LOCATION_NBD);
        assert_string_equal(loc.uri, uris[i]);
        assert_null(loc.nbd_context);
        vdisk_location_clear(&loc);
    }
}

/* x-dirty-bitmap=CONTEXT is ours: taken out of the URI libnbd sees,
 * wherever it stands among the query parameters, and percent-decoded. */
static void
test_nbd_context(void **state)
{
    const char *cases[][2] = {
        { "nbd+unix:///e?socket=/s&x-dirty-bitmap=qemu%3Aallocation-depth", "nbd+unix:///e?socket=/s" },
        { "nbd+unix:///e?x-dirty-bitmap=qemu%3Aallocation-depth&socket=/s", "nbd+unix:///e?socket=/s" },
        { "nbd://h:1/e?x-dirty-bitmap=qemu:allocation-depth", "nbd://h:1/e" },
        { "nbd://h/e?tls=off&x-dirty-bitmap=qemu%3Aallocation-depth&tls-verify-peer=false",
          "nbd://h/e?tls=off&tls-verify-peer=false" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        vdisk_location loc = parse_ok(cases[i][0]);
        assert_string_equal(loc.uri, cases[i][1]);
        assert_string_equal(loc.nbd_context, "qemu:allocation-depth");
        vdisk_location_clear(&loc);
    }
    parse_bad("nbd://h/e?x-dirty-bitmap=", "metadata context");
}

static void
test_same_location(void **state)
{
    vdisk_location a = parse_ok("rbd:p/i:conf=/a.conf");
    vdisk_location b = parse_ok("rbd:p/i:id=other");   /* other client, same image */
    vdisk_location c = parse_ok("rbd:p/i@s");
    vdisk_location d = parse_ok("rbd:p/n/i");
    vdisk_location e = parse_ok("nbd+unix:///p/i?socket=/s");
    assert_true(vdisk_location_same(&a, &b));
    assert_false(vdisk_location_same(&a, &c));
    assert_false(vdisk_location_same(&a, &d));
    assert_false(vdisk_location_same(&a, &e));
    assert_true(vdisk_location_same(&e, &e));
    vdisk_location_clear(&a);
    vdisk_location_clear(&b);
    vdisk_location_clear(&c);
    vdisk_location_clear(&d);
    vdisk_location_clear(&e);
}

/* A protocol the build lacks is named in the error; one it has is found. */
static void
test_protocol_for_matches_the_build(void **state)
{
    const char *names[] = { "rbd:p/i", "nbd://h/e" };
    const char *protos[] = { "rbd", "nbd" };
    for (int i = 0; i < 2; i++) {
        vdisk_location loc = parse_ok(names[i]);
        vdisk_error err = { 0 };
        const struct vdisk_protocol *p = vdisk_protocol_for(&loc, &err);
        if (vdisk_protocol_supported(protos[i])) {
            assert_non_null(p);
            assert_string_equal(p->name, protos[i]);
        } else {
            assert_null(p);
            assert_int_equal(err.code, -ENOTSUP);
            assert_non_null(strstr(err.message, "need vdisk built with"));
        }
        vdisk_location_clear(&loc);
    }
    assert_true(vdisk_protocol_supported("file"));
    assert_false(vdisk_protocol_supported("gluster"));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_paths_are_files),
        cmocka_unit_test(test_rbd_names),
        cmocka_unit_test(test_rbd_escapes),
        cmocka_unit_test(test_rbd_malformed),
        cmocka_unit_test(test_nbd_uris),
        cmocka_unit_test(test_nbd_context),
        cmocka_unit_test(test_qemu_only_protocols),
        cmocka_unit_test(test_same_location),
        cmocka_unit_test(test_protocol_for_matches_the_build),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
