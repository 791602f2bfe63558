/* libvdisk internals — the VHDX creation options, called from create.c's
 * dispatch: one table (vhdx_create_options) and its setter. */
#ifndef VDISK_VHDX_OPTS_H
#define VDISK_VHDX_OPTS_H

#include <vdisk/create.h>

extern const vdisk_create_option vhdx_create_options[];

/* qemu-img's defaults: dynamic, block size by the disk size, 1 MiB log,
 * blocks in the ZERO state. */
void vhdx_opts_init(vdisk_vhdx_opts *o);
/* Set one option; -ENOENT (no message) when the key is not vhdx's. */
int vhdx_opts_set(vdisk_create_opts *o, const char *key, const char *value, vdisk_error *err);
/* Check the combination, with qemu-img's messages. */
int vhdx_opts_validate(const vdisk_create_opts *o, vdisk_error *err);

#endif
