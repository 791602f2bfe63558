/* vdisk-virsh map --bar and --picture: an image layer's allocation map as a
 * line of characters in the terminal, or as a PNG picture. */
#ifndef VV_MAP_BAR_H
#define VV_MAP_BAR_H

#include <stddef.h>
#include <stdint.h>

#include <vdisk/vdisk.h>

#include "map-cells.h"
#include "options.h"

/* Print [start, start+length) of img as a bar of `width` characters (0: the
 * terminal's width) with a legend, or as JSON; returns the exit status. */
int vv_map_bar(vdisk_image *img, uint64_t start, uint64_t length, size_t width, vv_output out);

/* Write [start, start+length) of img as a PNG picture to `path`; returns
 * the exit status. */
int vv_map_picture(vdisk_image *img, uint64_t start, uint64_t length, const char *path);

/* The same from cells filled elsewhere (vol-map).  The number of bar
 * characters for --width (0: the terminal's), of picture cells for a range
 * of `length` bytes; print m (one cell per character); draw m as a PNG
 * under `title`.  Each returns the exit status where it has one. */
size_t vv_map_bar_width(size_t width);
int vv_map_bar_print(const vv_map_cells *m, vv_output out);
size_t vv_map_picture_cells(uint64_t length);
int vv_map_picture_write(const vv_map_cells *m, const char *title, const char *path);

#endif
