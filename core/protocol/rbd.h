/* libvdisk internals — the rbd protocol's state, shared by rbd.c (open,
 * I/O, locking) and rbd-extent.c (allocation map through librbd's diff). */
#ifndef VDISK_PROTOCOL_RBD_H
#define VDISK_PROTOCOL_RBD_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "file.h"
#include "protocol.h"
#include <vdisk-private/rbd-load.h>

typedef struct rbd_file {
    rados_t cluster;
    rados_ioctx_t io;
    rbd_image_t image;          /* NULL once a failed create removed it */
    vdisk_location where;       /* pool/ns/image/snap, for same_as and remove */
    bool lock_held;             /* we own the exclusive lock */
    _Atomic uint64_t size;      /* the image's length as its user sees it: read at
                                 * open, kept by truncate and writes past the end */
    uint64_t rbd_size;          /* the RBD image's size: >= size while growing
                                 * (grow_lock; trimmed back at close) */
    pthread_mutex_t grow_lock;  /* serialises growth and resizes */
} rbd_file;

/* Data/hole map from rbd_diff_iterate2 (rbd-extent.c). */
int vdisk_rbd_extent(vdisk_file *f, uint64_t off, uint64_t limit, bool *is_data, uint64_t *end,
                     vdisk_error *err);
/* Bytes allocated to the image, as `rbd du` counts them (whole objects). */
int vdisk_rbd_allocated(vdisk_file *f, uint64_t *bytes, vdisk_error *err);

#endif
