/* libvdisk — VMDK reads, writes, zeroes and block status across extents,
 * the parent link of delta disks, and the CID update.
 *
 * A request is cut at extent boundaries; flat extents are read and written
 * in place (their holes read as zeros), zero extents read as zeros, sparse
 * extents go through their grain tables (sparse.c).
 *
 * Delta disks: a grain a child never wrote reads from its parent.  The
 * child records the parent's content ID (parentCID); if the parent's CID
 * has changed since, the parent was written after the child was taken and
 * its data no longer belongs under the child: such reads fail, as in
 * VMware and QEMU.  Any write changes the CID of the disk written (once per
 * open), so that children of it see the change.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "vmdk.h"

bool
vmdk_has_parent(const vmdk_state *st)
{
    return st->img->backing != NULL;
}

/* Does the parent's CID still match? (once per open) */
static int
check_parent(vmdk_state *st, vdisk_error *err)
{
    pthread_mutex_lock(&st->lock);
    if (st->parent_ok < 0) {
        vdisk_image *p = st->img->backing;
        const vmdk_state *ps = p->drv->format == VDISK_FORMAT_VMDK ? p->priv : NULL;
        st->parent_ok = ps && ps->cid == st->parent_cid;
    }
    int ok = st->parent_ok;
    pthread_mutex_unlock(&st->lock);
    if (ok)
        return 0;
    vdisk_image *p = st->img->backing;
    const vmdk_state *ps = p->drv->format == VDISK_FORMAT_VMDK ? p->priv : NULL;
    return vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL,
                                "%s: parent CID %08" PRIx32 " does not match the CID %08" PRIx32
                                " of its parent %s: the parent was changed after this delta disk was "
                                "made", st->img->filename, st->parent_cid, ps ? ps->cid : 0, p->filename);
}

int
vmdk_read_parent(vmdk_state *st, uint8_t *buf, uint64_t len, uint64_t guest_off, vdisk_error *err)
{
    vdisk_image *p = st->img->backing;
    uint64_t n = 0;
    if (p && guest_off < p->size) {
        int r = check_parent(st, err);
        if (r < 0)
            return r;
        n = p->size - guest_off < len ? p->size - guest_off : len;
        r = vdisk_pread(p, buf, n, guest_off, err);
        if (r < 0)
            return r;
    }
    memset(buf + n, 0, len - n);
    return 0;
}

/* The run of [off, off+len) inside one extent: *e and its length. */
static int
split(vmdk_state *st, uint64_t off, uint64_t len, vmdk_extent **e, uint64_t *n, vdisk_error *err)
{
    *e = vmdk_extent_find(st, off);
    if (!*e)
        return vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EIO,
                                    "%s: no extent holds offset %" PRIu64, st->img->filename, off);
    uint64_t left = (*e)->start + (*e)->size - off;
    *n = left < len ? left : len;
    return 0;
}

int
vmdk_pread(vdisk_image *img, void *buf, uint64_t len, uint64_t off, vdisk_error *err)
{
    vmdk_state *st = img->priv;
    uint8_t *b = buf;
    while (len > 0) {
        vmdk_extent *e;
        uint64_t n = 0;
        int r = split(st, off, len, &e, &n, err);
        if (r < 0)
            return r;
        uint64_t rel = off - e->start;
        switch (e->kind) {
        case VMDK_EXTENT_FLAT:
            r = vdisk_file_pread(e->file, b, (size_t)n, e->flat_offset + rel, err);
            break;
        case VMDK_EXTENT_ZERO:
            memset(b, 0, n);
            break;
        case VMDK_EXTENT_SPARSE:
            r = vmdk_sparse_pread(st, e->sparse, b, n, rel, off, err);
            break;
        }
        if (r < 0)
            return r;
        b += n;
        off += n;
        len -= n;
    }
    return 0;
}

/* Write the new descriptor text: in place, zero padded over the old one,
 * inside a sparse file (nothing else moves); as the whole file otherwise. */
static int
write_descriptor(vmdk_state *st, const char *text, size_t len, vdisk_error *err)
{
    if (!st->desc_size) {
        int r = vdisk_file_pwrite(st->img->file, text, len, 0, err);
        return r < 0 ? r : vdisk_file_truncate(st->img->file, len, err);
    }
    if (len > st->desc_size)
        return vdisk_error_set(err, ENOSPC, "%s: the new CID does not fit the embedded descriptor",
                               st->img->filename);
    size_t n = len > st->desc_len ? len : st->desc_len;
    char *buf = calloc(1, n);
    if (!buf)
        return vdisk_error_set(err, ENOMEM, "%s: out of memory", st->img->filename);
    memcpy(buf, text, len);
    /* With O_DIRECT a write shorter than a block is a read-modify-write of
     * the block, which holds grain tables too: not while they are written. */
    vmdk_sparse *s = st->nextents ? st->extents[0].sparse : NULL;
    if (s)
        pthread_mutex_lock(&s->lock);
    int r = vdisk_file_pwrite(st->img->file, buf, n, st->desc_offset, err);
    if (s)
        pthread_mutex_unlock(&s->lock);
    free(buf);
    return r;
}

/* The first write of an open gives the disk a new content ID. */
static int
update_cid(vmdk_state *st, vdisk_error *err)
{
    pthread_mutex_lock(&st->lock);
    int r = 0;
    if (!st->cid_written && st->desc_text) {
        uint32_t cid = vmdk_random_cid();
        char *text = NULL;
        size_t len = 0;
        r = vmdk_descriptor_set_cid(st->desc_text, st->desc_len, cid, &text, &len, err);
        if (r == 0)
            r = write_descriptor(st, text, len, err);
        if (r == 0) {
            free(st->desc_text);
            st->desc_text = text;
            st->desc_len = len;
            st->cid = cid;
            st->cid_written = true;
        } else {
            free(text);
        }
    }
    pthread_mutex_unlock(&st->lock);
    return r;
}

/* Before changing anything in extent e: may it be written? */
static int
writable_extent(vmdk_state *st, const vmdk_extent *e, vdisk_error *err)
{
    if (e->read_only)
        return vdisk_error_set(err, EROFS, "%s: extent %s is read-only (RDONLY in the descriptor)",
                               st->img->filename, e->path ? e->path : "(zero)");
    if (e->kind == VMDK_EXTENT_ZERO)
        return vdisk_error_set(err, EROFS, "%s: a ZERO extent cannot hold data", st->img->filename);
    return update_cid(st, err);
}

int
vmdk_pwrite(vdisk_image *img, const void *buf, uint64_t len, uint64_t off, vdisk_error *err)
{
    vmdk_state *st = img->priv;
    const uint8_t *b = buf;
    while (len > 0) {
        vmdk_extent *e;
        uint64_t n = 0;
        int r = split(st, off, len, &e, &n, err);
        if (r == 0)
            r = writable_extent(st, e, err);
        if (r < 0)
            return r;
        uint64_t rel = off - e->start;
        if (e->kind == VMDK_EXTENT_FLAT)
            r = vdisk_file_pwrite(e->file, b, (size_t)n, e->flat_offset + rel, err);
        else
            r = vmdk_sparse_pwrite(st, e->sparse, b, n, rel, off, err);
        if (r < 0)
            return r;
        b += n;
        off += n;
        len -= n;
    }
    return 0;
}

static int
zero_range(vdisk_image *img, uint64_t len, uint64_t off, bool may_unmap, vdisk_error *err)
{
    vmdk_state *st = img->priv;
    while (len > 0) {
        vmdk_extent *e;
        uint64_t n = 0;
        int r = split(st, off, len, &e, &n, err);
        if (r == 0 && e->kind != VMDK_EXTENT_ZERO)
            r = writable_extent(st, e, err);
        if (r < 0)
            return r;
        uint64_t rel = off - e->start;
        if (e->kind == VMDK_EXTENT_FLAT)
            r = vdisk_file_zero(e->file, e->flat_offset + rel, n, may_unmap, err);
        else if (e->kind == VMDK_EXTENT_SPARSE)
            r = vmdk_sparse_zero(st, e->sparse, n, rel, off, may_unmap, err);
        if (r < 0)
            return r;
        off += n;
        len -= n;
    }
    return 0;
}

int
vmdk_write_zeroes(vdisk_image *img, uint64_t len, uint64_t off, unsigned flags, vdisk_error *err)
{
    return zero_range(img, len, off, flags & VDISK_ZERO_MAY_UNMAP, err);
}

int
vmdk_discard(vdisk_image *img, uint64_t len, uint64_t off, vdisk_error *err)
{
    return zero_range(img, len, off, true, err);
}

/* Flat extent: data where the file has data, zeros over its holes, both
 * at their place in the file (as qemu-img map shows a flat extent). */
static int
flat_status(vmdk_extent *e, uint64_t rel, uint64_t n, vdisk_extent *ext, vdisk_error *err)
{
    bool data;
    uint64_t end, host = e->flat_offset + rel;
    int r = vdisk_file_extent(e->file, host, host + n, &data, &end, err);
    if (r < 0)
        return r;
    ext->length = end - host;
    ext->flags = VDISK_EXTENT_ALLOCATED | VDISK_EXTENT_DATA | VDISK_EXTENT_OFFSET_VALID |
                 (data ? 0 : VDISK_EXTENT_ZERO);
    ext->host_offset = host;
    return 0;
}

int
vmdk_block_status(vdisk_image *img, uint64_t off, uint64_t len, vdisk_extent *ext, vdisk_error *err)
{
    vmdk_state *st = img->priv;
    vmdk_extent *e;
    uint64_t n = 0;
    int r = split(st, off, len, &e, &n, err);
    if (r < 0)
        return r;
    uint64_t rel = off - e->start;
    switch (e->kind) {
    case VMDK_EXTENT_FLAT:
        r = flat_status(e, rel, n, ext, err);
        break;
    case VMDK_EXTENT_ZERO:
        ext->length = n;
        ext->flags = VDISK_EXTENT_ALLOCATED | VDISK_EXTENT_ZERO;
        break;
    case VMDK_EXTENT_SPARSE:
        r = vmdk_sparse_status(e->sparse, rel, n, ext, err);
        break;
    }
    if (r == 0 && (ext->flags & VDISK_EXTENT_OFFSET_VALID))
        ext->filename = e->path;
    return r;
}

/* The stream extent holding all of [off, off+len), or an error. */
static int
stream_extent(vmdk_state *st, uint64_t off, uint64_t len, vmdk_extent **e, vdisk_error *err)
{
    uint64_t n = 0;
    int r = split(st, off, len, e, &n, err);
    if (r == 0 && (n != len || !(*e)->sparse || !(*e)->sparse->compressed))
        r = vdisk_error_set(err, ENOTSUP, "%s: compressed writes go to one streamOptimized extent",
                            st->img->filename);
    return r;
}

int
vmdk_compress_ahead(vdisk_image *img, vdisk_precompressed *c, vdisk_error *err)
{
    vmdk_state *st = img->priv;
    vmdk_extent *e;
    int r = stream_extent(st, c->off, c->len, &e, err);
    if (r < 0)
        return r;
    uint32_t grain = e->sparse->grain;
    if ((c->off - e->start) % grain)
        return vdisk_error_set(err, EINVAL, "%s: compressed write at 0x%" PRIx64 " is not at a grain "
                               "boundary", img->filename, c->off);
    vmdk_zstream *zs = vmdk_zpool_get(&e->sparse->zpool, true);
    if (!zs)
        return vdisk_error_set(err, ENOMEM, "%s: out of memory", img->filename);
    for (uint64_t i = 0; r == 0 && i * grain < c->len; i++) {
        uint64_t n = c->len - i * grain < grain ? c->len - i * grain : grain;
        uint32_t clen = 0;
        /* The place of grain i in out holds n bytes: a grain, or the tail. */
        r = vmdk_deflate(zs, c->data + i * grain, (uint32_t)n, Z_DEFAULT_COMPRESSION,
                         c->out + i * grain, (uint32_t)n, &clen);
        if (r == -ENOSPC)
            r = 0;   /* did not shrink: stored as it is, at store time */
        else if (r < 0)
            r = vdisk_error_set(err, EIO, "%s: deflate failed", img->filename);
        c->clen[i] = r == 0 ? clen : 0;
    }
    vmdk_zpool_put(&e->sparse->zpool, zs);
    return r;
}

int
vmdk_pwrite_precompressed(vdisk_image *img, const vdisk_precompressed *c, vdisk_error *err)
{
    vmdk_state *st = img->priv;
    vmdk_extent *e;
    int r = stream_extent(st, c->off, c->len, &e, err);
    if (r == 0)
        r = writable_extent(st, e, err);
    uint32_t grain = r == 0 ? e->sparse->grain : 0;
    for (uint64_t i = 0; r == 0 && i * grain < c->len; i++) {
        uint64_t n = c->len - i * grain < grain ? c->len - i * grain : grain;
        r = vmdk_sparse_store_deflated(st, e->sparse, c->off - e->start + i * grain, n,
                                       c->data + i * grain, c->out + i * grain, c->clen[i], err);
    }
    return r;
}
