/* libvdisk internals — qcow2 metadata write ordering (ordering.c): the
 * barriers and write-back order every metadata update goes through.  It
 * sits below the allocator and the cluster map: whatever includes this may
 * allocate and map, but ordering.c itself calls neither.
 */
#ifndef VDISK_QCOW2_ORDERING_H
#define VDISK_QCOW2_ORDERING_H

#include "qcow2.h"

/* Write dirty refcount blocks, then L2 tables, then the L1 table, with
 * ordering flushes between them (unless lazy refcounts). */
int qcow2_flush_metadata(qcow2_state *s, vdisk_error *err);
/* fdatasync unless lazy refcounts make ordering unnecessary. */
int qcow2_order_barrier(qcow2_state *s, vdisk_error *err);
/* Set the dirty bit before the first metadata change (lazy refcounts). */
int qcow2_mark_dirty(qcow2_state *s, vdisk_error *err);

#endif
