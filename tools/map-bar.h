/* vdisk-virsh map --bar and --picture: an image layer's allocation map as a
 * line of characters in the terminal, or as a PNG picture. */
#ifndef VV_MAP_BAR_H
#define VV_MAP_BAR_H

#include <stddef.h>
#include <stdint.h>

#include <vdisk/vdisk.h>

#include "options.h"

/* Print [start, start+length) of img as a bar of `width` characters (0: the
 * terminal's width) with a legend, or as JSON; returns the exit status. */
int vv_map_bar(vdisk_image *img, uint64_t start, uint64_t length, size_t width, vv_output out);

/* Write [start, start+length) of img as a PNG picture to `path`; returns
 * the exit status. */
int vv_map_picture(vdisk_image *img, uint64_t start, uint64_t length, const char *path);

#endif
