/* Unit tests for plugin/xml-buf.c: indentation and escaping. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "xml-internal.h"

static void
test_nesting_and_elements(void **state)
{
    vdisk_xml_buf b = {0};
    vdisk_error err = {0};
    char *out;

    vdisk_xml_buf_open(&b, "<volume type='%s'>", "file");
    vdisk_xml_buf_element(&b, "name", "a<b>&'c\"");
    vdisk_xml_buf_element(&b, "key", NULL);
    vdisk_xml_buf_open(&b, "<target>");
    vdisk_xml_buf_line(&b, "<format type='raw'/>");
    vdisk_xml_buf_close(&b, "</target>");
    vdisk_xml_buf_close(&b, "</volume>");
    assert_int_equal(vdisk_xml_buf_finish(&b, &out, &err), 0);
    assert_string_equal(out, "<volume type='file'>\n"
                             "  <name>a&lt;b&gt;&amp;&apos;c&quot;</name>\n"
                             "  <target>\n"
                             "    <format type='raw'/>\n"
                             "  </target>\n"
                             "</volume>\n");
    free(out);
}

static void
test_attributes_and_control_characters(void **state)
{
    vdisk_xml_buf b = {0};
    vdisk_error err = {0};
    char *out;

    vdisk_xml_buf_add(&b, "<secret");
    vdisk_xml_buf_attr(&b, "usage", "it's\tmine");
    vdisk_xml_buf_attr(&b, "uuid", NULL);
    vdisk_xml_buf_add(&b, "/>");
    assert_int_equal(vdisk_xml_buf_finish(&b, &out, &err), 0);
    assert_string_equal(out, "<secret usage='it&apos;s&#x9;mine'/>");
    free(out);
}

static void
test_empty_and_large(void **state)
{
    vdisk_xml_buf b = {0};
    vdisk_error err = {0};
    char *out;

    assert_int_equal(vdisk_xml_buf_finish(&b, &out, &err), 0);
    assert_string_equal(out, "");
    free(out);
    for (int i = 0; i < 10000; i++)
        vdisk_xml_buf_line(&b, "<x>%d</x>", i);
    assert_int_equal(vdisk_xml_buf_finish(&b, &out, &err), 0);
    assert_non_null(strstr(out, "<x>9999</x>\n"));
    assert_int_equal(strncmp(out, "<x>0</x>\n<x>1</x>\n", 18), 0);
    free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nesting_and_elements),
        cmocka_unit_test(test_attributes_and_control_characters),
        cmocka_unit_test(test_empty_and_large),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
