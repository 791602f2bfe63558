/* libvdisk — the copy engine's walk of the source (convert.c runs the
 * workers): the source's block status, through its backing chain or only
 * its top layer (-B), asked once per extent and cut into jobs whose ends
 * fall on target-granule boundaries; ranges that read as zeros become no
 * job (or a zero job where the target must be zeroed), and progress is
 * counted as qemu-img counts it.
 */
#include <errno.h>
#include <string.h>

#include "convert-int.h"

/* Record the first failure and make every worker stop.  Lock held. */
void
convert_fail_locked(convert_state *s, int r, const vdisk_error *err)
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

/* Account for bytes examined (data: of them copied as data) and ask the
 * caller whether to go on.  Progress is reported as qemu-img reports it:
 * the data copied of the data to copy (ranges skipped as zeros, or left to
 * a backing file, take no time).  The callback runs under the lock, so
 * callers see one call at a time.  Lock held. */
void
convert_progress_locked(convert_state *s, uint64_t bytes, uint64_t data)
{
    s->done += bytes;
    s->data_done += data;
    if (s->counting || !data)
        return;
    if (s->opts->progress && !s->stop &&
        s->opts->progress(s->opts->opaque, s->data_done, s->data_total)) {
        vdisk_error e;
        vdisk_error_set(&e, ECANCELED, "%s: convert cancelled at offset %llu",
                        vdisk_get_filename(s->dst), (unsigned long long)s->done);
        convert_fail_locked(s, -ECANCELED, &e);
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

/* For a target with a backing file, qemu-img's rule for an extent of the
 * source's top layer: what the top layer leaves to its backing file (up to
 * that file's end) is left to the target's; zeros are written only where
 * the target's backing file could show something else.  Lock held. */
static void
classify_top_extent_locked(convert_state *s, const vdisk_extent *ext)
{
    s->ext_skip = false;
    if (!(ext->flags & VDISK_EXTENT_ALLOCATED) && s->cursor < s->src_backing_end) {
        s->ext_end = min_u64(s->ext_end, s->src_backing_end);
        s->ext_skip = true;
        return;
    }
    /* unallocated past the source's backing file reads as zeros too */
    s->ext_zero = s->ext_zero || !(ext->flags & VDISK_EXTENT_ALLOCATED);
    if (!s->ext_zero)
        return;
    if (s->cursor >= s->dst_backing_end)
        s->ext_skip = true;
    else
        s->ext_end = min_u64(s->ext_end, s->dst_backing_end);
}

/* The source extent at the cursor: the one remembered, or the next one
 * from the source's block status.  False on failure.  Lock held. */
static bool
extent_at_cursor_locked(convert_state *s)
{
    if (s->cursor < s->ext_end)
        return true;
    vdisk_extent ext;
    vdisk_error e;
    uint64_t want = s->size - s->cursor;
    int r;
    for (;;) {
        r = s->top_only ? vdisk_block_status(s->src, s->cursor, want, &ext, &e)
                        : vdisk_block_status_chain(s->src, s->cursor, want, &ext, &e);
        if (r >= 0 || !s->opts->salvage)
            break;
        /* --salvage, as qemu-img: ask again for a quarter of the range,
         * down to one sector, which is then taken as data */
        if (want > SALVAGE_SECTOR) {
            want = (want / SALVAGE_SECTOR + 3) / 4 * SALVAGE_SECTOR;
            continue;
        }
        if (s->opts->salvage_warn)
            s->opts->salvage_warn(s->opts->salvage_opaque, true, s->cursor, -r);
        memset(&ext, 0, sizeof(ext));
        ext.length = want;
        ext.flags = VDISK_EXTENT_ALLOCATED | VDISK_EXTENT_DATA;
        r = 0;
        break;
    }
    if (r < 0) {
        convert_fail_locked(s, r, &e);
        return false;
    }
    s->ext_end = s->cursor + ext.length;
    s->ext_zero = ext.flags & VDISK_EXTENT_ZERO;
    s->ext_skip = false;
    if (s->top_only)
        classify_top_extent_locked(s, &ext);
    return true;
}

/* Claim the next job: walk the source's extents from the cursor, skipping
 * ranges that read as zeros.  Returns false when there is no more work
 * (end of the source, or the copy is stopping).  Lock held. */
bool
convert_claim_job_locked(convert_state *s, convert_job *job)
{
    while (!s->stop && s->cursor < s->size) {
        if (!extent_at_cursor_locked(s))
            return false;
        if (s->ext_skip) {
            convert_progress_locked(s, s->ext_end - s->cursor, 0);
            s->cursor = s->ext_end;
            continue;
        }
        if (!s->ext_zero || s->opts->fully_allocate) {
            make_data_job(s, s->ext_end, job);
        } else if (s->must_zero) {
            job->off = s->cursor;
            job->len = min_u64(s->ext_end - s->cursor, (uint64_t)64 * s->chunk);
            job->progress = job->len;
            job->zero = true;
            s->cursor += job->len;
        } else {
            convert_progress_locked(s, s->ext_end - s->cursor, 0);
            s->cursor = s->ext_end;
            continue;
        }
        job->seq = s->next_seq++;
        return true;
    }
    return false;
}

/* qemu-img's progress is over the data to copy: count it by claiming
 * every job once without doing it (block status only), then start over. */
int
convert_count_data(convert_state *s, vdisk_error *err)
{
    convert_job job;
    s->counting = true;
    while (convert_claim_job_locked(s, &job))
        if (!job.zero)
            s->data_total += job.len;
    s->counting = false;
    if (s->stop) {
        if (err)
            *err = s->err;
        return s->result;
    }
    s->cursor = s->ext_end = s->next_seq = s->done = s->data_done = 0;
    return 0;
}
