/* libvdisk — the copy engine's shared state (convert.c) and the walk of
 * the source that cuts it into jobs (convert-jobs.c).
 */
#ifndef VDISK_CONVERT_INT_H
#define VDISK_CONVERT_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "driver.h"

/* --salvage reads again, and gives up on, 512-byte sectors (qemu-img's). */
#define SALVAGE_SECTOR 512u

/* One claimed piece of work: a guest range to copy (or, for a target with
 * a backing file, to zero). */
typedef struct convert_job {
    uint64_t off;
    uint64_t len;
    uint64_t progress;   /* source bytes this job accounts for */
    uint64_t seq;        /* position in guest order */
    bool zero;           /* write zeroes, do not read */
} convert_job;

typedef struct convert_slot convert_slot;

typedef struct convert_state {
    vdisk_image *src;
    vdisk_image *dst;
    const vdisk_convert_opts *opts;
    uint64_t size;
    uint32_t granule;       /* zero-skip and alignment unit in the target */
    uint32_t min_zero_run;  /* -S N: shorter runs of zeros are written as data */
    uint32_t chunk;         /* job size limit, a multiple of granule */
    bool ordered;           /* writes in guest order (allocating target, no -W) */
    int max_writers;        /* workers writing at once from the ready list
                             * (1 when ordered); 0: each worker writes its own
                             * job at once (write_alongside) */
    bool split;             /* ordered, and each job's writes are reserved in its
                             * turn and written after it (vdisk_write_reserve) */
    bool precompress;       /* -c: workers compress before their turn */
    bool must_zero;         /* zeros are written: the target has a backing file, or
                             * may hold old data (LUKS, a device, an NBD export, -n) */
    bool top_only;          /* the target has a backing file: copy only what the
                             * source's top layer defines (qemu-img convert -B) */
    uint64_t src_backing_end;   /* top_only: size of the source's backing file (0: none) */
    uint64_t dst_backing_end;   /* top_only: size of the target's backing file */

    pthread_mutex_t lock;
    pthread_cond_t turn_cv;     /* a slot was freed, or the copy stops */
    convert_slot *slots;        /* all of them (nslots) */
    int nslots;
    convert_slot *free_slots;
    convert_slot *ready;        /* filled, waiting for their turn (max_writers) */
    int writing;                /* workers writing ready slots (max_writers) */
    convert_slot *reserved;     /* split: placed in their turn, to be written */
    bool reserving;             /* split: a worker is placing the job whose turn it is */
    uint64_t cursor;        /* next guest offset to examine */
    uint64_t ext_end;       /* end of the source extent last reported at the cursor */
    bool ext_zero;          /* ... and whether it reads as zeros */
    bool ext_skip;          /* ... or is left to the target's backing file (top_only) */
    uint64_t next_seq;
    uint64_t write_turn;    /* seq to be written next (ordered) */
    uint64_t done;          /* source bytes examined */
    uint64_t data_total;    /* bytes of the data jobs (progress, as qemu-img counts it) */
    uint64_t data_done;     /* ... of them written */
    bool counting;          /* claiming jobs only to count data_total */
    uint64_t unflushed;     /* bytes written since writeback was last started */
    uint64_t written;       /* bytes written into the target (rate limit) */
    struct timespec start;  /* when the copy started (rate limit) */
    bool stop;              /* an error or a cancellation: every worker quits */
    int result;
    vdisk_error err;
} convert_state;

static inline uint64_t
min_u64(uint64_t a, uint64_t b)
{
    return a < b ? a : b;
}

static inline uint64_t
align_down(uint64_t v, uint64_t a)
{
    return v / a * a;
}

/* Record the first failure and make every worker stop.  Lock held. */
void convert_fail_locked(convert_state *s, int r, const vdisk_error *err);
/* Account for bytes examined (data: of them copied as data); progress is
 * reported as qemu-img reports it, and may cancel the copy.  Lock held. */
void convert_progress_locked(convert_state *s, uint64_t bytes, uint64_t data);
/* Claim the next job from the source's extents; false when there is no
 * more work (end of the source, or the copy is stopping).  Lock held. */
bool convert_claim_job_locked(convert_state *s, convert_job *job);
/* qemu-img's progress is over the data to copy: count it (block status
 * only), then start the walk over. */
int convert_count_data(convert_state *s, vdisk_error *err);

#endif
