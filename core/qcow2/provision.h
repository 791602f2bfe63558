/* libvdisk internals — qcow2 provisioning in place (inflate.c, sparsify.c,
 * provision-plan.c).
 *
 * Each guest cluster of the active layer is planned on its own, from its L2
 * entry alone (provision-plan.c, pure functions), then a batch of plans is
 * carried out in the crash-safe order:
 *   1. host work: new clusters allocated (refcount in the cache) and made to
 *      read zeros, existing host clusters reserved or zero-filled; synced
 *   2. the L2 entries switched, then qcow2_flush_metadata (refcount blocks,
 *      L2 tables, L1, with barriers) -- or, when references are dropped,
 *      qcow2_release (the L2/L1 updates on disk first, then the refcounts
 *      drop and the host range is punched)
 * so that no table names a cluster whose content or refcount is not on
 * disk yet, and a crash leaks at most.
 *
 * Subcluster masks: bit i is subcluster i (extended L2); without extended
 * L2 the cluster is one "subcluster", bit 0.
 */
#ifndef VDISK_QCOW2_PROVISION_H
#define VDISK_QCOW2_PROVISION_H

#include "provision/provision.h"
#include "qcow2.h"

enum qcow2_prov_act {
    QCOW2_PROV_KEEP,    /* entry unchanged (host work may still be done) */
    QCOW2_PROV_NEW,     /* give the cluster a fresh host cluster reading zeros */
    QCOW2_PROV_SET,     /* after the host work, switch to entry/bitmap */
};

struct qcow2_prov_plan {
    enum qcow2_prov_act act;
    bool reserve;           /* reserve the existing host cluster (fallocate; content unchanged) */
    uint32_t fill;          /* subclusters whose host holes / unwritten parts get zeros */
    uint32_t zero;          /* subclusters overwritten with zeros before the switch */
    uint64_t entry, bitmap; /* SET: the new entry; NEW: the new bitmap (host filled in later) */
    bool free_old;          /* release what the old entry referenced after the switch */
    /* guest bytes left as they are, by reason (vdisk_provision_result) */
    uint64_t backing, shared, compressed, thin;
};

/* The cluster's situation, as the planners need it. */
struct qcow2_prov_cluster {
    uint64_t entry, bitmap; /* L2 entry (and extended bitmap) */
    bool backed;            /* unallocated parts read from a backing file */
    uint64_t bytes;         /* guest bytes of the cluster (the last one may be short) */
};

/* Number of subclusters of a cluster (1 without extended L2). */
unsigned qcow2_prov_subclusters(const qcow2_state *s);

/* inflate (alloc_new) and eagerzero (!alloc_new, eager): what this cluster
 * needs.  eager: reserved-but-unwritten space gets real zeros. */
void qcow2_plan_inflate(const qcow2_state *s, const struct qcow2_prov_cluster *c, bool eager,
                        bool alloc_new, struct qcow2_prov_plan *p);

/* sparsify, step 1: the subclusters holding data of ours whose host bytes
 * decide whether they read as zeros (0: none, or the cluster is not ours
 * or not a candidate).  *compressed: a compressed cluster (zero detection
 * decompresses it). */
uint32_t qcow2_plan_data_mask(const qcow2_state *s, const struct qcow2_prov_cluster *c,
                              bool *compressed);
/* sparsify, step 2: zero_mask holds the data subclusters (of step 1) found to
 * read as zeros (a compressed cluster: bit 0 when it decompresses to zeros).
 * The plan drops the host cluster when every subcluster then reads zeros
 * and the format can say so (version 2 has no zero flag for a cluster the
 * backing file would show through). */
void qcow2_plan_sparsify(const qcow2_state *s, const struct qcow2_prov_cluster *c,
                         uint32_t zero_mask, struct qcow2_prov_plan *p);

/* ---- provision.c: the batch walk shared by inflate.c and sparsify.c ---- */

/* Guest clusters [g0, g0+n) of one L2 table, with their entries and plans. */
struct qcow2_prov_batch {
    uint64_t g0, n;
    struct qcow2_prov_cluster *c;
    struct qcow2_prov_plan *p;
};

/* Plan and carry out one batch (lock held); ctx is the walk's caller's. */
typedef int (*qcow2_prov_batch_fn)(qcow2_state *s, vdisk_provision_req *req,
                                   struct qcow2_prov_batch *b, void *ctx, vdisk_error *err);

/* Walk every guest cluster of the image in batches: each batch's entries
 * are read and fn called with the lock held; progress between batches. */
int qcow2_prov_walk(qcow2_state *s, vdisk_provision_req *req, qcow2_prov_batch_fn fn, void *ctx,
                    vdisk_error *err);
/* Switch the entries of the batch's NEW and SET plans (the k-th NEW plan
 * gets host cluster new_host + k clusters) and write the metadata back in
 * order (qcow2_release when references were dropped). */
int qcow2_prov_switch(qcow2_state *s, const struct qcow2_prov_batch *b, uint64_t new_host,
                      vdisk_error *err);
/* Add up the plans' skipped bytes into req->res. */
void qcow2_prov_count_skipped(const struct qcow2_prov_batch *b, vdisk_provision_result *res);

/* The driver callbacks. */
int qcow2_inflate(vdisk_image *img, vdisk_provision_req *req, vdisk_error *err);
int qcow2_eagerzero(vdisk_image *img, vdisk_provision_req *req, vdisk_error *err);
int qcow2_sparsify(vdisk_image *img, vdisk_provision_req *req, vdisk_error *err);

/* Shared by inflate.c and sparsify.c: refuse what cannot be provisioned in
 * place (encrypted images; an overlay whose backing file is not open). */
int qcow2_prov_check(qcow2_state *s, const vdisk_provision_req *req, vdisk_error *err);
/* Does a backing file show through guest cluster gc where it is unallocated? */
bool qcow2_prov_backed(const qcow2_state *s, uint64_t gc);

#endif
