/* Unit tests for plugin/xml-read.c: hostile documents are refused before
 * libxml2 expands anything (XXE, billion laughs, parameter entities,
 * external DTDs, deep nesting, oversize), ordinary ones parse. */
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
#include "xml-internal.h"

/* Parse text with root <volume>; return the result, message in err. */
static int
read_text(const char *text, vdisk_error *err)
{
    vdisk_xml_doc d;
    int r = vdisk_xml_doc_read(&d, text, strlen(text), "volume.xml", "volume", err);

    if (r == 0)
        vdisk_xml_doc_close(&d);
    return r;
}

static void
test_plain_document_parses(void **state)
{
    vdisk_error err = {0};
    vdisk_xml_doc d;
    const char *text = "<?xml version='1.0'?>\n<!-- c -->\n<volume><name>a&amp;b&#x41;</name></volume>\n";

    assert_int_equal(vdisk_xml_doc_read(&d, text, strlen(text), "v.xml", "volume", &err), 0);
    assert_string_equal((const char *)d.root->name, "volume");
    vdisk_xml_doc_close(&d);
}

static void
test_internal_doctype_without_entities_is_fine(void **state)
{
    vdisk_error err = {0};

    assert_int_equal(read_text("<!DOCTYPE volume>\n<volume/>", &err), 0);
}

static void
test_xxe_refused(void **state)
{
    vdisk_error err = {0};
    const char *xxe =
        "<?xml version='1.0'?>\n"
        "<!DOCTYPE volume [\n"
        "  <!ENTITY xxe SYSTEM 'file:///etc/passwd'>\n"
        "]>\n"
        "<volume><name>&xxe;</name></volume>\n";

    assert_int_equal(read_text(xxe, &err), -EINVAL);
    assert_non_null(strstr(err.message, "volume.xml:3: entity declarations are not allowed"));
    assert_null(strstr(err.message, "root:"));
}

static void
test_billion_laughs_refused(void **state)
{
    vdisk_error err = {0};
    char doc[4096];
    size_t n = 0;

    n += (size_t)snprintf(doc + n, sizeof(doc) - n,
                          "<?xml version='1.0'?>\n<!DOCTYPE volume [\n <!ENTITY lol0 'lol'>\n");
    for (int i = 1; i < 10; i++)
        n += (size_t)snprintf(doc + n, sizeof(doc) - n,
                              " <!ENTITY lol%d '&lol%d;&lol%d;&lol%d;&lol%d;&lol%d;&lol%d;"
                              "&lol%d;&lol%d;&lol%d;&lol%d;'>\n",
                              i, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1,
                              i - 1);
    snprintf(doc + n, sizeof(doc) - n, "]>\n<volume><name>&lol9;</name></volume>\n");
    assert_int_equal(read_text(doc, &err), -EINVAL);
    assert_non_null(strstr(err.message, "entity declarations are not allowed: <!ENTITY lol0>"));
}

static void
test_parameter_entity_refused(void **state)
{
    vdisk_error err = {0};
    const char *doc = "<!DOCTYPE volume [ <!ENTITY % p SYSTEM 'http://example.invalid/x.dtd'> %p; ]>\n"
                      "<volume/>";

    assert_int_equal(read_text(doc, &err), -EINVAL);
    assert_non_null(strstr(err.message, "entity declarations are not allowed"));
}

static void
test_external_dtd_refused(void **state)
{
    vdisk_error err = {0};

    assert_int_equal(read_text("<!DOCTYPE volume SYSTEM 'http://example.invalid/v.dtd'>\n<volume/>",
                               &err), -EINVAL);
    assert_non_null(strstr(err.message, "external DTD"));
}

static void
test_undeclared_entity_refused(void **state)
{
    vdisk_error err = {0};

    assert_int_equal(read_text("<volume>\n<name>&nope;</name></volume>", &err), -EINVAL);
    assert_non_null(strstr(err.message, "volume.xml:2:"));
    assert_non_null(strstr(err.message, "&nope;"));
}

static void
test_entity_in_attribute_refused(void **state)
{
    vdisk_error err = {0};

    assert_int_equal(read_text("<volume type='&x;'/>", &err), -EINVAL);
}

static void
test_deep_nesting_refused(void **state)
{
    vdisk_error err = {0};
    char doc[2048] = "<volume>";

    for (int i = 0; i < VDISK_XML_MAX_DEPTH; i++)
        strcat(doc, "<a>");
    strcat(doc, "</volume>");
    assert_int_equal(read_text(doc, &err), -EINVAL);
    assert_non_null(strstr(err.message, "nested more than"));
}

static void
test_nesting_at_the_limit_is_fine(void **state)
{
    vdisk_error err = {0};
    char doc[2048] = "<volume>";

    for (int i = 1; i < VDISK_XML_MAX_DEPTH; i++)
        strcat(doc, "<a>");
    for (int i = 1; i < VDISK_XML_MAX_DEPTH; i++)
        strcat(doc, "</a>");
    strcat(doc, "</volume>");
    assert_int_equal(read_text(doc, &err), 0);
}

static void
test_oversize_refused(void **state)
{
    vdisk_error err = {0};
    vdisk_xml_doc d;
    size_t len = VDISK_XML_MAX_SIZE + 1;
    char *big = malloc(len);

    assert_non_null(big);
    memset(big, ' ', len);
    memcpy(big, "<volume>", 8);
    memcpy(big + len - 9, "</volume>", 9);
    assert_int_equal(vdisk_xml_doc_read(&d, big, len, "big.xml", "volume", &err), -EFBIG);
    assert_non_null(strstr(err.message, "big.xml"));
    free(big);
}

static void
test_syntax_error_names_the_line(void **state)
{
    vdisk_error err = {0};

    assert_int_equal(read_text("<volume>\n  <name>x</nme>\n</volume>", &err), -EINVAL);
    assert_non_null(strstr(err.message, "volume.xml:2: XML error:"));
}

static void
test_nul_byte_refused(void **state)
{
    vdisk_error err = {0};
    vdisk_xml_doc d;
    const char text[] = "<volume><name>a\0b</name></volume>";

    assert_int_equal(vdisk_xml_doc_read(&d, text, sizeof(text) - 1, "v.xml", "volume", &err),
                     -EINVAL);
}

static void
test_empty_and_wrong_root(void **state)
{
    vdisk_error err = {0};
    vdisk_xml_doc d;

    assert_int_equal(vdisk_xml_doc_read(&d, "", 0, "v.xml", "volume", &err), -EINVAL);
    assert_non_null(strstr(err.message, "empty"));
    assert_int_equal(read_text("<pool type='dir'/>", &err), -EINVAL);
    assert_string_equal(err.message, "volume.xml:1: <pool type='dir'>: expected <volume> as the root element");
}

static void
test_file_load(void **state)
{
    vdisk_error err = {0};
    char *buf;
    size_t len;
    const char *path = unit_path(0, "v.xml");
    FILE *f = fopen(path, "w");

    assert_non_null(f);
    fputs("<volume/>", f);
    fclose(f);
    assert_int_equal(vdisk_xml_file_load(path, &buf, &len, &err), 0);
    assert_int_equal(len, 9);
    assert_string_equal(buf, "<volume/>");
    free(buf);
    unit_write_file(path, VDISK_XML_MAX_SIZE + 1, "<volume/>", 9, 0);
    assert_int_equal(vdisk_xml_file_load(path, &buf, &len, &err), -EFBIG);
    assert_null(buf);
    assert_int_equal(vdisk_xml_file_load(unit_path(1, "missing.xml"), &buf, &len, &err), -ENOENT);
    assert_non_null(strstr(err.message, "missing.xml"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain_document_parses),
        cmocka_unit_test(test_internal_doctype_without_entities_is_fine),
        cmocka_unit_test(test_xxe_refused),
        cmocka_unit_test(test_billion_laughs_refused),
        cmocka_unit_test(test_parameter_entity_refused),
        cmocka_unit_test(test_external_dtd_refused),
        cmocka_unit_test(test_undeclared_entity_refused),
        cmocka_unit_test(test_entity_in_attribute_refused),
        cmocka_unit_test(test_deep_nesting_refused),
        cmocka_unit_test(test_nesting_at_the_limit_is_fine),
        cmocka_unit_test(test_oversize_refused),
        cmocka_unit_test(test_syntax_error_names_the_line),
        cmocka_unit_test(test_nul_byte_refused),
        cmocka_unit_test(test_empty_and_wrong_root),
        cmocka_unit_test_setup_teardown(test_file_load, unit_setup, unit_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
