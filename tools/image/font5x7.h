/* vdisk-virsh — a 5x7 pixel font (font5x7.c). */
#ifndef VV_FONT5X7_H
#define VV_FONT5X7_H

#include <stdint.h>

#define VV_FONT_W 5
#define VV_FONT_H 7      /* cap height */
#define VV_FONT_ROWS 9   /* with the descenders */

/* The VV_FONT_ROWS rows of glyph c (bit 4 is the leftmost pixel); '?' for characters
 * the font lacks. */
const uint8_t *vv_font5x7_glyph(char c);

#endif
