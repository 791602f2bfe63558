/* libvdisk internals — QEMU Enhanced Disk (QED) images, read only.
 *
 * Layout (little endian; QEMU's docs/interop/qed_spec.txt): cluster 0 holds
 * the header (magic "QED\0", cluster size, table size in clusters, header
 * size in clusters, feature bits, L1 table offset, image size, backing file
 * name); an L1 table of table_size clusters points at L2 tables of the same
 * size, whose entries point at data clusters.  Entry 0: unallocated (the
 * backing file, else zeros); data entry 1: a zero cluster.
 *
 * Files: header.c (the header, checked), table.c (table entries, read
 * through a small page cache: tables may be 1 GiB, never loaded whole),
 * driver.c (the driver table: lookup, read, block status, info, backing
 * file), check.c (qemu-img check).
 */
#ifndef VDISK_QED_H
#define VDISK_QED_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "driver.h"

#define QED_F_BACKING_FILE 0x01u
#define QED_F_NEED_CHECK 0x02u
#define QED_F_BACKING_FORMAT_NO_PROBE 0x04u
#define QED_F_KNOWN (QED_F_BACKING_FILE | QED_F_NEED_CHECK | QED_F_BACKING_FORMAT_NO_PROBE)
#define QED_ZERO_CLUSTER 1u

/* Table entries are read in pages of this many bytes, a few cached. */
#define QED_PAGE 4096u
#define QED_CACHE_PAGES 32u

typedef struct qed_header {
    uint32_t cluster_size;
    uint32_t table_size;            /* clusters per table */
    uint32_t header_size;           /* clusters */
    uint64_t features;
    uint64_t l1_offset;
    uint64_t image_size;
    char *backing_file;             /* NULL without QED_F_BACKING_FILE; malloc'ed */
} qed_header;

typedef struct qed_page {
    uint64_t offset;                /* file offset of the page; UINT64_MAX: empty */
    uint64_t last_use;
    uint8_t data[QED_PAGE];
} qed_page;

typedef struct qed_state {
    qed_header h;
    const char *name;               /* the image's file name, for messages */
    vdisk_file *file;
    uint64_t file_size;
    uint32_t cluster_bits;
    uint64_t table_entries;         /* entries per table */
    uint64_t header_end;            /* first byte past the header clusters */
    pthread_mutex_t lock;           /* the page cache */
    uint64_t clock;
    qed_page pages[QED_CACHE_PAGES];
} qed_state;

/* Read and check the header (s->file, s->name, s->file_size set). */
int qed_read_header(qed_state *s, vdisk_error *err);
void qed_header_free(qed_header *h);

/* Is a table (L1 or L2) at offset valid: cluster aligned, past the header,
 * whole inside the file?  Is a data cluster offset valid? */
bool qed_table_offset_ok(const qed_state *s, uint64_t offset);
bool qed_cluster_offset_ok(const qed_state *s, uint64_t offset);
/* Entry `index` of the table at `table` (validated by the caller). */
int qed_table_entry(qed_state *s, uint64_t table, uint64_t index, uint64_t *value,
                    vdisk_error *err);
void qed_cache_init(qed_state *s);

/* Where a guest offset lives. */
typedef enum qed_kind {
    QED_UNALLOCATED,                /* reads go to the backing file, else zeros */
    QED_ZERO,                       /* a zero cluster */
    QED_DATA,                       /* at host */
} qed_kind;
/* The run of clusters starting at guest offset off (at most len bytes)
 * that share one kind (and, for data, follow each other in the file). */
int qed_lookup(qed_state *s, uint64_t off, uint64_t len, qed_kind *kind, uint64_t *host,
               uint64_t *run, vdisk_error *err);

/* qemu-img check (check.c). */
int qed_check(vdisk_image *img, unsigned fix, vdisk_check_result *res,
              vdisk_check_report_fn report, vdisk_progress_fn progress, void *opaque,
              vdisk_error *err);

#endif
