/* vdisk-virsh — the sub-commands.  Each handler gets the sub-command's own
 * argv (argv[0] is the command name) and returns the process exit status.
 * To add a command: write cmd-NAME.c with its handler, declare it here and
 * add a row to the table in vdisk-virsh.c.
 */
#ifndef VV_COMMANDS_H
#define VV_COMMANDS_H

typedef int (*vv_handler)(int argc, char **argv);

typedef struct vv_command {
    const char *name;
    vv_handler handler;
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
int cmd_iso_ls(int argc, char **argv);
int cmd_iso_extract(int argc, char **argv);
int cmd_iso_create(int argc, char **argv);

#endif
