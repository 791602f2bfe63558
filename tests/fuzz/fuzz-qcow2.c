/* libFuzzer target: the qcow2 header and L1/L2 reader.
 *
 * Each input is an image file.  It is opened read-only as qcow2 (named, not
 * probed, so every input reaches the qcow2 parser) without its backing file,
 * then queried the way `info`, `map` and `convert` would: get_info, a walk of
 * block status, and reads of a few clusters.  An encrypted image (LUKS or
 * legacy AES header) is opened without its passphrase (VDISK_OPEN_NO_KEY):
 * its encryption header is parsed and described, data I/O is refused.  Errors are the expected
 * outcome for most inputs; crashes, leaks and undefined behaviour are what
 * the sanitizers report.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vdisk/vdisk.h>

#include "fuzz-input.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_EXTENTS 16               /* block-status calls per input */
#define MAX_READ (64u * 1024)        /* bytes per read: a cluster or less */
#define MAX_READS 4

/* Read up to MAX_READ bytes at off (clamped to the image). */
static void
read_at(vdisk_image *img, uint8_t *buf, uint64_t off, uint64_t img_size)
{
    vdisk_error err;
    if (off >= img_size)
        return;
    uint64_t len = img_size - off < MAX_READ ? img_size - off : MAX_READ;
    (void)vdisk_pread(img, buf, len, off, &err);
}

static void
exercise(vdisk_image *img)
{
    static uint8_t buf[MAX_READ];
    vdisk_error err;
    vdisk_info info;

    if (vdisk_get_info(img, &info, &err) == 0)
        vdisk_info_clear(&info);

    uint64_t size = vdisk_get_size(img);
    if (size == 0)
        return;

    /* Walk the map from the start, as `map` and `convert` do, and read the
     * head of the first few extents that hold data. */
    uint64_t off = 0;
    int reads = 0;
    for (int i = 0; i < MAX_EXTENTS && off < size; i++) {
        vdisk_extent ext;
        if (vdisk_block_status(img, off, size - off, &ext, &err) < 0 || ext.length == 0)
            break;
        if ((ext.flags & VDISK_EXTENT_DATA) && reads < MAX_READS) {
            read_at(img, buf, off, size);
            reads++;
        }
        if (ext.length > size - off)   /* the API promises otherwise */
            abort();
        off += ext.length;
    }

    /* Probe the middle and the end too: large L1 indexes and the last,
     * possibly partial, cluster. */
    vdisk_extent ext;
    (void)vdisk_block_status(img, size / 2, size - size / 2, &ext, &err);
    read_at(img, buf, size / 2, size);
    uint64_t last = size > MAX_READ ? size - MAX_READ : 0;
    read_at(img, buf, last, size);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int fd = fuzz_input_file("fuzz-qcow2", data, size);
    if (fd < 0)
        return 0;

    char path[64];
    snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);

    vdisk_open_opts opts = {
        .format = VDISK_FORMAT_QCOW2,
        .flags = VDISK_OPEN_NO_BACKING,
    };
    vdisk_image *img = NULL;
    vdisk_error err;
    int r = vdisk_open(path, &opts, &img, &err);
    if (r == -EACCES) {
        opts.flags |= VDISK_OPEN_NO_KEY;
        r = vdisk_open(path, &opts, &img, &err);
    }
    if (r == 0) {
        exercise(img);
        vdisk_close(img, &err);
    }
    close(fd);
    return 0;
}
