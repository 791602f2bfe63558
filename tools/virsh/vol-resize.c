/* vdisk-virsh vol-resize, as virsh, on any store: a new capacity, or with
 * --delta a change of it ("-1G" with --shrink means --delta: shrink by 1 GiB).
 *
 *   vol-resize <vol> <capacity> [--pool POOL] [--allocate] [--delta] [--shrink]
 */
#include <stdio.h>

#include "commands.h"
#include "virsh-args.h"
#include "store-open.h"

/* Resize as the flags say; prints virsh's lines. */
static int
resize(vv_store_ctx *c, const char *size, unsigned flags)
{
    const char *how = flags & VDISK_STORE_RESIZE_DELTA ? "by" : "to";
    uint64_t cap;
    if (vv_virsh_parse_scaled("capacity", size, &cap) < 0)
        return 1;
    vdisk_error err = { 0 };
    vv_lazy_progress prog = VV_LAZY_PROGRESS_INIT;
    int q = c->store->ops->vol_resize(c->vol, cap, flags, vv_lazy_progress_cb, &prog, &err);
    vv_lazy_progress_end(&prog, q == 0);
    if (q < 0) {
        vv_virsh_error("Failed to change size of volume '%s' %s %s", c->vol->name, how, size);
        vv_store_report(&err);
        return 1;
    }
    printf("Size of volume '%s' successfully changed %s %s\n", c->vol->name, how, size);
    return 0;
}

/* vol-resize: change a volume's capacity. */
int
cmd_vol_resize(const char *uri, int argc, char **argv)
{
    vv_arg args[] = {
        VV_REQ("vol"), VV_REQ("capacity"),
        VV_VAL("pool"), VV_FLAG("allocate"), VV_FLAG("delta"), VV_FLAG("shrink"),
    };
    vv_store_ctx c;
    int r = vv_store_begin_vol(uri, argc, argv, args, VV_N(args), &c);
    if (r != VV_GO)
        return r;
    const char *size = vv_arg_get(args, VV_N(args), "capacity")->value;
    bool shrink = vv_arg_get(args, VV_N(args), "shrink")->set;
    unsigned flags = (vv_arg_get(args, VV_N(args), "allocate")->set ? VDISK_STORE_RESIZE_ALLOCATE : 0) |
                     (vv_arg_get(args, VV_N(args), "delta")->set ? VDISK_STORE_RESIZE_DELTA : 0) |
                     (shrink ? VDISK_STORE_RESIZE_SHRINK : 0);
    /* As virsh: "-SIZE" means --delta, and needs --shrink. */
    if (size[0] == '-' && !shrink) {
        vv_virsh_error("negative size requires --shrink");
        r = 1;
    } else {
        if (size[0] == '-') {
            size++;
            flags |= VDISK_STORE_RESIZE_DELTA;
        }
        r = resize(&c, size, flags);
    }
    vv_store_end(&c);
    return r;
}
