/* libvdisk — zlib streams kept between requests of a VMDK stream extent.
 *
 * A deflate state is about 256 KiB, an inflate state 40 KiB, and a read
 * window (stream.c) up to 512 KiB.  Made and freed per request, they cost
 * more than the work: glibc returns such blocks to the kernel (madvise),
 * and every return interrupts the other CPUs to flush their TLBs.  So
 * request paths take a stream from this pool and give it back; the pool
 * holds at most what was in use at once (one per convert worker).
 */
#include <stdlib.h>
#include <string.h>

#include "vmdk.h"

void
vmdk_zpool_init(vmdk_zpool *p)
{
    memset(p, 0, sizeof(*p));
    pthread_mutex_init(&p->lock, NULL);
}

vmdk_zstream *
vmdk_zpool_get(vmdk_zpool *p, bool deflating)
{
    pthread_mutex_lock(&p->lock);
    vmdk_zstream **head = deflating ? &p->deflaters : &p->inflaters;
    vmdk_zstream *zs = *head;
    if (zs)
        *head = zs->next;
    pthread_mutex_unlock(&p->lock);
    if (!zs && (zs = calloc(1, sizeof(*zs))))
        zs->deflating = deflating;
    return zs;
}

void
vmdk_zpool_put(vmdk_zpool *p, vmdk_zstream *zs)
{
    if (!zs)
        return;
    pthread_mutex_lock(&p->lock);
    vmdk_zstream **head = zs->deflating ? &p->deflaters : &p->inflaters;
    zs->next = *head;
    *head = zs;
    pthread_mutex_unlock(&p->lock);
}

static void
free_list(vmdk_zstream *zs)
{
    while (zs) {
        vmdk_zstream *next = zs->next;
        if (zs->ready && zs->deflating)
            deflateEnd(&zs->z);
        else if (zs->ready)
            inflateEnd(&zs->z);
        free(zs->buf);
        free(zs);
        zs = next;
    }
}

void
vmdk_zpool_destroy(vmdk_zpool *p)
{
    free_list(p->deflaters);
    free_list(p->inflaters);
    pthread_mutex_destroy(&p->lock);
    memset(p, 0, sizeof(*p));
}
