/* vdisk-virsh measure — how much space a new image needs, as `qemu-img measure`.
 *
 *   measure [-O FMT] [-o key=val,...] [-f FMT] [--output human|json] [-U]
 *           [-l SNAPSHOT] (--size SIZE | SRC)
 */
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
#include "output.h"

enum { OPT_OUTPUT = 256, OPT_SIZE };

typedef struct measure_args {
    const char *src_fmt, *out_fmt;
    char *options;
    vv_output output;
    bool size_given;
    uint64_t size;
    unsigned flags;
    const char *snapshot;   /* -l: measure this internal snapshot of SRC */
    const char *src;
    vv_secrets secrets;
} measure_args;

/* One option; returns -1 to go on, else an exit status. */
static int
take_option(int c, char **argv, measure_args *a)
{
    if (c == VV_GETOPT_FAILED)
        return 1;
    switch (c) {
    case 'h': return vv_command_help("measure");
    case 'f': a->src_fmt = optarg; break;
    case 'O': a->out_fmt = optarg; break;
    case 'o': return vv_accumulate_opts(&a->options, optarg) < 0 ? 1 : -1;
    case 'U': a->flags |= VDISK_OPEN_FORCE_SHARE; break;
    case 'l': a->snapshot = vv_snapshot_param(optarg); break;
    case OPT_OUTPUT: return vv_parse_output(optarg, &a->output) < 0 ? 1 : -1;
    case OPT_SIZE:
        if (vv_parse_size("image size", optarg, &a->size) < 0)
            return 1;
        a->size_given = true;
        break;
    default: return vv_getopt_fail(c, argv);
    }
    return -1;
}

/* Parse and cross-check the command line, with qemu-img's messages. */
static int
parse_args(int argc, char **argv, measure_args *a)
{
    static const struct option longopts[] = {
        { "output", required_argument, NULL, OPT_OUTPUT },
        { "size", required_argument, NULL, OPT_SIZE },
        { "force-share", no_argument, NULL, 'U' },
        { NULL, 0, NULL, 0 },
    };
    int c, r;
    while ((c = vv_image_getopt(argc, argv, ":hf:l:O:o:U", longopts, &a->secrets)) != -1)
        if ((r = take_option(c, argv, a)) >= 0)
            return r;
    if (argc - optind > 1)
        return (vv_error("At most one filename argument is allowed."), 1);
    if (argc - optind == 1)
        a->src = argv[optind];
    if (!a->src && (a->src_fmt || a->snapshot || a->secrets.image_opts))
        return (vv_error("--image-opts, -f, and -l require a filename argument."), 1);
    if (a->src && a->size_given)
        return (vv_error("--size N cannot be used together with a filename."), 1);
    if (!a->src && !a->size_given)
        return (vv_error("Either --size N or one filename must be specified."), 1);
    return -1;
}

/* qemu-img reports the size of the persistent dirty bitmaps a copy
 * would carry when both the target (qcow2 v3) and the source (qcow2) can
 * hold them. */
static bool
reports_bitmaps(const vdisk_create_opts *target, vdisk_image *src)
{
    return src && target->format == VDISK_FORMAT_QCOW2 && target->compat >= 3 &&
           vdisk_get_format(src) == VDISK_FORMAT_QCOW2;
}

static uint64_t
round_up(uint64_t v, uint64_t to)
{
    return (v + to - 1) / to * to;
}

/* Space for the source's bitmaps in a qcow2 target of cluster size cs, by
 * the qcow2 layout (docs/interop/qcow2.txt), every bitmap assumed fully
 * set as qemu-img assumes: its data clusters, its bitmap table (8 bytes a
 * cluster), and its directory entry (24 bytes and the name, in 8-byte
 * units), the directory in whole clusters. */
static int
bitmaps_size(vdisk_image *src, uint64_t cs, uint64_t *out)
{
    vdisk_info info;
    vdisk_error err = { 0 };
    if (vdisk_get_info(src, &info, &err) < 0) {
        vv_report_file(&err, vdisk_get_filename(src));
        return -1;
    }
    uint64_t size = 0, dir = 0;
    for (size_t i = 0; i < info.nbitmaps; i++) {
        uint64_t gran = info.bitmaps[i].granularity ? info.bitmaps[i].granularity : 1;
        uint64_t bits = (info.virtual_size + gran - 1) / gran;
        uint64_t clusters = ((bits + 7) / 8 + cs - 1) / cs;
        size += clusters * cs + round_up(clusters * 8, cs);
        dir += round_up(24 + strlen(info.bitmaps[i].name), 8);
    }
    *out = size + round_up(dir, cs);
    vdisk_info_clear(&info);
    return 0;
}

static void
print_result(const measure_args *a, const vdisk_measure *m, bool bitmaps, uint64_t bitmap_bytes)
{
    if (a->output == VV_OUTPUT_HUMAN) {
        printf("required size: %" PRIu64 "\n", m->required);
        printf("fully allocated size: %" PRIu64 "\n", m->fully_allocated);
        if (bitmaps)
            printf("bitmaps size: %" PRIu64 "\n", bitmap_bytes);
        return;
    }
    vv_json j;
    vv_json_init(&j, stdout);
    vv_json_object_begin(&j, NULL);
    if (bitmaps)
        vv_json_uint(&j, "bitmaps", bitmap_bytes);
    vv_json_uint(&j, "required", m->required);
    vv_json_uint(&j, "fully-allocated", m->fully_allocated);
    vv_json_object_end(&j);
    vv_json_finish(&j);
}

/* Measure with parsed arguments; returns the exit status. */
static int
run_measure(const measure_args *a, vdisk_format fmt)
{
    vv_create_spec spec;
    vv_create_spec_init(&spec, fmt);
    vdisk_image *src = NULL;
    int ret = 1;
    if (a->options && vv_create_spec_parse(&spec, a->options, NULL) < 0)
        goto out;
    if (vv_secrets_for_create(&a->secrets, &spec.opts, NULL) < 0)
        goto out;
    if (a->src && vv_open_secure_snapshot(a->src, a->src_fmt, a->flags, a->snapshot, &a->secrets,
                                          &src) < 0)
        goto out;
    if (a->size_given)
        spec.opts.size = a->size;
    else if (src)
        spec.opts.size = vdisk_get_size(src);
    vdisk_measure m;
    vdisk_error err = { 0 };
    if (vdisk_measure_image(&spec.opts, src, &m, &err) < 0) {
        if (a->src)
            vv_report_file(&err, a->src);
        else
            vv_report(&err);
        goto out;
    }
    bool bitmaps = reports_bitmaps(&spec.opts, src);
    uint64_t bitmap_bytes = 0;
    if (bitmaps && bitmaps_size(src, spec.opts.cluster_size, &bitmap_bytes) < 0)
        goto out;
    print_result(a, &m, bitmaps, bitmap_bytes);
    ret = 0;
out:
    vdisk_close(src, NULL);
    vv_create_spec_clear(&spec);
    return ret;
}

/* measure: the space an image of format -O would need. */
int
cmd_measure(int argc, char **argv)
{
    measure_args a = { .out_fmt = "raw", .output = VV_OUTPUT_HUMAN };
    int ret = parse_args(argc, argv, &a);
    if (ret < 0) {
        vdisk_format fmt;
        ret = 1;
        if (vv_parse_format(a.out_fmt, &fmt) == 0) {
            if (vv_opts_want_help(a.options)) {
                ret = vv_create_spec_help(fmt, stdout) < 0;
            } else {
                ret = run_measure(&a, fmt);
            }
        }
    }
    free(a.options);
    vv_secrets_clear(&a.secrets);
    return ret;
}
