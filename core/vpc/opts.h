/* libvdisk internals — the VHD (vpc) creation options: the driver's option
 * table (vpc_options, vdisk/options.h) and its setter. */
#ifndef VDISK_VPC_OPTS_H
#define VDISK_VPC_OPTS_H

#include <vdisk/create.h>
#include <vdisk/options.h>

/* What create and measure take (vdisk/options.h); the driver names it. */
extern const struct vdisk_option vpc_options[];

/* Set one option; -ENOENT (no message) when the key is not vpc's. */
int vpc_opts_set(vdisk_create_opts *o, const char *key, const char *value, vdisk_error *err);
/* Check the combination with the common options. */
int vpc_opts_validate(const vdisk_create_opts *o, vdisk_error *err);

#endif
