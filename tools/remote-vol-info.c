/* vdisk-virsh -c URI — what the daemon says of volumes: vol-info,
 * vol-dumpxml, vol-path, vol-key, vol-name, vol-list.  Tables and --json
 * come from the embedded commands' printers (virsh-common.h), fed with
 * definitions read from the daemon's volume XML.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "remote-internal.h"
#include "virsh-common.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

typedef enum vol_show { SHOW_INFO, SHOW_XML, SHOW_PATH, SHOW_KEY, SHOW_NAME } vol_show;

/* vol-info, as virsh, from virStorageVolGetInfo (and the XML's format). */
static int
show_info(virStorageVolPtr vol, vv_arg *args, size_t n)
{
    vdisk_vol_def d;
    const char *type;
    bool physical = vv_arg_get(args, n, "physical")->set, json = vv_arg_get(args, n, "json")->set;
    if (vr_vol_def(vol, physical || json, &d, &type) < 0)
        return 1;
    vv_print_vol_info(&d, type, vv_arg_get(args, n, "bytes")->set, physical, json);
    vdisk_vol_def_clear(&d);
    return 0;
}

/* One string the API gives (malloc'ed when owned), printed on a line. */
static int
show_string(const char *s, bool owned)
{
    if (!s) {
        vr_report();
        return 1;
    }
    printf("%s\n", s);
    if (owned)
        free((char *)s);
    return 0;
}

static int
show(virStorageVolPtr vol, vol_show what, vv_arg *args, size_t n)
{
    char *xml;
    switch (what) {
    case SHOW_INFO:
        return show_info(vol, args, n);
    case SHOW_PATH:
        return show_string(virStorageVolGetPath(vol), true);
    case SHOW_KEY:
        return show_string(virStorageVolGetKey(vol), false);
    case SHOW_NAME:
        return show_string(virStorageVolGetName(vol), false);
    case SHOW_XML:
        if (!(xml = virStorageVolGetXMLDesc(vol, 0))) {
            vr_report();
            return 1;
        }
        fputs(xml, stdout);
        free(xml);
        return 0;
    }
    return 1;
}

/* Parse, look the volume up and print what was asked. */
static int
run(const char *uri, int argc, char **argv, vv_arg *args, size_t n, vol_show what)
{
    vr_ctx c;
    int r = vr_begin_vol(uri, argc, argv, args, n, &c);
    if (r != VV_GO)
        return r;
    r = show(c.vol, what, args, n);
    vr_end(&c);
    return r;
}

#define VOL_ARGS VV_REQ("vol"), VV_VAL("pool")

/* vol-info: name, type, capacity and allocation of a volume. */
int
vr_vol_info(const char *uri, int argc, char **argv)
{
    vv_arg args[] = { VOL_ARGS, VV_FLAG("bytes"), VV_FLAG("physical"), VV_FLAG("json") };
    return run(uri, argc, argv, args, N(args), SHOW_INFO);
}

/* vol-dumpxml: the daemon's XML of the volume. */
int
vr_vol_dumpxml(const char *uri, int argc, char **argv)
{
    vv_arg args[] = { VOL_ARGS };
    return run(uri, argc, argv, args, N(args), SHOW_XML);
}

/* vol-path: the volume's path. */
int
vr_vol_path(const char *uri, int argc, char **argv)
{
    vv_arg args[] = { VOL_ARGS };
    return run(uri, argc, argv, args, N(args), SHOW_PATH);
}

/* vol-key: the volume's key. */
int
vr_vol_key(const char *uri, int argc, char **argv)
{
    vv_arg args[] = { VOL_ARGS };
    return run(uri, argc, argv, args, N(args), SHOW_KEY);
}

/* vol-name: the name of the volume with this key or path. */
int
vr_vol_name(const char *uri, int argc, char **argv)
{
    vv_arg args[] = { VV_REQ("vol") };
    return run(uri, argc, argv, args, N(args), SHOW_NAME);
}

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
