/* vdisk-virsh vol-map: where a volume's space goes, as `map --bar` (and
 * `--picture`) show it for a file, read through the pool
 * (vdisk_vol_alloc_map: the volume's own layer, shared reads only).
 * On any store: libvirt has no such verb, so with -c URI it reads the
 * volume's file (the store's vol_file: dir and vdisk pools).
 *
 *   vol-map <vol> [--pool POOL] [--width N] [--picture FILE.png] [--json]
 */
#include <stdio.h>
#include <stdlib.h>

#include <vdisk/volume-provisioning.h>

#include "commands.h"
#include "map-bar.h"
#include "options.h"
#include "output.h"
#include "store-open.h"
#include "virsh-args.h"

/* Map the volume into n cells over its capacity (errors printed). */
static int
fill(vdisk_pool *pool, const char *name, uint64_t capacity, size_t n, vv_map_cells *m)
{
    if (vv_map_cells_init(m, 0, capacity, n) < 0)
        return -1;
    vdisk_error err = { 0 };
    if (capacity && vdisk_vol_alloc_map(pool, name, vv_map_cells_add, m, &err) < 0) {
        vv_virsh_error("Failed to map volume '%s'", name);
        vv_store_report(&err);
        vv_map_cells_free(m);
        return -1;
    }
    return 0;
}

/* The bar, then (picture) the PNG; returns the exit status. */
static int
map_volume(vdisk_pool *pool, const char *name, unsigned long width, const char *picture, bool json)
{
    vdisk_vol_def d;
    vdisk_error err = { 0 };
    if (vdisk_vol_lookup(pool, name, &d, &err) < 0) {
        vv_store_report(&err);
        vdisk_vol_def_clear(&d);
        return 1;
    }
    vv_map_cells m;
    int r = fill(pool, name, d.capacity, vv_map_bar_width(width), &m) < 0 ? 1 : 0;
    if (r == 0) {
        r = vv_map_bar_print(&m, json ? VV_OUTPUT_JSON : VV_OUTPUT_HUMAN);
        vv_map_cells_free(&m);
    }
    if (r == 0 && picture) {
        r = fill(pool, name, d.capacity, vv_map_picture_cells(d.capacity), &m) < 0 ? 1 : 0;
        if (r == 0) {
            char title[160], size[32];
            snprintf(title, sizeof(title), "%s  %s  %s", name, vdisk_format_name(d.format),
                     vv_size_to_str(d.capacity, size, sizeof(size)));
            r = vv_map_picture_write(&m, title, picture);
            vv_map_cells_free(&m);
        }
    }
    vdisk_vol_def_clear(&d);
    return r;
}

/* vol-map: a volume's allocation bar (and picture). */
int
cmd_vol_map(const char *uri, int argc, char **argv)
{
    vv_arg args[] = { VV_REQ("vol"), VV_VAL("pool"), VV_VAL("width"), VV_VAL("picture"),
                      VV_FLAG("json") };
    vv_store_ctx c;
    int r = vv_store_begin(uri, argc, argv, args, VV_N(args), &c);
    if (r != VV_GO)
        return r;
    unsigned long width = 0;
    vdisk_pool *pool;
    const char *name;
    r = 1;
    if (args[2].set && (vv_parse_ulong(args[2].value, 4096, &width) < 0 || width == 0))
        vv_virsh_error("--width takes a number of characters from 1 to 4096");
    else if (vv_store_lookup_vol(&c, args, VV_N(args)) == 0 && vv_store_vol_file(&c, &pool, &name) == 0)
        r = map_volume(pool, name, width, args[3].set ? args[3].value : NULL, args[4].set);
    vv_store_end(&c);
    return r;
}
