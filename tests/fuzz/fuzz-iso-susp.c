/* libFuzzer target: the SUSP / Rock Ridge parser (NM, PX, SL, TF, CL, RE,
 * CE continuation areas).
 *
 * The input is spliced into a fixed minimal image: its first byte says how
 * many of the following bytes (at most 180) form the system use area of the
 * one file record in the root directory; the rest fills sector 20 onwards,
 * where CE entries can point (sector 20, any offset) and where the file's
 * data is (a ZF entry makes it zisofs data, which is inflated).  The root's "."
 * record carries SP and an RRIP ER, so the reader parses Rock Ridge.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <vdisk/vdisk.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define SECTOR 2048u
#define ROOT_LBA 18u
#define CE_LBA 20u
#define SU_MAX 180u

static void
both32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++) {
        p[i] = (uint8_t)(v >> (8 * i));
        p[7 - i] = (uint8_t)(v >> (8 * i));
    }
}

/* A directory record at p; returns its length. */
static size_t
record(uint8_t *p, uint32_t lba, uint32_t size, uint8_t flags, const char *id, size_t id_len,
       const uint8_t *su, size_t su_len)
{
    size_t n = 33 + id_len + !(id_len & 1) + su_len;
    n += n & 1;
    memset(p, 0, n);
    p[0] = (uint8_t)n;
    both32(p + 2, lba);
    both32(p + 10, size);
    p[25] = flags;
    p[28] = p[31] = 1;
    p[32] = (uint8_t)id_len;
    memcpy(p + 33, id, id_len);
    if (su_len)
        memcpy(p + 33 + id_len + !(id_len & 1), su, su_len);
    return n;
}

static void
build(uint8_t *img, const uint8_t *su, size_t su_len, size_t total_sectors, uint32_t rest)
{
    uint8_t *pvd = img + 16 * SECTOR;
    pvd[0] = 1;
    memcpy(pvd + 1, "CD001\1", 6);
    both32(pvd + 80, (uint32_t)total_sectors);
    pvd[128] = 0x00;
    pvd[129] = 0x08;
    pvd[130] = 0x08;
    pvd[131] = 0x00;
    record(pvd + 156, ROOT_LBA, SECTOR, 2, "\0", 1, NULL, 0);
    memcpy(img + 17 * SECTOR, "\377CD001\1", 7);
    static const uint8_t dot_su[] = { 'S', 'P', 7, 1, 0xBE, 0xEF, 0,
                                      'E', 'R', 18, 1, 10, 0, 0, 1, 'R', 'R', 'I', 'P', '_', '1', '9', '9', '1', 'A' };
    uint8_t *d = img + ROOT_LBA * SECTOR;
    size_t n = record(d, ROOT_LBA, SECTOR, 2, "\0", 1, dot_su, sizeof(dot_su));
    n += record(d + n, ROOT_LBA, SECTOR, 2, "\1", 1, NULL, 0);
    n += record(d + n, CE_LBA, rest, 0, "F;1", 3, su, su_len);
    record(d + n, ROOT_LBA, SECTOR, 2, "D", 1, su, su_len);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t su_len = data[0] % (SU_MAX + 1);
    if (su_len > size - 1)
        su_len = size - 1;
    size_t rest = size - 1 - su_len;
    size_t total = CE_LBA * SECTOR + rest;
    uint8_t *img = calloc(1, total);
    if (!img)
        return 0;
    build(img, data + 1, su_len, (total + SECTOR - 1) / SECTOR, (uint32_t)rest);
    memcpy(img + CE_LBA * SECTOR, data + 1 + su_len, rest);
    int fd = memfd_create("fuzz-iso-susp", MFD_CLOEXEC);
    if (fd >= 0 && write(fd, img, total) == (ssize_t)total) {
        char path[64];
        snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
        vdisk_iso *iso;
        vdisk_error err;
        if (vdisk_iso_open(path, VDISK_ISO_NAMES_ROCK, &iso, &err) == 0) {
            vdisk_iso_entry *v;
            size_t n;
            if (vdisk_iso_list(iso, "/", &v, &n, &err) == 0) {
                /* Read each file's head: zisofs (ZF) data inflates here. */
                static uint8_t buf[4096];
                for (size_t i = 0; i < n; i++) {
                    size_t len = v[i].size < sizeof(buf) ? (size_t)v[i].size : sizeof(buf);
                    (void)vdisk_iso_pread(iso, &v[i], buf, len, 0, &err);
                }
                vdisk_iso_entries_free(v, n);
            }
            vdisk_iso_close(iso);
        }
    }
    if (fd >= 0)
        close(fd);
    free(img);
    return 0;
}
