/* libFuzzer target: the qcow2 snapshot table and the snapshot operations.
 *
 * Each input is an image file, put in an in-memory file.  It is opened
 * read-only as qcow2 without its backing file: the snapshot table is
 * listed, the first few snapshots are opened as read-only views and read.
 * Then the image is opened for writing and a snapshot is created, the
 * first one applied and deleted — the refcount walks over every L1/L2
 * table the (mutated) image names.  Errors are the expected outcome for
 * most inputs; the sanitizers report crashes, leaks and undefined behaviour.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <vdisk/vdisk.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_VIEWS 3
#define READ_LEN 4096u

static int
input_file(const uint8_t *data, size_t size)
{
    int fd = memfd_create("fuzz-qcow2-snapshot", MFD_CLOEXEC);
    if (fd < 0)
        return -1;
    if (size && write(fd, data, size) != (ssize_t)size) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Open one snapshot as a read-only view and read its first bytes. */
static void
view(const char *path, const char *id)
{
    static uint8_t buf[READ_LEN];
    vdisk_open_opts o = { .format = VDISK_FORMAT_QCOW2, .flags = VDISK_OPEN_NO_BACKING,
                          .snapshot = id };
    vdisk_image *img;
    vdisk_error err;
    if (vdisk_open(path, &o, &img, &err) < 0)
        return;
    uint64_t size = vdisk_get_size(img);
    (void)vdisk_pread(img, buf, size < READ_LEN ? size : READ_LEN, 0, &err);
    vdisk_close(img, &err);
}

static void
read_only(const char *path)
{
    vdisk_open_opts o = { .format = VDISK_FORMAT_QCOW2, .flags = VDISK_OPEN_NO_BACKING };
    vdisk_image *img;
    vdisk_error err;
    if (vdisk_open(path, &o, &img, &err) < 0)
        return;
    vdisk_snapshot_info *l;
    size_t n;
    int r = vdisk_snapshot_list(img, &l, &n, &err);
    vdisk_close(img, &err);
    if (r < 0)
        return;
    for (size_t i = 0; i < n && i < MAX_VIEWS; i++)
        view(path, l[i].id);
    vdisk_snapshot_list_free(l, n);
}

static void
read_write(const char *path)
{
    vdisk_open_opts o = { .format = VDISK_FORMAT_QCOW2,
                          .flags = VDISK_OPEN_RDWR | VDISK_OPEN_NO_BACKING };
    vdisk_image *img;
    vdisk_error err;
    if (vdisk_open(path, &o, &img, &err) < 0)
        return;
    if (vdisk_snapshot_create(img, "fuzz", &err) == 0) {
        (void)vdisk_snapshot_apply(img, "1", &err);
        (void)vdisk_snapshot_delete(img, "1", &err);
    }
    vdisk_close(img, &err);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int fd = input_file(data, size);
    if (fd < 0)
        return 0;
    char path[64];
    snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
    read_only(path);
    read_write(path);
    close(fd);
    return 0;
}
