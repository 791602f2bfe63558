/* vdisk-virsh vol-delete and vol-wipe, as virsh, on any store.
 *
 *   vol-delete <vol> [--pool POOL] [--delete-snapshots]
 *   vol-wipe <vol> [--pool POOL] [--algorithm ALG]   (libvirt's names: zero, nnsa, dod, bsi,
 *                                                    gutmann, schneier, pfitzner7, pfitzner33, random, trim)
 */
#include <stdio.h>

#include "commands.h"
#include "virsh-args.h"
#include "store-open.h"

/* vol-delete: remove a volume. */
int
cmd_vol_delete(const char *uri, int argc, char **argv)
{
    vv_arg args[] = { VV_REQ("vol"), VV_VAL("pool"), VV_FLAG("delete-snapshots") };
    vv_store_ctx c;
    int r = vv_store_begin_vol(uri, argc, argv, args, VV_N(args), &c);
    if (r != VV_GO)
        return r;
    const char *vol = vv_arg_get(args, VV_N(args), "vol")->value;
    unsigned flags = vv_arg_get(args, VV_N(args), "delete-snapshots")->set ? VDISK_STORE_DELETE_WITH_SNAPSHOTS : 0;
    vdisk_error err = { 0 };
    r = c.store->ops->vol_delete(c.vol, flags, &err) < 0;
    if (r) {
        vv_virsh_error("Failed to delete vol %s", vol);
        vv_store_report(&err);
    } else {
        printf("Vol %s deleted\n", vol);
    }
    vv_store_end(&c);
    return r;
}

/* vol-wipe: overwrite a volume's data (zero by default, as virsh). */
int
cmd_vol_wipe(const char *uri, int argc, char **argv)
{
    vv_arg args[] = { VV_REQ("vol"), VV_VAL("pool"), VV_VAL("algorithm") };
    vv_store_ctx c;
    int r = vv_store_begin_vol(uri, argc, argv, args, VV_N(args), &c);
    if (r != VV_GO)
        return r;
    const char *vol = vv_arg_get(args, VV_N(args), "vol")->value;
    vv_arg *alg = vv_arg_get(args, VV_N(args), "algorithm");
    const char *algorithm = alg->set ? alg->value : "zero";
    r = 1;
    /* virsh refuses a name libvirt does not know; a store refuses those it cannot do. */
    if (vdisk_store_wipe_alg_index(algorithm) < 0) {
        vv_virsh_error("Unsupported algorithm '%s'", algorithm);
    } else {
        vdisk_error err = { 0 };
        vv_lazy_progress prog = VV_LAZY_PROGRESS_INIT;
        int q = c.store->ops->vol_wipe(c.vol, algorithm, vv_lazy_progress_cb, &prog, &err);
        vv_lazy_progress_end(&prog, q == 0);
        if (q < 0) {
            vv_virsh_error("Failed to wipe vol %s", vol);
            vv_store_report(&err);
        } else {
            printf("Vol %s wiped\n", vol);
            r = 0;
        }
    }
    vv_store_end(&c);
    return r;
}
