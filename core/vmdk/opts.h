/* libvdisk internals — the VMDK creation options, for create.c's dispatch
 * (the table and the checks live in vmdk/opts.c). */
#ifndef VDISK_VMDK_OPTS_H
#define VDISK_VMDK_OPTS_H

#include <vdisk/create.h>

/* Apply one -o key=value of create -f vmdk.  -ENOENT: not a vmdk-specific
 * key (or value), for the generic parser to handle. */
int vmdk_opts_set(vdisk_create_opts *o, const char *key, const char *value, vdisk_error *err);
/* Check the vmdk options together (qemu-img's messages). */
int vmdk_opts_validate(const vdisk_create_opts *o, vdisk_error *err);

#endif
