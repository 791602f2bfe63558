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
 * `workers` threads each claim a job, read it and write it.  Reads run in
 * parallel; for a target that allocates its clusters as it goes (qcow2) the
 * writes are handed off in guest order, as qemu-img does without -W, so the
 * target's host layout is sequential.  A raw target has no layout to keep:
 * its writes run in parallel too.  Memory is bounded: one chunk buffer per
 * worker.
 *
 * Compressed conversion (-c) compresses in the workers too: each compresses
 * its chunk's clusters before waiting for its turn, so only the (cheap)
 * stores are serialised and the result is laid out as an in-order,
 * one-cluster-at-a-time qemu-img convert -c lays it out.  (qemu-img itself
 * compresses inside its in-order write, i.e. one cluster at a time.)
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "driver.h"
#include "lock.h"

#define CHUNK_MAX (2u << 20)
/* Zero-detection unit of a raw target, as qemu-img's default -S 4k. */
#define RAW_GRANULE 4096u
/* As qemu-img: -m takes 1..16 coroutines; by default 8. */
#define MAX_WORKERS VDISK_CONVERT_MAX_WORKERS
#define DEFAULT_WORKERS_CAP 8
/* Start writeback of the target every so many bytes written, so that the
 * final flush finds little left to do. */
#define WRITEBACK_EVERY (32u << 20)

/* One claimed piece of work: a guest range to copy (or, for a target with
 * a backing file, to zero). */
typedef struct convert_job {
    uint64_t off;
    uint64_t len;
    uint64_t progress;   /* source bytes this job accounts for */
    uint64_t seq;        /* position in guest order */
    bool zero;           /* write zeroes, do not read */
} convert_job;

typedef struct convert_state {
    vdisk_image *src;
    vdisk_image *dst;
    const vdisk_convert_opts *opts;
    uint64_t size;
    uint32_t granule;       /* zero-skip and alignment unit in the target */
    uint32_t chunk;         /* job size limit, a multiple of granule */
    bool ordered;           /* writes in guest order (allocating target) */
    bool precompress;       /* -c: workers compress before their turn */
    bool must_zero;         /* target has a backing file: zeros are written */

    pthread_mutex_t lock;
    pthread_cond_t turn_cv;
    uint64_t cursor;        /* next guest offset to examine */
    uint64_t next_seq;
    uint64_t write_turn;    /* seq whose writes may go now (ordered) */
    uint64_t done;          /* source bytes examined (progress) */
    uint64_t unflushed;     /* bytes written since writeback was last started */
    bool stop;              /* an error or a cancellation: every worker quits */
    int result;
    vdisk_error err;
} convert_state;

static uint64_t
min_u64(uint64_t a, uint64_t b)
{
    return a < b ? a : b;
}

static uint64_t
align_down(uint64_t v, uint64_t a)
{
    return v / a * a;
}

/* One worker's buffers: the chunk read, and with precompress its
 * clusters compressed (one cluster-size slot each) and their lengths. */
typedef struct convert_worker {
    uint8_t *buf;
    uint8_t *out;
    uint32_t *clen;
} convert_worker;

/* Record the first failure and make every worker stop.  Lock held. */
static void
fail_locked(convert_state *s, int r, const vdisk_error *err)
{
    if (!s->stop) {
        s->stop = true;
        s->result = r;
        if (err)
            s->err = *err;
        else
            vdisk_error_set(&s->err, -r, "convert: failed");
    }
    pthread_cond_broadcast(&s->turn_cv);
}

static void
fail(convert_state *s, int r, const vdisk_error *err)
{
    pthread_mutex_lock(&s->lock);
    fail_locked(s, r, err);
    pthread_mutex_unlock(&s->lock);
}

/* Account for bytes examined and ask the caller whether to go on.  The
 * callback runs under the lock, so callers see one call at a time.  Lock held. */
static void
progress_locked(convert_state *s, uint64_t bytes)
{
    s->done += bytes;
    if (s->opts->progress && !s->stop && s->opts->progress(s->opts->opaque, s->done, s->size)) {
        vdisk_error e;
        vdisk_error_set(&e, ECANCELED, "%s: convert cancelled at offset %llu",
                        vdisk_get_filename(s->dst), (unsigned long long)s->done);
        fail_locked(s, -ECANCELED, &e);
    }
}

/* Turn the data extent at s->cursor (ending at ext_end) into a job whose
 * range starts and ends on granule boundaries (or the image end).  Lock held. */
static void
make_data_job(convert_state *s, uint64_t ext_end, convert_job *job)
{
    uint64_t start = align_down(s->cursor, s->granule);
    uint64_t end = align_down(start, s->chunk) + s->chunk;
    uint64_t ext_up = align_down(ext_end + s->granule - 1, s->granule);
    end = min_u64(min_u64(end, ext_up), s->size);
    job->off = start;
    job->len = end - start;
    job->progress = end - s->cursor;
    job->zero = false;
    s->cursor = end;
}

/* Claim the next job: walk the source's block status from the cursor,
 * skipping ranges that read as zeros.  Returns false when there is no more
 * work (end of the source, or the copy is stopping).  Lock held. */
static bool
claim_job_locked(convert_state *s, convert_job *job)
{
    while (!s->stop && s->cursor < s->size) {
        vdisk_extent ext;
        vdisk_error e;
        int r = vdisk_block_status_chain(s->src, s->cursor, s->size - s->cursor, &ext, &e);
        if (r < 0) {
            fail_locked(s, r, &e);
            return false;
        }
        uint64_t ext_end = s->cursor + ext.length;
        if (!(ext.flags & VDISK_EXTENT_ZERO)) {
            make_data_job(s, ext_end, job);
        } else if (s->must_zero) {
            job->off = s->cursor;
            job->len = min_u64(ext.length, (uint64_t)64 * s->chunk);
            job->progress = job->len;
            job->zero = true;
            s->cursor += job->len;
        } else {
            s->cursor = ext_end;
            progress_locked(s, ext.length);
            continue;
        }
        job->seq = s->next_seq++;
        return true;
    }
    return false;
}

/* Ordered hand-off: wait until it is this job's turn to write.  Returns
 * false if the copy is stopping. */
static bool
wait_turn(convert_state *s, const convert_job *job)
{
    if (!s->ordered)
        return true;
    pthread_mutex_lock(&s->lock);
    while (!s->stop && s->write_turn != job->seq)
        pthread_cond_wait(&s->turn_cv, &s->lock);
    bool go = !s->stop;
    pthread_mutex_unlock(&s->lock);
    return go;
}

/* Kick off asynchronous writeback of everything written so far (no wait):
 * the flush at close then has little left to do.  Lock held. */
static void
start_writeback_locked(convert_state *s, uint64_t written)
{
    s->unflushed += written;
    if (s->unflushed < WRITEBACK_EVERY || s->dst->file->direct || s->opts->no_flush)
        return;
    s->unflushed = 0;
    (void)sync_file_range(s->dst->file->fd, 0, 0, SYNC_FILE_RANGE_WRITE);
}

/* The job's writes are done: pass the turn on and count its progress. */
static void
finish_job(convert_state *s, const convert_job *job)
{
    pthread_mutex_lock(&s->lock);
    start_writeback_locked(s, job->len);
    if (s->ordered) {
        s->write_turn = job->seq + 1;
        pthread_cond_broadcast(&s->turn_cv);
    }
    progress_locked(s, job->progress);
    pthread_mutex_unlock(&s->lock);
}

/* The clusters of w->buf at [pos, pos+len) of a job at guest offset off,
 * as compressed by compress_chunk. */
static vdisk_precompressed
precompressed_view(const convert_state *s, const convert_worker *w, uint64_t pos, uint64_t len,
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
write_run(convert_state *s, const convert_worker *w, uint64_t pos, uint64_t len, uint64_t off,
          bool zero, vdisk_error *err)
{
    if (zero)
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

/* Write the chunk read at guest offset off, run by run. */
static int
write_chunk(convert_state *s, const convert_worker *w, uint64_t len, uint64_t off, vdisk_error *err)
{
    uint64_t pos = 0;
    while (pos < len) {
        bool zero;
        uint64_t run = next_run(s, w->buf, len, off, pos, &zero);
        int r = write_run(s, w, pos, run, off, zero, err);
        if (r < 0)
            return r;
        pos += run;
    }
    return 0;
}

/* Compress the data runs of the chunk (before the job's turn to write). */
static int
compress_chunk(convert_state *s, const convert_worker *w, uint64_t len, uint64_t off,
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

/* Read (unless it is a zero job), compress when precompressing, and write
 * one job; writes wait for their turn when the target's layout must follow
 * guest order. */
static int
run_job(convert_state *s, const convert_job *job, const convert_worker *w, vdisk_error *err)
{
    int r = 0;
    if (!job->zero)
        r = vdisk_pread(s->src, w->buf, job->len, job->off, err);
    if (r == 0 && !job->zero && s->precompress)
        r = compress_chunk(s, w, job->len, job->off, err);
    if (r < 0)
        return r;
    if (!wait_turn(s, job))
        return 0;   /* another worker failed; its error is the one reported */
    if (job->zero)
        return write_run(s, w, 0, job->len, job->off, true, err);
    return write_chunk(s, w, job->len, job->off, err);
}

/* A worker's buffers; false (with the error recorded) on ENOMEM. */
static bool
worker_alloc(convert_state *s, convert_worker *w)
{
    memset(w, 0, sizeof(*w));
    w->buf = vdisk_alloc_aligned(s->chunk, false);
    bool ok = w->buf != NULL;
    if (ok && s->precompress) {
        w->out = malloc(s->chunk);
        w->clen = calloc(s->chunk / s->granule + 1, sizeof(*w->clen));
        ok = w->out && w->clen;
    }
    if (!ok) {
        vdisk_error e;
        vdisk_error_set(&e, ENOMEM, "%s: out of memory for a %u-byte copy buffer",
                        vdisk_get_filename(s->dst), s->chunk);
        fail(s, -ENOMEM, &e);
    }
    return ok;
}

static void
worker_free(convert_worker *w)
{
    free(w->buf);
    free(w->out);
    free(w->clen);
}

/* Worker thread: claim jobs until there are none left or the copy stops. */
static void *
worker_main(void *opaque)
{
    convert_state *s = opaque;
    convert_worker w;
    if (!worker_alloc(s, &w)) {
        worker_free(&w);
        return NULL;
    }
    for (;;) {
        convert_job job;
        pthread_mutex_lock(&s->lock);
        bool have = claim_job_locked(s, &job);
        pthread_mutex_unlock(&s->lock);
        if (!have)
            break;
        vdisk_error e;
        int r = run_job(s, &job, &w, &e);
        if (r < 0) {
            fail(s, r, &e);
            break;
        }
        finish_job(s, &job);
    }
    worker_free(&w);
    return NULL;
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

/* Run the workers (the calling thread is one of them) and collect the result. */
static int
run_workers(convert_state *s, int n, vdisk_error *err)
{
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
    if (s->result < 0 && err)
        *err = s->err;
    return s->result;
}

/* Is path the file behind img or any image in its backing chain? */
static bool
same_file_in_chain(const vdisk_image *img, const char *path)
{
    struct stat st;
    if (stat(path, &st) < 0)
        return false;
    for (const vdisk_image *i = img; i; i = i->backing) {
        struct stat ist;
        if (fstat(i->file->fd, &ist) == 0 && ist.st_dev == st.st_dev && ist.st_ino == st.st_ino)
            return true;
    }
    return false;
}

/* Option checks that need no I/O. */
static int
check_opts(const char *src, const char *dst, const vdisk_convert_opts *opts, vdisk_error *err)
{
    if (!opts || !opts->target)
        return vdisk_error_set(err, EINVAL, "convert %s -> %s: no target options given", src, dst);
    if (opts->workers < 0 || opts->workers > MAX_WORKERS)
        return vdisk_error_set(err, EINVAL, "convert: invalid number of workers %d (allowed: 1 to %d)",
                               opts->workers, MAX_WORKERS);
    if (opts->compress && opts->target->format != VDISK_FORMAT_QCOW2)
        return vdisk_error_set(err, ENOTSUP, "%s: compression is not supported by the %s format "
                               "(use -O qcow2)", dst, vdisk_format_name(opts->target->format));
    return 0;
}

/* Create the target with the source's size and open it for writing.
 * *created tells the caller whether there is a file to remove on failure. */
static int
create_target(vdisk_image *src, const char *dst, const vdisk_convert_opts *opts,
              vdisk_image **out, bool *created, vdisk_error *err)
{
    *created = false;
    if (same_file_in_chain(src, dst))
        return vdisk_error_set(err, EINVAL, "%s: the target is the source image (or in its backing "
                               "chain); converting would destroy it", dst);
    vdisk_create_opts co = *opts->target;   /* shallow: backing_file stays the caller's */
    co.size = vdisk_get_size(src);
    int r = vdisk_create(dst, &co, NULL, NULL, err);
    if (r < 0)
        return r;   /* vdisk_create removes what it could not finish */
    *created = true;
    vdisk_open_opts oo = {
        .format = co.format,
        .flags = VDISK_OPEN_RDWR | (opts->direct ? VDISK_OPEN_DIRECT : 0),
    };
    r = vdisk_open(dst, &oo, out, err);
    if (r == 0 && opts->no_flush)
        atomic_store(&(*out)->file->skip_sync, true);   /* metadata still written at close */
    return r;
}

/* After compressed writes the file may end mid-sector: round it up to a
 * whole sector, as qemu-img convert -c does (its final zero-length
 * compressed write), for readers that read whole sectors. */
static int
align_compressed_end(vdisk_image *dst, vdisk_error *err)
{
    uint64_t len;
    int r = vdisk_file_get_length(dst->file, &len, err);
    if (r < 0 || len % 512 == 0)
        return r;
    return vdisk_file_truncate(dst->file, (len + 511) / 512 * 512, err);
}

/* Remove a target we created, unless it is not a regular file (a device). */
static void
remove_target(const char *dst)
{
    struct stat st;
    if (lstat(dst, &st) == 0 && S_ISREG(st.st_mode))
        unlink(dst);
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
    s->chunk = s->granule > CHUNK_MAX ? s->granule : CHUNK_MAX;
    s->ordered = vdisk_get_format(dst) != VDISK_FORMAT_RAW;
    s->must_zero = opts->target->backing_file != NULL;
    s->precompress = opts->compress && dst->drv->compress_ahead && dst->drv->pwrite_precompressed;
}

int
vdisk_convert(const char *src, const char *dst, const vdisk_convert_opts *opts, vdisk_error *err)
{
    int r = check_opts(src, dst, opts, err);
    if (r < 0)
        return r;
    /* As qemu-img convert: nobody may write the source while it is copied
     * (unless -U said to share it). */
    vdisk_open_opts so = { .format = opts->src_format,
                           .flags = (opts->src_flags & ~VDISK_OPEN_RDWR) | VDISK_OPEN_NO_SHARE };
    vdisk_image *in = NULL, *out = NULL;
    r = vdisk_open(src, &so, &in, err);
    if (r < 0)
        return r;
    bool created;
    r = create_target(in, dst, opts, &out, &created, err);
    if (r == 0) {
        convert_state s;
        setup_state(&s, in, out, opts);
        pthread_mutex_init(&s.lock, NULL);
        pthread_cond_init(&s.turn_cv, NULL);
        r = run_workers(&s, worker_count(opts, s.size, s.chunk), err);
        if (r == 0 && opts->compress)
            r = align_compressed_end(out, err);
        pthread_cond_destroy(&s.turn_cv);
        pthread_mutex_destroy(&s.lock);
    }
    int rc = vdisk_close(out, r < 0 ? NULL : err);
    if (r == 0)
        r = rc;
    vdisk_close(in, NULL);
    if (r < 0 && created)
        remove_target(dst);
    return r;
}
