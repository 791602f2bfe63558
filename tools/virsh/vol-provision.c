/* vdisk-virsh vol-inflate, vol-eagerzero, vol-sparsify: the provisioning
 * moves (inflate, eagerzero, sparsify) on a pool's volume, with the pool's
 * rules (vdisk/volume-provisioning.h): refused while the volume is in use,
 * and inflate / eagerzero refused before a byte is written when the pool's
 * free space cannot hold what they add.  On any store: libvirt has no such
 * verbs, so with -c URI they act on the volume's file (the store's
 * vol_file: dir and vdisk pools) and the daemon then refreshes the pool.
 *
 *   vol-inflate <vol> [--pool POOL] [--eager] [--dry-run]
 *   vol-eagerzero <vol> [--pool POOL] [--dry-run]
 *   vol-sparsify <vol> [--pool POOL] [--zero-detect] [--truncate] [--dry-run]
 */
#include <stdio.h>
#include <string.h>

#include <vdisk/volume-provisioning.h>

#include "commands.h"
#include "provisioning.h"
#include "store-open.h"
#include "virsh-args.h"

typedef int (*vol_provision_fn)(vdisk_pool *pool, const char *name, unsigned flags,
                                vdisk_progress_fn progress, void *opaque,
                                vdisk_provision_result *res, vdisk_error *err);

static const struct {
    const char *verb;           /* for virsh's "Failed to ..." line */
    vol_provision_fn fn;
} vol_ops[] = {
    [VV_PROVISION_INFLATE] = { "inflate", vdisk_vol_inflate },
    [VV_PROVISION_EAGERZERO] = { "eager-zero", vdisk_vol_eagerzero },
    [VV_PROVISION_SPARSIFY] = { "sparsify", vdisk_vol_sparsify },
};

/* The flag each boolean argument stands for (args after vol and pool). */
static unsigned
flags_of(const vv_arg *args, size_t n)
{
    static const struct { const char *name; unsigned flag; } map[] = {
        { "dry-run", VDISK_PROVISION_DRY_RUN },
        { "eager", VDISK_INFLATE_EAGER },
        { "zero-detect", VDISK_SPARSIFY_ZERO_DETECT },
        { "truncate", VDISK_SPARSIFY_TRUNCATE },
    };
    unsigned flags = 0;
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < VV_N(map); k++)
            if (args[i].set && strcmp(args[i].name, map[k].name) == 0)
                flags |= map[k].flag;
    return flags;
}

/* Parse, look the volume up, run the move on its file, print its result. */
static int
run(const char *uri, int argc, char **argv, vv_provision_op op, vv_arg *args, size_t n)
{
    vv_store_ctx c;
    int r = vv_store_begin_vol(uri, argc, argv, args, n, &c);
    if (r != VV_GO)
        return r;
    vdisk_pool *pool;
    const char *name;
    r = 1;
    if (vv_store_vol_file(&c, &pool, &name) == 0) {
        unsigned flags = flags_of(args, n);
        vdisk_provision_result res;
        vdisk_error err = { 0 };
        vv_lazy_progress prog = VV_LAZY_PROGRESS_INIT;
        int q = vol_ops[op].fn(pool, name, flags, vv_lazy_progress_cb, &prog, &res, &err);
        vv_lazy_progress_end(&prog, q == 0);
        if (q < 0) {
            vv_virsh_error("Failed to %s volume '%s'", vol_ops[op].verb, name);
            vv_store_report(&err);
        } else {
            vv_provision_print(name, op, flags, &res, VV_OUTPUT_HUMAN);
            r = 0;
        }
        /* Even after a failure, so that a partial change shows as it is. */
        if (!(flags & VDISK_PROVISION_DRY_RUN) && vv_store_file_changed(&c) != 0)
            r = 1;
    }
    vv_store_end(&c);
    return r;
}

/* vol-inflate: thin -> thick (lazy, or eager with --eager). */
int
cmd_vol_inflate(const char *uri, int argc, char **argv)
{
    vv_arg args[] = { VV_REQ("vol"), VV_VAL("pool"), VV_FLAG("eager"), VV_FLAG("dry-run") };
    return run(uri, argc, argv, VV_PROVISION_INFLATE, args, VV_N(args));
}

/* vol-eagerzero: lazy-zeroed -> eager-zeroed thick. */
int
cmd_vol_eagerzero(const char *uri, int argc, char **argv)
{
    vv_arg args[] = { VV_REQ("vol"), VV_VAL("pool"), VV_FLAG("dry-run") };
    return run(uri, argc, argv, VV_PROVISION_EAGERZERO, args, VV_N(args));
}

/* vol-sparsify: thick -> thin. */
int
cmd_vol_sparsify(const char *uri, int argc, char **argv)
{
    vv_arg args[] = { VV_REQ("vol"), VV_VAL("pool"), VV_FLAG("zero-detect"), VV_FLAG("truncate"),
                      VV_FLAG("dry-run") };
    return run(uri, argc, argv, VV_PROVISION_SPARSIFY, args, VV_N(args));
}
