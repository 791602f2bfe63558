/* vdisk-virsh vol-delete and vol-wipe, as virsh.
 *
 *   vol-delete <vol> [--pool POOL] [--delete-snapshots]
 *   vol-wipe <vol> [--pool POOL] [--algorithm zero|random|trim]
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "commands.h"
#include "virsh-args.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* vol-delete: remove a volume (internal snapshots go with the file). */
int
cmd_vol_delete(int argc, char **argv)
{
    vv_arg args[] = { VV_REQ("vol"), VV_VAL("pool"), VV_FLAG("delete-snapshots") };
    vv_ctx c;
    int r = vv_begin_vol(argc, argv, args, N(args), &c);
    if (r != VV_GO)
        return r;
    vdisk_error err = { 0 };
    r = 1;
    if (vdisk_vol_delete(c.pool, c.name, &err) < 0) {
        vv_virsh_error("Failed to delete vol %s", args[0].value);
        vv_virsh_report(&err);
    } else {
        printf("Vol %s deleted\n", args[0].value);
        r = 0;
    }
    vv_end(&c);
    return r;
}

/* Wipe with a progress indicator; prints virsh's failure lines. */
static int
wipe(vv_ctx *c, const char *vol, vdisk_wipe_alg alg)
{
    vdisk_error err = { 0 };
    vv_lazy_progress prog = VV_LAZY_PROGRESS_INIT;
    int r = vdisk_vol_wipe(c->pool, c->name, alg, vv_lazy_progress_cb, &prog, &err);
    vv_lazy_progress_end(&prog, r == 0);
    if (r < 0) {
        vv_virsh_error("Failed to wipe vol %s", vol);
        vv_virsh_report(&err);
        return 1;
    }
    printf("Vol %s wiped\n", vol);
    return 0;
}

/* vol-wipe: overwrite a volume's data (zero by default, as virsh). */
int
cmd_vol_wipe(int argc, char **argv)
{
    vv_arg args[] = { VV_REQ("vol"), VV_VAL("pool"), VV_VAL("algorithm") };
    vv_ctx c;
    int r = vv_begin_vol(argc, argv, args, N(args), &c);
    if (r != VV_GO)
        return r;
    vdisk_error err = { 0 };
    vdisk_wipe_alg alg = VDISK_WIPE_ZERO;
    int q = args[2].set ? vdisk_wipe_alg_from_name(args[2].value, &alg, &err) : 0;
    r = 1;
    if (q == -EINVAL) {
        vv_virsh_error("Unsupported algorithm '%s'", args[2].value);
    } else if (q < 0) {
        vv_virsh_error("Failed to wipe vol %s", args[0].value);
        vv_virsh_report(&err);
    } else {
        r = wipe(&c, args[0].value, alg);
    }
    vv_end(&c);
    return r;
}
