/* Shared fixture of the cmocka unit tests.  See fixture.h. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "fixture.h"

char unit_tmpdir[512];

static int
rm_entry(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
    return remove(p);
}

int
unit_setup(void **state)
{
    const char *base = getenv("VDISK_TEST_TMPDIR");
#ifdef VDISK_TEST_TMPDIR
    if (!base)
        base = VDISK_TEST_TMPDIR;
#endif
    if (!base)
        base = "/tmp";
    snprintf(unit_tmpdir, sizeof(unit_tmpdir), "%s/%s-XXXXXX", base, program_invocation_short_name);
    return mkdtemp(unit_tmpdir) ? 0 : -1;
}

int
unit_teardown(void **state)
{
    return nftw(unit_tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

const char *
unit_path(int slot, const char *name)
{
    static char paths[4][600];
    snprintf(paths[slot], sizeof(paths[slot]), "%s/%s", unit_tmpdir, name);
    return paths[slot];
}

void
unit_write_file(const char *path, uint64_t size, const void *data, size_t len, uint64_t off)
{
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
    assert_true(fd >= 0);
    assert_int_equal(ftruncate(fd, (off_t)size), 0);
    if (len)
        assert_int_equal(pwrite(fd, data, len, (off_t)off), (ssize_t)len);
    close(fd);
}

void
unit_pattern(uint8_t *buf, size_t len, uint32_t seed)
{
    for (size_t i = 0; i < len; i++) {
        seed = seed * 1103515245u + 12345u;
        buf[i] = (uint8_t)(seed >> 16) | 1;
    }
}
