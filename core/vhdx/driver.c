/* libvdisk — the VHDX format driver: open, close, flush, info and the
 * driver table.  The work is split by concern:
 *   crc32c.c     CRC-32C, the checksum of headers, tables and log entries
 *   guid.c       GUIDs: the known ones, text forms, new ones
 *   header.c     file identifier, the two headers and their update
 *   region.c     the region table (BAT and metadata regions)
 *   metadata.c   the metadata table and items, the parent locator's pairs
 *   bat.c        BAT geometry, loading and checking entries
 *   log.c        replay of a log left by a crash
 *   log-write.c  BAT updates committed through the log
 *   parent.c     the parent of a differencing file
 *   io.c         reads and block status
 *   write.c      writes, zeroes, discards
 *   create.c     new images; opts.c their options
 *   check.c      check
 *
 * Open order follows the spec: headers, then the log (replayed before any
 * other structure is read, since it may hold their latest version), then
 * the region table, metadata and BAT.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "opts.h"
#include "vhdx.h"

static void
state_free(vhdx_state *s)
{
    if (!s)
        return;
    free(s->bat);
    free(s->bat_dirty);
    vhdx_metadata_free(s);
    pthread_mutex_destroy(&s->lock);
    free(s);
}

/* qemu-img's fixed layout: payload from 4 MiB past the metadata region,
 * block b at base + b * block_size, the file at least base + size long.
 * Returns the base when the file is laid out so (every present block in
 * its place), else 0: blocks then go to the end of the file. */
static uint64_t
fixed_layout_base(const vhdx_state *s, uint64_t file_len)
{
    uint64_t base = s->meta_region.offset + s->meta_region.length + 4 * VHDX_MIB;
    if (!s->leave_allocated || file_len < base + s->virtual_size)
        return 0;
    for (uint64_t b = 0; b < s->payload_blocks; b++) {
        uint64_t e = s->bat[vhdx_payload_index(s, b)];
        if ((e & VHDX_BAT_STATE_MASK) == VHDX_PAYLOAD_FULLY_PRESENT &&
            (e & VHDX_BAT_OFFSET_MASK) != base + b * s->block_size)
            return 0;
    }
    return base;
}

/* What a writable handle needs: the dirty-page map, where blocks go. */
static int
prepare_writes(vhdx_state *s, uint64_t file_len, vdisk_error *err)
{
    if (s->has_parent)
        return vdisk_error_set(err, ENOTSUP, "%s: writing to a differencing VHDX is not supported (open it "
                               "read-only, or convert it)", s->name);
    size_t pages = (size_t)((s->bat_entries * 8 + 4095) / 4096);
    if (!(s->bat_dirty = calloc(pages ? pages : 1, 1)))
        return vdisk_error_set(err, ENOMEM, "%s: out of memory", s->name);
    s->file_end = (file_len + VHDX_MIB - 1) / VHDX_MIB * VHDX_MIB;
    s->fixed_base = fixed_layout_base(s, file_len);
    if (s->log_seq == 0)
        s->log_seq = 1;
    return 0;
}

/* Everything after the headers and the log. */
static int
load_structures(vhdx_state *s, vdisk_error *err)
{
    uint64_t file_len;
    int r = vdisk_file_get_length(s->file, &file_len, err);
    if (r == 0)
        r = vhdx_regions_load(s, file_len, err);
    if (r == 0)
        r = vhdx_metadata_load(s, err);
    if (r == 0)
        r = vhdx_bat_load(s, file_len, err);
    /* A check counts bad entries instead (check.c). */
    if (r == 0 && !(s->img->flags & VDISK_OPEN_CHECK))
        r = vhdx_bat_check(s, file_len, NULL, NULL, NULL, err);
    if (r == 0 && s->writable)
        r = prepare_writes(s, file_len, err);
    return r;
}

static int
vhdx_open(vdisk_image *img, vdisk_error *err)
{
    vhdx_state *s = calloc(1, sizeof(*s));
    if (!s)
        return vdisk_error_set(err, ENOMEM, "%s: out of memory", img->filename);
    s->img = img;
    s->file = img->file;
    s->name = img->filename;
    s->writable = img->flags & VDISK_OPEN_RDWR;
    pthread_mutex_init(&s->lock, NULL);
    img->priv = s;
    int r = vhdx_headers_load(s, err);
    if (r == 0)
        r = vhdx_log_open(s, err);
    if (r == 0)
        r = load_structures(s, err);
    if (r == 0)
        img->size = s->virtual_size;
    if (r == 0 && s->has_parent && !(img->flags & VDISK_OPEN_NO_BACKING))
        r = vhdx_open_parent(s, err);
    if (r < 0) {
        state_free(s);
        img->priv = NULL;
    }
    return r;
}

/* Commit what the session changed before the close (errors reach
 * vdisk_close's caller). */
static int
vhdx_finish(vdisk_image *img, vdisk_error *err)
{
    vhdx_state *s = img->priv;
    pthread_mutex_lock(&s->lock);
    int r = vhdx_log_commit(s, err);
    pthread_mutex_unlock(&s->lock);
    return r;
}

/* Release the state (vdisk_close committed and flushed). */
static void
vhdx_close(vdisk_image *img)
{
    state_free(img->priv);
    img->priv = NULL;
}

/* Flush: the BAT changes through the log, then the file. */
static int
vhdx_flush(vdisk_image *img, vdisk_error *err)
{
    int r = vhdx_finish(img, err);
    return r < 0 ? r : vdisk_file_flush(img->file, err);
}

/* Info: the block size as cluster size (as qemu-img shows it); the parent
 * of a differencing file. */
static int
vhdx_get_info(vdisk_image *img, vdisk_info *info, vdisk_error *err)
{
    vhdx_state *s = img->priv;
    info->cluster_size = s->block_size;
    if (!s->has_parent)
        return 0;
    char *name;
    int r = vhdx_parent_name(s, &name, err);
    if (r < 0 || !name)
        return r;
    info->backing_file = name;
    if (!(info->backing_format = strdup("vhdx")))
        return vdisk_error_set(err, ENOMEM, "%s: out of memory", s->name);
    return 0;
}

const struct vdisk_driver vdisk_vhdx_driver = {
    .name = "vhdx",
    .format = VDISK_FORMAT_VHDX,
    .open = vhdx_open,
    .close = vhdx_close,
    .finish = vhdx_finish,
    .create = vhdx_create,
    .options = vhdx_options,              /* -o of create and measure (opts.c) */
    .opts_init = vhdx_opts_init,          /* qemu-img's defaults: 1 MiB log, ZERO blocks */
    .opts_validate = vhdx_opts_validate,  /* sizes, subformat against preallocation */
    .pread = vhdx_pread,
    .pwrite = vhdx_pwrite,
    .write_zeroes = vhdx_write_zeroes,
    .discard = vhdx_discard,
    .flush = vhdx_flush,
    .block_status = vhdx_block_status,
    .get_info = vhdx_get_info,
    .check = vhdx_check,
};
