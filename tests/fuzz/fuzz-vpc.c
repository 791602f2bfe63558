/* libFuzzer target: the VHD (vpc) parsers.
 *
 * Each input is an image file, opened as vpc (named, not probed, so a
 * fixed disk's footer at the end is found too) without its parent: first
 * read-only, queried as `info` (with the parent locators' paths), `map` and
 * `convert` would; then writable, with a few writes that allocate blocks
 * (moving the footer), a zeroing and a flush.  Files are capped at 256 MiB.
 * Then the input is written as child.vhd into a private directory that
 * holds parent.vhd, a dynamic VHD with data whose unique id is
 * 11111111-1111-1111-1111-111111111111 (what make-corpus.sh's
 * differencing seed names), and opened with its parent (only files of
 * that directory: a backing policy refuses the rest) and read through.
 * Errors are the expected outcome for most inputs; crashes, leaks and
 * undefined behaviour are what the sanitizers report.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vdisk/vdisk.h>

#include "fuzz-image.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define PARENT_SIZE (64u << 10)

/* Give the VHD at path the unique id 0x11 * 16: both footer copies (the
 * head of a dynamic disk and its last sector), checksums recomputed (the
 * ones' complement of the byte sum, the checksum field left out). */
static int
set_uuid(const char *path)
{
    int fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0)
        return -1;
    off_t end = lseek(fd, 0, SEEK_END);
    int r = 0;
    for (off_t at = 0; r == 0; at = end - 512) {
        uint8_t f[512];
        if (pread(fd, f, sizeof(f), at) != (ssize_t)sizeof(f)) {
            r = -1;
            break;
        }
        memset(f + 68, 0x11, 16);
        memset(f + 64, 0, 4);
        uint32_t sum = 0;
        for (size_t i = 0; i < sizeof(f); i++)
            sum += f[i];
        sum = ~sum;
        uint8_t be[4] = { (uint8_t)(sum >> 24), (uint8_t)(sum >> 16), (uint8_t)(sum >> 8), (uint8_t)sum };
        memcpy(f + 64, be, 4);
        if (pwrite(fd, f, sizeof(f), at) != (ssize_t)sizeof(f))
            r = -1;
        if (at == end - 512)
            break;
    }
    close(fd);
    return r;
}

/* The private directory with parent.vhd, made once; NULL if it cannot be. */
static const char *
parent_dir(void)
{
    static int state;   /* 0 not tried, 1 ready, -1 failed */
    const char *dir = fuzz_workdir("fuzz-vpc");
    if (state || !dir[0])
        return state > 0 ? dir : NULL;
    state = -1;
    char p[128];
    snprintf(p, sizeof(p), "%s/parent.vhd", dir);
    vdisk_create_opts o;
    vdisk_create_opts_init(&o, VDISK_FORMAT_VPC);
    o.size = PARENT_SIZE;
    o.vpc.force_size = true;
    static const uint64_t at[] = { 0 };
    if (fuzz_make_parent(p, &o, PARENT_SIZE, at, 1) < 0 || set_uuid(p) < 0)
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
    snprintf(p, sizeof(p), "%s/child.vhd", dir);
    if (fuzz_write_file(p, data, size) == 0)
        fuzz_open_chain(p, VDISK_FORMAT_VPC, dir, fuzz_exercise);
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_limit_file_size(256u << 20);
    int fd = fuzz_input_file("fuzz-vpc", data, size);
    if (fd < 0)
        return 0;
    char path[64];
    snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
    fuzz_open_and(path, VDISK_FORMAT_VPC, 0, fuzz_exercise);
    fuzz_open_and(path, VDISK_FORMAT_VPC, VDISK_OPEN_RDWR, fuzz_exercise_write);
    close(fd);
    open_with_parent(data, size);
    return 0;
}
