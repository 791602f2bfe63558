/* vdisk-virsh rebase — change an overlay's backing file, as `qemu-img rebase`.
 *
 *   rebase [-f FMT] [-t CACHE] [-T SRC_CACHE] [-p] [-q] [-u] [-U] [--object secret,id=ID,file=PATH]
 *          [--passphrase-file PATH | --passphrase-fd N] [--image-opts] -b BACKING [-F FMT] FILE
 *
 * Safe mode (default) copies into the overlay whatever reads differently
 * through the new backing file, so the guest sees the same disk; -u only
 * rewrites the header.  -b "" removes the backing file.  As qemu-img 7.2,
 * a new backing file needs its format (-F).  Prints nothing on success.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "images.h"
#include "options.h"
#include "secrets.h"
#include "progress.h"

typedef struct rebase_args {
    const char *fmt, *backing, *backing_fmt, *file;
    bool unsafe, progress, quiet, force_share;
    unsigned flags;         /* -t: the overlay's cache mode (O_DIRECT or not) */
    vv_secrets secrets;     /* --object secret, --passphrase-*, --image-opts */
} rebase_args;

static int
parse_args(int argc, char **argv, rebase_args *a)
{
    static const struct option longopts[] = {
        { "force-share", no_argument, NULL, 'U' },
        { NULL, 0, NULL, 0 },
    };
    int c;
    while ((c = vv_image_getopt(argc, argv, ":hf:F:b:upt:T:qU", longopts, &a->secrets)) != -1) {
        if (c == VV_GETOPT_FAILED)
            return 1;
        switch (c) {
        case 'h': return vv_command_help("rebase");
        case 'f': a->fmt = optarg; break;
        case 'F': a->backing_fmt = optarg; break;
        case 'b': a->backing = optarg; break;
        case 'u': a->unsafe = true; break;
        case 'p': a->progress = true; break;
        case 't':   /* the overlay's cache mode */
            if (vv_parse_cache("cache", optarg, &a->flags) < 0)
                return 1;
            break;
        case 'T': {   /* the backing files' cache mode */
            unsigned direct = 0;
            if (vv_parse_cache("source cache", optarg, &direct) < 0)
                return 1;
            if (direct) {
                vv_error("-T %s is not supported by rebase: the backing files are read through "
                         "the page cache (writeback, writethrough or unsafe)", optarg);
                return 1;
            }
            break;
        }
        case 'q': a->quiet = true; break;
        case 'U': a->force_share = true; break;
        default: return vv_getopt_fail(c, argv);
        }
    }
    if (optind != argc - 1)
        return vv_usage_error("Expecting one image file name");
    a->file = argv[optind];
    if (!a->unsafe && !a->backing)
        return vv_usage_error("Must specify backing file (-b) or use unsafe mode (-u)");
    return vv_secrets_check_format(&a->secrets, a->fmt) < 0 ? 1 : -1;
}

/* QEMU's drivers for host block devices: qemu-img rebase -u records them
 * as a backing format; vdisk records them too (it opens block devices as
 * raw, so it cannot open such a chain itself). */
static bool
qemu_device_driver(const char *name)
{
    return strcmp(name, "host_device") == 0 || strcmp(name, "host_cdrom") == 0;
}

/* The new backing format; errors printed. */
static int
backing_format(const rebase_args *a, vdisk_format *fmt)
{
    *fmt = VDISK_FORMAT_UNKNOWN;
    if (a->unsafe && a->backing && *a->backing && a->backing_fmt && qemu_device_driver(a->backing_fmt))
        return 0;   /* recorded by name: rebase_image */
    if (a->backing_fmt && vdisk_format_from_name(a->backing_fmt, fmt, NULL) < 0) {
        vv_error("Invalid format name: '%s'", a->backing_fmt);
        return -1;
    }
    if (a->backing && *a->backing && *fmt == VDISK_FORMAT_UNKNOWN) {
        vv_error("Could not change the backing file to '%s': backing format must be specified",
                 a->backing);
        return -1;
    }
    return 0;
}

/* Rebase an opened overlay and close it; returns the exit status. */
static int
rebase_image(vdisk_image *img, const rebase_args *a, vdisk_format fmt)
{
    vv_progress prog;
    vv_progress_init(&prog, a->progress && !a->quiet, 1.0);
    vdisk_error err = { 0 };
    /* as qemu-img, what differs is copied as data even where it is zeros
     * (its users' scripts may read the allocation map) */
    unsigned flags = (a->unsafe ? VDISK_REBASE_UNSAFE : 0) |
                     (vv_as_qemu_img() ? VDISK_REBASE_ZEROS_AS_DATA : 0);
    int r = fmt == VDISK_FORMAT_UNKNOWN && a->unsafe && a->backing && *a->backing && a->backing_fmt
            ? vdisk_rebase_unsafe_named(img, a->backing, a->backing_fmt, &err)
            : vdisk_rebase(img, a->backing, fmt, flags, vv_progress_cb, &prog, &err);
    vv_progress_end(&prog, r == 0);
    if (r < 0)
        vv_report_file(&err, vdisk_get_filename(img));
    return vv_close_image(img, r == 0) < 0 || r < 0 ? 1 : 0;
}

/* rebase: point an overlay at a new backing file. */
int
cmd_rebase(int argc, char **argv)
{
    rebase_args a = { 0 };
    int ret = parse_args(argc, argv, &a);
    vdisk_format fmt;
    if (ret < 0 && backing_format(&a, &fmt) < 0)
        ret = 1;
    vdisk_image *img;
    unsigned flags = VDISK_OPEN_RDWR | a.flags | (a.unsafe ? VDISK_OPEN_NO_BACKING : 0);
    if (ret < 0 && vv_open_secure(a.file, a.fmt, flags, &a.secrets, &img) < 0)
        ret = 1;
    if (ret < 0)
        ret = rebase_image(img, &a, fmt);
    vv_secrets_clear(&a.secrets);
    return ret;
}
