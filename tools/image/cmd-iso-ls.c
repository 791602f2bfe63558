/* vdisk-virsh iso-ls — list the files of an ISO image.
 *
 *   iso-ls [-l] [-R] [--json] [--names auto|rock|joliet|iso] FILE.iso [PATH]
 *   iso-ls --path-table [--json] [--names ...] FILE.iso
 *   iso-ls --el-torito [--json] FILE.iso
 *
 * Without -R: the entries of directory PATH (default "/"), or PATH itself
 * when it is a file, one name per line.  -R: PATH and everything below it,
 * one absolute path per line (as `xorriso -find`, without the quotes).
 * -l: `ls -l` columns (mode, links, uid, gid, size, date, name -> target).
 * --json: an array of objects with every attribute.
 * --path-table: the directories of the path table, as `isoinfo -p` prints
 * them ("   2:    1 1d SUB": number, parent, extent in hex, identifier).
 * --el-torito: the boot catalog's entries, in the rows of `xorriso
 * -report_el_torito plain` ("El Torito boot img :   1  BIOS  y   none ...").
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "commands.h"
#include "isoutil.h"
#include "options.h"
#include "output.h"

enum { OPT_JSON = 256, OPT_NAMES, OPT_PATH_TABLE, OPT_EL_TORITO };

typedef struct ls_opts {
    bool longfmt, recursive, json, path_table, el_torito;
    const char *names;
    vv_json j;
} ls_opts;

static void
mode_string(uint32_t mode, char out[11])
{
    static const char types[] = "?pc?d?b?-?l?s???";
    out[0] = types[(mode >> 12) & 0xF];
    const char *rwx = "rwxrwxrwx";
    for (int i = 0; i < 9; i++)
        out[1 + i] = mode & (0400u >> i) ? rwx[i] : '-';
    out[10] = '\0';
}

static void
print_long(const vdisk_iso_entry *e, const char *shown)
{
    char mode[11], date[32] = "-";
    mode_string(e->mode, mode);
    if (e->mtime != VDISK_ISO_TIME_UNSET) {
        time_t t = (time_t)e->mtime;
        struct tm tm;
        if (gmtime_r(&t, &tm))
            strftime(date, sizeof(date), "%Y-%m-%d %H:%M", &tm);
    }
    printf("%s %3" PRIu32 " %5" PRIu32 " %5" PRIu32 " %12" PRIu64 " %s %s", mode, e->nlink, e->uid,
           e->gid, e->size, date, shown);
    if (e->link_target)
        printf(" -> %s", e->link_target);
    printf("\n");
}

static void
print_json(vv_json *j, const vdisk_iso_entry *e, const char *path)
{
    char mode[8];
    snprintf(mode, sizeof(mode), "%04o", e->mode & 07777);
    vv_json_object_begin(j, NULL);
    vv_json_string(j, "name", e->name);
    if (path)
        vv_json_string(j, "path", path);
    vv_json_string(j, "type", vv_iso_type_name(e->mode));
    vv_json_uint(j, "size", e->size);
    vv_json_string(j, "mode", mode);
    vv_json_uint(j, "nlink", e->nlink);
    vv_json_uint(j, "uid", e->uid);
    vv_json_uint(j, "gid", e->gid);
    if (e->mtime != VDISK_ISO_TIME_UNSET)
        vv_json_int(j, "mtime", e->mtime);
    if (e->link_target)
        vv_json_string(j, "target", e->link_target);
    if (e->zisofs)
        vv_json_bool(j, "zisofs", true);
    vv_json_array_begin(j, "extents");
    for (size_t i = 0; i < e->n_extents; i++) {
        vv_json_object_begin(j, NULL);
        vv_json_uint(j, "lba", e->extents[i].lba);
        vv_json_uint(j, "length", e->extents[i].length);
        vv_json_object_end(j);
    }
    vv_json_array_end(j);
    vv_json_object_end(j);
}

static void
show(ls_opts *o, const vdisk_iso_entry *e, const char *path)
{
    const char *shown = path ? path : e->name;
    if (o->json)
        print_json(&o->j, e, path);
    else if (o->longfmt)
        print_long(e, shown);
    else {
        fputs(shown, stdout);
        putchar('\n');
    }
}

/* Walk callback for -R: everything but the starting directory itself. */
static int
show_walked(void *opaque, const char *full, const vdisk_iso_entry *e)
{
    ls_opts *o = opaque;
    if (strcmp(e->name, "/") != 0)
        show(o, e, full);
    return 0;
}

static int
parse_args(int argc, char **argv, ls_opts *o)
{
    static const struct option longopts[] = {
        { "help", no_argument, NULL, 'h' },
        { "long", no_argument, NULL, 'l' },
        { "recursive", no_argument, NULL, 'R' },
        { "json", no_argument, NULL, OPT_JSON },
        { "names", required_argument, NULL, OPT_NAMES },
        { "path-table", no_argument, NULL, OPT_PATH_TABLE },
        { "el-torito", no_argument, NULL, OPT_EL_TORITO },
        { NULL, 0, NULL, 0 },
    };
    int c;
    while ((c = getopt_long(argc, argv, ":hlR", longopts, NULL)) != -1) {
        switch (c) {
        case 'h': return vv_command_help("iso-ls");
        case 'l': o->longfmt = true; break;
        case 'R': o->recursive = true; break;
        case OPT_JSON: o->json = true; break;
        case OPT_NAMES: o->names = optarg; break;
        case OPT_PATH_TABLE: o->path_table = true; break;
        case OPT_EL_TORITO: o->el_torito = true; break;
        default: return vv_getopt_fail(c, argv);
        }
    }
    if (optind >= argc || argc - optind > 2)
        return vv_usage_error("Expecting an ISO image file name and at most one path in it");
    if ((o->path_table || o->el_torito) && (argc - optind > 1 || o->recursive || o->longfmt ||
                                            (o->path_table && o->el_torito)))
        return vv_usage_error("--path-table and --el-torito take only the image (and --json, --names)");
    return -1;
}

static const char *
platform_name(uint8_t p, char *buf, size_t len)
{
    switch (p) {
    case 0x00: return "BIOS";
    case 0x01: return "PPC";
    case 0x02: return "Mac";
    case 0xEF: return "UEFI";
    default: snprintf(buf, len, "0x%2.2x", p); return buf;
    }
}

static const char *
media_name(uint8_t m)
{
    static const char *const names[] = { "none", "fd1.2", "fd1.4", "fd2.8", "hd" };
    return m < 5 ? names[m] : "?";
}

/* --el-torito: the boot catalog, in xorriso -report_el_torito plain rows. */
static int
show_el_torito(ls_opts *o, vdisk_iso *iso, vdisk_error *err)
{
    vdisk_iso_boot_entry *v;
    size_t n;
    int r = vdisk_iso_get_boot(iso, &v, &n, err);
    if (r < 0)
        return r;
    for (size_t i = 0; i < n; i++) {
        char pb[8];
        const char *plat = platform_name(v[i].platform, pb, sizeof(pb));
        if (!o->json) {
            printf("El Torito boot img : %3zu  %4s  %c  %5s  0x%4.4x  0x%2.2x  %5u  %10u\n", i + 1, plat,
                   v[i].bootable ? 'y' : 'n', media_name(v[i].media), v[i].load_segment,
                   v[i].system_type, v[i].sector_count, v[i].lba);
            continue;
        }
        vv_json_object_begin(&o->j, NULL);
        vv_json_string(&o->j, "platform", plat);
        vv_json_bool(&o->j, "bootable", v[i].bootable);
        vv_json_string(&o->j, "emulation", media_name(v[i].media));
        vv_json_uint(&o->j, "load-segment", v[i].load_segment);
        vv_json_uint(&o->j, "system-type", v[i].system_type);
        vv_json_uint(&o->j, "load-size", v[i].sector_count);
        vv_json_uint(&o->j, "lba", v[i].lba);
        vv_json_object_end(&o->j);
    }
    free(v);
    return 0;
}

/* --path-table: the table's directories, isoinfo -p style or JSON. */
static int
show_path_table(ls_opts *o, vdisk_iso *iso, vdisk_error *err)
{
    vdisk_iso_path_entry *v;
    size_t n;
    int r = vdisk_iso_get_path_table(iso, &v, &n, err);
    if (r < 0)
        return r;
    for (size_t i = 0; i < n; i++) {
        if (!o->json) {
            printf("%4zu: %4u %x %s\n", i + 1, v[i].parent, v[i].lba, v[i].name);
            continue;
        }
        vv_json_object_begin(&o->j, NULL);
        vv_json_uint(&o->j, "number", i + 1);
        vv_json_uint(&o->j, "parent", v[i].parent);
        vv_json_uint(&o->j, "lba", v[i].lba);
        vv_json_string(&o->j, "name", v[i].name);
        vv_json_object_end(&o->j);
    }
    vdisk_iso_path_table_free(v, n);
    return 0;
}

/* iso-ls: list a directory of an ISO image, or the whole tree with -R. */
int
cmd_iso_ls(int argc, char **argv)
{
    ls_opts o = { 0 };
    int ret = parse_args(argc, argv, &o);
    if (ret >= 0)
        return ret;
    const char *file = argv[optind];
    const char *path = optind + 1 < argc ? argv[optind + 1] : "/";
    vdisk_iso *iso;
    if (vv_iso_open(file, o.names, &iso) < 0)
        return 1;
    vdisk_error err = { 0 };
    vdisk_iso_entry *v = NULL;
    size_t n = 0;
    if (o.json) {
        vv_json_init(&o.j, stdout);
        vv_json_array_begin(&o.j, NULL);
    }
    int r;
    if (o.path_table) {
        r = show_path_table(&o, iso, &err);
    } else if (o.el_torito) {
        r = show_el_torito(&o, iso, &err);
    } else if (o.recursive) {
        r = vdisk_iso_walk(iso, path, show_walked, &o, &err);
    } else {
        r = vdisk_iso_list(iso, path, &v, &n, &err);
        for (size_t i = 0; r == 0 && i < n; i++)
            show(&o, &v[i], NULL);
        vdisk_iso_entries_free(v, n);
    }
    if (o.json) {
        vv_json_array_end(&o.j);
        vv_json_finish(&o.j);
    }
    vdisk_iso_close(iso);
    if (r < 0) {
        vv_report_file(&err, file);
        return 1;
    }
    return 0;
}
