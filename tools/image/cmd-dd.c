/* vdisk-virsh dd — copy an image block by block into a new image, as
 * `qemu-img dd` (and dd(1)'s operands):
 *
 *   dd [-f FMT] [-O OUTPUT_FMT] [-U] [--image-opts] [--object ...]
 *      [bs=BYTES] [count=BLOCKS] [skip=BLOCKS] if=INPUT of=OUTPUT
 *
 * As qemu-img 7.2: the output is created (format -O, raw by default) with
 * the input's size, or count*bs when that is smaller, minus skip*bs; then
 * [skip*bs, that end) of the input is read and written bs bytes at a time,
 * zeros included (dd copies bytes, it does not look for holes).  A skip
 * past the end makes an empty output and says so.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "createopts.h"
#include "images.h"
#include "options.h"
#include "secrets.h"

typedef struct dd_args {
    const char *fmt, *out_fmt;
    const char *in, *out;
    uint64_t bs, count, skip;
    bool have_count, have_skip;
    unsigned flags;
    vv_secrets secrets;
} dd_args;

/* One NAME=VALUE operand; 0, or prints the reason and returns -1. */
static int
parse_operand(const char *arg, dd_args *a)
{
    const char *eq = strchr(arg, '=');
    if (!eq) {
        vv_error("unrecognized operand %s", arg);
        return -1;
    }
    size_t n = (size_t)(eq - arg);
    const char *v = eq + 1;
    if (n == 2 && strncmp(arg, "if", 2) == 0)
        a->in = v;
    else if (n == 2 && strncmp(arg, "of", 2) == 0)
        a->out = v;
    else if (n == 2 && strncmp(arg, "bs", 2) == 0) {
        if (vv_parse_size("bs", v, &a->bs) < 0)
            return -1;
        if (a->bs < 1 || a->bs > INT32_MAX) {
            vv_error("Invalid bs specified. Must be between 1 and %d.", INT32_MAX);
            return -1;
        }
    } else if (n == 5 && strncmp(arg, "count", 5) == 0) {
        if (vv_parse_size("count", v, &a->count) < 0)
            return -1;
        a->have_count = true;
    } else if (n == 4 && strncmp(arg, "skip", 4) == 0) {
        if (vv_parse_size("skip", v, &a->skip) < 0)
            return -1;
        a->have_skip = true;
    } else {
        vv_error("unrecognized operand %.*s", (int)n, arg);
        return -1;
    }
    return 0;
}

/* Parse the command line; returns -1 to go on, else an exit status. */
static int
parse_args(int argc, char **argv, dd_args *a)
{
    static const struct option longopts[] = {
        { "force-share", no_argument, NULL, 'U' },
        { NULL, 0, NULL, 0 },
    };
    int c;
    while ((c = vv_image_getopt(argc, argv, ":hf:O:U", longopts, &a->secrets)) != -1) {
        if (c == VV_GETOPT_FAILED)
            return 1;
        switch (c) {
        case 'h': return vv_command_help("dd");
        case 'f': a->fmt = optarg; break;
        case 'O': a->out_fmt = optarg; break;
        case 'U': a->flags |= VDISK_OPEN_FORCE_SHARE; break;
        default: return vv_getopt_fail(c, argv);
        }
    }
    for (int i = optind; i < argc; i++)
        if (parse_operand(argv[i], a) < 0)
            return 1;
    if (!a->in || !a->out) {
        vv_error("Must specify both input and output files");
        return 1;
    }
    return -1;
}

/* The output's size and where reading starts, by qemu-img's arithmetic. */
static void
geometry(const dd_args *a, uint64_t in_size, uint64_t *end, uint64_t *start, bool *past_end)
{
    *end = in_size;
    if (a->have_count && a->count <= INT64_MAX / a->bs && a->count * a->bs < *end)
        *end = a->count * a->bs;
    *past_end = a->have_skip && (a->skip > INT64_MAX / a->bs || *end < a->skip * a->bs);
    *start = *past_end ? *end : a->skip * a->bs;
}

/* Create the output of `size` bytes and open it for writing. */
static int
create_output(const dd_args *a, uint64_t size, vdisk_image **out)
{
    vdisk_format fmt;
    if (vv_parse_format(a->out_fmt, &fmt) < 0)
        return -1;
    vv_create_spec spec;
    vv_create_spec_init(&spec, fmt);
    spec.opts.size = size;
    vdisk_error err = { 0 };
    int r = vdisk_create(a->out, &spec.opts, NULL, NULL, &err);
    vv_create_spec_clear(&spec);
    if (r < 0) {
        vv_error("%s: error while creating output image: %s", a->out, err.message);
        return r;
    }
    vdisk_open_opts oo = { .format = fmt, .flags = VDISK_OPEN_RDWR };
    r = vdisk_open(a->out, &oo, out, &err);
    if (r < 0)
        vv_error("Could not open '%s': %s", a->out, err.message);
    return r;
}

/* Copy [start, end) of in to the start of out, bs bytes at a time. */
static int
copy_blocks(vdisk_image *in, vdisk_image *out, uint64_t bs, uint64_t start, uint64_t end)
{
    uint8_t *buf = malloc(bs);
    if (!buf) {
        vv_error("out of memory for a block of %" PRIu64 " bytes", bs);
        return -ENOMEM;
    }
    int r = 0;
    vdisk_error err = { 0 };
    for (uint64_t pos = start, opos = 0; r == 0 && pos < end; pos += bs, opos += bs) {
        uint64_t n = end - pos < bs ? end - pos : bs;
        r = vdisk_pread(in, buf, n, pos, &err);
        if (r < 0) {
            vv_error("error while reading from input image file: %s", err.message);
            break;
        }
        r = vdisk_pwrite(out, buf, n, opos, &err);
        if (r < 0)
            vv_error("error while writing to output image file: %s", err.message);
    }
    free(buf);
    return r;
}

/* dd: copy an image, or a part of it, into a new image. */
int
cmd_dd(int argc, char **argv)
{
    dd_args a = { .out_fmt = "raw", .bs = 512 };
    int ret = parse_args(argc, argv, &a);
    vdisk_image *in = NULL, *out = NULL;
    if (ret < 0 && vv_open_secure(a.in, a.fmt, a.flags, &a.secrets, &in) < 0)
        ret = 1;
    if (ret < 0) {
        uint64_t end, start;
        bool past_end;
        geometry(&a, vdisk_get_size(in), &end, &start, &past_end);
        ret = 1;
        if (create_output(&a, past_end ? 0 : end - start, &out) == 0) {
            if (past_end)
                vv_error("%s: cannot skip to specified offset", a.in);
            int r = copy_blocks(in, out, a.bs, start, end);
            ret = vv_close_image(out, r == 0) < 0 || r < 0 ? 1 : 0;
        }
        vdisk_close(in, NULL);
    }
    vv_secrets_clear(&a.secrets);
    return ret;
}
