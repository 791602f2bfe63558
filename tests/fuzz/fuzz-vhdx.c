/* libFuzzer target: the VHDX parsers.
 *
 * A VHDX file is mostly zeros between structures at MiB offsets, so an
 * input is not the file itself but its 4 KiB windows at the offsets that
 * matter (file identifier, both headers, both region tables, the start of
 * the log, of the BAT and its entry 4096 (the sector bitmap of the first
 * chunk with 1 MiB blocks), of the metadata table and items, two payload
 * blocks) laid into an 8 MiB sparse file: a 56 KiB input reaches every
 * structure, and mutations land in them.  make-corpus.sh cuts its seeds the
 * same way from real images (qemu-img's layout for a 1 MiB log puts the
 * BAT and the metadata exactly there).
 *
 * The file is opened as vhdx (named, not probed) without
 * its parent: first read-only, queried as `info`, `map` and `convert`
 * would (info with the parent locator's path, a block-status walk, reads);
 * then read-only with the check flag and checked; then writable, which
 * replays a log the input carries, followed by a few writes, a zeroing and
 * a flush that commits the BAT through the log, and the close.  Files are
 * capped at 256 MiB: a replay that would grow one further fails as on a
 * full disk.  Last, the same file is written as child.vhdx into a private
 * directory that holds parent.vhdx, a dynamic VHDX with data whose
 * DataWriteGuid is 11111111-1111-1111-1111-111111111111 (the
 * parent_linkage of make-corpus.sh's differencing seed), and opened with
 * its parent (only files of that directory: a backing policy refuses the
 * rest) and read through.  Errors are the expected outcome for most inputs; crashes,
 * leaks and undefined behaviour are what the sanitizers report.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vdisk/vdisk.h>

#include "fuzz-image.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define WINDOW 4096u
#define FILE_SIZE (8u << 20)

static const uint32_t windows[] = {
    0, 64u << 10, 128u << 10, 192u << 10, 256u << 10,          /* header section */
    1u << 20, (1u << 20) + 4096, (1u << 20) + 8192,            /* log */
    2u << 20, (2u << 20) + (32u << 10),                        /* BAT, its entry 4096 */
    3u << 20, (3u << 20) + (64u << 10),                        /* metadata */
    4u << 20, 5u << 20,                                        /* payload */
};

/* The windows of the input laid out in a sparse file (fd, or a new
 * in-memory file when fd is -1); its fd or -1. */
static int
windowed_file(int fd, const uint8_t *data, size_t size)
{
    if (fd < 0)
        fd = fuzz_input_file("fuzz-vhdx", NULL, 0);
    if (fd < 0)
        return -1;
    if (ftruncate(fd, 0) < 0 || ftruncate(fd, FILE_SIZE) < 0) {
        close(fd);
        return -1;
    }
    for (size_t i = 0; i < sizeof(windows) / sizeof(windows[0]) && size; i++) {
        size_t n = size < WINDOW ? size : WINDOW;
        if (pwrite(fd, data, n, windows[i]) != (ssize_t)n) {
            close(fd);
            return -1;
        }
        data += n;
        size -= n;
    }
    return fd;
}

/* CRC-32C (Castagnoli, reflected), as the VHDX headers carry it. */
static uint32_t
crc32c(const uint8_t *p, size_t n)
{
    uint32_t c = 0xFFFFFFFFu;
    while (n--) {
        c ^= *p++;
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (0x82F63B78u & (0u - (c & 1)));
    }
    return ~c;
}

/* Set the DataWriteGuid of both headers (64 and 128 KiB) to 0x11 * 16. */
static int
set_data_write_guid(const char *path)
{
    int fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int r = 0;
    for (off_t at = 64 << 10; at <= 128 << 10 && r == 0; at += 64 << 10) {
        uint8_t h[4096];
        if (pread(fd, h, sizeof(h), at) != (ssize_t)sizeof(h)) {
            r = -1;
            break;
        }
        memset(h + 32, 0x11, 16);
        memset(h + 4, 0, 4);
        uint32_t c = crc32c(h, sizeof(h));
        uint8_t le[4] = { (uint8_t)c, (uint8_t)(c >> 8), (uint8_t)(c >> 16), (uint8_t)(c >> 24) };
        memcpy(h + 4, le, 4);
        if (pwrite(fd, h, sizeof(h), at) != (ssize_t)sizeof(h))
            r = -1;
    }
    close(fd);
    return r;
}

/* The private directory with parent.vhdx, made once; NULL if it cannot be. */
static const char *
parent_dir(void)
{
    static int state;   /* 0 not tried, 1 ready, -1 failed */
    const char *dir = fuzz_workdir("fuzz-vhdx");
    if (state || !dir[0])
        return state > 0 ? dir : NULL;
    state = -1;
    char p[128];
    snprintf(p, sizeof(p), "%s/parent.vhdx", dir);
    vdisk_create_opts o;
    vdisk_create_opts_init(&o, VDISK_FORMAT_VHDX);
    o.size = 2u << 20;
    o.vhdx.block_size = 1u << 20;
    static const uint64_t at[] = { 0, (1u << 20) + 4096 };
    if (fuzz_make_parent(p, &o, 64u << 10, at, 2) < 0 || set_data_write_guid(p) < 0)
        return NULL;
    state = 1;
    return dir;
}

static void
open_with_parent(const uint8_t *data, size_t size)
{
    const char *dir = parent_dir();
    if (!dir)
        return;
    char p[128];
    snprintf(p, sizeof(p), "%s/child.vhdx", dir);
    int fd = open(p, O_CREAT | O_RDWR | O_CLOEXEC, 0600);
    if (fd < 0)
        return;
    fd = windowed_file(fd, data, size);
    if (fd < 0)
        return;
    close(fd);
    fuzz_open_chain(p, VDISK_FORMAT_VHDX, dir, fuzz_exercise);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_limit_file_size(256u << 20);
    int fd = windowed_file(-1, data, size);
    if (fd < 0)
        return 0;
    char path[64];
    snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
    fuzz_open_and(path, VDISK_FORMAT_VHDX, 0, fuzz_exercise);
    fuzz_open_and(path, VDISK_FORMAT_VHDX, VDISK_OPEN_CHECK, fuzz_check);
    fuzz_open_and(path, VDISK_FORMAT_VHDX, VDISK_OPEN_RDWR, fuzz_exercise_write);
    close(fd);
    open_with_parent(data, size);
    return 0;
}
