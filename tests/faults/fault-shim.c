/* libvdisk-fault.so — I/O fault injection for tests/faults (LD_PRELOAD).
 *
 * Fails the k-th call of one class of I/O on the files whose path matches
 * a pattern, with the errno asked for, so that every step of an operation
 * can be made to fail: the format drivers (through the file protocol), the
 * pool code and the registry all reach the disk through these calls.
 *
 *   VDISK_FAULT_PATH   fnmatch(3) pattern of the absolute paths to fault
 *                      (the file a descriptor names, /proc/self/fd)
 *   VDISK_FAULT_CLASS  write  (write, pwrite, pwritev)
 *                      flush  (fsync, fdatasync)
 *                      alloc  (ftruncate, fallocate, posix_fallocate)
 *   VDISK_FAULT_AT     k: the k-th call of that class on a matching file
 *                      fails (1-based); 0 or unset: count only
 *   VDISK_FAULT_ERRNO  EIO (default) or ENOSPC
 *   VDISK_FAULT_STICKY 1: every call of the class from the k-th on fails
 *                      (a disk that stays full or broken)
 *   VDISK_FAULT_COUNT  a file the counts per class are appended to at exit
 *                      ("write N flush N alloc N fired N"), for the test
 *                      to learn how many steps an operation has
 *   VDISK_FAULT_TRACE  a file each matching call is appended to ("flush 3
 *                      PATH"), to tell which step a count names
 *
 * A test harness, not part of vdisk: its counters are process-wide by
 * nature (it stands in for the kernel), and calls on other files (the
 * test's logs, /proc) pass through untouched.
 */
/* Both names of each call are defined (pwrite and pwrite64...): callers
 * built with _FILE_OFFSET_BITS=64 reach the second. */
#undef _FILE_OFFSET_BITS
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

enum fault_class { FC_WRITE, FC_FLUSH, FC_ALLOC, FC_COUNT };

static const char *const class_names[FC_COUNT] = { "write", "flush", "alloc" };
static atomic_long calls[FC_COUNT];
static atomic_long fired;

/* The configuration, read once from the environment. */
struct fault_config {
    const char *pattern;
    int cls;
    long at;
    int err;
    int sticky;
};

static struct fault_config
config(void)
{
    struct fault_config c = { .pattern = getenv("VDISK_FAULT_PATH"), .cls = -1, .err = EIO };
    const char *cls = getenv("VDISK_FAULT_CLASS");
    for (int i = 0; cls && i < FC_COUNT; i++)
        if (!strcmp(cls, class_names[i]))
            c.cls = i;
    const char *at = getenv("VDISK_FAULT_AT");
    c.at = at ? strtol(at, NULL, 10) : 0;
    const char *e = getenv("VDISK_FAULT_ERRNO");
    if (e && !strcmp(e, "ENOSPC"))
        c.err = ENOSPC;
    const char *s = getenv("VDISK_FAULT_STICKY");
    c.sticky = s && !strcmp(s, "1");
    return c;
}

/* Does fd name a file the pattern matches?  Its path in path. */
static int
matches(int fd, const char *pattern, char *path, size_t cap)
{
    char link[64];
    snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, path, cap - 1);
    if (n <= 0)
        return 0;
    path[n] = '\0';
    return fnmatch(pattern, path, 0) == 0;
}

/* Append "CLASS N PATH" to VDISK_FAULT_TRACE, if set. */
static void
trace(int cls, long n, const char *path)
{
    const char *out = getenv("VDISK_FAULT_TRACE");
    FILE *f = out ? fopen(out, "a") : NULL;
    if (!f)
        return;
    fprintf(f, "%s %ld %s\n", class_names[cls], n, path);
    fclose(f);
}

/* Count a call of class cls on fd; nonzero (errno set) when it is to fail. */
static int
inject(int fd, int cls)
{
    struct fault_config c = config();
    char path[4096];
    if (!c.pattern || !matches(fd, c.pattern, path, sizeof(path)))
        return 0;
    long n = atomic_fetch_add(&calls[cls], 1) + 1;
    trace(cls, n, path);
    if (cls != c.cls || c.at <= 0 || (c.sticky ? n < c.at : n != c.at))
        return 0;
    atomic_fetch_add(&fired, 1);
    errno = c.err;
    return 1;
}

/* The next definition of a libc symbol. */
static void *
real(const char *name)
{
    return dlsym(RTLD_NEXT, name);
}

/* Write the counts for the test (VDISK_FAULT_COUNT). */
__attribute__((destructor)) static void
report(void)
{
    const char *out = getenv("VDISK_FAULT_COUNT");
    if (!out)
        return;
    FILE *f = fopen(out, "a");
    if (!f)
        return;
    fprintf(f, "write %ld flush %ld alloc %ld fired %ld\n", atomic_load(&calls[FC_WRITE]),
            atomic_load(&calls[FC_FLUSH]), atomic_load(&calls[FC_ALLOC]), atomic_load(&fired));
    fclose(f);
}

/* write(2) */
ssize_t
write(int fd, const void *buf, size_t n)
{
    static ssize_t (*fn)(int, const void *, size_t);
    if (!fn)
        fn = real("write");
    return inject(fd, FC_WRITE) ? -1 : fn(fd, buf, n);
}

/* pwrite(2) */
ssize_t
pwrite(int fd, const void *buf, size_t n, off_t off)
{
    static ssize_t (*fn)(int, const void *, size_t, off_t);
    if (!fn)
        fn = real("pwrite");
    return inject(fd, FC_WRITE) ? -1 : fn(fd, buf, n, off);
}

/* pwrite64 (the same call on 64-bit glibc; interposed by either name) */
ssize_t
pwrite64(int fd, const void *buf, size_t n, off64_t off)
{
    return pwrite(fd, buf, n, off);
}

/* pwritev(2) */
ssize_t
pwritev(int fd, const struct iovec *iov, int cnt, off_t off)
{
    static ssize_t (*fn)(int, const struct iovec *, int, off_t);
    if (!fn)
        fn = real("pwritev");
    return inject(fd, FC_WRITE) ? -1 : fn(fd, iov, cnt, off);
}

/* fsync(2) */
int
fsync(int fd)
{
    static int (*fn)(int);
    if (!fn)
        fn = real("fsync");
    return inject(fd, FC_FLUSH) ? -1 : fn(fd);
}

/* fdatasync(2) */
int
fdatasync(int fd)
{
    static int (*fn)(int);
    if (!fn)
        fn = real("fdatasync");
    return inject(fd, FC_FLUSH) ? -1 : fn(fd);
}

/* ftruncate(2) */
int
ftruncate(int fd, off_t len)
{
    static int (*fn)(int, off_t);
    if (!fn)
        fn = real("ftruncate");
    return inject(fd, FC_ALLOC) ? -1 : fn(fd, len);
}

/* ftruncate64 (64-bit glibc alias) */
int
ftruncate64(int fd, off64_t len)
{
    return ftruncate(fd, len);
}

/* fallocate(2): every mode (reserve, zero range, punch hole) */
int
fallocate(int fd, int mode, off_t off, off_t len)
{
    static int (*fn)(int, int, off_t, off_t);
    if (!fn)
        fn = real("fallocate");
    return inject(fd, FC_ALLOC) ? -1 : fn(fd, mode, off, len);
}

/* fallocate64 (64-bit glibc alias) */
int
fallocate64(int fd, int mode, off64_t off, off64_t len)
{
    return fallocate(fd, mode, off, len);
}

/* posix_fallocate(3): returns the error instead of setting errno */
int
posix_fallocate(int fd, off_t off, off_t len)
{
    static int (*fn)(int, off_t, off_t);
    if (!fn)
        fn = real("posix_fallocate");
    return inject(fd, FC_ALLOC) ? errno : fn(fd, off, len);
}

/* pwritev64 (64-bit glibc alias) */
ssize_t
pwritev64(int fd, const struct iovec *iov, int cnt, off64_t off)
{
    return pwritev(fd, iov, cnt, off);
}

/* posix_fallocate64 (64-bit glibc alias) */
int
posix_fallocate64(int fd, off64_t off, off64_t len)
{
    return posix_fallocate(fd, off, len);
}
