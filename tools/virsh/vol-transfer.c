/* vdisk-virsh vol-upload and vol-download, on any store: the bytes of a
 * volume from or to a local file, as virsh (with --offset, --length and
 * --sparse).
 *
 *   vol-upload <vol> <file> [--pool POOL] [--offset BYTES] [--length BYTES] [--sparse]
 *   vol-download <vol> <file> [--pool POOL] [--offset BYTES] [--length BYTES] [--sparse]
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "virsh-args.h"
#include "store-open.h"

typedef struct xfer {
    uint64_t offset, length;
    bool sparse;
} xfer;

static int
parse_xfer(vv_arg *args, size_t n, xfer *x)
{
    vv_arg *o = vv_arg_get(args, n, "offset"), *l = vv_arg_get(args, n, "length");
    memset(x, 0, sizeof(*x));
    x->sparse = vv_arg_get(args, n, "sparse")->set;
    if (o->set && vv_virsh_parse_scaled("offset", o->value, &x->offset) < 0)
        return -EINVAL;
    if (l->set && vv_virsh_parse_scaled("length", l->value, &x->length) < 0)
        return -EINVAL;
    return 0;
}

/* Open the local file as virsh does; errors are printed. */
static int
open_local(const char *file, bool upload, bool *created)
{
    if (upload) {
        int fd = open(file, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            vv_virsh_error("cannot read %s: %s", file, strerror(errno));
        return fd;
    }
    int fd = open(file, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd >= 0) {
        *created = true;
        return fd;
    }
    if (errno == EEXIST)
        fd = open(file, O_WRONLY | O_TRUNC | O_CLOEXEC);
    if (fd < 0)
        vv_virsh_error("cannot create %s: %s", file, strerror(errno));
    return fd;
}

/* Transfer between the looked-up volume and the local file fd; prints
 * virsh's lines. */
static int
move_bytes(vv_store_ctx *c, int fd, const xfer *x, bool upload, const char *vol)
{
    vdisk_store_transfer_step step;
    vdisk_error err = { 0 };
    vv_lazy_progress prog = VV_LAZY_PROGRESS_INIT;
    int r = c->store->ops->vol_transfer(c->vol, fd, upload, x->offset, x->length, x->sparse, vv_lazy_progress_cb,
                                        &prog, &step, &err);
    vv_lazy_progress_end(&prog, r == 0);
    if (r == 0)
        return 0;
    switch (step) {
    case VDISK_STORE_XFER_START:
        vv_virsh_error("cannot %s volume %s", upload ? "upload to" : "download from", vol);
        break;
    case VDISK_STORE_XFER_DATA:
        vv_virsh_error("cannot %s volume %s", upload ? "send data to" : "receive data from", vol);
        break;
    case VDISK_STORE_XFER_STREAM:
        vv_virsh_error("cannot create a new stream");
        break;
    case VDISK_STORE_XFER_FINISH:
        vv_virsh_error("cannot close volume %s", vol);
        break;
    }
    vv_store_report(&err);
    return 1;
}

/* Shared body: parse, look up, open the local file, transfer. */
static int
transfer(const char *uri, int argc, char **argv, bool upload)
{
    vv_arg args[] = {
        VV_REQ("vol"), VV_REQ("file"),
        VV_VAL("pool"), VV_VAL("offset"), VV_VAL("length"), VV_FLAG("sparse"),
    };
    vv_store_ctx c;
    int r = vv_store_begin_vol(uri, argc, argv, args, VV_N(args), &c);
    if (r != VV_GO)
        return r;
    const char *file = vv_arg_get(args, VV_N(args), "file")->value;
    xfer x;
    bool created = false;
    int fd = -1;
    r = 1;
    /* The local file is opened only once the volume is found and the
     * numbers read: a typo must not truncate an existing file. */
    if (parse_xfer(args, VV_N(args), &x) == 0 && (fd = open_local(file, upload, &created)) >= 0)
        r = move_bytes(&c, fd, &x, upload, vv_arg_get(args, VV_N(args), "vol")->value);
    if (fd >= 0 && close(fd) < 0 && r == 0) {
        vv_virsh_error("cannot close file %s", file);
        r = 1;
    }
    if (r != 0 && created)
        unlink(file);    /* a failed download leaves no file it created */
    vv_store_end(&c);
    return r;
}

/* vol-upload: write a local file's bytes into a volume. */
int
cmd_vol_upload(const char *uri, int argc, char **argv)
{
    return transfer(uri, argc, argv, true);
}

/* vol-download: copy a volume's bytes into a local file. */
int
cmd_vol_download(const char *uri, int argc, char **argv)
{
    return transfer(uri, argc, argv, false);
}
