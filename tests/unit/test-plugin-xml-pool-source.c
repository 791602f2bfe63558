/* Unit tests for plugin/xml-pool-source.c: the <source> of a pool on Ceph
 * RBD (libvirt's rbd-pool grammar) and <vdisk:config>, and of a pool on a
 * shared filesystem (libvirt's netfs-pool grammar). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <vdisk/storage-xml.h>

#define NS_DECL "xmlns:vdisk='" VDISK_POOL_NAMESPACE_URI "'"

static int
parse(const char *text, vdisk_pool_def **def, vdisk_error *err)
{
    return vdisk_pool_def_parse(text, strlen(text), "pool.xml", def, err);
}

/* libvirt's storagepoolxml2xmlin/pool-rbd-ipv6.xml */
static const char pool_rbd[] =
    "<pool type='rbd'>\n"
    "  <name>ceph</name>\n"
    "  <uuid>47c1faee-0207-e741-f5ae-d9b019b98fe2</uuid>\n"
    "  <source>\n"
    "    <name>rbd</name>\n"
    "    <host name='localhost' port='6789'/>\n"
    "    <host name='localhost' port='6790'/>\n"
    "    <host name='2205::192:168:205:141' port='6789'/>\n"
    "    <auth username='admin' type='ceph'>\n"
    "      <secret uuid='2ec115d7-3a88-3ceb-bc12-0ac909a6fd87'/>\n"
    "    </auth>\n"
    "  </source>\n"
    "</pool>\n";

static void
test_libvirt_rbd_pool(void **state)
{
    vdisk_pool_def *def, *again;
    vdisk_error err = {0};
    char *out;
    const unsigned char secret[16] = { 0x2e, 0xc1, 0x15, 0xd7, 0x3a, 0x88, 0x3c, 0xeb,
                                       0xbc, 0x12, 0x0a, 0xc9, 0x09, 0xa6, 0xfd, 0x87 };

    (void)state;
    assert_int_equal(parse(pool_rbd, &def, &err), 0);
    assert_true(vdisk_pool_def_is_rbd(def));
    assert_null(def->target_path);
    assert_string_equal(def->source.name, "rbd");
    assert_int_equal(def->source.nhosts, 3);
    assert_string_equal(def->source.hosts[2].name, "2205::192:168:205:141");
    assert_int_equal(def->source.hosts[1].port, 6790);
    assert_string_equal(def->source.auth_username, "admin");
    assert_true(def->source.has_secret_uuid);
    assert_memory_equal(def->source.secret_uuid, secret, 16);
    assert_null(def->source.config_file);
    assert_int_equal(vdisk_pool_def_format(def, &out, &err), 0);
    assert_non_null(strstr(out, "<pool type='vdisk'"));
    assert_non_null(strstr(out, "    <auth type='ceph' username='admin'>\n"
                                "      <secret uuid='2ec115d7-3a88-3ceb-bc12-0ac909a6fd87'/>\n"));
    assert_null(strstr(out, "<target>"));
    /* what is printed reads back the same */
    assert_int_equal(parse(out, &again, &err), 0);
    assert_int_equal(again->source.nhosts, 3);
    assert_string_equal(again->source.auth_username, "admin");
    vdisk_pool_def_free(again);
    free(out);
    vdisk_pool_def_free(def);
}

static void
test_config_and_usage_secret(void **state)
{
    static const char xml[] =
        "<pool type='vdisk' " NS_DECL "><name>c</name>"
        "<source><name>vms</name><auth type='ceph' username='u'><secret usage='client.u'/></auth>"
        "</source><vdisk:config file='/etc/ceph/ceph.conf'/></pool>";
    vdisk_pool_def *def;
    vdisk_error err = {0};
    char *out;

    (void)state;
    assert_int_equal(parse(xml, &def, &err), 0);
    assert_int_equal(def->source.nhosts, 0);
    assert_false(def->source.has_secret_uuid);
    assert_string_equal(def->source.secret_usage, "client.u");
    assert_string_equal(def->source.config_file, "/etc/ceph/ceph.conf");
    assert_int_equal(vdisk_pool_def_format(def, &out, &err), 0);
    assert_non_null(strstr(out, "<secret usage='client.u'/>"));
    assert_non_null(strstr(out, "<vdisk:config file='/etc/ceph/ceph.conf'/>"));
    free(out);
    vdisk_pool_def_free(def);
}

static void
test_refused(void **state)
{
    static const struct {
        const char *xml, *message;
    } cases[] = {
        { "<pool type='vdisk'><name>c</name><source><name>rbd</name></source>"
          "<target><path>/x</path></target></pool>", "has no <target>" },
        { "<pool type='vdisk'><name>c</name><source><name>.x</name></source></pool>",
          "not an RBD pool name" },
        { "<pool type='vdisk'><name>c</name><source><host port='1'/><name>r</name></source></pool>",
          "needs a name" },
        { "<pool type='vdisk'><name>c</name><source><host name='h' port='x'/><name>r</name></source></pool>",
          "not a TCP port" },
        { "<pool type='vdisk'><name>c</name><source><name>r</name><auth type='ceph' username='u'>"
          "<secret uuid='2ec115d7-3a88-3ceb-bc12-0ac909a6fd87' usage='x'/></auth></source></pool>",
          "exactly one of" },
        { "<pool type='vdisk'><name>c</name><source><name>r</name><auth type='ceph' username='u'>"
          "<secret uuid='nope'/></auth></source></pool>", "malformed uuid" },
        { "<pool type='vdisk' " NS_DECL "><name>c</name><source><name>r</name></source>"
          "<vdisk:config/></pool>", "needs file=" },
        { "<pool type='rbd'><name>c</name><target><path>/x</path></target></pool>",
          "needs <source><name>" },
    };
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        vdisk_pool_def *def = (vdisk_pool_def *)1;
        vdisk_error err = {0};
        assert_int_equal(parse(cases[i].xml, &def, &err), -EINVAL);
        assert_null(def);
        if (!strstr(err.message, cases[i].message))
            fail_msg("case %zu: '%s' lacks '%s'", i, err.message, cases[i].message);
    }
}

/* libvirt's storagepoolxml2xmlin/pool-netfs-gluster.xml */
static const char pool_netfs_gluster[] =
    "<pool type='netfs'>\n"
    "  <source>\n"
    "    <host name='example.com'/>\n"
    "    <format type='glusterfs'/>\n"
    "    <dir path='/volume'/>\n"
    "  </source>\n"
    "  <name>netfs-gluster</name>\n"
    "  <uuid>d5609ced-94b1-489e-b218-eff35c30336a</uuid>\n"
    "  <target>\n"
    "    <path>/mnt/gluster</path>\n"
    "  </target>\n"
    "</pool>\n";

static void
test_libvirt_netfs_pool(void **state)
{
    vdisk_pool_def *def, *again;
    vdisk_error err = {0};
    char *out;

    (void)state;
    assert_int_equal(parse(pool_netfs_gluster, &def, &err), 0);
    assert_true(vdisk_pool_def_is_netfs(def));
    assert_false(vdisk_pool_def_is_rbd(def));
    assert_string_equal(def->target_path, "/mnt/gluster");
    assert_string_equal(def->source.dir, "/volume");
    assert_int_equal(def->source.nhosts, 1);
    assert_string_equal(def->source.hosts[0].name, "example.com");
    assert_int_equal(def->source.format, VDISK_NETFS_GLUSTERFS);
    assert_int_equal(vdisk_pool_def_format(def, &out, &err), 0);
    assert_non_null(strstr(out, "  <source>\n    <host name='example.com'/>\n"
                                "    <dir path='/volume'/>\n    <format type='glusterfs'/>\n"
                                "  </source>\n  <target>\n    <path>/mnt/gluster</path>\n"));
    assert_int_equal(parse(out, &again, &err), 0);
    assert_true(vdisk_pool_def_is_netfs(again));
    assert_int_equal(again->source.format, VDISK_NETFS_GLUSTERFS);
    vdisk_pool_def_free(again);
    free(out);
    vdisk_pool_def_free(def);

    /* no <format>: libvirt's default, auto */
    static const char nfs[] = "<pool type='vdisk'><name>n</name><source><host name='srv'/>"
                              "<dir path='/export'/></source><target><path>/mnt</path></target></pool>";
    assert_int_equal(parse(nfs, &def, &err), 0);
    assert_int_equal(def->source.format, VDISK_NETFS_AUTO);
    assert_int_equal(vdisk_pool_def_format(def, &out, &err), 0);
    assert_non_null(strstr(out, "<format type='auto'/>"));
    free(out);
    vdisk_pool_def_free(def);
}

static void
test_netfs_refused(void **state)
{
#define NETFS(src) "<pool type='netfs'><name>n</name><source>" src "</source>" \
                   "<target><path>/mnt</path></target></pool>"
    static const struct {
        const char *xml, *message;
        int error;
    } cases[] = {
        { NETFS("<dir path='/v'/>"), "exactly one <host>", EINVAL },
        { NETFS("<host name='a'/><host name='b'/><dir path='/v'/>"), "exactly one <host>", EINVAL },
        { NETFS("<host name='a' port='24007'/><dir path='/v'/>"), "takes no port", EINVAL },
        { NETFS("<host name='a'/><dir path='v'/>"), "absolute path", EINVAL },
        { NETFS("<host name='a'/><dir path='/v'/><format type='cifs'/>"), "'cifs' is not supported",
          ENOTSUP },
        { NETFS("<host name='a'/><dir path='/v'/><protocol ver='3'/>"), "<protocol", ENOTSUP },
        { NETFS("<host name='a'/><dir path='/v'/><name>rbd</name>"), "not both", EINVAL },
        { NETFS("<host name='a'/>"), "needs <source><host/><dir/>", EINVAL },
        { "<pool type='netfs'><name>n</name><source><host name='a'/><dir path='/v'/></source></pool>",
          "target path", EINVAL },
    };
#undef NETFS
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        vdisk_pool_def *def = (vdisk_pool_def *)1;
        vdisk_error err = {0};
        assert_int_equal(parse(cases[i].xml, &def, &err), -cases[i].error);
        assert_null(def);
        if (!strstr(err.message, cases[i].message))
            fail_msg("case %zu: '%s' lacks '%s'", i, err.message, cases[i].message);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_libvirt_rbd_pool),
        cmocka_unit_test(test_config_and_usage_secret),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_libvirt_netfs_pool),
        cmocka_unit_test(test_netfs_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
