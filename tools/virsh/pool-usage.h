/* vdisk-virsh — pool-info --details (pool-usage.c). */
#ifndef VV_POOL_USAGE_H
#define VV_POOL_USAGE_H

#include <stdbool.h>

#include <vdisk/volume-provisioning.h>

#include "output.h"
#include "virsh-args.h"

/* Print u: into the open JSON object j (members "unbacked", "details"),
 * or with j NULL as a table after pool-info's lines. */
void vv_print_pool_usage(vv_json *j, const vdisk_pool_usage *u, bool bytes);

#endif
