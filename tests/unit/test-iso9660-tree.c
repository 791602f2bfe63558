/* Unit tests for core/iso9660/tree.c: sources -> the writer tree. */
#include <errno.h>
#include <fcntl.h>
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

#include "fixture.h"
#include "iso-fixture.h"
#include "iso9660/build.h"

static iso_node *
kid(const iso_node *d, const char *name)
{
    for (size_t i = 0; i < d->n_kids; i++)
        if (strcmp(d->kids[i]->name, name) == 0)
            return d->kids[i];
    return NULL;
}

static void
test_sources_and_modes(void **state)
{
    const char *src = iso_fix_tree();
    char file[700], fifo[700];
    snprintf(file, sizeof(file), "%s/user-data", src);
    snprintf(fifo, sizeof(fifo), "%s/fifo", src);
    assert_int_equal(mkfifo(fifo, 0644), 0);
    iso_tree t = { .now = 1700000000 };
    vdisk_iso_create_opts_init(&t.opts);
    t.opts.fixed_date = true;
    t.opts.date = 1700000000;
    vdisk_iso_source s[] = { { src, NULL }, { file, "/renamed/ud" }, { src, "/copy/" }, { file, "/into/" } };
    vdisk_error err;
    assert_int_equal(iso_tree_build(&t, s, 4, &err), 0);
    iso_node *r = t.root;
    assert_null(kid(r, "fifo"));   /* fifos are skipped */
    iso_node *run = kid(r, "run.sh");
    assert_non_null(run);
    assert_int_equal(run->mode, S_IFREG | 0555);
    assert_int_equal(kid(r, "user-data")->mode, S_IFREG | 0444);
    assert_int_equal(kid(r, "user-data")->size, 14);
    assert_int_equal(kid(r, "user-data")->mtime, 1700000000);
    iso_node *sub = kid(r, "sub");
    assert_int_equal(sub->mode, S_IFDIR | 0555);
    assert_string_equal(kid(sub, "link")->link, "../user-data");
    assert_non_null(kid(kid(r, "renamed"), "ud"));
    assert_non_null(kid(kid(kid(r, "copy"), "sub"), "inner"));
    assert_non_null(kid(kid(r, "into"), "user-data"));
    iso_tree_free(&t);
}

static void
test_conflicts_and_errors(void **state)
{
    const char *src = iso_fix_tree();
    char file[700];
    snprintf(file, sizeof(file), "%s/user-data", src);
    iso_tree t = { .now = 1 };
    vdisk_iso_create_opts_init(&t.opts);
    vdisk_iso_source s[] = { { src, NULL }, { file, NULL } };
    vdisk_error err;
    assert_int_equal(iso_tree_build(&t, s, 2, &err), -EEXIST);
    assert_non_null(strstr(err.message, "user-data"));
    iso_tree_free(&t);
    vdisk_iso_source m = { unit_path(1, "missing"), NULL };
    assert_int_equal(iso_tree_build(&t, &m, 1, &err), -ENOENT);
    assert_non_null(strstr(err.message, "missing"));
    iso_tree_free(&t);
    vdisk_iso_source bad = { file, "/a/../b" };
    assert_int_equal(iso_tree_build(&t, &bad, 1, &err), -EINVAL);
    iso_tree_free(&t);
    /* A directory source merges with an existing directory. */
    vdisk_iso_source twice[] = { { src, "/x" }, { src, "/x" } };
    assert_int_equal(iso_tree_build(&t, twice, 2, &err), -EEXIST);
    iso_tree_free(&t);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_sources_and_modes, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_conflicts_and_errors, unit_setup, unit_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
