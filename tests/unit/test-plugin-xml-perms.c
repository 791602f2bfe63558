/* Unit tests for plugin/xml-perms.c: <permissions> as libvirt reads and
 * prints them, and the rules for pool and volume names. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "xml-internal.h"

/* Parse "<permissions>...</permissions>" text into p. */
static int
perms(const char *text, vdisk_perms *p, vdisk_error *err)
{
    vdisk_xml_doc d;
    int r = vdisk_xml_doc_read(&d, text, strlen(text), "p.xml", "permissions", err);

    if (r == 0) {
        r = vdisk_xml_perms_parse(&d, d.root, p, err);
        vdisk_xml_doc_close(&d);
    }
    return r;
}

static char *
format(const vdisk_perms *p)
{
    vdisk_xml_buf b = {0};
    vdisk_error err = {0};
    char *out;

    vdisk_xml_perms_format(&b, p);
    assert_int_equal(vdisk_xml_buf_finish(&b, &out, &err), 0);
    return out;
}

static void
test_full(void **state)
{
    vdisk_perms p;
    vdisk_error err = {0};
    char *out;

    assert_int_equal(perms("<permissions><mode>0644</mode><owner>107</owner><group>36</group>"
                           "<label>virt_image_t</label></permissions>", &p, &err), 0);
    assert_true(p.has_mode && p.has_owner && p.has_group);
    assert_int_equal(p.mode, 0644);
    assert_int_equal(p.owner, 107);
    assert_int_equal(p.group, 36);
    assert_string_equal(p.label, "virt_image_t");
    out = format(&p);
    assert_string_equal(out, "<permissions>\n  <mode>0644</mode>\n  <owner>107</owner>\n"
                             "  <group>36</group>\n  <label>virt_image_t</label>\n</permissions>\n");
    free(out);
    vdisk_perms_clear(&p);
}

/* libvirt's test data: mode 0 prints as 00, owner 0744 is decimal 744, -1 is "unset" */
static void
test_libvirt_quirks(void **state)
{
    vdisk_perms p;
    vdisk_error err = {0};
    char *out;

    assert_int_equal(perms("<permissions><mode>0</mode><owner>0744</owner><group>-1</group>"
                           "<label/></permissions>", &p, &err), 0);
    assert_true(p.has_mode);
    assert_int_equal(p.mode, 0);
    assert_int_equal(p.owner, 744);
    assert_false(p.has_group);
    assert_null(p.label);
    out = format(&p);
    assert_string_equal(out, "<permissions>\n  <mode>00</mode>\n  <owner>744</owner>\n</permissions>\n");
    free(out);
    vdisk_perms_clear(&p);
}

static void
test_empty_formats_nothing(void **state)
{
    vdisk_perms p;
    vdisk_error err = {0};
    char *out;

    assert_int_equal(perms("<permissions/>", &p, &err), 0);
    out = format(&p);
    assert_string_equal(out, "");
    free(out);
}

static void
test_bad_values(void **state)
{
    static const char *bad[] = {
        "<permissions><mode>0800</mode></permissions>",
        "<permissions><mode>01777</mode></permissions>",
        "<permissions><mode>rw</mode></permissions>",
        "<permissions><mode></mode></permissions>",
        "<permissions><owner>-2</owner></permissions>",
        "<permissions><owner>4294967296</owner></permissions>",
        "<permissions><group>root</group></permissions>",
        "<permissions><mode>0644</mode><mode>0600</mode></permissions>",
        NULL,
    };
    vdisk_perms p;
    vdisk_error err = {0};

    for (const char **b = bad; *b; b++)
        assert_int_equal(perms(*b, &p, &err), -EINVAL);
    assert_int_equal(perms("<permissions><mode>0800</mode></permissions>", &p, &err), -EINVAL);
    assert_string_equal(err.message, "p.xml:1: <mode>: '0800' is not an octal mode from 0 to 0777");
}

static int
name_check(const char *name, vdisk_error *err)
{
    vdisk_xml_doc d;
    const char *text = "<name/>";
    int r = vdisk_xml_doc_read(&d, text, strlen(text), "v.xml", "name", err);

    assert_int_equal(r, 0);
    r = vdisk_xml_check_name(&d, d.root, name, err);
    vdisk_xml_doc_close(&d);
    return r;
}

static void
test_names(void **state)
{
    vdisk_error err = {0};
    char longname[300];

    assert_int_equal(name_check("disk.qcow2", &err), 0);
    assert_int_equal(name_check("<sparse>.img", &err), 0);
    assert_int_equal(name_check("a..b", &err), 0);
    assert_int_equal(name_check("..", &err), -EINVAL);
    assert_int_equal(name_check(".", &err), -EINVAL);
    assert_int_equal(name_check("", &err), -EINVAL);
    assert_int_equal(name_check("../etc/passwd", &err), -EINVAL);
    assert_non_null(strstr(err.message, "contains '/'"));
    assert_int_equal(name_check("a/b", &err), -EINVAL);
    assert_int_equal(name_check("tab\there", &err), -EINVAL);
    assert_non_null(strstr(err.message, "control character 0x09"));
    assert_int_equal(name_check("del\x7f", &err), -EINVAL);
    memset(longname, 'a', 255);
    longname[255] = '\0';
    assert_int_equal(name_check(longname, &err), 0);
    longname[255] = 'a';
    longname[256] = '\0';
    assert_int_equal(name_check(longname, &err), -ENAMETOOLONG);
    assert_non_null(strstr(err.message, "256 bytes"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full),
        cmocka_unit_test(test_libvirt_quirks),
        cmocka_unit_test(test_empty_formats_nothing),
        cmocka_unit_test(test_bad_values),
        cmocka_unit_test(test_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
