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

#include <vdisk/check.h>
#include <vdisk/vdisk.h>

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

void
unit_tmpname(char *buf, size_t len, const char *name)
{
#ifdef VDISK_TEST_TMPDIR
    const char *dir = VDISK_TEST_TMPDIR;
#else
    const char *dir = "/tmp";
#endif
    snprintf(buf, len, "%s/%s-%d-%s", dir, program_invocation_short_name, (int)getpid(), name);
}

vdisk_image *
unit_make_qcow2(const char *path, const char *opts, uint64_t size, unsigned flags)
{
    vdisk_create_opts o;
    vdisk_error err;
    vdisk_create_opts_init(&o, VDISK_FORMAT_QCOW2);
    o.size = size;
    if (opts && *opts)
        assert_int_equal(vdisk_create_opts_parse(&o, opts, &err), 0);
    int r = vdisk_create(path, &o, NULL, NULL, &err);
    vdisk_create_opts_clear(&o);
    if (r < 0)
        fail_msg("create %s: %s", path, err.message);
    vdisk_open_opts oo = { .format = VDISK_FORMAT_QCOW2, .flags = flags };
    vdisk_image *img;
    r = vdisk_open(path, &oo, &img, &err);
    if (r < 0)
        fail_msg("open %s: %s", path, err.message);
    return img;
}

void
unit_fill(uint8_t *b, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++)
        b[i] = (uint8_t)((i * 131 + seed * 7 + (i >> 9)) ^ seed);
}

void
unit_assert_clean(struct vdisk_image *img)
{
    vdisk_check_result res;
    vdisk_error err;
    assert_int_equal(vdisk_check(img, 0, &res, NULL, NULL, NULL, &err), 0);
    assert_int_equal(res.corruptions, 0);
    assert_int_equal(res.leaks, 0);
}
