/* vdisk plugin — vol-upload and vol-download: bytes of the volume file (as
 * libvirt moves them, whatever the format), from or to a descriptor, with
 * an offset and a length, keeping holes when asked to (sparse). */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <vdisk/volume.h>

#include "pool-backend.h"
#include "pool-internal.h"

#define XFER_CHUNK (1u << 20)
#define SPARSE_BLOCK (64u << 10)   /* granularity of zero detection */

static bool
all_zero(const unsigned char *p, size_t n)
{
    return n == 0 || (p[0] == 0 && memcmp(p, p + 1, n - 1) == 0);
}

/* Read up to n bytes (fewer only at end of input). */
static ssize_t
read_full(int fd, unsigned char *buf, size_t n)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(fd, buf + got, n - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -errno;
        if (r == 0)
            break;
        got += (size_t)r;
    }
    return (ssize_t)got;
}

static int
pwrite_full(int fd, const unsigned char *buf, size_t n, uint64_t off)
{
    while (n) {
        ssize_t w = pwrite(fd, buf, n, (off_t)off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return w < 0 ? -errno : -EIO;
        buf += w, n -= (size_t)w, off += (uint64_t)w;
    }
    return 0;
}

/* Zeros in the volume at [off, off+n): a hole inside the file, nothing at
 * all past its end (the final size is set afterwards). */
static int
put_hole(int fd, uint64_t off, size_t n, uint64_t *vol_size, const unsigned char *zeros)
{
    if (off >= *vol_size)
        return 0;
    size_t in = off + n > *vol_size ? (size_t)(*vol_size - off) : n;
    if (fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)off, (off_t)in) == 0)
        return 0;
    return pwrite_full(fd, zeros, in, off);
}

/* "<volume path>: upload at offset N: <cause>". */
static void
report(vdisk_pool *pool, const char *name, const char *what, uint64_t off, int r, vdisk_error *err)
{
    char *real = vdisk_vol_path(pool, name);
    vdisk_error_set_errno(err, -r, "%s: %s at offset %llu", real ? real : name, what, (unsigned long long)off);
    free(real);
}

/* Write a chunk, turning each run of all-zero blocks into a hole. */
static int
put_sparse(int fd, const unsigned char *buf, size_t len, uint64_t off, uint64_t *vol_size,
           const unsigned char *zeros)
{
    size_t pos = 0;
    while (pos < len) {
        size_t blk = len - pos < SPARSE_BLOCK ? len - pos : SPARSE_BLOCK;
        bool zero = all_zero(buf + pos, blk);
        size_t run = blk;
        while (pos + run < len) {
            size_t next = len - pos - run < SPARSE_BLOCK ? len - pos - run : SPARSE_BLOCK;
            if (all_zero(buf + pos + run, next) != zero)
                break;
            run += next;
        }
        int r = zero ? put_hole(fd, off + pos, run, vol_size, zeros)
                     : pwrite_full(fd, buf + pos, run, off + pos);
        if (r < 0)
            return r;
        pos += run;
    }
    return 0;
}

int
vdisk_dir_vol_upload(vdisk_pool *pool, const char *name, int fd, uint64_t offset,
                 uint64_t length, bool sparse, vdisk_progress_fn progress,
                 void *opaque, vdisk_error *err)
{
    int vfd = vdisk_vol_check_not_in_use(pool, name, err);
    if (vfd == 0)
        vfd = vdisk_vol_open_fd(pool, name, O_RDWR, err);
    if (vfd < 0)
        return vfd;
    struct stat st, in;
    fstat(vfd, &st);
    uint64_t vol_size = (uint64_t)st.st_size;
    uint64_t total = length;
    if (!total && fstat(fd, &in) == 0 && S_ISREG(in.st_mode))
        total = (uint64_t)in.st_size;
    unsigned char *buf = malloc(XFER_CHUNK), *zeros = calloc(1, XFER_CHUNK);
    int r = buf && zeros ? 0 : -ENOMEM;
    uint64_t done = 0;
    while (r == 0 && (!length || done < length)) {
        size_t want = length && length - done < XFER_CHUNK ? (size_t)(length - done) : XFER_CHUNK;
        ssize_t got = read_full(fd, buf, want);
        if (got <= 0) {
            r = (int)got;
            break;
        }
        r = sparse ? put_sparse(vfd, buf, (size_t)got, offset + done, &vol_size, zeros)
                   : pwrite_full(vfd, buf, (size_t)got, offset + done);
        done += (uint64_t)got;
        if (r == 0 && progress && progress(opaque, done, total ? total : done))
            r = -ECANCELED;
    }
    /* A sparse tail past the old end still makes the file that long. */
    if (r == 0 && offset + done > vol_size && ftruncate(vfd, (off_t)(offset + done)) < 0)
        r = -errno;
    if (r == 0 && fsync(vfd) < 0)
        r = -errno;
    if (r < 0)
        report(pool, name, "upload", offset + done, r, err);
    /* A whole image uploaded from the volume's start is the administrator
     * handing in a file: its format is probed once, as for a file copied
     * into the pool (a partial upload keeps the recorded format). */
    else if (offset == 0 && length == 0 && done > 0)
        r = vdisk_vol_record_probe(pool, name, vfd, err);
    free(buf);
    free(zeros);
    close(vfd);
    return r;
}

/* Write n bytes to the output, or skip over them when they are zeros and
 * the output is a seekable file that will be truncated to length. */
static int
emit(int out, const unsigned char *buf, size_t n, bool skip)
{
    if (skip)
        return lseek(out, (off_t)n, SEEK_CUR) < 0 ? -errno : 0;
    while (n) {
        ssize_t w = write(out, buf, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return w < 0 ? -errno : -EIO;
        buf += w, n -= (size_t)w;
    }
    return 0;
}

int
vdisk_dir_vol_download(vdisk_pool *pool, const char *name, int fd, uint64_t offset,
                   uint64_t length, bool sparse, vdisk_progress_fn progress,
                   void *opaque, vdisk_error *err)
{
    int vfd = vdisk_vol_open_fd(pool, name, O_RDONLY, err);
    if (vfd < 0)
        return vfd;
    struct stat st, os;
    fstat(vfd, &st);
    uint64_t size = (uint64_t)st.st_size;
    uint64_t end = offset >= size ? offset : size;
    if (length && offset + length < end)
        end = offset + length;
    bool seekable = sparse && fstat(fd, &os) == 0 && S_ISREG(os.st_mode);
    off_t out_start = seekable ? lseek(fd, 0, SEEK_CUR) : 0;
    unsigned char *buf = malloc(XFER_CHUNK);
    int r = buf ? 0 : -ENOMEM;
    uint64_t off = offset;
    while (r == 0 && off < end) {
        size_t n = end - off < XFER_CHUNK ? (size_t)(end - off) : XFER_CHUNK;
        off_t data = seekable ? lseek(vfd, (off_t)off, SEEK_DATA) : (off_t)off;
        if (seekable && (data < 0 || (uint64_t)data > off)) {
            /* A hole: skip it in the output without reading it. */
            uint64_t hole_end = data < 0 ? end : (uint64_t)data;
            n = hole_end - off < n ? (size_t)(hole_end - off) : n;
            r = emit(fd, NULL, n, true);
        } else {
            ssize_t got = pread(vfd, buf, n, (off_t)off);
            if (got <= 0) {
                r = got < 0 ? -errno : -EIO;
                break;
            }
            n = (size_t)got;
            for (size_t pos = 0; r == 0 && pos < n; pos += SPARSE_BLOCK) {
                size_t blk = n - pos < SPARSE_BLOCK ? n - pos : SPARSE_BLOCK;
                r = emit(fd, buf + pos, blk, seekable && all_zero(buf + pos, blk));
            }
        }
        off += n;
        if (r == 0 && progress && progress(opaque, off - offset, end - offset))
            r = -ECANCELED;
    }
    if (r == 0 && seekable && ftruncate(fd, out_start + (off_t)(end - offset)) < 0)
        r = -errno;
    if (r < 0)
        report(pool, name, "download", off, r, err);
    free(buf);
    close(vfd);
    return r;
}
