/* vdisk-io stress — a random metadata-heavy writer for the crash test
 * (tests/interop/test_qcow2_crash.py), which SIGKILLs it at random points:
 *
 *   stress SEED COUNT      COUNT operations (0: until killed)
 *
 * Operations, chosen by a seeded xorshift generator: writes of 512 B to
 * 256 KiB at any offset, whole-cluster compressed writes, write-zeroes,
 * discards, flushes, and (qcow2) internal snapshots taken, applied and
 * deleted (at most MAX_SNAPSHOTS at a time).  Each line "op N" on stdout
 * is printed after operation N returned, so the test knows the writer is
 * busy.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vdisk/snapshot.h>

#include "stress.h"

#define MAX_WRITE (256u << 10)
#define MAX_SNAPSHOTS 6

static uint64_t
next(uint64_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    return *x;
}

/* Take a snapshot, or apply or delete a random one (qcow2 only). */
static int
snapshot_op(vdisk_image *img, uint64_t *rng, vdisk_error *err)
{
    vdisk_snapshot_info *list;
    size_t n;
    int r = vdisk_snapshot_list(img, &list, &n, err);
    if (r < 0)
        return r;
    unsigned what = (unsigned)(next(rng) % 3);
    if (n == 0 || (what == 0 && n < MAX_SNAPSHOTS)) {
        char name[32];
        snprintf(name, sizeof(name), "s%llu", (unsigned long long)(next(rng) % 100000));
        r = vdisk_snapshot_create(img, name, err);
    } else {
        const char *id = list[next(rng) % n].id;
        r = what == 1 ? vdisk_snapshot_apply(img, id, err) : vdisk_snapshot_delete(img, id, err);
        /* Apply is refused while the image has dirty bitmaps (as QEMU's). */
        if (r == -EBUSY && what == 1)
            r = 0;
    }
    vdisk_snapshot_list_free(list, n);
    return r;
}

/* One random operation. */
static int
one_op(vdisk_image *img, uint64_t *rng, uint8_t *buf, vdisk_error *err)
{
    uint64_t size = vdisk_get_size(img), cs = vdisk_get_cluster_size(img);
    if (!cs)
        cs = 65536;
    unsigned kind = (unsigned)(next(rng) % 100);
    uint64_t len = 512 + next(rng) % MAX_WRITE;
    if (len > size)
        len = size;
    uint64_t off = next(rng) % (size - len + 1);
    memset(buf, (int)(next(rng) & 0xff) | 1, len);
    if (kind < 55)
        return vdisk_pwrite(img, buf, len, off, err);
    if (kind < 70 && cs <= MAX_WRITE) {
        off = off / cs * cs;
        len = off + cs <= size ? cs : size - off;
        return vdisk_pwrite_compressed(img, buf, len, off, err);
    }
    if (kind < 80)
        return vdisk_write_zeroes(img, len, off, (kind & 1) ? VDISK_ZERO_MAY_UNMAP : 0, err);
    if (kind < 90)
        return vdisk_discard(img, len, off, err);
    if (kind < 94 && vdisk_get_format(img) == VDISK_FORMAT_QCOW2)
        return snapshot_op(img, rng, err);
    return vdisk_flush(img, err);
}

int
vdisk_io_stress(vdisk_image *img, int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "vdisk-io: usage: stress SEED COUNT\n");
        return -1;
    }
    uint64_t rng = strtoull(argv[1], NULL, 0) * 2654435761u + 88172645463325252u;
    unsigned long long count = strtoull(argv[2], NULL, 0);
    uint8_t *buf = malloc(MAX_WRITE + 512);
    if (!buf)
        return -1;
    setvbuf(stdout, NULL, _IOLBF, 0);
    for (unsigned long long i = 1; count == 0 || i <= count; i++) {
        vdisk_error err;
        if (one_op(img, &rng, buf, &err) < 0) {
            fprintf(stderr, "vdisk-io: stress: operation %llu failed: %s\n", i, err.message);
            free(buf);
            return -1;
        }
        printf("op %llu\n", i);
    }
    free(buf);
    return 0;
}
