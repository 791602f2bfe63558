/* vdisk-virsh vol-info, vol-dumpxml, vol-path, vol-key and vol-name, as
 * virsh prints them.
 *
 *   vol-info <vol> [--pool POOL] [--bytes] [--physical] [--json]
 *   vol-dumpxml <vol> [--pool POOL]
 *   vol-path <vol> [--pool POOL]
 *   vol-key <vol> [--pool POOL]
 *   vol-name <vol>          (a key or path)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vdisk/storage-xml.h>

#include "commands.h"
#include "output.h"
#include "virsh-args.h"
#include "virsh-common.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

typedef enum vol_show { SHOW_INFO, SHOW_XML, SHOW_PATH, SHOW_KEY, SHOW_NAME } vol_show;

void
vv_print_vol_info(const vdisk_vol_def *d, const char *type, bool bytes, bool physical, bool json)
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

static int
show(const vdisk_vol_def *d, vol_show what, vv_arg *args, size_t n)
{
    char *xml;
    vdisk_error err = { 0 };
    switch (what) {
    case SHOW_INFO:
        vv_print_vol_info(d, "file", vv_arg_get(args, n, "bytes")->set, vv_arg_get(args, n, "physical")->set,
                          vv_arg_get(args, n, "json")->set);
        break;
    case SHOW_PATH: printf("%s\n", d->target_path); break;
    case SHOW_KEY: printf("%s\n", d->key); break;
    case SHOW_NAME: printf("%s\n", d->name); break;
    case SHOW_XML:
        if (vdisk_vol_def_format(d, &xml, &err) < 0) {
            vv_virsh_report(&err);
            return 1;
        }
        fputs(xml, stdout);
        free(xml);
        break;
    }
    return 0;
}

/* Parse, look the volume up, probe it and print what was asked. */
static int
run(int argc, char **argv, vv_arg *args, size_t n, vol_show what)
{
    vv_ctx c;
    int r = vv_begin_vol(argc, argv, args, n, &c);
    if (r != VV_GO)
        return r;
    vdisk_vol_def d;
    vdisk_error err = { 0 };
    r = 1;
    if (vdisk_vol_lookup(c.pool, c.name, &d, &err) < 0) {
        vv_virsh_report(&err);
    } else {
        r = show(&d, what, args, n);
        vdisk_vol_def_clear(&d);
    }
    vv_end(&c);
    return r;
}

#define VOL_ARGS VV_REQ("vol"), VV_VAL("pool")

/* vol-info: name, type, capacity and allocation of a volume. */
int
cmd_vol_info(int argc, char **argv)
{
    vv_arg args[] = { VOL_ARGS, VV_FLAG("bytes"), VV_FLAG("physical"), VV_FLAG("json") };
    return run(argc, argv, args, N(args), SHOW_INFO);
}

/* vol-dumpxml: the volume's XML. */
int
cmd_vol_dumpxml(int argc, char **argv)
{
    vv_arg args[] = { VOL_ARGS };
    return run(argc, argv, args, N(args), SHOW_XML);
}

/* vol-path: the volume's path. */
int
cmd_vol_path(int argc, char **argv)
{
    vv_arg args[] = { VOL_ARGS };
    return run(argc, argv, args, N(args), SHOW_PATH);
}

/* vol-key: the volume's key (its path, as libvirt's dir pools). */
int
cmd_vol_key(int argc, char **argv)
{
    vv_arg args[] = { VOL_ARGS };
    return run(argc, argv, args, N(args), SHOW_KEY);
}

/* vol-name: the name of the volume with this key or path. */
int
cmd_vol_name(int argc, char **argv)
{
    vv_arg args[] = { VV_REQ("vol") };
    return run(argc, argv, args, N(args), SHOW_NAME);
}
