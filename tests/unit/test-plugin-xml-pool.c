/* Unit tests for plugin/xml-pool.c: pool XML of type vdisk (or dir) with
 * the vdisk provisioning namespace. */
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
parse(const char *text, vdisk_pool_def **def, vdisk_error *err)
{
    return vdisk_pool_def_parse(text, strlen(text), "pool.xml", def, err);
}

/* libvirt's storagepoolxml2xmlin/pool-dir.xml with type='vdisk' */
static const char pool_dir[] =
    "<pool type='vdisk'>\n"
    "  <name>virtimages</name>\n"
    "  <uuid>70a7eb15-6c34-ee9c-bf57-69e8e5ff3fb2</uuid>\n"
    "  <capacity>0</capacity>\n"
    "  <allocation>0</allocation>\n"
    "  <available>0</available>\n"
    "  <source>\n"
    "  </source>\n"
    "  <target>\n"
    "    <path>///var/////lib/libvirt/images//</path>\n"
    "    <permissions>\n"
    "      <mode>0700</mode>\n"
    "      <owner>-1</owner>\n"
    "      <group>-1</group>\n"
    "      <label>some_label_t</label>\n"
    "    </permissions>\n"
    "  </target>\n"
    "</pool>\n";

static void
test_libvirt_dir_pool(void **state)
{
    vdisk_pool_def *def;
    vdisk_error err = {0};
    char *out;

    assert_int_equal(parse(pool_dir, &def, &err), 0);
    assert_string_equal(def->name, "virtimages");
    assert_true(def->has_uuid);
    assert_string_equal(def->target_path, "/var/lib/libvirt/images");
    assert_true(def->target_perms.has_mode);
    assert_int_equal(def->target_perms.mode, 0700);
    assert_false(def->target_perms.has_owner);
    assert_int_equal(def->zeroing, VDISK_ZEROING_LAZY);
    assert_true(def->overcommit_max == 0);
    assert_int_equal(vdisk_pool_def_format(def, &out, &err), 0);
    /* libvirt's storagepoolxml2xmlout/pool-dir.xml, plus vdisk's type and namespace */
    assert_string_equal(out,
        "<pool type='vdisk' xmlns:vdisk='http://libvirt.org/schemas/storagepool/vdisk/1.0'>\n"
        "  <name>virtimages</name>\n"
        "  <uuid>70a7eb15-6c34-ee9c-bf57-69e8e5ff3fb2</uuid>\n"
        "  <capacity unit='bytes'>0</capacity>\n"
        "  <allocation unit='bytes'>0</allocation>\n"
        "  <available unit='bytes'>0</available>\n"
        "  <source>\n"
        "  </source>\n"
        "  <target>\n"
        "    <path>/var/lib/libvirt/images</path>\n"
        "    <permissions>\n"
        "      <mode>0700</mode>\n"
        "      <label>some_label_t</label>\n"
        "    </permissions>\n"
        "  </target>\n"
        "  <vdisk:provisioning>\n"
        "    <vdisk:zeroing>lazy</vdisk:zeroing>\n"
        "  </vdisk:provisioning>\n"
        "</pool>\n");
    free(out);
    vdisk_pool_def_free(def);
}

static void
test_provisioning_namespace(void **state)
{
    const char *text =
        "<pool type='vdisk' xmlns:v='http://libvirt.org/schemas/storagepool/vdisk/1.0'>\n"
        "  <name>fast</name>\n"
        "  <features><cow state='no'/></features>\n"
        "  <target><path>/srv/fast</path></target>\n"
        "  <v:provisioning>\n"
        "    <v:zeroing> eager </v:zeroing>\n"
        "    <v:overcommit>2.25</v:overcommit>\n"
        "  </v:provisioning>\n"
        "</pool>\n";
    vdisk_pool_def *def, *again;
    vdisk_error err = {0};
    char *out, *out2;

    assert_int_equal(parse(text, &def, &err), 0);
    assert_false(def->has_uuid);
    assert_true(def->has_cow);
    assert_false(def->cow);
    assert_int_equal(def->zeroing, VDISK_ZEROING_EAGER);
    assert_true(def->overcommit_max > 2.2499 && def->overcommit_max < 2.2501);
    assert_int_equal(vdisk_pool_def_format(def, &out, &err), 0);
    assert_non_null(strstr(out, "  <features>\n    <cow state='no'/>\n  </features>\n"));
    assert_non_null(strstr(out, "  <vdisk:provisioning>\n    <vdisk:zeroing>eager</vdisk:zeroing>\n"
                                "    <vdisk:overcommit>2.25</vdisk:overcommit>\n"
                                "  </vdisk:provisioning>\n"));
    /* what we print parses back to the same thing */
    assert_int_equal(parse(out, &again, &err), 0);
    assert_int_equal(vdisk_pool_def_format(again, &out2, &err), 0);
    assert_string_equal(out, out2);
    free(out);
    free(out2);
    vdisk_pool_def_free(def);
    vdisk_pool_def_free(again);
}

static void
test_dir_type_and_ignored_source(void **state)
{
    const char *text = "<pool type='dir' xmlns:fs='http://libvirt.org/schemas/storagepool/fs/1.0'>"
                       "<name>p</name><source><device path='/dev/sda6'/>"
                       "<format type='ext3'/></source><target><path>/mnt</path></target>"
                       "<fs:mount_opts><fs:option name='sync'/></fs:mount_opts></pool>";
    vdisk_pool_def *def;
    vdisk_error err = {0};

    assert_int_equal(parse(text, &def, &err), 0);
    assert_string_equal(def->target_path, "/mnt");
    vdisk_pool_def_free(def);
}

static void
test_refused(void **state)
{
    static const struct { const char *text; const char *msg; } bad[] = {
        { "<pool><name>p</name><target><path>/p</path></target></pool>", "missing the type" },
        { "<pool type='logical'><name>p</name><target><path>/p</path></target></pool>",
          "pool type 'logical' is not supported" },
        { "<pool type='vdisk'><target><path>/p</path></target></pool>", "missing <name>" },
        { "<pool type='vdisk'><name>a/b</name><target><path>/p</path></target></pool>", "contains '/'" },
        { "<pool type='vdisk'><name>..</name><target><path>/p</path></target></pool>", "not allowed" },
        { "<pool type='vdisk'><name>p</name><uuid>xyz</uuid><target><path>/p</path></target></pool>",
          "malformed uuid" },
        { "<pool type='vdisk'><name>p</name></pool>", "missing the pool's target path" },
        { "<pool type='vdisk'><name>p</name><target><path>rel/dir</path></target></pool>", "not absolute" },
        { "<pool type='vdisk'><name>p</name><features><cow state='maybe'/></features>"
          "<target><path>/p</path></target></pool>", "'yes' or 'no'" },
        { "<pool type='vdisk' xmlns:vdisk='http://libvirt.org/schemas/storagepool/vdisk/1.0'>"
          "<name>p</name><target><path>/p</path></target><vdisk:provisioning>"
          "<vdisk:zeroing>fast</vdisk:zeroing></vdisk:provisioning></pool>", "lazy or eager" },
        { "<pool type='vdisk' xmlns:vdisk='http://libvirt.org/schemas/storagepool/vdisk/1.0'>"
          "<name>p</name><target><path>/p</path></target><vdisk:provisioning>"
          "<vdisk:overcommit>0</vdisk:overcommit></vdisk:provisioning></pool>", "positive ratio" },
        { "<pool type='vdisk' xmlns:vdisk='http://libvirt.org/schemas/storagepool/vdisk/1.0'>"
          "<name>p</name><target><path>/p</path></target><vdisk:provisioning>"
          "<vdisk:overcommit>1,5</vdisk:overcommit></vdisk:provisioning></pool>", "positive ratio" },
        { "<pool type='vdisk' xmlns:vdisk='http://libvirt.org/schemas/storagepool/vdisk/1.0'>"
          "<name>p</name><target><path>/p</path></target><vdisk:provisioning>"
          "<vdisk:zero>lazy</vdisk:zero></vdisk:provisioning></pool>", "unknown element of the vdisk namespace" },
        { "<pool type='vdisk' xmlns:vdisk='http://libvirt.org/schemas/storagepool/vdisk/1.0'>"
          "<name>p</name><target><path>/p</path></target><vdisk:policy/></pool>",
          "unknown element of the vdisk namespace" },
        { "<pool type='vdisk'><name>p</name><name>q</name><target><path>/p</path></target></pool>",
          "given twice" },
        { "<pool type='vdisk'><name>p</name><target><path>/p</path></target>"
          "<provisioning><zeroing>eager</zeroing></provisioning></pool>",
          "<provisioning> belongs to the vdisk namespace" },
        { "<pool type='vdisk' xmlns:vdisk='http://libvirt.org/schemas/storagepool/vdisk/1.0'>"
          "<name>p</name><target><path>/p</path></target><vdisk:provisioning>"
          "<zeroing>eager</zeroing></vdisk:provisioning></pool>",
          "<zeroing> belongs to the vdisk namespace" },
        { "<pool type='vdisk' xmlns:vdisk='http://libvirt.org/schemas/storagepool/vdisk/2.0'>"
          "<name>p</name><target><path>/p</path></target><vdisk:provisioning/></pool>",
          "unknown vdisk namespace" },
    };
    vdisk_pool_def *def;
    vdisk_error err = {0};

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_true(parse(bad[i].text, &def, &err) < 0);
        assert_null(def);
        if (!strstr(err.message, bad[i].msg) || strncmp(err.message, "pool.xml:1: ", 12) != 0)
            fail_msg("%s: got '%s'", bad[i].text, err.message);
    }
}

static void
test_parse_file_and_format_errors(void **state)
{
    const char *path = unit_path(0, "pool.xml");
    vdisk_pool_def *def, empty = {0};
    vdisk_error err = {0};
    char *out;
    FILE *f = fopen(path, "w");

    assert_non_null(f);
    fputs(pool_dir, f);
    fclose(f);
    assert_int_equal(vdisk_pool_def_parse_file(path, &def, &err), 0);
    assert_string_equal(def->name, "virtimages");
    vdisk_pool_def_free(def);
    assert_int_equal(vdisk_pool_def_parse_file(unit_path(1, "none.xml"), &def, &err), -ENOENT);
    assert_null(def);
    assert_int_equal(vdisk_pool_def_format(&empty, &out, &err), -EINVAL);
    assert_null(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_libvirt_dir_pool),
        cmocka_unit_test(test_provisioning_namespace),
        cmocka_unit_test(test_dir_type_and_ignored_source),
        cmocka_unit_test(test_refused),
        cmocka_unit_test_setup_teardown(test_parse_file_and_format_errors, unit_setup, unit_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
