/* libvdisk internals — ISO 9660: on-disk layout and the helpers shared by
 * the reader, the writer and the image driver.
 *
 * Map of core/iso9660/:
 *   date.c        the two timestamp encodings (7-byte and 17-byte)
 *   names.c       ISO 9660 / Joliet name decoding and generation
 *   descriptor.c  volume descriptors: parse (PVD, Joliet SVD, boot record) and build
 *   dirrec.c      one directory record: parse with bounds checks, and encode
 *   susp.c        SUSP / Rock Ridge parser (NM, PX, SL, TF, CL, RE, ZF, CE)
 *   rrip.c        Rock Ridge entries the writer emits
 *   eltorito.c    El Torito boot catalog: parse and build
 *   pathtable.c   path table reader
 *   zisofs.c      zisofs (Rock Ridge ZF) decompression
 *   reader.c      the vdisk_iso handle: open, volume info, boot catalog, file reads
 *   directory.c   directory records -> entries; path lookup
 *   walk.c        tree walk with loop detection
 *   extract.c     safe extraction below a directory
 *   build.h       writer: the in-memory tree (tree.c, layout.c, writer.c)
 *   tree.c        writer: host files -> in-memory tree
 *   layout.c      writer: identifiers, system use data, sector addresses
 *   writer.c      writer: bytes out
 *   driver.c      the read-only image format driver
 */
#ifndef VDISK_ISO9660_H
#define VDISK_ISO9660_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <vdisk/iso.h>

#include "file.h"

#define ISO_SECTOR 2048u
#define ISO_VD_FIRST 16u          /* first volume descriptor sector */
#define ISO_VD_MAX 64u            /* descriptors read before giving up on a terminator */
#define ISO_DIRREC_MIN 34u        /* fixed part (33) + 1 name byte */
#define ISO_DIR_MAX (64u << 20)   /* largest directory accepted (bytes) */
#define ISO_RR_NAME_MAX 1023u     /* longest Rock Ridge name accepted (bytes) */
#define ISO_RR_LINK_MAX 4095u     /* longest symlink target accepted (bytes) */
#define ISO_DEPTH_MAX 256u        /* deepest directory nesting walked */
#define ISO_EXTENT_MAX 0xFFFFF800u /* largest extent the writer emits (sector multiple) */

enum {
    ISO_VD_BOOT = 0,
    ISO_VD_PRIMARY = 1,
    ISO_VD_SUPPLEMENTARY = 2,
    ISO_VD_TERMINATOR = 255,
};

enum {
    ISO_FLAG_HIDDEN = 0x01,
    ISO_FLAG_DIR = 0x02,
    ISO_FLAG_MULTI = 0x80,
};

/* ---- byte order (ISO 9660 7.2/7.3) ---------------------------------------- */

static inline uint16_t iso_le16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static inline uint32_t
iso_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline uint32_t
iso_be32(const uint8_t *p)
{
    return (uint32_t)p[3] | (uint32_t)p[2] << 8 | (uint32_t)p[1] << 16 | (uint32_t)p[0] << 24;
}
static inline void
iso_put_le16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}
static inline void
iso_put_be16(uint8_t *p, uint16_t v)
{
    p[1] = (uint8_t)v;
    p[0] = (uint8_t)(v >> 8);
}
static inline void
iso_put_le32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}
static inline void
iso_put_be32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[3 - i] = (uint8_t)(v >> (8 * i));
}
/* Both-byte-order fields: little endian then big endian. */
static inline void iso_put_both16(uint8_t *p, uint16_t v) { iso_put_le16(p, v); iso_put_be16(p + 2, v); }
static inline void iso_put_both32(uint8_t *p, uint32_t v) { iso_put_le32(p, v); iso_put_be32(p + 4, v); }

/* ---- date.c --------------------------------------------------------------- */

/* 7-byte directory record date -> seconds since the epoch (UTC);
 * VDISK_ISO_TIME_UNSET when all zero or out of range. */
int64_t iso_date7_parse(const uint8_t p[7]);
void iso_date7_format(uint8_t p[7], int64_t t);
/* 17-byte volume descriptor date ("YYYYMMDDHHMMSScc" + offset). */
int64_t iso_date17_parse(const uint8_t p[17]);
/* VDISK_ISO_TIME_UNSET writes the "not specified" form. */
void iso_date17_format(uint8_t p[17], int64_t t);
/* Days since 1970-01-01 of a proleptic Gregorian date. */
int64_t iso_days_from_civil(int64_t y, unsigned m, unsigned d);

/* ---- names.c -------------------------------------------------------------- */

/* Decode an ISO 9660 identifier into out (UTF-8 bytes are passed through):
 * the version (";1") and a trailing '.' are removed.  out holds 256 bytes. */
void iso_name_plain(const uint8_t *id, size_t len, char *out);
/* Decode a Joliet UCS-2/UTF-16 big-endian identifier to UTF-8, dropping
 * ";1".  out holds 4 * 128 + 1 bytes.  -EILSEQ on an odd length. */
int iso_name_joliet(const uint8_t *id, size_t len, char *out, size_t outlen);
/* Trimmed copy of a space-padded descriptor field (d/a-characters). */
void iso_field_string(const uint8_t *p, size_t len, char *out, size_t outlen);
/* Same for a UCS-2 field of a Joliet descriptor. */
void iso_field_ucs2(const uint8_t *p, size_t len, char *out, size_t outlen);
/* Writer: the level-1 identifier of name ("USER_DAT.;1", "SUB"), mangled
 * with `serial` (>0) to make it unique: "USER_001.;1". out: 16 bytes. */
void iso_name_level1(const char *name, bool dir, unsigned serial, char *out);
/* Writer: the Joliet identifier (UCS-2 big endian, at most 64 units,
 * characters Joliet forbids replaced by '_'), `serial` as above.  Returns
 * the byte length written to out (at most 128). */
size_t iso_name_joliet_encode(const char *name, unsigned serial, uint8_t *out);
/* UTF-8 -> big-endian UTF-16 of at most max units; returns bytes written. */
size_t iso_utf8_to_ucs2(const char *s, uint8_t *out, size_t max_units);

/* ---- dirrec.c ------------------------------------------------------------- */

typedef struct iso_dirrec {
    uint8_t len;                /* record length */
    uint32_t lba;
    uint32_t size;
    uint8_t flags;              /* ISO_FLAG_* */
    const uint8_t *date;        /* recording date, 7 bytes (iso_date7_parse when needed) */
    const uint8_t *name;        /* identifier (not NUL terminated) */
    uint8_t name_len;
    const uint8_t *su;          /* system use area */
    size_t su_len;
} iso_dirrec;

/* Parse the record at p, which has `avail` bytes before the end of its
 * sector.  *out points into p.  `where` names the record in messages
 * ("cd.iso: directory at sector 20, byte 0x44"). */
int iso_dirrec_parse(const uint8_t *p, size_t avail, const char *where, iso_dirrec *out,
                     vdisk_error *err);
/* Length of a record with a name of name_len bytes and su_len bytes of
 * system use data (even, <= 255 when valid). */
size_t iso_dirrec_size(size_t name_len, size_t su_len);
/* Encode a record at p (iso_dirrec_size bytes).  `id` may be "\0" / "\1". */
size_t iso_dirrec_encode(uint8_t *p, uint32_t lba, uint32_t size, uint8_t flags, int64_t mtime,
                         const uint8_t *id, size_t id_len, const uint8_t *su, size_t su_len);

/* ---- descriptor.c --------------------------------------------------------- */

typedef struct iso_descriptors {
    uint32_t space_size;        /* sectors (primary descriptor) */
    uint32_t root_lba, root_size;
    uint32_t path_table_size, path_table_lba;     /* L (little endian) table */
    bool joliet;
    uint32_t joliet_root_lba, joliet_root_size;
    uint32_t joliet_path_table_size, joliet_path_table_lba;
    bool boot_record;
    uint32_t boot_catalog_lba;
    vdisk_iso_volume vol;       /* ids and dates (rock_ridge/bootable filled later) */
} iso_descriptors;

/* Read the volume descriptor set starting at sector 16 of f. */
int iso_descriptors_read(vdisk_file *f, uint64_t file_size, iso_descriptors *d, vdisk_error *err);

typedef struct iso_vd_spec {
    uint8_t type;               /* ISO_VD_PRIMARY or ISO_VD_SUPPLEMENTARY (Joliet) */
    const char *volume_id;
    const char *system_id;
    const char *application_id;
    uint32_t space_size;
    uint32_t path_table_size;
    uint32_t l_path_lba, m_path_lba;
    const uint8_t *root_record; /* 34 bytes */
    int64_t date;
} iso_vd_spec;

/* Build a primary or Joliet descriptor into a 2048-byte sector. */
void iso_descriptor_build(uint8_t *sector, const iso_vd_spec *s);
/* The El Torito boot record and the set terminator. */
void iso_boot_record_build(uint8_t *sector, uint32_t catalog_lba);
void iso_terminator_build(uint8_t *sector);

/* ---- susp.c --------------------------------------------------------------- */

typedef struct iso_rr {
    bool sp;                    /* SUSP "SP" indicator (root "." record) */
    uint8_t sp_skip;            /* bytes to skip at the start of every system use area */
    bool rr;                    /* any Rock Ridge entry (or an ER naming RRIP) seen */
    bool has_px, has_nm, has_sl;
    bool nm_current, nm_parent;
    bool relocated;             /* RE: a relocated directory, hidden in its parent */
    bool has_cl;                /* CL: this record stands for the directory at cl_lba */
    bool zf;                    /* ZF "pz": the data is zisofs-compressed */
    uint8_t zf_log2_block;
    uint32_t zf_size;           /* uncompressed size */
    uint32_t cl_lba;
    uint32_t mode, nlink, uid, gid;
    int64_t mtime, atime, ctime;
    size_t name_len, link_len;
    char name[ISO_RR_NAME_MAX + 1];
    char link[ISO_RR_LINK_MAX + 1];
} iso_rr;

/* Reads continuation areas (CE) for the parser. */
typedef int (*iso_read_fn)(void *opaque, void *buf, size_t len, uint64_t off, vdisk_error *err);

/* Parse a system use area (after sp_skip bytes, which the caller drops).
 * rd may be NULL (CE entries are then ignored).  `where` prefixes
 * messages.  *out is reset first; times are VDISK_ISO_TIME_UNSET when
 * absent. */
int iso_susp_parse(const uint8_t *su, size_t len, iso_read_fn rd, void *opaque,
                   uint64_t file_size, const char *where, iso_rr *out, vdisk_error *err);

/* ---- rrip.c --------------------------------------------------------------- */

typedef struct iso_buf {
    uint8_t *data;
    size_t len, cap;
} iso_buf;

int iso_buf_append(iso_buf *b, const void *p, size_t n);
void iso_buf_free(iso_buf *b);

typedef struct iso_rr_attrs {
    uint32_t mode, nlink;
    uint32_t uid, gid;
    int64_t mtime;
    const char *name;           /* NULL for "." and ".." */
    const char *link;           /* symlink target or NULL */
} iso_rr_attrs;

/* Append the Rock Ridge entries of one record (PX, TF, NM, SL) to b. */
int iso_rrip_entries(iso_buf *b, const iso_rr_attrs *a);
/* The root "." record's SUSP indicator and Rock Ridge extension reference. */
int iso_rrip_root_entries(iso_buf *sp, iso_buf *er);
/* A CE entry pointing at (lba, off, len). */
void iso_rrip_ce(uint8_t out[28], uint32_t lba, uint32_t off, uint32_t len);
#define ISO_CE_LEN 28u

/* ---- eltorito.c ----------------------------------------------------------- */

/* Parse a 2048-byte boot catalog.  *entries malloc'ed. */
int iso_eltorito_parse(const uint8_t *cat, const char *where, vdisk_iso_boot_entry **entries,
                       size_t *n, vdisk_error *err);
/* Build a catalog with an optional BIOS entry and an optional EFI entry
 * (at least one). */
void iso_eltorito_build(uint8_t *cat, const vdisk_iso_boot_entry *bios,
                        const vdisk_iso_boot_entry *efi);

/* ---- reader.c / walk.c ---------------------------------------------------- */

struct vdisk_iso {
    vdisk_file *file;
    bool own_file;
    uint64_t file_size;
    iso_descriptors d;
    uint8_t su_skip;
    uint32_t root_lba, root_size;   /* the presented tree */
};

/* Open on an already open file (the image driver's).  own: close it with
 * the handle. */
int iso_open_file(vdisk_file *f, bool own, vdisk_iso_names names, vdisk_iso **out,
                  vdisk_error *err);
/* The entries of the directory whose records are at (lba, size). */
int iso_read_dir(vdisk_iso *iso, uint32_t lba, uint32_t size, vdisk_iso_entry **entries,
                 size_t *n, vdisk_error *err);
/* "/a/./b/../c//" -> "/a/c" ("" for the root).  -ENAMETOOLONG. */
int iso_path_normalize(const char *path, char *out, size_t outlen);
/* pread callback on iso->file (for the SUSP parser). */
int iso_file_read(void *opaque, void *buf, size_t len, uint64_t off, vdisk_error *err);
/* The root directory as an entry. */
int iso_root_entry(vdisk_iso *iso, vdisk_iso_entry *out, vdisk_error *err);
/* Read the stored bytes of an entry (extents as they are on disc). */
int iso_read_stored(vdisk_iso *iso, const vdisk_iso_entry *e, void *buf, size_t len, uint64_t off,
                    vdisk_error *err);
/* zisofs.c: read uncompressed bytes of a zisofs entry. */
int iso_zisofs_pread(vdisk_iso *iso, const vdisk_iso_entry *e, void *buf, size_t len, uint64_t off,
                     vdisk_error *err);
/* Deep copy of an entry. */
int iso_entry_copy(vdisk_iso_entry *dst, const vdisk_iso_entry *src);

static inline bool iso_entry_is_dir(const vdisk_iso_entry *e) { return (e->mode & 0170000) == 0040000; }

#endif
