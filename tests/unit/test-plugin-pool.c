/* Unit tests for plugin/pool.c: define, lookup, build, start/stop state,
 * delete, undefine, autostart. */
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

#include <vdisk/pool.h>

#include "fixture.h"
#include "pool-fixture.h"

static vdisk_pool_def
make_def(const char *name, const char *dir)
{
    vdisk_pool_def d;
    memset(&d, 0, sizeof(d));
    d.name = strdup(name);
    d.target_path = strdup(unit_path(2, dir));
    return d;
}

static void
test_define_generates_uuid_and_lookup_by_both(void **state)
{
    vdisk_registry *reg = pf_registry();
    vdisk_pool_def d = make_def("p", "pdir");
    assert_int_equal(vdisk_pool_define(reg, &d, NULL), 0);
    assert_true(d.has_uuid);
    char uuid[VDISK_UUID_STRING_LEN];
    vdisk_uuid_format(d.uuid, uuid);
    vdisk_pool *p;
    assert_int_equal(vdisk_pool_lookup(reg, uuid, &p, NULL), 0);
    assert_string_equal(vdisk_pool_name(p), "p");
    assert_false(vdisk_pool_is_active(p));
    vdisk_pool_free(p);
    /* Redefining keeps the UUID. */
    vdisk_pool_def d2 = make_def("p", "other");
    assert_int_equal(vdisk_pool_define(reg, &d2, NULL), 0);
    assert_memory_equal(d2.uuid, d.uuid, 16);
    assert_int_equal(vdisk_pool_lookup(reg, "p", &p, NULL), 0);
    assert_string_equal(vdisk_pool_path(p), unit_path(0, "other"));
    vdisk_pool_free(p);
    vdisk_pool_def_clear(&d);
    vdisk_pool_def_clear(&d2);
    vdisk_registry_close(reg);
}

static void
test_define_refuses_clashes_and_bad_defs(void **state)
{
    vdisk_registry *reg = pf_registry();
    vdisk_pool_def a = make_def("a", "adir"), b = make_def("b", "bdir");
    assert_int_equal(vdisk_pool_define(reg, &a, NULL), 0);
    memcpy(b.uuid, a.uuid, 16);
    b.has_uuid = true;
    vdisk_error err = { 0 };
    assert_int_equal(vdisk_pool_define(reg, &b, &err), -EEXIST);
    assert_non_null(strstr(err.message, "'a'"));
    free(b.target_path);
    b.target_path = strdup("relative/dir");
    b.has_uuid = false;
    assert_int_equal(vdisk_pool_define(reg, &b, NULL), -EINVAL);
    free(b.name);
    b.name = strdup("../x");
    assert_int_equal(vdisk_pool_define(reg, &b, NULL), -EINVAL);
    vdisk_pool_def_clear(&a);
    vdisk_pool_def_clear(&b);
    vdisk_pool *p;
    err.message[0] = '\0';
    assert_int_equal(vdisk_pool_lookup(reg, "nope", &p, &err), -ENOENT);
    assert_non_null(strstr(err.message, "no storage pool with matching name 'nope'"));
    vdisk_registry_close(reg);
}

static void
test_build_applies_mode_and_start_persists(void **state)
{
    vdisk_registry *reg = pf_registry();
    vdisk_pool_def d = make_def("p", "deep/pdir");
    d.target_perms.has_mode = true;
    d.target_perms.mode = 0750;
    assert_int_equal(vdisk_pool_define(reg, &d, NULL), 0);
    vdisk_pool *p;
    assert_int_equal(vdisk_pool_lookup(reg, "p", &p, NULL), 0);
    assert_int_equal(vdisk_pool_start(p, NULL), -ENOENT);     /* not built yet */
    assert_int_equal(vdisk_pool_build(p, 0, NULL), 0);
    struct stat st;
    assert_int_equal(stat(unit_path(0, "deep/pdir"), &st), 0);
    assert_int_equal(st.st_mode & 07777, 0750);
    assert_int_equal(vdisk_pool_build(p, VDISK_POOL_BUILD_NO_OVERWRITE, NULL), -EEXIST);
    assert_int_equal(vdisk_pool_start(p, NULL), 0);
    assert_int_equal(vdisk_pool_start(p, NULL), -EINVAL);     /* already active */
    vdisk_pool_free(p);
    assert_int_equal(vdisk_pool_lookup(reg, "p", &p, NULL), 0);
    assert_true(vdisk_pool_is_active(p));
    assert_int_equal(vdisk_pool_set_autostart(p, true, NULL), 0);
    vdisk_pool_free(p);
    assert_int_equal(vdisk_pool_lookup(reg, "p", &p, NULL), 0);
    assert_true(vdisk_pool_get_autostart(p));
    assert_true(vdisk_pool_is_active(p));
    vdisk_pool_free(p);
    vdisk_pool_def_clear(&d);
    vdisk_registry_close(reg);
}

static void
test_stop_delete_undefine(void **state)
{
    vdisk_registry *reg = pf_registry();
    vdisk_pool *p = pf_pool(reg, "p", VDISK_ZEROING_LAZY, 0);
    assert_int_equal(vdisk_pool_delete(p, NULL), -EBUSY);
    assert_int_equal(vdisk_pool_undefine(p, NULL), -EBUSY);
    assert_int_equal(vdisk_pool_stop(p, NULL), 0);
    assert_int_equal(vdisk_pool_stop(p, NULL), -EINVAL);
    assert_int_equal(vdisk_pool_dirfd(p, NULL), -EINVAL);      /* inactive */
    assert_int_equal(vdisk_pool_delete(p, NULL), 0);
    struct stat st;
    assert_int_equal(stat(unit_path(0, "p"), &st), -1);
    assert_int_equal(vdisk_pool_undefine(p, NULL), 0);
    vdisk_pool_free(p);
    assert_int_equal(vdisk_pool_lookup(reg, "p", &p, NULL), -ENOENT);
    char **names;
    size_t n;
    assert_int_equal(vdisk_pool_list_names(reg, &names, &n, NULL), 0);
    assert_int_equal(n, 0);
    vdisk_registry_names_free(names, n);
    vdisk_registry_close(reg);
}

static void
test_delete_refuses_non_empty_dir(void **state)
{
    vdisk_registry *reg = pf_registry();
    vdisk_pool *p = pf_pool(reg, "p", VDISK_ZEROING_LAZY, 0);
    unit_write_file(unit_path(0, "p/keep"), 10, NULL, 0, 0);
    assert_int_equal(vdisk_pool_stop(p, NULL), 0);
    vdisk_error err = { 0 };
    assert_int_equal(vdisk_pool_delete(p, &err), -ENOTEMPTY);
    assert_non_null(strstr(err.message, unit_path(0, "p")));
    pf_close(reg, p);
}

/* A pool the libvirt daemon owns: no registry; start/stop follow the
 * owner's state, volumes work, registry-only operations are refused. */
static void
test_unmanaged_pool(void **state)
{
    vdisk_pool_def *def = calloc(1, sizeof(*def));
    def->name = strdup("u");
    def->target_path = strdup(unit_path(2, "u"));
    vdisk_pool *p = NULL;
    vdisk_error err = { 0 };
    assert_int_equal(vdisk_pool_new_unmanaged(def, false, NULL, &p, &err), 0);
    assert_false(vdisk_pool_is_active(p));
    assert_int_equal(vdisk_pool_start(p, &err), -ENOENT);       /* not built yet */
    assert_non_null(strstr(err.message, unit_path(0, "u")));
    assert_int_equal(vdisk_pool_build(p, 0, NULL), 0);
    assert_int_equal(vdisk_pool_start(p, NULL), 0);
    assert_true(vdisk_pool_is_active(p));
    pf_create(p, "v.img", VDISK_FORMAT_RAW, 1 << 20, 0);
    vdisk_vol_def *vols;
    size_t n;
    assert_int_equal(vdisk_pool_refresh(p, &vols, &n, NULL), 0);
    assert_int_equal(n, 1);
    assert_string_equal(vols[0].name, "v.img");
    vdisk_pool_volumes_free(vols, n);
    assert_int_equal(vdisk_pool_set_autostart(p, true, &err), -EPERM);
    assert_non_null(strstr(err.message, "pool 'u': autostart"));
    assert_int_equal(vdisk_pool_undefine(p, NULL), -EPERM);
    assert_int_equal(vdisk_pool_delete(p, NULL), -EBUSY);      /* still active */
    assert_int_equal(vdisk_pool_stop(p, NULL), 0);
    assert_int_equal(vdisk_pool_delete(p, NULL), -ENOTEMPTY);
    assert_int_equal(unlink(unit_path(0, "u/v.img")), 0);
    assert_int_equal(vdisk_pool_delete(p, NULL), 0);
    struct stat st;
    assert_int_equal(stat(unit_path(0, "u"), &st), -1);
    vdisk_pool_free(p);
    /* A relative target path is refused, and the definition freed. */
    def = calloc(1, sizeof(*def));
    def->name = strdup("r");
    def->target_path = strdup("relative/dir");
    assert_int_equal(vdisk_pool_new_unmanaged(def, true, NULL, &p, &err), -EINVAL);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_define_generates_uuid_and_lookup_by_both, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_define_refuses_clashes_and_bad_defs, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_build_applies_mode_and_start_persists, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_stop_delete_undefine, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_delete_refuses_non_empty_dir, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_unmanaged_pool, unit_setup, unit_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
