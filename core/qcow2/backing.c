/* libvdisk — qcow2: recording a new backing file (rebase).
 *
 * The header cluster is rebuilt in memory: the fixed header as it is, every
 * header extension except the backing format one copied unchanged (unknown
 * extensions and bitmaps survive), the new backing format extension, the
 * end marker, then the backing file name.  The cluster is written in one
 * piece and synced, so the image names either the old or the new backing
 * file, never a mix.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "qcow2.h"

/* Copy the extensions of old header h (except backing format and end)
 * to out at *pos. */
static int
copy_extensions(qcow2_state *s, const uint8_t *h, uint8_t *out, size_t *pos, vdisk_error *err)
{
    uint64_t bf = qcow2_be64(h + 8);
    uint64_t end = bf && bf < s->cluster_size ? bf : s->cluster_size;
    uint64_t p = s->header_length;
    while (p + 8 <= end) {
        uint32_t magic = qcow2_be32(h + p), len = qcow2_be32(h + p + 4);
        if (magic == QCOW2_EXT_END)
            break;
        uint64_t total = 8 + (((uint64_t)len + 7) & ~UINT64_C(7));
        if (total > end - p)
            return vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL,
                                        "%s: header extension 0x%08x at offset %" PRIu64
                                        " (%u bytes) overflows the header cluster", s->name, magic, p,
                                        len);
        if (magic != QCOW2_EXT_BACKING_FORMAT) {
            if (total > s->cluster_size - *pos)
                return vdisk_error_set(err, ENOSPC, "%s: no space left in the header cluster "
                                       "for header extension 0x%08x", s->name, magic);
            memcpy(out + *pos, h + p, total);
            *pos += total;
        }
        p += total;
    }
    return 0;
}

/* Append extension (magic, data) at *pos; false when it does not fit. */
static bool
put_ext(uint8_t *out, size_t cs, size_t *pos, uint32_t magic, const char *data, uint32_t len)
{
    size_t total = 8 + (((size_t)len + 7) & ~(size_t)7);
    if (total > cs - *pos)
        return false;
    qcow2_put_be32(out + *pos, magic);
    qcow2_put_be32(out + *pos + 4, len);
    if (len)
        memcpy(out + *pos + 8, data, len);
    *pos += total;
    return true;
}

/* Build the new header cluster into out (zeroed, cluster_size bytes). */
static int
build(qcow2_state *s, const uint8_t *h, uint8_t *out, const char *name, const char *fmt,
      vdisk_error *err)
{
    size_t cs = s->cluster_size, pos = s->header_length;
    memcpy(out, h, s->header_length);
    size_t nlen = name ? strlen(name) : 0;
    bool ok = true;
    /* QEMU's order: the backing format first, then the others. */
    if (name && fmt)
        ok = put_ext(out, cs, &pos, QCOW2_EXT_BACKING_FORMAT, fmt, (uint32_t)strlen(fmt));
    int r = ok ? copy_extensions(s, h, out, &pos, err) : 0;
    if (r < 0)
        return r;
    ok = ok && put_ext(out, cs, &pos, QCOW2_EXT_END, NULL, 0);
    if (!ok || nlen > cs - pos)
        return vdisk_error_set(err, ENOSPC, "%s: no space left in the %zu-byte header cluster for "
                               "backing file name '%s'", s->name, cs, name ? name : "");
    memcpy(out + pos, name ? name : "", nlen);
    qcow2_put_be64(out + 8, nlen ? pos : 0);
    qcow2_put_be32(out + 16, (uint32_t)nlen);
    return 0;
}

/* Set backing: the header cluster rewritten in one write. */
int
qcow2_set_backing(vdisk_image *img, const char *name, const char *fmt, vdisk_error *err)
{
    qcow2_state *s = img->priv;
    if (name && !*name)
        name = NULL;
    if (name && strlen(name) > QCOW2_MAX_BACKING_NAME)
        return vdisk_error_set(err, EINVAL, "%s: backing file name '%s' is longer than %u bytes",
                               s->name, name, QCOW2_MAX_BACKING_NAME);
    char *nname = name ? strdup(name) : NULL, *nfmt = name && fmt ? strdup(fmt) : NULL;
    uint8_t *h = vdisk_alloc_aligned(s->cluster_size, true);
    uint8_t *out = vdisk_alloc_aligned(s->cluster_size, true);
    int r = 0;
    if (!h || !out || (name && !nname) || (name && fmt && !nfmt))
        r = vdisk_error_set(err, ENOMEM, "%s: out of memory", s->name);
    pthread_mutex_lock(&s->lock);
    if (r == 0)
        r = vdisk_file_pread(s->file, h, s->cluster_size, 0, err);
    if (r == 0)
        r = build(s, h, out, name, fmt, err);
    if (r == 0)
        r = vdisk_file_pwrite(s->file, out, s->cluster_size, 0, err);
    if (r == 0)
        r = vdisk_file_flush(s->file, err);
    if (r == 0) {
        free(s->backing_file);
        free(s->backing_format);
        s->backing_file = nname;
        s->backing_format = nfmt;
        nname = nfmt = NULL;
    }
    pthread_mutex_unlock(&s->lock);
    free(nname);
    free(nfmt);
    free(h);
    free(out);
    return r;
}
