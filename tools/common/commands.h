/* vdisk-virsh — the sub-commands.  Each handler gets the sub-command's own
 * argv (argv[0] is the command name) and returns the process exit status.
 * To add a command: write cmd-NAME.c with its handler, declare it here and
 * add a row to the table in vdisk-virsh.c.
 */
#ifndef VV_COMMANDS_H
#define VV_COMMANDS_H

typedef int (*vv_handler)(int argc, char **argv);
/* A pool/volume/secret command written once against the store interface
 * (vdisk/store.h): uri NULL acts on the embedded registry, else on the
 * libvirt daemon at uri. */
typedef int (*vv_store_handler)(const char *uri, int argc, char **argv);

typedef struct vv_command {
    const char *name;
    vv_handler handler;     /* an image command, or one not yet on the store */
    vv_store_handler store; /* or a store command (virsh/) */
    const char *synopsis;   /* arguments, as in "create -f FMT ... FILE [SIZE]" */
    const char *summary;    /* one line of help */
} vv_command;

/* Print the usage of one command to stdout (for -h); returns 0. */
int vv_command_help(const char *name);

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
/* Pools, volumes and secrets of the embedded registry (virsh's grammar). */
int cmd_vol_inflate(int argc, char **argv);
int cmd_vol_eagerzero(int argc, char **argv);
int cmd_vol_sparsify(int argc, char **argv);
int cmd_vol_map(int argc, char **argv);

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

#endif
