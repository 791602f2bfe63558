/* vdisk-virsh bench — I/O benchmark with qemu-img bench's defaults and
 * output, plus random offsets and an IOPS line.
 *
 *   bench [-f FMT] [-w] [-c COUNT] [-d DEPTH] [-s SIZE] [-S STEP] [-o OFFSET]
 *         [-t CACHE] [--pattern sequential|random|BYTE] [--fill BYTE] [--seed N]
 *         [--flush-interval N [--no-drain]] [-i threads] [-q] [-U]
 *         [--object secret,id=ID,file=PATH]
 *         [--passphrase-file PATH | --passphrase-fd N] [--image-opts] FILE
 *
 * Queue depth is a pool of DEPTH threads, each issuing synchronous
 * vdisk_pread/vdisk_pwrite on one shared handle (handles are thread-safe for
 * data I/O).  Request i goes to offset OFFSET + i*STEP (modulo the image
 * size, as qemu-img), or with --pattern random to a uniformly chosen
 * SIZE-aligned offset derived from (seed, i) alone, so a run is reproducible
 * whatever the thread interleaving.  --pattern BYTE is qemu-img's buffer
 * fill byte (also --fill BYTE, which combines with --pattern random).
 *
 * --flush-interval N: as qemu-img, every N requests a flush; by default the
 * requests before it finish first and none after it starts until it is
 * done (a drain), with --no-drain it goes out beside them.  The I/O engine
 * is a thread pool (qemu-img's -i threads); -n / -i native and -i io_uring
 * are refused: they would run the same threads under another name.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "commands.h"
#include "images.h"
#include "options.h"
#include "secrets.h"

enum { OPT_PATTERN = 256, OPT_SEED, OPT_FLUSH_INTERVAL, OPT_FILL, OPT_NO_DRAIN };

#define BUF_ALIGN 4096

typedef struct bench_args {
    const char *fmt;
    bool write, random, quiet;
    bool no_drain;          /* --no-drain: flushes do not wait for the requests in flight */
    const char *aio;        /* -i ENGINE (-n: native) */
    unsigned long count, depth, fill, flush_interval;
    uint64_t bufsize, step, offset, seed;
    unsigned flags;
    vv_secrets secrets;     /* --object secret, --passphrase-*, --image-opts */
} bench_args;

typedef struct bench_state {
    const bench_args *a;
    vdisk_image *img;
    uint64_t image_size;
    uint64_t slots;                 /* random: number of aligned positions */
    atomic_uint_fast64_t next;      /* index of the next request to issue */
    atomic_bool failed;
    pthread_mutex_t err_lock;
    /* drained flushes: requests below `limit` may start; `done` finished */
    pthread_mutex_t drain_lock;
    pthread_cond_t drain_cv;
    uint64_t limit, done;
    vdisk_error err;                /* first failure */
} bench_state;

/* splitmix64: a good 64-bit mix of (seed, request index). */
static uint64_t
mix64(uint64_t x)
{
    x += UINT64_C(0x9e3779b97f4a7c15);
    x = (x ^ (x >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    x = (x ^ (x >> 27)) * UINT64_C(0x94d049bb133111eb);
    return x ^ (x >> 31);
}

static uint64_t
request_offset(const bench_state *s, uint64_t i)
{
    const bench_args *a = s->a;
    if (a->random) {
        uint64_t r = mix64(a->seed ^ mix64(i));
        /* Uniform in [0, slots) without modulo bias worth mentioning. */
        uint64_t slot = (uint64_t)(((unsigned __int128)r * s->slots) >> 64);
        return a->offset + slot * a->bufsize;
    }
    if (i == 0)
        return a->offset;   /* qemu-img starts at OFFSET itself, wrapping later ones */
    return (a->offset + i * a->step) % s->image_size;
}

static void
record_failure(bench_state *s, const vdisk_error *err)
{
    pthread_mutex_lock(&s->err_lock);
    if (!atomic_exchange(&s->failed, true))
        s->err = *err;
    pthread_mutex_unlock(&s->err_lock);
}

/* With drained flushes: the next request index, waiting while a flush
 * is due or running; UINT64_MAX when none is left. */
static uint64_t
take_drained(bench_state *s)
{
    const bench_args *a = s->a;
    pthread_mutex_lock(&s->drain_lock);
    uint64_t i = UINT64_MAX;
    for (;;) {
        uint64_t next = atomic_load(&s->next);
        if (next >= a->count || atomic_load(&s->failed))
            break;
        if (next < s->limit) {
            i = next;
            atomic_store(&s->next, next + 1);
            break;
        }
        pthread_cond_wait(&s->drain_cv, &s->drain_lock);
    }
    pthread_mutex_unlock(&s->drain_lock);
    return i;
}

/* With drained flushes: request i finished; the one that completes a
 * batch flushes (nothing else in flight) and lets the next batch start. */
static int
finish_drained(bench_state *s, vdisk_error *err)
{
    const bench_args *a = s->a;
    pthread_mutex_lock(&s->drain_lock);
    bool flush = ++s->done == s->limit && s->limit < a->count;
    pthread_mutex_unlock(&s->drain_lock);
    int r = flush ? vdisk_flush(s->img, err) : 0;
    if (flush) {
        pthread_mutex_lock(&s->drain_lock);
        s->limit += a->flush_interval;
        pthread_cond_broadcast(&s->drain_cv);
        pthread_mutex_unlock(&s->drain_lock);
    }
    return r;
}

static void
wake_drained(bench_state *s)
{
    pthread_mutex_lock(&s->drain_lock);
    pthread_cond_broadcast(&s->drain_cv);
    pthread_mutex_unlock(&s->drain_lock);
}

/* One queue slot: take the next request index until all are issued. */
static void *
worker(void *opaque)
{
    bench_state *s = opaque;
    const bench_args *a = s->a;
    void *buf;
    vdisk_error err = { 0 };
    if (posix_memalign(&buf, BUF_ALIGN, a->bufsize) != 0) {
        vdisk_error_set(&err, ENOMEM, "out of memory for a %" PRIu64 "-byte buffer", a->bufsize);
        record_failure(s, &err);
        return NULL;
    }
    memset(buf, (int)a->fill, a->bufsize);
    bool drain = a->flush_interval && !a->no_drain;
    for (;;) {
        uint64_t i = drain ? take_drained(s)
                           : atomic_fetch_add_explicit(&s->next, 1, memory_order_relaxed);
        if (i >= a->count || atomic_load_explicit(&s->failed, memory_order_relaxed))
            break;
        uint64_t off = request_offset(s, i);
        int r = a->write ? vdisk_pwrite(s->img, buf, a->bufsize, off, &err)
                         : vdisk_pread(s->img, buf, a->bufsize, off, &err);
        if (drain && r == 0)
            r = finish_drained(s, &err);
        else if (r == 0 && a->flush_interval && (i + 1) % a->flush_interval == 0)
            r = vdisk_flush(s->img, &err);   /* --no-drain: beside the others */
        if (r < 0) {
            record_failure(s, &err);
            if (drain)
                wake_drained(s);
            break;
        }
    }
    free(buf);
    return NULL;
}

/* Start DEPTH workers and wait for them; returns elapsed seconds or < 0. */
static double
run_workers(bench_state *s)
{
    unsigned long n = s->a->depth < s->a->count ? s->a->depth : s->a->count;
    if (n == 0)
        n = 1;
    pthread_t *tids = calloc(n, sizeof(*tids));
    if (!tids) {
        vv_error("out of memory for %lu threads", n);
        return -1;
    }
    struct timespec t0, t1;
    unsigned long started = 0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (; started < n; started++) {
        int r = pthread_create(&tids[started], NULL, worker, s);
        if (r != 0) {
            vdisk_error err = { 0 };
            vdisk_error_set(&err, r, "cannot start worker thread %lu of %lu: %s", started + 1, n,
                            strerror(r));
            record_failure(s, &err);
            break;
        }
    }
    for (unsigned long i = 0; i < started; i++)
        pthread_join(tids[i], NULL);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    free(tids);
    return (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
}

/* --pattern: sequential, random, or qemu-img's fill byte. */
static int
parse_pattern(const char *arg, bench_args *a)
{
    if (strcmp(arg, "sequential") == 0) {
        a->random = false;
    } else if (strcmp(arg, "random") == 0) {
        a->random = true;
    } else if (vv_parse_ulong(arg, 0xff, &a->fill) < 0) {
        vv_error("Invalid pattern '%s': expected sequential, random or a byte value 0-255", arg);
        return -1;
    }
    return 0;
}

/* A counter option (-c, -d, --flush-interval) as qemu-img checks it. */
static int
parse_counter(const char *arg, const char *what, unsigned long *out)
{
    if (vv_parse_ulong(arg, INT_MAX, out) < 0) {
        vv_error("Invalid %s specified: '%s'", what, arg);
        return -1;
    }
    return 0;
}

/* -s / -S: sizes up to INT_MAX, as qemu-img. */
static int
parse_small_size(const char *what, const char *arg, uint64_t *out)
{
    if (vv_parse_size(what, arg, out) < 0)
        return -1;
    if (*out > INT_MAX) {
        vv_error("Invalid %s specified: '%s' is larger than %d bytes", what, arg, INT_MAX);
        return -1;
    }
    return 0;
}

/* -t: "none"/"directsync" bypass the page cache, the others use it. */
static int
parse_cache(const char *mode, unsigned *flags)
{
    if (strcmp(mode, "none") == 0 || strcmp(mode, "directsync") == 0)
        *flags |= VDISK_OPEN_DIRECT;
    else if (strcmp(mode, "writeback") == 0 || strcmp(mode, "writethrough") == 0 ||
             strcmp(mode, "unsafe") == 0)
        *flags &= ~(unsigned)VDISK_OPEN_DIRECT;
    else {
        vv_error("Invalid cache mode '%s' (expected none, writeback, writethrough, directsync "
                 "or unsafe)", mode);
        return -1;
    }
    return 0;
}

/* Set one option's value: 0, or -1 after saying why the value is bad (take_option of
 * convert and measure differs: it returns an exit status or -1 to go on). */
static int
set_option(int c, bench_args *a)
{
    switch (c) {
    case 'c': return parse_counter(optarg, "request count", &a->count);
    case 'd': return parse_counter(optarg, "queue depth", &a->depth);
    case 'f': a->fmt = optarg; return 0;
    case 'o': return vv_parse_size("offset", optarg, &a->offset);
    case 'q': a->quiet = true; return 0;
    case 's': return parse_small_size("buffer size", optarg, &a->bufsize);
    case 'S': return parse_small_size("step_size", optarg, &a->step);
    case 't': return parse_cache(optarg, &a->flags);
    case 'w': a->write = true; return 0;
    case 'U': a->flags |= VDISK_OPEN_FORCE_SHARE; return 0;
    case 'n': a->aio = "native"; return 0;
    case 'i':
        if (strcmp(optarg, "threads") != 0 && strcmp(optarg, "native") != 0 &&
            strcmp(optarg, "io_uring") != 0) {
            vv_error("Invalid aio option: %s", optarg);
            return -1;
        }
        a->aio = optarg;
        return 0;
    case OPT_NO_DRAIN: a->no_drain = true; return 0;
    case OPT_PATTERN: return parse_pattern(optarg, a);
    case OPT_FILL:
        if (vv_parse_ulong(optarg, 0xff, &a->fill) < 0) {
            vv_error("Invalid fill byte '%s': expected 0-255", optarg);
            return -1;
        }
        return 0;
    case OPT_SEED: {
        unsigned long seed;
        if (vv_parse_ulong(optarg, ULONG_MAX, &seed) < 0) {
            vv_error("Invalid seed '%s': expected an unsigned number", optarg);
            return -1;
        }
        a->seed = seed;
        return 0;
    }
    case OPT_FLUSH_INTERVAL: return parse_counter(optarg, "flush interval", &a->flush_interval);
    default: return 0;
    }
}

/* Parse the command line; returns -1 to go on, else an exit status. */
static int
parse_args(int argc, char **argv, bench_args *a)
{
    static const struct option longopts[] = {
        { "pattern", required_argument, NULL, OPT_PATTERN },
        { "seed", required_argument, NULL, OPT_SEED },
        { "fill", required_argument, NULL, OPT_FILL },
        { "flush-interval", required_argument, NULL, OPT_FLUSH_INTERVAL },
        { "no-drain", no_argument, NULL, OPT_NO_DRAIN },
        { "force-share", no_argument, NULL, 'U' },
        { NULL, 0, NULL, 0 },
    };
    int c;
    while ((c = vv_image_getopt(argc, argv, ":hc:d:f:ni:o:qs:S:t:wU", longopts, &a->secrets)) != -1) {
        if (c == VV_GETOPT_FAILED)
            return 1;
        if (c == 'h')
            return vv_command_help("bench");
        if (c == '?' || c == ':')
            return vv_getopt_fail(c, argv);
        if (set_option(c, a) < 0)
            return 1;
    }
    if (optind != argc - 1)
        return vv_usage_error("Expecting one image file name");
    if (a->depth == 0)
        return (vv_error("Invalid queue depth specified: must be at least 1"), 1);
    if (a->bufsize == 0)
        return (vv_error("Invalid buffer size specified: must be at least 1 byte"), 1);
    if (!a->write && a->flush_interval)
        return (vv_error("--flush-interval is only available in write tests"), 1);
    if (a->flush_interval && a->flush_interval < a->depth)
        return (vv_error("Flush interval can't be smaller than depth"), 1);
    if (a->step == 0)
        a->step = a->bufsize;
    return vv_secrets_check_format(&a->secrets, a->fmt) < 0 ? 1 : -1;
}

/* -n / -i: qemu-img's rule that native AIO needs O_DIRECT, then what vdisk
 * has: a thread pool.  0, or -1 with the reason printed. */
static int
check_aio(const bench_args *a, const char *file)
{
    if (!a->aio || strcmp(a->aio, "threads") == 0)
        return 0;
    if (strcmp(a->aio, "native") == 0 && !(a->flags & VDISK_OPEN_DIRECT)) {
        vv_error("Could not open '%s': aio=native was specified, but it requires "
                 "cache.direct=on, which was not specified.", file);
        return -1;
    }
    vv_error("aio=%s is not implemented: vdisk-virsh bench issues its requests from a pool "
             "of threads (-i threads, the default)", a->aio);
    return -1;
}

static void
print_header(const bench_args *a)
{
    if (a->quiet)
        return;
    const char *what = a->write ? "write" : "read";
    if (a->random)
        printf("Sending %lu %s requests, %" PRIu64 " bytes each, %lu in parallel (random offsets "
               "from %" PRIu64 ", aligned to %" PRIu64 ", seed %" PRIu64 ")\n",
               a->count, what, a->bufsize, a->depth, a->offset, a->bufsize, a->seed);
    else
        printf("Sending %lu %s requests, %" PRIu64 " bytes each, %lu in parallel "
               "(starting at offset %" PRIu64 ", step size %" PRIu64 ")\n",
               a->count, what, a->bufsize, a->depth, a->offset, a->step);
    if (a->flush_interval)
        printf("Sending flush every %lu requests\n", a->flush_interval);
    fflush(stdout);
}

/* Check the geometry against the image; returns 0 or prints why not. */
static int
prepare(bench_state *s, const char *file)
{
    const bench_args *a = s->a;
    s->image_size = vdisk_get_size(s->img);
    if (s->image_size < a->bufsize || a->offset > s->image_size - a->bufsize) {
        vv_error("%s: image of %" PRIu64 " bytes is too small for %" PRIu64 "-byte requests at "
                 "offset %" PRIu64, file, s->image_size, a->bufsize, a->offset);
        return -1;
    }
    s->slots = (s->image_size - a->offset - a->bufsize) / a->bufsize + 1;
    return 0;
}

/* bench: run COUNT requests DEPTH at a time and report the rate. */
int
cmd_bench(int argc, char **argv)
{
    bench_args a = { .count = 75000, .depth = 64, .bufsize = 4096, .seed = 1 };
    int ret = parse_args(argc, argv, &a);
    if (ret >= 0) {
        vv_secrets_clear(&a.secrets);
        return ret;
    }
    const char *file = argv[optind];
    bench_state s = { .a = &a, .limit = a.flush_interval };
    pthread_mutex_init(&s.err_lock, NULL);
    pthread_mutex_init(&s.drain_lock, NULL);
    pthread_cond_init(&s.drain_cv, NULL);
    unsigned flags = a.flags | (a.write ? VDISK_OPEN_RDWR : 0);
    ret = 1;
    int opened = check_aio(&a, file) < 0 ? -1 : vv_open_secure(file, a.fmt, flags, &a.secrets, &s.img);
    vv_secrets_clear(&a.secrets);
    if (opened < 0)
        goto out;
    file = vdisk_get_filename(s.img);
    if (prepare(&s, file) < 0)
        goto out;
    print_header(&a);
    double secs = run_workers(&s);
    if (secs < 0)
        goto out;
    if (atomic_load(&s.failed)) {
        vv_error("%s: Failed request: %s", file, s.err.message);
        goto out;
    }
    printf("Run completed in %3.3f seconds.\n", secs);
    double iops = secs > 0 ? (double)a.count / secs : 0;
    printf("IOPS: %.0f (%.2f MiB/s)\n", iops, iops * (double)a.bufsize / (1024.0 * 1024.0));
    ret = 0;
out:
    if (s.img && vv_close_image(s.img, ret == 0) < 0)
        ret = 1;
    pthread_mutex_destroy(&s.err_lock);
    pthread_mutex_destroy(&s.drain_lock);
    pthread_cond_destroy(&s.drain_cv);
    return ret;
}
