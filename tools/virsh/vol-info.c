/* vdisk-virsh vol-info, vol-dumpxml, vol-path, vol-key and vol-name, as
 * virsh prints them, on any store (the embedded registry, or -c URI).
 *
 *   vol-info <vol> [--pool POOL] [--bytes] [--physical] [--json]
 *   vol-dumpxml <vol> [--pool POOL] [--xpath EXPRESSION] [--wrap]
 *   vol-path <vol> [--pool POOL]
 *   vol-key <vol> [--pool POOL]
 *   vol-name <vol>          (a key or path)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vdisk/storage-xml.h>

#include "commands.h"
#include "dump-xml.h"
#include "output.h"
#include "virsh-args.h"
#include "store-open.h"

typedef enum vol_show { SHOW_INFO, SHOW_XML, SHOW_PATH, SHOW_KEY, SHOW_NAME } vol_show;

static void
print_vol_info(const vdisk_vol_def *d, const char *type, bool bytes, bool physical, bool json)
{
    if (json) {
        vv_json j;
        vv_json_init(&j, stdout);
        vv_json_object_begin(&j, NULL);
        vv_json_string(&j, "name", d->name);
        vv_json_string(&j, "type", type);
        if (d->target_path)
            vv_json_string(&j, "path", d->target_path);
        vv_json_string(&j, "format", vdisk_format_name(d->format));
        vv_json_uint(&j, "capacity", d->capacity);
        vv_json_uint(&j, "allocation", d->allocation);
        vv_json_uint(&j, "physical", d->physical);
        if (d->backing_path)
            vv_json_string(&j, "backing", d->backing_path);
        vv_json_object_end(&j);
        vv_json_finish(&j);
        return;
    }
    printf("%-15s %s\n", "Name:", d->name);
    printf("%-15s %s\n", "Type:", type);
    vv_print_size("Capacity:", d->capacity, bytes, " bytes");
    if (physical)
        vv_print_size("Physical:", d->physical, bytes, " bytes");
    else
        vv_print_size("Allocation:", d->allocation, bytes, " bytes");
}

/* vol-info's lines (or --json) from the store's definition. */
static int
show_info(vdisk_store_vol *vol, vv_arg *args, size_t n, vdisk_error *err)
{
    vdisk_vol_def d;
    const char *type;
    bool physical = vv_arg_get(args, n, "physical")->set, json = vv_arg_get(args, n, "json")->set;
    /* The physical size costs a daemon one more call: asked only when shown. */
    int r = vol->store->ops->vol_def(vol, physical || json, &d, &type, err);
    if (r == 0)
        print_vol_info(&d, type, vv_arg_get(args, n, "bytes")->set, physical, json);
    vdisk_vol_def_clear(&d);
    return r;
}

/* The volume's XML, filtered by --xpath; 1 after the filter printed its error. */
static int
show_xml(vdisk_store_vol *vol, vv_arg *args, size_t n, vdisk_error *err)
{
    char *s = NULL;
    int r = vol->store->ops->vol_xml(vol, &s, err);
    if (r == 0 && vv_dump_xml(s, "volume", vv_arg_get(args, n, "xpath")->value, vv_arg_get(args, n, "wrap")->set))
        r = 1;
    free(s);
    return r;
}

/* One string the store gives (malloc'ed), on a line. */
static int
show_string(vdisk_store_vol *vol, vol_show what, vdisk_error *err)
{
    const vdisk_store_ops *ops = vol->store->ops;
    char *s = NULL;
    int r = what == SHOW_PATH ? ops->vol_path(vol, &s, err) : ops->vol_key(vol, &s, err);
    if (r == 0)
        printf("%s\n", s);
    free(s);
    return r;
}

static int
show(vdisk_store_vol *vol, vol_show what, vv_arg *args, size_t n, vdisk_error *err)
{
    switch (what) {
    case SHOW_INFO:
        return show_info(vol, args, n, err);
    case SHOW_NAME:
        printf("%s\n", vol->name);
        return 0;
    case SHOW_XML:
        return show_xml(vol, args, n, err);
    case SHOW_PATH:
    case SHOW_KEY:
        return show_string(vol, what, err);
    }
    return -1;
}

/* Parse, look the volume up and print what was asked. */
static int
run(const char *uri, int argc, char **argv, vv_arg *args, size_t n, vol_show what)
{
    vv_store_ctx c;
    int r = vv_store_begin_vol(uri, argc, argv, args, n, &c);
    if (r != VV_GO)
        return r;
    vdisk_error err = { 0 };
    r = show(c.vol, what, args, n, &err);
    if (r < 0)
        vv_store_report(&err);
    r = r != 0;
    vv_store_end(&c);
    return r;
}

#define VOL_ARGS VV_REQ("vol"), VV_VAL("pool")

/* vol-info: name, type, capacity and allocation of a volume. */
int
cmd_vol_info(const char *uri, int argc, char **argv)
{
    vv_arg args[] = { VOL_ARGS, VV_FLAG("bytes"), VV_FLAG("physical"), VV_FLAG("json") };
    return run(uri, argc, argv, args, VV_N(args), SHOW_INFO);
}

/* vol-dumpxml: the volume's XML. */
int
cmd_vol_dumpxml(const char *uri, int argc, char **argv)
{
    vv_arg args[] = { VOL_ARGS, VV_DUMP_XML_ARGS };
    return run(uri, argc, argv, args, VV_N(args), SHOW_XML);
}

/* vol-path: the volume's path. */
int
cmd_vol_path(const char *uri, int argc, char **argv)
{
    vv_arg args[] = { VOL_ARGS };
    return run(uri, argc, argv, args, VV_N(args), SHOW_PATH);
}

/* vol-key: the volume's key (its path, in the registry as in libvirt's dir pools). */
int
cmd_vol_key(const char *uri, int argc, char **argv)
{
    vv_arg args[] = { VOL_ARGS };
    return run(uri, argc, argv, args, VV_N(args), SHOW_KEY);
}

/* vol-name: the name of the volume with this key or path. */
int
cmd_vol_name(const char *uri, int argc, char **argv)
{
    vv_arg args[] = { VV_REQ("vol") };
    return run(uri, argc, argv, args, VV_N(args), SHOW_NAME);
}
