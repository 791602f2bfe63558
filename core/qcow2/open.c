/* libvdisk — opening and closing a qcow2 image: the state, its table
 * caches (sized with the reason written down), the checks a writable open
 * makes (overlapping tables, a dirty image left by a crash), the bitmaps
 * and the backing file; and the close that writes everything back and
 * clears the dirty bit.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "check-int.h"
#include "ordering.h"

/* L2 cache: QEMU's default budget (32 MiB), but always enough to map
 * 8 GiB of guest space, and never more than the whole image needs. */
#define L2_CACHE_BUDGET (UINT64_C(32) << 20)
#define L2_CACHE_MIN_COVER (UINT64_C(8) << 30)
#define RB_CACHE_BUDGET (UINT64_C(256) << 10)
#define CACHE_MIN_TABLES 4

/* Before an L2 table goes to disk, every refcount it relies on must be
 * there already. */
static int
l2_writeback_hook(void *opaque, vdisk_error *err)
{
    qcow2_state *s = opaque;
    if (!qcow2_cache_is_dirty(s->rb_cache))
        return 0;
    int r = qcow2_cache_flush(s->rb_cache, err);
    return r < 0 ? r : qcow2_order_barrier(s, err);
}

static int
make_caches(qcow2_state *s, vdisk_error *err)
{
    uint64_t cover = (uint64_t)s->l2_entries << s->cluster_bits;   /* bytes one table maps */
    uint64_t whole = (s->img->size + cover - 1) / cover;
    uint64_t want = L2_CACHE_BUDGET >> s->cluster_bits;
    uint64_t for_min = (L2_CACHE_MIN_COVER + cover - 1) / cover;
    if (want < for_min)
        want = for_min;
    if (want > whole)
        want = whole;
    if (want < CACHE_MIN_TABLES)
        want = CACHE_MIN_TABLES;
    uint64_t rb = RB_CACHE_BUDGET >> s->cluster_bits;
    if (rb < CACHE_MIN_TABLES)
        rb = CACHE_MIN_TABLES;
    s->l2_cache = qcow2_cache_new(s->file, (uint32_t)want, (uint32_t)s->cluster_size, "L2 table");
    s->rb_cache = qcow2_cache_new(s->file, (uint32_t)rb, (uint32_t)s->cluster_size, "refcount block");
    if (!s->l2_cache || !s->rb_cache)
        return vdisk_error_set(err, ENOMEM, "%s: out of memory for the table caches", s->name);
    qcow2_cache_set_hook(s->l2_cache, l2_writeback_hook, s);
    return 0;
}

static void
state_free(qcow2_state *s)
{
    qcow2_cache_free(s->l2_cache);
    qcow2_cache_free(s->rb_cache);
    qcow2_crypt_free(s);
    qcow2_bitmaps_free(s);
    qcow2_header_free(s);
    qcow2_cctx_pool_free(s);
    qcow2_pool_destroy(s);
    pthread_mutex_destroy(&s->lock);
    pthread_mutex_destroy(&s->rmw_lock);
    pthread_cond_destroy(&s->inflight_done);
    free(s);
}

static int
open_backing(qcow2_state *s, vdisk_error *err)
{
    vdisk_image *img = s->img;
    if (!s->backing_file || (img->flags & VDISK_OPEN_NO_BACKING))
        return 0;
    vdisk_format fmt = VDISK_FORMAT_UNKNOWN;
    if (s->backing_format && vdisk_format_from_name(s->backing_format, &fmt, NULL) < 0)
        return vdisk_error_set(err, ENOTSUP, "%s: backing file '%s' has format '%s', which is not "
                               "supported", s->name, s->backing_file, s->backing_format);
    return vdisk_open_backing(img, s->backing_file, fmt, &img->backing, err);
}

/* The image was not closed cleanly while lazy refcounts were in use: its
 * refcounts may be stale.  As QEMU: repair everything, then the dirty bit
 * is cleared (qcow2_check_state), and only internal errors fail the open. */
static int
repair_dirty(qcow2_state *s, vdisk_error *err)
{
    vdisk_check_result res;
    int r = qcow2_check_state(s, VDISK_CHECK_FIX_LEAKS | VDISK_CHECK_FIX_ERRORS, &res, NULL,
                              NULL, NULL, err);
    if (r == 0 && res.check_errors)
        r = vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EIO,
                                 "%s: could not repair the dirty image (%" PRIu64 " internal "
                                 "errors during the check)", s->name, res.check_errors);
    else if (r < 0)
        vdisk_error_prefix(err, "%s: could not repair the dirty image", s->name);
    return r;
}

/* Open: validate the header against the file, set up the caches, clear
 * autoclear bits we do not maintain, load the bitmaps, open the backing
 * file. */
int
qcow2_open(vdisk_image *img, vdisk_error *err)
{
    qcow2_state *s = calloc(1, sizeof(*s));
    if (!s)
        return vdisk_error_set(err, ENOMEM, "%s: out of memory", img->filename);
    s->img = img;
    s->file = img->file;
    s->name = img->filename;
    s->writable = img->flags & VDISK_OPEN_RDWR;
    pthread_mutex_init(&s->lock, NULL);
    pthread_mutex_init(&s->rmw_lock, NULL);
    pthread_cond_init(&s->inflight_done, NULL);
    int r = qcow2_header_load(s, err);
    qcow2_pool_init(s);   /* after the header: sized by the cluster size */
    if (r == 0)
        r = qcow2_header_check_features(s, s->writable, err);
    if (r == 0)
        r = qcow2_crypt_open(s, img->secret, img->secret_len, err);   /* crypt.c */
    if (r == 0)
        r = make_caches(s, err);
    if (r == 0 && s->writable && !(img->flags & VDISK_OPEN_CHECK))
        r = qcow2_check_open_overlaps(s, err);
    if (r == 0 && s->writable && (s->incompat & QCOW2_INCOMPAT_DIRTY) &&
        !(img->flags & VDISK_OPEN_CHECK))
        r = repair_dirty(s, err);
    /* Persistent dirty bitmaps are loaded and kept up to date (bitmap.c);
     * a check's repairs leave them as they are. */
    if (r == 0 && s->writable && !(img->flags & VDISK_OPEN_CHECK))
        r = qcow2_bitmaps_open(s, err);
    /* A repair writes too: autoclear bits of features unknown to us go
     * stale with it, so they are cleared, as QEMU clears them (the
     * bitmaps' bit is the check's to judge). */
    if (r == 0 && s->writable && (img->flags & VDISK_OPEN_CHECK) &&
        (s->autoclear & ~(uint64_t)QCOW2_AUTOCLEAR_BITMAPS)) {
        uint64_t keep = s->autoclear & QCOW2_AUTOCLEAR_BITMAPS;
        r = qcow2_header_write_u64(s, QCOW2_HDR_AUTOCLEAR, keep, err);
        if (r == 0)
            s->autoclear = keep;
    }
    if (r == 0)
        r = open_backing(s, err);
    if (r < 0) {
        state_free(s);
        return r;
    }
    img->priv = s;
    return 0;
}

/* Close: store the bitmaps, write back what is cached, then clear the
 * dirty bit we set. */
void
qcow2_close(vdisk_image *img)
{
    qcow2_state *s = img->priv;
    if (!s)
        return;
    if (s->writable) {
        /* (vdisk_close stored the bitmaps already: q_finish.) */
        int r = qcow2_bitmaps_store(s, NULL);
        if (r == 0)
            r = qcow2_flush_metadata(s, NULL);
        if (r == 0)
            r = vdisk_file_flush(s->file, NULL);
        if (r == 0 && s->dirty_written)
            qcow2_header_write_u64(s, QCOW2_HDR_INCOMPAT, s->incompat & ~QCOW2_INCOMPAT_DIRTY, NULL);
    }
    state_free(s);
    img->priv = NULL;
}
