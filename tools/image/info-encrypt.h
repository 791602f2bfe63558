/* vdisk-virsh info — printing encryption details (info-encrypt.c). */
#ifndef VV_INFO_ENCRYPT_H
#define VV_INFO_ENCRYPT_H

#include <stdbool.h>

#include <vdisk/vdisk.h>

#include "output.h"

/* Members of the "encrypt" object (qcow2, with_format) or of a luks
 * image's format-specific "data" object. */
void vv_info_encrypt_json(vv_json *j, const vdisk_encrypt_info *e, bool with_format);
/* The same as qemu-img's human dump, indented by `indent` spaces. */
void vv_info_encrypt_human(const vdisk_encrypt_info *e, int indent, bool with_format);

#endif
