/* vdisk-virsh as mkisofs / genisoimage: iso-create with their grammar, for
 * scripts written for them (virt-install, cloud-init seeds, distribution
 * remasters).  Used when the program is run as `mkisofs` or `genisoimage`
 * (argv[0], e.g. a symlink) and by `iso-create --mkisofs ...`.
 *
 *   mkisofs -o OUT.iso [-V VOLID] [-J] [-R | -r] [-input-charset utf8]
 *           [-b BOOT -c CATALOG [-no-emul-boot] [-boot-load-size N]
 *            [-boot-info-table]] [-eltorito-alt-boot -e EFI -no-emul-boot]
 *           [-graft-points] [-quiet] PATH|DEST=SRC ...
 *
 * As in mkisofs, Joliet and Rock Ridge are off unless asked for, -b/-c/-e
 * name paths inside the image (the boot image must be one of its files),
 * and with -graft-points an argument DEST=SRC puts SRC at DEST ("\=" is a
 * literal '=').  Options of mkisofs that vdisk does not implement are
 * refused by name, never ignored.
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
    OPT_NO_EMUL = 256, OPT_LOAD_SIZE, OPT_INFO_TABLE, OPT_ALT_BOOT, OPT_GRAFT, OPT_CHARSET,
    OPT_QUIET, OPT_HELP,
};

/* What the command line asked for beyond vdisk_iso_create_opts. */
typedef struct mkisofs_req {
    const char *out;
    const char *boot_path;      /* -b: path in the image */
    const char *efi_path;       /* -e: path in the image */
    bool graft_points;
    bool efi_no_emul;           /* -no-emul-boot after -eltorito-alt-boot */
    bool alt;                   /* after -eltorito-alt-boot */
} mkisofs_req;

static const struct option mkisofs_opts[] = {
    { "o", required_argument, NULL, 'o' },
    { "V", required_argument, NULL, 'V' },
    { "J", no_argument, NULL, 'J' },
    { "joliet", no_argument, NULL, 'J' },
    { "R", no_argument, NULL, 'R' },
    { "rock", no_argument, NULL, 'R' },
    { "r", no_argument, NULL, 'r' },
    { "rational-rock", no_argument, NULL, 'r' },
    { "b", required_argument, NULL, 'b' },
    { "eltorito-boot", required_argument, NULL, 'b' },
    { "c", required_argument, NULL, 'c' },
    { "eltorito-catalog", required_argument, NULL, 'c' },
    { "e", required_argument, NULL, 'e' },
    { "efi-boot", required_argument, NULL, 'e' },
    { "no-emul-boot", no_argument, NULL, OPT_NO_EMUL },
    { "boot-load-size", required_argument, NULL, OPT_LOAD_SIZE },
    { "boot-info-table", no_argument, NULL, OPT_INFO_TABLE },
    { "eltorito-alt-boot", no_argument, NULL, OPT_ALT_BOOT },
    { "graft-points", no_argument, NULL, OPT_GRAFT },
    { "input-charset", required_argument, NULL, OPT_CHARSET },
    { "quiet", no_argument, NULL, OPT_QUIET },
    { "help", no_argument, NULL, OPT_HELP },
    { NULL, 0, NULL, 0 },
};

static int
usage(void)
{
    printf("Usage: mkisofs [options] -o file.iso PATH|DEST=SRC ...  (vdisk-virsh iso-create --mkisofs)\n"
           "  -o FILE                 write the image to FILE (required: no output to stdout)\n"
           "  -V ID                   volume id (default CDROM)\n"
           "  -J, -joliet             Joliet names (Windows)\n"
           "  -R, -rock               Rock Ridge with each file's owner and permissions\n"
           "  -r, -rational-rock      Rock Ridge, owners 0 and permissions made readable\n"
           "  -input-charset CS       file names are read as UTF-8: only utf8/utf-8 are accepted\n"
           "  -b PATH                 El Torito BIOS boot image: PATH is a file of the image\n"
           "  -c PATH                 the boot catalog, as a file of the image at PATH\n"
           "  -no-emul-boot           no emulation (else floppy emulation by size)\n"
           "  -boot-load-size N       512-byte sectors to load (with -no-emul-boot)\n"
           "  -boot-info-table        patch the boot info table into the boot image's copy\n"
           "  -eltorito-alt-boot      start the next boot entry (-e, then -no-emul-boot)\n"
           "  -e PATH                 El Torito UEFI boot image: PATH is a file of the image\n"
           "  -graft-points           arguments DEST=SRC put SRC at DEST (\\= is a literal =)\n"
           "  -quiet                  print nothing but errors (vdisk prints nothing anyway)\n");
    return 0;
}

/* The boot entry options: -no-emul-boot and the rest apply to the
 * current entry (BIOS before -eltorito-alt-boot, EFI after). */
static int
boot_option(int c, const char *arg, mkisofs_req *q, vdisk_iso_create_opts *o)
{
    unsigned long n;
    if (c == OPT_NO_EMUL) {
        if (q->alt)
            q->efi_no_emul = true;
        else
            o->boot_no_emul = true;
        return 0;
    }
    if (q->alt)
        return vv_usage_error("-%s after -eltorito-alt-boot: vdisk sets it for the BIOS entry only",
                              c == OPT_LOAD_SIZE ? "boot-load-size" : "boot-info-table");
    if (c == OPT_INFO_TABLE) {
        o->boot_info_table = true;
        return 0;
    }
    if (vv_parse_ulong(arg, 65535, &n) < 0 || n == 0)
        return vv_usage_error("Invalid -boot-load-size '%s': expected 1 to 65535 (512-byte sectors)", arg);
    o->boot_load_size = (unsigned)n;
    return 0;
}

/* Options into q and o; 0, or the exit status to return (> 0). */
static int
parse(int argc, char **argv, mkisofs_req *q, vdisk_iso_create_opts *o)
{
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long_only(argc, argv, "+:", mkisofs_opts, NULL)) != -1) {
        int r = 0;
        switch (c) {
        case 'o': q->out = optarg; break;
        case 'V': o->volume_id = optarg; break;
        case 'J': o->joliet = true; break;
        case 'R': o->rock_ridge = true; o->keep_owner_modes = true; break;
        case 'r': o->rock_ridge = true; o->keep_owner_modes = false; break;
        case 'b': q->boot_path = optarg; break;
        case 'c': o->boot_catalog = optarg; break;
        case 'e':
            if (!q->alt)
                return vv_usage_error("-e names the entry after -eltorito-alt-boot: put that first");
            q->efi_path = optarg;
            break;
        case OPT_ALT_BOOT: q->alt = true; break;
        case OPT_GRAFT: q->graft_points = true; break;
        case OPT_QUIET: break;   /* vdisk prints no progress: nothing to quieten */
        case OPT_HELP: usage(); return -2;
        case OPT_CHARSET:
            if (strcasecmp(optarg, "utf8") != 0 && strcasecmp(optarg, "utf-8") != 0)
                return vv_usage_error("-input-charset %s: vdisk reads file names as UTF-8 only", optarg);
            break;
        case OPT_NO_EMUL: case OPT_LOAD_SIZE: case OPT_INFO_TABLE:
            r = boot_option(c, optarg, q, o);
            break;
        case ':':
            return vv_usage_error("option '%s' needs a value", argv[optind - 1]);
        default:
            return vv_usage_error("mkisofs option '%s' is not implemented by vdisk "
                                  "(see `vdisk-virsh iso-create --mkisofs -help`)", argv[optind - 1]);
        }
        if (r)
            return r;
    }
    if (!q->out)
        return vv_usage_error("-o FILE is required (vdisk does not write an image to standard output)");
    if (optind >= argc)
        return vv_usage_error("Expecting at least one file or directory to put in the image");
    if (q->efi_path && !q->efi_no_emul)
        return vv_usage_error("-e %s: vdisk writes the EFI entry with no emulation: add -no-emul-boot after it",
                              q->efi_path);
    if ((o->boot_no_emul || o->boot_load_size || o->boot_info_table) && !q->boot_path)
        return vv_usage_error("-no-emul-boot, -boot-load-size and -boot-info-table need -b");
    if (o->boot_catalog && !q->boot_path && !q->efi_path)
        return vv_usage_error("-c %s: there is no boot image (-b or -e) to catalog", o->boot_catalog);
    if ((q->boot_path || q->efi_path) && !o->boot_catalog)
        return vv_usage_error("El Torito needs the boot catalog's path in the image: add -c (e.g. -c boot.cat)");
    return 0;
}

/* A graft point DEST=SRC in place: "\=" is a literal '=' (mkisofs). */
static void
graft(char *arg, vdisk_iso_source *s)
{
    char *w = arg, *eq = NULL;
    for (char *r = arg; *r; r++) {
        if (r[0] == '\\' && r[1] == '=') {
            *w++ = '=';
            r++;
        } else if (*r == '=' && !eq) {
            *w++ = '\0';
            eq = w;
        } else {
            *w++ = *r;
        }
    }
    *w = '\0';
    s->dest = eq ? arg : NULL;
    s->src = eq ? eq : arg;
}

/* The host file that is `path` of the image the sources make, or NULL. */
static char *
host_file(const vdisk_iso_source *v, size_t n, const char *path)
{
    while (*path == '/')
        path++;
    for (size_t i = n; i-- > 0;) {
        const char *dest = v[i].dest ? v[i].dest : "";
        while (*dest == '/')
            dest++;
        size_t dl = strlen(dest);
        while (dl && dest[dl - 1] == '/')
            dl--;
        struct stat st;
        char *cand = NULL;
        if (stat(v[i].src, &st) == 0 && S_ISDIR(st.st_mode)) {
            /* A directory's contents go to dest: path below dest is a file of it. */
            const char *rel = dl == 0 ? path
                            : strncmp(path, dest, dl) == 0 && path[dl] == '/' ? path + dl + 1 : NULL;
            if (rel && asprintf(&cand, "%s/%s", v[i].src, rel) < 0)
                cand = NULL;
        } else {
            const char *base = strrchr(v[i].src, '/');
            base = base ? base + 1 : v[i].src;
            bool hit = dl ? (strncmp(path, dest, dl) == 0 && path[dl] == '\0') ||
                            (dest[strlen(dest) - 1] == '/' && strncmp(path, dest, dl) == 0 &&
                             path[dl] == '/' && strcmp(path + dl + 1, base) == 0)
                          : strcmp(path, base) == 0;
            if (hit)
                cand = strdup(v[i].src);
        }
        if (cand && stat(cand, &st) == 0 && S_ISREG(st.st_mode))
            return cand;
        free(cand);
    }
    return NULL;
}

/* Build the image, SOURCE_DATE_EPOCH honoured as iso-create does (and
 * xorriso's mkisofs). */
static int
build(const char *out, vdisk_iso_create_opts *o, const vdisk_iso_source *v, size_t n)
{
    const char *sde = getenv("SOURCE_DATE_EPOCH");
    unsigned long epoch;
    if (sde && *sde) {
        if (vv_parse_ulong(sde, 253402300799ul, &epoch) < 0) {
            vv_error("Invalid SOURCE_DATE_EPOCH '%s': expected seconds since 1970-01-01", sde);
            return 1;
        }
        o->fixed_date = true;
        o->date = (int64_t)epoch;
    }
    vdisk_error err = { 0 };
    if (vdisk_iso_create(out, o, v, n, NULL, NULL, &err) < 0) {
        vv_report_file(&err, out);
        return 1;
    }
    return 0;
}

/* iso-create --mkisofs / mkisofs / genisoimage. */
int
cmd_mkisofs(int argc, char **argv)
{
    vdisk_iso_create_opts o;
    vdisk_iso_create_opts_init(&o);
    o.joliet = o.rock_ridge = false;
    mkisofs_req q = { 0 };
    int r = parse(argc, argv, &q, &o);
    if (r)
        return r == -2 ? 0 : r;
    size_t n = (size_t)(argc - optind);
    vdisk_iso_source *v = calloc(n, sizeof(*v));
    char *boot = NULL, *efi = NULL;
    r = 1;
    if (!v) {
        vv_error("out of memory");
        return 1;
    }
    for (size_t i = 0; i < n; i++) {
        if (q.graft_points)
            graft(argv[optind + i], &v[i]);
        else
            v[i].src = argv[optind + i];
    }
    if (q.boot_path && !(boot = host_file(v, n, q.boot_path)))
        vv_error("-b %s: no such file in the image (mkisofs's -b names a file of the image)", q.boot_path);
    else if (q.efi_path && !(efi = host_file(v, n, q.efi_path)))
        vv_error("-e %s: no such file in the image (mkisofs's -e names a file of the image)", q.efi_path);
    else {
        o.boot_image = boot;
        o.efi_boot_image = efi;
        r = build(q.out, &o, v, n);
    }
    free(boot);
    free(efi);
    free(v);
    return r;
}
