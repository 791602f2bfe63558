/* vdisk-virsh — an allocation map in cells (see map-cells.h). */
#include <stdlib.h>
#include <string.h>

#include "map-cells.h"
#include "options.h"

/* Blue for data and a light blue for its reservation, yellow for zero
 * flags, grey for nothing, purple for compressed, orange for the backing
 * file: distinct for the common kinds of colour blindness as well. */
const uint8_t vv_alloc_colors[VDISK_ALLOC_KINDS][3] = {
    [VDISK_ALLOC_DATA] = { 0x1f, 0x5f, 0xb4 },
    [VDISK_ALLOC_RESERVED] = { 0x9e, 0xca, 0xe1 },
    [VDISK_ALLOC_ZERO] = { 0xf2, 0xc9, 0x4c },
    [VDISK_ALLOC_UNALLOCATED] = { 0xe4, 0xe4, 0xe4 },
    [VDISK_ALLOC_COMPRESSED] = { 0x94, 0x67, 0xbd },
    [VDISK_ALLOC_BACKING] = { 0xff, 0x7f, 0x0e },
};

/* Cell i covers [start + len*i/n, start + len*(i+1)/n). */
static uint64_t
cell_start(const vv_map_cells *m, size_t i)
{
    return m->start + (uint64_t)((__uint128_t)m->length * i / m->n);
}

int
vv_map_cells_add(void *opaque, uint64_t off, uint64_t len, vdisk_alloc_kind kind)
{
    vv_map_cells *m = opaque;
    m->total[kind] += len;
    size_t i = (size_t)((__uint128_t)(off - m->start) * m->n / m->length);
    for (uint64_t end = off + len; off < end && i < m->n; i++) {
        uint64_t cend = cell_start(m, i + 1);
        if (cend <= off)
            continue;
        uint64_t stop = end < cend ? end : cend;
        m->bytes[i][kind] += stop - off;
        off = stop;
    }
    return 0;
}

int
vv_map_cells_init(vv_map_cells *m, uint64_t start, uint64_t length, size_t n)
{
    memset(m, 0, sizeof(*m));
    m->start = start;
    m->length = length;
    m->n = n;
    m->bytes = calloc(n ? n : 1, sizeof(*m->bytes));
    if (!m->bytes) {
        vv_error("out of memory");
        return -1;
    }
    return 0;
}

int
vv_map_cells_fill(vdisk_image *img, uint64_t start, uint64_t length, size_t n, vv_map_cells *m)
{
    if (vv_map_cells_init(m, start, length, n) < 0)
        return -1;
    if (length == 0)
        return 0;
    vdisk_error err = { 0 };
    if (vdisk_alloc_map(img, start, length, vv_map_cells_add, m, &err) < 0) {
        vv_report_file(&err, vdisk_get_filename(img));
        vv_map_cells_free(m);
        return -1;
    }
    return 0;
}

void
vv_map_cells_free(vv_map_cells *m)
{
    free(m->bytes);
    m->bytes = NULL;
}

vdisk_alloc_kind
vv_map_cell_kind(const vv_map_cells *m, size_t i)
{
    vdisk_alloc_kind best = VDISK_ALLOC_UNALLOCATED;
    uint64_t most = 0;
    for (int k = 0; k < VDISK_ALLOC_KINDS; k++)
        if (m->bytes[i][k] > most) {
            most = m->bytes[i][k];
            best = (vdisk_alloc_kind)k;
        }
    return best;
}
