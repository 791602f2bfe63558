/* vdisk-virsh -c URI — vol-convert, done on the volume's file (see
 * store-libvirt-file.c, whose helpers open it); the daemon's pool is
 * refreshed afterwards so it sees the new volume.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <vdisk/image.h>
#include <vdisk/storage-xml.h>
#include <vdisk/volume.h>

#include "remote-internal.h"
#include "store-libvirt.h"
#include "virsh-common.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

typedef int (*vr_file_op)(vv_ctx *vc, vv_arg *args, size_t n, int op);

/* Parse, look up the volume through the daemon, open its pool's directory,
 * run op on the file, refresh the pool when op changed something. */
static int
run_on_file(const char *uri, int argc, char **argv, vv_arg *args, size_t n, vr_file_op op, int opnum,
            bool changes)
{
    vr_ctx c;
    int r = vr_begin_vol(uri, argc, argv, args, n, &c);
    if (r != VV_GO)
        return r;
    vdisk_secret_source src;
    vdisk_error err = { 0 };
    vv_ctx vc = { 0 };
    vr_secret_source_init(&src, c.conn);
    r = 1;
    if (!(c.pool = virStoragePoolLookupByVolume(c.vol))) {
        vv_virsh_error("failed to get parent pool");
        vr_report();
    } else if (vr_file_pool(c.pool, c.vol, &src, &vc.pool, &vc.name, &err) < 0) {
        vv_store_report(&err);
    } else {
        r = op(&vc, args, n, opnum);
        /* Refreshed even after a failure: a partial change is shown as it is. */
        if (changes && virStoragePoolRefresh(c.pool, 0) < 0) {
            vv_virsh_error("Failed to refresh pool %s", virStoragePoolGetName(c.pool));
            vr_report();
            r = 1;
        }
    }
    vv_end(&vc);
    vr_end(&c);
    return r;
}

/* Open the source as qemu-img convert does, with a reader's locks: while
 * a VM (or qemu-io) writes the image this fails with QEMU's lock message,
 * and while it is held no VM can start writing.  The copy itself reads
 * through the plugin's own handle. */
static int
hold_source(vv_ctx *vc, const char *vol, vdisk_image **img)
{
    vdisk_error err = { 0 };
    struct stat st;
    char *path = vdisk_vol_path(vc->pool, vc->name);
    int dfd = vdisk_pool_dirfd(vc->pool, &err);
    int r = -1;
    if (!path) {
        vdisk_error_set(&err, ENOMEM, "out of memory");
    } else if (dfd >= 0 && (fstatat(dfd, vc->name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))) {
        vdisk_error_set(&err, EINVAL, "%s: not a regular file of the pool", path);
    } else if (dfd >= 0) {
        vdisk_open_opts o = { .flags = VDISK_OPEN_NO_BACKING | VDISK_OPEN_NO_KEY };
        r = vdisk_open(path, &o, img, &err);
    }
    if (r < 0) {
        vv_virsh_error("Failed to convert vol from %s", vol);
        vv_virsh_report(&err);
    }
    free(path);
    return r;
}

/* The embedded vol-convert's copy, into the pool's directory. */
static int
convert_op(vv_ctx *vc, vv_arg *args, size_t n, int op)
{
    vdisk_image *held;
    if (hold_source(vc, vv_arg_get(args, n, "vol")->value, &held) < 0)
        return 1;
    int r = vv_vol_copy_exec(vc, args, n, true);
    vdisk_close(held, NULL);
    return r;
}

/* vol-convert: a copy of the volume's file in another format, made by
 * libvdisk in the pool's directory; the daemon then lists it. */
int
vr_vol_convert(const char *uri, int argc, char **argv)
{
    vv_arg args[] = {
        VV_REQ("vol"), VV_REQ("newname"),
        VV_VAL_REQ("format"), VV_VAL("pool"), VV_VAL("allocation"), VV_FLAG("prealloc-metadata"),
    };
    return run_on_file(uri, argc, argv, args, N(args), convert_op, 0, true);
}
