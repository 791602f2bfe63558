/* vdisk-virsh inflate, eagerzero, sparsify — an image moved between the
 * provisioning kinds in place (vdisk/provision.h).  The three commands take
 * the same common options and differ only in their own flags, so they share
 * one parser driven by a table of those flags.
 *
 *   inflate   [--eager] [--dry-run] [-p] [-q] [-f FMT] [--output human|json] FILE
 *       thin -> thick: every guest byte of the image's own layer gets host
 *       space, lazily zeroed (reserved) or, with --eager, written with zeros.
 *   eagerzero [--dry-run] [-p] [-q] [-f FMT] [--output human|json] FILE
 *       lazy-zeroed -> eager-zeroed: space reserved but never written
 *       (unwritten extents, qcow2 zero clusters keeping their host cluster)
 *       gets real zeros; thin ranges stay thin (inflate --eager fills them).
 *   sparsify  [--zero-detect] [--truncate] [--dry-run] [-p] [-q] [-f FMT]
 *             [--output human|json] FILE
 *       thick -> thin: ranges that read as zeros give their host space back
 *       (raw: punched; qcow2: clusters dropped), as virt-sparsify --in-place
 *       does without a guest; without --zero-detect only what reads zeros by
 *       metadata and host layout is taken, with it all-zero data too.
 */
#include <getopt.h>

#include "commands.h"
#include "provisioning.h"

enum { OPT_DRY_RUN = 256, OPT_OUTPUT, OPT_OWN };

/* A flag of one command: its long option and the bit it sets. */
typedef struct provision_flag {
    const char *name;
    unsigned bit;
} provision_flag;

#define MAX_OWN_FLAGS 2

/* One command: its name, its operation and its own flags. */
typedef struct provision_cmd {
    const char *name;
    vv_provision_op op;
    provision_flag own[MAX_OWN_FLAGS];
} provision_cmd;

static const provision_cmd inflate_cmd = {
    "inflate", VV_PROVISION_INFLATE, { { "eager", VDISK_INFLATE_EAGER } },
};
static const provision_cmd eagerzero_cmd = {
    "eagerzero", VV_PROVISION_EAGERZERO, { { NULL, 0 } },
};
static const provision_cmd sparsify_cmd = {
    "sparsify", VV_PROVISION_SPARSIFY,
    { { "zero-detect", VDISK_SPARSIFY_ZERO_DETECT }, { "truncate", VDISK_SPARSIFY_TRUNCATE } },
};

/* Parse the command line; returns -1 to go on, else an exit status. */
static int
parse_args(const provision_cmd *cmd, int argc, char **argv, vv_provision_args *a)
{
    struct option longopts[5 + MAX_OWN_FLAGS] = {
        { "help", no_argument, NULL, 'h' },
        { "format", required_argument, NULL, 'f' },
        { "dry-run", no_argument, NULL, OPT_DRY_RUN },
        { "output", required_argument, NULL, OPT_OUTPUT },
    };
    int n = 4;
    for (int i = 0; i < MAX_OWN_FLAGS && cmd->own[i].name; i++)
        longopts[n++] = (struct option){ cmd->own[i].name, no_argument, NULL, OPT_OWN + i };
    int c;
    while ((c = getopt_long(argc, argv, ":f:hpq", longopts, NULL)) != -1) {
        if (c >= OPT_OWN && c < OPT_OWN + MAX_OWN_FLAGS) {
            a->flags |= cmd->own[c - OPT_OWN].bit;
            continue;
        }
        switch (c) {
        case 'f': a->fmt = optarg; break;
        case 'h': return vv_command_help(cmd->name);
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

static int
run(const provision_cmd *cmd, int argc, char **argv)
{
    vv_provision_args a = { .op = cmd->op };
    int ret = parse_args(cmd, argc, argv, &a);
    return ret >= 0 ? ret : vv_provision_run(&a);
}

/* inflate: give a thin image's own layer host space. */
int
cmd_inflate(int argc, char **argv)
{
    return run(&inflate_cmd, argc, argv);
}

/* eagerzero: write zeros into reserved, never-written space. */
int
cmd_eagerzero(int argc, char **argv)
{
    return run(&eagerzero_cmd, argc, argv);
}

/* sparsify: give back the space of ranges that read as zeros. */
int
cmd_sparsify(int argc, char **argv)
{
    return run(&sparsify_cmd, argc, argv);
}
