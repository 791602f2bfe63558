/* Unit tests for core/library-load.c: a library opened on first use fills
 * its table of functions; a missing library or symbol fails with the
 * dynamic loader's reason, and later calls give the first result without
 * trying again.  zlib (libz.so.1, which libvdisk links anyway) is the
 * library; its own zlibVersion() is the oracle for the resolved pointer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include <zlib.h>

#include <vdisk-private/library-load.h>

#include "fixture.h"

typedef struct zlib_table {
    const char *(*zlibVersion)(void);
    unsigned long (*crc32)(unsigned long, const unsigned char *, unsigned);
} zlib_table;

static void
test_loads_and_resolves(void **state)
{
    (void)state;
    static zlib_table t;
    static const vdisk_library_symbol syms[] = {
        VDISK_LIBRARY_SYMBOL(zlib_table, zlibVersion)
        VDISK_LIBRARY_SYMBOL(zlib_table, crc32)
    };
    static vdisk_library lib = VDISK_LIBRARY_INIT("libz.so.1", syms, &t);

    assert_int_equal(lib.nsymbols, 2);
    assert_int_equal(vdisk_library_load(&lib), 0);
    assert_non_null(t.zlibVersion);
    assert_string_equal(t.zlibVersion(), zlibVersion());
    assert_int_equal(t.crc32(0, (const unsigned char *)"abc", 3),
                     crc32(0, (const unsigned char *)"abc", 3));
    /* once: a second call changes nothing */
    assert_int_equal(vdisk_library_load(&lib), 0);
}

static void
test_missing_library(void **state)
{
    (void)state;
    static zlib_table t;
    static const vdisk_library_symbol syms[] = { VDISK_LIBRARY_SYMBOL(zlib_table, zlibVersion) };
    static vdisk_library lib = VDISK_LIBRARY_INIT("libvdisk-no-such-library.so.7", syms, &t);

    assert_int_equal(vdisk_library_load(&lib), -1);
    assert_non_null(strstr(lib.why, "libvdisk-no-such-library.so.7"));
    assert_null(t.zlibVersion);
    assert_int_equal(vdisk_library_load(&lib), -1);
}

typedef struct bad_table {
    const char *(*zlibVersion)(void);
    void (*vdisk_no_such_function)(void);
} bad_table;

static void
test_missing_symbol(void **state)
{
    (void)state;
    static bad_table t;
    static const vdisk_library_symbol syms[] = {
        VDISK_LIBRARY_SYMBOL(bad_table, zlibVersion)
        VDISK_LIBRARY_SYMBOL(bad_table, vdisk_no_such_function)
    };
    static vdisk_library lib = VDISK_LIBRARY_INIT("libz.so.1", syms, &t);

    assert_int_equal(vdisk_library_load(&lib), -1);
    assert_non_null(strstr(lib.why, "vdisk_no_such_function"));
    /* the first result stays, whatever is tried later */
    lib.nsymbols = 1;
    assert_int_equal(vdisk_library_load(&lib), -1);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_loads_and_resolves),
        cmocka_unit_test(test_missing_library),
        cmocka_unit_test(test_missing_symbol),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
