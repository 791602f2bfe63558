/* vdisk-virsh iso-create — build an ISO 9660 image.
 *
 *   iso-create -o OUT.iso [-V VOLID] [--no-joliet] [--no-rock]
 *       [--boot IMG [--boot-no-emul] [--boot-load-size N] [--boot-info-table]]
 *       [--efi-boot IMG]
 *       [--date EPOCH] [--cidata] PATH|SRC=DEST ...
 *
 * A directory PATH contributes its contents to the root; a file PATH goes
 * to /basename; SRC=DEST puts SRC at DEST (a directory's contents into
 * DEST).  Rock Ridge and Joliet are on unless turned off.  Without --date,
 * SOURCE_DATE_EPOCH is honoured as reproducible-builds.org specifies.
 * --cidata makes a cloud-init NoCloud seed: volume id "cidata", and the
 * sources must include user-data and meta-data.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "commands.h"
#include "options.h"

enum {
    OPT_JOLIET = 256, OPT_NO_JOLIET, OPT_ROCK, OPT_NO_ROCK, OPT_BOOT, OPT_BOOT_NO_EMUL,
    OPT_BOOT_LOAD_SIZE, OPT_EFI_BOOT, OPT_DATE, OPT_CIDATA, OPT_BOOT_INFO_TABLE,
};

static int
parse_epoch(const char *what, const char *text, int64_t *out)
{
    unsigned long v;
    if (vv_parse_ulong(text, 253402300799ul, &v) < 0) {
        vv_error("Invalid %s '%s': expected seconds since 1970-01-01 (0 to 253402300799)", what, text);
        return -EINVAL;
    }
    *out = (int64_t)v;
    return 0;
}

static int
parse_args(int argc, char **argv, vdisk_iso_create_opts *o, const char **out, bool *cidata)
{
    static const struct option longopts[] = {
        { "help", no_argument, NULL, 'h' },
        { "output", required_argument, NULL, 'o' },
        { "volid", required_argument, NULL, 'V' },
        { "joliet", no_argument, NULL, OPT_JOLIET },
        { "no-joliet", no_argument, NULL, OPT_NO_JOLIET },
        { "rock", no_argument, NULL, OPT_ROCK },
        { "no-rock", no_argument, NULL, OPT_NO_ROCK },
        { "boot", required_argument, NULL, OPT_BOOT },
        { "boot-no-emul", no_argument, NULL, OPT_BOOT_NO_EMUL },
        { "boot-load-size", required_argument, NULL, OPT_BOOT_LOAD_SIZE },
        { "boot-info-table", no_argument, NULL, OPT_BOOT_INFO_TABLE },
        { "efi-boot", required_argument, NULL, OPT_EFI_BOOT },
        { "date", required_argument, NULL, OPT_DATE },
        { "cidata", no_argument, NULL, OPT_CIDATA },
        { NULL, 0, NULL, 0 },
    };
    unsigned long n;
    int c;
    while ((c = getopt_long(argc, argv, ":ho:V:", longopts, NULL)) != -1) {
        switch (c) {
        case 'h': return vv_command_help("iso-create");
        case 'o': *out = optarg; break;
        case 'V': o->volume_id = optarg; break;
        case OPT_JOLIET: o->joliet = true; break;
        case OPT_NO_JOLIET: o->joliet = false; break;
        case OPT_ROCK: o->rock_ridge = true; break;
        case OPT_NO_ROCK: o->rock_ridge = false; break;
        case OPT_BOOT: o->boot_image = optarg; break;
        case OPT_BOOT_NO_EMUL: o->boot_no_emul = true; break;
        case OPT_BOOT_INFO_TABLE: o->boot_info_table = true; break;
        case OPT_EFI_BOOT: o->efi_boot_image = optarg; break;
        case OPT_CIDATA: *cidata = true; break;
        case OPT_BOOT_LOAD_SIZE:
            if (vv_parse_ulong(optarg, 65535, &n) < 0 || n == 0) {
                vv_error("Invalid --boot-load-size '%s': expected 1 to 65535 (512-byte sectors)", optarg);
                return 1;
            }
            o->boot_load_size = (unsigned)n;
            break;
        case OPT_DATE:
            if (parse_epoch("--date", optarg, &o->date) < 0)
                return 1;
            o->fixed_date = true;
            break;
        default: return vv_getopt_fail(c, argv);
        }
    }
    if (!*out)
        return vv_usage_error("Expecting an output file (-o OUT.iso)");
    if (optind >= argc)
        return vv_usage_error("Expecting at least one file or directory to put in the image");
    if ((o->boot_no_emul || o->boot_load_size || o->boot_info_table) && !o->boot_image)
        return vv_usage_error("--boot-no-emul, --boot-load-size and --boot-info-table need --boot IMG");
    if (o->boot_info_table && !o->boot_no_emul)
        return vv_usage_error("--boot-info-table needs --boot-no-emul");
    if (o->boot_load_size && !o->boot_no_emul)
        return vv_usage_error("--boot-load-size needs --boot-no-emul");
    const char *sde = getenv("SOURCE_DATE_EPOCH");
    if (!o->fixed_date && sde && *sde) {
        if (parse_epoch("SOURCE_DATE_EPOCH", sde, &o->date) < 0)
            return 1;
        o->fixed_date = true;
    }
    return -1;
}

/* PATH or SRC=DEST (an existing file whose name holds '=' is a PATH). */
static void
split_source(char *arg, vdisk_iso_source *s)
{
    struct stat st;
    char *eq = strchr(arg, '=');
    s->src = arg;
    s->dest = NULL;
    if (eq && stat(arg, &st) < 0) {
        *eq = '\0';
        s->dest = eq + 1;
    }
}

/* The image name a source ends up with at the root (for --cidata checks). */
static const char *
root_name(const vdisk_iso_source *s)
{
    const char *p = s->dest ? s->dest : s->src;
    while (*p == '/')
        p++;
    if (s->dest)
        return p;
    const char *sl = strrchr(p, '/');
    return sl ? sl + 1 : p;
}

static int
check_cidata(const vdisk_iso_source *v, size_t n)
{
    bool ud = false, md = false;
    for (size_t i = 0; i < n; i++) {
        ud |= strcmp(root_name(&v[i]), "user-data") == 0;
        md |= strcmp(root_name(&v[i]), "meta-data") == 0;
    }
    if (!ud || !md) {
        vv_error("--cidata: a NoCloud seed needs files named user-data and meta-data "
                 "(rename with SRC=user-data)");
        return -EINVAL;
    }
    return 0;
}

/* iso-create: build an image from files and directories. */
int
cmd_iso_create(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--mkisofs") == 0)
        return cmd_mkisofs(argc - 1, argv + 1);
    vdisk_iso_create_opts o;
    vdisk_iso_create_opts_init(&o);
    const char *out = NULL;
    bool cidata = false;
    int ret = parse_args(argc, argv, &o, &out, &cidata);
    if (ret >= 0)
        return ret;
    size_t n = (size_t)(argc - optind);
    vdisk_iso_source *v = calloc(n, sizeof(*v));
    if (!v) {
        vv_error("out of memory");
        return 1;
    }
    for (size_t i = 0; i < n; i++)
        split_source(argv[optind + i], &v[i]);
    if (cidata) {
        o.volume_id = "cidata";
        o.joliet = o.rock_ridge = true;
        if (check_cidata(v, n) < 0) {
            free(v);
            return 1;
        }
    }
    vdisk_error err = { 0 };
    int r = vdisk_iso_create(out, &o, v, n, NULL, NULL, &err);
    free(v);
    if (r < 0) {
        vv_report_file(&err, out);
        return 1;
    }
    return 0;
}
