/* libvdisk internals — qcow2 check and repair, shared by check.c (the
 * metadata walk that counts references), repair.c (comparison with the
 * on-disk refcounts, their repair and rebuild, OFLAG_COPIED) and
 * check-snapshot.c (the snapshot table as the check reads and repairs it).
 *
 * The walk builds an in-memory refcount table (QEMU calls it the IMRT):
 * one counter per host cluster, counting every reference the metadata
 * makes.  Comparing it with the refcounts on disk gives leaks (disk higher)
 * and corruptions (disk lower).  A byte per cluster remembers which kind of
 * structure claimed it first, so that overlapping metadata gets a message
 * naming both structures.
 */
#ifndef VDISK_QCOW2_CHECK_INT_H
#define VDISK_QCOW2_CHECK_INT_H

#include <vdisk/check.h>

#include "qcow2.h"

/* What claimed a host cluster first (for overlap messages). */
enum qcow2_owner {
    OWN_NONE = 0,
    OWN_HEADER,
    OWN_L1,
    OWN_L2,
    OWN_DATA,
    OWN_COMPRESSED,
    OWN_REFTABLE,
    OWN_REFBLOCK,
    OWN_SNAPTABLE,
    OWN_SNAP_L1,
    OWN_BITMAP,
    OWN_CRYPT_HEADER,
};
/* Set in owner[] when a second kind of structure claimed the cluster too:
 * repair then refuses to write there (QEMU's metadata overlap guard). */
#define OWN_CONFLICT 0x80

struct qcow2_check {
    qcow2_state *s;
    unsigned fix;
    vdisk_check_result *res;
    vdisk_check_report_fn report;
    bool qemu_lines;          /* VDISK_CHECK_QEMU_LINES: no overlap reports */
    vdisk_progress_fn progress;
    void *opaque;
    uint64_t file_len;
    uint32_t *ref;            /* references per host cluster (the IMRT) */
    uint8_t *owner;           /* enum qcow2_owner per host cluster */
    uint64_t nb;              /* clusters ref/owner cover */
    uint64_t cap;             /* clusters allocated */
    uint64_t grow_limit;      /* the file may not grow past this cluster */
    uint64_t ref_max;         /* highest count an entry can hold */
    bool rebuild;             /* refcount structures must be rebuilt */
    uint64_t highest;         /* last cluster in use (compare) */
    struct qcow2_snapshot *snaps;   /* the snapshot table (snapshot-table.c) */
    uint32_t nsnaps;
    size_t snap_table_size;
    uint64_t snap_corruptions;      /* incomplete entries (check-snapshot.c) */
    uint64_t walked, to_walk; /* progress: tables */
};

/* check.c */
void qcow2_check_say(struct qcow2_check *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Make ref/owner cover n clusters (new entries zero). */
int qcow2_check_grow(struct qcow2_check *c, uint64_t n, vdisk_error *err);
/* Count one reference to every cluster of [off, off+size). */
int qcow2_check_inc(struct qcow2_check *c, uint64_t off, uint64_t size, enum qcow2_owner who,
                    vdisk_error *err);
/* Does [off, off+len) touch a cluster claimed by two kinds of structure? */
bool qcow2_check_overlapped(const struct qcow2_check *c, uint64_t off, uint64_t len);
/* Walk every structure and fill the IMRT from scratch. */
int qcow2_check_calculate(struct qcow2_check *c, unsigned fix, vdisk_error *err);
/* The whole check on an open state (also used to repair a dirty image on
 * open).  Caller holds no lock. */
int qcow2_check_state(qcow2_state *s, unsigned fix, vdisk_check_result *res,
                      vdisk_check_report_fn report, vdisk_progress_fn progress, void *opaque,
                      vdisk_error *err);
/* The driver callback. */
int qcow2_check(vdisk_image *img, unsigned fix, vdisk_check_result *res,
                vdisk_check_report_fn report, vdisk_progress_fn progress, void *opaque,
                vdisk_error *err);

/* check-snapshot.c */
int qcow2_check_read_snapshots(struct qcow2_check *c, vdisk_error *err);
/* With FIX_ERRORS: rewrite a table that had incomplete entries. */
int qcow2_check_fix_snapshots(struct qcow2_check *c, unsigned fix, vdisk_error *err);
void qcow2_check_free_snapshots(struct qcow2_check *c);

/* check-bitmap.c */
/* Count the bitmap directory, tables and data (when the bitmaps are
 * consistent: autoclear bit set). */
int qcow2_check_bitmaps(struct qcow2_check *c, vdisk_error *err);

/* repair.c */
/* Compare the IMRT with the refcounts on disk, fixing what fix allows. */
int qcow2_check_compare(struct qcow2_check *c, unsigned fix, vdisk_error *err);
/* Write new refcount blocks and table made from the IMRT. */
int qcow2_check_rebuild(struct qcow2_check *c, vdisk_error *err);
/* Check (and fix) OFLAG_COPIED in the active L1 and L2 tables. */
int qcow2_check_oflag_copied(struct qcow2_check *c, unsigned fix, vdisk_error *err);

/* check-overlap.c */
/* On a writable open: refuse tables that overlap each other or the header
 * (cheap checks on offsets only). */
int qcow2_check_open_overlaps(qcow2_state *s, vdisk_error *err);

#endif
