/* vdisk-virsh commit — write an overlay's data into its backing file, as
 * `qemu-img commit`.
 *
 *   commit [-f FMT] [-t CACHE] [-b BASE] [-d] [-p] [-q] [-r RATE] [--object secret,id=ID,file=PATH]
 *          [--passphrase-file PATH | --passphrase-fd N] [--image-opts] FILE
 *
 * Without -b the immediate backing file receives the data; -b names a
 * deeper image of the chain (and implies -d, as in qemu-img).  Without -d
 * the overlay is emptied afterwards.  -r limits the speed: the copy waits
 * so that the part of the chain gone through never runs ahead of RATE
 * bytes per second (counted over the whole range, allocated or not, in
 * the 4 MiB pieces the copy works in).  Prints "Image committed."
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "commands.h"
#include "images.h"
#include "options.h"
#include "secrets.h"
#include "progress.h"

typedef struct commit_args {
    const char *fmt, *base, *cache, *file;
    bool drop, progress, quiet;
    uint64_t rate;          /* -r: bytes per second, 0 unlimited */
    vv_secrets secrets;     /* --object secret, --passphrase-*, --image-opts */
} commit_args;

static int
parse_args(int argc, char **argv, commit_args *a)
{
    static const struct option longopts[] = {
        { NULL, 0, NULL, 0 },
    };
    int c;
    while ((c = vv_image_getopt(argc, argv, ":f:ht:b:dpqr:", longopts, &a->secrets)) != -1) {
        if (c == VV_GETOPT_FAILED)
            return 1;
        switch (c) {
        case 'f': a->fmt = optarg; break;
        case 'h': return vv_command_help("commit");
        case 't': a->cache = optarg; break;
        case 'b': a->base = optarg; a->drop = true; break;
        case 'd': a->drop = true; break;
        case 'p': a->progress = true; break;
        case 'q': a->quiet = true; break;
        case 'r':
            if (vv_parse_size("rate limit", optarg, &a->rate) < 0)
                return 1;
            break;
        default: return vv_getopt_fail(c, argv);
        }
    }
    if (optind != argc - 1)
        return vv_usage_error("Expecting one image file name");
    a->file = argv[optind];
    return vv_secrets_check_format(&a->secrets, a->fmt) < 0 ? 1 : -1;
}

/* Cache modes as qemu-img names them; none/directsync bypass the page cache. */
static int
cache_flags(const char *cache, unsigned *flags)
{
    static const char *const modes[] = { "none", "directsync", "writeback", "writethrough", "unsafe" };
    *flags = 0;
    if (!cache)
        return 0;
    for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++)
        if (strcmp(cache, modes[i]) == 0) {
            *flags = i < 2 ? VDISK_OPEN_DIRECT : 0;
            return 0;
        }
    vv_error("Invalid cache option: %s", cache);
    return -1;
}

/* The progress callback with -r: draws the progress, then waits until
 * `done` bytes are within the rate (the copy calls it after each piece). */
typedef struct rate_progress {
    vv_progress *prog;
    uint64_t rate;
    struct timespec start;
} rate_progress;

static int
rate_progress_cb(void *opaque, uint64_t done, uint64_t total)
{
    rate_progress *rp = opaque;
    vv_progress_cb(rp->prog, done, total);
    if (!rp->rate)
        return 0;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    double elapsed = (double)(now.tv_sec - rp->start.tv_sec) + (now.tv_nsec - rp->start.tv_nsec) / 1e9;
    double wait = (double)done / (double)rp->rate - elapsed;
    if (wait > 0) {
        struct timespec ts = { .tv_sec = (time_t)wait,
                               .tv_nsec = (long)((wait - (double)(time_t)wait) * 1e9) };
        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
            ;
    }
    return 0;
}

static int
run_commit(const commit_args *a, vdisk_image *img)
{
    vdisk_image *base = NULL;
    if (a->base && !(base = vdisk_find_backing(img, a->base))) {
        vv_error("Did not find '%s' in the backing chain of '%s'", a->base, a->file);
        return -1;
    }
    vv_progress prog;
    vv_progress_init(&prog, a->progress && !a->quiet, 1.0);
    vdisk_error err = { 0 };
    rate_progress rp = { .prog = &prog, .rate = a->rate };
    clock_gettime(CLOCK_MONOTONIC, &rp.start);
    int r = vdisk_commit(img, base, a->drop, rate_progress_cb, &rp, &err);
    vv_progress_end(&prog, r == 0);
    if (r < 0)
        vv_report_file(&err, vdisk_get_filename(img));
    return r;
}

/* commit: merge an overlay into its backing file. */
int
cmd_commit(int argc, char **argv)
{
    commit_args a = { 0 };
    int ret = parse_args(argc, argv, &a);
    unsigned flags = 0;
    if (ret < 0 && cache_flags(a.cache, &flags) < 0)
        ret = 1;
    vdisk_image *img;
    if (ret < 0 && vv_open_secure(a.file, a.fmt, VDISK_OPEN_RDWR | flags, &a.secrets, &img) < 0)
        ret = 1;
    if (ret < 0) {
        int r = run_commit(&a, img);
        if (vv_close_image(img, r == 0) < 0 || r < 0)
            ret = 1;
        else if (!a.quiet)
            printf("Image committed.\n");
        ret = ret < 0 ? 0 : ret;
    }
    vv_secrets_clear(&a.secrets);
    return ret;
}
