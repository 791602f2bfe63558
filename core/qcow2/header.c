/* libvdisk — qcow2 header: parse and validate it against the file, read
 * the header extensions, load the L1 and refcount tables, update single
 * header fields in place, and build a header cluster for new images.
 *
 * Every field that sizes an allocation or points into the file is checked
 * before use, so a corrupt or hostile header gives a message, never a
 * crash or an absurd allocation.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qcow2.h"

static const struct qcow2_feature known_features[] = {
    { 0, 0, "dirty bit" },
    { 0, 1, "corrupt bit" },
    { 0, 2, "external data file" },
    { 0, 3, "compression type" },
    { 0, 4, "extended L2 entries" },
    { 1, 0, "lazy refcounts" },
    { 2, 0, "bitmaps" },
    { 2, 1, "raw external data" },
};

/* Opened for vdisk_check: entries of the tables are the check's to judge. */
static bool
checking(const qcow2_state *s)
{
    return s->img && (s->img->flags & VDISK_OPEN_CHECK);
}

static int
corrupt(qcow2_state *s, vdisk_error *err, const char *what)
{
    return vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL, "%s: %s", s->name, what);
}

/* A table at [off, off+len) must be cluster aligned and inside the file. */
static int
check_table(qcow2_state *s, const char *what, uint64_t off, uint64_t len, uint64_t file_len,
            vdisk_error *err)
{
    if (off & (s->cluster_size - 1))
        return vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL,
                                    "%s: %s at 0x%" PRIx64 " is not cluster aligned",
                                    s->name, what, off);
    /* The check reports tables over the header or past the end itself
     * (their bytes past the end read as zeros). */
    if (checking(s))
        return off > QCOW2_MAX_HOST_OFFSET
               ? vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL, "%s: %s offset 0x%" PRIx64
                                      " is invalid", s->name, what, off)
               : 0;
    if (off < s->cluster_size)
        return vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL,
                                    "%s: %s at 0x%" PRIx64 " overlaps the header",
                                    s->name, what, off);
    if (off > file_len || len > file_len - off)
        return vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL,
                                    "%s: %s at 0x%" PRIx64 " (%" PRIu64 " bytes) is past "
                                    "the end of the file (%" PRIu64 " bytes)", s->name, what, off, len,
                                    file_len);
    return 0;
}

static int
read_feature_table(qcow2_state *s, const uint8_t *d, uint32_t len, vdisk_error *err)
{
    /* A last entry cut short counts, its missing bytes zero: QEMU reads a
     * table of any length that way (iotest 036 writes one of 14 bytes). */
    unsigned n = (len + 47) / 48;
    free(s->features);
    s->features = n ? calloc(n, sizeof(*s->features)) : NULL;
    if (n && !s->features)
        return vdisk_error_set(err, ENOMEM, "%s: out of memory", s->name);
    for (unsigned i = 0; i < n; i++) {
        uint8_t entry[48] = { 0 };
        uint32_t have = len - i * 48 < 48 ? len - i * 48 : 48;
        memcpy(entry, d + i * 48, have);
        s->features[i].type = entry[0];
        s->features[i].bit = entry[1];
        memcpy(s->features[i].name, entry + 2, 46);
        s->features[i].name[46] = '\0';
    }
    s->nfeatures = n;
    return 0;
}

/* The full disk encryption header extension: where the LUKS header lives. */
static int
read_crypt_extension(qcow2_state *s, const uint8_t *d, uint32_t len, vdisk_error *err)
{
    if (len != 16)
        return vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL,
                                    "%s: encryption header extension has %u bytes (expected 16)",
                                    s->name, len);
    s->crypt_hdr_offset = qcow2_be64(d);
    s->crypt_hdr_length = qcow2_be64(d + 8);
    return 0;
}

/* Walk the header extensions in [start, end) of the header cluster. */
static int
read_extensions(qcow2_state *s, const uint8_t *h, uint64_t start, uint64_t end, vdisk_error *err)
{
    uint64_t p = start;
    while (p + 8 <= end) {
        uint32_t magic = qcow2_be32(h + p), len = qcow2_be32(h + p + 4);
        if (magic == QCOW2_EXT_END)
            return 0;
        if (len > end - p - 8)
            return vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL,
                                        "%s: header extension 0x%08x at offset %" PRIu64
                                        " (%u bytes) overflows the header cluster", s->name, magic, p, len);
        const uint8_t *d = h + p + 8;
        int r = 0;
        if (magic == QCOW2_EXT_BACKING_FORMAT) {
            free(s->backing_format);
            s->backing_format = strndup((const char *)d, len);
            if (!s->backing_format)
                r = vdisk_error_set(err, ENOMEM, "%s: out of memory", s->name);
        } else if (magic == QCOW2_EXT_FEATURE_TABLE) {
            r = read_feature_table(s, d, len, err);
        } else if (magic == QCOW2_EXT_CRYPTO_HEADER) {
            r = read_crypt_extension(s, d, len, err);
        }
        /* Unknown extensions (and bitmaps, which we do not maintain) stay
         * untouched on disk: the header is only ever patched in place. */
        if (r < 0)
            return r;
        p += 8 + (((uint64_t)len + 7) & ~UINT64_C(7));
    }
    return 0;
}

/* qemu's words for incompatible features we do not know: the names the
 * image's feature table gives them (in the table's order), then the mask
 * of those it does not name: "Unsupported qcow2 feature(s): Test feature,
 * Unknown incompatible feature: 6000000000000000". */
static int
unsupported_features(const qcow2_state *s, uint64_t mask, vdisk_error *err)
{
    char list[512] = "";
    size_t n = 0;
    for (unsigned i = 0; i < s->nfeatures && n < sizeof(list); i++) {
        const struct qcow2_feature *f = &s->features[i];
        if (f->type != 0 || f->bit >= 64 || !f->name[0] || !(mask & (UINT64_C(1) << f->bit)))
            continue;
        n += (size_t)snprintf(list + n, sizeof(list) - n, "%s%.46s", n ? ", " : "", f->name);
        mask &= ~(UINT64_C(1) << f->bit);
    }
    if (mask && n < sizeof(list))
        snprintf(list + n, sizeof(list) - n, "%sUnknown incompatible feature: %" PRIx64,
                 n ? ", " : "", mask);
    return vdisk_error_set(err, ENOTSUP, "%s: Unsupported qcow2 feature(s): %s", s->name, list);
}

int
qcow2_header_check_features(qcow2_state *s, bool writable, vdisk_error *err)
{
    uint64_t unknown = s->incompat & ~QCOW2_INCOMPAT_KNOWN;
    if (unknown)
        return unsupported_features(s, unknown, err);
    if (s->incompat & QCOW2_INCOMPAT_DATA_FILE)
        return vdisk_error_set(err, ENOTSUP, "%s: images with an external data file are not "
                               "supported", s->name);
    /* A check may open anything it can repair; a dirty image is repaired
     * on a writable open (driver.c). */
    if (writable && (s->incompat & QCOW2_INCOMPAT_CORRUPT) && !checking(s))
        return vdisk_error_set(err, EROFS, "%s: image is marked corrupt; it can only be opened "
                               "read-only (repair it with 'check -r all')", s->name);
    return 0;
}

/* Fixed header fields: version, geometry, features.  h holds at least the
 * v3 header length (zero-filled past the end of a short file). */
static int
parse_fixed(qcow2_state *s, const uint8_t *h, uint64_t file_len, vdisk_error *err)
{
    if (qcow2_be32(h) != QCOW2_MAGIC)
        return corrupt(s, err, "not a qcow2 image (bad magic)");
    s->version = (int)qcow2_be32(h + 4);
    if (s->version == 1)
        return vdisk_error_set(err, ENOTSUP, "%s: qcow version 1 images are not supported "
                               "(convert it to qcow2 with 'qemu-img convert -O qcow2')", s->name);
    if (s->version != 2 && s->version != 3)
        return vdisk_error_set(err, ENOTSUP, "%s: unsupported qcow2 version %d (expected 2 or 3)",
                               s->name, s->version);
    uint32_t min_len = s->version == 2 ? QCOW2_V2_HEADER_LEN : QCOW2_V3_HEADER_LEN;
    if (file_len < min_len)
        return vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL,
                                    "%s: file is too short (%" PRIu64 " bytes) for a "
                                    "qcow2 version %d header (%u bytes)", s->name, file_len, s->version,
                                    min_len);
    s->cluster_bits = qcow2_be32(h + 20);
    if (s->cluster_bits < QCOW2_MIN_CLUSTER_BITS || s->cluster_bits > QCOW2_MAX_CLUSTER_BITS)
        return vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL,
                                    "%s: cluster_bits %u out of range (expected %d..%d)",
                                    s->name, s->cluster_bits, QCOW2_MIN_CLUSTER_BITS,
                                    QCOW2_MAX_CLUSTER_BITS);
    s->cluster_size = UINT64_C(1) << s->cluster_bits;
    s->crypt_method = qcow2_be32(h + 32);
    if (s->crypt_method > QCOW2_CRYPT_LUKS)
        return vdisk_error_set(err, ENOTSUP, "%s: unknown encryption method %u in the header "
                               "(expected 0 none, 1 aes or 2 luks)", s->name, s->crypt_method);
    s->header_length = QCOW2_V2_HEADER_LEN;
    s->refcount_order = 4;
    if (s->version == 3) {
        s->incompat = qcow2_be64(h + 72);
        s->compat = qcow2_be64(h + 80);
        s->autoclear = qcow2_be64(h + 88);
        s->refcount_order = qcow2_be32(h + 96);
        s->header_length = qcow2_be32(h + 100);
        if (s->header_length < QCOW2_V3_HEADER_LEN || s->header_length > s->cluster_size)
            return vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL,
                                        "%s: header_length %u out of range (expected %u..%"
                                        PRIu64 ")", s->name, s->header_length, QCOW2_V3_HEADER_LEN,
                                        s->cluster_size);
        if (s->refcount_order > 6)
            return vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL,
                                        "%s: refcount_order %u out of range (expected 0..6)",
                                        s->name, s->refcount_order);
        if (s->header_length > QCOW2_V3_HEADER_LEN)
            s->compression_type = h[104];
    }
    if (s->compression_type > 1)
        return vdisk_error_set(err, ENOTSUP, "%s: unknown compression type %u (expected 0 zlib or "
                               "1 zstd)", s->name, s->compression_type);
    if ((s->compression_type != 0) != !!(s->incompat & QCOW2_INCOMPAT_COMPRESSION))
        return vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL,
                                    "%s: compression type %u does not match the "
                                    "compression type feature bit", s->name, s->compression_type);
    s->ext_l2 = s->incompat & QCOW2_INCOMPAT_EXTL2;
    if (s->ext_l2 && s->cluster_bits < 14)
        return vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL,
                                    "%s: extended L2 entries need clusters of at least "
                                    "16 KiB (cluster_bits %u)", s->name, s->cluster_bits);
    return 0;
}

static void
set_geometry(qcow2_state *s)
{
    s->l2_entry_size = s->ext_l2 ? 16 : 8;
    s->l2_bits = s->cluster_bits - (s->ext_l2 ? 4 : 3);
    s->l2_entries = UINT32_C(1) << s->l2_bits;
    s->sc_bits = s->ext_l2 ? s->cluster_bits - 5 : s->cluster_bits;
    s->sc_size = UINT64_C(1) << s->sc_bits;
    s->csize_shift = 62 - (s->cluster_bits - 8);
    s->csize_mask = (UINT64_C(1) << (s->cluster_bits - 8)) - 1;
    s->coffset_mask = (UINT64_C(1) << s->csize_shift) - 1;
    s->rb_bits = s->cluster_bits + 3 - s->refcount_order;
    s->refcount_max = s->refcount_order == 6 ? UINT64_MAX
                                             : (UINT64_C(1) << (1u << s->refcount_order)) - 1;
}

static int
load_backing_name(qcow2_state *s, const uint8_t *h, vdisk_error *err)
{
    uint64_t off = qcow2_be64(h + 8);
    uint32_t len = qcow2_be32(h + 16);
    if (off == 0)
        return 0;
    if (len > QCOW2_MAX_BACKING_NAME)
        return vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL,
                                    "%s: backing file name is too long (%u bytes, at most "
                                    "%u)", s->name, len, QCOW2_MAX_BACKING_NAME);
    if (off > s->cluster_size || len > s->cluster_size - off)
        return vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL,
                                    "%s: backing file name at offset %" PRIu64 " (%u bytes) "
                                    "is outside the header cluster", s->name, off, len);
    s->backing_file = strndup((const char *)h + off, len);
    if (!s->backing_file)
        return vdisk_error_set(err, ENOMEM, "%s: out of memory", s->name);
    return 0;
}

static int
load_l1(qcow2_state *s, const uint8_t *h, uint64_t size, uint64_t file_len, vdisk_error *err)
{
    s->l1_size = qcow2_be32(h + 36);
    s->l1_offset = qcow2_be64(h + 40);
    uint64_t need = qcow2_size_to_l1(size, s->cluster_bits, s->l2_bits);
    if ((uint64_t)s->l1_size * 8 > QCOW2_MAX_L1_BYTES)
        return vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EFBIG,
                                    "%s: L1 table of %u entries is too large (at most %u "
                                    "bytes)", s->name, s->l1_size, QCOW2_MAX_L1_BYTES);
    if (need > s->l1_size)
        /* (QEMU: past INT32_MAX entries "Image is too big", else "L1 table is too small") */
        return vdisk_error_set_reason(err, need > INT32_MAX ? VDISK_REASON_IMAGE_TOO_BIG
                                                            : VDISK_REASON_L1_TOO_SMALL,
                                      vdisk_error_set_kind(err, VDISK_ERR_CORRUPT,
                                                           need > INT32_MAX ? EFBIG : EINVAL,
                                                           "%s: L1 table has %u entries but the virtual "
                                                           "size %" PRIu64 " needs %" PRIu64, s->name,
                                                           s->l1_size, size, need));
    if (s->l1_size == 0)
        return 0;
    int r = check_table(s, "L1 table", s->l1_offset, (uint64_t)s->l1_size * 8, file_len, err);
    if (r < 0)
        return r;
    uint8_t *raw = malloc((size_t)s->l1_size * 8);
    s->l1 = malloc((size_t)s->l1_size * 8);
    if (!raw || !s->l1) {
        free(raw);
        return vdisk_error_set(err, ENOMEM, "%s: out of memory for the L1 table", s->name);
    }
    r = vdisk_file_pread(s->file, raw, (size_t)s->l1_size * 8, s->l1_offset, err);
    for (uint32_t i = 0; r == 0 && i < s->l1_size; i++) {
        uint64_t e = qcow2_be64(raw + (size_t)i * 8);
        uint64_t l2 = e & L1E_OFFSET_MASK;
        s->l1[i] = e;
        if (l2 && !checking(s) && ((l2 & (s->cluster_size - 1)) || l2 >= file_len))
            r = vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL,
                                     "%s: L2 table at 0x%" PRIx64 " (L1 entry %u) is %s",
                                     s->name, l2, i, (l2 & (s->cluster_size - 1)) ?
                                     "not cluster aligned" : "past the end of the file");
    }
    free(raw);
    return r;
}

static int
load_reftable(qcow2_state *s, const uint8_t *h, uint64_t file_len, vdisk_error *err)
{
    s->reftable_offset = qcow2_be64(h + 48);
    s->reftable_clusters = qcow2_be32(h + 56);
    if (s->reftable_clusters == 0)
        return corrupt(s, err, "image has no refcount table");
    uint64_t bytes = (uint64_t)s->reftable_clusters << s->cluster_bits;
    if (bytes > QCOW2_MAX_REFTABLE_BYTES)
        return vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EFBIG,
                                    "%s: refcount table of %u clusters is too large (at most "
                                    "%u bytes)", s->name, s->reftable_clusters, QCOW2_MAX_REFTABLE_BYTES);
    int r = check_table(s, "refcount table", s->reftable_offset, bytes, file_len, err);
    if (r < 0)
        return r;
    s->reftable_entries = bytes / 8;
    uint8_t *raw = malloc(bytes);
    s->reftable = malloc(bytes);
    if (!raw || !s->reftable) {
        free(raw);
        return vdisk_error_set(err, ENOMEM, "%s: out of memory for the refcount table", s->name);
    }
    r = vdisk_file_pread(s->file, raw, bytes, s->reftable_offset, err);
    for (uint64_t i = 0; r == 0 && i < s->reftable_entries; i++) {
        uint64_t e = qcow2_be64(raw + i * 8) & REFT_OFFSET_MASK;
        s->reftable[i] = e;
        if (e && !checking(s) && ((e & (s->cluster_size - 1)) || e >= file_len))
            r = vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL,
                                     "%s: refcount block at 0x%" PRIx64 " (refcount table "
                                     "entry %" PRIu64 ") is %s", s->name, e, i,
                                     (e & (s->cluster_size - 1)) ? "not cluster aligned"
                                                                 : "past the end of the file");
    }
    free(raw);
    return r;
}

int
qcow2_header_load(qcow2_state *s, vdisk_error *err)
{
    uint64_t file_len;
    int r = vdisk_file_get_length(s->file, &file_len, err);
    if (r < 0)
        return r;
    uint8_t fixed[QCOW2_V3_HEADER_LEN + 8];
    r = vdisk_file_pread(s->file, fixed, sizeof(fixed), 0, err);
    if (r == 0)
        r = parse_fixed(s, fixed, file_len, err);
    if (r < 0)
        return r;
    set_geometry(s);
    uint8_t *h = vdisk_alloc_aligned(s->cluster_size, true);
    if (!h)
        return vdisk_error_set(err, ENOMEM, "%s: out of memory", s->name);
    r = vdisk_file_pread(s->file, h, s->cluster_size, 0, err);
    uint64_t size = qcow2_be64(h + 24);
    if (r == 0 && size > (UINT64_C(1) << 63) - 1)
        r = vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EFBIG,
                                 "%s: virtual size %" PRIu64 " is too large", s->name, size);
    if (r == 0)
        r = load_backing_name(s, h, err);
    if (r == 0) {
        uint64_t bf = qcow2_be64(h + 8);
        uint64_t end = bf && bf < s->cluster_size ? bf : s->cluster_size;
        r = read_extensions(s, h, s->header_length, end, err);
    }
    if (r == 0) {
        s->nb_snapshots = qcow2_be32(h + 60);
        s->snapshots_offset = qcow2_be64(h + 64);
        if (s->nb_snapshots > QCOW2_MAX_SNAPSHOTS)
            r = vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL,
                                     "%s: %u snapshots is more than the %u allowed", s->name,
                                     s->nb_snapshots, QCOW2_MAX_SNAPSHOTS);
        else if (s->nb_snapshots)
            /* Where it is, not whether the file reaches it: as QEMU, an
             * image opens with its snapshot table past the end (snapshot
             * operations that read the table refuse it there). */
            r = check_table(s, "snapshot table", s->snapshots_offset, 0, UINT64_MAX, err);
        /* every entry takes at least 40 bytes; a check's repair rewrites
         * such a table (allocating), so it is not held back */
        s->snapshots_unbacked = r == 0 && s->nb_snapshots && !checking(s) &&
                                (s->snapshots_offset >= file_len ||
                                 (uint64_t)s->nb_snapshots * 40 > file_len - s->snapshots_offset);
    }
    if (r == 0)
        r = load_l1(s, h, size, file_len, err);
    if (r == 0)
        r = load_reftable(s, h, file_len, err);
    free(h);
    if (r == 0)
        s->img->size = size;
    return r;
}

void
qcow2_header_free(qcow2_state *s)
{
    free(s->l1);
    free(s->reftable);
    free(s->backing_file);
    free(s->backing_format);
    free(s->features);
    s->l1 = s->reftable = NULL;
    s->backing_file = s->backing_format = NULL;
    s->features = NULL;
}

int
qcow2_header_write_u64(qcow2_state *s, unsigned field_off, uint64_t v, vdisk_error *err)
{
    uint8_t b[8];
    qcow2_put_be64(b, v);
    int r = vdisk_file_pwrite(s->file, b, sizeof(b), field_off, err);
    if (r == 0)
        r = vdisk_file_flush(s->file, err);
    if (r < 0)
        vdisk_error_prefix(err, "%s: cannot update the header", s->name);
    return r;
}

int
qcow2_header_write_reftable(qcow2_state *s, uint64_t off, uint32_t clusters, vdisk_error *err)
{
    uint8_t b[12];
    qcow2_put_be64(b, off);
    qcow2_put_be32(b + 8, clusters);
    int r = vdisk_file_pwrite(s->file, b, sizeof(b), QCOW2_HDR_REFTABLE_OFFSET, err);
    if (r == 0)
        r = vdisk_file_flush(s->file, err);
    if (r < 0)
        vdisk_error_prefix(err, "%s: cannot point the header at the new refcount table", s->name);
    return r;
}

/* Append one extension (data padded to 8 bytes); returns bytes used or -1. */
static long
add_ext(uint8_t *p, size_t room, uint32_t magic, const void *data, uint32_t len)
{
    size_t total = 8 + (((size_t)len + 7) & ~(size_t)7);
    if (total > room)
        return -1;
    qcow2_put_be32(p, magic);
    qcow2_put_be32(p + 4, len);
    if (len)
        memcpy(p + 8, data, len);
    return (long)total;
}

int
qcow2_header_build(const struct qcow2_header_params *p, uint8_t *buf, vdisk_error *err)
{
    uint64_t cs = UINT64_C(1) << p->cluster_bits;
    qcow2_put_be32(buf, QCOW2_MAGIC);
    qcow2_put_be32(buf + 4, (uint32_t)p->version);
    qcow2_put_be32(buf + 20, p->cluster_bits);
    qcow2_put_be64(buf + 24, p->size);
    qcow2_put_be32(buf + 36, p->l1_size);
    qcow2_put_be64(buf + 40, p->l1_offset);
    qcow2_put_be64(buf + 48, p->reftable_offset);
    qcow2_put_be32(buf + 56, p->reftable_clusters);
    size_t pos = QCOW2_V2_HEADER_LEN;
    if (p->version >= 3) {
        qcow2_put_be64(buf + 72, p->incompat);
        qcow2_put_be64(buf + 80, p->compat);
        qcow2_put_be32(buf + 96, p->refcount_order);
        qcow2_put_be32(buf + 100, 112);
        buf[104] = p->compression_type;
        pos = 112;
    }
    long n;
    if (p->backing_format) {
        n = add_ext(buf + pos, cs - pos, QCOW2_EXT_BACKING_FORMAT, p->backing_format,
                    (uint32_t)strlen(p->backing_format));
        if (n < 0)
            goto nospace;
        pos += (size_t)n;
    }
    qcow2_put_be32(buf + 32, p->crypt_method);
    if (p->crypt_hdr_length) {
        /* Full disk encryption header pointer, where QEMU puts it. */
        uint8_t ext[16];
        qcow2_put_be64(ext, p->crypt_hdr_offset);
        qcow2_put_be64(ext + 8, p->crypt_hdr_length);
        n = add_ext(buf + pos, cs - pos, QCOW2_EXT_CRYPTO_HEADER, ext, sizeof(ext));
        if (n < 0)
            goto nospace;
        pos += (size_t)n;
    }
    /* As QEMU: the feature table only where it leaves room for a backing
     * name (clusters over 4 KiB). */
    if (p->version >= 3 && cs > 4096) {
        uint8_t table[sizeof(known_features) / sizeof(known_features[0]) * 48];
        memset(table, 0, sizeof(table));
        for (size_t i = 0; i < sizeof(known_features) / sizeof(known_features[0]); i++) {
            table[i * 48] = known_features[i].type;
            table[i * 48 + 1] = known_features[i].bit;
            memcpy(table + i * 48 + 2, known_features[i].name, strlen(known_features[i].name));
        }
        n = add_ext(buf + pos, cs - pos, QCOW2_EXT_FEATURE_TABLE, table, sizeof(table));
        if (n < 0)
            goto nospace;
        pos += (size_t)n;
    }
    n = add_ext(buf + pos, cs - pos, QCOW2_EXT_END, NULL, 0);
    if (n < 0)
        goto nospace;
    pos += (size_t)n;
    if (p->backing_file) {
        size_t len = strlen(p->backing_file);
        if (len > QCOW2_MAX_BACKING_NAME || len > cs - pos)
            goto nospace;
        memcpy(buf + pos, p->backing_file, len);
        qcow2_put_be64(buf + 8, pos);
        qcow2_put_be32(buf + 16, (uint32_t)len);
    }
    return 0;
nospace:
    return vdisk_error_set(err, ENOSPC, "backing file name or format too long for a qcow2 header "
                           "in a %" PRIu64 "-byte cluster", cs);
}
