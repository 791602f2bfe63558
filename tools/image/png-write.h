/* vdisk-virsh — writing an RGB picture as a PNG file (libpng). */
#ifndef VV_PNG_WRITE_H
#define VV_PNG_WRITE_H

/* Write w x h pixels (3 bytes each, rows top down) to path.  Errors are
 * printed and a half-written file is removed; returns 0 or -1. */
int vv_png_write(const char *path, const unsigned char *rgb, unsigned w, unsigned h);

#endif
