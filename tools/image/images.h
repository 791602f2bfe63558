/* vdisk-virsh — opening images from the command line. */
#ifndef VV_IMAGES_H
#define VV_IMAGES_H

#include <stdbool.h>

#include <vdisk/vdisk.h>

/* Open `file` read-only (plus extra VDISK_OPEN_* flags).  fmt_name NULL
 * probes the format.  Errors are printed; returns 0 or a negative errno. */
int vv_open_image(const char *file, const char *fmt_name, unsigned flags, vdisk_image **out);

/* Close an image opened for writing (flushing its metadata).  With report,
 * a failure is printed naming the image; without, it is only returned (the
 * command already failed).  Returns 0 or a negative errno. */
int vv_close_image(vdisk_image *img, bool report);

#endif
