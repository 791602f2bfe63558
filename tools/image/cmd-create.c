/* vdisk-virsh create — make a new image, as `qemu-img create`.
 *
 *   create -f raw|qcow2 [-o key=val,...] [-b BACKING -F FMT] [-u] [-q] FILE [SIZE]
 *
 * Prints qemu-img's "Formatting '...'" line (unless -q).  As qemu-img 7.2, a
 * backing file needs its format named (-F or backing_fmt): recording a
 * probed format is how a guest could make the host open any file.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "createopts.h"
#include "images.h"
#include "options.h"
#include "secrets.h"

typedef struct create_args {
    const char *fmt;
    const char *backing;
    const char *backing_fmt;
    char *options;          /* accumulated -o */
    bool quiet;
    bool no_backing_open;   /* -u: do not open the backing file */
    const char *file;
    const char *size;
    vv_secrets secrets;     /* --object secret, --passphrase-file/fd */
} create_args;

/* Parse the command line into *a; returns -1 to go on, else an exit status. */
static int
parse_args(int argc, char **argv, create_args *a)
{
    static const struct option longopts[] = {
        { NULL, 0, NULL, 0 },
    };
    int c;
    while ((c = vv_image_getopt(argc, argv, ":F:b:f:ho:qu", longopts, &a->secrets)) != -1) {
        if (c == VV_GETOPT_FAILED)
            return 1;
        switch (c) {
        case 'F': a->backing_fmt = optarg; break;
        case 'b': a->backing = optarg; break;
        case 'f': a->fmt = optarg; break;
        case 'h': return vv_command_help("create");
        case 'o':
            if (vv_accumulate_opts(&a->options, optarg) < 0)
                return 1;
            break;
        case 'q': a->quiet = true; break;
        case 'u': a->no_backing_open = true; break;
        default: return vv_getopt_fail(c, argv);
        }
    }
    if (optind < argc)
        a->file = argv[optind++];
    if (optind < argc)
        a->size = argv[optind++];
    if (optind < argc)
        return vv_usage_error("Unexpected argument: %s", argv[optind]);
    return -1;
}

/* Open the backing file to learn its size (when none was given) and make
 * sure its format was named, as qemu-img does before formatting. */
static int
check_backing(vv_create_spec *s, const char *file, bool size_given, bool open_it)
{
    const char *backing = s->opts.backing_file;
    if (!open_it) {
        /* -u: as qemu-img, the backing file is recorded unopened (it may
         * not exist yet), so its format and the size must be given. */
        s->opts.backing_unchecked = true;
        if (!vv_create_spec_has(s, VV_KEY_BACKING_FMT)) {
            vv_error("%s: Backing file specified without backing format", file);
            return -EINVAL;
        }
        if (!size_given) {
            vv_error("%s: Image creation needs a size parameter", file);
            return -EINVAL;
        }
        return 0;
    }
    char *path = vdisk_resolve_backing_name(file, backing);
    if (!path) {
        vv_error("%s: out of memory", file);
        return -ENOMEM;
    }
    vdisk_error err = { 0 };
    vdisk_open_opts oo = { .format = s->opts.backing_format,
                           .flags = VDISK_OPEN_FORCE_SHARE | VDISK_OPEN_NO_BACKING | VDISK_OPEN_NO_KEY };
    vdisk_image *img;
    int r = vdisk_open(path, &oo, &img, &err);
    if (r < 0) {
        /* qemu-img's two lines: the cause, then "Could not open backing image." */
        vv_error("%s: %s\nCould not open backing image.", file, vv_error_detail(&err, path));
        free(path);
        return r;
    }
    if (!vv_create_spec_has(s, VV_KEY_BACKING_FMT)) {
        vv_error("%s: Backing file '%s' specified without backing format (detected format: %s; "
                 "name it with -F %s)", file, backing, vdisk_format_name(vdisk_get_format(img)),
                 vdisk_format_name(vdisk_get_format(img)));
        r = -EINVAL;
    } else if (!size_given) {
        s->opts.size = vdisk_get_size(img);
    }
    vdisk_close(img, NULL);
    free(path);
    return r;
}

/* Turn the arguments into creation options; errors are printed. */
static int
build_spec(const create_args *a, vv_create_spec *s)
{
    if (a->options && vv_create_spec_parse(s, a->options, a->file) < 0)
        return -EINVAL;
    if (vv_create_spec_check_legacy_aes(s, a->file) < 0)
        return -ENOTSUP;
    if (a->backing && vv_create_spec_set(s, "backing_file", a->backing, a->file) < 0)
        return -EINVAL;
    if (a->backing_fmt && vv_create_spec_set(s, "backing_fmt", a->backing_fmt, a->file) < 0)
        return -EINVAL;
    bool size_given = vv_create_spec_has(s, VV_KEY_SIZE);
    if (a->size) {
        if (size_given) {
            vv_error("%s: The image size must be specified only once", a->file);
            return -EINVAL;
        }
        if (vv_parse_size("image size", a->size, &s->opts.size) < 0)
            return -EINVAL;
        size_given = true;
    }
    if (vv_create_spec_has(s, VV_KEY_BACKING_FMT) && !s->opts.backing_file) {
        vv_error("%s: Backing format cannot be used without backing file", a->file);
        return -EINVAL;
    }
    /* qemu-img's checks of the name itself, before anything is opened */
    if (s->opts.backing_file && !s->opts.backing_file[0]) {
        vv_error("%s: Expected backing file name, got empty string", a->file);
        return -EINVAL;
    }
    if (s->opts.backing_file && strcmp(s->opts.backing_file, a->file) == 0) {
        vv_error("%s: Error: Trying to create an image with the same filename as the backing file",
                 a->file);
        return -EINVAL;
    }
    if (s->opts.backing_file &&
        (s->opts.format == VDISK_FORMAT_QCOW2 || s->opts.format == VDISK_FORMAT_VMDK)) {
        int r = check_backing(s, a->file, size_given, !a->no_backing_open);
        if (r < 0)
            return r;
    } else if (!size_given) {
        vv_error("%s: Image creation needs a size parameter", a->file);
        return -EINVAL;
    }
    return vv_secrets_for_create(&a->secrets, &s->opts, a->file) < 0 ? -EINVAL : 0;
}

/* Run as qemu-img: the refusals of qcow2 creation whose words differ from
 * vdisk's (qemu-img names the QAPI option version=v3 where vdisk names the
 * -o option compat=1.1); printed after the "Formatting" line, as qemu-img
 * does.  0, or -EINVAL with the error printed. */
static int
qemu_img_late_checks(const vv_create_spec *s, const char *file)
{
    if (s->late_error) {
        vv_error("%s", s->late_error);
        return -EINVAL;
    }
    const vdisk_create_opts *o = &s->opts;
    if (o->format != VDISK_FORMAT_QCOW2 || o->compat >= 3)
        return 0;
    if (o->lazy_refcounts) {
        vv_error("%s: Lazy refcounts only supported with compatibility level 1.1 and above "
                 "(use version=v3 or greater)", file);
        return -EINVAL;
    }
    if (o->refcount_bits != 16) {
        vv_error("%s: Different refcount widths than 16 bits require compatibility level 1.1 "
                 "or above (use version=v3 or greater)", file);
        return -EINVAL;
    }
    return 0;
}

/* create: make a new raw, qcow2, luks or vmdk image. */
int
cmd_create(int argc, char **argv)
{
    create_args a = { .fmt = "raw" };
    int ret = parse_args(argc, argv, &a);
    if (ret >= 0)
        goto out_args;
    ret = 1;
    vdisk_format fmt;
    if (vdisk_format_from_name(a.fmt, &fmt, NULL) < 0) {
        char list[128];
        vdisk_format_list_creatable(list, sizeof(list));
        vv_error("%s: Unknown file format '%s' (vdisk creates %s)", a.file ? a.file : "create", a.fmt, list);
        goto out_args;
    }
    if (vv_opts_want_help(a.options)) {
        ret = vv_create_spec_help(fmt, stdout) < 0;
        goto out_args;
    }
    if (!a.file) {
        ret = vv_usage_error("Expecting image file name");
        goto out_args;
    }
    vv_create_spec s;
    vv_create_spec_init(&s, fmt);
    if (build_spec(&a, &s) == 0) {
        if (!a.quiet) {
            vv_create_spec_print(&s, a.file, stdout);
            fflush(stdout);
        }
        vdisk_error err = { 0 };
        if (vv_as_qemu_img() && qemu_img_late_checks(&s, a.file) < 0)
            ;   /* printed */
        else if (vdisk_create(a.file, &s.opts, NULL, NULL, &err) < 0)
            vv_report_file(&err, a.file);
        else
            ret = 0;
    }
    vv_create_spec_clear(&s);
out_args:
    free(a.options);
    vv_secrets_clear(&a.secrets);
    return ret;
}
