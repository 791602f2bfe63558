/* libvdisk — the copy engine behind `vdisk-virsh convert`.
 *
 * The source is walked with block status through its whole backing chain;
 * ranges that read as zeros are never read.  Data ranges are cut into jobs
 * of up to CHUNK_MAX bytes whose ends fall on target-cluster boundaries
 * (4 KiB "granules" for a raw target, qemu-img's -S default), so every
 * write covers whole target clusters and needs no read-modify-write.
 * Granules that turn out to be all zeros are not written: the target
 * stays sparse.
 *
 * The source's block status is asked once per extent, not once per job:
 * the extent last reported is remembered (the source is locked against
 * writers for the whole copy).  That walk is convert-jobs.c's.
 *
 * `workers` threads each claim a job, read it and write it.  Reads run in
 * parallel; for a target that allocates its clusters as it goes (qcow2) the
 * writes go out in guest order, as qemu-img does without -W, so the
 * target's host layout is sequential and the same as qemu-img's: a job
 * read before its turn waits in a ready list (see convert_slot) while its
 * worker goes on with the next.  Where the target can split its writes
 * (vdisk_write_reserve: qcow2), only the placing of a job's clusters waits
 * for its turn, and the data is copied after it, by up to max_writers
 * workers side by side (reserve_in_turn): the layout is the same, and a
 * worker preempted while it copies no longer holds up the next job (beside
 * two busy processes, 1 GiB raw -> qcow2 on tmpfs went from 1.44 times the
 * time of -W to 0.99).  A raw target has no layout to keep, and
 * with -W (out_of_order) the layout may follow the order the reads finish
 * in: then jobs are written in that order, by at most FILE_WRITERS workers
 * at a time when the target is a host file written through the page cache
 * (see there), else by every worker as soon as its job is read, beside the
 * others (a worker preempted in the middle of its read holds up nobody).
 * Memory is bounded: a fixed number of job buffers (slots).
 *
 * Compressed conversion (-c) compresses in the workers too, before the
 * turn, so only the (cheap) stores are serialised and the target is laid
 * out exactly as an in-order, one-cluster-at-a-time qemu-img convert -c
 * lays it out.  (qemu-img compresses inside its in-order write: one
 * cluster at a time.)
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "convert-int.h"
#include "convert-target.h"
#include "driver.h"
#include "lock.h"

/* Job size.  1 MiB, not qemu-img's 2 MiB: a job's data is read into its
 * buffer, scanned for zeros and written out of it, and a smaller buffer is
 * still in the CPU cache for the scan and the write (perf stat, 1 GiB
 * raw -> qcow2 on tmpfs: 16% less CPU time than with 2 MiB; 512 KiB gains
 * nothing more), and it halves the memory of the slots. */
#define CHUNK_MAX (1u << 20)
/* Smaller jobs when compressing: each slot also holds the compressed
 * clusters, and a job is compressed by one worker.  With 256 KiB convert -c
 * (zlib, 4 workers, 1 GiB mixed input) peaked at 11.8 MiB against
 * qemu-img's 10.9-11.2; with 128 KiB 10.6-10.9 against 10.7-11.4, for the
 * same CPU time.  And a job is about half a millisecond of one CPU's work,
 * for the pause between jobs (pause_between_jobs): deflate (zlib, the
 * grains of a streamOptimized VMDK) takes about 0.6 ms for a 64 KiB
 * cluster, zstd a quarter of that.  Beside two busy processes, zlib in
 * 64 KiB jobs took 8.0-8.9 s (-c -W -m 8) and 8.5-9.9 s (-c) where 128 KiB
 * took 8.9-10.6 and 9.3-10.0 (3 alternating runs each); quiet the same. */
#define CHUNK_DEFLATE (64u << 10)
#define CHUNK_ZSTD (128u << 10)
/* Zero-detection unit of a raw target, as qemu-img's default -S 4k. */
#define RAW_GRANULE 4096u
/* As qemu-img: -m takes 1..16 coroutines; by default 8. */
#define MAX_WORKERS VDISK_CONVERT_MAX_WORKERS
#define DEFAULT_WORKERS_CAP 8
/* Workers writing at once, in any order, into a target that is a host
 * file written through the page cache.  Writers of one file queue on its
 * inode lock (and a qcow2 target's on its metadata lock): with every worker
 * writing, 9% of a qcow2 -> raw copy's CPU time went to spinning there
 * (perf, 1 GiB on tmpfs), and beside two busy processes the copy took
 * 1.5-1.7 times qemu-img's time (convert -c -W: 1.8-2.0) for the same CPU
 * time.  Two at a time: 0.92-0.94 (1.0-1.3) loaded, quiet as before; one
 * at a time lost the quiet lead (docs/benchmarks.md).  O_DIRECT, NBD and
 * RBD targets gain from writes in flight side by side and keep them. */
#define FILE_WRITERS 2
/* Start writeback of the target every so many bytes written, so that the
 * final flush finds little left to do (only when the copy ends with one). */
#define WRITEBACK_EVERY (32u << 20)

/* A job with its buffers: the chunk read and, with precompress, its
 * clusters compressed (one cluster-size place each) and their lengths.
 * Workers take a free slot and fill it (read, compress); where writers are
 * limited (max_writers) a slot that cannot be written yet (not its turn, or
 * enough workers writing) is left in the ready list, and whoever writes goes
 * on with the ready slots.  So a slow worker delays the writes but not the
 * others' reads and compression. */
struct convert_slot {
    convert_job job;
    uint8_t *buf;
    uint8_t *out;
    uint32_t *clen;
    vdisk_reservation **res;     /* split: the job's data runs, placed in its turn */
    uint32_t *res_pos;           /* ... and where each starts in buf */
    uint32_t nres;
    struct convert_slot *next;   /* in the free, ready or reserved list */
};

static void
fail(convert_state *s, int r, const vdisk_error *err)
{
    pthread_mutex_lock(&s->lock);
    convert_fail_locked(s, r, err);
    pthread_mutex_unlock(&s->lock);
}

/* Count the bytes written; every WRITEBACK_EVERY of them, when the copy
 * ends with a flush, the caller is to start writeback of the target (so
 * that the flush finds little left to do).  Lock held. */
static bool
writeback_due_locked(convert_state *s, uint64_t written)
{
    if (s->dst->file->direct || s->opts->no_flush)
        return false;
    s->unflushed += written;
    if (s->unflushed < WRITEBACK_EVERY)
        return false;
    s->unflushed = 0;
    return true;
}

/* Kick off asynchronous writeback of everything written so far (no wait),
 * without the lock: the kernel may make the caller wait for the device,
 * and the other workers must not wait with it. */
static void
start_writeback(const convert_state *s)
{
    vdisk_file_start_writeback(s->dst->file);
}

/* -r: wait until the bytes written so far are within the rate.  The
 * wait holds the lock, so that every worker waits: the limit is the
 * copy's, not each worker's.  Lock held. */
static void
rate_limit_locked(convert_state *s, uint64_t written)
{
    if (!s->opts->rate_limit)
        return;
    s->written += written;
    double due = (double)s->written / (double)s->opts->rate_limit;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    double elapsed = (double)(now.tv_sec - s->start.tv_sec) + (now.tv_nsec - s->start.tv_nsec) / 1e9;
    if (due <= elapsed)
        return;
    double wait = due - elapsed;
    struct timespec ts = { .tv_sec = (time_t)wait, .tv_nsec = (long)((wait - (double)(time_t)wait) * 1e9) };
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

/* The job's writes are done: pass the turn on, count its progress and
 * give its slot back; true when writeback is due.  Lock held. */
static bool
finish_job_locked(convert_state *s, convert_slot *slot)
{
    bool writeback = writeback_due_locked(s, slot->job.len);
    rate_limit_locked(s, slot->job.len);
    if (s->ordered && !s->split)
        s->write_turn = slot->job.seq + 1;
    convert_progress_locked(s, slot->job.progress, slot->job.zero ? 0 : slot->job.len);
    slot->next = s->free_slots;
    s->free_slots = slot;
    pthread_cond_broadcast(&s->turn_cv);
    return writeback;
}

/* The clusters of w->buf at [pos, pos+len) of a job at guest offset off,
 * as compressed by compress_chunk. */
static vdisk_precompressed
precompressed_view(const convert_state *s, const convert_slot *w, uint64_t pos, uint64_t len,
                   uint64_t off)
{
    vdisk_precompressed c = {
        .off = off + pos, .len = len, .data = w->buf + pos,
        .out = w->out + pos, .clen = w->clen + pos / s->granule,
    };
    return c;
}

/* Write one run of granules that are all data (or, when zero, all zeros:
 * skipped unless the target has a backing file to hide). */
static int
write_run(convert_state *s, const convert_slot *w, uint64_t pos, uint64_t len, uint64_t off,
          bool zero, vdisk_error *err)
{
    /* -S 0: zeros are data like any other (the buffer holds them) */
    if (zero && !s->opts->fully_allocate)
        return s->must_zero ? vdisk_write_zeroes(s->dst, len, off + pos, 0, err) : 0;
    if (s->precompress) {
        vdisk_precompressed c = precompressed_view(s, w, pos, len, off);
        return vdisk_pwrite_precompressed(s->dst, &c, err);
    }
    if (s->opts->compress)
        return vdisk_pwrite_compressed(s->dst, w->buf + pos, len, off + pos, err);
    return vdisk_pwrite(s->dst, w->buf + pos, len, off + pos, err);
}

/* Bytes from off to the next granule boundary, at most len. */
static uint64_t
granule_piece(const convert_state *s, uint64_t off, uint64_t len)
{
    return min_u64(s->granule - off % s->granule, len);
}

/* The run from pos of neighbouring granules of one kind (data / zeros) in
 * the chunk read at guest offset off. */
static uint64_t
next_run(const convert_state *s, const uint8_t *buf, uint64_t len, uint64_t off, uint64_t pos,
         bool *zero)
{
    uint64_t piece = granule_piece(s, off + pos, len - pos);
    *zero = vdisk_buffer_is_zero(buf + pos, piece);
    uint64_t run = piece;
    while (pos + run < len) {
        uint64_t next = granule_piece(s, off + pos + run, len - pos - run);
        if (vdisk_buffer_is_zero(buf + pos + run, next) != *zero)
            break;
        run += next;
    }
    return run;
}

/* The run of the slot's job at pos as it is written: with -S N, zeros
 * shorter than N are written as data. */
static uint64_t
write_run_at(const convert_state *s, const convert_slot *w, uint64_t pos, bool *zero)
{
    uint64_t run = next_run(s, w->buf, w->job.len, w->job.off, pos, zero);
    if (*zero && run < s->min_zero_run)
        *zero = false;
    return run;
}

/* Write the slot's chunk, run by run. */
static int
write_chunk(convert_state *s, const convert_slot *w, vdisk_error *err)
{
    uint64_t pos = 0, len = w->job.len, off = w->job.off;
    while (pos < len) {
        bool zero;
        uint64_t run = write_run_at(s, w, pos, &zero);
        int r = write_run(s, w, pos, run, off, zero, err);
        if (r < 0)
            return r;
        pos += run;
    }
    return 0;
}

/* Compress the data runs of the chunk (before the job's turn to write). */
static int
compress_chunk(convert_state *s, const convert_slot *w, uint64_t len, uint64_t off,
               vdisk_error *err)
{
    uint64_t pos = 0;
    while (pos < len) {
        bool zero;
        uint64_t run = next_run(s, w->buf, len, off, pos, &zero);
        if (!zero) {
            vdisk_precompressed c = precompressed_view(s, w, pos, run, off);
            int r = vdisk_compress_ahead(s->dst, &c, err);
            if (r < 0)
                return r;
        }
        pos += run;
    }
    return 0;
}

/* --salvage: read the range again a sector at a time; a sector that
 * still fails reads as zeros and is reported (qemu-img's recovery). */
static int
salvage_read(convert_state *s, uint8_t *buf, uint64_t len, uint64_t off)
{
    for (uint64_t pos = 0; pos < len; pos += SALVAGE_SECTOR) {
        uint64_t n = min_u64(SALVAGE_SECTOR, len - pos);
        vdisk_error e;
        int r = vdisk_pread(s->src, buf + pos, n, off + pos, &e);
        if (r < 0) {
            memset(buf + pos, 0, n);
            if (s->opts->salvage_warn)
                s->opts->salvage_warn(s->opts->salvage_opaque, false, off + pos, -r);
        }
    }
    return 0;
}

/* Read the slot's job (unless it is a zero job) and compress it when
 * precompressing: everything before its turn. */
static int
fill_slot(convert_state *s, const convert_slot *w, vdisk_error *err)
{
    if (w->job.zero)
        return 0;
    int r = vdisk_pread(s->src, w->buf, w->job.len, w->job.off, err);
    if (r < 0 && s->opts->salvage && r != -ENOMEM && r != -ECANCELED)
        r = salvage_read(s, w->buf, w->job.len, w->job.off);
    if (r == 0 && s->precompress)
        r = compress_chunk(s, w, w->job.len, w->job.off, err);
    return r;
}

static int
write_slot(convert_state *s, convert_slot *w, vdisk_error *err)
{
    if (w->job.zero)
        return write_run(s, w, 0, w->job.len, w->job.off, true, err);
    return write_chunk(s, w, err);
}

/* The ready slot to write next, taken out of the list: job seq when the
 * writes are in order, else any; NULL if there is none.  Lock held. */
static convert_slot *
take_ready_locked(convert_state *s, uint64_t seq)
{
    for (convert_slot **p = &s->ready; *p; p = &(*p)->next)
        if (!s->ordered || (*p)->job.seq == seq) {
            convert_slot *w = *p;
            *p = w->next;
            return w;
        }
    return NULL;
}

typedef int convert_write_fn(convert_state *s, convert_slot *w, vdisk_error *err);

/* Write slot w with `write`, without the lock and counted among the
 * writers, and finish its job.  *writeback: writeback was due after the
 * previous job (started here, outside the lock), and is due after this one
 * (for the caller to start once it lets go of the lock).  Lock held. */
static int
write_counted_locked(convert_state *s, convert_slot *w, convert_write_fn *write, bool *writeback,
                     vdisk_error *err)
{
    s->writing++;
    pthread_mutex_unlock(&s->lock);
    if (*writeback)
        start_writeback(s);
    int r = write(s, w, err);
    pthread_mutex_lock(&s->lock);
    s->writing--;
    *writeback = r == 0 && finish_job_locked(s, w);
    return r;
}

/* Limited writers: leave the filled slot ready; unless max_writers workers
 * are writing already, write every ready slot that may be written. */
static int
write_in_turn(convert_state *s, convert_slot *slot, vdisk_error *err)
{
    int r = 0;
    bool writeback = false;
    pthread_mutex_lock(&s->lock);
    slot->next = s->ready;
    s->ready = slot;
    while (r == 0 && !s->stop && s->writing < s->max_writers) {
        convert_slot *w = take_ready_locked(s, s->write_turn);
        if (!w)
            break;
        r = write_counted_locked(s, w, write_slot, &writeback, err);
    }
    pthread_mutex_unlock(&s->lock);
    if (writeback)
        start_writeback(s);
    return r;
}

/* Split writes, in the job's turn: place its data runs (vdisk_write_reserve)
 * and write its zeros; a run the target cannot split is written now. */
static int
reserve_slot(convert_state *s, convert_slot *w, vdisk_error *err)
{
    if (w->job.zero)
        return write_run(s, w, 0, w->job.len, w->job.off, true, err);
    uint64_t pos = 0, len = w->job.len, off = w->job.off;
    while (pos < len) {
        bool zero;
        uint64_t run = write_run_at(s, w, pos, &zero);
        int r = -ENOTSUP;
        if (!zero || s->opts->fully_allocate) {
            r = vdisk_write_reserve(s->dst, run, off + pos, &w->res[w->nres], err);
            if (r == 0)
                w->res_pos[w->nres++] = (uint32_t)pos;
        }
        if (r == -ENOTSUP)
            r = write_run(s, w, pos, run, off, zero, err);
        if (r < 0)
            return r;
        pos += run;
    }
    return 0;
}

/* Give up the slot's reservations from the i-th on. */
static void
cancel_reserved(convert_state *s, convert_slot *w, uint32_t i)
{
    for (; i < w->nres; i++)
        vdisk_write_cancel(s->dst, w->res[i]);
    w->nres = 0;
}

/* Split writes, after the turn: the data of the runs placed. */
static int
write_reserved_slot(convert_state *s, convert_slot *w, vdisk_error *err)
{
    int r = 0;
    uint32_t i = 0;
    while (r == 0 && i < w->nres) {
        r = vdisk_write_reserved(s->dst, w->res[i], w->buf + w->res_pos[i], err);
        i++;
    }
    cancel_reserved(s, w, i);
    return r;
}

/* Split writes: leave the filled slot ready; place the job whose turn it
 * is, unless another worker is placing one, then write placed jobs, unless
 * max_writers workers are writing.  Only the placing is in guest order, so
 * a worker preempted while it copies data holds up no other. */
static int
reserve_in_turn(convert_state *s, convert_slot *slot, vdisk_error *err)
{
    int r = 0;
    bool writeback = false;
    pthread_mutex_lock(&s->lock);
    slot->next = s->ready;
    s->ready = slot;
    while (r == 0 && !s->stop) {
        convert_slot *w = s->reserving ? NULL : take_ready_locked(s, s->write_turn);
        if (w) {
            s->reserving = true;
            pthread_mutex_unlock(&s->lock);
            r = reserve_slot(s, w, err);
            pthread_mutex_lock(&s->lock);
            s->reserving = false;
            s->write_turn = w->job.seq + 1;
            w->next = s->reserved;
            s->reserved = w;
            continue;
        }
        if (s->writing >= s->max_writers || !s->reserved)
            break;
        w = s->reserved;
        s->reserved = w->next;
        r = write_counted_locked(s, w, write_reserved_slot, &writeback, err);
    }
    pthread_mutex_unlock(&s->lock);
    if (writeback)
        start_writeback(s);
    return r;
}

/* Write the filled slot at once, beside the other workers' writes. */
static int
write_alongside(convert_state *s, convert_slot *w, vdisk_error *err)
{
    int r = write_slot(s, w, err);
    pthread_mutex_lock(&s->lock);
    bool writeback = r == 0 && finish_job_locked(s, w);
    pthread_mutex_unlock(&s->lock);
    if (writeback)
        start_writeback(s);
    return r;
}

/* A free slot with a newly claimed job, waiting while every slot is in
 * use; NULL when there is no more work.  Lock held. */
static convert_slot *
next_job_locked(convert_state *s)
{
    while (!s->stop && !s->free_slots)
        pthread_cond_wait(&s->turn_cv, &s->lock);
    convert_slot *w = s->free_slots;
    if (!w || !convert_claim_job_locked(s, &w->job))
        return NULL;
    s->free_slots = w->next;
    return w;
}

/* A compressing worker sleeps for a moment between two jobs, as a thread
 * pool's worker waits for its next request: a zero-length nanosleep, which
 * with the default 50 us timer slack keeps the thread off the CPU for
 * 60-80 us.  Beside other sessions' busy processes the kernel's scheduler
 * (EEVDF, autogroup) gives the CPU back sooner to a thread that sleeps
 * between short bursts than to one that never sleeps.  Measured 2026-12-07,
 * 1 GiB mixed input on tmpfs beside two busy processes (one per core):
 * without the sleep vdisk ran 0.65 CPUs (`convert -c -W -m 8`, zlib; the
 * busy processes 62-67% each), qemu-img, whose 11 pool threads sleep after
 * every cluster, 1.6 CPUs (the busy processes 7-33% each in `top`'s
 * samples).  With it: -c zlib 11.7 -> 10.0 s, -c -W -m 8 12.5 -> 9.5 s,
 * -c zstd -W -m 8 3.3-3.8 -> 1.3-2.2 s.  It is the sleep that counts, not the switch: with a 1 ns
 * slack (a 19 us round trip) zstd -W took 3.1-3.4 s, as without; sleeping
 * once per 0.5 ms or 1 ms of the worker's CPU time instead of every job,
 * 2.3-3.1 s.  Quiet it costs zstd -W 9% (9 alternating pairs; 1.5% in
 * order, zlib within the noise: its jobs take 1.2 ms of CPU, zstd's 0.3).
 * A plain copy's job costs little CPU: there a sleep made converts 12%
 * slower quiet, so only compressing workers take it. */
static void
pause_between_jobs(void)
{
    struct timespec none = { 0, 0 };
    (void)nanosleep(&none, NULL);
}

/* Worker thread: claim jobs until there are none left or the copy stops. */
static void *
worker_main(void *opaque)
{
    convert_state *s = opaque;
    for (;;) {
        pthread_mutex_lock(&s->lock);
        convert_slot *w = next_job_locked(s);
        pthread_mutex_unlock(&s->lock);
        if (!w)
            break;
        vdisk_error e;
        int r = fill_slot(s, w, &e);
        if (s->precompress)
            pause_between_jobs();
        if (r == 0)
            r = s->split ? reserve_in_turn(s, w, &e)
              : s->max_writers ? write_in_turn(s, w, &e) : write_alongside(s, w, &e);
        if (r < 0) {
            fail(s, r, &e);
            break;
        }
    }
    return NULL;
}

/* n slots with their buffers, all free. */
static int
slots_alloc(convert_state *s, int n, vdisk_error *err)
{
    s->slots = calloc((size_t)n, sizeof(*s->slots));
    int r = s->slots ? 0 : -ENOMEM;
    for (int i = 0; r == 0 && i < n; i++) {
        convert_slot *w = &s->slots[i];
        s->nslots++;
        w->buf = vdisk_alloc_aligned(s->chunk, false);
        if (s->precompress) {
            w->out = malloc(s->chunk);
            w->clen = calloc(s->chunk / s->granule + 1, sizeof(*w->clen));
        }
        if (s->split) {
            /* at most a run per granule (-S N: short zero runs are data) */
            size_t runs = s->chunk / s->granule + 2;
            w->res = calloc(runs, sizeof(*w->res));
            w->res_pos = calloc(runs, sizeof(*w->res_pos));
        }
        if (!w->buf || (s->precompress && (!w->out || !w->clen)) ||
            (s->split && (!w->res || !w->res_pos)))
            r = -ENOMEM;
        w->next = s->free_slots;
        s->free_slots = w;
    }
    if (r < 0)
        return vdisk_error_set(err, ENOMEM, "%s: out of memory for %d copy buffers of %u bytes",
                               vdisk_get_filename(s->dst), n, s->chunk);
    return 0;
}

static void
slots_free(convert_state *s)
{
    for (int i = 0; i < s->nslots; i++) {
        /* a copy that stopped may leave placed writes unwritten */
        cancel_reserved(s, &s->slots[i], 0);
        free(s->slots[i].res);
        free(s->slots[i].res_pos);
        free(s->slots[i].buf);
        free(s->slots[i].out);
        free(s->slots[i].clen);
    }
    free(s->slots);
}

/* The number of workers to run: the caller's, or a default for this machine. */
static int
worker_count(const vdisk_convert_opts *opts, uint64_t size, uint32_t chunk)
{
    int n = opts->workers;
    if (n <= 0) {
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);
        n = cpus > 0 ? (int)(cpus * 2) : 4;
        if (n > DEFAULT_WORKERS_CAP)
            n = DEFAULT_WORKERS_CAP;
    }
    if (n > MAX_WORKERS)
        n = MAX_WORKERS;
    /* No point in more workers than chunks. */
    uint64_t chunks = (size + chunk - 1) / chunk;
    if (chunks < (uint64_t)n)
        n = chunks > 0 ? (int)chunks : 1;
    return n;
}

/* Run the workers (the calling thread is one of them) and collect the
 * result.  With limited writers there are spare slots, so that workers go
 * on reading and compressing while earlier jobs wait to be written. */
static int
run_workers(convert_state *s, int n, vdisk_error *err)
{
    int r = slots_alloc(s, s->max_writers ? n + n / 2 + 1 : n, err);
    if (r < 0) {
        slots_free(s);
        return r;
    }
    pthread_t tids[MAX_WORKERS];
    int started = 0;
    for (int i = 1; i < n; i++) {
        if (pthread_create(&tids[started], NULL, worker_main, s) != 0)
            break;   /* fewer workers is slower, not wrong */
        started++;
    }
    worker_main(s);
    for (int i = 0; i < started; i++)
        pthread_join(tids[i], NULL);
    slots_free(s);
    if (s->result < 0 && err)
        *err = s->err;
    return s->result;
}

/* Whether the target compresses with zstd (a qcow2 image made with
 * compression_type=zstd), which is four times as fast as deflate. */
static bool
compresses_zstd(vdisk_image *dst)
{
    vdisk_info info;
    if (vdisk_get_info(dst, &info, NULL) < 0)
        return false;
    bool zstd = info.compression_type && strcmp(info.compression_type, "zstd") == 0;
    vdisk_info_clear(&info);
    return zstd;
}

/* Fill the engine's geometry for this target. */
static void
setup_state(convert_state *s, vdisk_image *src, vdisk_image *dst, const vdisk_convert_opts *opts)
{
    memset(s, 0, sizeof(*s));
    s->src = src;
    s->dst = dst;
    s->opts = opts;
    s->size = vdisk_get_size(src);
    uint32_t cluster = vdisk_get_cluster_size(dst);
    s->granule = cluster ? cluster : RAW_GRANULE;
    /* -S N, as qemu-img: zeros are looked for sector by sector, and only
     * runs of N bytes or more are left unwritten. */
    if (opts->sparse_size) {
        s->granule = 512;
        s->min_zero_run = opts->sparse_size;
    }
    s->chunk = s->granule > CHUNK_MAX ? s->granule : CHUNK_MAX / s->granule * s->granule;
    /* A sparse VMDK source is read grain by grain (each grain found through
     * its table, a stream's grains inflated one at a time): a job bigger
     * than a grain buys no bigger read, only memory in every slot.  256 MiB
     * of mixed input into qcow2, 4 workers: 1 MiB jobs peaked at 15.0 MiB
     * (monolithicSparse) and 16.6 MiB (streamOptimized), one-grain jobs at
     * 8.4-8.6 and 8.7-9.1 MiB against qemu-img's 9.0 and 9.1, still faster
     * than qemu-img (0.15-0.19 s against 0.21-0.42 s; 0.42-0.44 s against
     * 0.57-0.71 s).  Flat extents report no grain and keep big jobs. */
    uint32_t grain = vdisk_get_format(src) == VDISK_FORMAT_VMDK ? vdisk_get_cluster_size(src) : 0;
    if (grain && grain < s->chunk)
        s->chunk = grain > s->granule ? grain : s->granule;
    s->ordered = vdisk_get_format(dst) != VDISK_FORMAT_RAW && !opts->out_of_order;
    bool page_cache_file = strcmp(vdisk_file_protocol(dst->file), "file") == 0 && !dst->file->direct;
    /* A new LUKS payload reads as noise, not zeros: write every zero. */
    s->must_zero = opts->target->backing_file != NULL || vdisk_get_format(dst) == VDISK_FORMAT_LUKS ||
                   (opts->existing_target && !opts->target_is_zero) ||
                   (vdisk_get_format(dst) == VDISK_FORMAT_RAW && !vdisk_file_has_zero_init(dst->file));
    /* A target on a backing file takes only the source's top layer. */
    s->top_only = opts->target->backing_file != NULL;
    s->src_backing_end = src->backing ? vdisk_get_size(src->backing) : 0;
    /* (as qemu-img, the end of an existing target's backing file is not
     * trusted to read as zeros beyond: it is not the one just named) */
    s->dst_backing_end = dst->backing && !opts->existing_target ? vdisk_get_size(dst->backing)
                                                                 : UINT64_MAX;
    /* A streamOptimized VMDK deflates every grain: that is -c's work too. */
    bool stream = opts->target->format == VDISK_FORMAT_VMDK &&
                  opts->target->vmdk.subformat == VDISK_VMDK_STREAM_OPTIMIZED;
    s->precompress = (opts->compress || stream) && dst->drv->compress_ahead &&
                     dst->drv->pwrite_precompressed;
    if (s->precompress) {
        uint32_t job = compresses_zstd(dst) ? CHUNK_ZSTD : CHUNK_DEFLATE;
        if (s->chunk > job)
            s->chunk = s->granule > job ? s->granule : job;
    }
    /* Ordered plain copies place each job in its turn and copy its data
     * after it (see reserve_in_turn), by as many writers as a target that
     * is not ordered takes; other ordered copies write one job at a time. */
    s->split = s->ordered && !opts->compress && !s->precompress && dst->drv->write_reserve;
    if (s->ordered && !s->split)
        s->max_writers = 1;
    else
        s->max_writers = page_cache_file ? FILE_WRITERS : s->split ? MAX_WORKERS : 0;
}

int
vdisk_convert(const char *src, const char *dst, const vdisk_convert_opts *opts, vdisk_error *err)
{
    int r = convert_check_opts(src, dst, opts, err);
    if (r < 0)
        return r;
    /* As qemu-img convert: nobody may write the source while it is copied
     * (unless -U said to share it). */
    vdisk_open_opts so = { .format = opts->src_format,
                           .flags = (opts->src_flags & ~VDISK_OPEN_RDWR) | VDISK_OPEN_NO_SHARE,
                           .snapshot = opts->src_snapshot,
                           .secret = opts->src_secret, .secret_len = opts->src_secret_len,
                           .backing_policy = opts->src_backing_policy };
    vdisk_image *in = NULL, *out = NULL;
    r = vdisk_open(src, &so, &in, err);
    if (r < 0)
        return r;
    bool created = false;
    r = opts->existing_target ? convert_open_existing_target(in, dst, opts, &out, err)
                              : convert_create_target(in, dst, opts, &out, &created, err);
    if (r == 0) {
        convert_state s;
        setup_state(&s, in, out, opts);
        pthread_mutex_init(&s.lock, NULL);
        pthread_cond_init(&s.turn_cv, NULL);
        r = opts->progress ? convert_count_data(&s, err) : 0;
        clock_gettime(CLOCK_MONOTONIC, &s.start);
        if (r == 0)
            r = run_workers(&s, worker_count(opts, s.size, s.chunk), err);
        if (r == 0 && opts->compress)
            r = convert_align_compressed_end(out, err);
        pthread_cond_destroy(&s.turn_cv);
        pthread_mutex_destroy(&s.lock);
    }
    int rc = vdisk_close(out, r < 0 ? NULL : err);
    if (r == 0)
        r = rc;
    vdisk_close(in, NULL);
    if (r < 0 && created)
        convert_remove_target(dst);
    return r;
}
