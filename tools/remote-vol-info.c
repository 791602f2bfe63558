/* vdisk-virsh -c URI — vol-list: the table and --json come from the
 * embedded command's printer (virsh-common.h), fed with definitions read
 * from the daemon's volume XML.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "remote-internal.h"
#include "virsh-common.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* A volume of vol-list and virsh's word for its type. */
typedef struct vol_row {
    vdisk_vol_def def;
    const char *type;
} vol_row;

static int
by_name(const void *a, const void *b)
{
    return strcmp(((const vol_row *)a)->def.name, ((const vol_row *)b)->def.name);
}

/* Print rows (sorted by name, as virsh) with the embedded printer. */
static int
print_rows(vol_row *rows, size_t n, bool details, bool json)
{
    vdisk_vol_def *defs = calloc(n ? n : 1, sizeof(*defs));
    const char **types = calloc(n ? n : 1, sizeof(*types));
    int r = defs && types ? 0 : -1;
    if (r == 0) {
        qsort(rows, n, sizeof(*rows), by_name);
        for (size_t i = 0; i < n; i++) {
            defs[i] = rows[i].def;         /* shallow: rows keep ownership */
            types[i] = rows[i].type;
        }
        vv_print_vol_list(defs, types, n, details, json);
    } else {
        vv_virsh_error("out of memory");
    }
    free(defs);
    free(types);
    return r;
}

/* One volume of vol-list: its name and path only (as virsh's plain
 * listing asks the daemon), or all vr_vol_def reads for --details/--json. */
static int
vol_row_fill(virStorageVolPtr vol, bool full, bool physical, vol_row *row)
{
    if (full)
        return vr_vol_def(vol, physical, &row->def, &row->type);
    memset(&row->def, 0, sizeof(row->def));
    row->type = "file";     /* not shown without --details */
    row->def.target_path = virStorageVolGetPath(vol);
    if (!row->def.target_path) {
        virResetLastError();
        return -1;
    }
    if (!(row->def.name = strdup(virStorageVolGetName(vol)))) {
        vdisk_vol_def_clear(&row->def);
        return -1;
    }
    return 0;
}

/* vol-list: the pool's volumes, sorted by name as virsh does. */
int
vr_vol_list(const char *uri, int argc, char **argv)
{
    vv_arg args[] = { VV_REQ("pool"), VV_FLAG("details"), VV_FLAG("json") };
    vr_ctx c;
    int r = vr_begin_pool(uri, argc, argv, args, N(args), &c);
    if (r != VV_GO)
        return r;
    virStorageVolPtr *vols = NULL;
    int count = virStoragePoolListAllVolumes(c.pool, &vols, 0);
    vol_row *rows = calloc(count > 0 ? (size_t)count : 1, sizeof(*rows));
    size_t kept = 0;
    r = 1;
    if (count < 0 || !rows) {
        vv_virsh_error("Failed to list volumes");
        vr_report();
    } else {
        /* A volume removed while listing is left out, as virsh does. */
        for (int i = 0; i < count; i++)
            if (vol_row_fill(vols[i], args[1].set || args[2].set, args[2].set, &rows[kept]) == 0)
                kept++;
        r = print_rows(rows, kept, args[1].set, args[2].set) < 0;
    }
    for (int i = 0; i < count; i++)
        virStorageVolFree(vols[i]);
    free(vols);
    for (size_t i = 0; rows && i < kept; i++)
        vdisk_vol_def_clear(&rows[i].def);
    free(rows);
    vr_end(&c);
    return r;
}
