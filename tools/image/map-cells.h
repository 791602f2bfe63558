/* vdisk-virsh map --bar / --picture: an image layer's allocation map
 * (vdisk_alloc_map) cut into equal cells, each counting the bytes of every
 * kind it holds, so a bar character or a picture cell can show them. */
#ifndef VV_MAP_CELLS_H
#define VV_MAP_CELLS_H

#include <stddef.h>
#include <stdint.h>

#include <vdisk/vdisk.h>

typedef struct vv_map_cells {
    uint64_t start, length;     /* the guest range mapped */
    size_t n;                   /* cells */
    uint64_t (*bytes)[VDISK_ALLOC_KINDS];   /* n rows: bytes of each kind per cell */
    uint64_t total[VDISK_ALLOC_KINDS];      /* over the whole range */
} vv_map_cells;

/* Map [start, start+length) of img into n cells (errors printed; 0 or -1).
 * Free with vv_map_cells_free. */
int vv_map_cells_fill(vdisk_image *img, uint64_t start, uint64_t length, size_t n,
                      vv_map_cells *m);
void vv_map_cells_free(vv_map_cells *m);
/* Empty cells for a map filled by the caller (vol-map: the plugin's
 * vdisk_vol_alloc_map) with vv_map_cells_add; errors printed, 0 or -1. */
int vv_map_cells_init(vv_map_cells *m, uint64_t start, uint64_t length, size_t n);
/* vdisk_alloc_fn (opaque: the vv_map_cells): spread a run over the cells
 * it overlaps. */
int vv_map_cells_add(void *opaque, uint64_t off, uint64_t len, vdisk_alloc_kind kind);

/* The kind holding most of cell i's bytes. */
vdisk_alloc_kind vv_map_cell_kind(const vv_map_cells *m, size_t i);

/* Colours of the kinds (RGB), shared by the picture and the terminal bar. */
extern const uint8_t vv_alloc_colors[VDISK_ALLOC_KINDS][3];

#endif
