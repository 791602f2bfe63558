/* vdisk-virsh resize — change an image's virtual size, as `qemu-img resize`.
 *
 *   resize [--shrink] [--preallocation=MODE] [-f FMT] [-q] [--object secret,id=ID,file=PATH]
 *          [--passphrase-file PATH | --passphrase-fd N] [--image-opts] FILE [+|-]SIZE
 *
 * As qemu-img, the size is taken from the end of the command line before the
 * options are parsed, so "-1G" is a size and not an option.  Shrinking needs
 * --shrink; preallocation is for growing only.  Prints "Image resized."
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "images.h"
#include "options.h"
#include "secrets.h"

enum { OPT_SHRINK = 256, OPT_PREALLOC };

typedef struct resize_args {
    const char *fmt;
    const char *file;
    const char *size;
    bool quiet, shrink;
    vdisk_prealloc prealloc;
    vv_secrets secrets;     /* --object secret, --passphrase-*, --image-opts */
} resize_args;

/* Parse the command line; returns -1 to go on, else an exit status. */
static int
parse_args(int argc, char **argv, resize_args *a)
{
    static const struct option longopts[] = {
        { "shrink", no_argument, NULL, OPT_SHRINK },
        { "preallocation", required_argument, NULL, OPT_PREALLOC },
        { NULL, 0, NULL, 0 },
    };
    if (argc == 2 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0))
        return vv_command_help("resize");
    if (argc < 3)
        return vv_usage_error("Not enough arguments");
    a->size = argv[--argc];
    int c;
    while ((c = vv_image_getopt(argc, argv, ":f:hq", longopts, &a->secrets)) != -1) {
        if (c == VV_GETOPT_FAILED)
            return 1;
        switch (c) {
        case 'f': a->fmt = optarg; break;
        case 'h': return vv_command_help("resize");
        case 'q': a->quiet = true; break;
        case OPT_SHRINK: a->shrink = true; break;
        case OPT_PREALLOC:
            if (vdisk_prealloc_from_name(optarg, &a->prealloc, NULL) < 0) {
                vv_error("Invalid preallocation mode '%s'", optarg);
                return 1;
            }
            break;
        default: return vv_getopt_fail(c, argv);
        }
    }
    if (optind != argc - 1)
        return vv_usage_error("Expecting image file name and size");
    a->file = argv[optind];
    return vv_secrets_check_format(&a->secrets, a->fmt) < 0 ? 1 : -1;
}

/* The new size from "[+|-]SIZE" and the current one; errors printed. */
static int
new_size(const resize_args *a, uint64_t cur, uint64_t *out)
{
    const char *s = a->size;
    int sign = *s == '+' ? 1 : *s == '-' ? -1 : 0;
    uint64_t n;
    if (vv_parse_size("size", sign ? s + 1 : s, &n) < 0)
        return -1;
    if (sign > 0 && n > (UINT64_C(1) << 63) - 1 - cur) {
        vv_error("%s: new size is too large", a->file);
        return -1;
    }
    *out = sign > 0 ? cur + n : sign < 0 ? (n >= cur ? 0 : cur - n) : n;
    if (*out == 0) {
        vv_error("New image size must be positive");
        return -1;
    }
    if (*out <= cur && a->prealloc != VDISK_PREALLOC_OFF) {
        vv_error("Preallocation can only be used for growing images");
        return -1;
    }
    if (*out < cur && !a->shrink) {
        vv_error("Use the --shrink option to perform a shrink operation.");
        fprintf(stderr, "%s: warning: Shrinking an image will delete all data beyond the "
                "shrunken image's end. Before performing such an operation, make sure there is "
                "no important data there.\n", vv_prog());
        return -1;
    }
    return 0;
}

/* Resize an opened image and close it; returns the exit status. */
static int
resize_image(vdisk_image *img, const resize_args *a)
{
    uint64_t size;
    if (new_size(a, vdisk_get_size(img), &size) < 0) {
        vdisk_close(img, NULL);
        return 1;
    }
    vdisk_error err = { 0 };
    int r = vdisk_resize(img, size, a->shrink, a->prealloc, NULL, NULL, &err);
    if (r < 0)
        vv_report_op(&err, vdisk_get_filename(img));
    if (vv_close_image(img, r == 0) < 0 || r < 0)
        return 1;
    if (!a->quiet)
        printf("Image resized.\n");
    return 0;
}

/* resize: grow or (with --shrink) shrink an image. */
int
cmd_resize(int argc, char **argv)
{
    resize_args a = { 0 };
    int ret = parse_args(argc, argv, &a);
    vdisk_image *img;
    if (ret < 0 && vv_open_secure(a.file, a.fmt, VDISK_OPEN_RDWR, &a.secrets, &img) < 0)
        ret = 1;
    if (ret < 0)
        ret = resize_image(img, &a);
    vv_secrets_clear(&a.secrets);
    return ret;
}
