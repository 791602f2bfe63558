/* vdisk-virsh map --bar: the allocation map as one line of characters, one
 * per equal slice of the disk showing the kind that holds most of it, then
 * a legend with the bytes of each kind.  On a colour terminal the
 * characters are painted in the picture's colours. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "map-bar.h"
#include "map-cells.h"
#include "output.h"

#define BAR_DEFAULT_WIDTH 64
#define BAR_MAX_WIDTH 4096

static const char bar_chars[VDISK_ALLOC_KINDS] = {
    [VDISK_ALLOC_DATA] = '#',
    [VDISK_ALLOC_RESERVED] = '=',
    [VDISK_ALLOC_ZERO] = '0',
    [VDISK_ALLOC_UNALLOCATED] = '.',
    [VDISK_ALLOC_COMPRESSED] = 'c',
    [VDISK_ALLOC_BACKING] = 'b',
};

/* The bar's width when not given: the terminal's, less the brackets. */
static size_t
terminal_width(void)
{
    struct winsize ws;
    const char *cols = getenv("COLUMNS");
    if (cols && atoi(cols) > 10)
        return (size_t)atoi(cols) - 2;
    if (isatty(STDOUT_FILENO) && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 10)
        return (size_t)ws.ws_col - 2;
    return BAR_DEFAULT_WIDTH;
}

static bool
use_colour(void)
{
    const char *term = getenv("TERM");
    return isatty(STDOUT_FILENO) && term && strcmp(term, "dumb") != 0 && !getenv("NO_COLOR");
}

static void
print_human(const vv_map_cells *m, const char *bar)
{
    bool colour = use_colour();
    putchar('[');
    for (size_t i = 0; i < m->n; i++) {
        const uint8_t *c = vv_alloc_colors[vv_map_cell_kind(m, i)];
        if (colour)
            printf("\033[48;2;%u;%u;%um\033[38;2;0;0;0m%c\033[0m", c[0], c[1], c[2], bar[i]);
        else
            putchar(bar[i]);
    }
    puts("]");
    for (int k = 0; k < VDISK_ALLOC_KINDS; k++) {
        if (!m->total[k])
            continue;
        char size[32];
        double pct = m->length ? 100.0 * (double)m->total[k] / (double)m->length : 0;
        printf("  %c  %-12s %12s  %5.1f%%\n", bar_chars[k], vdisk_alloc_kind_name(k),
               vv_size_to_str(m->total[k], size, sizeof(size)), pct);
    }
}

static void
print_json(const vv_map_cells *m, const char *bar)
{
    vv_json j;
    vv_json_init(&j, stdout);
    vv_json_object_begin(&j, NULL);
    vv_json_uint(&j, "start", m->start);
    vv_json_uint(&j, "length", m->length);
    vv_json_string(&j, "bar", bar);
    vv_json_object_begin(&j, "bytes");
    for (int k = 0; k < VDISK_ALLOC_KINDS; k++)
        vv_json_uint(&j, vdisk_alloc_kind_name(k), m->total[k]);
    vv_json_object_end(&j);
    vv_json_object_end(&j);
    vv_json_finish(&j);
}

size_t
vv_map_bar_width(size_t width)
{
    if (width == 0)
        width = terminal_width();
    return width > BAR_MAX_WIDTH ? BAR_MAX_WIDTH : width;
}

int
vv_map_bar_print(const vv_map_cells *m, vv_output out)
{
    char *bar = calloc(1, m->n + 1);
    if (!bar) {
        vv_error("out of memory");
        return 1;
    }
    for (size_t i = 0; i < m->n && m->length; i++)
        bar[i] = bar_chars[vv_map_cell_kind(m, i)];
    if (out == VV_OUTPUT_JSON)
        print_json(m, bar);
    else
        print_human(m, bar);
    free(bar);
    return 0;
}

int
vv_map_bar(vdisk_image *img, uint64_t start, uint64_t length, size_t width, vv_output out)
{
    vv_map_cells m;
    if (vv_map_cells_fill(img, start, length, vv_map_bar_width(width), &m) < 0)
        return 1;
    int ret = vv_map_bar_print(&m, out);
    vv_map_cells_free(&m);
    return ret;
}
