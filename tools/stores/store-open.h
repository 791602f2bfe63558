/* vdisk-virsh — the store a pool/volume command acts on (vdisk/store.h),
 * and the one error path of those commands.
 *
 * A command parses its arguments first (so --help and usage errors need
 * no daemon), then opens the store: with no URI the embedded registry,
 * with -c URI (or virsh's environment variables) the libvirt daemon.
 */
#ifndef VV_STORE_OPEN_H
#define VV_STORE_OPEN_H

#include <stddef.h>

#include <vdisk/store.h>

#include "virsh-args.h"

/* Open the store for uri (NULL: the embedded registry).  Prints the
 * error. */
int vv_store_open(const char *uri, vdisk_store **out);
/* The libvirt daemon at uri (store-libvirt.c; store-none.c in a build
 * without libvirt).  Prints the error. */
int vv_store_open_uri(const char *uri, vdisk_store **out);

/* "error: <message>" as virsh ends a failed command; nothing when the
 * store said nothing (code 0, no message). */
void vv_store_report(const vdisk_error *err);
/* A failed volume lookup as virsh words it: "failed to get pool 'P'",
 * "failed to get vol 'V'[, specifying --pool might help]" or "failed to
 * get parent pool", then the store's message (alone for a check). */
void vv_store_lookup_report(vdisk_store_lookup_step step, const char *pool, const char *vol,
                            const vdisk_error *err);

/* What a command works on; released by vv_store_end. */
typedef struct vv_store_ctx {
    vdisk_store *store;
    vdisk_store_pool *pool;       /* vv_store_begin_pool, vv_store_lookup_pool */
    vdisk_store_vol *vol;         /* vv_store_begin_vol */
    vdisk_store_secret *secret;   /* vv_store_begin_secret, vv_store_lookup_secret */
} vv_store_ctx;

/* Parse the arguments and open the store.  Returns VV_GO, or the exit
 * status to return at once (0 after --help, 1 after a printed error,
 * VV_PARSE_FAILED after a usage error). */
int vv_store_begin(const char *uri, int argc, char **argv, vv_arg *args, size_t n, vv_store_ctx *c);
/* Look up the pool name into c->pool; prints virsh's two error lines. */
int vv_store_lookup_pool(vv_store_ctx *c, const char *name);
/* vv_store_begin, and look up the pool named by the "pool" argument. */
int vv_store_begin_pool(const char *uri, int argc, char **argv, vv_arg *args, size_t n, vv_store_ctx *c);
/* Look up the secret name (a UUID or usage id) into c->secret; prints
 * virsh's two error lines. */
int vv_store_lookup_secret(vv_store_ctx *c, const char *name);
/* vv_store_begin, and look up the secret named by the "secret" argument. */
int vv_store_begin_secret(const char *uri, int argc, char **argv, vv_arg *args, size_t n, vv_store_ctx *c);
/* Look up the volume named by "vol" (in "pool" if given) into c->vol;
 * prints virsh's error lines. */
int vv_store_lookup_vol(vv_store_ctx *c, vv_arg *args, size_t n);
/* The same, and look up the volume named by "vol" (in "pool" if given). */
int vv_store_begin_vol(const char *uri, int argc, char **argv, vv_arg *args, size_t n, vv_store_ctx *c);
void vv_store_end(vv_store_ctx *c);

/* The looked-up volume's file (the store's vol_file); prints the error. */
int vv_store_vol_file(vv_store_ctx *c, vdisk_pool **pool, const char **name);
/* After work on that file changed it: the store looks again (a daemon
 * refreshes the pool).  0, or 1 after printing virsh's failure lines. */
int vv_store_file_changed(vv_store_ctx *c);

#endif
