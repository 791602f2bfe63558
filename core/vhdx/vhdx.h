/* libvdisk internals — the VHDX driver, shared by the files of core/vhdx/.
 *
 * On-disk format: Microsoft's "VHDX Format Specification" v1.00 (MS-VHDX).
 * Every integer is little endian; GUIDs are kept in their 16-byte binary
 * form (Data1..Data3 little endian, Data4 as bytes).  A file starts with a
 * 1 MiB header section: the file type identifier, two headers (the one with
 * the higher sequence number is current) and two copies of the region
 * table, which locates the BAT and the metadata region.  The log (a
 * circular journal of metadata updates) is located by the current header.
 *
 * Locking: s->lock serialises everything but data I/O to payload blocks
 * that are already allocated: the BAT, allocation, header updates, log
 * commits.
 */
#ifndef VDISK_VHDX_H
#define VDISK_VHDX_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "driver.h"

#define VHDX_MIB (UINT64_C(1) << 20)
#define VHDX_HEADER1_OFFSET (64u << 10)
#define VHDX_HEADER2_OFFSET (128u << 10)
#define VHDX_REGION1_OFFSET (192u << 10)
#define VHDX_REGION2_OFFSET (256u << 10)
#define VHDX_HEADER_SECTION VHDX_MIB
#define VHDX_HEADER_SIZE 4096u          /* the checksummed part of a header */
#define VHDX_REGION_TABLE_SIZE (64u << 10)
#define VHDX_METADATA_TABLE_SIZE (64u << 10)
#define VHDX_MAX_TABLE_ENTRIES 2047u
#define VHDX_LOG_SECTOR 4096u
#define VHDX_MIN_BLOCK VHDX_MIB
#define VHDX_MAX_BLOCK (256u << 20)
#define VHDX_MAX_SIZE (UINT64_C(64) << 40)
#define VHDX_MAX_METADATA_ITEM VHDX_MIB
/* Each sector bitmap block covers 2^23 sectors. */
#define VHDX_SECTORS_PER_BITMAP (UINT64_C(1) << 23)

/* BAT entry: state in bits 0-2, file offset in MiB in bits 20-63. */
#define VHDX_BAT_STATE_MASK UINT64_C(7)
#define VHDX_BAT_OFFSET_MASK UINT64_C(0xfffffffffff00000)
enum vhdx_block_state {
    VHDX_PAYLOAD_NOT_PRESENT = 0,
    VHDX_PAYLOAD_UNDEFINED = 1,
    VHDX_PAYLOAD_ZERO = 2,
    VHDX_PAYLOAD_UNMAPPED = 3,
    VHDX_PAYLOAD_UNMAPPED_V095 = 5,    /* the draft spec's value, as QEMU reads it */
    VHDX_PAYLOAD_FULLY_PRESENT = 6,
    VHDX_PAYLOAD_PARTIALLY_PRESENT = 7,
    VHDX_SB_NOT_PRESENT = 0,
    VHDX_SB_PRESENT = 6,
};

static inline uint16_t vhdx_le16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static inline uint32_t vhdx_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline uint64_t vhdx_le64(const uint8_t *p) { return vhdx_le32(p) | (uint64_t)vhdx_le32(p + 4) << 32; }
static inline void vhdx_put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static inline void vhdx_put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); p[2] = (uint8_t)(v >> 16); p[3] = (uint8_t)(v >> 24);
}
static inline void vhdx_put64(uint8_t *p, uint64_t v)
{
    vhdx_put32(p, (uint32_t)v);
    vhdx_put32(p + 4, (uint32_t)(v >> 32));
}

typedef struct vhdx_guid {
    uint8_t b[16];
} vhdx_guid;

/* ---- crc32c.c ---- */
/* CRC-32C (Castagnoli) of buf, as the spec uses it (initial value and
 * final xor all ones). */
uint32_t vhdx_crc32c(const void *buf, size_t len);
/* Continue a CRC over more bytes: crc is a previous vhdx_crc32c result. */
uint32_t vhdx_crc32c_update(uint32_t crc, const void *buf, size_t len);
/* The checksum of a structure whose 4-byte checksum field at `at` counts
 * as zero; and the same stored into the field. */
uint32_t vhdx_checksum(const uint8_t *buf, size_t len, size_t at);
void vhdx_checksum_store(uint8_t *buf, size_t len, size_t at);

/* ---- guid.c ---- */
bool vhdx_guid_is_zero(const vhdx_guid *g);
bool vhdx_guid_equal(const vhdx_guid *a, const vhdx_guid *b);
int vhdx_guid_generate(vhdx_guid *g);
/* "{01234567-89ab-cdef-0123-456789abcdef}" (braces optional) -> binary. */
int vhdx_guid_parse(const char *text, vhdx_guid *g);
/* Text form without braces, lower case; buf of at least 37 bytes. */
void vhdx_guid_format(const vhdx_guid *g, char *buf);

/* Known GUIDs (guid.c). */
extern const vhdx_guid vhdx_region_bat, vhdx_region_metadata;
extern const vhdx_guid vhdx_meta_file_params, vhdx_meta_virtual_size, vhdx_meta_page83,
    vhdx_meta_logical_sector, vhdx_meta_physical_sector, vhdx_meta_parent_locator;
extern const vhdx_guid vhdx_parent_type_vhdx;

/* ---- header.c ---- */
typedef struct vhdx_header {
    uint64_t seq;
    vhdx_guid file_write;
    vhdx_guid data_write;
    vhdx_guid log_guid;
    uint16_t log_version;
    uint16_t version;
    uint32_t log_length;
    uint64_t log_offset;
} vhdx_header;

/* Parse one 4 KiB header; false unless its signature, checksum and
 * version are right. */
bool vhdx_header_parse(const uint8_t *buf, vhdx_header *h);
void vhdx_header_build(const vhdx_header *h, uint8_t *buf);

/* ---- region.c, metadata.c, bat.c: see struct vhdx_state ---- */
typedef struct vhdx_region {
    uint64_t offset;
    uint32_t length;
} vhdx_region;

/* A key/value pair of the parent locator (UTF-8). */
typedef struct vhdx_kv {
    char *key;
    char *value;
} vhdx_kv;

typedef struct vhdx_state {
    vdisk_image *img;
    vdisk_file *file;
    const char *name;
    pthread_mutex_t lock;
    bool writable;

    /* header section */
    vhdx_header hdr[2];
    bool hdr_valid[2];
    int cur;                    /* index of the current header */
    vhdx_region bat_region, meta_region;

    /* metadata */
    uint32_t block_size;
    bool leave_allocated;       /* fixed VHDX */
    bool has_parent;            /* differencing VHDX */
    uint64_t virtual_size;
    uint32_t logical_sector;
    uint32_t physical_sector;
    vhdx_guid page83;
    vhdx_kv *locator;           /* the parent locator's pairs */
    size_t nlocator;

    /* BAT */
    uint64_t *bat;              /* host endian */
    uint64_t bat_entries;
    uint64_t payload_blocks;
    uint64_t chunk_ratio;       /* payload blocks per sector bitmap block */

    /* writing */
    bool file_guid_done;        /* FileWriteGuid renewed in this session */
    bool data_guid_done;        /* DataWriteGuid renewed in this session */
    uint8_t *bat_dirty;         /* one byte per 4 KiB page of the BAT: changed since the last commit */
    uint64_t file_end;          /* where the next payload block goes */
    uint64_t fixed_base;        /* a fixed file laid out as qemu-img lays it out: block b's
                                   place is fixed_base + b * block_size (0: not such a file) */
    uint64_t log_seq;           /* sequence number of the next log entry */
    bool log_replayed;          /* the open replayed a log (check reports it) */
} vhdx_state;

/* header.c: read the file identifier and both headers, pick the current
 * one (the spec's rule; two identical headers, as disk2vhd writes, are
 * accepted). */
int vhdx_headers_load(vhdx_state *s, vdisk_error *err);
/* The spec's update procedure, done twice so both headers are current:
 * a new FileWriteGuid on the first update of the session, a new
 * DataWriteGuid when data_write, the log GUID when log_guid != NULL. */
int vhdx_headers_update(vhdx_state *s, bool data_write, const vhdx_guid *log_guid, vdisk_error *err);
static inline const vhdx_header *vhdx_cur(const vhdx_state *s) { return &s->hdr[s->cur]; }

/* region.c */
int vhdx_regions_load(vhdx_state *s, uint64_t file_len, vdisk_error *err);
/* A region table (64 KiB) naming the BAT and the metadata region. */
void vhdx_region_table_build(const vhdx_region *bat, const vhdx_region *meta, uint8_t *buf);
/* Does [off, off+len) overlap the header section, the log or a region? */
bool vhdx_overlaps_metadata(const vhdx_state *s, uint64_t off, uint64_t len);

/* metadata.c */
int vhdx_metadata_load(vhdx_state *s, vdisk_error *err);
void vhdx_metadata_free(vhdx_state *s);
/* The value of a parent locator key, or NULL. */
const char *vhdx_locator_get(const vhdx_state *s, const char *key);
/* The metadata region (its first MiB) of a new image. */
int vhdx_metadata_build(uint32_t block_size, bool fixed, uint64_t size, uint32_t sector, uint8_t *buf,
                        size_t len);

/* bat.c */
/* Payload blocks, chunk ratio and BAT entries of the image's geometry. */
void vhdx_bat_geometry(uint64_t size, uint32_t block_size, uint32_t logical_sector, bool diff,
                       uint64_t *payload_blocks, uint64_t *chunk_ratio, uint64_t *entries);
int vhdx_bat_load(vhdx_state *s, uint64_t file_len, vdisk_error *err);
/* Check every entry (open: stop at the first bad one; check: count them
 * and report each through report). */
int vhdx_bat_check(vhdx_state *s, uint64_t file_len, uint64_t *bad, vdisk_check_report_fn report,
                   void *opaque, vdisk_error *err);
static inline uint64_t vhdx_payload_index(const vhdx_state *s, uint64_t block)
{
    return block + block / s->chunk_ratio;
}
static inline uint64_t vhdx_bitmap_index(const vhdx_state *s, uint64_t block)
{
    return block / s->chunk_ratio * (s->chunk_ratio + 1) + s->chunk_ratio;
}
/* Set a BAT entry and mark its page for the next log commit (lock held). */
void vhdx_bat_set(vhdx_state *s, uint64_t index, uint64_t entry);

/* log.c: replay a log that is not empty (writable opens); read-only opens
 * are refused as QEMU refuses them. */
int vhdx_log_open(vhdx_state *s, vdisk_error *err);
/* log-write.c: write the changed BAT pages through the log (lock held). */
int vhdx_log_commit(vhdx_state *s, vdisk_error *err);
/* One log entry, as the writer builds it and the reader checks it. */
typedef struct vhdx_log_update {
    uint64_t file_offset;       /* 4 KiB aligned */
    const uint8_t *data;        /* 4096 bytes */
} vhdx_log_update;
/* Build a log entry of `n` 4 KiB updates into buf (vhdx_log_entry_size). */
size_t vhdx_log_entry_size(size_t n);
void vhdx_log_entry_build(const vhdx_guid *log_guid, uint64_t seq, uint32_t tail, uint64_t flushed,
                          uint64_t last, const vhdx_log_update *u, size_t n, uint8_t *buf);

/* parent.c */
int vhdx_parent_name(vhdx_state *s, char **out, vdisk_error *err);
int vhdx_open_parent(vhdx_state *s, vdisk_error *err);

/* io.c */
int vhdx_pread(vdisk_image *img, void *buf, uint64_t len, uint64_t off, vdisk_error *err);
int vhdx_block_status(vdisk_image *img, uint64_t off, uint64_t len, vdisk_extent *ext, vdisk_error *err);

/* write.c */
int vhdx_pwrite(vdisk_image *img, const void *buf, uint64_t len, uint64_t off, vdisk_error *err);
int vhdx_write_zeroes(vdisk_image *img, uint64_t len, uint64_t off, unsigned flags, vdisk_error *err);
int vhdx_discard(vdisk_image *img, uint64_t len, uint64_t off, vdisk_error *err);

/* create.c */
int vhdx_create(vdisk_file *file, const vdisk_create_opts *opts, vdisk_progress_fn progress,
                void *opaque, vdisk_error *err);
/* The block size qemu-img chooses for a size (block_size=0). */
uint32_t vhdx_default_block_size(uint64_t size);

/* check.c */
int vhdx_check(vdisk_image *img, unsigned fix, vdisk_check_result *res, vdisk_check_report_fn report,
               vdisk_progress_fn progress, void *opaque, vdisk_error *err);

#endif
