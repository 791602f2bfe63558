/* Unit tests for plugin/store-registry.c (and plugin/store.c): the
 * embedded registry behind the store operations table -- virsh's lookup
 * rules and which step failed, the volume's strings, delete, wipe names,
 * resize by delta; pool-list's filters, pool-info's sums, the life cycle; secrets. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include <vdisk/store.h>

#include "fixture.h"
#include "pool-fixture.h"

/* Pools p (with raw volume v, 4 MiB) and q (empty), then the registry as a store. */
static vdisk_store *
open_store(void)
{
    vdisk_registry *reg = pf_registry();
    vdisk_pool *p = pf_pool(reg, "p", VDISK_ZEROING_LAZY, 0);
    vdisk_pool *q = pf_pool(reg, "q", VDISK_ZEROING_LAZY, 0);
    pf_create(p, "v", VDISK_FORMAT_RAW, 4 * MiB, 0);
    vdisk_pool_free(q);
    pf_close(reg, p);
    vdisk_store *s = NULL;
    vdisk_error err = { 0 };
    if (vdisk_store_registry_open(unit_path(3, "reg"), &s, &err) < 0)
        fail_msg("%s", err.message);
    assert_string_equal(s->ops->name, "registry");
    return s;
}

static vdisk_store_vol *
lookup(vdisk_store *s, const char *pool, const char *vol)
{
    vdisk_store_vol *v = NULL;
    vdisk_store_lookup_step step;
    vdisk_error err = { 0 };
    if (s->ops->vol_lookup(s, pool, vol, &v, &step, &err) < 0)
        fail_msg("%s", err.message);
    assert_ptr_equal(v->store, s);
    return v;
}

/* A failed lookup: its errno and step. */
static void
assert_lookup_fails(vdisk_store *s, const char *pool, const char *vol, int rc, vdisk_store_lookup_step want)
{
    vdisk_store_vol *v = (vdisk_store_vol *)1;
    vdisk_store_lookup_step step = VDISK_STORE_STEP_CHECK;
    vdisk_error err = { 0 };
    assert_int_equal(s->ops->vol_lookup(s, pool, vol, &v, &step, &err), rc);
    assert_null(v);
    assert_int_equal(step, want);
    assert_true(err.message[0] != '\0');
}

static void
test_lookup_by_name_path_and_steps(void **state)
{
    vdisk_store *s = open_store();
    char path[4096];
    snprintf(path, sizeof(path), "%s", unit_path(0, "p/v"));
    vdisk_store_vol *a = lookup(s, "p", "v"), *b = lookup(s, NULL, path), *c = lookup(s, "p", path);
    assert_string_equal(a->name, "v");
    assert_string_equal(b->name, "v");
    assert_string_equal(c->name, "v");
    s->ops->vol_free(a), s->ops->vol_free(b), s->ops->vol_free(c);
    assert_lookup_fails(s, "nopool", "v", -ENOENT, VDISK_STORE_STEP_POOL);
    assert_lookup_fails(s, "p", "nothere", -ENOENT, VDISK_STORE_STEP_VOL);
    assert_lookup_fails(s, NULL, "v", -ENOENT, VDISK_STORE_STEP_VOL);     /* a name alone is no key */
    assert_lookup_fails(s, "q", path, -ENOENT, VDISK_STORE_STEP_VOL);     /* in p, not in q */
    s->ops->vol_free(NULL);
    s->ops->close(s);
}

static void
test_definition_and_strings(void **state)
{
    vdisk_store *s = open_store();
    vdisk_store_vol *v = lookup(s, "p", "v");
    vdisk_vol_def d;
    const char *type = NULL;
    vdisk_error err = { 0 };
    assert_int_equal(s->ops->vol_def(v, false, &d, &type, &err), 0);
    assert_string_equal(type, "file");
    assert_int_equal(d.capacity, 4 * MiB);
    vdisk_vol_def_clear(&d);
    char *path = NULL, *key = NULL, *xml = NULL;
    assert_int_equal(s->ops->vol_path(v, &path, &err), 0);
    assert_string_equal(path, unit_path(0, "p/v"));
    assert_int_equal(s->ops->vol_key(v, &key, &err), 0);
    assert_string_equal(key, path);          /* a file's key is its path, as libvirt's dir pools */
    assert_int_equal(s->ops->vol_xml(v, &xml, &err), 0);
    assert_non_null(strstr(xml, "<name>v</name>"));
    assert_non_null(strstr(xml, "<capacity unit='bytes'>4194304</capacity>"));
    free(path), free(key), free(xml);
    s->ops->vol_free(v);
    s->ops->close(s);
}

static void
test_resize_delta_and_shrink(void **state)
{
    vdisk_store *s = open_store();
    vdisk_store_vol *v = lookup(s, "p", "v");
    vdisk_error err = { 0 };
    assert_int_equal(s->ops->vol_resize(v, MiB, VDISK_STORE_RESIZE_DELTA, NULL, NULL, &err), 0);
    assert_int_equal(pf_file_size(unit_path(0, "p/v")), 5 * MiB);
    assert_int_equal(s->ops->vol_resize(v, 2 * MiB, VDISK_STORE_RESIZE_DELTA | VDISK_STORE_RESIZE_SHRINK,
                                        NULL, NULL, &err), 0);
    assert_int_equal(pf_file_size(unit_path(0, "p/v")), 3 * MiB);
    /* Shrinking by the whole capacity or more is refused before anything is touched. */
    assert_int_equal(s->ops->vol_resize(v, 3 * MiB, VDISK_STORE_RESIZE_DELTA | VDISK_STORE_RESIZE_SHRINK,
                                        NULL, NULL, &err), -EINVAL);
    assert_int_equal(err.kind, VDISK_ERR_INVALID);
    assert_int_equal(s->ops->vol_resize(v, MiB, 0, NULL, NULL, &err), -EINVAL);   /* no SHRINK */
    assert_int_equal(s->ops->vol_resize(v, 6 * MiB, 0, NULL, NULL, &err), 0);
    assert_int_equal(pf_file_size(unit_path(0, "p/v")), 6 * MiB);
    s->ops->vol_free(v);
    s->ops->close(s);
}

static void
test_wipe_names_and_delete(void **state)
{
    assert_int_equal(vdisk_store_wipe_alg_index("zero"), 0);
    assert_int_equal(vdisk_store_wipe_alg_index("random"), 8);   /* VIR_STORAGE_VOL_WIPE_ALG_RANDOM */
    assert_int_equal(vdisk_store_wipe_alg_index("trim"), 9);
    assert_int_equal(vdisk_store_wipe_alg_index("Zero"), -1);
    vdisk_store *s = open_store();
    vdisk_store_vol *v = lookup(s, "p", "v");
    vdisk_error err = { 0 };
    assert_int_equal(s->ops->vol_wipe(v, "bogus", NULL, NULL, &err), -EINVAL);
    assert_int_equal(err.kind, VDISK_ERR_INVALID);
    vdisk_error_clear(&err);
    assert_int_equal(s->ops->vol_wipe(v, "zero", NULL, NULL, &err), 0);
    assert_int_equal(s->ops->vol_delete(v, VDISK_STORE_DELETE_WITH_SNAPSHOTS, &err), 0);
    struct stat st;
    assert_int_equal(stat(unit_path(0, "p/v"), &st), -1);
    assert_int_equal(errno, ENOENT);
    s->ops->vol_free(v);
    s->ops->close(s);
}

/* The row of the pool named in rows (NULL if absent). */
static const vdisk_store_pool_row *
row_of(const vdisk_store_pool_row *rows, size_t count, const char *name)
{
    for (size_t i = 0; i < count; i++)
        if (rows[i].def && strcmp(rows[i].def->name, name) == 0)
            return &rows[i];
    return NULL;
}

static void
test_pool_list_filters_and_info(void **state)
{
    vdisk_store *s = open_store();
    vdisk_store_pool *q = NULL;
    vdisk_error err = { 0 };
    assert_int_equal(s->ops->pool_lookup(s, "q", &q, &err), 0);
    assert_string_equal(q->name, "q");
    assert_int_equal(s->ops->pool_destroy(q, &err), 0);
    vdisk_store_pool_row *rows;
    size_t count;
    vdisk_store_pool_filter active = { 0 }, all = { .all = true }, dir = { .all = true, .types = "dir" };
    vdisk_store_pool_filter logical = { .all = true, .types = "logical" };
    assert_int_equal(s->ops->pool_list(s, &active, &rows, &count, &err), 0);
    assert_int_equal(count, 1);
    assert_non_null(row_of(rows, count, "p"));
    vdisk_store_pool_rows_free(rows, count);
    assert_int_equal(s->ops->pool_list(s, &all, &rows, &count, &err), 0);
    assert_int_equal(count, 2);
    assert_string_equal(row_of(rows, count, "q")->state, "inactive");
    assert_true(row_of(rows, count, "p")->persistent);
    vdisk_store_pool_rows_free(rows, count);
    assert_int_equal(s->ops->pool_list(s, &dir, &rows, &count, &err), 0);
    assert_int_equal(count, 2);
    vdisk_store_pool_rows_free(rows, count);
    assert_int_equal(s->ops->pool_list(s, &logical, &rows, &count, &err), 0);
    assert_int_equal(count, 0);
    vdisk_store_pool_rows_free(rows, count);

    vdisk_store_pool *p = NULL;
    vdisk_store_pool_row row;
    assert_int_equal(s->ops->pool_lookup(s, "p", &p, &err), 0);
    assert_int_equal(s->ops->pool_info(p, VDISK_STORE_POOL_SIZES | VDISK_STORE_POOL_TOTALS, &row, &err), 0);
    assert_true(row.active && row.info_ok);
    assert_int_equal(row.info.volumes, 1);
    assert_int_equal(row.info.volume_capacity, 4 * MiB);
    char *xml = NULL;
    assert_int_equal(s->ops->pool_xml(p, true, &xml, &err), 0);
    assert_non_null(strstr(xml, "<name>p</name>"));
    free(xml);
    vdisk_store_vol_row *vols = NULL;
    size_t nvols = 0;
    assert_int_equal(s->ops->vol_list(p, VDISK_STORE_VOLS_DETAILS, &vols, &nvols, &err), 0);
    assert_int_equal(nvols, 1);
    assert_string_equal(vols[0].def.name, "v");
    assert_string_equal(vols[0].type, "file");
    assert_int_equal(vols[0].def.capacity, 4 * MiB);
    vdisk_store_vol_rows_free(vols, nvols);
    vdisk_store_pool *none = NULL;
    assert_int_equal(s->ops->pool_lookup(s, "nopool", &none, &err), -ENOENT);
    assert_null(none);
    s->ops->pool_free(p);
    s->ops->pool_free(q);
    s->ops->close(s);
}

static void
test_pool_life_cycle(void **state)
{
    vdisk_store *s = open_store();
    vdisk_store_pool *q = NULL;
    vdisk_error err = { 0 };
    assert_int_equal(s->ops->pool_lookup(s, "q", &q, &err), 0);
    assert_int_equal(s->ops->pool_set_autostart(q, true, &err), 0);
    assert_int_equal(s->ops->pool_refresh(q, &err), 0);
    assert_int_equal(s->ops->pool_undefine(q, &err), -EBUSY);     /* still active */
    assert_int_equal(s->ops->pool_destroy(q, &err), 0);
    assert_int_equal(s->ops->pool_delete(q, &err), 0);
    struct stat st;
    assert_int_equal(stat(unit_path(0, "q"), &st), -1);
    /* --build on start makes the directory again. */
    assert_int_equal(s->ops->pool_start(q, VDISK_STORE_POOL_BUILD, &err), 0);
    assert_int_equal(stat(unit_path(0, "q"), &st), 0);
    assert_int_equal(s->ops->pool_destroy(q, &err), 0);
    assert_int_equal(s->ops->pool_undefine(q, &err), 0);
    s->ops->pool_free(q);
    assert_int_equal(s->ops->pool_lookup(s, "q", &q, &err), -ENOENT);
    s->ops->close(s);
}

static void
test_secrets(void **state)
{
    static const char xml[] = "<secret ephemeral='no' private='yes'>"
                              "<uuid>0a81f5b2-8403-7b23-c8d6-21ccc2f80d6f</uuid>"
                              "<usage type='volume'><volume>/srv/v.img</volume></usage></secret>";
    vdisk_store *s = open_store();
    unsigned char uuid[16];
    vdisk_store_define_step step;
    vdisk_error err = { 0 };
    assert_int_equal(s->ops->secret_define(s, xml, strlen(xml), "s.xml", false, uuid, &step, &err), 0);
    assert_int_equal(uuid[0], 0x0a);
    assert_int_equal(uuid[15], 0x6f);
    assert_int_equal(s->ops->secret_define(s, "<secret", 7, "bad.xml", false, uuid, &step, &err), -EINVAL);
    assert_int_equal(step, VDISK_STORE_DEFINE_FROM);
    vdisk_secret_def *defs;
    size_t n;
    assert_int_equal(s->ops->secret_list(s, &defs, &n, &err), 0);
    assert_int_equal(n, 1);
    assert_string_equal(defs[0].usage_id, "/srv/v.img");
    vdisk_secret_defs_free(defs, n);
    vdisk_store_secret *a = NULL, *b = NULL;
    assert_int_equal(s->ops->secret_lookup(s, "/srv/v.img", &a, &err), 0);     /* by usage */
    assert_int_equal(s->ops->secret_lookup(s, "0a81f5b2-8403-7b23-c8d6-21ccc2f80d6f", &b, &err), 0);
    assert_memory_equal(a->uuid, b->uuid, 16);
    assert_int_equal(s->ops->secret_set_value(a, "k3y", 3, &err), 0);
    assert_int_equal(s->ops->secret_undefine(b, &err), 0);
    s->ops->secret_free(a), s->ops->secret_free(b);
    assert_int_equal(s->ops->secret_lookup(s, "/srv/v.img", &a, &err), -ENOENT);
    assert_null(a);
    s->ops->close(s);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_lookup_by_name_path_and_steps, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_definition_and_strings, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_resize_delta_and_shrink, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_wipe_names_and_delete, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_pool_list_filters_and_info, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_pool_life_cycle, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_secrets, unit_setup, unit_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
