/* vdisk-virsh sparsify — thick -> thin in place: ranges that read as zeros
 * give their host space back (raw: punched; qcow2: clusters dropped, their
 * space freed), as virt-sparsify --in-place does without a guest
 * (vdisk/provision.h).  Without --zero-detect only what reads zeros by
 * metadata and host layout (reserved, unwritten space) is taken; with it,
 * the data is read and all-zero blocks and clusters go too.
 *
 *   sparsify [--zero-detect] [--truncate] [--dry-run] [-p] [-q] [-f FMT]
 *            [--output human|json] FILE
 */
#include <getopt.h>

#include "commands.h"
#include "provisioning.h"

enum { OPT_ZERO_DETECT = 256, OPT_TRUNCATE, OPT_DRY_RUN, OPT_OUTPUT };

/* Parse the command line; returns -1 to go on, else an exit status. */
static int
parse_args(int argc, char **argv, vv_provision_args *a)
{
    static const struct option longopts[] = {
        { "help", no_argument, NULL, 'h' },
        { "format", required_argument, NULL, 'f' },
        { "zero-detect", no_argument, NULL, OPT_ZERO_DETECT },
        { "truncate", no_argument, NULL, OPT_TRUNCATE },
        { "dry-run", no_argument, NULL, OPT_DRY_RUN },
        { "output", required_argument, NULL, OPT_OUTPUT },
        { NULL, 0, NULL, 0 },
    };
    int c;
    while ((c = getopt_long(argc, argv, ":f:hpq", longopts, NULL)) != -1) {
        switch (c) {
        case 'f': a->fmt = optarg; break;
        case 'h': return vv_command_help("sparsify");
        case 'p': a->progress = true; break;
        case 'q': a->quiet = true; break;
        case OPT_ZERO_DETECT: a->flags |= VDISK_SPARSIFY_ZERO_DETECT; break;
        case OPT_TRUNCATE: a->flags |= VDISK_SPARSIFY_TRUNCATE; break;
        case OPT_DRY_RUN: a->flags |= VDISK_PROVISION_DRY_RUN; break;
        case OPT_OUTPUT:
            if (vv_parse_output(optarg, &a->output) < 0)
                return 1;
            break;
        default: return vv_getopt_fail(c, argv);
        }
    }
    if (optind != argc - 1)
        return vv_usage_error("Expecting one image file name");
    a->file = argv[optind];
    return -1;
}

/* sparsify: give back the space of ranges that read as zeros. */
int
cmd_sparsify(int argc, char **argv)
{
    vv_provision_args a = { .op = VV_PROVISION_SPARSIFY };
    int ret = parse_args(argc, argv, &a);
    return ret >= 0 ? ret : vv_provision_run(&a);
}
