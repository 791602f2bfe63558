/* libvdisk — qcow2 writes in two steps, for convert's ordered targets
 * (vdisk_write_reserve in driver.h).
 *
 * Reserving plans every operation of the range under the lock, as a write
 * would (write.c): its new clusters are allocated and registered in flight.
 * Since convert reserves one job at a time in guest order, the clusters
 * land where writes in guest order would put them (qemu-img's layout).  The
 * data is written later, by any thread, and each operation's L2 entries are
 * switched when its data is on the host, as in a plain write.
 *
 * Only images without extended L2 entries: there an allocating operation
 * may end inside a cluster whose next operation would wait for the first
 * one's in-flight registration (trim_reuse in write.c), which a reservation
 * holds until it is written.  Without them every operation of a range
 * covers whole clusters from its start, or the range's partial first and
 * last ones.  Encrypted images only for ranges of whole sectors (others go
 * through a read-modify-write of the sector).
 */
#include <errno.h>
#include <stdlib.h>

#include "write-op.h"

struct vdisk_reservation {
    struct qcow2_wop *ops;   /* in guest order */
    uint64_t off;
};

static void
free_ops(struct qcow2_wop *op)
{
    while (op) {
        struct qcow2_wop *next = op->next;
        free(op);
        op = next;
    }
}

static void
abandon_ops(qcow2_state *s, struct qcow2_wop *op)
{
    for (struct qcow2_wop *o = op; o; o = o->next)
        qcow2_write_abandon(s, o);
    free_ops(op);
}

/* Plan the operations of [off, end) into *tail (lock held). */
static int
plan_range(qcow2_state *s, uint64_t off, uint64_t end, struct qcow2_wop **tail, vdisk_error *err)
{
    while (off < end) {
        struct qcow2_wop *op = malloc(sizeof(*op));
        if (!op)
            return vdisk_error_set(err, ENOMEM, "%s: out of memory", s->name);
        int r = qcow2_write_plan(s, off, end, op, err);
        if (r < 0) {
            free(op);
            return r;
        }
        op->next = NULL;
        *tail = op;
        tail = &op->next;
        off += qcow2_write_op_len(op);
    }
    return 0;
}

int
qcow2_write_reserve(vdisk_image *img, uint64_t len, uint64_t off, vdisk_reservation **out,
                    vdisk_error *err)
{
    qcow2_state *s = img->priv;
    if (s->ext_l2 || (s->crypt && ((off | len) & 511)))
        return -ENOTSUP;
    vdisk_reservation *res = calloc(1, sizeof(*res));
    if (!res)
        return vdisk_error_set(err, ENOMEM, "%s: out of memory", s->name);
    res->off = off;
    qcow2_bitmaps_mark(s, off, len);   /* bitmap.c */
    pthread_mutex_lock(&s->lock);
    int r = plan_range(s, off, off + len, &res->ops, err);
    pthread_mutex_unlock(&s->lock);
    if (r < 0) {
        abandon_ops(s, res->ops);
        free(res);
        return r;
    }
    *out = res;
    return 0;
}

int
qcow2_write_reserved(vdisk_image *img, vdisk_reservation *res, const void *buf, vdisk_error *err)
{
    qcow2_state *s = img->priv;
    const uint8_t *p = buf;
    int r = 0;
    struct qcow2_wop *op = res->ops;
    for (; op && r == 0; op = op->next)
        r = qcow2_write_planned(s, op, p + (op->off - res->off), err);
    /* after a failure, the operations not written are given up */
    for (; op; op = op->next)
        qcow2_write_abandon(s, op);
    free_ops(res->ops);
    free(res);
    return r;
}

void
qcow2_write_cancel(vdisk_image *img, vdisk_reservation *res)
{
    abandon_ops(img->priv, res->ops);
    free(res);
}
