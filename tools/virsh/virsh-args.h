/* vdisk-virsh — virsh's command grammar and output conventions for the
 * pool, volume and secret commands.
 *
 * virsh options are "--name value", "--name=value" or, for the arguments
 * virsh documents as positional (<pool>, <vol>, <file>...), a bare word in
 * order.  Errors are printed as virsh prints them ("error: ...") and make
 * the command exit 1.
 */
#ifndef VV_VIRSH_ARGS_H
#define VV_VIRSH_ARGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <pthread.h>

#include "commands.h"
#include "progress.h"

#include <vdisk/pool.h>
#include <vdisk/registry.h>
#include <vdisk/volume.h>

enum {
    VV_ARG_VALUE      = 1u << 0,   /* takes a value (else a boolean flag) */
    VV_ARG_REQUIRED   = 1u << 1,
    VV_ARG_POSITIONAL = 1u << 2,   /* may be given as a bare word, in table order */
};

typedef struct vv_arg {
    const char *name;              /* without the dashes: "pool" */
    unsigned flags;                /* VV_ARG_* */
    const char *value;             /* out: the value (VALUE args) */
    bool set;                      /* out: given */
} vv_arg;

/* The number of rows of a table (an array, not a pointer). */
#define VV_N(a) (sizeof(a) / sizeof((a)[0]))

/* Table rows: a flag, an option with a value, a required positional
 * argument, an optional positional one, a required option. */
#define VV_FLAG(n) { .name = (n) }
#define VV_VAL(n) { .name = (n), .flags = VV_ARG_VALUE }
#define VV_REQ(n) { .name = (n), .flags = VV_ARG_VALUE | VV_ARG_REQUIRED | VV_ARG_POSITIONAL }
#define VV_POS(n) { .name = (n), .flags = VV_ARG_VALUE | VV_ARG_POSITIONAL }
#define VV_VAL_REQ(n) { .name = (n), .flags = VV_ARG_VALUE | VV_ARG_REQUIRED }

/* Parse argv (argv[0] is the command) against args[n].  Returns 0 to go
 * on, VV_PARSE_HELP after printing the command's help (exit 0), or
 * VV_PARSE_FAILED (commands.h) after printing a usage error. */
#define VV_PARSE_HELP (-1)
int vv_virsh_parse(int argc, char **argv, vv_arg *args, size_t n);
/* The argument named `name` of a parsed table (must exist). */
vv_arg *vv_arg_get(vv_arg *args, size_t n, const char *name);

/* "error: <message>" on stderr, as virsh. */
void vv_virsh_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "error: <err->message>". */
void vv_virsh_report(const vdisk_error *err);

/* A scaled integer as virsh takes sizes: "10G", "512MiB", "1000KB", "4096". */
int vv_virsh_parse_scaled(const char *what, const char *text, uint64_t *out);

/* virsh's vshPrettyCapacity: "%.2lf %s" with B, KiB, MiB, GiB, TiB, PiB, EiB. */
char *vv_pretty_capacity(uint64_t bytes, char *buf, size_t len);

/* One "Label:          value" line of pool-info / vol-info: with bytes,
 * the exact number followed by `unit` ("" for pool-info, " bytes" for
 * vol-info, as virsh); else vv_pretty_capacity. */
void vv_print_size(const char *label, uint64_t v, bool bytes, const char *unit);

/* The progress indicator of long work (eager zeroing, wipe, transfers,
 * copies): drawn, on a terminal only, from the first report on, so that
 * quick operations that report nothing print nothing.  Initialise with
 * VV_LAZY_PROGRESS_INIT; vv_lazy_progress_cb is a vdisk_progress_fn and may
 * be called from several threads. */
typedef struct vv_lazy_progress {
    pthread_mutex_t lock;
    bool started;
    vv_progress bar;
} vv_lazy_progress;
#define VV_LAZY_PROGRESS_INIT { .lock = PTHREAD_MUTEX_INITIALIZER }
int vv_lazy_progress_cb(void *opaque, uint64_t done, uint64_t total);
void vv_lazy_progress_end(vv_lazy_progress *lp, bool success);

/* Returned by the vv_store_begin* helpers (store-open.h) when the command goes on. */
#define VV_GO (-1)

/* A simple table with virsh's layout (vshTable: header, dashes, rows). */
typedef struct vv_table {
    size_t ncols, nrows;
    char **cells;                  /* nrows * ncols, row 0 is the header */
} vv_table;
void vv_table_init(vv_table *t, size_t ncols, const char *const *headers);
void vv_table_add(vv_table *t, const char *const *cells);
void vv_table_print(const vv_table *t, FILE *out);
void vv_table_clear(vv_table *t);


/* Read a whole file (XML input), at most 1 MiB; prints the error. */
int vv_read_file(const char *path, char **data, size_t *len);
/* The same, silent: the error in *err. */
int vv_read_file_err(const char *path, char **data, size_t *len, vdisk_error *err);

#endif
