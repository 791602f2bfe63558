/* An in-memory LUKS header area for the crypto unit tests: the io and
 * flush callbacks of struct vdisk_luks_dev over a buffer, counting writes
 * and logging the offset of each write (-1 for a flush) in order. */
#ifndef VDISK_UNIT_LUKS_MEM_H
#define VDISK_UNIT_LUKS_MEM_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <vdisk/error.h>

#define LUKS_MEM_AREA (2u << 20)
#define LUKS_MEM_LOG 128

struct luks_mem {
    uint8_t *buf;               /* LUKS_MEM_AREA bytes */
    int writes;
    long long log[LUKS_MEM_LOG];
    int n;                      /* entries in log */
};

static inline int
luks_mem_io(void *opaque, void *buf, size_t len, uint64_t off, bool write, vdisk_error *err)
{
    struct luks_mem *m = opaque;
    if (off + len > LUKS_MEM_AREA)
        return vdisk_error_set(err, EINVAL, "past the area");
    if (!write) {
        memcpy(buf, m->buf + off, len);
        return 0;
    }
    memcpy(m->buf + off, buf, len);
    m->writes++;
    if (m->n < LUKS_MEM_LOG)
        m->log[m->n++] = (long long)off;
    return 0;
}

static inline int
luks_mem_flush(void *opaque, vdisk_error *err)
{
    struct luks_mem *m = opaque;
    (void)err;
    if (m->n < LUKS_MEM_LOG)
        m->log[m->n++] = -1;
    return 0;
}

#endif
