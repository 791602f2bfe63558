/* libvdisk — qcow2 reads and block status.
 *
 * A read looks up, under the lock, the longest run from its offset that has
 * one status and (for data) contiguous host clusters, then does the I/O for
 * that run without the lock: one pread per host run, zeros for zero and
 * unallocated clusters without backing, the backing image for unallocated
 * ones, decompression for compressed clusters.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "qcow2.h"

/* Unallocated here: the backing image's content, zeros past its end. */
static int
read_backing(qcow2_state *s, uint8_t *buf, uint64_t n, uint64_t off, vdisk_error *err)
{
    vdisk_image *b = s->img->backing;
    if (!b || off >= b->size) {
        memset(buf, 0, n);
        return 0;
    }
    uint64_t bn = n < b->size - off ? n : b->size - off;
    int r = vdisk_pread(b, buf, bn, off, err);
    if (r == 0 && bn < n)
        memset(buf + bn, 0, n - bn);
    return r;
}

static int
read_compressed(qcow2_state *s, uint64_t entry, uint64_t in_cluster, uint8_t *buf, uint64_t n,
                vdisk_error *err)
{
    if (in_cluster == 0 && n == s->cluster_size)
        return qcow2_decompress_cluster(s, entry, buf, err);
    uint8_t *c = qcow2_buf_get(s, s->cluster_size);
    if (!c)
        return vdisk_error_set(err, ENOMEM, "%s: out of memory", s->name);
    int r = qcow2_decompress_cluster(s, entry, c, err);
    if (r == 0)
        memcpy(buf, c + in_cluster, n);
    qcow2_buf_put(s, c, s->cluster_size);
    return r;
}

int
qcow2_read_layer(qcow2_state *s, uint8_t *buf, uint64_t len, uint64_t off, vdisk_error *err)
{
    /* Past the virtual size (a COW tail in the last cluster): zeros. */
    if (off >= s->img->size) {
        memset(buf, 0, len);
        return 0;
    }
    if (len > s->img->size - off) {
        uint64_t in = s->img->size - off;
        memset(buf + in, 0, len - in);
        len = in;
    }
    while (len > 0) {
        struct qcow2_map m;
        pthread_mutex_lock(&s->lock);
        int r = qcow2_get_mapping(s, off, len, &m, err);
        pthread_mutex_unlock(&s->lock);
        if (r < 0)
            return r;
        uint64_t n = m.len;
        switch (m.type) {
        case QCOW2_SC_NORMAL:
            if (s->crypt)
                r = qcow2_crypt_pread(s, buf, n, m.host, off, err);   /* crypt.c */
            else
                r = vdisk_file_pread(s->file, buf, (size_t)n, m.host, err);
            break;
        case QCOW2_SC_ZERO_PLAIN:
        case QCOW2_SC_ZERO_ALLOC:
            memset(buf, 0, n);
            break;
        case QCOW2_SC_COMPRESSED:
            r = read_compressed(s, m.entry, off & (s->cluster_size - 1), buf, n, err);
            break;
        default:
            r = read_backing(s, buf, n, off, err);
            break;
        }
        if (r < 0)
            return r;
        buf += n;
        off += n;
        len -= n;
    }
    return 0;
}

/* Read: see the file comment. */
int
qcow2_pread(vdisk_image *img, void *buf, uint64_t len, uint64_t off, vdisk_error *err)
{
    return qcow2_read_layer(img->priv, buf, len, off, err);
}

static bool
host_type(enum qcow2_sc_type t)
{
    return t == QCOW2_SC_NORMAL || t == QCOW2_SC_ZERO_ALLOC || t == QCOW2_SC_UNALLOCATED_ALLOC;
}

/* Longest run from off with one status, across L2 tables (caller holds lock). */
static int
status_run(qcow2_state *s, uint64_t off, uint64_t len, struct qcow2_map *m, vdisk_error *err)
{
    int r = qcow2_get_mapping(s, off, len, m, err);
    while (r == 0 && m->len < len && m->type != QCOW2_SC_COMPRESSED) {
        struct qcow2_map n;
        r = qcow2_get_mapping(s, off + m->len, len - m->len, &n, err);
        if (r < 0 || n.type != m->type)
            break;
        if (host_type(m->type) && (n.type != m->type || n.host != m->host + m->len))
            break;
        m->len += n.len;
    }
    return r;
}

/* Does the image look preallocated with preallocation=metadata (far more
 * clusters refcounted than the file really has)?  Only then is the host
 * file asked which data clusters are holes, as QEMU does.  (lock held) */
static int
detect_meta_prealloc(qcow2_state *s, vdisk_error *err)
{
    uint64_t len, alloc;
    int r = vdisk_file_get_length(s->file, &len, err);
    if (r == 0)
        r = vdisk_file_allocated(s->file, &alloc, err);
    if (r == -ENOTSUP) {
        /* The protocol cannot tell (NBD): no holes to look for. */
        s->meta_prealloc = 1;
        return 0;
    }
    if (r < 0)
        return r;
    uint64_t real = alloc >> s->cluster_bits;
    uint64_t threshold = real * 10 / 9 > real + 2 ? real * 10 / 9 : real + 2;
    uint64_t end = (len + s->cluster_size - 1) >> s->cluster_bits, count = 0;
    for (uint64_t i = 0; i < end && count < threshold; i++) {
        uint64_t rc;
        r = qcow2_refcount_get(s, i, &rc, err);
        if (r < 0)
            return r;
        count += rc != 0;
    }
    s->meta_prealloc = count >= threshold ? 2 : 1;
    return 0;
}

/* Block status of this layer (DESIGN: no ALLOCATED flag where reads go to
 * the backing file).  Data clusters over holes of the host file also say
 * ZERO, as QEMU reports them. */
int
qcow2_block_status(vdisk_image *img, uint64_t off, uint64_t len, vdisk_extent *ext, vdisk_error *err)
{
    qcow2_state *s = img->priv;
    struct qcow2_map m;
    pthread_mutex_lock(&s->lock);
    int r = s->meta_prealloc ? 0 : detect_meta_prealloc(s, err);
    if (r == 0)
        r = status_run(s, off, len, &m, err);
    pthread_mutex_unlock(&s->lock);
    if (r < 0)
        return r;
    ext->length = m.len;
    switch (m.type) {
    case QCOW2_SC_NORMAL: {
        ext->flags = VDISK_EXTENT_ALLOCATED | VDISK_EXTENT_DATA | VDISK_EXTENT_OFFSET_VALID;
        ext->host_offset = m.host;
        if (s->meta_prealloc != 2)
            break;
        bool data;
        uint64_t end;
        r = vdisk_file_extent(s->file, m.host, m.host + m.len, &data, &end, err);
        if (r < 0)
            return r;
        if (!data)
            ext->flags |= VDISK_EXTENT_ZERO;
        if (end > m.host && end - m.host < m.len)
            ext->length = end - m.host;
        break;
    }
    case QCOW2_SC_ZERO_ALLOC:
        ext->flags = VDISK_EXTENT_ALLOCATED | VDISK_EXTENT_ZERO | VDISK_EXTENT_OFFSET_VALID;
        ext->host_offset = m.host;
        break;
    case QCOW2_SC_ZERO_PLAIN:
        ext->flags = VDISK_EXTENT_ALLOCATED | VDISK_EXTENT_ZERO;
        break;
    case QCOW2_SC_COMPRESSED:
        ext->flags = VDISK_EXTENT_ALLOCATED | VDISK_EXTENT_DATA | VDISK_EXTENT_COMPRESSED;
        break;
    case QCOW2_SC_UNALLOCATED_ALLOC:
        /* Reads go to the backing file, but the host cluster is there. */
        ext->flags = VDISK_EXTENT_OFFSET_VALID;
        ext->host_offset = m.host;
        break;
    default:
        ext->flags = 0;
        break;
    }
    /* Encrypted: the host bytes are not the guest's, so no offset (as QEMU). */
    if (s->crypt)
        ext->flags &= ~(unsigned)VDISK_EXTENT_OFFSET_VALID;
    return 0;
}
