/* libvdisk internals — qcow2 driver state shared by the files in core/qcow2/.
 *
 * On-disk format: QEMU's docs/interop/qcow2.txt.  All on-disk integers are
 * big endian; everything held in memory here (L1 table, refcount table) is
 * host endian.  L2 tables and refcount blocks live in the table caches
 * (cache.c) in their on-disk byte order.
 *
 * Locking: s->lock serialises every metadata access (caches, L1, refcount
 * table, header fields, allocation).  Data I/O to clusters that are already
 * allocated runs without it.  A write that allocates registers the guest
 * clusters it owns as "in flight" (io.c) so that no other request allocates
 * or discards them before its L2 update lands.
 */
#ifndef VDISK_QCOW2_H
#define VDISK_QCOW2_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "driver.h"

#define QCOW2_MAGIC 0x514649fbu
#define QCOW2_MIN_CLUSTER_BITS 9
#define QCOW2_MAX_CLUSTER_BITS 21
#define QCOW2_V2_HEADER_LEN 72u
#define QCOW2_V3_HEADER_LEN 104u
/* QEMU's limits: tables larger than these are refused as absurd. */
#define QCOW2_MAX_L1_BYTES (32u << 20)
#define QCOW2_MAX_REFTABLE_BYTES (8u << 20)
#define QCOW2_MAX_BACKING_NAME 1023u
#define QCOW2_MAX_SNAPSHOTS 65536u
/* Host offsets in L1/L2 entries have 56 bits. */
#define QCOW2_MAX_HOST_OFFSET (UINT64_C(1) << 56)

#define QCOW_OFLAG_COPIED (UINT64_C(1) << 63)
#define QCOW_OFLAG_COMPRESSED (UINT64_C(1) << 62)
#define QCOW_OFLAG_ZERO UINT64_C(1)
#define L1E_OFFSET_MASK UINT64_C(0x00fffffffffffe00)
#define L2E_OFFSET_MASK UINT64_C(0x00fffffffffffe00)
#define REFT_OFFSET_MASK UINT64_C(0xfffffffffffffe00)

#define QCOW2_INCOMPAT_DIRTY (UINT64_C(1) << 0)
#define QCOW2_INCOMPAT_CORRUPT (UINT64_C(1) << 1)
#define QCOW2_INCOMPAT_DATA_FILE (UINT64_C(1) << 2)
#define QCOW2_INCOMPAT_COMPRESSION (UINT64_C(1) << 3)
#define QCOW2_INCOMPAT_EXTL2 (UINT64_C(1) << 4)
#define QCOW2_INCOMPAT_KNOWN UINT64_C(0x1f)
#define QCOW2_COMPAT_LAZY_REFCOUNTS (UINT64_C(1) << 0)

#define QCOW2_EXT_END 0x00000000u
#define QCOW2_EXT_BACKING_FORMAT 0xe2792acau
#define QCOW2_EXT_FEATURE_TABLE 0x6803f857u
#define QCOW2_EXT_CRYPTO_HEADER 0x0537be77u
#define QCOW2_EXT_BITMAPS 0x23852875u
#define QCOW2_EXT_DATA_FILE 0x44415441u

/* Header field offsets (for in-place updates). */
#define QCOW2_HDR_REFTABLE_OFFSET 48
#define QCOW2_HDR_INCOMPAT 72
#define QCOW2_HDR_AUTOCLEAR 88

#define QCOW2_SUBCLUSTERS 32u

/* ---- big-endian helpers ------------------------------------------------- */

static inline uint64_t
qcow2_be64(const void *p)
{
    const uint8_t *b = p;
    return ((uint64_t)b[0] << 56) | ((uint64_t)b[1] << 48) | ((uint64_t)b[2] << 40) |
           ((uint64_t)b[3] << 32) | ((uint64_t)b[4] << 24) | ((uint64_t)b[5] << 16) |
           ((uint64_t)b[6] << 8) | b[7];
}

static inline uint32_t
qcow2_be32(const void *p)
{
    const uint8_t *b = p;
    return ((uint32_t)b[0] << 24) | ((uint32_t)b[1] << 16) | ((uint32_t)b[2] << 8) | b[3];
}

static inline void
qcow2_put_be64(void *p, uint64_t v)
{
    uint8_t *b = p;
    for (int i = 7; i >= 0; i--, v >>= 8)
        b[i] = (uint8_t)v;
}

static inline void
qcow2_put_be32(void *p, uint32_t v)
{
    uint8_t *b = p;
    for (int i = 3; i >= 0; i--, v >>= 8)
        b[i] = (uint8_t)v;
}

/* ---- table cache (cache.c) ---------------------------------------------- */

struct qcow2_cache;
/* Called before a dirty table is written back (the L2 cache uses it to put
 * refcount blocks on disk first). */
typedef int (*qcow2_cache_hook)(void *opaque, vdisk_error *err);

/* Cache of n tables of table_size bytes read from / written to file.
 * `what` names the tables in messages ("L2 table").  NULL on ENOMEM. */
struct qcow2_cache *qcow2_cache_new(vdisk_file *file, uint32_t n, uint32_t table_size,
                                    const char *what);
void qcow2_cache_free(struct qcow2_cache *c);
void qcow2_cache_set_hook(struct qcow2_cache *c, qcow2_cache_hook hook, void *opaque);
/* Pin the table at host offset `off`, reading it unless `fresh` (then it is
 * zero-filled and marked dirty: a newly allocated table).  Release with put. */
int qcow2_cache_get(struct qcow2_cache *c, uint64_t off, bool fresh, uint8_t **table,
                    vdisk_error *err);
void qcow2_cache_put(struct qcow2_cache *c, uint8_t *table);
void qcow2_cache_mark_dirty(struct qcow2_cache *c, uint8_t *table);
bool qcow2_cache_is_dirty(const struct qcow2_cache *c);
/* Write every dirty table back (in offset order); no fdatasync. */
int qcow2_cache_flush(struct qcow2_cache *c, vdisk_error *err);
/* Write back the one table at `off` if it is cached and dirty. */
int qcow2_cache_flush_one(struct qcow2_cache *c, uint64_t off, vdisk_error *err);
/* Forget the table at `off` without writing it (its cluster was freed). */
void qcow2_cache_discard(struct qcow2_cache *c, uint64_t off);
uint32_t qcow2_cache_capacity(const struct qcow2_cache *c);

/* ---- driver state ------------------------------------------------------- */

struct qcow2_feature {
    uint8_t type;      /* 0 incompatible, 1 compatible, 2 autoclear */
    uint8_t bit;
    char name[47];     /* NUL terminated copy of the 46-byte field */
};

/* A guest cluster range owned by an allocating write until its L2 update. */
struct qcow2_inflight {
    uint64_t first, end;   /* guest cluster indexes [first, end) */
    struct qcow2_inflight *next;
};

typedef struct qcow2_state {
    vdisk_image *img;
    vdisk_file *file;
    const char *name;          /* image file name for messages */
    pthread_mutex_t lock;
    pthread_cond_t inflight_done;
    struct qcow2_inflight *inflight;
    /* Encrypted images: held across the read-modify-write of a partial
     * sector (write.c), so that two requests writing different bytes of one
     * sector do not both merge into the old sector and lose one update.
     * Taken before s->lock, never while holding it. */
    pthread_mutex_t rmw_lock;
    bool writable;

    /* header */
    int version;
    uint32_t cluster_bits;
    uint64_t cluster_size;
    uint32_t header_length;
    uint32_t crypt_method;
    uint64_t incompat, compat, autoclear;
    uint8_t compression_type;  /* 0 zlib, 1 zstd */
    uint32_t nb_snapshots;
    uint64_t snapshots_offset;
    bool snapshots_unbacked;   /* the table runs past the end of the file: its
                                  clusters have no refcounts, so nothing may be
                                  allocated until a repair (refcount.c) */
    char *backing_file;
    char *backing_format;
    struct qcow2_feature *features;
    unsigned nfeatures;

    /* L1 table (host endian) with the dirty range not yet on disk */
    uint64_t l1_offset;
    uint32_t l1_size;
    uint64_t *l1;
    uint32_t l1_dirty_lo, l1_dirty_hi;   /* [lo, hi) entries; lo == hi: clean */

    /* L2 geometry */
    bool ext_l2;
    uint32_t l2_entry_size;    /* 8 or 16 */
    uint32_t l2_bits;          /* log2(entries per table) */
    uint32_t l2_entries;
    uint32_t sc_bits;          /* log2(subcluster size) */
    uint64_t sc_size;          /* subcluster size (== cluster size without ext L2) */

    /* compressed cluster descriptor */
    uint32_t csize_shift;
    uint64_t csize_mask;
    uint64_t coffset_mask;

    /* refcounts */
    uint32_t refcount_order;
    uint64_t refcount_max;
    uint32_t rb_bits;          /* log2(refcounts per block) */
    uint64_t reftable_offset;
    uint32_t reftable_clusters;
    uint64_t reftable_entries;
    uint64_t *reftable;

    struct qcow2_cache *l2_cache;
    struct qcow2_cache *rb_cache;

    /* Reused I/O buffers (COW, compression): a few, of pool_buf_size
     * bytes, so that concurrent requests do not spread the heap over
     * many malloc arenas. */
    pthread_mutex_t pool_lock;
    void **pool;
    unsigned pool_n, pool_max;
    size_t pool_buf_size;
    struct qcow2_cctx *cctx_free;  /* idle compression contexts (compress.c; pool_lock) */

    uint64_t free_cluster_index;   /* no free cluster below this one */
    uint64_t free_byte_offset;     /* compressed data packing point; 0: none */
    bool lazy;                     /* lazy refcounts: no ordering flushes */
    int meta_prealloc;             /* 0 not checked yet, 1 no, 2 yes (io.c) */
    bool dirty_written;            /* dirty bit set on disk by us */

    /* encryption (crypt.c) */
    uint64_t crypt_hdr_offset, crypt_hdr_length;   /* LUKS header extension */
    struct qcow2_crypt *crypt;     /* keys; NULL when not encrypted */

    struct qcow2_bitmaps *bitmaps; /* persistent dirty bitmaps we keep (bitmap.c); NULL: none */
} qcow2_state;

/* ---- open.c ------------------------------------------------------------- */

/* Open img (img->file, img->flags) as qcow2: fills img->priv and img->size. */
int qcow2_open(vdisk_image *img, vdisk_error *err);
/* Write back metadata, clear our dirty bit, free img->priv. */
void qcow2_close(vdisk_image *img);

/* ---- header.c ----------------------------------------------------------- */

/* Parse and validate the header (and its extensions) of s->file; fills the
 * header fields of s and reads the L1 and refcount tables. */
int qcow2_header_load(qcow2_state *s, vdisk_error *err);
void qcow2_header_free(qcow2_state *s);
/* Validate the incompatible/autoclear feature bits for the open mode. */
int qcow2_header_check_features(qcow2_state *s, bool writable, vdisk_error *err);
/* Write the 8-byte incompatible/autoclear field at `field_off` and sync. */
int qcow2_header_write_u64(qcow2_state *s, unsigned field_off, uint64_t v, vdisk_error *err);
/* Point the header at a new refcount table (offset + clusters) and sync. */
int qcow2_header_write_reftable(qcow2_state *s, uint64_t off, uint32_t clusters, vdisk_error *err);

struct qcow2_header_params {
    int version;
    uint32_t cluster_bits;
    uint64_t size;
    uint64_t l1_offset;
    uint32_t l1_size;
    uint64_t reftable_offset;
    uint32_t reftable_clusters;
    uint32_t refcount_order;
    uint64_t incompat, compat;
    uint8_t compression_type;
    const char *backing_file;
    const char *backing_format;
    uint32_t crypt_method;          /* QCOW2_CRYPT_* */
    uint64_t crypt_hdr_offset;      /* LUKS header clusters (0 length: no extension) */
    uint64_t crypt_hdr_length;
};
/* Build a whole header cluster (with feature table, backing format
 * extension and backing name) into buf (cluster_size bytes, zeroed by the
 * caller).  -ENOSPC when the names do not fit. */
int qcow2_header_build(const struct qcow2_header_params *p, uint8_t *buf, vdisk_error *err);

/* ---- refcount.c --------------------------------------------------------- */

uint64_t qcow2_refcount_read_entry(const uint8_t *rb, uint64_t i, uint32_t order);
void qcow2_refcount_write_entry(uint8_t *rb, uint64_t i, uint32_t order, uint64_t v);
int qcow2_refcount_get(qcow2_state *s, uint64_t cluster, uint64_t *rc, vdisk_error *err);
/* Add delta to the refcounts of clusters [first, first+n).  A decrement to
 * zero drops cached tables at that cluster, lowers the free hint and, with
 * punch, deallocates the host range. */
int qcow2_refcount_update(qcow2_state *s, uint64_t first, uint64_t n, int64_t delta,
                          bool punch, vdisk_error *err);
/* Allocate n contiguous clusters (refcount 1); *off is the host offset. */
int qcow2_alloc_clusters(qcow2_state *s, uint64_t n, uint64_t *off, vdisk_error *err);
/* Allocate `size` bytes (<= one cluster) for compressed data, packing
 * into a partly used cluster when possible. */
int qcow2_alloc_bytes(qcow2_state *s, uint64_t size, uint64_t *off, vdisk_error *err);
/* QEMU's layout for preallocation: new refcount blocks and a new refcount
 * table at cluster `start`, covering everything up to start + additional
 * clusters; *end is the first cluster after them. */
int qcow2_refcount_area(qcow2_state *s, uint64_t start, uint64_t additional, uint64_t *end,
                        vdisk_error *err);
/* QEMU's refcount metadata size fixed point: bytes of refblocks + table
 * for `clusters` clusters; *blocks gets the refblock count. */
uint64_t qcow2_refcount_metadata_size(uint64_t clusters, uint64_t cluster_size,
                                      uint32_t refcount_order, bool generous,
                                      uint64_t *blocks);

/* ---- refcount-order.c --------------------------------------------------- */

/* Refuse (qemu-img's message) when a refcount does not fit 2^order bits. */
int qcow2_refcount_check_order(qcow2_state *s, uint32_t order, vdisk_error *err);
/* Rewrite the refcount structures with entries of 2^order bits (lock
 * held; version 3 for orders other than 4).  Crash safe: see the file. */
int qcow2_change_refcount_order(qcow2_state *s, uint32_t order, vdisk_progress_fn progress,
                                void *opaque, vdisk_error *err);

/* ---- cluster.c ---------------------------------------------------------- */

enum qcow2_sc_type {
    QCOW2_SC_UNALLOCATED,        /* reads from the backing file (or zeros) */
    QCOW2_SC_UNALLOCATED_ALLOC,  /* ext L2: host cluster set, subcluster unallocated */
    QCOW2_SC_ZERO_PLAIN,         /* reads zeros, no host cluster */
    QCOW2_SC_ZERO_ALLOC,         /* reads zeros, host cluster preallocated */
    QCOW2_SC_NORMAL,             /* data at host offset */
    QCOW2_SC_COMPRESSED,
    QCOW2_SC_INVALID,
};

/* Mapping of a guest range with uniform status (one L2 table at most). */
struct qcow2_map {
    enum qcow2_sc_type type;
    uint64_t len;          /* bytes from the queried offset */
    uint64_t host;         /* host offset of the queried byte (NORMAL, *_ALLOC) */
    uint64_t entry;        /* raw L2 entry (COMPRESSED) */
};

enum qcow2_sc_type qcow2_sc_type(const qcow2_state *s, uint64_t entry, uint64_t bitmap,
                                 unsigned sc);
/* Read the L2 entry (and bitmap) of guest cluster gc (caller holds lock). */
int qcow2_l2_lookup(qcow2_state *s, uint64_t gc, uint64_t *entry, uint64_t *bitmap,
                    vdisk_error *err);
/* Status of [off, off+len) from off on (caller holds lock). */
int qcow2_get_mapping(qcow2_state *s, uint64_t off, uint64_t len, struct qcow2_map *m,
                      vdisk_error *err);

/* Host ranges whose refcounts drop once the L2/L1 updates naming them are
 * on disk (qcow2_release). */
struct qcow2_freelist {
    struct { uint64_t off, len; bool punch; } *v;
    size_t n, cap;
};
int qcow2_freelist_add(qcow2_state *s, struct qcow2_freelist *fl, uint64_t off, uint64_t len,
                       bool punch, vdisk_error *err);
/* Queue the clusters an L2 entry references (compressed: the byte range). */
int qcow2_freelist_add_entry(qcow2_state *s, struct qcow2_freelist *fl, uint64_t entry,
                             vdisk_error *err);
/* Flush metadata, then drop the queued refcounts; frees fl's memory. */
int qcow2_release(qcow2_state *s, struct qcow2_freelist *fl, vdisk_error *err);

/* Set L1 entry i in memory; qcow2_flush_metadata writes it (last). */
void qcow2_l1_set(qcow2_state *s, uint64_t i, uint64_t v);
/* Pin the L2 table of guest cluster gc for modification, allocating it (or
 * copying a shared one) as needed; *idx is gc's index in it. */
int qcow2_l2_get_for_write(qcow2_state *s, uint64_t gc, uint8_t **table, uint32_t *idx,
                           struct qcow2_freelist *fl, vdisk_error *err);
void qcow2_l2_get_entry(const qcow2_state *s, const uint8_t *table, uint32_t idx,
                        uint64_t *entry, uint64_t *bitmap);
void qcow2_l2_set_entry(const qcow2_state *s, uint8_t *table, uint32_t idx,
                        uint64_t entry, uint64_t bitmap);

/* ---- buffers.c ---------------------------------------------------------- */

void qcow2_pool_init(qcow2_state *s);
void qcow2_pool_destroy(qcow2_state *s);
/* An aligned buffer of at least len bytes (not zeroed); NULL on ENOMEM. */
uint8_t *qcow2_buf_get(qcow2_state *s, size_t len);
void qcow2_buf_put(qcow2_state *s, uint8_t *buf, size_t len);

/* ---- io.c (reads) / write.c ---------------------------------------------- */

int qcow2_read_layer(qcow2_state *s, uint8_t *buf, uint64_t len, uint64_t off, vdisk_error *err);
int qcow2_pread(vdisk_image *img, void *buf, uint64_t len, uint64_t off, vdisk_error *err);
int qcow2_block_status(vdisk_image *img, uint64_t off, uint64_t len, vdisk_extent *ext,
                       vdisk_error *err);
int qcow2_pwrite(vdisk_image *img, const void *buf, uint64_t len, uint64_t off, vdisk_error *err);
int qcow2_write_zeroes(vdisk_image *img, uint64_t len, uint64_t off, unsigned flags,
                       vdisk_error *err);
int qcow2_discard(vdisk_image *img, uint64_t len, uint64_t off, vdisk_error *err);
/* Writes in two steps (write-reserve.c; driver.h vdisk_write_reserve). */
int qcow2_write_reserve(vdisk_image *img, uint64_t len, uint64_t off, vdisk_reservation **out,
                        vdisk_error *err);
int qcow2_write_reserved(vdisk_image *img, vdisk_reservation *res, const void *buf, vdisk_error *err);
void qcow2_write_cancel(vdisk_image *img, vdisk_reservation *res);
/* In-flight guest cluster ranges (write.c; caller holds lock). */
void qcow2_inflight_wait(qcow2_state *s, uint64_t first, uint64_t end);
bool qcow2_inflight_overlaps(const qcow2_state *s, uint64_t first, uint64_t end);

/* ---- compress.c (codecs) / compress-write.c ------------------------------ */

/* Decompress the cluster an L2 entry describes into out (cluster_size). */
int qcow2_decompress_cluster(qcow2_state *s, uint64_t entry, uint8_t *out, vdisk_error *err);
/* Compress one cluster; -ENOSPC when the result would not be smaller. */
int qcow2_compress(int type, const uint8_t *in, size_t in_len, uint8_t *out, size_t out_cap,
                   size_t *out_len);
int qcow2_decompress(int type, const uint8_t *in, size_t in_len, uint8_t *out, size_t out_len);
int qcow2_pwrite_compressed(vdisk_image *img, const void *buf, uint64_t len, uint64_t off,
                            vdisk_error *err);
/* Compress whole clusters ahead of an ordered write (no lock, any thread). */
int qcow2_compress_ahead(vdisk_image *img, vdisk_precompressed *c, vdisk_error *err);
/* Store what qcow2_compress_ahead produced. */
int qcow2_pwrite_precompressed(vdisk_image *img, const vdisk_precompressed *c, vdisk_error *err);
/* Free the idle compression contexts (at close). */
void qcow2_cctx_pool_free(qcow2_state *s);

/* ---- compress-heuristic.c ----------------------------------------------- */

/* True when the cluster surely does not shrink (random-looking bytes, no
 * repeats): store it without running the compressor. */
bool qcow2_cluster_incompressible(const uint8_t *data, size_t len);

/* ---- crypt.c ------------------------------------------------------------ */

#define QCOW2_CRYPT_NONE 0u
#define QCOW2_CRYPT_AES 1u
#define QCOW2_CRYPT_LUKS 2u

struct qcow2_crypt;
/* Unlock the keys of an encrypted image (no-op when not encrypted). */
int qcow2_crypt_open(qcow2_state *s, const void *secret, size_t secret_len, vdisk_error *err);
void qcow2_crypt_free(qcow2_state *s);
/* Read n bytes of a data cluster at host offset `host` (guest offset
 * `guest`) and decrypt them; any alignment. */
int qcow2_crypt_pread(qcow2_state *s, uint8_t *buf, uint64_t n, uint64_t host, uint64_t guest,
                      vdisk_error *err);
/* Encrypt a copy of buf (whole sectors: the guest data at `guest`) and
 * write it at host. */
int qcow2_crypt_pwrite(qcow2_state *s, const uint8_t *buf, uint64_t n, uint64_t host, uint64_t guest,
                       vdisk_error *err);
/* New image: LUKS header in fresh clusters, recorded in s (create.c). */
int qcow2_crypt_create(qcow2_state *s, const vdisk_create_opts *o, vdisk_error *err);
/* Add or erase LUKS key slots (qemu-img amend encrypt.state=...). */
int qcow2_crypt_amend_keyslots(vdisk_image *img, const vdisk_keyslot_opts *o, vdisk_error *err);
/* Bytes (whole clusters) the LUKS header of a new image takes; 0 unencrypted. */
uint64_t qcow2_crypt_header_size(const vdisk_create_opts *o);
/* vdisk_info.encrypt of an encrypted image. */
int qcow2_crypt_info(qcow2_state *s, vdisk_info *info, vdisk_error *err);

/* ---- create.c ----------------------------------------------------------- */

int qcow2_create(vdisk_file *file, const vdisk_create_opts *opts, vdisk_progress_fn progress,
                 void *opaque, vdisk_error *err);
int qcow2_measure(const vdisk_create_opts *opts, vdisk_image *src, vdisk_measure *out,
                  vdisk_error *err);

/* ---- snapshot-table.c --------------------------------------------------- */

/* QEMU's limits on the snapshot table. */
#define QCOW2_MAX_SNAPSHOT_EXTRA 1024u
#define QCOW2_MAX_SNAPSHOTS_SIZE (1024u * QCOW2_MAX_SNAPSHOTS)

/* One snapshot table entry, host endian. */
struct qcow2_snapshot {
    uint64_t l1_offset;
    uint32_t l1_size;
    char *id, *name;             /* NUL terminated copies */
    uint32_t date_sec, date_nsec;
    uint64_t vm_clock_nsec;
    uint64_t vm_state_size;
    uint64_t disk_size;          /* the image's size when absent from the entry */
    uint64_t icount;             /* UINT64_MAX (-1): none */
    uint32_t extra_size;         /* extra data bytes on disk */
    uint8_t *unknown_extra;      /* extra_size - 24 bytes past the known fields, kept */
};

void qcow2_snapshots_free(struct qcow2_snapshot *v, size_t n);
/* Parse n entries from buf (len bytes, the table's start).  -ENODATA
 * (without a message) when buf ends before the n-th entry does; other
 * errors name `name`.  *table_len gets the table's length in bytes. */
int qcow2_snapshot_table_parse(const char *name, const uint8_t *buf, size_t len, uint32_t n,
                               uint64_t disk_size, struct qcow2_snapshot **out,
                               size_t *table_len, vdisk_error *err);
/* Bytes the table of these entries takes as written (extra data >= 24). */
size_t qcow2_snapshot_table_size(const struct qcow2_snapshot *v, size_t n);
/* Format the entries into buf (qcow2_snapshot_table_size bytes). */
void qcow2_snapshot_table_format(const struct qcow2_snapshot *v, size_t n, uint8_t *buf);
/* Read and validate the image's table (its L1 tables against the file). */
int qcow2_snapshots_read(qcow2_state *s, struct qcow2_snapshot **out, size_t *table_len,
                         vdisk_error *err);
/* Write the entries as a new table in new clusters, point the header at it
 * and free the old table (old_len bytes). */
int qcow2_snapshots_write(qcow2_state *s, const struct qcow2_snapshot *v, size_t n,
                          size_t old_len, vdisk_error *err);
/* The two halves of qcow2_snapshots_write.  write_table: the table in new
 * clusters, synced, its offset in *off (0 for no entries); on failure the
 * clusters are given back and the image is as it was.  commit: the header
 * pointing at it (the commit point), then the old table freed. */
int qcow2_snapshots_write_table(qcow2_state *s, const struct qcow2_snapshot *v, size_t n,
                                uint64_t *off, vdisk_error *err);
int qcow2_snapshots_commit(qcow2_state *s, size_t n, uint64_t off, size_t old_len,
                           vdisk_error *err);

/* ---- snapshot.c --------------------------------------------------------- */

/* Add addend (-1, 0, +1) to the refcount of every L2 table and data cluster
 * the L1 table l1 (host endian) references, and recompute the COPIED flags
 * of the L2 entries (and of l1's entries when `active`). */
int qcow2_update_snapshot_refcount(qcow2_state *s, uint64_t *l1, uint32_t l1_size, int addend,
                                   bool active, vdisk_error *err);
/* Read the L1 table of a snapshot into a host-endian array of at least
 * `entries` entries (zero padded).  Caller frees. */
int qcow2_snapshot_read_l1(qcow2_state *s, const struct qcow2_snapshot *sn, uint32_t entries,
                           uint64_t **out, vdisk_error *err);
int qcow2_snapshot_list(vdisk_image *img, vdisk_snapshot_info **out, size_t *n, vdisk_error *err);
int qcow2_snapshot_create(vdisk_image *img, const vdisk_snapshot_info *info, vdisk_error *err);
int qcow2_snapshot_apply(vdisk_image *img, const char *id_or_name, vdisk_error *err);
int qcow2_snapshot_delete(vdisk_image *img, const char *id_or_name, vdisk_error *err);
int qcow2_snapshot_load(vdisk_image *img, const char *id_or_name, vdisk_error *err);

/* ---- options.c ---------------------------------------------------------- */

/* What create, measure and amend take (vdisk/options.h). */
extern const struct vdisk_option qcow2_options[];
/* Check the combination for a new image, with qemu-img's messages. */
int qcow2_opts_validate(const vdisk_create_opts *o, vdisk_error *err);

/* ---- amend.c ------------------------------------------------------------ */

int qcow2_amend(vdisk_image *img, const vdisk_amend_opts *opts, vdisk_error *err);
/* ---- resize.c / backing.c ---------------------------------------------- */

/* Grow or shrink the virtual size (checks snapshots and alignment). */
int qcow2_truncate(vdisk_image *img, uint64_t size, vdisk_prealloc prealloc,
                   vdisk_progress_fn progress, void *opaque, vdisk_error *err);
/* qcow2_truncate, optionally shrinking an image with internal snapshots
 * (their tables keep their own clusters, as in QEMU; amend does). */
int qcow2_resize(vdisk_image *img, uint64_t size, vdisk_prealloc prealloc, bool shrink_snapshots,
                 vdisk_progress_fn progress, void *opaque, vdisk_error *err);
/* The refusals of qcow2_resize for `size`, in qemu-img's words (lock held). */
int qcow2_truncate_check(qcow2_state *s, uint64_t size, vdisk_prealloc prealloc,
                         bool shrink_snapshots, vdisk_error *err);
/* Cut the file after its last used cluster (lock held, metadata flushed). */
int qcow2_trim_file(qcow2_state *s, vdisk_error *err);
/* Unlink and free every cluster (the image reads through to its backing). */
int qcow2_make_empty(vdisk_image *img, vdisk_error *err);
/* Rewrite the backing file name and format in the header cluster. */
int qcow2_set_backing(vdisk_image *img, const char *name, const char *fmt, vdisk_error *err);

/* ---- bitmap-dir.c / bitmap.c: persistent dirty bitmaps ----------------- */

#define QCOW2_AUTOCLEAR_BITMAPS UINT64_C(1)
#define QCOW2_BME_IN_USE 1u
#define QCOW2_BME_AUTO 2u
#define QCOW2_BME_RESERVED_FLAGS 0xfffffffcu
#define QCOW2_BME_TABLE_RESERVED UINT64_C(0xff000000000001fe)
#define QCOW2_BME_OFFSET_MASK UINT64_C(0x00fffffffffffe00)
#define QCOW2_BME_ALL_ONES UINT64_C(1)
#define QCOW2_BITMAPS_EXT_LEN 24u
#define QCOW2_MAX_BITMAPS 65535u
#define QCOW2_MAX_BITMAP_DIR_SIZE (UINT64_C(64) << 20)

/* The bitmaps header extension: where it sits in the header cluster
 * (pos: offset of its 8-byte extension header; 0 when absent). */
struct qcow2_bitmaps_ext {
    uint32_t pos;
    uint32_t nb;
    uint64_t dir_size, dir_offset;
};

/* One bitmap directory entry, and the bitmap loaded from it. */
struct qcow2_bitmap {
    char *name;
    uint64_t table_offset;
    uint32_t table_size;
    uint32_t flags;            /* QCOW2_BME_*, as on disk */
    uint8_t type;
    uint8_t gran_bits;
    uint8_t *bits;             /* in memory (LSB first); NULL: in_use, not loaded */
    uint64_t nbytes;           /* bytes of bits */
};

struct qcow2_bitmaps {
    struct qcow2_bitmaps_ext ext;
    struct qcow2_bitmap *v;
    uint32_t n;
    pthread_mutex_t lock;      /* v, n and the bits (guest writes run in parallel) */
    struct qcow2_bitmap *dropped;   /* removed: tables to free at store */
    uint32_t ndropped;
};

/* Find the bitmaps extension in header cluster h (cluster_size bytes). */
void qcow2_bitmaps_find_ext(const qcow2_state *s, const uint8_t *h, struct qcow2_bitmaps_ext *ext);
/* Read and validate the bitmap directory as QEMU does (bitmap_list_load). */
int qcow2_bitmaps_read_dir(qcow2_state *s, const struct qcow2_bitmaps_ext *ext,
                           struct qcow2_bitmap **v, uint32_t *n, vdisk_error *err);
/* Serialise a directory; *out (malloc'd, padded to cluster size) and *len. */
int qcow2_bitmaps_build_dir(qcow2_state *s, const struct qcow2_bitmap *v, uint32_t n,
                            uint8_t **out, uint64_t *len, vdisk_error *err);
void qcow2_bitmaps_free_dir(struct qcow2_bitmap *v, uint32_t n);
/* Bytes of bitmap data for a disk of `size` bytes at 2^gran_bits. */
uint64_t qcow2_bitmap_data_bytes(uint64_t size, unsigned gran_bits);

/* Writable open: load the consistent bitmaps, mark them in_use on disk,
 * keep autoclear bit 0 (clears the autoclear bits we do not maintain). */
int qcow2_bitmaps_open(qcow2_state *s, vdisk_error *err);
/* Set the bits of [off, off+len) in every enabled bitmap (any thread). */
void qcow2_bitmaps_mark(qcow2_state *s, uint64_t off, uint64_t len);
/* Write the loaded bitmaps back (new clusters, then the directory with
 * in_use cleared, then the old clusters freed); lock held. */
int qcow2_bitmaps_store(qcow2_state *s, vdisk_error *err);
void qcow2_bitmaps_free(qcow2_state *s);
/* vdisk_info.bitmaps: the loaded list, else the directory read now. */
int qcow2_bitmaps_info(qcow2_state *s, vdisk_info *info, vdisk_error *err);
/* The state's bitmap list, made empty on first use (version 3 only). */
int qcow2_bitmaps_ensure(qcow2_state *s, vdisk_error *err);
/* A copy of bitmap `name` of s with its bits (loaded now if need be);
 * free with qcow2_bitmaps_free_dir(out, 1). */
int qcow2_bitmap_copy(qcow2_state *s, const char *name, struct qcow2_bitmap **out,
                      vdisk_error *err);
/* Mark [off, off+len) in b (bm->lock held or b private). */
void qcow2_bitmap_set(struct qcow2_bitmap *b, uint64_t off, uint64_t len);
/* Write the bitmaps header extension for the directory at dir_off
 * (inserting it, or removing it when there are no bitmaps left). */
int qcow2_bitmaps_write_ext(qcow2_state *s, struct qcow2_bitmaps_ext *ext, uint32_t nb,
                            uint64_t dir_off, uint64_t dir_size, vdisk_error *err);
/* ---- bitmap-edit.c: qemu-img bitmap --add/--remove/... ---- */
int qcow2_bitmap(vdisk_image *img, const struct vdisk_bitmap_op *op, vdisk_error *err);
/* Does the image carry bitmaps we track (QEMU: "active dirty bitmaps")? */
bool qcow2_bitmaps_active(const qcow2_state *s);
/* Resize: refuse when a bitmap is inconsistent; after it, resize the bits. */
int qcow2_bitmaps_resize_check(qcow2_state *s, vdisk_error *err);
int qcow2_bitmaps_resize(qcow2_state *s, uint64_t size, vdisk_error *err);

/* ---- helpers ------------------------------------------------------------ */

static inline uint64_t
qcow2_size_to_l1(uint64_t size, uint32_t cluster_bits, uint32_t l2_bits)
{
    uint32_t shift = cluster_bits + l2_bits;
    return (size + (UINT64_C(1) << shift) - 1) >> shift;
}

#endif
