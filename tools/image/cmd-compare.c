/* vdisk-virsh compare — compare the guest-visible content of two images, as
 * `qemu-img compare`.
 *
 *   compare [-f FMT] [-F FMT] [-s] [-p] [-q] [-U] A B
 *
 * Exit status as qemu-img: 0 identical, 1 different, 2 an image could not
 * be opened, 4 an error while comparing; bad usage exits 1 like qemu-img.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>

#include "commands.h"
#include "images.h"
#include "options.h"
#include "secrets.h"
#include "progress.h"

enum {
    EXIT_IDENTICAL = 0,
    EXIT_DIFFERENT = 1,
    EXIT_OPEN_ERROR = 2,
    EXIT_COMPARE_ERROR = 4,
};

typedef struct compare_args {
    const char *fmt1, *fmt2;
    bool strict, progress, quiet;
    unsigned flags;
    vv_secrets secrets;
} compare_args;

/* Parse the command line; returns -1 to go on, else an exit status. */
static int
parse_args(int argc, char **argv, compare_args *a)
{
    static const struct option longopts[] = {
        { "force-share", no_argument, NULL, 'U' },
        { NULL, 0, NULL, 0 },
    };
    int c;
    while ((c = vv_image_getopt(argc, argv, ":hf:F:T:pqsU", longopts, &a->secrets)) != -1) {
        if (c == VV_GETOPT_FAILED)
            return EXIT_OPEN_ERROR;
        switch (c) {
        case 'h': return vv_command_help("compare");
        case 'f': a->fmt1 = optarg; break;
        case 'F': a->fmt2 = optarg; break;
        case 'T':   /* cache mode of both images: none/directsync read with O_DIRECT */
            if (vv_parse_cache("source cache", optarg, &a->flags) < 0)
                return EXIT_OPEN_ERROR;
            break;
        case 'p': a->progress = true; break;
        case 'q': a->quiet = true; break;
        case 's': a->strict = true; break;
        case 'U': a->flags |= VDISK_OPEN_FORCE_SHARE; break;
        default: return vv_getopt_fail(c, argv);
        }
    }
    if (optind != argc - 2)
        return vv_usage_error("Expecting two image file names");
    return -1;
}

/* Print qemu-img's verdict lines; returns the exit status. */
static int
report(const compare_args *a, const vdisk_compare_result *res, uint64_t size1, uint64_t size2)
{
    uint64_t common = size1 < size2 ? size1 : size2;
    if (a->strict && res->size_mismatch) {
        if (!a->quiet)
            printf("Strict mode: Image size mismatch!\n");
        return EXIT_DIFFERENT;
    }
    /* qemu-img warns about the size only once the common part matched. */
    bool warn = size1 != size2 && (res->identical || res->first_difference >= common);
    if (!a->quiet && warn)
        printf("Warning: Image size mismatch!\n");
    if (!res->identical) {
        if (a->quiet)
            return EXIT_DIFFERENT;
        if (res->status_mismatch)
            printf("Strict mode: Offset %" PRIu64 " block status mismatch!\n", res->first_difference);
        else
            printf("Content mismatch at offset %" PRIu64 "!\n", res->first_difference);
        return EXIT_DIFFERENT;
    }
    if (!a->quiet)
        printf("Images are identical.\n");
    return EXIT_IDENTICAL;
}

/* compare: are two images' contents the same? */
int
cmd_compare(int argc, char **argv)
{
    compare_args a = { 0 };
    int ret = parse_args(argc, argv, &a);
    if (ret >= 0) {
        vv_secrets_clear(&a.secrets);
        return ret;
    }
    const char *file1 = argv[optind], *file2 = argv[optind + 1];
    vdisk_image *img1 = NULL, *img2 = NULL;
    ret = EXIT_OPEN_ERROR;
    int opened = vv_open_secure(file1, a.fmt1, a.flags, &a.secrets, &img1) < 0 ||
                 vv_open_secure(file2, a.fmt2, a.flags, &a.secrets, &img2) < 0;
    vv_secrets_clear(&a.secrets);
    if (opened)
        goto out;
    vdisk_compare_result res = { 0 };
    uint64_t size1 = vdisk_get_size(img1), size2 = vdisk_get_size(img2);
    if (a.strict && size1 != size2) {
        /* Decided without reading a byte, as qemu-img does. */
        res.size_mismatch = true;
        ret = report(&a, &res, size1, size2);
        goto out;
    }
    vv_progress prog;
    vv_progress_init(&prog, a.progress && !a.quiet, 2.0);
    vdisk_error err = { 0 };
    int r = vdisk_compare(img1, img2, a.strict, vv_progress_cb, &prog, &res, &err);
    vv_progress_end(&prog, r == 0);
    if (r < 0) {
        vv_error("compare %s %s: %s", file1, file2, err.message);
        ret = EXIT_COMPARE_ERROR;
    } else {
        ret = report(&a, &res, size1, size2);
    }
out:
    vdisk_close(img1, NULL);
    vdisk_close(img2, NULL);
    return ret;
}
