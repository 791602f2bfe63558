/* libvdisk internals — the VMDK creation options: the driver's option
 * table (vmdk_options, vdisk/options.h) and the checks of their
 * combination (vmdk/opts.c). */
#ifndef VDISK_VMDK_OPTS_H
#define VDISK_VMDK_OPTS_H

#include <vdisk/create.h>
#include <vdisk/options.h>

/* What create and measure take, in the order of qemu-img's "Formatting"
 * line; the driver names it. */
extern const struct vdisk_option vmdk_options[];

/* Check the vmdk options together (qemu-img's messages). */
int vmdk_opts_validate(const vdisk_create_opts *o, vdisk_error *err);

#endif
