/* vdisk-virsh inflate — thin -> thick in place: every guest byte of the
 * image's own layer gets host space, lazily zeroed (reserved) or, with
 * --eager, written with zeros (vdisk/provision.h).
 *
 *   inflate [--eager] [--dry-run] [-p] [-q] [-f FMT] [--output human|json] FILE
 */
#include <getopt.h>

#include "commands.h"
#include "provisioning.h"

enum { OPT_EAGER = 256, OPT_DRY_RUN, OPT_OUTPUT };

/* Parse the command line; returns -1 to go on, else an exit status. */
static int
parse_args(int argc, char **argv, vv_provision_args *a)
{
    static const struct option longopts[] = {
        { "help", no_argument, NULL, 'h' },
        { "format", required_argument, NULL, 'f' },
        { "eager", no_argument, NULL, OPT_EAGER },
        { "dry-run", no_argument, NULL, OPT_DRY_RUN },
        { "output", required_argument, NULL, OPT_OUTPUT },
        { NULL, 0, NULL, 0 },
    };
    int c;
    while ((c = getopt_long(argc, argv, ":f:hpq", longopts, NULL)) != -1) {
        switch (c) {
        case 'f': a->fmt = optarg; break;
        case 'h': return vv_command_help("inflate");
        case 'p': a->progress = true; break;
        case 'q': a->quiet = true; break;
        case OPT_EAGER: a->flags |= VDISK_INFLATE_EAGER; break;
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

/* inflate: give a thin image's own layer host space. */
int
cmd_inflate(int argc, char **argv)
{
    vv_provision_args a = { .op = VV_PROVISION_INFLATE };
    int ret = parse_args(argc, argv, &a);
    return ret >= 0 ? ret : vv_provision_run(&a);
}
