/* vdisk-virsh — command-line companion of libvdisk: image commands with
 * qemu-img's grammar, output formats and exit codes.
 *
 *   vdisk-virsh [--help | --version] [-c URI] COMMAND [OPTIONS...] ARGS...
 *
 * This file holds only the command table and the dispatcher; every command
 * lives in its own cmd-*.c (image/) or, for the pool, volume and secret
 * commands, in the module common/store-module.h loads (virsh/).
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include <vdisk/vdisk.h>

#include "commands.h"
#include "options.h"
#include "store-module.h"

static const vv_command commands[] = {
    { "create", cmd_create, NULL,
      "create -f FMT [-o OPTIONS] [-b BACKING -F BACKING_FMT] [-q] FILE [SIZE]",
      "create a new image (raw: sparse, falloc or full; qcow2 with any option; luks)",
      vv_help_create },
    { "info", cmd_info, NULL,
      "info [-f FMT] [--output human|json] [--backing-chain] [-U] FILE",
      "show an image's format, sizes and format-specific information",
      vv_help_info },
    { "convert", cmd_convert, NULL,
      "convert [-f FMT] [-O OUTPUT_FMT] [-o OPTIONS] [-B BACKING [-F BACKING_FMT]] [-l SNAPSHOT] [-c]\n"
      "          [-n [--target-is-zero] [--target-image-opts]] [-S SPARSE_SIZE] [-r RATE] [-p] [-m N] [-W]\n"
      "          [-q] [-U] [-t CACHE] [-T SRC_CACHE] SRC DST",
      "copy an image into a new image of any format, keeping it sparse",
      vv_help_convert },
    { "dd", cmd_dd, NULL,
      "dd [-f FMT] [-O OUTPUT_FMT] [-U] [bs=BYTES] [count=BLOCKS] [skip=BLOCKS] if=INPUT of=OUTPUT",
      "copy an image (or part of it) block by block into a new image, as qemu-img dd",
      vv_help_dd },
    { "map", cmd_map, NULL,
      "map [-f FMT] [--output human|json] [-s START] [-l LENGTH] [-U] FILE\n"
      "          map [--bar [--width N]] [--picture FILE.png] [-f FMT] [--output human|json] [-s START] [-l LENGTH] [-U] FILE",
      "show where the image's data is stored, through the backing chain; --bar / --picture:\n"
      "      where this layer's space goes (data, reserved, zero, unallocated, compressed, backing)",
      vv_help_map },
    { "compare", cmd_compare, NULL,
      "compare [-f FMT] [-F FMT] [-s] [-p] [-q] [-U] A B",
      "compare guest-visible content (exit 0 identical, 1 different, >1 error)",
      vv_help_compare },
    { "measure", cmd_measure, NULL,
      "measure [-O OUTPUT_FMT] [-o OPTIONS] [-f FMT] [--output human|json] [-U] (--size SIZE | SRC)",
      "compute the space a new image needs",
      vv_help_measure },
    { "bench", cmd_bench, NULL,
      "bench [-f FMT] [-w] [-c COUNT] [-d DEPTH] [-s SIZE] [-S STEP] [-o OFFSET] [-t CACHE]\n"
      "          [--pattern sequential|random|BYTE] [--fill BYTE] [--seed N] [--flush-interval N] [-q] [-U] FILE",
      "measure I/O performance with parallel requests (as qemu-img bench)",
      vv_help_bench },
    { "check", cmd_check, NULL,
      "check [-r leaks|all] [-q] [-U] [--output human|json] [-f FMT] FILE",
      "check an image's metadata (exit 0 clean, 2 corrupt, 3 leaks) and repair it",
      vv_help_check },
    { "snapshot", cmd_snapshot, NULL,
      "snapshot [-l | -a SNAPSHOT | -c SNAPSHOT | -d SNAPSHOT] [-q] [-U] FILE",
      "list, create, apply or delete internal snapshots of a qcow2 image",
      vv_help_snapshot },
    { "bitmap", cmd_bitmap, NULL,
      "bitmap (--merge SOURCE | --add | --remove | --clear | --enable | --disable)... "
      "[-b SOURCE_FILE [-F SOURCE_FMT]] [-g GRANULARITY] [-f FMT] FILE BITMAP",
      "add, remove, clear, enable, disable or merge persistent dirty bitmaps of a qcow2 image",
      vv_help_bitmap },
    { "amend", cmd_amend, NULL,
      "amend [-f FMT] [-p] [-q] [--force] -o compat=0.10|1.1,lazy_refcounts=on|off,refcount_bits=N,size=N,encrypt.state=active|inactive,... FILE",
      "change qcow2 options in place: compat, lazy refcounts, refcount width, size",
      vv_help_amend },
    { "inflate", cmd_inflate, NULL,
      "inflate [--eager] [--dry-run] [-p] [-q] [-f FMT] [--output human|json] FILE",
      "thin -> thick in place: give the image's own layer host space (--eager: written with zeros)",
      vv_help_inflate },
    { "eagerzero", cmd_eagerzero, NULL,
      "eagerzero [--dry-run] [-p] [-q] [-f FMT] [--output human|json] FILE",
      "lazy -> eager-zeroed in place: write zeros over reserved but unwritten space",
      vv_help_eagerzero },
    { "sparsify", cmd_sparsify, NULL,
      "sparsify [--zero-detect] [--truncate] [--dry-run] [-p] [-q] [-f FMT] [--output human|json] FILE",
      "thick -> thin in place: give back the space of ranges reading as zeros (--zero-detect: read the data)",
      vv_help_sparsify },
    { "pool-define", NULL, "cmd_pool_define",
      "pool-define <file>",
      "define a pool of the embedded registry from XML",
      vv_help_validate },
    { "pool-define-as", NULL, "cmd_pool_define_as",
      "pool-define-as <name> vdisk|dir|netfs --target DIR [--source-host HOST --source-path PATH "
      "[--source-format glusterfs|nfs|auto]] [--zeroing lazy|eager] [--overcommit RATIO] [--print-xml]",
      "define a pool from arguments",
      vv_help_pool_define_as },
    { "pool-build", NULL, "cmd_pool_build",
      "pool-build <pool> [--overwrite] [--no-overwrite]",
      "create the pool's directory with its permissions",
      vv_help_pool_build },
    { "pool-start", NULL, "cmd_pool_start",
      "pool-start <pool> [--build] [--overwrite] [--no-overwrite]",
      "start (activate) a pool",
      vv_help_pool_start },
    { "pool-destroy", NULL, "cmd_pool_destroy",
      "pool-destroy <pool>",
      "stop (deactivate) a pool; its files stay",
      vv_help_virsh_none },
    { "pool-delete", NULL, "cmd_pool_delete",
      "pool-delete <pool>",
      "remove the (empty) directory of an inactive pool",
      vv_help_virsh_none },
    { "pool-undefine", NULL, "cmd_pool_undefine",
      "pool-undefine <pool>",
      "remove an inactive pool's definition",
      vv_help_virsh_none },
    { "pool-autostart", NULL, "cmd_pool_autostart",
      "pool-autostart <pool> [--disable]",
      "mark a pool to be started automatically",
      vv_help_pool_autostart },
    { "pool-list", NULL, "cmd_pool_list",
      "pool-list [--inactive | --all] [--autostart | --no-autostart] [--type TYPES] [--details] [--name | --uuid] [--json]",
      "list pools",
      vv_help_pool_list },
    { "pool-info", NULL, "cmd_pool_info",
      "pool-info <pool> [--bytes] [--json] [--details]",
      "pool state, sizes and overcommit; --details: each volume provisioned vs used",
      vv_help_pool_info },
    { "pool-dumpxml", NULL, "cmd_pool_dumpxml",
      "pool-dumpxml <pool> [--inactive] [--xpath EXPRESSION] [--wrap]",
      "pool XML (--xpath: the nodes it selects)",
      vv_help_pool_dumpxml },
    { "pool-create", NULL, "cmd_pool_create",
      "pool-create <file> [--build] [--overwrite | --no-overwrite]",
      "create and start a transient pool from XML",
      vv_help_pool_create },
    { "pool-create-as", NULL, "cmd_pool_create_as",
      "pool-create-as <name> <type> [--target DIR] [--print-xml] [--build] [--overwrite | --no-overwrite]",
      "create and start a transient pool from arguments",
      vv_help_pool_create_as },
    { "pool-edit", NULL, "cmd_pool_edit",
      "pool-edit <pool>",
      "edit a pool's XML with $VISUAL / $EDITOR and define it again",
      vv_help_virsh_none },
    { "pool-name", NULL, "cmd_pool_name",
      "pool-name <pool-uuid>",
      "a pool's name from its UUID",
      vv_help_pool_name },
    { "pool-uuid", NULL, "cmd_pool_uuid",
      "pool-uuid <pool>",
      "a pool's UUID",
      vv_help_virsh_none },
    { "pool-capabilities", NULL, "cmd_pool_capabilities",
      "pool-capabilities",
      "the pool types and the volume formats they create",
      vv_help_virsh_none },
    { "find-storage-pool-sources", NULL, "cmd_find_storage_pool_sources",
      "find-storage-pool-sources <type> [--srcSpec FILE]",
      "discover pool sources (pool types that have discovery)",
      vv_help_find_sources },
    { "find-storage-pool-sources-as", NULL, "cmd_find_storage_pool_sources_as",
      "find-storage-pool-sources-as <type> [--host HOST] [--port PORT] [--initiator IQN]",
      "discover pool sources at a host (pool types that have discovery)",
      vv_help_find_sources_as },
    { "pool-refresh", NULL, "cmd_pool_refresh",
      "pool-refresh <pool>",
      "probe every volume of a pool again",
      vv_help_virsh_none },
    { "vol-create", NULL, "cmd_vol_create",
      "vol-create <pool> <file> [--prealloc-metadata]",
      "create a volume from XML (thin, lazy- or eager-zeroed thick)",
      vv_help_vol_create },
    { "vol-create-as", NULL, "cmd_vol_create_as",
      "vol-create-as <pool> <name> <capacity> [--allocation SIZE] [--format raw|qcow2]\n          [--backing-vol VOL] [--backing-vol-format FMT] [--prealloc-metadata] [--print-xml]",
      "create a volume from arguments",
      vv_help_vol_create_as },
    { "vol-create-from", NULL, "cmd_vol_create_from",
      "vol-create-from <pool> <file> <vol> [--inputpool POOL] [--prealloc-metadata]",
      "create a volume from XML as a copy of another volume",
      vv_help_vol_create_from },
    { "vol-clone", NULL, "cmd_vol_clone",
      "vol-clone <vol> <newname> [--pool POOL] [--prealloc-metadata]",
      "clone a volume in its pool",
      vv_help_vol_clone },
    { "vol-convert", NULL, "cmd_vol_convert",
      "vol-convert <vol> <newname> --format raw|qcow2 [--pool POOL] [--allocation SIZE] [--prealloc-metadata]",
      "copy a volume into a new one of another format",
      vv_help_vol_convert },
    { "vol-delete", NULL, "cmd_vol_delete",
      "vol-delete <vol> [--pool POOL] [--delete-snapshots]",
      "delete a volume",
      vv_help_vol_delete },
    { "vol-wipe", NULL, "cmd_vol_wipe",
      "vol-wipe <vol> [--pool POOL] [--algorithm zero|nnsa|dod|bsi|gutmann|schneier|pfitzner7|pfitzner33|random|trim]",
      "wipe a volume's data",
      vv_help_vol_wipe },
    { "vol-export", NULL, "cmd_vol_export",
      "vol-export <pool> <vol> (--socket PATH | --port N [--address ADDR]) [--readonly]\n          [--foreground] [--pidfile FILE]",
      "serve a volume over NBD (nbdkit with vdisk's plugin)",
      vv_help_vol_export },
    { "vol-upload", NULL, "cmd_vol_upload",
      "vol-upload <vol> <file> [--pool POOL] [--offset BYTES] [--length BYTES] [--sparse]",
      "write a file's bytes into a volume",
      vv_help_vol_transfer },
    { "vol-download", NULL, "cmd_vol_download",
      "vol-download <vol> <file> [--pool POOL] [--offset BYTES] [--length BYTES] [--sparse]",
      "copy a volume's bytes into a file",
      vv_help_vol_transfer },
    { "vol-resize", NULL, "cmd_vol_resize",
      "vol-resize <vol> <capacity> [--pool POOL] [--allocate] [--delta] [--shrink]",
      "change a volume's capacity",
      vv_help_vol_resize },
    { "vol-inflate", NULL, "cmd_vol_inflate",
      "vol-inflate <vol> [--pool POOL] [--eager] [--dry-run]",
      "thin -> thick in place, within the pool's free space",
      vv_help_vol_inflate },
    { "vol-eagerzero", NULL, "cmd_vol_eagerzero",
      "vol-eagerzero <vol> [--pool POOL] [--dry-run]",
      "lazy -> eager-zeroed in place, within the pool's free space",
      vv_help_vol_eagerzero },
    { "vol-sparsify", NULL, "cmd_vol_sparsify",
      "vol-sparsify <vol> [--pool POOL] [--zero-detect] [--truncate] [--dry-run]",
      "thick -> thin in place: space reading as zeros back to the pool",
      vv_help_vol_sparsify },
    { "vol-map", NULL, "cmd_vol_map",
      "vol-map <vol> [--pool POOL] [--width N] [--picture FILE.png] [--json]",
      "where a volume's space goes, as map --bar / --picture",
      vv_help_vol_map },
    { "vol-info", NULL, "cmd_vol_info",
      "vol-info <vol> [--pool POOL] [--bytes] [--physical] [--json]",
      "volume type, capacity and allocation",
      vv_help_vol_info },
    { "vol-dumpxml", NULL, "cmd_vol_dumpxml",
      "vol-dumpxml <vol> [--pool POOL] [--xpath EXPRESSION] [--wrap]",
      "volume XML (--xpath: the nodes it selects)",
      vv_help_vol_dumpxml },
    { "vol-pool", NULL, "cmd_vol_pool",
      "vol-pool <vol-key-or-path> [--uuid]",
      "the pool of a volume",
      vv_help_vol_pool_of },
    { "vol-path", NULL, "cmd_vol_path",
      "vol-path <vol> [--pool POOL]",
      "a volume's path",
      vv_help_vol_pool },
    { "vol-key", NULL, "cmd_vol_key",
      "vol-key <vol> [--pool POOL]",
      "a volume's key",
      vv_help_vol_pool },
    { "vol-name", NULL, "cmd_vol_name",
      "vol-name <vol-key-or-path>",
      "a volume's name",
      vv_help_vol_name },
    { "vol-list", NULL, "cmd_vol_list",
      "vol-list <pool> [--details] [--json]",
      "list a pool's volumes",
      vv_help_vol_list },
    { "vol-snapshot-create", NULL, "cmd_vol_snapshot_create",
      "vol-snapshot-create <vol> <name> [--pool POOL]",
      "take an internal snapshot of a qcow2 volume",
      vv_help_vol_snapshot_create },
    { "vol-snapshot-list", NULL, "cmd_vol_snapshot_list",
      "vol-snapshot-list <vol> [--pool POOL] [--json]",
      "list a volume's internal snapshots",
      vv_help_vol_snapshot_list },
    { "vol-snapshot-revert", NULL, "cmd_vol_snapshot_revert",
      "vol-snapshot-revert <vol> <snapshot> [--pool POOL]",
      "make a volume's content that of a snapshot again",
      vv_help_vol_pool },
    { "vol-snapshot-delete", NULL, "cmd_vol_snapshot_delete",
      "vol-snapshot-delete <vol> <snapshot> [--pool POOL]",
      "delete an internal snapshot",
      vv_help_vol_pool },
    { "secret-define", NULL, "cmd_secret_define",
      "secret-define <file>",
      "define a secret of the embedded registry from XML",
      vv_help_validate },
    { "secret-set-value", NULL, "cmd_secret_set_value",
      "secret-set-value <secret> --file FILE [--plain]",
      "set a secret's value from a file (base64 unless --plain)",
      vv_help_secret_set_value },
    { "secret-get-value", NULL, "cmd_secret_get_value",
      "secret-get-value <secret> [--plain]",
      "print a secret's value (base64 unless --plain)",
      vv_help_secret_get_value },
    { "secret-dumpxml", NULL, "cmd_secret_dumpxml",
      "secret-dumpxml <secret> [--xpath EXPRESSION] [--wrap]",
      "a secret's attributes as XML",
      vv_help_dumpxml },
    { "secret-list", NULL, "cmd_secret_list",
      "secret-list [--ephemeral | --no-ephemeral] [--private | --no-private] [--json]",
      "list secrets",
      vv_help_secret_list },
    { "secret-undefine", NULL, "cmd_secret_undefine",
      "secret-undefine <secret>",
      "remove a secret and its value",
      vv_help_virsh_none },
    { "resize", cmd_resize, NULL,
      "resize [--shrink] [--preallocation=MODE] [-f FMT] [-q] FILE [+|-]SIZE",
      "grow or shrink an image's virtual size",
      vv_help_resize },
    { "rebase", cmd_rebase, NULL,
      "rebase [-f FMT] [-p] [-q] [-u] [-U] -b BACKING [-F BACKING_FMT] FILE",
      "change the backing file of an overlay (safe: keeps the content; -u: header only)",
      vv_help_rebase },
    { "commit", cmd_commit, NULL,
      "commit [-f FMT] [-t CACHE] [-b BASE] [-d] [-p] [-q] FILE",
      "write an overlay's data into its backing file (and empty it unless -d)",
      vv_help_commit },
    { "iso-ls", cmd_iso_ls, NULL,
      "iso-ls [-l] [-R] [--json] [--names auto|rock|joliet|iso] FILE.iso [PATH]\n"
      "          iso-ls --path-table [--json] [--names ...] FILE.iso\n"
      "          iso-ls --el-torito [--json] FILE.iso",
      "list a directory of an ISO image (-R: the whole tree, one path per line)",
      vv_help_iso_ls },
    { "iso-extract", cmd_iso_extract, NULL,
      "iso-extract [--names auto|rock|joliet|iso] FILE.iso [PATH ...] [-C DIR]",
      "extract files from an ISO image below DIR (never writing outside it)",
      vv_help_iso_extract },
    { "iso-create", cmd_iso_create, NULL,
      "iso-create -o OUT.iso [-V VOLID] [--no-joliet] [--no-rock] [--boot IMG [--boot-no-emul]\n"
      "          [--boot-load-size N] [--boot-info-table]] [--efi-boot IMG] [--date EPOCH] [--cidata]\n"
      "          PATH|SRC=DEST ...",
      "build an ISO 9660 image (Rock Ridge + Joliet, El Torito boot, cloud-init seeds)",
      vv_help_iso_create },
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
    if (c) {
        printf("usage: %s %s\n\n  %s\n", vv_prog(), c->synopsis, c->summary);
        vv_print_option_help(c->options);
    }
    return 0;
}

/* qemu-img's last paragraph of --help, which scripts read to learn the
 * formats: "Supported formats: raw qcow2 ...". */
static void
help_formats(void)
{
    vdisk_format f;
    printf("\nSupported formats:");
    for (size_t i = 0; vdisk_format_at(i, &f); i++)
        printf(" %s", vdisk_format_name(f));
    putchar('\n');
}

static void
help(void)
{
    printf("usage: %s [--help | --version] [-c URI] COMMAND [OPTIONS...] ARGS...\n\n"
           "Disk image commands with qemu-img's grammar (libvdisk %s).\n\nCommands:\n",
           vv_prog(), VDISK_VERSION_STRING);
    for (size_t i = 0; i < N_COMMANDS; i++)
        printf("  %s\n      %s\n", commands[i].synopsis, commands[i].summary);
    printf("\nSizes take the suffixes k, M, G, T, P, E (powers of 1024).\n"
           "Formats: raw, qcow2, luks, vmdk, iso (read-only; build with iso-create).\n"
           "Run '%s COMMAND -h' for one command.\n"
           "Encrypted images: --passphrase-file PATH, --passphrase-fd N, or --object\n"
           "secret,id=ID,file=PATH with key-secret=ID (-o, or --image-opts) on any command.\n"
           "-c URI, --connect URI (or VIRSH_DEFAULT_CONNECT_URI, LIBVIRT_DEFAULT_URI): run the\n"
           "pool-*, vol-* and secret-* commands through that libvirt daemon instead of the\n"
           "embedded registry.\n"
           "-T, --trace PATTERN (qemu-img's trace points): accepted before the command for\n"
           "scripts' sake and has no effect: vdisk has no QEMU trace points.\n", vv_prog());
    help_formats();
}

int
main(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "help", no_argument, NULL, 'h' },
        { "version", no_argument, NULL, 'V' },
        { "connect", required_argument, NULL, 'c' },
        { "trace", required_argument, NULL, 'T' },
        { NULL, 0, NULL, 0 },
    };
    const char *uri = NULL;
    int c;
    signal(SIGPIPE, SIG_IGN);
    /* Run as mkisofs or genisoimage (a symlink): their grammar. */
    const char *self = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
    if (strcmp(self, "mkisofs") == 0 || strcmp(self, "genisoimage") == 0)
        return cmd_mkisofs(argc, argv);
    opterr = 0;
    /* '+': stop at the command name; its options are the command's. */
    while ((c = getopt_long(argc, argv, "+:hVc:T:", longopts, NULL)) != -1) {
        switch (c) {
        case 'c':
            uri = optarg;
            break;
        case 'T':
            /* qemu-img's -T/--trace enables QEMU trace points; vdisk has
             * none, so there is nothing to enable (said in --help and the
             * man page). */
            break;
        case 'h':
            help();
            return 0;
        case 'V':
            printf("%s version %s\n", vv_prog(), VDISK_VERSION_STRING);
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
    int status;
    /* Image commands act on files; pool, volume and secret commands go to
     * the libvirt daemon when a URI names one, else to the registry. */
    if (cmd->store)
        status = vv_store_command_run(cmd->store, vv_connect_uri(uri), argc - first, argv + first);
    else
        status = cmd->handler(argc - first, argv + first);
    /* virsh ends the output of every command with an empty line; so do
     * the virsh-style ones (the store commands). */
    if (cmd->store) {
        if (status == VV_PARSE_FAILED)
            return 1;
        putchar('\n');     /* virsh's empty line after every command it ran */
    }
    return status;
}
