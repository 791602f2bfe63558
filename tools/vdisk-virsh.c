/* vdisk-virsh — command-line companion of libvdisk: image commands with
 * qemu-img's grammar, output formats and exit codes.
 *
 *   vdisk-virsh [--help | --version] COMMAND [OPTIONS...] ARGS...
 *
 * This file holds only the command table and the dispatcher; every command
 * lives in its own cmd-*.c.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include <vdisk/vdisk.h>

#include "commands.h"
#include "options.h"

static const vv_command commands[] = {
    { "create", cmd_create,
      "create -f FMT [-o OPTIONS] [-b BACKING -F BACKING_FMT] [-q] FILE [SIZE]",
      "create a new image (raw: sparse, falloc or full; qcow2 with any option)" },
    { "info", cmd_info,
      "info [-f FMT] [--output human|json] [--backing-chain] [-U] FILE",
      "show an image's format, sizes and format-specific information" },
    { "convert", cmd_convert,
      "convert [-f FMT] [-O OUTPUT_FMT] [-o OPTIONS] [-c] [-p] [-m N] [-q] [-U] [-t CACHE] SRC DST",
      "copy an image into a new image of any format, keeping it sparse" },
    { "map", cmd_map,
      "map [-f FMT] [--output human|json] [-s START] [-l LENGTH] [-U] FILE",
      "show where the image's data is stored, through the backing chain" },
    { "compare", cmd_compare,
      "compare [-f FMT] [-F FMT] [-s] [-p] [-q] [-U] A B",
      "compare guest-visible content (exit 0 identical, 1 different, >1 error)" },
    { "measure", cmd_measure,
      "measure [-O OUTPUT_FMT] [-o OPTIONS] [-f FMT] [--output human|json] [-U] (--size SIZE | SRC)",
      "compute the space a new image needs" },
    { "bench", cmd_bench,
      "bench [-f FMT] [-w] [-c COUNT] [-d DEPTH] [-s SIZE] [-S STEP] [-o OFFSET] [-t CACHE]\n"
      "          [--pattern sequential|random|BYTE] [--fill BYTE] [--seed N] [--flush-interval N] [-q] [-U] FILE",
      "measure I/O performance with parallel requests (as qemu-img bench)" },
    { "iso-ls", cmd_iso_ls,
      "iso-ls [-l] [-R] [--json] [--names auto|rock|joliet|iso] FILE.iso [PATH]\n"
      "          iso-ls --path-table [--json] [--names ...] FILE.iso\n"
      "          iso-ls --el-torito [--json] FILE.iso",
      "list a directory of an ISO image (-R: the whole tree, one path per line)" },
    { "iso-extract", cmd_iso_extract,
      "iso-extract [--names auto|rock|joliet|iso] FILE.iso [PATH ...] [-C DIR]",
      "extract files from an ISO image below DIR (never writing outside it)" },
    { "iso-create", cmd_iso_create,
      "iso-create -o OUT.iso [-V VOLID] [--no-joliet] [--no-rock] [--boot IMG [--boot-no-emul]\n"
      "          [--boot-load-size N] [--boot-info-table]] [--efi-boot IMG] [--date EPOCH] [--cidata]\n"
      "          PATH|SRC=DEST ...",
      "build an ISO 9660 image (Rock Ridge + Joliet, El Torito boot, cloud-init seeds)" },
};

#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static const vv_command *
find_command(const char *name)
{
    for (size_t i = 0; i < N_COMMANDS; i++)
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    return NULL;
}

int
vv_command_help(const char *name)
{
    const vv_command *c = find_command(name);
    if (c)
        printf("usage: " VV_PROG " %s\n\n  %s\n", c->synopsis, c->summary);
    return 0;
}

static void
help(void)
{
    printf("usage: " VV_PROG " [--help | --version] COMMAND [OPTIONS...] ARGS...\n\n"
           "Disk image commands with qemu-img's grammar (libvdisk %s).\n\nCommands:\n",
           VDISK_VERSION_STRING);
    for (size_t i = 0; i < N_COMMANDS; i++)
        printf("  %s\n      %s\n", commands[i].synopsis, commands[i].summary);
    printf("\nSizes take the suffixes k, M, G, T, P, E (powers of 1024).\n"
           "Formats: raw, qcow2, iso (read-only; build with iso-create).  Run '" VV_PROG " COMMAND -h' for one command.\n");
}

int
main(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "help", no_argument, NULL, 'h' },
        { "version", no_argument, NULL, 'V' },
        { NULL, 0, NULL, 0 },
    };
    int c;
    signal(SIGPIPE, SIG_IGN);
    opterr = 0;
    /* '+': stop at the command name; its options are the command's. */
    while ((c = getopt_long(argc, argv, "+:hV", longopts, NULL)) != -1) {
        switch (c) {
        case 'h':
            help();
            return 0;
        case 'V':
            printf(VV_PROG " version %s\n", VDISK_VERSION_STRING);
            return 0;
        default:
            return vv_getopt_fail(c, argv);
        }
    }
    if (optind >= argc)
        return vv_usage_error("Not enough arguments: expected a command");
    const vv_command *cmd = find_command(argv[optind]);
    if (cmd == NULL && strcmp(argv[optind], "help") == 0) {
        if (optind + 1 < argc && find_command(argv[optind + 1]))
            return vv_command_help(argv[optind + 1]);
        help();
        return 0;
    }
    if (!cmd)
        return vv_usage_error("Command not found: %s", argv[optind]);
    int first = optind;
    vv_getopt_reset();
    return cmd->handler(argc - first, argv + first);
}
