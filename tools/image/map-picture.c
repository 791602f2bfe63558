/* vdisk-virsh map --picture: the allocation map as a PNG a person can look
 * at.  The disk is a grid of equal cells read like text (left to right,
 * top to bottom); each cell is painted in stripes, one per kind of space it
 * holds, as tall as that kind's share (a kind present at all gets at least
 * one pixel row, so a little data in an empty region still shows).  A
 * title names the image, a legend gives each kind's colour, size and
 * share, a footer the size of one cell. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "font5x7.h"
#include "map-bar.h"
#include "map-cells.h"
#include "output.h"
#include "png-write.h"

#define COLS 64
#define ROWS 16
#define CELL 10          /* pixels per cell side */
#define GAP 2            /* between cells */
#define MARGIN 16
#define SCALE 2          /* text: 10 x 14 pixel glyphs */
#define LINE (VV_FONT_ROWS * SCALE + 6)
#define GRID_W (COLS * (CELL + GAP) - GAP)
#define WIDTH (GRID_W + 2 * MARGIN)

typedef struct canvas {
    unsigned char *px;
    unsigned w, h;
} canvas;

static void
fill(canvas *c, unsigned x, unsigned y, unsigned w, unsigned h, const uint8_t rgb[3])
{
    for (unsigned j = y; j < y + h && j < c->h; j++)
        for (unsigned i = x; i < x + w && i < c->w; i++)
            memcpy(c->px + ((size_t)j * c->w + i) * 3, rgb, 3);
}

/* Draw text with its top left corner at (x, y). */
static void
text(canvas *c, unsigned x, unsigned y, const char *s)
{
    static const uint8_t ink[3] = { 0x22, 0x22, 0x22 };
    for (; *s; s++, x += (VV_FONT_W + 1) * SCALE) {
        const uint8_t *g = vv_font5x7_glyph(*s);
        for (unsigned row = 0; g && row < VV_FONT_ROWS; row++)
            for (unsigned col = 0; col < VV_FONT_W; col++)
                if (g[row] & (0x10 >> col))
                    fill(c, x + col * SCALE, y + row * SCALE, SCALE, SCALE, ink);
    }
}

/* Stripe heights of cell i (kinds in a fixed order, at least 1 pixel for a
 * kind present, the rest to the largest). */
static void
stripes(const vv_map_cells *m, size_t i, unsigned h[VDISK_ALLOC_KINDS])
{
    uint64_t sum = 0;
    for (int k = 0; k < VDISK_ALLOC_KINDS; k++)
        sum += m->bytes[i][k];
    unsigned used = 0;
    int big = VDISK_ALLOC_UNALLOCATED;
    for (int k = 0; k < VDISK_ALLOC_KINDS; k++) {
        h[k] = sum ? (unsigned)(m->bytes[i][k] * CELL / sum) : 0;
        if (m->bytes[i][k] && h[k] == 0)
            h[k] = 1;
        if (m->bytes[i][k] > m->bytes[i][big])
            big = k;
        used += h[k];
    }
    if (!sum)
        h[VDISK_ALLOC_UNALLOCATED] = used = CELL;
    /* Rounding: the largest kind takes up the slack (or gives it back). */
    h[big] = h[big] + CELL >= used ? h[big] + CELL - used : 1;
}

static void
draw_grid(canvas *c, const vv_map_cells *m, unsigned top)
{
    for (size_t i = 0; i < m->n; i++) {
        unsigned x = MARGIN + (unsigned)(i % COLS) * (CELL + GAP);
        unsigned y = top + (unsigned)(i / COLS) * (CELL + GAP), h[VDISK_ALLOC_KINDS];
        stripes(m, i, h);
        for (int k = 0; k < VDISK_ALLOC_KINDS; k++) {
            fill(c, x, y, CELL, h[k] < CELL ? h[k] : CELL, vv_alloc_colors[k]);
            y += h[k];
        }
    }
}

static void
draw_legend(canvas *c, const vv_map_cells *m, unsigned top)
{
    for (int k = 0; k < VDISK_ALLOC_KINDS; k++) {
        unsigned y = top + (unsigned)k * LINE;
        char size[32], line[96];
        double pct = m->length ? 100.0 * (double)m->total[k] / (double)m->length : 0;
        fill(c, MARGIN, y, VV_FONT_H * SCALE, VV_FONT_H * SCALE, vv_alloc_colors[k]);
        snprintf(line, sizeof(line), "%-12s %10s %6.1f%%", vdisk_alloc_kind_name(k),
                 vv_size_to_str(m->total[k], size, sizeof(size)), pct);
        text(c, MARGIN + VV_FONT_H * SCALE + 12, y, line);
    }
}

static void
draw(canvas *c, const char *title, const vv_map_cells *m, unsigned rows)
{
    static const uint8_t white[3] = { 0xff, 0xff, 0xff };
    char line[160], a[32], b[32];
    fill(c, 0, 0, c->w, c->h, white);
    text(c, MARGIN, MARGIN, title);
    unsigned top = MARGIN + LINE + 4;
    draw_grid(c, m, top);
    top += rows * (CELL + GAP) + 12;
    draw_legend(c, m, top);
    top += VDISK_ALLOC_KINDS * LINE + 4;
    snprintf(line, sizeof(line), "one cell: %s, from offset %s",
             vv_size_to_str((m->length + m->n - 1) / (m->n ? m->n : 1), a, sizeof(a)),
             vv_size_to_str(m->start, b, sizeof(b)));
    text(c, MARGIN, top, line);
}

size_t
vv_map_picture_cells(uint64_t length)
{
    /* Small images get fewer cells (at least 512 bytes each). */
    size_t n = COLS * ROWS;
    if (length / 512 < n)
        n = length / 512 ? (size_t)(length / 512) : 1;
    return n;
}

int
vv_map_picture_write(const vv_map_cells *m, const char *title, const char *path)
{
    unsigned rows = (unsigned)((m->n + COLS - 1) / COLS);
    canvas c = { .w = WIDTH };
    c.h = MARGIN + LINE + 4 + rows * (CELL + GAP) + 12 + VDISK_ALLOC_KINDS * LINE + 4 + LINE + MARGIN;
    c.px = malloc((size_t)c.w * c.h * 3);
    int ret = 1;
    if (!c.px) {
        vv_error("out of memory for a %ux%u picture", c.w, c.h);
    } else {
        draw(&c, title, m, rows);
        ret = vv_png_write(path, c.px, c.w, c.h) < 0 ? 1 : 0;
    }
    free(c.px);
    return ret;
}

int
vv_map_picture(vdisk_image *img, uint64_t start, uint64_t length, const char *path)
{
    vv_map_cells m;
    if (vv_map_cells_fill(img, start, length, vv_map_picture_cells(length), &m) < 0)
        return 1;
    char title[160], size[32];
    const char *name = vdisk_get_filename(img), *slash = strrchr(name, '/');
    snprintf(title, sizeof(title), "%s  %s  %s", slash ? slash + 1 : name,
             vdisk_format_name(vdisk_get_format(img)),
             vv_size_to_str(vdisk_get_size(img), size, sizeof(size)));
    int ret = vv_map_picture_write(&m, title, path);
    vv_map_cells_free(&m);
    return ret;
}
