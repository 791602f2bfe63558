/* libvdisk — the qcow2 snapshot table: parse, validate and format it
 * (docs/interop/qcow2.txt, "Snapshots"), read it from an image and write a
 * new one.
 *
 * An entry is a 40-byte fixed part, extra data (vm_state_size_large,
 * disk_size, icount, then anything newer, which is kept byte for byte),
 * the ID string, the name, and padding to 8 bytes.  Limits are QEMU's:
 * at most 1024 bytes of extra data per entry and 64 MiB for the table.
 *
 * A new table always goes to newly allocated clusters; the header is
 * pointed at it only once it (and its refcounts) are on disk, and only
 * then is the old table freed: a crash leaves at worst leaked clusters.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "ordering.h"

#define SN_FIXED 40u
#define SN_KNOWN_EXTRA 24u
#define HDR_NB_SNAPSHOTS 60

void
qcow2_snapshots_free(struct qcow2_snapshot *v, size_t n)
{
    for (size_t i = 0; v && i < n; i++) {
        free(v[i].id);
        free(v[i].name);
        free(v[i].unknown_extra);
    }
    free(v);
}

static char *
dup_bytes(const uint8_t *p, size_t n)
{
    char *s = malloc(n + 1);
    if (s) {
        memcpy(s, p, n);
        s[n] = '\0';
    }
    return s;
}

/* Fill one entry from the bytes at p (len available); *used gets its
 * length without padding.  -ENODATA: the buffer ends inside the entry. */
static int
parse_entry(const char *name, uint32_t i, const uint8_t *p, size_t len, uint64_t disk_size,
            struct qcow2_snapshot *sn, size_t *used, vdisk_error *err)
{
    if (len < SN_FIXED)
        return -ENODATA;
    uint16_t id_len = (uint16_t)(p[12] << 8 | p[13]), name_len = (uint16_t)(p[14] << 8 | p[15]);
    uint32_t extra = qcow2_be32(p + 36);
    if (extra > QCOW2_MAX_SNAPSHOT_EXTRA)
        return vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EFBIG,
                                    "%s: snapshot table entry %u has %u bytes of extra data "
                                    "(at most %u)", name, i, extra, QCOW2_MAX_SNAPSHOT_EXTRA);
    size_t total = SN_FIXED + (size_t)extra + id_len + name_len;
    if (len < total)
        return -ENODATA;
    sn->l1_offset = qcow2_be64(p);
    sn->l1_size = qcow2_be32(p + 8);
    sn->date_sec = qcow2_be32(p + 16);
    sn->date_nsec = qcow2_be32(p + 20);
    sn->vm_clock_nsec = qcow2_be64(p + 24);
    sn->vm_state_size = qcow2_be32(p + 32);
    sn->extra_size = extra;
    const uint8_t *x = p + SN_FIXED;
    /* Each known field counts only when the entry holds all 8 bytes of it. */
    if (extra >= 8)
        sn->vm_state_size = qcow2_be64(x);
    sn->disk_size = extra >= 16 ? qcow2_be64(x + 8) : disk_size;
    sn->icount = extra >= 24 ? qcow2_be64(x + 16) : UINT64_MAX;
    if (extra > SN_KNOWN_EXTRA && !(sn->unknown_extra = malloc(extra - SN_KNOWN_EXTRA)))
        return vdisk_error_set(err, ENOMEM, "%s: out of memory", name);
    if (extra > SN_KNOWN_EXTRA)
        memcpy(sn->unknown_extra, x + SN_KNOWN_EXTRA, extra - SN_KNOWN_EXTRA);
    sn->id = dup_bytes(x + extra, id_len);
    sn->name = dup_bytes(x + extra + id_len, name_len);
    if (!sn->id || !sn->name)
        return vdisk_error_set(err, ENOMEM, "%s: out of memory", name);
    if (memchr(sn->id, 0, id_len) || memchr(sn->name, 0, name_len))
        return vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL,
                                    "%s: snapshot table entry %u has a NUL byte in its %s",
                                    name, i, memchr(sn->id, 0, id_len) ? "ID" : "name");
    *used = total;
    return 0;
}

int
qcow2_snapshot_table_parse(const char *name, const uint8_t *buf, size_t len, uint32_t n,
                           uint64_t disk_size, struct qcow2_snapshot **out, size_t *table_len,
                           vdisk_error *err)
{
    *out = NULL;
    *table_len = 0;
    if (n > QCOW2_MAX_SNAPSHOTS)
        return vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL,
                                    "%s: %u snapshots is more than the %u allowed", name,
                                    n, QCOW2_MAX_SNAPSHOTS);
    struct qcow2_snapshot *v = n ? calloc(n, sizeof(*v)) : NULL;
    if (n && !v)
        return vdisk_error_set(err, ENOMEM, "%s: out of memory for %u snapshots", name, n);
    size_t pos = 0;
    int r = 0;
    for (uint32_t i = 0; i < n && r == 0; i++) {
        pos = (pos + 7) & ~(size_t)7;
        size_t used = 0;
        r = pos <= len ? parse_entry(name, i, buf + pos, len - pos, disk_size, &v[i], &used, err)
                       : -ENODATA;
        pos += used;
        if (r == 0 && pos > QCOW2_MAX_SNAPSHOTS_SIZE)
            r = vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EFBIG,
                                     "%s: snapshot table is too big (more than %u bytes at "
                                     "entry %u)", name, QCOW2_MAX_SNAPSHOTS_SIZE, i);
    }
    if (r < 0) {
        qcow2_snapshots_free(v, n);
        return r;
    }
    *out = v;
    *table_len = pos;
    return 0;
}

size_t
qcow2_snapshot_table_size(const struct qcow2_snapshot *v, size_t n)
{
    size_t pos = 0;
    for (size_t i = 0; i < n; i++) {
        pos = (pos + 7) & ~(size_t)7;
        uint32_t extra = v[i].extra_size > SN_KNOWN_EXTRA ? v[i].extra_size : SN_KNOWN_EXTRA;
        pos += SN_FIXED + extra + strlen(v[i].id) + strlen(v[i].name);
    }
    return pos;
}

void
qcow2_snapshot_table_format(const struct qcow2_snapshot *v, size_t n, uint8_t *buf)
{
    size_t pos = 0;
    for (size_t i = 0; i < n; i++) {
        const struct qcow2_snapshot *sn = &v[i];
        size_t pad = ((pos + 7) & ~(size_t)7) - pos;
        memset(buf + pos, 0, pad);
        pos += pad;
        uint8_t *p = buf + pos;
        uint32_t extra = sn->extra_size > SN_KNOWN_EXTRA ? sn->extra_size : SN_KNOWN_EXTRA;
        size_t id_len = strlen(sn->id), name_len = strlen(sn->name);
        memset(p, 0, SN_FIXED + SN_KNOWN_EXTRA);
        qcow2_put_be64(p, sn->l1_offset);
        qcow2_put_be32(p + 8, sn->l1_size);
        p[12] = (uint8_t)(id_len >> 8);
        p[13] = (uint8_t)id_len;
        p[14] = (uint8_t)(name_len >> 8);
        p[15] = (uint8_t)name_len;
        qcow2_put_be32(p + 16, sn->date_sec);
        qcow2_put_be32(p + 20, sn->date_nsec);
        qcow2_put_be64(p + 24, sn->vm_clock_nsec);
        /* A VM state too big for 32 bits reads as "none" to old readers. */
        qcow2_put_be32(p + 32, sn->vm_state_size <= UINT32_MAX ? (uint32_t)sn->vm_state_size : 0);
        qcow2_put_be32(p + 36, extra);
        qcow2_put_be64(p + 40, sn->vm_state_size);
        qcow2_put_be64(p + 48, sn->disk_size);
        qcow2_put_be64(p + 56, sn->icount);
        if (extra > SN_KNOWN_EXTRA)
            memcpy(p + SN_FIXED + SN_KNOWN_EXTRA, sn->unknown_extra, extra - SN_KNOWN_EXTRA);
        memcpy(p + SN_FIXED + extra, sn->id, id_len);
        memcpy(p + SN_FIXED + extra + id_len, sn->name, name_len);
        pos += SN_FIXED + extra + id_len + name_len;
    }
}

/* Check the L1 table a snapshot names against the image. */
static int
check_snapshot_l1(qcow2_state *s, const struct qcow2_snapshot *sn, uint64_t file_len,
                  vdisk_error *err)
{
    uint64_t bytes = (uint64_t)sn->l1_size * 8;
    if (bytes > QCOW2_MAX_L1_BYTES)
        return vdisk_error_set_reason(err, VDISK_REASON_SNAPSHOT_L1_TOO_LARGE,
                                      vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EFBIG,
                                                           "%s: L1 table of snapshot '%s' (ID %s) has %u "
                                                           "entries, more than the %u bytes allowed", s->name,
                                                           sn->name, sn->id, sn->l1_size, QCOW2_MAX_L1_BYTES));
    if (sn->l1_offset & (s->cluster_size - 1))
        return vdisk_error_set_reason(err, VDISK_REASON_SNAPSHOT_L1_OFFSET,
                                      vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL,
                                                           "%s: L1 table of snapshot '%s' (ID %s) at 0x%" PRIx64
                                                           " is not cluster aligned", s->name, sn->name, sn->id,
                                                           sn->l1_offset));
    if (sn->l1_offset > file_len || bytes > file_len - sn->l1_offset)
        return vdisk_error_set_reason(err, VDISK_REASON_SNAPSHOT_L1_OFFSET,
                                      vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL,
                                                           "%s: L1 table of snapshot '%s' (ID %s) at 0x%" PRIx64
                                                           " (%" PRIu64 " bytes) is past the end of the file",
                                                           s->name, sn->name, sn->id, sn->l1_offset, bytes));
    return 0;
}

int
qcow2_snapshots_read(qcow2_state *s, struct qcow2_snapshot **out, size_t *table_len,
                     vdisk_error *err)
{
    *out = NULL;
    *table_len = 0;
    if (s->nb_snapshots == 0)
        return 0;
    uint64_t file_len;
    int r = vdisk_file_get_length(s->file, &file_len, err);
    if (r < 0)
        return r;
    if (s->snapshots_offset >= file_len)
        return vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL,
                                    "%s: snapshot table at 0x%" PRIx64 " is past the end "
                                    "of the file", s->name, s->snapshots_offset);
    uint64_t avail = file_len - s->snapshots_offset;
    if (avail > QCOW2_MAX_SNAPSHOTS_SIZE)
        avail = QCOW2_MAX_SNAPSHOTS_SIZE;
    /* Read a little, and more only when the entries go on. */
    for (size_t want = 64 * 1024;; want *= 4) {
        size_t n = want < avail ? want : (size_t)avail;
        uint8_t *buf = malloc(n);
        if (!buf)
            return vdisk_error_set(err, ENOMEM, "%s: out of memory for the snapshot table", s->name);
        r = vdisk_file_pread(s->file, buf, n, s->snapshots_offset, err);
        if (r == 0)
            r = qcow2_snapshot_table_parse(s->name, buf, n, s->nb_snapshots, s->img->size, out,
                                           table_len, err);
        free(buf);
        if (r != -ENODATA)
            break;
        if (n == avail)
            return vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL,
                                        "%s: snapshot table at 0x%" PRIx64 " (%u entries) "
                                        "runs past the end of the file", s->name,
                                        s->snapshots_offset, s->nb_snapshots);
    }
    for (uint32_t i = 0; r == 0 && i < s->nb_snapshots; i++)
        r = check_snapshot_l1(s, &(*out)[i], file_len, err);
    if (r < 0) {
        qcow2_snapshots_free(*out, s->nb_snapshots);
        *out = NULL;
    }
    return r;
}

/* Point the header at a table of n entries at off, synced. */
static int
write_header_fields(qcow2_state *s, uint32_t n, uint64_t off, vdisk_error *err)
{
    uint8_t b[12];
    qcow2_put_be32(b, n);
    qcow2_put_be64(b + 4, off);
    int r = vdisk_file_pwrite(s->file, b, sizeof(b), HDR_NB_SNAPSHOTS, err);
    if (r == 0)
        r = vdisk_file_flush(s->file, err);
    if (r < 0)
        vdisk_error_prefix(err, "%s: cannot point the header at the new snapshot table", s->name);
    return r;
}

int
qcow2_snapshots_write_table(qcow2_state *s, const struct qcow2_snapshot *v, size_t n,
                            uint64_t *off, vdisk_error *err)
{
    *off = 0;
    size_t len = qcow2_snapshot_table_size(v, n);
    if (len > QCOW2_MAX_SNAPSHOTS_SIZE)
        return vdisk_error_set(err, EFBIG, "%s: the snapshot table would be %zu bytes, more than "
                               "the %u allowed", s->name, len, QCOW2_MAX_SNAPSHOTS_SIZE);
    if (!n)
        return 0;
    uint64_t clusters = (len + s->cluster_size - 1) >> s->cluster_bits, at = 0;
    uint8_t *buf = calloc(1, clusters << s->cluster_bits);
    if (!buf)
        return vdisk_error_set(err, ENOMEM, "%s: out of memory for the snapshot table", s->name);
    qcow2_snapshot_table_format(v, n, buf);
    int r = qcow2_alloc_clusters(s, clusters, &at, err);
    bool allocated = r == 0;
    /* The table and the refcounts of its clusters before the header. */
    if (r == 0)
        r = qcow2_flush_metadata(s, err);
    if (r == 0)
        r = vdisk_file_pwrite(s->file, buf, clusters << s->cluster_bits, at, err);
    if (r == 0)
        r = vdisk_file_flush(s->file, err);
    free(buf);
    if (r < 0) {
        /* Nothing names the new clusters yet: give them back (a failure
         * here only leaks them). */
        if (allocated)
            qcow2_refcount_update(s, at >> s->cluster_bits, clusters, -1, true, NULL);
        vdisk_error_prefix(err, "%s: cannot write the snapshot table", s->name);
        return r;
    }
    *off = at;
    return 0;
}

int
qcow2_snapshots_commit(qcow2_state *s, size_t n, uint64_t off, size_t old_len, vdisk_error *err)
{
    int r = write_header_fields(s, (uint32_t)n, off, err);
    if (r < 0)
        return r;
    uint64_t old_off = s->snapshots_offset;
    uint32_t old_n = s->nb_snapshots;
    s->nb_snapshots = (uint32_t)n;
    s->snapshots_offset = off;
    if (old_n && old_len) {
        uint64_t first = old_off >> s->cluster_bits;
        uint64_t last = (old_off + old_len - 1) >> s->cluster_bits;
        r = qcow2_refcount_update(s, first, last - first + 1, -1, false, err);
    }
    return r;
}

int
qcow2_snapshots_write(qcow2_state *s, const struct qcow2_snapshot *v, size_t n,
                      size_t old_len, vdisk_error *err)
{
    uint64_t off;
    int r = qcow2_snapshots_write_table(s, v, n, &off, err);
    if (r == 0)
        r = qcow2_snapshots_commit(s, n, off, old_len, err);
    return r;
}
