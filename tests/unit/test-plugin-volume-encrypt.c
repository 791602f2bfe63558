/* Unit tests for plugin/volume-encrypt.c: passphrases from the registry's
 * secrets, the default secret of a volume, what a refresh shows of an
 * encrypted volume, raw LUKS resize and the PBKDF2 time setting. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <vdisk/secret.h>
#include <vdisk/storage-def.h>

#include "fixture.h"
#include "pool-fixture.h"
#include "pool-internal.h"
#include "volume-encrypt.h"

static const unsigned char uuid_a[16] = { 0x0a, 0x81, 0xf5, 0xb2, 0x84, 0x03, 0x7b, 0x23,
                                          0xc8, 0xd6, 0x21, 0xcc, 0xc2, 0xf8, 0x0d, 0x6f };

/* Define secret uuid_a with usage type 'volume' on `usage`, and a value unless NULL. */
static void
define_a(vdisk_registry *reg, const char *usage, const char *value)
{
    char xml[800];
    snprintf(xml, sizeof(xml), "<secret><uuid>0a81f5b2-8403-7b23-c8d6-21ccc2f80d6f</uuid>"
             "<usage type='volume'><volume>%s</volume></usage></secret>", usage);
    unsigned char u[16];
    vdisk_error err = { 0 };
    if (vdisk_secret_define(reg, xml, strlen(xml), "s.xml", u, &err) < 0)
        fail_msg("%s", err.message);
    if (value && vdisk_secret_set_value(reg, u, value, strlen(value), &err) < 0)
        fail_msg("%s", err.message);
}

static void
test_key_from_def(void **state)
{
    vdisk_registry *reg = pf_registry();
    vdisk_pool *p = pf_pool(reg, "p", VDISK_ZEROING_LAZY, 0);
    vdisk_vol_encryption_def enc = { .format = VDISK_VOL_ENCRYPTION_LUKS };
    vdisk_vol_key key;
    vdisk_error err = { 0 };
    assert_int_equal(vdisk_vol_key_from_def(p, &enc, "volume 'v'", &key, &err), -EINVAL);
    assert_non_null(strstr(err.message, "volume 'v': no secret provided"));
    enc.has_secret_uuid = true;
    memcpy(enc.secret_uuid, uuid_a, 16);
    assert_int_equal(vdisk_vol_key_from_def(p, &enc, "volume 'v'", &key, &err), -ENOENT);
    assert_non_null(strstr(err.message, "0a81f5b2-8403-7b23-c8d6-21ccc2f80d6f"));
    define_a(reg, "/images/v", NULL);
    assert_int_equal(vdisk_vol_key_from_def(p, &enc, "volume 'v'", &key, &err), -ENOENT);
    assert_non_null(strstr(err.message, "does not have a value"));
    define_a(reg, "/images/v", "pass phrase");
    assert_int_equal(vdisk_vol_key_from_def(p, &enc, "volume 'v'", &key, &err), 0);
    assert_int_equal(key.len, 11);
    assert_memory_equal(key.data, "pass phrase", 11);
    vdisk_vol_key_clear(&key);
    assert_null(key.data);
    /* By usage (type 'volume' only). */
    enc.has_secret_uuid = false;
    enc.secret_usage = (char *)"/images/v";
    assert_int_equal(vdisk_vol_key_from_def(p, &enc, "volume 'v'", &key, &err), 0);
    vdisk_vol_key_clear(&key);
    enc.secret_usage = (char *)"/images/w";
    assert_int_equal(vdisk_vol_key_from_def(p, &enc, "volume 'v'", &key, &err), -ENOENT);
    assert_non_null(strstr(err.message, "no secret with matching usage '/images/w'"));
    /* A secret for another use (ceph) is refused by uuid, as libvirt refuses it. */
    const char *ceph = "<secret><uuid>5a81f5b2-8403-7b23-c8d6-21ccc2f80d6f</uuid>"
                       "<usage type='ceph'><name>client.admin</name></usage></secret>";
    unsigned char uc[16];
    assert_int_equal(vdisk_secret_define(reg, ceph, strlen(ceph), "c.xml", uc, NULL), 0);
    assert_int_equal(vdisk_secret_set_value(reg, uc, "k", 1, NULL), 0);
    enc.secret_usage = NULL;
    enc.has_secret_uuid = true;
    memcpy(enc.secret_uuid, uc, 16);
    assert_int_equal(vdisk_vol_key_from_def(p, &enc, "volume 'v'", &key, &err), -EINVAL);
    assert_non_null(strstr(err.message, "is of type 'ceph' not expected 'volume' type"));
    assert_null(key.data);
    /* Legacy qcow encryption is never created. */
    enc.format = VDISK_VOL_ENCRYPTION_QCOW;
    assert_int_equal(vdisk_vol_key_from_def(p, &enc, "volume 'v'", &key, NULL), -ENOTSUP);
    pf_close(reg, p);
}

/* A raw LUKS volume through vdisk_vol_create, then what a lookup shows. */
static void
test_create_probe_resize(void **state)
{
    vdisk_registry *reg = pf_registry();
    vdisk_pool *p = pf_pool(reg, "p", VDISK_ZEROING_LAZY, 0);
    char *path = vdisk_vol_path(p, "e.img");
    define_a(reg, path, "pass phrase");
    setenv("VDISK_LUKS_ITER_TIME", "10", 1);
    vdisk_vol_def d = pf_vol("e.img", VDISK_FORMAT_RAW, 4 * MiB, 0);
    d.encryption.format = VDISK_VOL_ENCRYPTION_LUKS;
    d.encryption.has_secret_uuid = true;
    memcpy(d.encryption.secret_uuid, uuid_a, 16);
    vdisk_error err = { 0 };
    if (vdisk_vol_create(p, &d, 0, NULL, NULL, &err) < 0)
        fail_msg("%s", err.message);
    vdisk_vol_def_clear(&d);
    vdisk_vol_def got;
    assert_int_equal(vdisk_vol_lookup(p, "e.img", &got, NULL), 0);
    assert_int_equal(got.format, VDISK_FORMAT_RAW);
    assert_int_equal(got.capacity, 4 * MiB);
    assert_true(got.physical > 4 * MiB);
    assert_int_equal(got.encryption.format, VDISK_VOL_ENCRYPTION_LUKS);
    assert_true(got.encryption.has_secret_uuid);
    assert_memory_equal(got.encryption.secret_uuid, uuid_a, 16);
    uint64_t header = got.physical - got.capacity;
    vdisk_vol_def_clear(&got);
    /* Resize: the payload grows, --allocate is refused and changes nothing. */
    assert_int_equal(vdisk_vol_resize(p, "e.img", 6 * MiB, 0, NULL, NULL, NULL), 0);
    assert_int_equal(pf_file_size(path), header + 6 * MiB);
    assert_int_equal(vdisk_vol_resize(p, "e.img", 8 * MiB, VDISK_VOL_RESIZE_ALLOCATE, NULL, NULL, &err),
                     -ENOTSUP);
    assert_non_null(strstr(err.message, "unencrypted raw volume"));
    assert_int_equal(pf_file_size(path), header + 6 * MiB);
    unsetenv("VDISK_LUKS_ITER_TIME");
    free(path);
    pf_close(reg, p);
}

/* A thick encrypted qcow2: space reserved, not preallocated; a wipe keeps
 * it encrypted and reserved. */
static void
test_thick_qcow2_create_and_wipe(void **state)
{
    vdisk_registry *reg = pf_registry();
    vdisk_pool *p = pf_pool(reg, "p", VDISK_ZEROING_EAGER, 0);
    char *path = vdisk_vol_path(p, "t.qcow2");
    define_a(reg, path, "pass phrase");
    setenv("VDISK_LUKS_ITER_TIME", "10", 1);
    vdisk_vol_def d = pf_vol("t.qcow2", VDISK_FORMAT_QCOW2, 4 * MiB, 4 * MiB);
    d.encryption.format = VDISK_VOL_ENCRYPTION_LUKS;
    d.encryption.has_secret_uuid = true;
    memcpy(d.encryption.secret_uuid, uuid_a, 16);
    vdisk_error err = { 0 };
    if (vdisk_vol_create(p, &d, 0, NULL, NULL, &err) < 0)
        fail_msg("%s", err.message);
    vdisk_vol_def_clear(&d);
    for (int pass = 0; pass < 2; pass++) {
        vdisk_vol_def got;
        assert_int_equal(vdisk_vol_lookup(p, "t.qcow2", &got, NULL), 0);
        assert_int_equal(got.format, VDISK_FORMAT_QCOW2);
        assert_int_equal(got.encryption.format, VDISK_VOL_ENCRYPTION_LUKS);
        assert_true(got.allocation >= 4 * MiB);
        assert_true(got.physical < 4 * MiB);     /* reserved past the end, not preallocated */
        vdisk_vol_def_clear(&got);
        if (pass == 0 && vdisk_vol_wipe(p, "t.qcow2", VDISK_WIPE_ZERO, NULL, NULL, &err) < 0)
            fail_msg("%s", err.message);
    }
    unsetenv("VDISK_LUKS_ITER_TIME");
    free(path);
    pf_close(reg, p);
}

static void
test_default_secret_and_iter_time(void **state)
{
    vdisk_registry *reg = pf_registry();
    vdisk_pool *p = pf_pool(reg, "p", VDISK_ZEROING_LAZY, 0);
    unsigned char u[16];
    assert_int_equal(vdisk_vol_default_secret(p, "x", u), -ENOENT);
    vdisk_vol_key key;
    vdisk_error err = { 0 };
    assert_int_equal(vdisk_vol_key_default(p, "x", &key, &err), -ENOENT);
    assert_non_null(strstr(err.message, "volume 'x'"));
    char *path = vdisk_vol_path(p, "x");
    define_a(reg, path, "k");
    assert_int_equal(vdisk_vol_default_secret(p, "x", u), 0);
    assert_memory_equal(u, uuid_a, 16);
    assert_int_equal(vdisk_vol_key_default(p, "x", &key, NULL), 0);
    assert_int_equal(key.len, 1);
    vdisk_vol_key_clear(&key);
    free(path);
    unsetenv("VDISK_LUKS_ITER_TIME");
    assert_int_equal(vdisk_vol_luks_iter_time(), 0);
    setenv("VDISK_LUKS_ITER_TIME", "25", 1);
    assert_int_equal(vdisk_vol_luks_iter_time(), 25);
    setenv("VDISK_LUKS_ITER_TIME", "25ms", 1);
    assert_int_equal(vdisk_vol_luks_iter_time(), 0);
    unsetenv("VDISK_LUKS_ITER_TIME");
    pf_close(reg, p);
}

/* A secret source standing in for libvirt's secret driver: one secret,
 * uuid_a, whose usage is `usage`. */
struct fake_secrets {
    const char *usage;
    const char *value;
    int lookups, fetches;
};

static int
fake_lookup(void *opaque, const char *usage, unsigned char uuid[16], vdisk_error *err)
{
    struct fake_secrets *f = opaque;
    f->lookups++;
    if (strcmp(usage, f->usage) != 0)
        return vdisk_error_set(err, ENOENT, "no secret with matching usage '%s'", usage);
    memcpy(uuid, uuid_a, 16);
    return 0;
}

static int
fake_get_value(void *opaque, const unsigned char uuid[16], unsigned char **value, size_t *len,
               vdisk_error *err)
{
    struct fake_secrets *f = opaque;
    f->fetches++;
    if (memcmp(uuid, uuid_a, 16) != 0)
        return vdisk_error_set(err, ENOENT, "no secret with matching uuid");
    *value = (unsigned char *)strdup(f->value);
    *len = strlen(f->value);
    return 0;
}

/* An unmanaged pool (the libvirt module's) reads passphrases from its
 * secret source, and refuses encryption when it has none. */
static void
test_unmanaged_secret_source(void **state)
{
    struct fake_secrets f = { .usage = unit_path(1, "u/e.img"), .value = "pass phrase" };
    vdisk_secret_source src = { .lookup_usage = fake_lookup, .get_value = fake_get_value,
                                .opaque = &f };
    vdisk_pool_def *def = calloc(1, sizeof(*def));
    def->name = strdup("u");
    def->target_path = strdup(unit_path(2, "u"));
    vdisk_pool *p = NULL;
    assert_int_equal(vdisk_pool_new_unmanaged(def, true, &src, &p, NULL), 0);
    assert_int_equal(vdisk_pool_build(p, 0, NULL), 0);
    setenv("VDISK_LUKS_ITER_TIME", "10", 1);
    vdisk_vol_def d = pf_vol("e.img", VDISK_FORMAT_QCOW2, 4 * MiB, 0);
    d.encryption.format = VDISK_VOL_ENCRYPTION_LUKS;
    d.encryption.secret_usage = strdup(f.usage);
    vdisk_error err = { 0 };
    if (vdisk_vol_create(p, &d, 0, NULL, NULL, &err) < 0)
        fail_msg("%s", err.message);
    assert_int_equal(f.lookups, 1);
    assert_int_equal(f.fetches, 1);
    /* Resize opens it with the default secret: usage = its path. */
    assert_int_equal(vdisk_vol_resize(p, "e.img", 8 * MiB, 0, NULL, NULL, NULL), 0);
    assert_int_equal(f.fetches, 2);
    vdisk_vol_def got;
    assert_int_equal(vdisk_vol_lookup(p, "e.img", &got, NULL), 0);
    assert_int_equal(got.capacity, 8 * MiB);
    assert_int_equal(got.encryption.format, VDISK_VOL_ENCRYPTION_LUKS);
    vdisk_vol_def_clear(&got);
    vdisk_pool_free(p);
    /* No source: the same create is refused, nothing left behind. */
    def = calloc(1, sizeof(*def));
    def->name = strdup("u");
    def->target_path = strdup(unit_path(2, "u"));
    assert_int_equal(vdisk_pool_new_unmanaged(def, true, NULL, &p, NULL), 0);
    free(d.name);
    d.name = strdup("f.img");
    assert_true(vdisk_vol_create(p, &d, 0, NULL, NULL, &err) < 0);
    assert_non_null(strstr(err.message, "f.img"));
    assert_int_equal(access(unit_path(0, "u/f.img"), F_OK), -1);
    vdisk_vol_def_clear(&d);
    unsetenv("VDISK_LUKS_ITER_TIME");
    vdisk_pool_free(p);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_key_from_def, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_create_probe_resize, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_thick_qcow2_create_and_wipe, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_default_secret_and_iter_time, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_unmanaged_secret_source, unit_setup, unit_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
