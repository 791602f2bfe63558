/* Unit tests for core/iso9660/walk.c: tree walks and loop detection. */
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

typedef struct seen {
    char paths[32][128];
    int n, stop_at;
} seen;

static int
collect(void *opaque, const char *full, const vdisk_iso_entry *e)
{
    seen *s = opaque;
    if (s->n < 32)
        snprintf(s->paths[s->n], sizeof(s->paths[0]), "%s", full);
    s->n++;
    return s->n == s->stop_at ? 42 : 0;
}

static void
test_walk_order(void **state)
{
    const char *iso = unit_path(0, "w.iso");
    iso_fix_build(iso, iso_fix_tree(), NULL);
    vdisk_iso *h;
    vdisk_error err;
    assert_int_equal(vdisk_iso_open(iso, 0, &h, &err), 0);
    seen s = { 0 };
    assert_int_equal(vdisk_iso_walk(h, "/", collect, &s, &err), 0);
    const char *want[] = { "/", "/empty", "/run.sh", "/sub", "/sub/inner", "/sub/inner/data.bin",
                           "/sub/link", "/user-data" };
    assert_int_equal(s.n, 8);
    for (int i = 0; i < 8; i++)
        assert_string_equal(s.paths[i], want[i]);
    seen t = { .stop_at = 3 };
    assert_int_equal(vdisk_iso_walk(h, "sub/", collect, &t, &err), 42);
    assert_string_equal(t.paths[0], "/sub");
    vdisk_iso_close(h);
}

static void
test_loops_refused(void **state)
{
    /* /A is the root again; /B and /C share one directory. */
    uint8_t recs[256];
    size_t len = 0;
    iso_fix_rec(recs, &len, 18, 2048, ISO_FLAG_DIR, "A", NULL, 0);
    const char *iso = unit_path(0, "loop.iso");
    iso_fix_raw(iso, recs, len, 0);
    vdisk_iso *h;
    vdisk_error err;
    assert_int_equal(vdisk_iso_open(iso, 0, &h, &err), 0);
    seen s = { 0 };
    assert_int_equal(vdisk_iso_walk(h, "/", collect, &s, &err), -ELOOP);
    assert_non_null(strstr(err.message, "loop.iso: /A: directory at sector 18 was reached before"));
    vdisk_iso_close(h);

    len = 0;
    iso_fix_rec(recs, &len, 19, 2048, ISO_FLAG_DIR, "B", NULL, 0);
    iso_fix_rec(recs, &len, 19, 2048, ISO_FLAG_DIR, "C", NULL, 0);
    iso_fix_raw(iso, recs, len, 1);
    uint8_t dir[2048] = { 0 };
    size_t n = iso_dirrec_encode(dir, 19, 2048, ISO_FLAG_DIR, 0, (const uint8_t *)"\0", 1, NULL, 0);
    iso_dirrec_encode(dir + n, 18, 2048, ISO_FLAG_DIR, 0, (const uint8_t *)"\1", 1, NULL, 0);
    int fd = open(iso, O_WRONLY);
    assert_int_equal(pwrite(fd, dir, sizeof(dir), 19 * 2048), 2048);
    close(fd);
    assert_int_equal(vdisk_iso_open(iso, 0, &h, &err), 0);
    assert_int_equal(vdisk_iso_walk(h, "/", collect, &s, &err), -ELOOP);
    assert_non_null(strstr(err.message, "/C"));
    vdisk_iso_close(h);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_walk_order, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_loops_refused, unit_setup, unit_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
