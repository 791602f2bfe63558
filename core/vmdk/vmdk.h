/* libvdisk internals — the VMDK format driver, written from VMware's
 * "Virtual Disk Format 5.0" technical note.  Map of the folder:
 *
 *   header.c      the sparse extent headers (hosted "KDMV", ESX "COWD") and
 *                 the stream markers, decoded and encoded
 *   descriptor.c  the text descriptor: parser, writer, CID rewrite
 *   grain.c       grain directory and grain tables of a sparse extent: the
 *                 table cache, lookups, new entries, ordered write-back
 *   sparse.c      a sparse extent file: open and checks, reads, writes,
 *                 zeroes and block status through its tables
 *   stream.c      streamOptimized: deflated grains, the footer, and the
 *                 append-only writer (grain, GT, GD, footer, end markers)
 *   zpool.c       zlib streams and read windows kept between requests
 *   extent.c      the extent list of a descriptor: the path policy,
 *                 opening extent files, finding the extent of an offset
 *   io.c          reads, writes, zeroes and block status across extents,
 *                 the parent link (delta disks) and the CID update
 *   create.c      new images of every subformat
 *   opts.c        the -o options of create (one table) and their checks
 *   check.c       qemu-img check for vmdk
 *   driver.c      open, close, flush, info, and the driver table
 *
 * A VMDK disk is a descriptor (text: CIDs, create type, parent, and the
 * list of extents) plus extents that each hold a run of the disk: flat
 * files (the data as is), sparse files (a grain directory -> grain tables
 * -> grains), or zero extents.  monolithicSparse and streamOptimized keep
 * the descriptor inside their one sparse file; the other kinds have a
 * descriptor file naming their extent files.
 */
#ifndef VDISK_VMDK_INTERNAL_H
#define VDISK_VMDK_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <zlib.h>

#include "driver.h"

#define VMDK_SECTOR 512u

/* Sparse extent header flags (SparseExtentHeader.flags). */
#define VMDK_FLAG_NL_DETECT     (1u << 0)   /* the newline test bytes are valid */
#define VMDK_FLAG_RGD           (1u << 1)   /* a redundant grain directory exists */
#define VMDK_FLAG_ZEROED_GRAIN  (1u << 2)   /* grain table entry 1 means "zeros" (version 2) */
#define VMDK_FLAG_COMPRESSED    (1u << 16)  /* grains are deflated */
#define VMDK_FLAG_MARKERS       (1u << 17)  /* grains and metadata carry markers */
#define VMDK_COMPRESS_DEFLATE   1u
#define VMDK_GD_AT_END          UINT64_MAX  /* streamOptimized: read the footer */
#define VMDK_GTE_ZEROED         1u

/* Stream marker types (a metadata marker has size 0). */
enum { VMDK_MARKER_EOS = 0, VMDK_MARKER_GT = 1, VMDK_MARKER_GD = 2, VMDK_MARKER_FOOTER = 3 };

/* Bounds on what a header or descriptor may make us allocate or do.  Each
 * is far above what VMware or QEMU write (64 KiB grains, 512-entry tables,
 * descriptors of a few hundred bytes). */
#define VMDK_MAX_GRAIN          (2u << 20)          /* bytes */
#define VMDK_MAX_GT_ENTRIES     512u                /* hosted sparse, as QEMU */
#define VMDK_COWD_GT_ENTRIES    4096u               /* fixed in ESX "COWD" extents */
#define VMDK_MAX_GD_ENTRIES     (32u << 20)         /* as QEMU: 1 PiB of 64 KiB grains */
#define VMDK_MAX_DESCRIPTOR     (1u << 20)          /* bytes of descriptor text */
#define VMDK_MAX_EXTENTS        8192u               /* 16 TiB of 2 GiB extents */
#define VMDK_MAX_NAME           4096u               /* extent and parent names */
#define VMDK_MAX_WINDOW         (512u << 10)        /* bytes read at once for a run of deflated grains */
/* Grain table entries are 32-bit sector numbers: a sparse file ends at 2 TiB. */
#define VMDK_MAX_SPARSE_FILE    (UINT64_C(1) << 41)
/* twoGbMaxExtent* split size, as VMware and QEMU. */
#define VMDK_SPLIT_SIZE         (UINT64_C(2) << 30)
#define VMDK_NO_PARENT_CID      0xffffffffu

/* ---- header.c ------------------------------------------------------------ */

/* SparseExtentHeader, host order; sector counts as in the file. */
typedef struct vmdk_header {
    uint32_t version;
    uint32_t flags;
    uint64_t capacity;        /* sectors */
    uint64_t grain_sectors;
    uint64_t desc_offset;     /* sectors; 0: no embedded descriptor */
    uint64_t desc_size;       /* sectors */
    uint32_t gt_entries;
    uint64_t rgd_offset;      /* sectors */
    uint64_t gd_offset;       /* sectors, or VMDK_GD_AT_END */
    uint64_t overhead;        /* sectors before the first grain */
    uint8_t unclean;
    uint16_t compress;
} vmdk_header;

/* ESX 2/3 "COWD" sparse header, host order. */
typedef struct vmdk_cowd_header {
    uint32_t version;
    uint32_t flags;
    uint32_t capacity;        /* sectors */
    uint32_t grain_sectors;
    uint32_t gd_offset;       /* sectors */
    uint32_t gd_entries;
} vmdk_cowd_header;

/* A stream marker: lba + compressed size for a grain, sector count + type
 * for metadata (size 0). */
typedef struct vmdk_marker {
    uint64_t value;
    uint32_t size;
    uint32_t type;
} vmdk_marker;

bool vmdk_is_sparse_magic(const uint8_t *p);   /* "KDMV" */
bool vmdk_is_cowd_magic(const uint8_t *p);     /* "COWD" */
void vmdk_header_decode(const uint8_t sector[VMDK_SECTOR], vmdk_header *h);
/* The whole sector: magic, fields, the newline test bytes, zero padding. */
void vmdk_header_encode(const vmdk_header *h, uint8_t sector[VMDK_SECTOR]);
void vmdk_cowd_decode(const uint8_t sector[VMDK_SECTOR], vmdk_cowd_header *h);
void vmdk_marker_decode(const uint8_t *p, vmdk_marker *m);
/* A metadata marker sector (numSectors, size 0, type, zero padding). */
void vmdk_marker_encode_meta(uint64_t sectors, uint32_t type, uint8_t sector[VMDK_SECTOR]);

uint32_t vmdk_le32(const uint8_t *p);
uint64_t vmdk_le64(const uint8_t *p);
void vmdk_put_le32(uint8_t *p, uint32_t v);
void vmdk_put_le64(uint8_t *p, uint64_t v);

/* ---- descriptor.c -------------------------------------------------------- */

typedef enum vmdk_access { VMDK_ACCESS_RW, VMDK_ACCESS_RDONLY, VMDK_ACCESS_NOACCESS } vmdk_access;

typedef struct vmdk_desc_extent {
    vmdk_access access;
    uint64_t sectors;
    char type[16];            /* FLAT, SPARSE, ZERO, VMFS, VMFSSPARSE, ... */
    char *filename;           /* NULL for ZERO */
    uint64_t offset;          /* sectors into the file (FLAT) */
    unsigned line;            /* for messages */
} vmdk_desc_extent;

typedef struct vmdk_descriptor {
    bool has_cid;
    uint32_t cid;
    uint32_t parent_cid;      /* VMDK_NO_PARENT_CID when absent */
    char *create_type;        /* NULL when absent */
    char *parent_hint;        /* parentFileNameHint; NULL when absent */
    vmdk_desc_extent *extents;
    size_t nextents;
} vmdk_descriptor;

/* Parse descriptor text (len bytes; it ends at the first NUL, as in a
 * padded embedded descriptor).  name is for messages.  Fills *d (free with
 * vmdk_descriptor_clear); -EINVAL with the line at fault.  Without
 * `extents`, extent lines are skipped unread (the descriptor embedded in a
 * sparse file, whose extent is that file). */
int vmdk_descriptor_parse(const char *text, size_t len, const char *name, bool extents,
                          vmdk_descriptor *d, vdisk_error *err);
void vmdk_descriptor_clear(vmdk_descriptor *d);

/* What the writer puts in a new descriptor. */
typedef struct vmdk_desc_params {
    uint32_t cid, parent_cid;
    const char *create_type;
    const char *parent_hint;          /* NULL: no parent */
    const vmdk_desc_extent *extents;  /* access RW, type FLAT or SPARSE, filename a base name */
    size_t nextents;
    const char *hwversion;
    const char *adapter;
    const char *toolsversion;
    uint64_t cylinders;
    unsigned heads;
} vmdk_desc_params;

/* The descriptor text, in the layout VMware and qemu-img write (malloc'ed;
 * NULL on ENOMEM). */
char *vmdk_descriptor_format(const vmdk_desc_params *p);
/* A copy of text (len bytes, up to a NUL) whose "CID=" line says cid
 * (malloc'ed, *out_len its length); -EINVAL if text has no CID line. */
int vmdk_descriptor_set_cid(const char *text, size_t len, uint32_t cid, char **out,
                            size_t *out_len, vdisk_error *err);
/* A string a descriptor can quote: printable, no '"', bounded. */
bool vmdk_descriptor_value_ok(const char *s, size_t max);

/* ---- zpool.c: zlib streams kept between requests -------------------------- */

typedef struct vmdk_zstream {
    z_stream z;
    bool ready;               /* z initialised */
    bool deflating;
    uint8_t *buf;             /* a buffer that goes with it (read window) */
    size_t cap;
    struct vmdk_zstream *next;
} vmdk_zstream;

typedef struct vmdk_zpool {
    pthread_mutex_t lock;
    vmdk_zstream *deflaters, *inflaters;
} vmdk_zpool;

void vmdk_zpool_init(vmdk_zpool *p);
/* A stream from the pool, or a new one (NULL on ENOMEM). */
vmdk_zstream *vmdk_zpool_get(vmdk_zpool *p, bool deflating);
void vmdk_zpool_put(vmdk_zpool *p, vmdk_zstream *zs);
void vmdk_zpool_destroy(vmdk_zpool *p);

/* ---- grain.c: grain directory and tables --------------------------------- */

/* One cached grain table. */
typedef struct vmdk_gt_slot {
    uint32_t index;           /* grain table number (GD entry) */
    bool used;
    bool dirty;               /* changed since written (or never written) */
    uint64_t last_use;
    uint32_t *gte;            /* gt_entries entries, host order; allocated on first use */
} vmdk_gt_slot;

/* One sparse extent file. */
typedef struct vmdk_sparse {
    vdisk_file *file;
    const char *name;             /* the file's path, for messages */
    vmdk_header h;                /* as read (stream: the footer's); KDMV only */
    bool cowd;                    /* ESX "COWD" extent (read-only) */
    bool compressed;              /* deflated grains */
    bool markers;                 /* grains begin with a marker */
    bool zeroed_grain;            /* entry 1 reads as zeros */
    bool gd_at_end;               /* streamOptimized layout: tables and footer follow the grains */
    bool writable;
    uint64_t capacity;            /* bytes of disk this extent maps */
    uint32_t grain;               /* grain size in bytes */
    uint32_t gt_entries;
    uint32_t gd_entries;
    uint64_t gd_offset;           /* bytes (the directory in use) */
    uint64_t rgd_offset;          /* bytes; 0: no redundant directory */
    uint32_t *gd;                 /* grain table sectors, host order */
    uint32_t *rgd;
    bool gd_dirty;
    bool trailer_dirty;           /* gd_at_end: GD, footer and end marker to be rewritten */
    uint64_t file_len;            /* the file's length as we know it */
    uint64_t alloc;               /* where the next grain (or stream table) goes */
    vmdk_gt_slot *slots;
    uint32_t nslots;
    uint32_t *slot_of;            /* GD index -> slot + 1 (0: not cached) */
    uint64_t clock;
    vmdk_zpool zpool;             /* zlib streams of readers and writers */
    uint8_t *wbuf;                /* the stream writer's marker + grain buffer */
    pthread_mutex_t lock;         /* the tables, alloc, file_len, wbuf */
} vmdk_sparse;

/* Set up the table cache of a sparse extent whose fields above are filled. */
int vmdk_gt_cache_init(vmdk_sparse *s, vdisk_error *err);
void vmdk_gt_cache_free(vmdk_sparse *s);
/* Entry of grain g (extent-relative grain number).  Lock held. */
int vmdk_gt_get(vmdk_sparse *s, uint64_t g, uint32_t *gte, vdisk_error *err);
/* The entries of grains g.. up to the end of g's table (at most max), copied
 * to out; returns the count (> 0) or a negative errno.  Lock held. */
int vmdk_gt_get_run(vmdk_sparse *s, uint64_t g, uint32_t max, uint32_t *out, vdisk_error *err);
/* Set the entry of grain g (the table is written back at flush, or when a
 * stream moves on to another table).  Lock held. */
int vmdk_gt_set(vmdk_sparse *s, uint64_t g, uint32_t gte, vdisk_error *err);
/* Write back what changed: data first, then tables, then directories (and,
 * for a stream, the footer), each step made durable.  Lock held. */
int vmdk_gt_flush(vmdk_sparse *s, vdisk_error *err);
/* Is a grain table entry outside the file? (s->lock held, or no writer) */
bool vmdk_gte_outside(const vmdk_sparse *s, uint32_t gte);

/* ---- sparse.c ------------------------------------------------------------ */

struct vmdk_state;

/* Open the sparse extent in f ("KDMV" or "COWD").  name for messages. */
int vmdk_sparse_open(vdisk_file *f, const char *name, bool writable, vmdk_sparse **out,
                     vdisk_error *err);
void vmdk_sparse_free(vmdk_sparse *s);
/* I/O within one sparse extent: off is extent-relative, guest_off where
 * that lies in the disk (for the parent). */
int vmdk_sparse_pread(struct vmdk_state *st, vmdk_sparse *s, uint8_t *buf, uint64_t len,
                      uint64_t off, uint64_t guest_off, vdisk_error *err);
int vmdk_sparse_pwrite(struct vmdk_state *st, vmdk_sparse *s, const uint8_t *buf, uint64_t len,
                       uint64_t off, uint64_t guest_off, vdisk_error *err);
int vmdk_sparse_zero(struct vmdk_state *st, vmdk_sparse *s, uint64_t len, uint64_t off,
                     uint64_t guest_off, bool may_unmap, vdisk_error *err);
int vmdk_sparse_status(vmdk_sparse *s, uint64_t off, uint64_t len, vdisk_extent *ext,
                       vdisk_error *err);
int vmdk_sparse_flush(vmdk_sparse *s, vdisk_error *err);
/* Append the whole grain at extent offset off (n bytes of data) of a
 * stream, deflated ahead of time (clen bytes; 0: it did not shrink, and is
 * stored as deflate's stored blocks). */
int vmdk_sparse_store_deflated(struct vmdk_state *st, vmdk_sparse *s, uint64_t off, uint64_t n,
                               const uint8_t *data, const uint8_t *deflated, uint32_t clen,
                               vdisk_error *err);

/* ---- stream.c ------------------------------------------------------------ */

/* A stream whose header says VMDK_GD_AT_END: take the footer's header. */
int vmdk_stream_read_footer(vdisk_file *f, const char *name, uint64_t file_len, vmdk_header *h,
                            vdisk_error *err);
/* Writable open of such a stream: new grains go where its GD marker is. */
int vmdk_stream_find_tail(vmdk_sparse *s, vdisk_error *err);
/* Reads of deflated grains: one inflate state for a whole request, and
 * one read of the file for a run of grains that lie one after the other
 * (as a stream has them). */
typedef struct vmdk_inflater {
    vmdk_sparse *s;
    vmdk_zstream *zs;         /* from s->zpool; its buf is the window */
    uint64_t win_off, win_len;  /* file bytes [win_off, win_off + win_len) in zs->buf */
} vmdk_inflater;

/* -ENOMEM when no stream can be had. */
int vmdk_inflater_init(vmdk_inflater *f, vmdk_sparse *s, vdisk_error *err);
void vmdk_inflater_free(vmdk_inflater *f);
/* Read at once the part of the file holding grains gte[0..k): the first
 * ones that lie in order within VMDK_MAX_WINDOW.  Returns k (1: no window,
 * the grain is read on its own) or a negative errno. */
int vmdk_inflater_window(vmdk_inflater *f, const uint32_t *gte, uint32_t n, vdisk_error *err);
/* Inflate the grain whose marker (or data) starts at sector gte into out
 * (s->grain bytes); *out_len is how many bytes it held. */
int vmdk_inflater_grain(vmdk_inflater *f, uint32_t gte, uint8_t *out, uint32_t *out_len,
                        vdisk_error *err);
/* Deflate len bytes (zlib format) at `level` into out (cap bytes) with a
 * pooled stream: 0 and *clen, -ENOSPC when it does not fit, -EIO. */
int vmdk_deflate(vmdk_zstream *zs, const uint8_t *in, uint32_t len, int level, uint8_t *out,
                 uint32_t cap, uint32_t *clen);
/* Deflate len bytes of grain g at `level` and append them with their
 * marker; sets the grain's entry.  Lock held. */
int vmdk_stream_write_grain(vmdk_sparse *s, uint64_t g, const uint8_t *data, uint32_t len, int level,
                            vdisk_error *err);
/* Append grain g deflated already (clen bytes) with its marker.  Lock held. */
int vmdk_stream_store_grain(vmdk_sparse *s, uint64_t g, const uint8_t *deflated, uint32_t clen,
                            vdisk_error *err);
void vmdk_stream_writer_free(vmdk_sparse *s);
/* Append grain table t (marker + table); its GD entry then points there. */
int vmdk_stream_write_gt(vmdk_sparse *s, uint32_t t, const uint32_t *gte, vdisk_error *err);
/* GD marker + GD, footer marker + footer, end-of-stream marker at s->alloc;
 * the file ends there.  s->alloc stays at the GD marker, so that more
 * grains overwrite this trailer.  Lock held. */
int vmdk_stream_write_trailer(vmdk_sparse *s, vdisk_error *err);
/* Sectors a table of n 32-bit entries takes (a grain table or directory). */
uint64_t vmdk_table_sectors(uint32_t n);

/* ---- extent.c ------------------------------------------------------------ */

typedef enum vmdk_extent_kind { VMDK_EXTENT_FLAT, VMDK_EXTENT_SPARSE, VMDK_EXTENT_ZERO } vmdk_extent_kind;

typedef struct vmdk_extent {
    vmdk_extent_kind kind;
    char *type;               /* descriptor type word; "" in a monolithic file */
    char *path;               /* resolved file name (info, map); NULL for ZERO */
    vdisk_file *file;         /* NULL for ZERO */
    bool own_file;            /* opened here (not the image's own file) */
    bool read_only;           /* RDONLY access in the descriptor */
    uint64_t start;           /* guest byte offset */
    uint64_t size;            /* bytes */
    uint64_t flat_offset;     /* bytes into the file (FLAT) */
    vmdk_sparse *sparse;      /* SPARSE */
} vmdk_extent;

typedef struct vmdk_state {
    vdisk_image *img;
    vmdk_extent *extents;     /* in disk order */
    size_t nextents;
    char *create_type;
    uint32_t cid;
    uint32_t parent_cid;
    char *parent_hint;        /* parentFileNameHint, NULL: no parent */
    /* The descriptor: inside img->file at desc_offset (desc_size bytes of
     * room), or the whole of img->file (desc_size 0). */
    uint64_t desc_offset;
    uint64_t desc_size;
    char *desc_text;
    size_t desc_len;
    bool cid_written;         /* the CID changed for this open's writes */
    int parent_ok;            /* parent CID matched: -1 not known yet, 0 no, 1 yes */
    pthread_mutex_t lock;     /* CID update, parent check */
} vmdk_state;

/* Open the extents a descriptor lists (files resolved against the
 * descriptor's directory under the path policy, see extent.c). */
int vmdk_extents_open(vmdk_state *st, const vmdk_descriptor *d, vdisk_error *err);
/* The single extent of a monolithic sparse file: img->file itself. */
int vmdk_extents_monolithic(vmdk_state *st, vmdk_sparse *s, vdisk_error *err);
void vmdk_extents_close(vmdk_state *st);
/* The extent holding guest offset off (< img->size). */
vmdk_extent *vmdk_extent_find(vmdk_state *st, uint64_t off);

/* ---- io.c ---------------------------------------------------------------- */

/* Read [guest_off, +len) from the parent (zeros past its end, or without
 * one); checks the parent's CID on first use. */
int vmdk_read_parent(vmdk_state *st, uint8_t *buf, uint64_t len, uint64_t guest_off,
                     vdisk_error *err);
bool vmdk_has_parent(const vmdk_state *st);

int vmdk_pread(vdisk_image *img, void *buf, uint64_t len, uint64_t off, vdisk_error *err);
int vmdk_pwrite(vdisk_image *img, const void *buf, uint64_t len, uint64_t off, vdisk_error *err);
int vmdk_write_zeroes(vdisk_image *img, uint64_t len, uint64_t off, unsigned flags, vdisk_error *err);
int vmdk_discard(vdisk_image *img, uint64_t len, uint64_t off, vdisk_error *err);
int vmdk_block_status(vdisk_image *img, uint64_t off, uint64_t len, vdisk_extent *ext,
                      vdisk_error *err);
/* convert's parallel compression into a stream: deflate grains in any
 * thread, then store them in order. */
int vmdk_compress_ahead(vdisk_image *img, vdisk_precompressed *c, vdisk_error *err);
int vmdk_pwrite_precompressed(vdisk_image *img, const vdisk_precompressed *c, vdisk_error *err);

/* ---- create.c, opts.c, check.c, driver.c ---------------------------------- */

int vmdk_create(vdisk_file *file, const vdisk_create_opts *opts, vdisk_progress_fn progress,
                void *opaque, vdisk_error *err);
int vmdk_check(vdisk_image *img, unsigned fix, vdisk_check_result *res,
               vdisk_check_report_fn report, vdisk_progress_fn progress, void *opaque,
               vdisk_error *err);
/* Open as the image's format driver would (create.c reopens to preallocate). */
int vmdk_open(vdisk_image *img, vdisk_error *err);
void vmdk_close(vdisk_image *img);
/* A fresh random CID (never 0xffffffff, which means "no parent"). */
uint32_t vmdk_random_cid(void);

#endif
