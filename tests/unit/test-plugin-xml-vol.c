/* Unit tests for plugin/xml-vol.c: volume XML in, vol-dumpxml out. */
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

#include "fixture.h"

static int
parse(const char *text, vdisk_vol_def **def, vdisk_error *err)
{
    return vdisk_vol_def_parse(text, strlen(text), "volume.xml", def, err);
}

/* libvirt's storagevolxml2xmlin/vol-qcow2-clusterSize.xml ... */
static const char cluster_in[] =
    "<volume>\n"
    "  <name>OtherDemo.img</name>\n"
    "  <key>/var/lib/libvirt/images/OtherDemo.img</key>\n"
    "  <capacity unit=\"G\">5</capacity>\n"
    "  <allocation>294912</allocation>\n"
    "  <target>\n"
    "    <path>/var/lib/libvirt/images/OtherDemo.img</path>\n"
    "    <format type='qcow2'/>\n"
    "    <permissions>\n"
    "      <mode>0644</mode>\n"
    "      <owner>0</owner>\n"
    "      <group>0</group>\n"
    "      <label>unconfined_u:object_r:virt_image_t:s0</label>\n"
    "    </permissions>\n"
    "    <clusterSize unit='KiB'>128</clusterSize>\n"
    "    <features>\n"
    "      <extended_l2/>\n"
    "    </features>\n"
    "  </target>\n"
    "</volume>\n";

/* ... and libvirt's storagevolxml2xmlout/vol-qcow2-clusterSize.xml */
static const char cluster_out[] =
    "<volume type='file'>\n"
    "  <name>OtherDemo.img</name>\n"
    "  <key>/var/lib/libvirt/images/OtherDemo.img</key>\n"
    "  <capacity unit='bytes'>5368709120</capacity>\n"
    "  <allocation unit='bytes'>294912</allocation>\n"
    "  <target>\n"
    "    <path>/var/lib/libvirt/images/OtherDemo.img</path>\n"
    "    <format type='qcow2'/>\n"
    "    <permissions>\n"
    "      <mode>0644</mode>\n"
    "      <owner>0</owner>\n"
    "      <group>0</group>\n"
    "      <label>unconfined_u:object_r:virt_image_t:s0</label>\n"
    "    </permissions>\n"
    "    <compat>1.1</compat>\n"
    "    <clusterSize unit='B'>131072</clusterSize>\n"
    "    <features>\n"
    "      <extended_l2/>\n"
    "    </features>\n"
    "  </target>\n"
    "</volume>\n";

static void
test_libvirt_cluster_size_volume(void **state)
{
    vdisk_vol_def *def;
    vdisk_error err = {0};
    char *out;

    assert_int_equal(parse(cluster_in, &def, &err), 0);
    assert_string_equal(def->name, "OtherDemo.img");
    assert_null(def->key);                  /* output only */
    assert_null(def->target_path);          /* the pool decides */
    assert_true(def->has_capacity);
    assert_int_equal(def->capacity, 5368709120ULL);
    assert_true(def->has_allocation);
    assert_int_equal(def->allocation, 294912);
    assert_int_equal(def->format, VDISK_FORMAT_QCOW2);
    assert_int_equal(def->cluster_size, 131072);
    assert_true(def->extended_l2);
    assert_false(def->lazy_refcounts);
    assert_string_equal(def->compat, "1.1");   /* implied by <features>, as libvirt */
    assert_int_equal(def->perms.mode, 0644);
    /* the pool fills key and path, as libvirt's dir pool does */
    def->key = strdup("/var/lib/libvirt/images/OtherDemo.img");
    def->target_path = strdup("/var/lib/libvirt/images/OtherDemo.img");
    assert_int_equal(vdisk_vol_def_format(def, &out, &err), 0);
    assert_string_equal(out, cluster_out);
    free(out);
    vdisk_vol_def_free(def);
}

static void
test_minimal_volume_defaults(void **state)
{
    vdisk_vol_def *def;
    vdisk_error err = {0};
    char *out;

    assert_int_equal(parse("<volume><name>thin.img</name><capacity unit='MiB'>10</capacity></volume>",
                           &def, &err), 0);
    assert_int_equal(def->format, VDISK_FORMAT_RAW);
    assert_false(def->has_allocation);       /* thin (DESIGN.md) */
    assert_null(def->compat);
    assert_int_equal(def->encryption.format, VDISK_VOL_ENCRYPTION_NONE);
    assert_null(def->backing_path);
    assert_int_equal(vdisk_vol_def_format(def, &out, &err), 0);
    assert_string_equal(out, "<volume type='file'>\n"
                             "  <name>thin.img</name>\n"
                             "  <capacity unit='bytes'>10485760</capacity>\n"
                             "  <allocation unit='bytes'>0</allocation>\n"
                             "  <target>\n"
                             "    <format type='raw'/>\n"
                             "  </target>\n"
                             "</volume>\n");
    free(out);
    vdisk_vol_def_free(def);
}

/* libvirt's vol-file-backing.xml: scrambled order, a vmdk backing store */
static void
test_backing_store_and_order(void **state)
{
    const char *text =
        "<volume>\n"
        "  <!-- lines scrambled to test interleaves -->\n"
        "  <capacity unit='GB'>10</capacity>\n"
        "  <source/>\n"
        "  <target>\n"
        "    <path>/var/lib/libvirt/images/sparse.img</path>\n"
        "    <nocow/>\n"
        "    <features><lazy_refcounts/></features>\n"
        "    <compat>0.10</compat>\n"
        "    <timestamps><atime>1341933637.273190990</atime></timestamps>\n"
        "  </target>\n"
        "  <allocation unit='MiB'>0</allocation>\n"
        "  <backingStore>\n"
        "    <format type='vmdk'/>\n"
        "    <path>/var/lib/virt/images/master.img</path>\n"
        "    <permissions><mode>0744</mode><owner>1</owner></permissions>\n"
        "  </backingStore>\n"
        "  <name>sparse.img</name>\n"
        "</volume>\n";
    vdisk_vol_def *def;
    vdisk_error err = {0};
    char *out;

    assert_int_equal(parse(text, &def, &err), 0);
    assert_int_equal(def->capacity, 10000000000ULL);
    assert_true(def->has_allocation);
    assert_int_equal(def->allocation, 0);
    assert_true(def->nocow);
    assert_true(def->lazy_refcounts);
    assert_string_equal(def->compat, "0.10");   /* given: not overridden by features */
    assert_false(def->has_timestamps);          /* output only */
    assert_string_equal(def->backing_path, "/var/lib/virt/images/master.img");
    assert_int_equal(def->backing_format, VDISK_FORMAT_VMDK);   /* a format vdisk names */
    assert_null(def->backing_format_name);
    assert_int_equal(def->backing_perms.mode, 0744);
    assert_int_equal(vdisk_vol_def_format(def, &out, &err), 0);
    assert_non_null(strstr(out, "  <backingStore>\n"
                                "    <path>/var/lib/virt/images/master.img</path>\n"
                                "    <format type='vmdk'/>\n"
                                "    <permissions>\n"
                                "      <mode>0744</mode>\n"
                                "      <owner>1</owner>\n"
                                "    </permissions>\n"
                                "  </backingStore>\n"));
    assert_non_null(strstr(out, "    <compat>0.10</compat>\n    <features>\n      <lazy_refcounts/>\n"));
    assert_null(strstr(out, "nocow"));          /* libvirt does not print it either */
    free(out);
    vdisk_vol_def_free(def);
}

static void
test_output_only_fields(void **state)
{
    vdisk_vol_def def = {0};
    vdisk_error err = {0};
    char *out;

    def.name = strdup("a.qcow2");
    def.key = strdup("/p/a.qcow2");
    def.target_path = strdup("/p/a.qcow2");
    def.capacity = 1 << 20;
    def.allocation = 200704;
    def.physical = 262144;
    def.format = VDISK_FORMAT_QCOW2;
    def.compat = strdup("1.1");
    def.has_timestamps = true;
    def.atime.sec = 1341933637;
    def.atime.nsec = 273190990;
    def.mtime.sec = 1341930622;
    def.ctime_.sec = 1341930622;
    def.ctime_.nsec = 47245868;
    def.backing_path = strdup("base.qcow2");
    def.backing_format = VDISK_FORMAT_QCOW2;
    assert_int_equal(vdisk_vol_def_format(&def, &out, &err), 0);
    assert_string_equal(out,
        "<volume type='file'>\n"
        "  <name>a.qcow2</name>\n"
        "  <key>/p/a.qcow2</key>\n"
        "  <capacity unit='bytes'>1048576</capacity>\n"
        "  <allocation unit='bytes'>200704</allocation>\n"
        "  <physical unit='bytes'>262144</physical>\n"
        "  <target>\n"
        "    <path>/p/a.qcow2</path>\n"
        "    <format type='qcow2'/>\n"
        "    <timestamps>\n"
        "      <atime>1341933637.273190990</atime>\n"
        "      <mtime>1341930622</mtime>\n"
        "      <ctime>1341930622.047245868</ctime>\n"
        "    </timestamps>\n"
        "    <compat>1.1</compat>\n"
        "    <features/>\n"
        "  </target>\n"
        "  <backingStore>\n"
        "    <path>base.qcow2</path>\n"
        "    <format type='qcow2'/>\n"
        "  </backingStore>\n"
        "</volume>\n");
    free(out);
    vdisk_vol_def_clear(&def);
}

static void
test_error_cites_line_and_element(void **state)
{
    const char *text =
        "<?xml version='1.0'?>\n"
        "<volume>\n"
        "  <name>disk.qcow2</name>\n"
        "  <target>\n"
        "    <format type='qcow2'/>\n"
        "  </target>\n"
        "  <capacity unit='XB'>10</capacity>\n"
        "</volume>\n";
    vdisk_vol_def *def;
    vdisk_error err = {0};

    assert_int_equal(parse(text, &def, &err), -EINVAL);
    assert_null(def);
    assert_string_equal(err.message, "volume.xml:7: <capacity unit='XB'>: unknown unit");
}

static void
test_refused(void **state)
{
    static const struct { const char *text; int r; const char *msg; } bad[] = {
        { "<volume><capacity>1</capacity></volume>", -EINVAL, "missing <name>" },
        { "<volume><name>a/b</name></volume>", -EINVAL, "contains '/'" },
        { "<volume><name>..</name></volume>", -EINVAL, "not allowed" },
        { "<volume><name>a&#x9;b</name></volume>", -EINVAL, "control character" },
        { "<volume type='block'><name>a</name></volume>", -ENOTSUP, "volume type 'block'" },
        { "<volume type='floppy'><name>a</name></volume>", -EINVAL, "unknown volume type" },
        { "<volume><name>a</name><capacity>-1</capacity></volume>", -EINVAL, "not a non-negative" },
        { "<volume><name>a</name><capacity unit='EiB'>8</capacity></volume>", -ERANGE, "too large" },
        { "<volume><name>a</name><capacity>1</capacity><capacity>2</capacity></volume>", -EINVAL,
          "given twice" },
        { "<volume><name>a</name><target><format type='qed'/></target></volume>", -ENOTSUP,
          "format 'qed' is not supported" },
        { "<volume><name>a</name><target><format type='qcow3'/></target></volume>", -EINVAL,
          "unknown volume format type 'qcow3'" },
        { "<volume><name>a</name><target><format/></target></volume>", -EINVAL, "missing the type" },
        { "<volume><name>a</name><target><compat>2.0</compat></target></volume>", -ENOTSUP,
          "compat '2.0'" },
        { "<volume><name>a</name><target><clusterSize>1000</clusterSize></target></volume>", -EINVAL,
          "not a cluster size" },
        { "<volume><name>a</name><target><clusterSize unit='M'>4</clusterSize></target></volume>",
          -EINVAL, "not a cluster size" },
        { "<volume><name>a</name><target><features><zstd/></features></target></volume>", -ENOTSUP,
          "unsupported feature" },
        { "<volume><name>a</name><target><encryption format='luks2'/></target></volume>", -ENOTSUP,
          "luks2" },
        { "<volume><name>a</name><backingStore><format type='raw'/></backingStore></volume>", -EINVAL,
          "missing <path>" },
        { "<volume><name>a</name><backingStore><path>/b</path><format type='zip'/></backingStore>"
          "</volume>", -EINVAL, "unknown volume format type 'zip'" },
    };
    vdisk_vol_def *def;
    vdisk_error err = {0};

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(parse(bad[i].text, &def, &err), bad[i].r);
        assert_null(def);
        if (!strstr(err.message, bad[i].msg) || strncmp(err.message, "volume.xml:1: <", 15) != 0)
            fail_msg("%s: got '%s'", bad[i].text, err.message);
    }
}

static void
test_no_capacity_allowed(void **state)
{
    vdisk_vol_def *def;
    vdisk_error err = {0};

    assert_int_equal(parse("<volume><name>c.qcow2</name><target><format type='qcow2'/></target>"
                           "<backingStore><path>/dev/null</path><format type='raw'/></backingStore>"
                           "</volume>", &def, &err), 0);
    assert_false(def->has_capacity);
    assert_int_equal(def->backing_format, VDISK_FORMAT_RAW);
    vdisk_vol_def_free(def);
}

static void
test_parse_file(void **state)
{
    const char *path = unit_path(0, "vol.xml");
    vdisk_vol_def *def;
    vdisk_error err = {0};
    FILE *f = fopen(path, "w");

    assert_non_null(f);
    fputs(cluster_in, f);
    fclose(f);
    assert_int_equal(vdisk_vol_def_parse_file(path, &def, &err), 0);
    assert_int_equal(def->cluster_size, 131072);
    vdisk_vol_def_free(def);
    f = fopen(path, "w");
    assert_non_null(f);
    fputs("<volume>\n<name>x</name>\n<capacity unit='QB'>1</capacity></volume>", f);
    fclose(f);
    assert_int_equal(vdisk_vol_def_parse_file(path, &def, &err), -EINVAL);
    assert_non_null(strstr(err.message, "vol.xml:3: <capacity unit='QB'>: unknown unit"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_libvirt_cluster_size_volume),
        cmocka_unit_test(test_minimal_volume_defaults),
        cmocka_unit_test(test_backing_store_and_order),
        cmocka_unit_test(test_output_only_fields),
        cmocka_unit_test(test_error_cites_line_and_element),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_no_capacity_allowed),
        cmocka_unit_test_setup_teardown(test_parse_file, unit_setup, unit_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
