/* vdisk-soak workload: the threads and the byte model.
 *
 * The guest range is cut into regions of w->region bytes; region r belongs
 * to thread r % threads, and only that thread reads, writes, zeroes or
 * discards inside it, so the expected content of every byte is simply what
 * its owner last did there (no ordering between threads to model).  The
 * region size is chosen by soak.c so that regions do NOT line up with
 * clusters or sectors: neighbouring threads share clusters, L2 tables and
 * refcount blocks, which is where a driver's locking is tested.
 *
 * Each thread draws its operations from its own xorshift generator seeded
 * from (seed, thread number), so a thread's sequence of operations is the
 * same in every run with that seed; only the interleaving differs.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "soak.h"

#define SMALL_OP 4096u   /* half of the operations are at most this long */

typedef struct soak_thread {
    soak_workload *w;
    unsigned id;
    uint64_t rng;
    uint8_t *buf;           /* one region's worth of scratch */
    uint64_t ops;
} soak_thread;

/* xorshift64*: a thread's private generator. */
static uint64_t
next_random(uint64_t *x)
{
    *x ^= *x >> 12;
    *x ^= *x << 25;
    *x ^= *x >> 27;
    return *x * UINT64_C(2685821657736338717);
}

static uint64_t
below(soak_thread *t, uint64_t n)
{
    return n ? next_random(&t->rng) % n : 0;
}

static double
now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Report the first problem and stop every thread. */
static int
fail(soak_thread *t, const char *what, uint64_t off, uint64_t len, const char *detail)
{
    if (!atomic_exchange(&t->w->failed, true))
        fprintf(stderr, "vdisk-soak: thread %u, op %" PRIu64 ": %s at 0x%" PRIx64
                " (+%" PRIu64 "): %s\n", t->id, t->ops, what, off, len, detail);
    return -1;
}

/* Pick the range of the next operation: somewhere in one of this thread's
 * regions, short half of the time. */
static void
pick_range(soak_thread *t, uint64_t *off, uint64_t *len)
{
    soak_workload *w = t->w;
    uint64_t nregions = (w->size + w->region - 1) / w->region;
    uint64_t mine = (nregions - t->id + w->threads - 1) / w->threads;
    uint64_t r = t->id + below(t, mine) * w->threads;
    uint64_t start = r * w->region;
    uint64_t end = start + w->region < w->size ? start + w->region : w->size;

    *off = start + below(t, end - start);
    uint64_t room = end - *off;
    uint64_t cap = below(t, 2) ? (room < SMALL_OP ? room : SMALL_OP) : room;
    *len = 1 + below(t, cap);
}

/* Read a range and compare it with the model. */
static int
op_read(soak_thread *t, uint64_t off, uint64_t len)
{
    vdisk_error err = {0};
    if (vdisk_pread(t->w->img, t->buf, len, off, &err) < 0)
        return fail(t, "read", off, len, err.message);
    if (memcmp(t->buf, t->w->model + off, len) != 0) {
        uint64_t i = 0;
        while (t->buf[i] == t->w->model[off + i])
            i++;
        char detail[128];
        snprintf(detail, sizeof detail, "byte 0x%" PRIx64 " reads 0x%02x, model has 0x%02x",
                 off + i, t->buf[i], t->w->model[off + i]);
        return fail(t, "read", off, len, detail);
    }
    atomic_fetch_add(&t->w->bytes_verified, len);
    return 0;
}

/* Write random bytes and record them in the model. */
static int
op_write(soak_thread *t, uint64_t off, uint64_t len)
{
    vdisk_error err = {0};
    for (uint64_t i = 0; i < len; i += 8) {
        uint64_t v = next_random(&t->rng);
        memcpy(t->buf + i, &v, len - i < 8 ? len - i : 8);
    }
    if (vdisk_pwrite(t->w->img, t->buf, len, off, &err) < 0)
        return fail(t, "write", off, len, err.message);
    memcpy(t->w->model + off, t->buf, len);
    return 0;
}

/* Write zeroes (maybe unmapping), or discard: both read as zeros after. */
static int
op_zero(soak_thread *t, uint64_t off, uint64_t len, bool discard)
{
    vdisk_error err = {0};
    int r = discard ? vdisk_discard(t->w->img, len, off, &err)
                    : vdisk_write_zeroes(t->w->img, len, off,
                                         below(t, 2) ? VDISK_ZERO_MAY_UNMAP : 0, &err);
    if (r < 0)
        return fail(t, discard ? "discard" : "write zeroes", off, len, err.message);
    memset(t->w->model + off, 0, len);
    return 0;
}

/* Compressed write of the whole clusters inside the range (if any). */
static int
op_compressed(soak_thread *t, uint64_t off, uint64_t len)
{
    uint64_t c = t->w->cluster;
    uint64_t first = (off + c - 1) / c * c, end = (off + len) / c * c;
    if (end <= first)
        return op_write(t, off, len);
    len = end - first;
    /* Compressible content (runs of one byte), so clusters really shrink. */
    for (uint64_t i = 0; i < len; i += 512)
        memset(t->buf + i, (int)(next_random(&t->rng) & 0xff), 512);
    vdisk_error err = {0};
    if (vdisk_pwrite_compressed(t->w->img, t->buf, len, first, &err) < 0)
        return fail(t, "compressed write", first, len, err.message);
    memcpy(t->w->model + first, t->buf, len);
    return 0;
}

/* Block status of a range through the backing chain: what it calls zero,
 * or allocated nowhere, must be zeros in the model. */
static int
op_status(soak_thread *t, uint64_t off, uint64_t len)
{
    vdisk_error err = {0};
    vdisk_extent ext;
    if (vdisk_block_status_chain(t->w->img, off, len, &ext, &err) < 0)
        return fail(t, "block status", off, len, err.message);
    if (ext.offset != off || ext.length == 0 || ext.length > len)
        return fail(t, "block status", off, len, "extent outside the queried range");
    bool zero = (ext.flags & VDISK_EXTENT_ZERO) || !(ext.flags & VDISK_EXTENT_ALLOCATED);
    for (uint64_t i = 0; zero && i < ext.length; i++)
        if (t->w->model[off + i] != 0)
            return fail(t, "block status", off, ext.length, "reported zero, model has data");
    return 0;
}

static int
op_flush(soak_thread *t)
{
    vdisk_error err = {0};
    if (vdisk_flush(t->w->img, &err) < 0)
        return fail(t, "flush", 0, 0, err.message);
    return 0;
}

/* One random operation: the mix leans on writes and reads. */
static int
one_op(soak_thread *t)
{
    uint64_t off, len;
    pick_range(t, &off, &len);
    unsigned dice = (unsigned)below(t, 100);
    if (dice < 30)
        return op_read(t, off, len);
    if (dice < 60)
        return op_write(t, off, len);
    if (dice < 70)
        return op_zero(t, off, len, false);
    if (dice < 80)
        return op_zero(t, off, len, true);
    if (dice < 88)
        return t->w->compressed ? op_compressed(t, off, len) : op_write(t, off, len);
    if (dice < 97)
        return op_status(t, off, len);
    return op_flush(t);
}

/* Thread body: operations until the count or the time is reached. */
static void *
worker(void *opaque)
{
    soak_thread *t = opaque;
    soak_workload *w = t->w;
    double deadline = now_seconds() + w->seconds;
    while (!atomic_load(&w->failed)) {
        if (w->ops_per_thread ? t->ops >= w->ops_per_thread
                              : (t->ops % 64 == 0 && now_seconds() >= deadline))
            break;
        if (one_op(t) < 0)
            break;
        t->ops++;
        atomic_fetch_add(&w->ops, 1);
    }
    return NULL;
}

int
soak_run(soak_workload *w)
{
    soak_thread *t = calloc(w->threads, sizeof *t);
    pthread_t *tid = calloc(w->threads, sizeof *tid);
    unsigned started = 0;
    if (!t || !tid) {
        fprintf(stderr, "vdisk-soak: out of memory\n");
        free(t);
        free(tid);
        return -1;
    }
    for (; started < w->threads; started++) {
        t[started] = (soak_thread){ .w = w, .id = started,
                                    .rng = (w->seed * 0x9e3779b97f4a7c15u + started) | 1,
                                    .buf = malloc(w->region) };
        if (!t[started].buf || pthread_create(&tid[started], NULL, worker, &t[started]) != 0) {
            free(t[started].buf);
            atomic_store(&w->failed, true);
            fprintf(stderr, "vdisk-soak: cannot start thread %u\n", started);
            break;
        }
    }
    for (unsigned i = 0; i < started; i++) {
        pthread_join(tid[i], NULL);
        free(t[i].buf);
    }
    free(t);
    free(tid);
    return atomic_load(&w->failed) ? -1 : 0;
}
