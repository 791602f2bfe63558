/* vdisk-virsh info — the format-specific block of a VMDK image (info-vmdk.c). */
#ifndef VV_INFO_VMDK_H
#define VV_INFO_VMDK_H

#include <vdisk/vdisk.h>

#include "output.h"

/* The "format-specific" member, as qemu-img's ImageInfoSpecificVmdk. */
void vv_info_vmdk_json(vv_json *j, const vdisk_vmdk_info *v);
/* "Format specific information:" and its lines, as qemu-img prints them. */
void vv_info_vmdk_human(const vdisk_vmdk_info *v);

#endif
