/* Unit tests for plugin/xml-node.c: children, text, attributes, numbers and
 * the "doc:line: <element attr='v'>: cause" errors. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "xml-internal.h"

static const char doc_text[] =
    "<volume type='file'>\n"
    "  <name>  spaced name \n</name>\n"
    "  <owner>107</owner>\n"
    "  <group>-5</group>\n"
    "  <dup/>\n"
    "  <dup/>\n"
    "  <x:name xmlns:x='urn:other'>other</x:name>\n"
    "</volume>\n";

static int
setup(void **state)
{
    vdisk_xml_doc *d = calloc(1, sizeof(*d));
    vdisk_error err = {0};

    if (!d || vdisk_xml_doc_read(d, doc_text, strlen(doc_text), "v.xml", "volume", &err) < 0)
        return -1;
    *state = d;
    return 0;
}

static int
teardown(void **state)
{
    vdisk_xml_doc_close(*state);
    free(*state);
    return 0;
}

static void
test_child_unique_and_namespaced(void **state)
{
    vdisk_xml_doc *d = *state;
    vdisk_error err = {0};
    xmlNode *n;

    assert_int_equal(vdisk_xml_child(d, d->root, "name", NULL, &n, &err), 0);
    assert_non_null(n);
    assert_null(n->ns);
    assert_int_equal(vdisk_xml_child(d, d->root, "name", "urn:other", &n, &err), 0);
    assert_non_null(n);
    assert_int_equal(vdisk_xml_child(d, d->root, "absent", NULL, &n, &err), 0);
    assert_null(n);
    assert_int_equal(vdisk_xml_child(d, d->root, "dup", NULL, &n, &err), -EINVAL);
    assert_string_equal(err.message, "v.xml:7: <dup>: <dup> given twice (first on line 6)");
}

static void
test_text_and_trim(void **state)
{
    vdisk_xml_doc *d = *state;
    vdisk_error err = {0};
    xmlNode *n;
    char *s;

    assert_int_equal(vdisk_xml_child(d, d->root, "name", NULL, &n, &err), 0);
    assert_int_equal(vdisk_xml_text(d, n, &s, &err), 0);
    assert_string_equal(s, "  spaced name \n");
    free(s);
    assert_int_equal(vdisk_xml_text_trim(d, n, &s, &err), 0);
    assert_string_equal(s, "spaced name");
    free(s);
}

static void
test_attr(void **state)
{
    vdisk_xml_doc *d = *state;
    vdisk_error err = {0};
    char *s;

    assert_int_equal(vdisk_xml_attr(d, d->root, "type", &s, &err), 0);
    assert_string_equal(s, "file");
    free(s);
    assert_int_equal(vdisk_xml_attr(d, d->root, "nope", &s, &err), 0);
    assert_null(s);
}

static void
test_long_in_range(void **state)
{
    vdisk_xml_doc *d = *state;
    vdisk_error err = {0};
    xmlNode *owner, *group;
    long long v;

    assert_int_equal(vdisk_xml_child(d, d->root, "owner", NULL, &owner, &err), 0);
    assert_int_equal(vdisk_xml_child(d, d->root, "group", NULL, &group, &err), 0);
    assert_int_equal(vdisk_xml_long(d, owner, -1, 1000, &v, &err), 0);
    assert_int_equal(v, 107);
    assert_int_equal(vdisk_xml_long(d, owner, 0, 100, &v, &err), -EINVAL);
    assert_int_equal(vdisk_xml_long(d, group, -1, 100, &v, &err), -EINVAL);
    assert_string_equal(err.message, "v.xml:5: <group>: '-5' is not a whole number from -1 to 100");
}

static void
test_error_without_node(void **state)
{
    vdisk_xml_doc *d = *state;
    vdisk_error err = {0};

    assert_int_equal(vdisk_xml_error(&err, d, NULL, ENOENT, "no %s", "thing"), -ENOENT);
    assert_string_equal(err.message, "v.xml: no thing");
    assert_int_equal(vdisk_xml_error(&err, d, d->root, EINVAL, "bad"), -EINVAL);
    assert_string_equal(err.message, "v.xml:1: <volume type='file'>: bad");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_child_unique_and_namespaced, setup, teardown),
        cmocka_unit_test_setup_teardown(test_text_and_trim, setup, teardown),
        cmocka_unit_test_setup_teardown(test_attr, setup, teardown),
        cmocka_unit_test_setup_teardown(test_long_in_range, setup, teardown),
        cmocka_unit_test_setup_teardown(test_error_without_node, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
