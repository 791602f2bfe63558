/* libvdisk internals — one qcow2 write operation (write.c), shared with the
 * split write (write-reserve.c): planned under the lock, its data written
 * without it, its L2 entries switched under the lock again.
 */
#ifndef VDISK_QCOW2_WRITE_OP_H
#define VDISK_QCOW2_WRITE_OP_H

#include "qcow2.h"

struct qcow2_wop {
    bool inplace;
    uint64_t off;             /* guest offset the operation starts at */
    uint64_t host;            /* host offset of guest cluster gc (allocating) or of off (in place) */
    uint64_t len;             /* in place: bytes */
    uint64_t gc, nc;          /* allocating: guest clusters [gc, gc+nc) */
    bool reuse;               /* host cluster already ours: nothing was allocated */
    bool full;                /* COW whole clusters; ext L2: all subclusters allocated */
    uint64_t rs, re;          /* guest byte region written to the host */
    uint64_t stop;            /* allocating: guest end of this operation's data */
    struct qcow2_inflight node;
    struct qcow2_wop *next;   /* in a reservation (write-reserve.c) */
};

/* Plan the operation that writes from off towards end (lock held): an
 * in-place run, or clusters allocated and registered in flight. */
int qcow2_write_plan(qcow2_state *s, uint64_t off, uint64_t end, struct qcow2_wop *op,
                     vdisk_error *err);
/* Guest bytes the planned operation writes. */
uint64_t qcow2_write_op_len(const struct qcow2_wop *op);
/* Write the planned operation's data from buf (its first byte is the
 * operation's off) and switch its L2 entries (takes the lock for that);
 * on failure the clusters it allocated are given back.  No lock held. */
int qcow2_write_planned(qcow2_state *s, struct qcow2_wop *op, const uint8_t *buf, vdisk_error *err);
/* Drop a planned operation that is not to be written: its clusters are
 * given back and its in-flight registration ends (takes the lock). */
void qcow2_write_abandon(qcow2_state *s, struct qcow2_wop *op);

#endif
