/* libvdisk internals — format detection. */
#ifndef VDISK_PROBE_H
#define VDISK_PROBE_H

#include <stdbool.h>
#include <stddef.h>

#include <vdisk/image.h>

/* ISO 9660: the primary volume descriptor starts at sector 16 (2 KiB sectors). */
#define VDISK_PROBE_ISO_OFFSET 0x8000
#define VDISK_PROBE_ISO_END (VDISK_PROBE_ISO_OFFSET + 6)
/* Bytes read to probe; also the guarded head of a probed-raw image. */
#define VDISK_PROBE_LEN VDISK_PROBE_ISO_END

/* As vdisk_probe_buffer; *other_magic is set when the bytes carry the magic
 * of a format with a magic (LUKS) -- which a probed raw image
 * must not be able to acquire either. */
vdisk_format vdisk_probe_buffer_ex(const void *buf, size_t len, bool *other_magic);

#endif
