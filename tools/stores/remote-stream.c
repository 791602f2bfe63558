/* vdisk-virsh -c URI — vol-upload and vol-download through a libvirt
 * stream (virStreamSendAll / virStreamRecvAll, or their sparse variants
 * with --sparse: holes travel as holes).  Messages as virsh's.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "remote-internal.h"
#include "virsh-common.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* Stream source: the next bytes of the local file. */
static int
source(virStreamPtr st, char *data, size_t nbytes, void *opaque)
{
    int fd = *(int *)opaque;
    ssize_t got;
    do
        got = read(fd, data, nbytes);
    while (got < 0 && errno == EINTR);
    return (int)got;
}

/* Sparse source: is the file at its current offset in data or in a hole,
 * and for how long (SEEK_DATA / SEEK_HOLE)? */
static int
in_data(virStreamPtr st, int *data, long long *length, void *opaque)
{
    int fd = *(int *)opaque;
    off_t cur = lseek(fd, 0, SEEK_CUR), next, end;
    struct stat sb;
    if (cur < 0 || fstat(fd, &sb) < 0)
        return -1;
    next = lseek(fd, cur, SEEK_DATA);
    if (next < 0 && errno != ENXIO)
        return -1;
    if (next < 0 || next > cur) {
        /* A hole up to the next data, or to the end of the file. */
        *data = 0;
        *length = (next < 0 ? (sb.st_size > cur ? sb.st_size : cur) : next) - cur;
    } else {
        *data = 1;
        end = lseek(fd, cur, SEEK_HOLE);
        if (end < 0)
            return -1;
        *length = end - cur;
    }
    return lseek(fd, cur, SEEK_SET) < 0 ? -1 : 0;
}

/* Sparse source: step over a hole already announced. */
static int
skip_source(virStreamPtr st, long long length, void *opaque)
{
    return lseek(*(int *)opaque, length, SEEK_CUR) < 0 ? -1 : 0;
}

/* Stream sink: write what arrived into the local file. */
static int
sink(virStreamPtr st, const char *data, size_t nbytes, void *opaque)
{
    int fd = *(int *)opaque;
    size_t done = 0;
    while (done < nbytes) {
        ssize_t w = write(fd, data + done, nbytes - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return -1;
        done += (size_t)w;
    }
    return (int)nbytes;
}

/* Sparse sink: a hole arrived; leave one in the file. */
static int
skip_sink(virStreamPtr st, long long length, void *opaque)
{
    int fd = *(int *)opaque;
    struct stat sb;
    off_t at = lseek(fd, length, SEEK_CUR);
    if (at < 0 || fstat(fd, &sb) < 0)
        return -1;
    /* A regular file must grow to cover a trailing hole. */
    return S_ISREG(sb.st_mode) && sb.st_size < at && ftruncate(fd, at) < 0 ? -1 : 0;
}

/* Start the transfer on the daemon's side and move the bytes. */
static int
move_bytes(vr_ctx *c, virStreamPtr st, int *fd, vv_arg *args, size_t n, bool upload)
{
    const char *vol = args[0].value;
    vv_arg *o = vv_arg_get(args, n, "offset"), *l = vv_arg_get(args, n, "length");
    uint64_t offset = 0, length = 0;
    bool sparse = vv_arg_get(args, n, "sparse")->set;
    if ((o->set && vv_virsh_parse_scaled("offset", o->value, &offset) < 0) ||
        (l->set && vv_virsh_parse_scaled("length", l->value, &length) < 0))
        return -1;
    if (upload) {
        unsigned flags = sparse ? VIR_STORAGE_VOL_UPLOAD_SPARSE_STREAM : 0;
        if (virStorageVolUpload(c->vol, st, offset, length, flags) < 0) {
            vv_virsh_error("cannot upload to volume %s", vol);
            return -1;
        }
        if ((sparse ? virStreamSparseSendAll(st, source, in_data, skip_source, fd)
                    : virStreamSendAll(st, source, fd)) < 0) {
            vv_virsh_error("cannot send data to volume %s", vol);
            return -1;
        }
        return 0;
    }
    unsigned flags = sparse ? VIR_STORAGE_VOL_DOWNLOAD_SPARSE_STREAM : 0;
    if (virStorageVolDownload(c->vol, st, offset, length, flags) < 0) {
        vv_virsh_error("cannot download from volume %s", vol);
        return -1;
    }
    if ((sparse ? virStreamSparseRecvAll(st, sink, skip_sink, fd) : virStreamRecvAll(st, sink, fd)) < 0) {
        vv_virsh_error("cannot receive data from volume %s", vol);
        return -1;
    }
    return 0;
}

/* Shared body: look up, open the local file, transfer, finish. */
static int
transfer(const char *uri, int argc, char **argv, bool upload)
{
    vv_arg args[] = {
        VV_REQ("vol"), VV_REQ("file"),
        VV_VAL("pool"), VV_VAL("offset"), VV_VAL("length"), VV_FLAG("sparse"),
    };
    vr_ctx c;
    int r = vr_begin_vol(uri, argc, argv, args, N(args), &c);
    if (r != VV_GO)
        return r;
    const char *file = args[1].value;
    bool created = false;
    virStreamPtr st = NULL;
    /* Opened once the volume is found: a typo must not truncate a file. */
    int fd = vv_open_local(file, upload, &created);
    r = 1;
    if (fd >= 0 && !(st = virStreamNew(c.conn, 0))) {
        vv_virsh_error("cannot create a new stream");
        vr_report();
    } else if (fd >= 0 && move_bytes(&c, st, &fd, args, N(args), upload) == 0) {
        r = 0;
    } else if (fd >= 0) {
        vr_report();         /* before virStreamAbort resets libvirt's error */
    }
    if (fd >= 0 && close(fd) < 0 && r == 0) {
        vv_virsh_error("cannot close file %s", file);
        r = 1;
    }
    if (st && r == 0 && virStreamFinish(st) < 0) {
        vv_virsh_error("cannot close volume %s", args[0].value);
        vr_report();
        r = 1;
    } else if (st && r != 0) {
        virStreamAbort(st);
    }
    if (st)
        virStreamFree(st);
    if (r != 0 && created)
        unlink(file);     /* a failed download leaves no file it created */
    vr_end(&c);
    return r;
}

/* vol-upload: send a local file's bytes into a volume. */
int
vr_vol_upload(const char *uri, int argc, char **argv)
{
    return transfer(uri, argc, argv, true);
}

/* vol-download: receive a volume's bytes into a local file. */
int
vr_vol_download(const char *uri, int argc, char **argv)
{
    return transfer(uri, argc, argv, false);
}
