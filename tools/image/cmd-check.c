/* vdisk-virsh check — consistency check and repair of an image, as
 * `qemu-img check`: the same findings on stderr, the same summary (human or
 * JSON, same field names and order), the same repair and double check, and
 * the same exit status:
 *    0 clean, 1 check not completed, 2 corruptions, 3 leaks only,
 *   63 the format has nothing to check (raw).
 *
 *   check [-r leaks|all] [-q] [-U] [-T CACHE] [--output human|json] [-f FMT]
 *         [--object secret,id=ID,file=PATH] [--passphrase-file PATH | --passphrase-fd N]
 *         [--image-opts] FILE
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "images.h"
#include "options.h"
#include "output.h"
#include "secrets.h"

enum { OPT_OUTPUT = 256 };

#define EXIT_CLEAN 0
#define EXIT_FAILED 1
#define EXIT_CORRUPT 2
#define EXIT_LEAKS 3
#define EXIT_UNSUPPORTED 63

struct check_args {
    const char *fmt;
    const char *file;
    unsigned fix;
    unsigned flags;
    bool quiet;
    vv_output output;
    vv_secrets secrets;     /* --object secret, --passphrase-*, --image-opts */
};

/* Each finding goes to stderr as qemu-img prints it. */
static void
report_line(void *opaque, const char *line)
{
    (void)opaque;
    fprintf(stderr, "%s\n", line);
}

static void
dump_human(const vdisk_check_result *c)
{
    if (!(c->corruptions || c->leaks || c->check_errors)) {
        printf("No errors were found on the image.\n");
    } else {
        if (c->corruptions)
            printf("\n%" PRIu64 " errors were found on the image.\nData may be corrupted, or "
                   "further writes to the image may corrupt it.\n", c->corruptions);
        if (c->leaks)
            printf("\n%" PRIu64 " leaked clusters were found on the image.\nThis means waste of "
                   "disk space, but no harm to data.\n", c->leaks);
        if (c->check_errors)
            printf("\n%" PRIu64 " internal errors have occurred during the check.\n",
                   c->check_errors);
    }
    if (c->total_clusters && c->allocated_clusters)
        printf("%" PRIu64 "/%" PRIu64 " = %0.2f%% allocated, %0.2f%% fragmented, %0.2f%% "
               "compressed clusters\n", c->allocated_clusters, c->total_clusters,
               c->allocated_clusters * 100.0 / c->total_clusters,
               c->fragmented_clusters * 100.0 / c->allocated_clusters,
               c->compressed_clusters * 100.0 / c->allocated_clusters);
    if (c->image_end_offset)
        printf("Image end offset: %" PRIu64 "\n", c->image_end_offset);
}

/* qemu-img prints the fields in the order of its QDict's hash buckets;
 * optional counts appear only when non-zero. */
static void
dump_json(const vdisk_check_result *c, const char *file, const char *format)
{
    vv_json j;
    vv_json_init(&j, stdout);
    vv_json_object_begin(&j, NULL);
    if (c->image_end_offset)
        vv_json_uint(&j, "image-end-offset", c->image_end_offset);
    if (c->compressed_clusters)
        vv_json_uint(&j, "compressed-clusters", c->compressed_clusters);
    if (c->total_clusters)
        vv_json_uint(&j, "total-clusters", c->total_clusters);
    if (c->corruptions)
        vv_json_uint(&j, "corruptions", c->corruptions);
    if (c->corruptions_fixed)
        vv_json_uint(&j, "corruptions-fixed", c->corruptions_fixed);
    vv_json_uint(&j, "check-errors", c->check_errors);
    if (c->leaks)
        vv_json_uint(&j, "leaks", c->leaks);
    if (c->leaks_fixed)
        vv_json_uint(&j, "leaks-fixed", c->leaks_fixed);
    if (c->allocated_clusters)
        vv_json_uint(&j, "allocated-clusters", c->allocated_clusters);
    vv_json_string(&j, "filename", file);
    vv_json_string(&j, "format", format);
    if (c->fragmented_clusters)
        vv_json_uint(&j, "fragmented-clusters", c->fragmented_clusters);
    vv_json_object_end(&j);
    vv_json_finish(&j);
}

/* Parse the command line; returns -1 to go on, else an exit status. */
static int
parse_args(int argc, char **argv, struct check_args *a)
{
    static const struct option longopts[] = {
        { "format", required_argument, NULL, 'f' },
        { "repair", required_argument, NULL, 'r' },
        { "output", required_argument, NULL, OPT_OUTPUT },
        { "force-share", no_argument, NULL, 'U' },
        { NULL, 0, NULL, 0 },
    };
    const char *out_name = NULL;
    int c;
    while ((c = vv_image_getopt(argc, argv, ":hf:r:T:qU", longopts, &a->secrets)) != -1) {
        if (c == VV_GETOPT_FAILED)
            return EXIT_FAILED;
        switch (c) {
        case 'h': return vv_command_help("check");
        case 'f': a->fmt = optarg; break;
        case 'r':
            a->flags |= VDISK_OPEN_RDWR;
            if (strcmp(optarg, "leaks") == 0)
                a->fix = VDISK_CHECK_FIX_LEAKS;
            else if (strcmp(optarg, "all") == 0)
                a->fix = VDISK_CHECK_FIX_LEAKS | VDISK_CHECK_FIX_ERRORS;
            else
                return vv_usage_error("Unknown option value for -r (expecting 'leaks' or 'all'): "
                                      "%s", optarg);
            break;
        case 'T':   /* cache mode: none/directsync read with O_DIRECT */
            if (vv_parse_cache("cache", optarg, &a->flags) < 0)
                return EXIT_FAILED;
            break;
        case 'q': a->quiet = true; break;
        case 'U': a->flags |= VDISK_OPEN_FORCE_SHARE; break;
        case OPT_OUTPUT: out_name = optarg; break;
        default: return vv_getopt_fail(c, argv);
        }
    }
    if (optind != argc - 1)
        return vv_usage_error("Expecting one image file name");
    a->file = argv[optind];
    if (vv_secrets_check_format(&a->secrets, a->fmt) < 0)
        return EXIT_FAILED;
    if (out_name && strcmp(out_name, "json") == 0) {
        a->output = VV_OUTPUT_JSON;
    } else if (out_name && strcmp(out_name, "human") != 0) {
        vv_error("--output must be used with human or json as argument.");
        return 1;
    }
    return -1;
}

/* Repair, then check again and keep the repair's "fixed" counts. */
static int
repair_and_recheck(vdisk_image *img, const struct check_args *a, vdisk_check_result *res,
                   vdisk_error *err)
{
    if (a->output == VV_OUTPUT_HUMAN && !a->quiet)
        printf("The following inconsistencies were found and repaired:\n\n"
               "    %" PRIu64 " leaked clusters\n    %" PRIu64 " corruptions\n\n"
               "Double checking the fixed image now...\n", res->leaks_fixed,
               res->corruptions_fixed);
    uint64_t leaks_fixed = res->leaks_fixed, corruptions_fixed = res->corruptions_fixed;
    int r = vdisk_check(img, vv_as_qemu_img() ? VDISK_CHECK_QEMU_LINES : 0, res, report_line, NULL,
                        NULL, err);
    res->leaks_fixed = leaks_fixed;
    res->corruptions_fixed = corruptions_fixed;
    return r;
}

static int
run_check(vdisk_image *img, const struct check_args *a)
{
    vdisk_check_result res;
    vdisk_error err = { 0 };
    /* as qemu-img: only the findings qemu-img reports */
    unsigned flags = a->fix | (vv_as_qemu_img() ? VDISK_CHECK_QEMU_LINES : 0);
    int r = vdisk_check(img, flags, &res, report_line, NULL, NULL, &err);
    if (r == -ENOTSUP) {
        vv_error("This image format does not support checks");
        return EXIT_UNSUPPORTED;
    }
    if (r == 0 && (res.corruptions_fixed || res.leaks_fixed))
        r = repair_and_recheck(img, a, &res, &err);
    if (r == 0 && !a->quiet) {
        if (a->output == VV_OUTPUT_JSON)
            dump_json(&res, a->file, vdisk_format_name(vdisk_get_format(img)));
        else
            dump_human(&res);
    }
    if (r < 0 || res.check_errors) {
        if (r < 0)
            vv_error("Check failed: %s", err.message[0] ? err.message : strerror(-r));
        else
            vv_error("Check failed");
        return EXIT_FAILED;
    }
    return res.corruptions ? EXIT_CORRUPT : res.leaks ? EXIT_LEAKS : EXIT_CLEAN;
}

/* check: find (and with -r repair) inconsistencies in an image's metadata. */
int
cmd_check(int argc, char **argv)
{
    struct check_args a = { .output = VV_OUTPUT_HUMAN, .flags = VDISK_OPEN_CHECK };
    int ret = parse_args(argc, argv, &a);
    vdisk_image *img;
    if (ret < 0 && vv_open_secure(a.file, a.fmt, a.flags, &a.secrets, &img) < 0)
        ret = EXIT_FAILED;
    if (ret < 0) {
        ret = run_check(img, &a);
        if (vv_close_image(img, ret != EXIT_FAILED) < 0)
            ret = EXIT_FAILED;
    }
    vv_secrets_clear(&a.secrets);
    return ret;
}
