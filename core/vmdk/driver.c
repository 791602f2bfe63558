/* libvdisk — the VMDK format driver: open (a sparse file, or a descriptor
 * and its extents, then the parent), close, flush, info, and the driver
 * table.  See vmdk.h for the map of the folder.
 *
 * What vdisk reads: monolithicSparse, streamOptimized (VMware's layout and
 * qemu-img's), monolithicFlat, twoGbMaxExtentSparse/Flat, the ESXi kinds
 * (vmfs, vmfsThin and friends with -flat extents, vmfsSparse deltas with
 * COWD extents), zero extents, and parent links.  Refused by name: seSparse
 * deltas and raw device mappings.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "opts.h"
#include "vmdk.h"

uint32_t
vmdk_random_cid(void)
{
    uint32_t v;
    if (getrandom(&v, sizeof(v), 0) != (ssize_t)sizeof(v))
        v = (uint32_t)time(NULL) ^ ((uint32_t)getpid() << 16);
    return v == VMDK_NO_PARENT_CID ? 0xfffffffeu : v;
}

/* Keep what the descriptor says about the disk as a whole. */
static int
take_descriptor(vmdk_state *st, vmdk_descriptor *d, const char *text, size_t len, vdisk_error *err)
{
    st->cid = d->cid;
    st->parent_cid = d->parent_cid;
    st->parent_hint = d->parent_hint;
    d->parent_hint = NULL;
    if (!d->has_cid)
        return 0;   /* nothing to rewrite on writes */
    st->desc_len = strnlen(text, len);
    if (!(st->desc_text = strndup(text, st->desc_len)))
        return vdisk_error_set(err, ENOMEM, "%s: out of memory", st->img->filename);
    return 0;
}

/* The descriptor embedded in a sparse file (CIDs and parent only: the
 * extent is the file itself). */
static int
read_embedded(vmdk_state *st, const vmdk_sparse *s, vdisk_error *err)
{
    const vmdk_header *h = &s->h;
    if (s->cowd || h->desc_offset == 0 || h->desc_size == 0)
        return 0;
    uint64_t off = h->desc_offset * VMDK_SECTOR;
    if (h->desc_size > VMDK_MAX_DESCRIPTOR / VMDK_SECTOR || off > s->file_len ||
        h->desc_size * VMDK_SECTOR > s->file_len - off)
        return vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL,
                                    "%s: embedded descriptor at 0x%" PRIx64 " (%" PRIu64
                                    " sectors) lies outside the file or is too large", st->img->filename,
                                    off, h->desc_size);
    size_t len = (size_t)(h->desc_size * VMDK_SECTOR);
    char *text = malloc(len);
    if (!text)
        return vdisk_error_set(err, ENOMEM, "%s: out of memory", st->img->filename);
    vmdk_descriptor d;
    int r = vdisk_file_pread(st->img->file, text, len, off, err);
    if (r == 0)
        r = vmdk_descriptor_parse(text, len, st->img->filename, false, &d, err);
    if (r == 0) {
        st->desc_offset = off;
        st->desc_size = len;
        r = take_descriptor(st, &d, text, len, err);
        vmdk_descriptor_clear(&d);
    }
    free(text);
    return r;
}

/* A sparse file opened directly: monolithicSparse or streamOptimized. */
static int
open_monolithic(vmdk_state *st, vdisk_error *err)
{
    vdisk_image *img = st->img;
    vmdk_sparse *s;
    int r = vmdk_sparse_open(img->file, img->filename, img->flags & VDISK_OPEN_RDWR, &s, err);
    if (r < 0)
        return r;
    const char *type = s->cowd ? "vmfsSparse" : s->compressed ? "streamOptimized" : "monolithicSparse";
    r = vmdk_extents_monolithic(st, s, err);
    if (r == 0 && !(st->create_type = strdup(type)))
        r = vdisk_error_set(err, ENOMEM, "%s: out of memory", img->filename);
    return r < 0 ? r : read_embedded(st, s, err);
}

/* The create types whose extents vdisk reads. */
static bool
known_create_type(const char *t)
{
    static const char *const types[] = {
        "monolithicSparse", "monolithicFlat", "twoGbMaxExtentSparse", "twoGbMaxExtentFlat",
        "streamOptimized", "vmfs", "vmfsThin", "vmfsSparse", "vmfsPreallocated",
        "vmfsEagerZeroedThick",
    };
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
        if (strcmp(t, types[i]) == 0)
            return true;
    return false;
}

/* A descriptor file: parse it, then open the extents it names. */
static int
open_descriptor(vmdk_state *st, uint64_t len, vdisk_error *err)
{
    vdisk_image *img = st->img;
    if (len > VMDK_MAX_DESCRIPTOR)
        return vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EFBIG,
                                    "%s: a descriptor of %" PRIu64 " bytes is larger than "
                                    "1 MiB: not a VMDK descriptor", img->filename, len);
    char *text = malloc(len + 1);
    if (!text)
        return vdisk_error_set(err, ENOMEM, "%s: out of memory", img->filename);
    vmdk_descriptor d;
    int r = vdisk_file_pread(img->file, text, (size_t)len, 0, err);
    text[len] = '\0';
    if (r == 0)
        r = vmdk_descriptor_parse(text, (size_t)len, img->filename, true, &d, err);
    if (r < 0) {
        free(text);
        return r;
    }
    if (!d.create_type)
        r = vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL,
                                 "%s: invalid VMDK image descriptor (no createType)", img->filename);
    else if (!known_create_type(d.create_type))
        r = vdisk_error_set(err, ENOTSUP, "%s: Unsupported image type '%s'", img->filename, d.create_type);
    else if (!d.has_cid)
        r = vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL,
                                 "%s: invalid VMDK image descriptor (no CID)", img->filename);
    if (r == 0) {
        st->create_type = d.create_type;
        d.create_type = NULL;
        r = take_descriptor(st, &d, text, (size_t)len, err);
    }
    if (r == 0)
        r = vmdk_extents_open(st, &d, err);
    vmdk_descriptor_clear(&d);
    free(text);
    return r;
}

static void
state_free(vmdk_state *st)
{
    if (!st)
        return;
    vmdk_extents_close(st);
    free(st->create_type);
    free(st->parent_hint);
    free(st->desc_text);
    pthread_mutex_destroy(&st->lock);
    free(st);
}

int
vmdk_open(vdisk_image *img, vdisk_error *err)
{
    vmdk_state *st = calloc(1, sizeof(*st));
    if (!st)
        return vdisk_error_set(err, ENOMEM, "%s: out of memory", img->filename);
    st->img = img;
    st->parent_ok = -1;
    st->parent_cid = VMDK_NO_PARENT_CID;
    pthread_mutex_init(&st->lock, NULL);
    img->priv = st;
    uint64_t len;
    uint8_t magic[4] = { 0 };
    int r = vdisk_file_get_length(img->file, &len, err);
    if (r == 0 && len < 4)
        r = vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL,
                                 "%s: File is too small, not a valid image", img->filename);
    if (r == 0)
        r = vdisk_file_pread(img->file, magic, 4, 0, err);
    if (r == 0 && (vmdk_is_sparse_magic(magic) || vmdk_is_cowd_magic(magic)))
        r = open_monolithic(st, err);
    else if (r == 0)
        r = open_descriptor(st, len, err);
    if (r == 0 && st->parent_hint && !(img->flags & VDISK_OPEN_NO_BACKING))
        r = vdisk_open_backing(img, st->parent_hint, VDISK_FORMAT_VMDK, &img->backing, err);
    if (r < 0) {
        state_free(st);
        img->priv = NULL;
    }
    return r;
}

/* Free the extents and the state (image.c flushed a writable image). */
void
vmdk_close(vdisk_image *img)
{
    state_free(img->priv);
    img->priv = NULL;
}

/* Flush: every extent (tables after grains), then the descriptor. */
static int
vmdk_flush(vdisk_image *img, vdisk_error *err)
{
    vmdk_state *st = img->priv;
    int r = 0;
    for (size_t i = 0; r == 0 && i < st->nextents; i++) {
        vmdk_extent *e = &st->extents[i];
        if (e->sparse && e->sparse->writable)
            r = vmdk_sparse_flush(e->sparse, err);
        else if (e->own_file && !e->read_only)
            r = vdisk_file_flush(e->file, err);
    }
    return r < 0 ? r : vdisk_file_flush(img->file, err);
}

/* QEMU's rule for the image's cluster size: the grain size, when every
 * extent is sparse alike; none otherwise. */
static uint32_t
common_grain(const vmdk_state *st)
{
    if (st->nextents == 0 || !st->extents[0].sparse)
        return 0;
    const vmdk_sparse *s0 = st->extents[0].sparse;
    for (size_t i = 1; i < st->nextents; i++) {
        const vmdk_sparse *s = st->extents[i].sparse;
        if (!s || s->grain != s0->grain || s->compressed != s0->compressed)
            return 0;
    }
    return s0->grain;
}

static int
fill_extent_info(const vmdk_extent *e, vdisk_vmdk_extent_info *x)
{
    x->filename = strdup(e->path ? e->path : "");
    x->format = strdup(e->type);
    x->virtual_size = e->size;
    x->cluster_size = e->sparse ? e->sparse->grain : 0;
    x->compressed = e->sparse && e->sparse->compressed;
    return x->filename && x->format ? 0 : -ENOMEM;
}

/* Info: CIDs, create type, extents, the parent, and the bytes of every
 * extent file on the host. */
static int
vmdk_get_info(vdisk_image *img, vdisk_info *info, vdisk_error *err)
{
    vmdk_state *st = img->priv;
    info->cluster_size = common_grain(st);
    vdisk_vmdk_info *v = calloc(1, sizeof(*v));
    int r = v ? 0 : -ENOMEM;
    info->vmdk = v;
    if (r == 0 && st->nextents && !(v->extents = calloc(st->nextents, sizeof(*v->extents))))
        r = -ENOMEM;
    for (size_t i = 0; r == 0 && i < st->nextents; i++, v->nextents++)
        r = fill_extent_info(&st->extents[i], &v->extents[i]);
    if (r == 0) {
        v->cid = st->cid;
        v->parent_cid = st->parent_cid;
        if (!(v->create_type = strdup(st->create_type)))
            r = -ENOMEM;
    }
    if (r == 0 && st->parent_hint &&
        (!(info->backing_file = strdup(st->parent_hint)) || !(info->backing_format = strdup("vmdk"))))
        r = -ENOMEM;
    if (r < 0)
        return vdisk_error_set(err, ENOMEM, "%s: out of memory", img->filename);
    for (size_t i = 0; i < st->nextents; i++) {
        uint64_t bytes;
        if (st->extents[i].own_file && vdisk_file_allocated(st->extents[i].file, &bytes, err) == 0)
            info->actual_size += bytes;
    }
    return 0;
}

void
vdisk_vmdk_info_free(vdisk_vmdk_info *v)
{
    if (!v)
        return;
    for (size_t i = 0; i < v->nextents; i++) {
        free(v->extents[i].filename);
        free(v->extents[i].format);
    }
    free(v->extents);
    free(v->create_type);
    free(v);
}

/* qemu-img has no size estimate for vmdk targets; neither has vdisk. */
/* Compressed writes (convert -c): what a streamOptimized image does with
 * every write; other kinds store grains as they are. */
static int
vmdk_pwrite_compressed(vdisk_image *img, const void *buf, uint64_t len, uint64_t off,
                       vdisk_error *err)
{
    vmdk_state *st = img->priv;
    vmdk_extent *e = vmdk_extent_find(st, off);
    if (!e || !e->sparse || !e->sparse->compressed)
        return vdisk_error_set(err, ENOTSUP, "%s: only streamOptimized vmdk images hold compressed "
                               "grains", img->filename);
    return vmdk_pwrite(img, buf, len, off, err);
}

const struct vdisk_driver vdisk_vmdk_driver = {
    .name = "vmdk",
    .format = VDISK_FORMAT_VMDK,
    .open = vmdk_open,
    .close = vmdk_close,
    .create = vmdk_create,
    .options = vmdk_options,                            /* -o of create (opts.c) */
    .options_help_by_name = true,                       /* its order is the "Formatting" line's */
    .opts_validate = vmdk_opts_validate,                /* subformat, parent, provisioning (opts.c) */
    .pread = vmdk_pread,
    .pwrite = vmdk_pwrite,
    .pwrite_compressed = vmdk_pwrite_compressed,
    .compress_ahead = vmdk_compress_ahead,              /* deflate grains, any thread (io.c) */
    .pwrite_precompressed = vmdk_pwrite_precompressed,  /* append them in order (io.c) */
    .write_zeroes = vmdk_write_zeroes,
    .discard = vmdk_discard,
    .flush = vmdk_flush,
    .block_status = vmdk_block_status,
    .get_info = vmdk_get_info,
    .check = vmdk_check,
};
