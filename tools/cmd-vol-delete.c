/* vdisk-virsh vol-delete and vol-wipe, as virsh.
 *
 *   vol-delete <vol> [--pool POOL] [--delete-snapshots]
 *   vol-wipe <vol> [--pool POOL] [--algorithm zero|random|trim]
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "commands.h"
#include "progress.h"
#include "virsh-args.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* Parse and look up <vol> [--pool]; returns 0, or an exit status (-1 for help). */
static int
find_vol(int argc, char **argv, vv_arg *args, size_t n, vdisk_registry **reg, vdisk_pool **pool,
         char **name)
{
    int r = vv_virsh_parse(argc, argv, args, n);
    if (r)
        return r == VV_PARSE_HELP ? -1 : r;
    if (vv_open_registry(reg) < 0)
        return 1;
    vv_arg *p = vv_arg_get(args, n, "pool");
    if (vv_lookup_vol(*reg, p->set ? p->value : NULL, args[0].value, pool, name) < 0) {
        vdisk_registry_close(*reg);
        return 1;
    }
    return 0;
}

/* vol-delete: remove a volume (internal snapshots go with the file). */
int
cmd_vol_delete(int argc, char **argv)
{
    vv_arg args[] = {
        VV_REQ("vol"),
        VV_VAL("pool"), VV_FLAG("delete-snapshots"),
    };
    vdisk_registry *reg;
    vdisk_pool *pool;
    char *name;
    int r = find_vol(argc, argv, args, N(args), &reg, &pool, &name);
    if (r)
        return r < 0 ? 0 : r;
    vdisk_error err = { 0 };
    if (vdisk_vol_delete(pool, name, &err) < 0) {
        vv_virsh_error("Failed to delete vol %s", args[0].value);
        vv_virsh_report(&err);
        r = 1;
    } else {
        printf("Vol %s deleted\n", args[0].value);
    }
    free(name);
    vdisk_pool_free(pool);
    vdisk_registry_close(reg);
    return r;
}

/* vol-wipe: overwrite a volume's data (zero by default, as virsh). */
int
cmd_vol_wipe(int argc, char **argv)
{
    vv_arg args[] = {
        VV_REQ("vol"),
        VV_VAL("pool"), VV_VAL("algorithm"),
    };
    vdisk_registry *reg;
    vdisk_pool *pool;
    char *name;
    int r = find_vol(argc, argv, args, N(args), &reg, &pool, &name);
    if (r)
        return r < 0 ? 0 : r;
    vdisk_error err = { 0 };
    vdisk_wipe_alg alg = VDISK_WIPE_ZERO;
    r = 1;
    int q = args[2].set ? vdisk_wipe_alg_from_name(args[2].value, &alg, &err) : 0;
    if (q == -EINVAL) {
        vv_virsh_error("Unsupported algorithm '%s'", args[2].value);
    } else if (q < 0) {
        vv_virsh_error("Failed to wipe vol %s", args[0].value);
        vv_virsh_report(&err);
    } else {
        vv_progress prog;
        vv_progress_init(&prog, true, 1.0);
        q = vdisk_vol_wipe(pool, name, alg, vv_progress_cb, &prog, &err);
        vv_progress_end(&prog, q == 0);
        if (q < 0) {
            vv_virsh_error("Failed to wipe vol %s", args[0].value);
            vv_virsh_report(&err);
        } else {
            printf("Vol %s wiped\n", args[0].value);
            r = 0;
        }
    }
    free(name);
    vdisk_pool_free(pool);
    vdisk_registry_close(reg);
    return r;
}
