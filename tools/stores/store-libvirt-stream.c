/* vdisk-virsh -c URI — a daemon volume's bytes through a libvirt stream
 * (store-libvirt.h): virStreamSendAll / virStreamRecvAll, or their sparse
 * variants (holes travel as holes).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store-libvirt.h"

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
move_bytes(virStorageVolPtr vol, virStreamPtr st, int *fd, bool upload, uint64_t offset, uint64_t length,
           bool sparse, vdisk_store_transfer_step *step)
{
    *step = VDISK_STORE_XFER_START;
    if (upload) {
        unsigned flags = sparse ? VIR_STORAGE_VOL_UPLOAD_SPARSE_STREAM : 0;
        if (virStorageVolUpload(vol, st, offset, length, flags) < 0)
            return -1;
        *step = VDISK_STORE_XFER_DATA;
        return (sparse ? virStreamSparseSendAll(st, source, in_data, skip_source, fd)
                       : virStreamSendAll(st, source, fd)) < 0 ? -1 : 0;
    }
    unsigned flags = sparse ? VIR_STORAGE_VOL_DOWNLOAD_SPARSE_STREAM : 0;
    if (virStorageVolDownload(vol, st, offset, length, flags) < 0)
        return -1;
    *step = VDISK_STORE_XFER_DATA;
    return (sparse ? virStreamSparseRecvAll(st, sink, skip_sink, fd) : virStreamRecvAll(st, sink, fd)) < 0 ? -1 : 0;
}

/* vol_transfer: a stream, finished once every byte moved (the daemon
 * reports no progress). */
int
libvirt_vol_transfer(vdisk_store_vol *vol, int fd, bool upload, uint64_t offset, uint64_t length, bool sparse,
                     vdisk_progress_fn progress, void *opaque, vdisk_store_transfer_step *step, vdisk_error *err)
{
    (void)progress, (void)opaque;
    libvirt_vol *v = (libvirt_vol *)vol;
    *step = VDISK_STORE_XFER_STREAM;
    virStreamPtr st = virStreamNew(((libvirt_store *)vol->store)->conn, 0);
    if (!st)
        return vr_error(err);
    int r = 0;
    if (move_bytes(v->vol, st, &fd, upload, offset, length, sparse, step) < 0) {
        r = vr_error(err);          /* before virStreamAbort resets libvirt's error */
        virStreamAbort(st);
    } else if (virStreamFinish(st) < 0) {
        *step = VDISK_STORE_XFER_FINISH;
        r = vr_error(err);
    }
    virStreamFree(st);
    return r;
}
