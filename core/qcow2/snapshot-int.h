/* What snapshot.c shares with snapshot-create.c: the reference walk over an
 * L1 table, the headroom check, the L1 writer, the unordered write-back
 * that every snapshot operation uses (snapshot.c says why each is safe)
 * and the dirty bit over the refcount/COPIED window (snapshot-window.c). */
#ifndef VDISK_QCOW2_SNAPSHOT_INT_H
#define VDISK_QCOW2_SNAPSHOT_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "qcow2.h"

/* The addend for L1 entry i and the table and data it names, then the
 * COPIED flag of the entry. */
int qcow2_snap_update_l1_entry(qcow2_state *s, uint64_t *l1, uint32_t i, int addend,
                               bool active, vdisk_error *err);
/* Can every cluster l1 names take one more reference? */
int qcow2_snap_check_headroom(qcow2_state *s, const uint64_t *l1, uint32_t l1_size,
                              vdisk_error *err);
/* Write a host-endian L1 table of n entries at off, synced when `sync`. */
int qcow2_snap_write_l1_table(qcow2_state *s, const uint64_t *l1, uint32_t n, uint64_t off,
                              bool sync, vdisk_error *err);
/* Refcount blocks, L2 tables and the active L1 written back with no sync
 * between them. */
int qcow2_snap_flush_unordered(qcow2_state *s, vdisk_error *err);
/* Clusters of an L1 table of n entries. */
uint64_t qcow2_snap_l1_clusters(const qcow2_state *s, uint32_t n);
/* Set the dirty bit over the window in which refcounts and COPIED flags
 * may disagree on disk (version 3 images; snapshot-window.c says why no
 * order closes it).  *opened tells whether this call set it (lazy
 * refcounts or an earlier repair may own it already). */
int qcow2_snap_window_open(qcow2_state *s, bool *opened, vdisk_error *err);
/* Clear the bit qcow2_snap_window_open set, once everything before it is
 * synced. */
int qcow2_snap_window_close(qcow2_state *s, vdisk_error *err);
/* EROFS naming `what` unless the image is writable. */
int qcow2_snap_need_writable(qcow2_state *s, const char *what, vdisk_error *err);

#endif
