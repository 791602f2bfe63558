/* Shared by the targets of the read-only foreign format drivers (vdi, qed,
 * parallels): the input opened as one named format (never probed, so every
 * input reaches that parser), without backing files, then queried as
 * `info`, `map`, `convert` and `check` would (the vhdx and vpc targets,
 * whose drivers write, also open it writable: fuzz_exercise_write).  Errors are the expected
 * outcome for most inputs; crashes, leaks, undefined behaviour and huge
 * allocations are what the sanitizers report. */
#ifndef VDISK_FUZZ_IMAGE_H
#define VDISK_FUZZ_IMAGE_H

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <vdisk/vdisk.h>

#include "fuzz-input.h"

#define FUZZ_MAX_EXTENTS 32          /* block-status calls per input */
#define FUZZ_MAX_READ (64u * 1024)   /* bytes per read */
#define FUZZ_MAX_READS 4

static inline void
fuzz_read_at(vdisk_image *img, uint8_t *buf, uint64_t off, uint64_t size)
{
    vdisk_error err;
    if (off >= size)
        return;
    uint64_t len = size - off < FUZZ_MAX_READ ? size - off : FUZZ_MAX_READ;
    (void)vdisk_pread(img, buf, len, off, &err);
}

/* info, a walk of block status with reads of data extents, the middle and
 * the end of the disk. */
static inline void
fuzz_exercise(vdisk_image *img)
{
    static uint8_t buf[FUZZ_MAX_READ];
    vdisk_error err;
    vdisk_info info;
    if (vdisk_get_info(img, &info, &err) == 0)
        vdisk_info_clear(&info);
    uint64_t size = vdisk_get_size(img), off = 0;
    int reads = 0;
    for (int i = 0; i < FUZZ_MAX_EXTENTS && off < size; i++) {
        vdisk_extent ext;
        if (vdisk_block_status(img, off, size - off, &ext, &err) < 0 || ext.length == 0)
            break;
        if (ext.length > size - off)   /* the API promises otherwise */
            abort();
        if ((ext.flags & VDISK_EXTENT_DATA) && reads++ < FUZZ_MAX_READS)
            fuzz_read_at(img, buf, off, size);
        off += ext.length;
    }
    if (size == 0)
        return;
    vdisk_extent ext;
    (void)vdisk_block_status(img, size / 2, size - size / 2, &ext, &err);
    fuzz_read_at(img, buf, size / 2, size);
    fuzz_read_at(img, buf, size > FUZZ_MAX_READ ? size - FUZZ_MAX_READ : 0, size);
}

static void
fuzz_ignore_line(void *opaque, const char *line)
{
    (void)opaque, (void)line;
}

/* Writes into an opened writable image (a third of the way in, at the end,
 * a zeroing in the middle), a flush, then the read exercise. */
static inline void
fuzz_exercise_write(vdisk_image *img)
{
    static uint8_t buf[8192];
    vdisk_error err;
    uint64_t size = vdisk_get_size(img);
    memset(buf, 0x5a, sizeof(buf));
    if (size >= sizeof(buf)) {
        (void)vdisk_pwrite(img, buf, sizeof(buf), size / 3 / 512 * 512, &err);
        (void)vdisk_pwrite(img, buf, sizeof(buf), size - sizeof(buf), &err);
        (void)vdisk_write_zeroes(img, 4096, size / 2 / 512 * 512, VDISK_ZERO_MAY_UNMAP, &err);
    }
    (void)vdisk_flush(img, &err);
    fuzz_exercise(img);
}

/* `check` of an image opened with VDISK_OPEN_CHECK, its report dropped. */
static inline void
fuzz_check(vdisk_image *img)
{
    vdisk_check_result res;
    vdisk_error err;
    (void)vdisk_check(img, 0, &res, fuzz_ignore_line, NULL, NULL, &err);
}

/* Open path as fmt (named, never probed; no backing files) with flags and,
 * if it opens, run fn on it and close it. */
static inline void
fuzz_open_and(const char *path, vdisk_format fmt, unsigned flags, void (*fn)(vdisk_image *))
{
    vdisk_open_opts opts = { .format = fmt, .flags = flags | VDISK_OPEN_NO_BACKING };
    vdisk_image *img = NULL;
    vdisk_error err;
    if (vdisk_open(path, &opts, &img, &err) == 0) {
        fn(img);
        vdisk_close(img, &err);
    }
}

/* Open the input as fmt: once for reading, once as `check` opens it. */
static inline int
fuzz_image(const char *name, vdisk_format fmt, const uint8_t *data, size_t size)
{
    int fd = fuzz_input_file(name, data, size);
    if (fd < 0)
        return 0;
    char path[64];
    snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
    fuzz_open_and(path, fmt, 0, fuzz_exercise);
    fuzz_open_and(path, fmt, VDISK_OPEN_CHECK, fuzz_check);
    close(fd);
    return 0;
}

static char fuzz_workdir_path[64];

static int
fuzz_workdir_unlink(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

/* The private directory and what the target left in it, at exit. */
static void
fuzz_workdir_remove(void)
{
    if (fuzz_workdir_path[0])
        (void)nftw(fuzz_workdir_path, fuzz_workdir_unlink, 8, FTW_DEPTH | FTW_PHYS);
}

/* A private directory for a target whose inputs name other files (a
 * differencing image's parent): made once, removed at exit; "" when it
 * cannot be made. */
static inline const char *
fuzz_workdir(const char *tag)
{
    if (!fuzz_workdir_path[0]) {
        snprintf(fuzz_workdir_path, sizeof(fuzz_workdir_path), "/tmp/%s-XXXXXX", tag);
        if (mkdtemp(fuzz_workdir_path))
            atexit(fuzz_workdir_remove);
        else
            fuzz_workdir_path[0] = '\0';
    }
    return fuzz_workdir_path;
}

/* Write data to path (created or replaced); 0 or -1. */
static inline int
fuzz_write_file(const char *path, const uint8_t *data, size_t size)
{
    int fd = open(path, O_CREAT | O_WRONLY | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return -1;
    int ok = size == 0 || write(fd, data, size) == (ssize_t)size;
    close(fd);
    return ok ? 0 : -1;
}

/* A parent image for the differencing targets: path created as o says,
 * len bytes of 0x70 written at each of the n offsets, closed.  0 or -1. */
static inline int
fuzz_make_parent(const char *path, const vdisk_create_opts *o, size_t len, const uint64_t *offsets,
                 size_t n)
{
    vdisk_open_opts rw = { .format = o->format, .flags = VDISK_OPEN_RDWR };
    vdisk_image *img = NULL;
    vdisk_error err;
    uint8_t *buf = malloc(len);
    int r = buf ? 0 : -1;
    if (r == 0)
        memset(buf, 0x70, len);
    if (r == 0 && (vdisk_create(path, o, NULL, NULL, &err) < 0 || vdisk_open(path, &rw, &img, &err) < 0))
        r = -1;
    for (size_t i = 0; r == 0 && i < n; i++)
        r = vdisk_pwrite(img, buf, len, offsets[i], &err);
    if (img && vdisk_close(img, &err) < 0)
        r = -1;
    free(buf);
    return r < 0 ? -1 : 0;
}

/* The backing policy of fuzz_open_chain: an input names any path it likes,
 * but only files of the private directory (opaque) are opened. */
static int
fuzz_policy_check(void *opaque, const char *overlay, const char *backing, vdisk_format *fmt,
                  vdisk_error *err)
{
    const char *dir = opaque;
    size_t n = strlen(dir);
    (void)overlay, (void)fmt;
    if (strncmp(backing, dir, n) != 0 || backing[n] != '/' || strstr(backing + n, "/.."))
        return vdisk_error_set(err, EPERM, "%s: outside the fuzzing directory", backing);
    return 0;
}

/* Open path as fmt with its backing chain, restricted to the files of dir,
 * and run fn on it. */
static inline void
fuzz_open_chain(const char *path, vdisk_format fmt, const char *dir, void (*fn)(vdisk_image *))
{
    static vdisk_backing_policy policy;
    policy = (vdisk_backing_policy){ .check = fuzz_policy_check, .opaque = (void *)dir };
    vdisk_open_opts opts = { .format = fmt, .backing_policy = &policy };
    vdisk_image *img = NULL;
    vdisk_error err;
    if (vdisk_open(path, &opts, &img, &err) == 0) {
        fn(img);
        vdisk_close(img, &err);
    }
}

#endif
