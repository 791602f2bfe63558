/* vdisk-virsh — the sub-commands.  Each handler gets the sub-command's own
 * argv (argv[0] is the command name) and returns the process exit status.
 * To add a command: write its handler (an image command in image/cmd-NAME.c;
 * a pool, volume or secret command once, against the store, in virsh/),
 * declare it here, add a row to the table in vdisk-virsh.c and its option
 * lines to common/help.c (tests/interop/test_virsh_help.py checks them).
 *
 * The image commands are in the executable; the pool, volume and secret
 * commands (virsh/, with the stores of stores/) are in the module
 * vdisk-virsh-stores.so, which links libvdisk-plugin and libxml2 and is
 * loaded by the first of them (common/store-module.h): so the image
 * commands start without those libraries.  The table names a module
 * command by its handler's symbol; the module calls back into the
 * executable's helpers (common/, and image/'s map and provisioning
 * printers), which the executable exports for it.
 */
#ifndef VV_COMMANDS_H
#define VV_COMMANDS_H

typedef int (*vv_handler)(int argc, char **argv);
/* A pool/volume/secret command written once against the store interface
 * (vdisk/store.h): uri NULL acts on the embedded registry, else on the
 * libvirt daemon at uri. */
typedef int (*vv_store_handler)(const char *uri, int argc, char **argv);

/* One line of a command's -h: "-f, --format" "FMT" "the image's format". */
typedef struct vv_option_help {
    const char *option;     /* the spellings, "-f" or "-U, --force-share"; NULL ends a list */
    const char *arg;        /* its value, "" for a flag */
    const char *text;       /* what it does, one line */
} vv_option_help;

typedef struct vv_command {
    const char *name;
    vv_handler handler;     /* an image command */
    const char *store;      /* or a store command (virsh/): its vv_store_handler's
                             * symbol in the module, "cmd_pool_list" */
    const char *synopsis;   /* arguments, as in "create -f FMT ... FILE [SIZE]" */
    const char *summary;    /* one line of help */
    const vv_option_help *options;   /* every option it takes, one line each (help.c) */
} vv_command;

/* Print the "Options:" section of a -h (nothing for an empty list). */
void vv_print_option_help(const vv_option_help *opts);

/* The option lines of the commands (help.c). */
extern const vv_option_help vv_help_create[], vv_help_info[], vv_help_convert[], vv_help_map[],
    vv_help_compare[], vv_help_measure[], vv_help_bench[], vv_help_check[], vv_help_snapshot[],
    vv_help_bitmap[], vv_help_amend[], vv_help_inflate[], vv_help_eagerzero[], vv_help_sparsify[],
    vv_help_resize[], vv_help_rebase[], vv_help_commit[], vv_help_iso_ls[], vv_help_iso_extract[],
    vv_help_iso_create[], vv_help_virsh_none[], vv_help_validate[], vv_help_pool_define_as[],
    vv_help_pool_build[], vv_help_pool_start[], vv_help_pool_autostart[], vv_help_pool_list[],
    vv_help_pool_info[], vv_help_pool_dumpxml[], vv_help_vol_create[], vv_help_vol_create_as[],
    vv_help_vol_create_from[], vv_help_vol_clone[], vv_help_vol_convert[], vv_help_vol_delete[],
    vv_help_vol_wipe[], vv_help_vol_transfer[], vv_help_vol_resize[], vv_help_vol_inflate[],
    vv_help_vol_eagerzero[], vv_help_vol_sparsify[], vv_help_vol_map[], vv_help_dd[], vv_help_vol_export[], vv_help_dumpxml[], vv_help_vol_dumpxml[],
    vv_help_vol_pool_of[], vv_help_pool_name[], vv_help_pool_create[], vv_help_pool_create_as[], vv_help_find_sources[],
    vv_help_find_sources_as[], vv_help_secret_get_value[], vv_help_vol_info[],
    vv_help_vol_pool[], vv_help_vol_list[], vv_help_vol_snapshot_list[], vv_help_vol_snapshot_create[], vv_help_vol_name[], vv_help_secret_set_value[],
    vv_help_secret_list[];

/* Print the usage of one command to stdout (for -h); returns 0. */
int vv_command_help(const char *name);

/* A store command that did not run (its arguments rejected, or its module
 * not loadable: after printing why) returns this: the dispatcher exits 1
 * then, without the empty line virsh prints only after commands it ran. */
#define VV_PARSE_FAILED 0x101

int cmd_create(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_convert(int argc, char **argv);
int cmd_map(int argc, char **argv);
int cmd_compare(int argc, char **argv);
int cmd_measure(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_snapshot(int argc, char **argv);
int cmd_bitmap(int argc, char **argv);
int cmd_amend(int argc, char **argv);
int cmd_dd(int argc, char **argv);
/* Provisioning in place (vdisk/provision.h). */
int cmd_inflate(int argc, char **argv);
int cmd_eagerzero(int argc, char **argv);
int cmd_sparsify(int argc, char **argv);
/* Pool, volume and secret commands, in the module (virsh/): the embedded
 * registry, or with -c URI a libvirt daemon (virsh's grammar). */
int cmd_vol_inflate(const char *uri, int argc, char **argv);
int cmd_vol_eagerzero(const char *uri, int argc, char **argv);
int cmd_vol_sparsify(const char *uri, int argc, char **argv);
int cmd_vol_map(const char *uri, int argc, char **argv);

/* Pool, volume and secret commands written once against the store
 * (virsh/): the embedded registry, or with -c URI a libvirt daemon. */
int cmd_pool_define(const char *uri, int argc, char **argv);
int cmd_pool_define_as(const char *uri, int argc, char **argv);
int cmd_pool_build(const char *uri, int argc, char **argv);
int cmd_pool_start(const char *uri, int argc, char **argv);
int cmd_pool_destroy(const char *uri, int argc, char **argv);
int cmd_pool_delete(const char *uri, int argc, char **argv);
int cmd_pool_undefine(const char *uri, int argc, char **argv);
int cmd_pool_autostart(const char *uri, int argc, char **argv);
int cmd_pool_list(const char *uri, int argc, char **argv);
int cmd_pool_info(const char *uri, int argc, char **argv);
int cmd_pool_dumpxml(const char *uri, int argc, char **argv);
int cmd_pool_refresh(const char *uri, int argc, char **argv);
int cmd_pool_create(const char *uri, int argc, char **argv);
int cmd_pool_create_as(const char *uri, int argc, char **argv);
int cmd_pool_edit(const char *uri, int argc, char **argv);
int cmd_pool_name(const char *uri, int argc, char **argv);
int cmd_pool_uuid(const char *uri, int argc, char **argv);
int cmd_pool_capabilities(const char *uri, int argc, char **argv);
int cmd_find_storage_pool_sources(const char *uri, int argc, char **argv);
int cmd_find_storage_pool_sources_as(const char *uri, int argc, char **argv);
int cmd_vol_pool(const char *uri, int argc, char **argv);
int cmd_secret_get_value(const char *uri, int argc, char **argv);
int cmd_secret_dumpxml(const char *uri, int argc, char **argv);
int cmd_secret_define(const char *uri, int argc, char **argv);
int cmd_secret_set_value(const char *uri, int argc, char **argv);
int cmd_secret_list(const char *uri, int argc, char **argv);
int cmd_secret_undefine(const char *uri, int argc, char **argv);
int cmd_vol_snapshot_create(const char *uri, int argc, char **argv);
int cmd_vol_snapshot_list(const char *uri, int argc, char **argv);
int cmd_vol_snapshot_revert(const char *uri, int argc, char **argv);
int cmd_vol_snapshot_delete(const char *uri, int argc, char **argv);
int cmd_vol_upload(const char *uri, int argc, char **argv);
int cmd_vol_download(const char *uri, int argc, char **argv);
int cmd_vol_convert(const char *uri, int argc, char **argv);
int cmd_vol_create(const char *uri, int argc, char **argv);
int cmd_vol_create_from(const char *uri, int argc, char **argv);
int cmd_vol_clone(const char *uri, int argc, char **argv);
int cmd_vol_create_as(const char *uri, int argc, char **argv);
int cmd_vol_list(const char *uri, int argc, char **argv);
int cmd_vol_export(const char *uri, int argc, char **argv);
int cmd_vol_delete(const char *uri, int argc, char **argv);
int cmd_vol_wipe(const char *uri, int argc, char **argv);
int cmd_vol_resize(const char *uri, int argc, char **argv);
int cmd_vol_info(const char *uri, int argc, char **argv);
int cmd_vol_dumpxml(const char *uri, int argc, char **argv);
int cmd_vol_path(const char *uri, int argc, char **argv);
int cmd_vol_key(const char *uri, int argc, char **argv);
int cmd_vol_name(const char *uri, int argc, char **argv);
int cmd_resize(int argc, char **argv);
int cmd_rebase(int argc, char **argv);
int cmd_commit(int argc, char **argv);
int cmd_iso_ls(int argc, char **argv);
int cmd_iso_extract(int argc, char **argv);
int cmd_iso_create(int argc, char **argv);
/* iso-create --mkisofs, and the program run as mkisofs or genisoimage. */
int cmd_mkisofs(int argc, char **argv);

#endif
