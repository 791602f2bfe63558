/* vdisk-virsh vol-resize, as virsh: a new capacity, or with --delta a
 * change of it ("-1G" with --shrink --delta to shrink by 1 GiB).
 *
 *   vol-resize <vol> <capacity> [--pool POOL] [--allocate] [--delta] [--shrink]
 */
#include <stdio.h>
#include <stdlib.h>

#include "commands.h"
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

/* Resize to the capacity the arguments ask for; prints virsh's lines. */
static int
resize(vv_ctx *c, const char *size, bool delta, bool allocate, bool shrink)
{
    vdisk_vol_def d;
    vdisk_error err = { 0 };
    uint64_t cap;
    int r = 1;
    if (vdisk_vol_lookup(c->pool, c->name, &d, &err) < 0) {
        vv_virsh_report(&err);
    } else if (new_capacity(size, d.capacity, delta, shrink, &cap) == 0) {
        unsigned flags = (allocate ? VDISK_VOL_RESIZE_ALLOCATE : 0) | (shrink ? VDISK_VOL_RESIZE_SHRINK : 0);
        vv_lazy_progress prog = VV_LAZY_PROGRESS_INIT;
        int q = vdisk_vol_resize(c->pool, c->name, cap, flags, vv_lazy_progress_cb, &prog, &err);
        vv_lazy_progress_end(&prog, q == 0);
        if (q < 0) {
            vv_virsh_error("Failed to change size of volume '%s' %s %s", c->name, delta ? "by" : "to", size);
            vv_virsh_report(&err);
        } else {
            printf("Size of volume '%s' successfully changed %s %s\n", c->name, delta ? "by" : "to", size);
            r = 0;
        }
    }
    vdisk_vol_def_clear(&d);
    return r;
}

/* vol-resize: change a volume's capacity. */
int
cmd_vol_resize(int argc, char **argv)
{
    vv_arg args[] = {
        VV_REQ("vol"), VV_REQ("capacity"),
        VV_VAL("pool"), VV_FLAG("allocate"), VV_FLAG("delta"), VV_FLAG("shrink"),
    };
    vv_ctx c;
    int r = vv_begin_vol(argc, argv, args, N(args), &c);
    if (r != VV_GO)
        return r;
    /* As virsh: "-SIZE" means --delta, and needs --shrink. */
    const char *size = args[1].value;
    bool delta = args[4].set;
    if (size[0] == '-' && !args[5].set) {
        vv_virsh_error("negative size requires --shrink");
        r = 1;
    } else {
        if (size[0] == '-') {
            size++;
            delta = true;
        }
        r = resize(&c, size, delta, args[3].set, args[5].set);
    }
    vv_end(&c);
    return r;
}
