/* vdisk-virsh — helpers shared by the iso-* commands. */
#ifndef VV_ISOUTIL_H
#define VV_ISOUTIL_H

#include <vdisk/vdisk.h>

/* Open an ISO image; names_mode is "auto" (NULL), "rock", "joliet" or
 * "iso".  Errors are printed; returns 0 or a negative errno. */
int vv_iso_open(const char *file, const char *names_mode, vdisk_iso **out);

/* "file", "directory", "symlink", "fifo", "socket", "char-device", "block-device". */
const char *vv_iso_type_name(uint32_t mode);

#endif
