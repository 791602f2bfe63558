/* libvdisk — qcow2 I/O buffers: a few reused, aligned buffers per image
 * (copy-on-write regions, compressed clusters, encryption bounce buffers),
 * so that concurrent requests do not spread the heap over many malloc
 * arenas.
 */
#include <stdlib.h>

#include "qcow2.h"

/* Pooled buffers hold two clusters (a COW region or a compressed cluster
 * with its input) but never less than 128 KiB; at most 16 MiB are kept. */
#define POOL_MIN_BUF (128u << 10)
#define POOL_MAX_BYTES (16u << 20)

void
qcow2_pool_init(qcow2_state *s)
{
    pthread_mutex_init(&s->pool_lock, NULL);
    s->pool_buf_size = 2 * s->cluster_size > POOL_MIN_BUF ? 2 * s->cluster_size : POOL_MIN_BUF;
    s->pool_max = (unsigned)(POOL_MAX_BYTES / s->pool_buf_size);
    if (s->pool_max < 2)
        s->pool_max = 2;
}

void
qcow2_pool_destroy(qcow2_state *s)
{
    for (unsigned i = 0; i < s->pool_n; i++)
        free(s->pool[i]);
    free(s->pool);
    s->pool = NULL;
    s->pool_n = 0;
    pthread_mutex_destroy(&s->pool_lock);
}

uint8_t *
qcow2_buf_get(qcow2_state *s, size_t len)
{
    if (len > s->pool_buf_size)
        return vdisk_alloc_aligned(len, false);
    void *b = NULL;
    pthread_mutex_lock(&s->pool_lock);
    if (s->pool_n)
        b = s->pool[--s->pool_n];
    pthread_mutex_unlock(&s->pool_lock);
    return b ? b : vdisk_alloc_aligned(s->pool_buf_size, false);
}

void
qcow2_buf_put(qcow2_state *s, uint8_t *buf, size_t len)
{
    if (!buf)
        return;
    if (len <= s->pool_buf_size) {
        pthread_mutex_lock(&s->pool_lock);
        if (!s->pool)
            s->pool = calloc(s->pool_max, sizeof(*s->pool));
        if (s->pool && s->pool_n < s->pool_max) {
            s->pool[s->pool_n++] = buf;
            buf = NULL;
        }
        pthread_mutex_unlock(&s->pool_lock);
    }
    free(buf);
}
