/* libvdisk — the format-neutral image handle.
 *
 * Everything here is format independent: picking the driver, the argument
 * checks every driver would otherwise repeat, the guard on the head of a
 * probed-raw image, backing-file resolution and the chain walk of block
 * status.  Format specifics live behind struct vdisk_driver.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "crypto/crypto.h"
#include "driver.h"
#include "lock.h"
#include "probe.h"
#include "protocol/protocol.h"

/* Deep enough for any real chain; stops a chain of distinct files that
 * loops through symlink tricks or just never ends. */
#define MAX_BACKING_DEPTH 256

/* ---- the driver table (the names are formats.c's) ----------------------- */

bool
vdisk_format_supported(vdisk_format fmt)
{
    return vdisk_driver_for(fmt) != NULL;
}

bool
vdisk_format_can_create(vdisk_format fmt)
{
    const struct vdisk_driver *drv = vdisk_driver_for(fmt);
    return drv && drv->create;
}

void
vdisk_format_list_creatable(char *buf, size_t len)
{
    size_t used = 0;
    vdisk_format f;
    if (len)
        buf[0] = '\0';
    for (size_t i = 0; vdisk_format_at(i, &f); i++) {
        if (!vdisk_format_can_create(f) || used >= len)
            continue;
        int n = snprintf(buf + used, len - used, "%s%s", used ? ", " : "", vdisk_format_name(f));
        used += n > 0 ? (size_t)n : 0;
    }
}

const struct vdisk_driver *
vdisk_driver_for(vdisk_format fmt)
{
    switch (fmt) {
    case VDISK_FORMAT_RAW:
        return &vdisk_raw_driver;
    case VDISK_FORMAT_QCOW2:
        return &vdisk_qcow2_driver;
    case VDISK_FORMAT_LUKS:
        return &vdisk_luks_driver;
    case VDISK_FORMAT_ISO:
        return &vdisk_iso_driver;
    case VDISK_FORMAT_VPC:
        return &vdisk_vpc_driver;
    case VDISK_FORMAT_VHDX:
        return &vdisk_vhdx_driver;
    case VDISK_FORMAT_VDI:
        return &vdisk_vdi_driver;
    case VDISK_FORMAT_QED:
        return &vdisk_qed_driver;
    case VDISK_FORMAT_PARALLELS:
        return &vdisk_parallels_driver;
    case VDISK_FORMAT_VMDK:
        return &vdisk_vmdk_driver;
    default:
        return NULL;
    }
}

/* ---- open / close ------------------------------------------------------- */

static int
open_with(const char *path, vdisk_format fmt, unsigned flags, vdisk_image *overlay,
          int depth, const vdisk_open_opts *opts, vdisk_image **out, vdisk_error *err);

static void
image_free(vdisk_image *img)
{
    if (!img)
        return;
    vdisk_file_close(img->file);
    free(img->filename);
    vdisk_wipe_free(img->secret, img->secret_len);
    free(img);
}

/* Open's snapshot option (-l): switch the new read-only handle to the
 * content of an internal snapshot. */
static int
load_snapshot(vdisk_image *img, const char *id_or_name, vdisk_error *err)
{
    if (!img->drv->snapshot_load)
        return vdisk_error_set(err, ENOTSUP, "%s: format '%s' does not support internal snapshots",
                               img->filename, img->drv->name);
    if (!id_or_name[0])
        return vdisk_error_set(err, EINVAL, "%s: a snapshot needs a non-empty ID or name",
                               img->filename);
    return img->drv->snapshot_load(img, id_or_name, err);
}

int
vdisk_open(const char *path, const vdisk_open_opts *opts, vdisk_image **out, vdisk_error *err)
{
    vdisk_format fmt = opts ? opts->format : VDISK_FORMAT_UNKNOWN;
    unsigned flags = opts ? opts->flags : 0;
    if ((flags & VDISK_OPEN_RDWR) && (flags & VDISK_OPEN_FORCE_SHARE))
        return vdisk_error_set(err, EINVAL, "%s: force-share (-U) can only be used with read-only "
                               "images", path);
    int r = open_with(path, fmt, flags, NULL, 0, opts, out, err);
    if (r == 0 && opts && opts->snapshot) {
        r = (flags & VDISK_OPEN_RDWR)
                ? vdisk_error_set(err, EINVAL, "%s: a snapshot can only be opened read-only", path)
                : load_snapshot(*out, opts->snapshot, err);
        if (r < 0) {
            vdisk_close(*out, NULL);
            *out = NULL;
        }
    }
    return r;
}

/* Take the locks QEMU's tools take for this kind of open (lock.c), before
 * the driver reads or repairs any metadata. */
static int
lock_image(vdisk_image *img, vdisk_format fmt, vdisk_error *err)
{
    unsigned perm, shared;
    vdisk_lock_perms_for_open(fmt, img->flags, &perm, &shared);
    return vdisk_file_lock(img->file, perm, shared, err);
}

/* The image's name as QEMU shows it: "file:PATH" (QEMU's explicit host
 * file, location.c) is PATH, with "./" before it when it would otherwise
 * read as "proto:..." (a ':' before any '/'), so that relative backing
 * names resolve against its directory and messages name the file. */
static char *
display_name(const char *path)
{
    if (strncmp(path, "file:", 5) != 0)
        return strdup(path);
    const char *rest = path + 5;
    const char *p = strpbrk(rest, ":/");
    char *name;
    if (p && *p == ':')
        return asprintf(&name, "./%s", rest) < 0 ? NULL : name;
    return strdup(rest);
}

static int
open_with(const char *path, vdisk_format fmt, unsigned flags, vdisk_image *overlay,
          int depth, const vdisk_open_opts *opts, vdisk_image **out, vdisk_error *err)
{
    vdisk_image *img = calloc(1, sizeof(*img));
    if (!img || !(img->filename = display_name(path))) {
        free(img);
        return vdisk_error_set(err, ENOMEM, "%s: out of memory", path);
    }
    img->flags = flags;
    img->overlay = overlay;
    img->depth = depth;
    img->backing_policy = opts ? opts->backing_policy : NULL;
    bool probed = false;
    int r = vdisk_file_open(path, flags, &img->file, err);
    if (r < 0)
        goto fail;

    if (fmt == VDISK_FORMAT_UNKNOWN) {
        r = vdisk_probe_file(img->file, path, &fmt, err);
        if (r < 0)
            goto fail;
        img->probed_raw = fmt == VDISK_FORMAT_RAW;
        img->probed = probed = true;
    }
    img->drv = vdisk_driver_for(fmt);
    if (!img->drv) {
        /* Never fall back to raw: the guest would see the other format's
         * metadata, and a copy would be garbage. */
        r = probed ? vdisk_error_set(err, ENOTSUP, "%s: the file is a %s image (recognised by its "
                                     "header), a format vdisk cannot read; it is not opened as raw",
                                     path, vdisk_format_name(fmt))
                   : vdisk_error_set(err, ENOTSUP, "%s: format %s is not supported by vdisk", path,
                                     vdisk_format_name(fmt));
        goto fail;
    }
    /* The handle keeps its own copy of the passphrase: a backing file may be
     * opened after this open returns (rebase, commit). */
    if (opts && opts->secret) {
        if (!(img->secret = malloc(opts->secret_len ? opts->secret_len : 1))) {
            r = vdisk_error_set(err, ENOMEM, "%s: out of memory", path);
            goto fail;
        }
        memcpy(img->secret, opts->secret, opts->secret_len);
        img->secret_len = opts->secret_len;
    }
    r = lock_image(img, img->drv->format, err);
    if (r < 0)
        goto fail;
    r = img->drv->open(img, err);
    if (r < 0)
        goto fail;
    *out = img;
    return 0;

fail:
    image_free(img);
    return r;
}

int
vdisk_image_add_perms(vdisk_image *img, unsigned perm, vdisk_error *err)
{
    return vdisk_file_add_perms(img->file, perm, err);
}

int
vdisk_close(vdisk_image *img, vdisk_error *err)
{
    if (!img)
        return 0;
    int r = 0;
    if (!vdisk_is_read_only(img) && img->drv->finish)
        r = img->drv->finish(img, err);
    if (!vdisk_is_read_only(img)) {
        vdisk_error lf;
        int rf = vdisk_flush(img, r < 0 ? &lf : err);
        if (r == 0)
            r = rf;
    }
    img->drv->close(img);
    vdisk_error local;
    int rb = vdisk_close(img->backing, r < 0 ? &local : err);
    image_free(img);
    return r < 0 ? r : rb;
}

/* "proto:..." as QEMU's path_has_protocol: a ':' before any '/'. */
static bool
has_protocol(const char *name)
{
    const char *p = strpbrk(name, ":/");
    return p && *p == ':';
}

/* Is the overlay an RBD image or an NBD export?  Their names have no
 * directory to resolve a relative backing name against. */
static bool
is_protocol_name(const char *name)
{
    vdisk_location loc;
    if (vdisk_location_parse(name, &loc, NULL) < 0)
        return false;
    /* vdisk-record:PATH (test builds) has PATH's directory. */
    bool remote = loc.kind != VDISK_LOCATION_FILE && loc.kind != VDISK_LOCATION_RECORD;
    vdisk_location_clear(&loc);
    return remote;
}

char *
vdisk_resolve_backing_name(const char *overlay_path, const char *backing)
{
    const char *slash = strrchr(overlay_path, '/');
    if (backing[0] == '/' || backing[0] == '\0' || has_protocol(backing) || !slash ||
        is_protocol_name(overlay_path))
        return strdup(backing);
    size_t dirlen = (size_t)(slash - overlay_path) + 1;
    size_t blen = strlen(backing);
    char *full = malloc(dirlen + blen + 1);
    if (!full)
        return NULL;
    memcpy(full, overlay_path, dirlen);
    memcpy(full + dirlen, backing, blen + 1);
    return full;
}

/* Does `path` name the same image as the overlay or any image above it? */
static bool
backing_loops(const vdisk_image *overlay, const char *path)
{
    for (const vdisk_image *i = overlay; i; i = i->overlay)
        if (vdisk_file_same_as(i->file, path))
            return true;
    return false;
}

int
vdisk_open_backing(vdisk_image *overlay, const char *path, vdisk_format fmt,
                   vdisk_image **out, vdisk_error *err)
{
    char *full = vdisk_resolve_backing_name(overlay->filename, path);
    if (!full)
        return vdisk_error_set(err, ENOMEM, "%s: out of memory", overlay->filename);
    const vdisk_backing_policy *policy = overlay->backing_policy;
    int r;
    if (overlay->depth + 1 >= MAX_BACKING_DEPTH)
        r = vdisk_error_set(err, ELOOP, "%s: backing chain deeper than %d images",
                            overlay->filename, MAX_BACKING_DEPTH);
    else if (backing_loops(overlay, full))
        r = vdisk_error_set(err, ELOOP, "%s: backing file '%s' loops back into its own chain",
                            overlay->filename, full);
    else if (policy && (r = policy->check(policy->opaque, overlay->filename, full, &fmt, err)) < 0)
        ;   /* refused: the policy's message says why */
    else {
        unsigned flags = overlay->flags & (VDISK_OPEN_DIRECT | VDISK_OPEN_FORCE_SHARE | VDISK_OPEN_NO_KEY |
                                          VDISK_OPEN_NO_SHARE);
        /* An encrypted backing file is tried with the overlay's passphrase
         * (lent during the overlay's open); the policy holds for the whole chain. */
        vdisk_open_opts bo = { .secret = overlay->secret, .secret_len = overlay->secret_len,
                               .backing_policy = policy };
        r = open_with(full, fmt, flags, overlay, overlay->depth + 1, &bo, out, err);
        if (r < 0 && err && err->code == r)
            vdisk_error_prefix(err, "%s: cannot open backing file", overlay->filename);
    }
    free(full);
    return r;
}

/* ---- data I/O ----------------------------------------------------------- */

static int
check_range(vdisk_image *img, uint64_t len, uint64_t off, const char *op, vdisk_error *err)
{
    if (off > img->size || len > img->size - off)
        return vdisk_error_set(err, EINVAL, "%s: %s of %llu bytes at offset %llu is past the end of the image (%llu bytes)",
                               img->filename, op, (unsigned long long)len, (unsigned long long)off,
                               (unsigned long long)img->size);
    return 0;
}

static int
check_writable(vdisk_image *img, uint64_t len, uint64_t off, const char *op, vdisk_error *err)
{
    if (vdisk_is_read_only(img))
        return vdisk_error_set(err, EROFS, "%s: %s refused: image opened read-only", img->filename, op);
    return check_range(img, len, off, op, err);
}

/* A probed-raw image must not be able to turn itself into another format:
 * refuse a write to the probed head after which it would probe as
 * something other than raw -- unless it probed that way already (an ISO
 * opened as raw may rewrite its own head). */
static int
guard_probed_head(vdisk_image *img, const void *buf, uint64_t len, uint64_t off, vdisk_error *err)
{
    if (!img->probed_raw || off >= VDISK_PROBE_LEN)
        return 0;
    uint8_t head[VDISK_PROBE_LEN];
    uint64_t head_len = img->size < VDISK_PROBE_LEN ? img->size : VDISK_PROBE_LEN;
    memset(head, 0, sizeof(head));
    int r = img->drv->pread(img, head, head_len, 0, err);
    if (r < 0)
        return r;
    bool old_other = false, other = false;
    vdisk_format old_fmt = vdisk_probe_buffer_ex(head, sizeof(head), &old_other);
    uint64_t n = len < VDISK_PROBE_LEN - off ? len : VDISK_PROBE_LEN - off;
    memcpy(head + off, buf, n);
    vdisk_format fmt = vdisk_probe_buffer_ex(head, sizeof(head), &other);
    bool still_raw = fmt == VDISK_FORMAT_RAW && !other;
    bool unchanged = fmt == old_fmt && other == old_other;
    if (!still_raw && !unchanged)
        return vdisk_error_set(err, EPERM,
                               "%s: write to the first sectors refused: the format was probed as raw and "
                               "this write would make the image look like another format; "
                               "name the format explicitly (-f raw) to allow it",
                               img->filename);
    return 0;
}

int
vdisk_pread(vdisk_image *img, void *buf, uint64_t len, uint64_t off, vdisk_error *err)
{
    int r = check_range(img, len, off, "read", err);
    if (r < 0 || len == 0)
        return r;
    return img->drv->pread(img, buf, len, off, err);
}

int
vdisk_pwrite(vdisk_image *img, const void *buf, uint64_t len, uint64_t off, vdisk_error *err)
{
    int r = check_writable(img, len, off, "write", err);
    if (r < 0 || len == 0)
        return r;
    r = guard_probed_head(img, buf, len, off, err);
    if (r < 0)
        return r;
    return img->drv->pwrite(img, buf, len, off, err);
}

int
vdisk_write_zeroes(vdisk_image *img, uint64_t len, uint64_t off, unsigned flags, vdisk_error *err)
{
    int r = check_writable(img, len, off, "write zeroes", err);
    if (r < 0 || len == 0)
        return r;
    return img->drv->write_zeroes(img, len, off, flags, err);
}

int
vdisk_discard(vdisk_image *img, uint64_t len, uint64_t off, vdisk_error *err)
{
    int r = check_writable(img, len, off, "discard", err);
    if (r < 0 || len == 0)
        return r;
    return img->drv->discard(img, len, off, err);
}

int
vdisk_pwrite_compressed(vdisk_image *img, const void *buf, uint64_t len, uint64_t off, vdisk_error *err)
{
    int r = check_writable(img, len, off, "compressed write", err);
    if (r < 0 || len == 0)
        return r;
    if (!img->drv->pwrite_compressed)
        return vdisk_error_set(err, ENOTSUP, "%s: format %s does not support compressed clusters",
                               img->filename, img->drv->name);
    return img->drv->pwrite_compressed(img, buf, len, off, err);
}

int
vdisk_compress_ahead(vdisk_image *img, vdisk_precompressed *c, vdisk_error *err)
{
    int r = check_writable(img, c->len, c->off, "compressed write", err);
    if (r < 0)
        return r;
    if (!img->drv->compress_ahead)
        return vdisk_error_set(err, ENOTSUP, "%s: format %s does not support compressed clusters",
                               img->filename, img->drv->name);
    return img->drv->compress_ahead(img, c, err);
}

int
vdisk_pwrite_precompressed(vdisk_image *img, const vdisk_precompressed *c, vdisk_error *err)
{
    int r = check_writable(img, c->len, c->off, "compressed write", err);
    if (r < 0 || c->len == 0)
        return r;
    return img->drv->pwrite_precompressed(img, c, err);
}

int
vdisk_write_reserve(vdisk_image *img, uint64_t len, uint64_t off, vdisk_reservation **out,
                    vdisk_error *err)
{
    *out = NULL;
    int r = check_writable(img, len, off, "write", err);
    if (r < 0)
        return r;
    /* a probed raw image checks every write's bytes (guard_probed_head) */
    if (!img->drv->write_reserve || img->probed_raw || len == 0)
        return -ENOTSUP;
    return img->drv->write_reserve(img, len, off, out, err);
}

int
vdisk_write_reserved(vdisk_image *img, vdisk_reservation *res, const void *buf, vdisk_error *err)
{
    return img->drv->write_reserved(img, res, buf, err);
}

void
vdisk_write_cancel(vdisk_image *img, vdisk_reservation *res)
{
    if (res)
        img->drv->write_cancel(img, res);
}

int
vdisk_flush(vdisk_image *img, vdisk_error *err)
{
    if (vdisk_is_read_only(img))
        return 0;
    return img->drv->flush(img, err);
}

/* ---- block status ------------------------------------------------------- */

int
vdisk_block_status(vdisk_image *img, uint64_t off, uint64_t len, vdisk_extent *ext, vdisk_error *err)
{
    int r = check_range(img, len, off, "block status", err);
    if (r < 0)
        return r;
    if (len == 0)
        return vdisk_error_set(err, EINVAL, "%s: block status of an empty range", img->filename);
    memset(ext, 0, sizeof(*ext));
    r = img->drv->block_status(img, off, len, ext, err);
    if (r < 0)
        return r;
    ext->offset = off;
    if (ext->length == 0 || ext->length > len)
        ext->length = len;
    ext->depth = 0;
    if (!ext->filename)   /* a driver whose data lives in other files names them */
        ext->filename = img->filename;
    return 0;
}

int
vdisk_block_status_chain(vdisk_image *img, uint64_t off, uint64_t len, vdisk_extent *ext, vdisk_error *err)
{
    int r = vdisk_block_status(img, off, len, ext, err);
    if (r < 0 || (ext->flags & VDISK_EXTENT_ALLOCATED))
        return r;
    vdisk_image *b = img->backing;
    if (!b && img->drv->format == VDISK_FORMAT_RAW) {
        /* Raw storage that does not know its contents there (an NBD
         * server's hole without the zero bit): neither data nor zeros, so
         * readers read it; QEMU infers zeros only for formats with backing
         * files. */
        return 0;
    }
    if (!b) {
        /* Allocated nowhere: reads as zeros (a preallocated host cluster
         * keeps its offset, as qemu-img map shows it). */
        ext->flags = VDISK_EXTENT_ZERO | (ext->flags & VDISK_EXTENT_OFFSET_VALID);
        return 0;
    }
    if (off >= b->size) {
        /* Past the backing file's end: zeros, and this layer answers (as
         * QEMU: `qemu-img map` reports depth 0 there). */
        ext->flags = VDISK_EXTENT_ZERO;
        return 0;
    }
    uint64_t sub = ext->length < b->size - off ? ext->length : b->size - off;
    r = vdisk_block_status_chain(b, off, sub, ext, err);
    if (r < 0)
        return r;
    ext->depth++;
    return 0;
}

/* ---- properties --------------------------------------------------------- */

uint64_t
vdisk_get_size(const vdisk_image *img)
{
    return img->size;
}

vdisk_format
vdisk_get_format(const vdisk_image *img)
{
    return img->drv->format;
}

const char *
vdisk_get_filename(const vdisk_image *img)
{
    return img->filename;
}

uint32_t
vdisk_get_cluster_size(const vdisk_image *img)
{
    vdisk_info info;
    memset(&info, 0, sizeof(info));
    if (!img->drv->get_info || img->drv->get_info((vdisk_image *)img, &info, NULL) < 0)
        return 0;
    uint32_t cs = info.cluster_size;
    vdisk_info_clear(&info);
    return cs;
}

vdisk_image *
vdisk_get_backing(const vdisk_image *img)
{
    return img->backing;
}

bool
vdisk_is_read_only(const vdisk_image *img)
{
    return !(img->flags & VDISK_OPEN_RDWR);
}

int
vdisk_get_info(vdisk_image *img, vdisk_info *info, vdisk_error *err)
{
    memset(info, 0, sizeof(*info));
    info->format = img->drv->format;
    info->virtual_size = img->size;
    int r = vdisk_file_allocated(img->file, &info->actual_size, err);
    info->actual_size_unknown = r == -ENOTSUP;
    if (r < 0 && r != -ENOTSUP)
        return r;
    if (img->drv->get_info) {
        r = img->drv->get_info(img, info, err);
        if (r < 0) {
            vdisk_info_clear(info);
            return r;
        }
    }
    if (info->backing_file && !info->full_backing_filename) {
        info->full_backing_filename = vdisk_resolve_backing_name(img->filename, info->backing_file);
        if (!info->full_backing_filename) {
            vdisk_info_clear(info);
            return vdisk_error_set(err, ENOMEM, "%s: out of memory", img->filename);
        }
    }
    return 0;
}

void
vdisk_info_clear(vdisk_info *info)
{
    free(info->backing_file);
    free(info->backing_format);
    free(info->full_backing_filename);
    free(info->encrypt);
    for (size_t i = 0; i < info->nbitmaps; i++)
        free(info->bitmaps[i].name);
    free(info->bitmaps);
    vdisk_vmdk_info_free(info->vmdk);
    memset(info, 0, sizeof(*info));
}
