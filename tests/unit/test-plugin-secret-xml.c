/* Unit tests for plugin/secret-xml.c: parsing libvirt's <secret> XML safely
 * and formatting it back. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <vdisk/secret.h>

#include "secret-internal.h"

static int
parse(const char *xml, vdisk_secret_def *d, bool *has_uuid, vdisk_error *err)
{
    return vdisk_secret_def_parse(xml, strlen(xml), "s.xml", d, has_uuid, err);
}

static void
test_round_trip(void **state)
{
    const char *xml = "<secret ephemeral='yes' private='no'>\n"
                      "  <uuid>0a81f5b2-8403-7b23-c8d6-21ccc2f80d6f</uuid>\n"
                      "  <description>a &amp; b</description>\n"
                      "  <usage type='iscsi'><target>libvirtiscsi</target></usage>\n</secret>\n";
    vdisk_secret_def d;
    bool has_uuid;
    assert_int_equal(parse(xml, &d, &has_uuid, NULL), 0);
    assert_true(has_uuid);
    assert_true(d.ephemeral);
    assert_false(d.private_);
    assert_string_equal(d.description, "a & b");
    assert_string_equal(d.usage_type, "iscsi");
    assert_string_equal(d.usage_id, "libvirtiscsi");
    char *out;
    size_t len;
    assert_int_equal(vdisk_secret_def_format(&d, &out, &len, NULL), 0);
    assert_non_null(strstr(out, "<description>a &amp; b</description>"));
    assert_non_null(strstr(out, "<target>libvirtiscsi</target>"));
    vdisk_secret_def d2;
    assert_int_equal(parse(out, &d2, &has_uuid, NULL), 0);
    assert_memory_equal(d2.uuid, d.uuid, 16);
    assert_string_equal(d2.usage_id, d.usage_id);
    free(out);
    vdisk_secret_def_clear(&d);
    vdisk_secret_def_clear(&d2);
}

static void
test_bad_inputs_refused(void **state)
{
    vdisk_secret_def d;
    bool has_uuid;
    vdisk_error err = { 0 };
    assert_int_equal(parse("<secret><usage type='nfs'/></secret>", &d, &has_uuid, &err), -EINVAL);
    assert_non_null(strstr(err.message, "s.xml:1"));
    assert_int_equal(parse("<secret><uuid>zz</uuid></secret>", &d, &has_uuid, NULL), -EINVAL);
    assert_int_equal(parse("<secret private='maybe'/>", &d, &has_uuid, NULL), -EINVAL);
    assert_int_equal(parse("<pool/>", &d, &has_uuid, NULL), -EINVAL);
    assert_int_equal(parse("<secret>", &d, &has_uuid, NULL), -EINVAL);
    assert_int_equal(parse("<secret><usage type='volume'/></secret>", &d, &has_uuid, NULL), -EINVAL);
}

static void
test_entities_never_expanded(void **state)
{
    vdisk_secret_def d;
    bool has_uuid;
    const char *xxe = "<?xml version='1.0'?>\n<!DOCTYPE secret [<!ENTITY x SYSTEM 'file:///etc/passwd'>]>\n"
                      "<secret><description>&x;</description></secret>";
    assert_int_equal(parse(xxe, &d, &has_uuid, NULL), -EINVAL);
    const char *laughs = "<?xml version='1.0'?>\n<!DOCTYPE s [<!ENTITY a 'aaaaaaaaaa'>"
                         "<!ENTITY b '&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;'>]>\n"
                         "<secret><description>&b;</description></secret>";
    assert_int_equal(parse(laughs, &d, &has_uuid, NULL), -EINVAL);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_bad_inputs_refused),
        cmocka_unit_test(test_entities_never_expanded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
