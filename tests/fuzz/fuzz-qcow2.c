/* libFuzzer target: the qcow2 header and L1/L2 reader.
 *
 * Each input is an image file.  It is opened read-only as qcow2 (named, not
 * probed, so every input reaches the qcow2 parser) without its backing file,
 * then queried the way `info`, `map` and `convert` would: get_info, a walk of
 * block status, and reads of a few clusters.  An encrypted image (LUKS or
 * legacy AES header) is opened with the passphrase the seeds use ("fuzz",
 * tests/fuzz/make-corpus.sh), and when that fails without it
 * (VDISK_OPEN_NO_KEY): its encryption header is parsed and described, data
 * I/O is refused.  Then the input (a copy in memory) is opened for writing,
 * with the passphrase, and written as a guest and `convert -c` would: a
 * write of part of a cluster, whole clusters far apart (refcount blocks and
 * L2 tables allocated, the refcount table grown), two compressed clusters,
 * zeroes, a discard, a flush, grows with preallocated metadata and data
 * and a shrink, a key slot added and erased (encrypted images), and the
 * close.  Last, the input is opened with its backing file from a private
 * directory holding base.qcow2 (the name the backing seed carries), and
 * read through.  Files are capped at 256 MiB.
 * Errors are the expected outcome for most inputs; crashes, leaks and
 * undefined behaviour are what the sanitizers report.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vdisk/keyslot.h>
#include <vdisk/resize.h>
#include <vdisk/vdisk.h>

#include "fuzz-image.h"
#include "fuzz-keyslot.h"

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

/* Guest writes on an image opened read-write: each may fail on a hostile
 * image, none may crash or corrupt memory. */
static void
exercise_write(vdisk_image *img)
{
    static uint8_t buf[MAX_READ];
    vdisk_error err;
    uint64_t size = vdisk_get_size(img);
    uint64_t cs = vdisk_get_cluster_size(img);
    if (size < 4096 || cs == 0 || cs > MAX_READ)
        return;
    memset(buf, 0x5a, sizeof(buf));
    (void)vdisk_pwrite(img, buf, 700, 1000, &err);              /* part of a cluster */
    (void)vdisk_pwrite(img, buf, cs, size / 3 / cs * cs, &err);  /* a new cluster */
    (void)vdisk_pwrite(img, buf, 4096, size - 4096, &err);      /* the end */
    if (size >= 4 * sizeof(buf))                                 /* many clusters */
        (void)vdisk_pwrite(img, buf, sizeof(buf), size / 4 / cs * cs, &err);
    if (size / cs > 4) {   /* two compressed clusters: the second packs after the first */
        (void)vdisk_pwrite_compressed(img, buf, cs, (size / cs - 3) * cs, &err);
        (void)vdisk_pwrite_compressed(img, buf, cs, (size / cs - 2) * cs, &err);
    }
    (void)vdisk_write_zeroes(img, 2 * cs, size / 2 / cs * cs, VDISK_ZERO_MAY_UNMAP, &err);
    (void)vdisk_write_zeroes(img, 3000, 5000 % size, 0, &err);
    (void)vdisk_discard(img, cs, 0, &err);
    (void)vdisk_flush(img, &err);
    (void)vdisk_pread(img, buf, cs, 0, &err);
    (void)vdisk_pread(img, buf, 700, 1000, &err);               /* inside sectors */
    /* An encrypted image gets a second passphrase (1 ms of PBKDF2), which
     * is then erased again; others refuse. */
    fuzz_keyslot_add_erase(img);
    /* Grow with preallocated metadata, then with allocated data (refcount
     * structures for a whole new area), then shrink back. */
    (void)vdisk_resize(img, size + (512u << 10), false, VDISK_PREALLOC_METADATA, NULL, NULL, &err);
    (void)vdisk_resize(img, size + (1u << 20), false, VDISK_PREALLOC_FALLOC, NULL, NULL, &err);
    (void)vdisk_resize(img, size, true, VDISK_PREALLOC_OFF, NULL, NULL, &err);
}

static const char passphrase[] = "fuzz";

/* Open path as qcow2 with flags and the passphrase; then without it
 * (metadata only) when the passphrase is refused and may be left out. */
static vdisk_image *
open_qcow2(const char *path, unsigned flags, bool key_optional)
{
    vdisk_open_opts opts = {
        .format = VDISK_FORMAT_QCOW2,
        .flags = VDISK_OPEN_NO_BACKING | flags,
        .secret = passphrase,
        .secret_len = sizeof(passphrase) - 1,
    };
    vdisk_image *img = NULL;
    vdisk_error err;
    int r = vdisk_open(path, &opts, &img, &err);
    if (r == -EACCES && key_optional) {
        opts.flags |= VDISK_OPEN_NO_KEY;
        opts.secret = NULL;
        opts.secret_len = 0;
        r = vdisk_open(path, &opts, &img, &err);
    }
    return r == 0 ? img : NULL;
}

/* The private directory with base.qcow2 (1 MiB of 4 KiB clusters, data
 * at its start; the backing file make-corpus.sh's overlay seed names),
 * made once; NULL if it cannot be. */
static const char *
backing_dir(void)
{
    static int state;   /* 0 not tried, 1 ready, -1 failed */
    const char *dir = fuzz_workdir("fuzz-qcow2");
    if (state || !dir[0])
        return state > 0 ? dir : NULL;
    state = -1;
    char p[128];
    snprintf(p, sizeof(p), "%s/base.qcow2", dir);
    vdisk_create_opts o;
    vdisk_create_opts_init(&o, VDISK_FORMAT_QCOW2);
    o.size = 1u << 20;
    o.cluster_size = 4096;
    vdisk_error err;
    vdisk_image *img = NULL;
    vdisk_open_opts oo = { .format = VDISK_FORMAT_QCOW2, .flags = VDISK_OPEN_RDWR };
    static uint8_t buf[64u << 10];
    memset(buf, 0x70, sizeof(buf));
    if (vdisk_create(p, &o, NULL, NULL, &err) < 0 || vdisk_open(p, &oo, &img, &err) < 0)
        return NULL;
    int r = vdisk_pwrite(img, buf, sizeof(buf), 0, &err);
    if (vdisk_close(img, &err) < 0 || r < 0)
        return NULL;
    state = 1;
    return dir;
}

/* The input as overlay.qcow2 beside base.qcow2, opened with its backing
 * chain (only files of that directory: a backing policy refuses the rest)
 * and read: unallocated clusters come from the backing file. */
static void
open_with_backing(const uint8_t *data, size_t size)
{
    const char *dir = backing_dir();
    if (!dir)
        return;
    char p[128];
    snprintf(p, sizeof(p), "%s/overlay.qcow2", dir);
    if (fuzz_write_file(p, data, size) == 0)
        fuzz_open_chain(p, VDISK_FORMAT_QCOW2, dir, exercise);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* Here, not in LLVMFuzzerInitialize: libFuzzer installs its own SIGXFSZ
     * handler after that. */
    static bool limited;
    if (!limited) {
        fuzz_limit_file_size(256u << 20);
        limited = true;
    }
    int fd = fuzz_input_file("fuzz-qcow2", data, size);
    if (fd < 0)
        return 0;

    char path[64];
    snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);

    vdisk_error err;
    vdisk_image *img = open_qcow2(path, 0, true);
    if (img) {
        exercise(img);
        vdisk_close(img, &err);
    }
    img = open_qcow2(path, VDISK_OPEN_RDWR, false);
    if (img) {
        exercise_write(img);
        vdisk_close(img, &err);
    }
    close(fd);
    open_with_backing(data, size);
    return 0;
}
