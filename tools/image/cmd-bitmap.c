/* vdisk-virsh bitmap — persistent dirty bitmaps of a qcow2 image, as
 * `qemu-img bitmap`.
 *
 *   bitmap (--merge SOURCE | --add | --remove | --clear | --enable | --disable)...
 *          [-b SOURCE_FILE [-F SOURCE_FMT]] [-g GRANULARITY] [-f FMT]
 *          [--object secret,... | --passphrase-file PATH | --passphrase-fd N]
 *          [--image-opts] FILE BITMAP
 *
 * As qemu-img, --image-opts names FILE with options (driver=qcow2,
 * file.filename=...; SOURCE_FILE stays a file name), and encrypted images
 * take their passphrase from --object secret (key-secret= in the options).
 * The operations run in the order given; the first failure stops them
 * (what ran before it is kept) with "Operation OP on bitmap NAME failed".
 * Exit status 0 on success, 1 on any error, as qemu-img.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "images.h"
#include "options.h"
#include "secrets.h"

enum { OPT_ADD = 256, OPT_REMOVE, OPT_CLEAR, OPT_ENABLE, OPT_DISABLE, OPT_MERGE };

struct args {
    vdisk_bitmap_op *ops;
    size_t nops;
    bool add, merge;
    uint64_t granularity;
    const char *fmt, *src_file, *src_fmt;
    vv_secrets secrets;     /* --object, --passphrase-*, --image-opts */
};

static const char *
verb(vdisk_bitmap_action a)
{
    static const char *const names[] = { "add", "remove", "clear", "enable", "disable", "merge" };
    return names[a];
}

static void
push(struct args *a, vdisk_bitmap_action act, const char *src)
{
    a->ops[a->nops++] = (vdisk_bitmap_op){ .action = act, .src_name = src };
}

/* One option; returns -1 to go on, else an exit status. */
static int
option(struct args *a, int c, char **argv)
{
    if (c == VV_GETOPT_FAILED)
        return 1;
    switch (c) {
    case OPT_ADD: push(a, VDISK_BITMAP_ADD, NULL); a->add = true; break;
    case OPT_REMOVE: push(a, VDISK_BITMAP_REMOVE, NULL); break;
    case OPT_CLEAR: push(a, VDISK_BITMAP_CLEAR, NULL); break;
    case OPT_ENABLE: push(a, VDISK_BITMAP_ENABLE, NULL); break;
    case OPT_DISABLE: push(a, VDISK_BITMAP_DISABLE, NULL); break;
    case OPT_MERGE: push(a, VDISK_BITMAP_MERGE, optarg); a->merge = true; break;
    case 'b': a->src_file = optarg; break;
    case 'F': a->src_fmt = optarg; break;
    case 'f': a->fmt = optarg; break;
    case 'g':
        if (vv_parse_size("granularity", optarg, &a->granularity) < 0)
            return 1;
        break;
    case 'h': return vv_command_help("bitmap");
    case 'q': break;
    default: return vv_getopt_fail(c, argv);
    }
    return -1;
}

/* Parse the command line; returns -1 to go on, else an exit status. */
static int
parse_args(int argc, char **argv, struct args *a)
{
    static const struct option longopts[] = {
        { "add", no_argument, NULL, OPT_ADD },
        { "remove", no_argument, NULL, OPT_REMOVE },
        { "clear", no_argument, NULL, OPT_CLEAR },
        { "enable", no_argument, NULL, OPT_ENABLE },
        { "disable", no_argument, NULL, OPT_DISABLE },
        { "merge", required_argument, NULL, OPT_MERGE },
        { "granularity", required_argument, NULL, 'g' },
        { "source-file", required_argument, NULL, 'b' },
        { "source-format", required_argument, NULL, 'F' },
        { NULL, 0, NULL, 0 },
    };
    int c;
    while ((c = vv_image_getopt(argc, argv, ":b:f:F:g:hq", longopts, &a->secrets)) != -1) {
        int r = option(a, c, argv);
        if (r >= 0)
            return r;
    }
    if (a->nops == 0)
        return vv_usage_error("Need at least one of --add, --remove, --clear, --enable, "
                              "--disable, or --merge");
    if (a->granularity && !a->add)
        return vv_usage_error("granularity only supported with --add");
    if (a->src_fmt && !a->src_file)
        return vv_usage_error("-F only supported with -b");
    if (a->src_file && !a->merge)
        return vv_usage_error("Merge bitmap source file only supported with --merge");
    if (optind != argc - 2)
        return vv_usage_error("Expecting filename and bitmap name");
    if (vv_secrets_check_format(&a->secrets, a->fmt) < 0)
        return 1;
    return -1;
}

static int
run(vdisk_image *img, struct args *a, const char *name, vdisk_image *src)
{
    for (size_t i = 0; i < a->nops; i++) {
        vdisk_bitmap_op *op = &a->ops[i];
        vdisk_error err = { 0 };
        op->name = name;
        op->src = src;
        /* (--add --disable adds, then disables, as qemu-img; a granularity
         * too large for 32 bits is refused as not a valid power of 2.) */
        if (op->action == VDISK_BITMAP_ADD)
            op->granularity = a->granularity > UINT32_MAX ? 3 : (uint32_t)a->granularity;
        int r = vdisk_bitmap(img, op, &err);
        if (r < 0) {
            vv_error("Operation %s on bitmap %s failed: %s", verb(op->action), name,
                     err.message[0] ? err.message : strerror(-r));
            return 1;
        }
    }
    return 0;
}

/* bitmap: add, remove, clear, enable, disable or merge dirty bitmaps. */
int
cmd_bitmap(int argc, char **argv)
{
    struct args a = { .ops = calloc((size_t)argc + 1, sizeof(vdisk_bitmap_op)) };
    if (!a.ops) {
        vv_error("out of memory");
        return 1;
    }
    int ret = parse_args(argc, argv, &a);
    vdisk_image *img = NULL, *src = NULL;
    if (ret < 0 && vv_open_secure(argv[optind], a.fmt, VDISK_OPEN_RDWR, &a.secrets, &img) < 0)
        ret = 1;
    vv_secrets plain = a.secrets;   /* the source: a file name, as qemu-img 7.2 */
    plain.image_opts = false;
    if (ret < 0 && a.src_file && vv_open_secure(a.src_file, a.src_fmt, 0, &plain, &src) < 0)
        ret = 1;
    if (ret < 0)
        ret = run(img, &a, argv[optind + 1], src);
    if (src)
        vdisk_close(src, NULL);
    if (img && vv_close_image(img, ret <= 0) < 0)
        ret = 1;
    free(a.ops);
    vv_secrets_clear(&a.secrets);
    return ret < 0 ? 0 : ret;
}
