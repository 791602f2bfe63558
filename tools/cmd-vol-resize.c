/* vdisk-virsh vol-resize, as virsh: a new capacity, or with --delta a
 * change of it ("-1G" with --shrink --delta to shrink by 1 GiB).
 *
 *   vol-resize <vol> <capacity> [--pool POOL] [--allocate] [--delta] [--shrink]
 */
#include <stdio.h>
#include <stdlib.h>

#include "commands.h"
#include "progress.h"
#include "virsh-args.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* The new capacity from the argument, the current one and the flags. */
static int
new_capacity(const char *text, uint64_t cur, bool delta, bool shrink, uint64_t *out)
{
    uint64_t v;
    if (vv_virsh_parse_scaled("capacity", text, &v) < 0)
        return -1;
    if (!delta) {
        *out = v;
    } else if (shrink) {
        if (v >= cur) {
            vv_virsh_error("Can't shrink capacity below zero");
            return -1;
        }
        *out = cur - v;
    } else {
        *out = cur + v;
    }
    return 0;
}

/* vol-resize: change a volume's capacity. */
int
cmd_vol_resize(int argc, char **argv)
{
    vv_arg args[] = {
        VV_REQ("vol"),
        VV_REQ("capacity"),
        VV_VAL("pool"), VV_FLAG("allocate"), VV_FLAG("delta"), VV_FLAG("shrink"),
    };
    int r = vv_virsh_parse(argc, argv, args, N(args));
    if (r)
        return r == VV_PARSE_HELP ? 0 : r;
    /* As virsh: "-SIZE" means --delta, and needs --shrink. */
    const char *size = args[1].value;
    bool delta = args[4].set;
    if (size[0] == '-') {
        if (!args[5].set) {
            vv_virsh_error("negative size requires --shrink");
            return 1;
        }
        size++;
        delta = true;
    }
    vdisk_registry *reg;
    if (vv_open_registry(&reg) < 0)
        return 1;
    vdisk_pool *pool;
    char *name;
    r = 1;
    if (vv_lookup_vol(reg, args[2].set ? args[2].value : NULL, args[0].value, &pool, &name) == 0) {
        vdisk_vol_def d;
        vdisk_error err = { 0 };
        uint64_t cap;
        if (vdisk_vol_lookup(pool, name, &d, &err) < 0) {
            vv_virsh_report(&err);
        } else if (new_capacity(size, d.capacity, delta, args[5].set, &cap) == 0) {
            unsigned flags = (args[3].set ? VDISK_VOL_RESIZE_ALLOCATE : 0) |
                             (args[5].set ? VDISK_VOL_RESIZE_SHRINK : 0);
            vv_progress prog;
            vv_progress_init(&prog, true, 1.0);
            int q = vdisk_vol_resize(pool, name, cap, flags, vv_progress_cb, &prog, &err);
            vv_progress_end(&prog, q == 0);
            if (q < 0) {
                vv_virsh_error("Failed to change size of volume '%s' %s %s", name, delta ? "by" : "to", size);
                vv_virsh_report(&err);
            } else {
                printf("Size of volume '%s' successfully changed %s %s\n", name, delta ? "by" : "to", size);
                r = 0;
            }
        }
        vdisk_vol_def_clear(&d);
        free(name);
        vdisk_pool_free(pool);
    }
    vdisk_registry_close(reg);
    return r;
}
