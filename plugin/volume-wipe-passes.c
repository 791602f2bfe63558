/* vdisk plugin — the multi-pass wipe algorithms libvirt names, with the
 * passes of scrub(1) (which libvirt's dir pools run for them): fixed
 * byte patterns (one or three bytes repeated), random passes, and a
 * read-back of the last pass where scrub verifies. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "volume-wipe.h"

#define PASS_CHUNK (1u << 20)     /* a multiple of 3: three-byte patterns stay aligned */
#define MAX_PASSES 35

typedef struct wipe_pass {
    unsigned char len;            /* 0: random; else the pattern's length */
    unsigned char pat[3];
    bool verify;                  /* read back after writing */
} wipe_pass;

typedef struct wipe_seq {
    vdisk_wipe_alg alg;
    unsigned char count;
    wipe_pass passes[MAX_PASSES];
} wipe_seq;

#define RND { 0, { 0 }, false }
#define B(x) { 1, { x }, false }
#define V(x) { 1, { x }, true }
#define T(a, b, c) { 3, { a, b, c }, false }

static const wipe_seq sequences[] = {
    { VDISK_WIPE_NNSA, 3, { RND, RND, V(0x00) } },
    { VDISK_WIPE_DOD, 3, { RND, B(0x00), V(0xff) } },
    { VDISK_WIPE_BSI, 9, { B(0xff), B(0xfe), B(0xfd), B(0xfb), B(0xf7), B(0xef), B(0xdf), B(0xbf),
                           B(0x7f) } },
    { VDISK_WIPE_GUTMANN, 35, {
        RND, RND, RND, RND, B(0x55), B(0xaa),
        T(0x92, 0x49, 0x24), T(0x49, 0x24, 0x92), T(0x24, 0x92, 0x49),
        B(0x00), B(0x11), B(0x22), B(0x33), B(0x44), B(0x55), B(0x66), B(0x77),
        B(0x88), B(0x99), B(0xaa), B(0xbb), B(0xcc), B(0xdd), B(0xee), B(0xff),
        T(0x92, 0x49, 0x24), T(0x49, 0x24, 0x92), T(0x24, 0x92, 0x49),
        T(0x6d, 0xb6, 0xdb), T(0xb6, 0xdb, 0x6d), T(0xdb, 0x6d, 0xb6),
        RND, RND, RND, RND } },
    { VDISK_WIPE_SCHNEIER, 7, { B(0x00), B(0xff), RND, RND, RND, RND, RND } },
    { VDISK_WIPE_PFITZNER7, 7, { RND, RND, RND, RND, RND, RND, RND } },
    { VDISK_WIPE_PFITZNER33, 33, { RND, RND, RND, RND, RND, RND, RND, RND, RND, RND, RND,
                                   RND, RND, RND, RND, RND, RND, RND, RND, RND, RND, RND,
                                   RND, RND, RND, RND, RND, RND, RND, RND, RND, RND, RND } },
};

static const wipe_seq *
sequence_of(vdisk_wipe_alg alg)
{
    for (size_t i = 0; i < sizeof(sequences) / sizeof(sequences[0]); i++)
        if (sequences[i].alg == alg)
            return &sequences[i];
    return NULL;
}

bool
vdisk_wipe_is_multipass(vdisk_wipe_alg alg)
{
    return sequence_of(alg) != NULL;
}

/* A pattern pass's bytes: the pattern repeated from the file's offset 0
 * (PASS_CHUNK is a multiple of 3, so every chunk starts in phase). */
static void
fill_pattern(unsigned char *buf, const wipe_pass *p)
{
    for (size_t i = 0; i < PASS_CHUNK; i++)
        buf[i] = p->pat[i % p->len];
}

/* Random bytes from the kernel's generator (getrandom never fails for
 * small requests once seeded; a short read is retried). */
static int
fill_random(unsigned char *buf, size_t len)
{
    for (size_t done = 0; done < len;) {
        ssize_t n = getrandom(buf + done, len - done, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return n < 0 ? -errno : -EIO;
        done += (size_t)n;
    }
    return 0;
}

/* Write one pass over [0, size); progress counts from base of total. */
static int
write_pass(int fd, const wipe_pass *p, unsigned char *buf, uint64_t size, uint64_t base, uint64_t total,
           vdisk_progress_fn progress, void *opaque)
{
    if (p->len)
        fill_pattern(buf, p);
    for (uint64_t off = 0; off < size;) {
        size_t n = size - off < PASS_CHUNK ? (size_t)(size - off) : PASS_CHUNK;
        int r = p->len ? 0 : fill_random(buf, n);
        if (r < 0)
            return r;
        ssize_t w = pwrite(fd, buf, n, (off_t)off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return w < 0 ? -errno : -EIO;
        off += (uint64_t)w;
        if (progress && progress(opaque, base + off, total))
            return -ECANCELED;
    }
    return fdatasync(fd) < 0 ? -errno : 0;
}

/* Read the file back and compare with the pass's pattern. */
static int
verify_pass(int fd, const wipe_pass *p, unsigned char *buf, unsigned char *want, uint64_t size)
{
    fill_pattern(want, p);
    for (uint64_t off = 0; off < size;) {
        size_t n = size - off < PASS_CHUNK ? (size_t)(size - off) : PASS_CHUNK;
        ssize_t got = pread(fd, buf, n, (off_t)off);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            return got < 0 ? -errno : -EIO;
        if (memcmp(buf, want, (size_t)got) != 0)
            return -EIO;
        off += (uint64_t)got;
    }
    return 0;
}

int
vdisk_wipe_passes(int fd, vdisk_wipe_alg alg, uint64_t size, vdisk_progress_fn progress, void *opaque)
{
    const wipe_seq *seq = sequence_of(alg);
    if (!seq)
        return -EINVAL;
    unsigned char *buf = malloc(PASS_CHUNK), *want = malloc(PASS_CHUNK);
    int r = buf && want ? 0 : -ENOMEM;
    uint64_t total = size * seq->count;
    for (unsigned i = 0; r == 0 && i < seq->count; i++) {
        const wipe_pass *p = &seq->passes[i];
        r = write_pass(fd, p, buf, size, size * i, total, progress, opaque);
        if (r == 0 && p->verify)
            r = verify_pass(fd, p, buf, want, size);
    }
    free(buf);
    free(want);
    return r;
}
