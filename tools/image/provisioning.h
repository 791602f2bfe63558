/* vdisk-virsh — what the inflate, eagerzero and sparsify commands share:
 * opening the image for writing, running the operation with -p progress,
 * and printing its result (human or --output json). */
#ifndef VV_PROVISIONING_H
#define VV_PROVISIONING_H

#include <stdbool.h>

#include <vdisk/vdisk.h>

#include "options.h"

typedef enum vv_provision_op {
    VV_PROVISION_INFLATE,       /* vdisk_inflate */
    VV_PROVISION_EAGERZERO,     /* vdisk_eagerzero */
    VV_PROVISION_SPARSIFY,      /* vdisk_sparsify */
} vv_provision_op;

typedef struct vv_provision_args {
    vv_provision_op op;
    const char *fmt;        /* -f, or NULL to probe */
    const char *file;
    unsigned flags;         /* VDISK_PROVISION_DRY_RUN, VDISK_INFLATE_EAGER, ... */
    bool progress, quiet;
    vv_output output;
} vv_provision_args;

/* Run the operation on a->file and print the result; returns the exit
 * status (0, or 1 with the error printed). */
int vv_provision_run(const vv_provision_args *a);
/* Print a result: human lines naming `name` (an image, a volume), or JSON. */
void vv_provision_print(const char *name, vv_provision_op op, unsigned flags,
                        const vdisk_provision_result *r, vv_output output);

#endif
