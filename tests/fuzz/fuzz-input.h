/* Shared by the libFuzzer targets: the input as an image file. */
#ifndef VDISK_FUZZ_INPUT_H
#define VDISK_FUZZ_INPUT_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

/* Put the input in an anonymous in-memory file named `name`; return its
 * fd or -1.  Open it as /proc/self/fd/N. */
static inline int
fuzz_input_file(const char *name, const uint8_t *data, size_t size)
{
    int fd = memfd_create(name, MFD_CLOEXEC);
    if (fd < 0)
        return -1;
    size_t done = 0;
    while (done < size) {
        ssize_t n = write(fd, data + done, size - done);
        if (n <= 0) {
            close(fd);
            return -1;
        }
        done += (size_t)n;
    }
    return fd;
}

/* Cap every file this process grows at `bytes`: a repair that would grow
 * the image further gets EFBIG (SIGXFSZ ignored), as on a full disk,
 * instead of spending seconds on a terabyte-sized sparse file.  The cap
 * stays far above libFuzzer's own corpus and artifact files. */
static inline void
fuzz_limit_file_size(uint64_t bytes)
{
    struct rlimit rl = { .rlim_cur = bytes, .rlim_max = bytes };
    signal(SIGXFSZ, SIG_IGN);
    (void)setrlimit(RLIMIT_FSIZE, &rl);
}

#endif
