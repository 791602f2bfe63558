/* Unit tests for plugin/secret.c: define, value, list, lookup, undefine. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <cmocka.h>

#include <vdisk/secret.h>
#include <vdisk/storage-def.h>

#include "fixture.h"
#include "pool-fixture.h"

static const char vol_secret[] =
    "<secret ephemeral='no' private='yes'>\n"
    "  <uuid>0a81f5b2-8403-7b23-c8d6-21ccc2f80d6f</uuid>\n"
    "  <usage type='volume'><volume>/var/lib/images/a.qcow2</volume></usage>\n"
    "</secret>\n";

static void
test_define_value_undefine(void **state)
{
    vdisk_registry *reg = pf_registry();
    unsigned char uuid[16];
    assert_int_equal(vdisk_secret_define(reg, vol_secret, strlen(vol_secret), "s.xml", uuid, NULL), 0);
    char u[VDISK_UUID_STRING_LEN];
    vdisk_uuid_format(uuid, u);
    assert_string_equal(u, "0a81f5b2-8403-7b23-c8d6-21ccc2f80d6f");
    unsigned char *v;
    size_t len;
    assert_int_equal(vdisk_secret_get_value(reg, uuid, &v, &len, NULL), -ENOENT);
    assert_int_equal(vdisk_secret_set_value(reg, uuid, "s3cr3t", 6, NULL), 0);
    assert_int_equal(vdisk_secret_get_value(reg, uuid, &v, &len, NULL), 0);
    assert_int_equal(len, 6);
    assert_memory_equal(v, "s3cr3t", 6);
    free(v);
    struct stat st;
    char path[600];
    snprintf(path, sizeof(path), "%s/reg/secrets/%s.value", unit_tmpdir, u);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    vdisk_secret_def d;
    assert_int_equal(vdisk_secret_lookup(reg, "/var/lib/images/a.qcow2", &d, NULL), 0);
    assert_memory_equal(d.uuid, uuid, 16);
    assert_true(d.private_);
    vdisk_secret_def_clear(&d);
    assert_int_equal(vdisk_secret_undefine(reg, uuid, NULL), 0);
    assert_int_equal(stat(path, &st), -1);
    assert_int_equal(vdisk_secret_undefine(reg, uuid, NULL), -ENOENT);
    assert_int_equal(vdisk_secret_set_value(reg, uuid, "x", 1, NULL), -ENOENT);
    vdisk_registry_close(reg);
}

static void
test_generated_uuid_list_and_usage_clash(void **state)
{
    vdisk_registry *reg = pf_registry();
    const char *a = "<secret><usage type='ceph'><name>client.admin</name></usage></secret>";
    const char *b = "<secret><description>other</description></secret>";
    unsigned char ua[16], ub[16], uc[16];
    assert_int_equal(vdisk_secret_define(reg, a, strlen(a), "a", ua, NULL), 0);
    assert_int_equal(vdisk_secret_define(reg, b, strlen(b), "b", ub, NULL), 0);
    assert_memory_not_equal(ua, ub, 16);
    vdisk_error err = { 0 };
    assert_int_equal(vdisk_secret_define(reg, a, strlen(a), "a2", uc, &err), -EEXIST);
    assert_non_null(strstr(err.message, "client.admin"));
    vdisk_secret_def *list;
    size_t n;
    assert_int_equal(vdisk_secret_list(reg, &list, &n, NULL), 0);
    assert_int_equal(n, 2);
    vdisk_secret_defs_free(list, n);
    assert_int_equal(vdisk_secret_set_value(reg, ua, "k", VDISK_SECRET_MAX_VALUE + 1, NULL), -EFBIG);
    vdisk_registry_close(reg);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_define_value_undefine, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_generated_uuid_list_and_usage_clash, unit_setup, unit_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
