/* libvdisk internals — the VHDX creation options: the driver's option table
 * (vhdx_options, vdisk/options.h) and its setter. */
#ifndef VDISK_VHDX_OPTS_H
#define VDISK_VHDX_OPTS_H

#include <vdisk/create.h>
#include <vdisk/options.h>

/* What create and measure take (vdisk/options.h); the driver names it. */
extern const struct vdisk_option vhdx_options[];

/* qemu-img's defaults: dynamic, block size by the disk size, 1 MiB log,
 * blocks in the ZERO state. */
void vhdx_opts_init(vdisk_create_opts *o);
/* Set one option; -ENOENT (no message) when the key is not vhdx's. */
int vhdx_opts_set(vdisk_create_opts *o, const char *key, const char *value, vdisk_error *err);
/* Check the combination, with qemu-img's messages. */
int vhdx_opts_validate(const vdisk_create_opts *o, vdisk_error *err);

#endif
