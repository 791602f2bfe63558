/* libvdisk internals — format detection. */
#ifndef VDISK_PROBE_H
#define VDISK_PROBE_H

#include <stdbool.h>
#include <stddef.h>

#include <vdisk/image.h>

#include "file.h"

/* ISO 9660: the primary volume descriptor starts at sector 16 (2 KiB sectors). */
#define VDISK_PROBE_ISO_OFFSET 0x8000
#define VDISK_PROBE_ISO_END (VDISK_PROBE_ISO_OFFSET + 6)
/* Bytes read to probe; also the guarded head of a probed-raw image. */
#define VDISK_PROBE_LEN VDISK_PROBE_ISO_END

/* As vdisk_probe_buffer; *other_magic is set when the bytes carry the LUKS
 * magic (any LUKS version) -- which a probed raw image must not be able to
 * acquire either. */
vdisk_format vdisk_probe_buffer_ex(const void *buf, size_t len, bool *other_magic);

/* Probe an open file: its head, and for dmg its name and trailer. */
int vdisk_probe_file(vdisk_file *f, const char *path, vdisk_format *fmt, vdisk_error *err);

#endif
