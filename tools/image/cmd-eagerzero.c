/* vdisk-virsh eagerzero — lazy-zeroed -> eager-zeroed in place: space that
 * is reserved but was never written (unwritten extents, qcow2 zero clusters
 * keeping their host cluster) gets real zeros, so a guest's first write
 * there costs nothing more than a write (vdisk/provision.h).  Thin ranges
 * stay thin: inflate --eager fills them.
 *
 *   eagerzero [--dry-run] [-p] [-q] [-f FMT] [--output human|json] FILE
 */
#include <getopt.h>

#include "commands.h"
#include "provisioning.h"

enum { OPT_DRY_RUN = 256, OPT_OUTPUT };

/* Parse the command line; returns -1 to go on, else an exit status. */
static int
parse_args(int argc, char **argv, vv_provision_args *a)
{
    static const struct option longopts[] = {
        { "help", no_argument, NULL, 'h' },
        { "format", required_argument, NULL, 'f' },
        { "dry-run", no_argument, NULL, OPT_DRY_RUN },
        { "output", required_argument, NULL, OPT_OUTPUT },
        { NULL, 0, NULL, 0 },
    };
    int c;
    while ((c = getopt_long(argc, argv, ":f:hpq", longopts, NULL)) != -1) {
        switch (c) {
        case 'f': a->fmt = optarg; break;
        case 'h': return vv_command_help("eagerzero");
        case 'p': a->progress = true; break;
        case 'q': a->quiet = true; break;
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

/* eagerzero: write zeros over reserved, unwritten space. */
int
cmd_eagerzero(int argc, char **argv)
{
    vv_provision_args a = { .op = VV_PROVISION_EAGERZERO };
    int ret = parse_args(argc, argv, &a);
    return ret >= 0 ? ret : vv_provision_run(&a);
}
