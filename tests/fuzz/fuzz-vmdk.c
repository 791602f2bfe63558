/* libFuzzer target: the VMDK driver -- sparse extent headers, grain
 * directories and tables, stream markers, footers and deflated grains, and
 * the text descriptor with its extent list.
 *
 * An input that starts with "KDMV" or "COWD" is a sparse file: it is opened
 * (format named, without its parent) and queried as `info`, `map` and
 * `convert` would, then opened for writing and written: whole grains,
 * parts of grains, zeroes, a flush (grain tables, directories, a stream's
 * footer) and the close.  Files are capped at 64 MiB, so an allocation
 * far out fails as on a full disk.  Then it is opened again, with its
 * parent, from a private directory holding parent.vmdk (CID 12345678, what
 * make-corpus.sh's child seed names): reads fall through to the parent.
 *
 * Any other input is descriptor text: it goes through the parser alone,
 * and then, behind a descriptor header, into a file of a private directory
 * that also holds a flat and a sparse extent file (f.bin, s.vmdk) for it to
 * name.  That descriptor is opened probed, so the extent path policy is in
 * force: names leading out of the directory are refused, never opened.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <vdisk/vdisk.h>

#include "driver.h"
#include "fuzz-image.h"
#include "vmdk/vmdk.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_READ (128u * 1024)
#define MAX_EXTENTS 16

static const char *workdir;   /* fuzz_workdir's, with the extent files made */

static int setup_workdir(void);
static void open_with_parent(const uint8_t *data, size_t size);

static void
read_at(vdisk_image *img, uint8_t *buf, uint64_t off)
{
    uint64_t size = vdisk_get_size(img);
    vdisk_error err;
    if (off >= size)
        return;
    uint64_t len = size - off < MAX_READ ? size - off : MAX_READ;
    (void)vdisk_pread(img, buf, len, off, &err);
}

/* info, a walk of block status with reads of data, the middle and the end. */
static void
exercise_read(vdisk_image *img)
{
    static uint8_t buf[MAX_READ];
    vdisk_error err;
    vdisk_info info;
    if (vdisk_get_info(img, &info, &err) == 0)
        vdisk_info_clear(&info);
    uint64_t size = vdisk_get_size(img), off = 0;
    for (int i = 0; i < MAX_EXTENTS && off < size; i++) {
        vdisk_extent ext;
        if (vdisk_block_status(img, off, size - off, &ext, &err) < 0)
            break;
        if (ext.length == 0 || ext.length > size - off)
            abort();   /* the API promises otherwise */
        if (ext.flags & VDISK_EXTENT_DATA)
            read_at(img, buf, off);
        off += ext.length;
    }
    read_at(img, buf, size / 2);
    read_at(img, buf, size > MAX_READ ? size - MAX_READ : 0);
    vdisk_check_result res;
    (void)vdisk_check(img, 0, &res, NULL, NULL, NULL, &err);
}

/* Writes that allocate grains and tables, then the flush at close. */
static void
exercise_write(vdisk_image *img)
{
    static uint8_t buf[65536];
    vdisk_error err;
    uint64_t size = vdisk_get_size(img);
    if (size == 0)
        return;
    memset(buf, 0x5a, sizeof(buf));
    uint64_t grain = size < sizeof(buf) ? size : sizeof(buf);
    (void)vdisk_pwrite(img, buf, grain, 0, &err);
    if (size >= 1400)
        (void)vdisk_pwrite(img, buf, 700, size / 2, &err);   /* part of a grain */
    /* convert's path into a stream: deflate ahead, then store. */
    static uint8_t out[65536];
    uint32_t clen[1];
    vdisk_precompressed c = { .off = size - grain, .len = grain, .data = buf, .out = out, .clen = clen };
    if (vdisk_compress_ahead(img, &c, &err) == 0)
        (void)vdisk_pwrite_precompressed(img, &c, &err);
    (void)vdisk_write_zeroes(img, grain, size - grain, 0, &err);
    (void)vdisk_discard(img, grain, 0, &err);
    (void)vdisk_flush(img, &err);
}

static void
open_sparse(const uint8_t *data, size_t size)
{
    int fd = fuzz_input_file("fuzz-vmdk", data, size);
    if (fd < 0)
        return;
    char path[64];
    snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
    vdisk_open_opts ro = { .format = VDISK_FORMAT_VMDK, .flags = VDISK_OPEN_NO_BACKING };
    vdisk_image *img;
    vdisk_error err;
    if (vdisk_open(path, &ro, &img, &err) == 0) {
        exercise_read(img);
        vdisk_close(img, &err);
        vdisk_open_opts rw = { .format = VDISK_FORMAT_VMDK,
                               .flags = VDISK_OPEN_NO_BACKING | VDISK_OPEN_RDWR };
        if (vdisk_open(path, &rw, &img, &err) == 0) {
            exercise_write(img);
            vdisk_close(img, &err);
        }
    }
    close(fd);
    open_with_parent(data, size);
}

/* A sparse input as c.vmdk beside parent.vmdk (CID 12345678, the parentCID
 * of make-corpus.sh's child seed), opened with its parent (only files of
 * the private directory) and read: reads fall through to the parent. */
static void
open_with_parent(const uint8_t *data, size_t size)
{
    if (setup_workdir() < 0)
        return;
    char p[128];
    snprintf(p, sizeof(p), "%s/c.vmdk", workdir);
    if (fuzz_write_file(p, data, size) == 0)
        fuzz_open_chain(p, VDISK_FORMAT_VMDK, workdir, exercise_read);
}

static void
parse_only(const uint8_t *data, size_t size)
{
    for (int extents = 0; extents < 2; extents++) {
        vmdk_descriptor d;
        vdisk_error err;
        if (vmdk_descriptor_parse((const char *)data, size, "fuzz", extents, &d, &err) == 0)
            vmdk_descriptor_clear(&d);
    }
    char *out;
    size_t len;
    vdisk_error err;
    if (vmdk_descriptor_set_cid((const char *)data, size, 0x12345678, &out, &len, &err) == 0)
        free(out);
}

/* parent.vmdk: a 4 MiB sparse VMDK with data, its CID set to 12345678 in
 * the descriptor it embeds. */
static int
make_parent(void)
{
    char p[128];
    snprintf(p, sizeof(p), "%s/parent.vmdk", workdir);
    vdisk_create_opts o;
    vdisk_create_opts_init(&o, VDISK_FORMAT_VMDK);
    o.size = 4 << 20;
    static const uint64_t at[] = { 0 };
    if (fuzz_make_parent(p, &o, 65536, at, 1) < 0)
        return -1;
    int fd = open(p, O_RDWR | O_CLOEXEC);
    if (fd < 0)
        return -1;
    static char head[65536];
    ssize_t n = pread(fd, head, sizeof(head) - 1, 0);
    char *cid = n > 0 ? memmem(head, (size_t)n, "\nCID=", 5) : NULL;
    int r = cid && pwrite(fd, "12345678", 8, cid + 5 - head) == 8 ? 0 : -1;
    close(fd);
    return r;
}

/* The private directory with an extent file of each kind to name. */
static int
setup_workdir(void)
{
    if (workdir)
        return 0;
    const char *dir = fuzz_workdir("fuzz-vmdk");   /* removed at exit */
    if (!dir[0])
        return -1;
    workdir = dir;
    char p[128];
    snprintf(p, sizeof(p), "%s/f.bin", workdir);
    int fd = open(p, O_CREAT | O_WRONLY | O_TRUNC, 0600);
    if (fd < 0 || ftruncate(fd, 1 << 20) < 0 || pwrite(fd, "flat", 4, 4096) != 4)
        return -1;
    close(fd);
    snprintf(p, sizeof(p), "%s/s.vmdk", workdir);
    vdisk_create_opts o;
    vdisk_create_opts_init(&o, VDISK_FORMAT_VMDK);
    o.size = 1 << 20;
    vdisk_error err;
    if (vdisk_create(p, &o, NULL, NULL, &err) < 0)
        return -1;
    return make_parent();
}

static void
open_descriptor(const uint8_t *data, size_t size)
{
    static const char head[] = "# Disk DescriptorFile\nversion=1\n";
    if (setup_workdir() < 0)
        return;
    char p[128];
    snprintf(p, sizeof(p), "%s/d.vmdk", workdir);
    int fd = open(p, O_CREAT | O_WRONLY | O_TRUNC, 0600);
    if (fd < 0)
        return;
    int ok = write(fd, head, sizeof(head) - 1) == (ssize_t)(sizeof(head) - 1) &&
             write(fd, data, size) == (ssize_t)size;
    close(fd);
    vdisk_open_opts probed = { .flags = VDISK_OPEN_NO_BACKING };
    vdisk_image *img;
    vdisk_error err;
    if (ok && vdisk_open(p, &probed, &img, &err) == 0) {
        exercise_read(img);
        vdisk_close(img, &err);
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int limited;
    if (!limited) {
        fuzz_limit_file_size(64u << 20);
        limited = 1;
    }
    if (size >= 4 && (memcmp(data, "KDMV", 4) == 0 || memcmp(data, "COWD", 4) == 0)) {
        open_sparse(data, size);
    } else {
        parse_only(data, size);
        open_descriptor(data, size);
    }
    return 0;
}
