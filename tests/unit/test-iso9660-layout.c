/* Unit tests for core/iso9660/layout.c: identifiers and addresses. */
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

static void
check_dir(const iso_tree *t, const iso_node *d, uint64_t *data_end)
{
    assert_int_equal(d->dir_size % ISO_SECTOR, 0);
    assert_true(d->lba >= t->l_path_lba);
    assert_true(d->lba < t->meta_sectors);
    for (size_t i = 0; i < d->n_kids; i++) {
        const iso_node *k = d->kids[i];
        if (i > 0) {
            assert_true(strcmp(d->kids[i - 1]->iso_id, k->iso_id) < 0);   /* sorted, unique */
            const iso_node *a = d->jkids[i - 1], *b = d->jkids[i];
            assert_false(a->joliet_len == b->joliet_len && memcmp(a->joliet_id, b->joliet_id, a->joliet_len) == 0);
        }
        if (iso_node_is_dir(k))
            check_dir(t, k, data_end);
        else if (iso_node_is_reg(k) && k->size) {
            assert_true(k->lba >= t->meta_sectors);
            assert_true((uint64_t)k->lba * ISO_SECTOR >= *data_end);   /* no overlap, tree order */
            *data_end = (uint64_t)k->lba * ISO_SECTOR + k->size;
        }
    }
}

static void
test_layout(void **state)
{
    const char *src = iso_fix_tree();
    /* Colliding 8.3 names and a name that needs a continuation area. */
    iso_fix_file(src, "collide-aaaa.txt", "1", 1);
    iso_fix_file(src, "collide-aaab.txt", "2", 1);
    char longname[260];
    memset(longname, 'q', 240);
    longname[240] = '\0';
    iso_fix_file(src, longname, "3", 1);
    /* Joliet keeps 64 characters: these collide there, and sort first. */
    char j1[80], j2[80];
    memset(j1, 'a', 70);
    memcpy(j2, j1, 70);
    strcpy(j1 + 70, "-1");
    strcpy(j2 + 70, "-2");
    iso_fix_file(src, j1, "4", 1);
    iso_fix_file(src, j2, "5", 1);
    iso_tree t = { .now = 1700000000 };
    vdisk_iso_create_opts_init(&t.opts);
    vdisk_iso_source s = { src, NULL };
    vdisk_error err;
    assert_int_equal(iso_tree_build(&t, &s, 1, &err), 0);
    assert_int_equal(iso_layout(&t, &err), 0);
    assert_int_equal(t.n_dirs, 3);   /* /, /sub, /sub/inner: breadth first */
    assert_ptr_equal(t.dirs[0], t.root);
    assert_string_equal(t.dirs[1]->name, "sub");
    assert_string_equal(t.dirs[2]->name, "inner");
    assert_int_equal(t.dirs[2]->dir_number, 3);
    assert_int_equal(t.root->nlink, 3);
    assert_int_equal(t.path_table_size, 10 + 12 + 14);   /* root, SUB, INNER */
    assert_true(t.ce_sectors >= 1);
    int long_ce = 0;
    for (size_t i = 0; i < t.root->n_kids; i++)
        if (strlen(t.root->kids[i]->name) == 240) {
            long_ce = 1;
            assert_true(t.root->kids[i]->su_ce.len > 240);
            assert_int_equal(t.root->kids[i]->su.len, 62);
        }
    assert_true(long_ce);
    for (size_t i = 0; i < t.root->n_kids; i++)
        assert_non_null(t.root->jkids[i]);   /* every child named in both trees */
    uint64_t end = 0;
    check_dir(&t, t.root, &end);
    assert_int_equal(t.space_size, (end + ISO_SECTOR - 1) / ISO_SECTOR);
    iso_tree_free(&t);
}

static void
test_multi_extent_records(void **state)
{
    iso_node n = { .mode = S_IFREG | 0444, .size = 0 };
    assert_int_equal(iso_node_records(&n), 1);
    n.size = ISO_EXTENT_MAX;
    assert_int_equal(iso_node_records(&n), 1);
    n.size = (uint64_t)ISO_EXTENT_MAX + 1;
    assert_int_equal(iso_node_records(&n), 2);
    n.size = 10ull << 30;
    assert_int_equal(iso_node_records(&n), 3);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_layout, unit_setup, unit_teardown),
        cmocka_unit_test(test_multi_extent_records),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
