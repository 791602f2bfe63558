/* libFuzzer target: qcow2 check and repair on hostile images — the
 * refcount table and blocks, L1/L2 tables as the check walks them, the
 * snapshot table and its L1 tables, the in-memory refcount rebuild.
 *
 * Each input is an image file in memory.  It is checked read-only, then
 * repaired (-r all) in place, then checked again, as `vdisk-virsh check`
 * would.  Errors are the expected outcome for most inputs; crashes, leaks,
 * undefined behaviour and runaway allocations are what the sanitizers and
 * libFuzzer's limits report.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vdisk/vdisk.h>

#include "fuzz-input.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Repairs may grow the file; keep the in-memory file modest. */
#define MAX_INPUT (4u << 20)
/* A repair may place refcount blocks up to 2^24 clusters out (1 TiB with
 * 64 KiB clusters), as qemu-img does; past this size it fails as on a
 * full disk, which is also a path worth fuzzing, and fast. */
#define MAX_FILE (256u << 20)

/* Every finding is formatted; the text is dropped. */
static void
ignore(void *opaque, const char *line)
{
    (void)opaque;
    (void)line;
}

static void
check_once(const char *path, unsigned fix)
{
    vdisk_open_opts opts = {
        .format = VDISK_FORMAT_QCOW2,
        .flags = VDISK_OPEN_NO_BACKING | VDISK_OPEN_CHECK | (fix ? VDISK_OPEN_RDWR : 0),
    };
    vdisk_image *img = NULL;
    vdisk_error err;
    if (vdisk_open(path, &opts, &img, &err) < 0)
        return;
    vdisk_check_result res;
    (void)vdisk_check(img, fix, &res, ignore, NULL, NULL, &err);
    vdisk_close(img, &err);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > MAX_INPUT)
        return 0;
    /* Here, not in LLVMFuzzerInitialize: libFuzzer installs its own SIGXFSZ
     * handler after that. */
    static bool limited;
    if (!limited) {
        fuzz_limit_file_size(MAX_FILE);
        limited = true;
    }
    int fd = fuzz_input_file("fuzz-qcow2-refcount", data, size);
    if (fd < 0)
        return 0;
    char path[64];
    snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
    check_once(path, 0);
    check_once(path, VDISK_CHECK_FIX_LEAKS | VDISK_CHECK_FIX_ERRORS);
    check_once(path, 0);
    close(fd);
    return 0;
}
