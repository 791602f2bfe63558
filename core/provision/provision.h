/* libvdisk internals — what the format drivers' provisioning callbacks get
 * (vdisk/provision.h is the public side).  provision.c has checked the
 * handle (writable unless a dry run, raw or qcow2), taken the image's locks
 * exclusively and flushed it; the callback does the work and fills req->res
 * (changed, zeroed, the skipped counts; host_after only for a dry run). */
#ifndef VDISK_PROVISION_INTERNAL_H
#define VDISK_PROVISION_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include <vdisk/provision.h>

#include "driver.h"

typedef struct vdisk_provision_req {
    const char *what;              /* "inflate", "eagerzero", "sparsify" (messages) */
    unsigned flags;                /* VDISK_PROVISION_DRY_RUN, VDISK_INFLATE_EAGER, ... */
    vdisk_progress_fn progress;
    void *opaque;
    vdisk_provision_result *res;   /* zeroed by provision.c; host_before filled */
} vdisk_provision_req;

static inline bool
vdisk_provision_dry(const vdisk_provision_req *req)
{
    return req->flags & VDISK_PROVISION_DRY_RUN;
}

/* Report `done` of `total` guest bytes; -ECANCELED (message naming the
 * image and the operation) when the callback asks to stop. */
int vdisk_provision_step(const vdisk_provision_req *req, vdisk_image *img, uint64_t done,
                         uint64_t total, vdisk_error *err);

/* Raw driver callbacks (provision/raw.c). */
int vdisk_raw_inflate(vdisk_image *img, vdisk_provision_req *req, vdisk_error *err);
int vdisk_raw_eagerzero(vdisk_image *img, vdisk_provision_req *req, vdisk_error *err);
int vdisk_raw_sparsify(vdisk_image *img, vdisk_provision_req *req, vdisk_error *err);

#endif
