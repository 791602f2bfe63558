/* libvdisk — VHD disk geometry: the spec's CHS calculation (appendix "CHS
 * Calculation") and the size qemu-img gives a new disk.
 *
 * Virtual PC sizes a disk by its geometry, which rounds the requested
 * sector count down.  qemu-img therefore grows the request sector by sector
 * until the geometry covers it, so that a converted disk is never
 * truncated; once the geometry is maximal (about 127 GiB) the footer's
 * size is the disk's size.  force_size=on keeps the size as given (the
 * geometry is then set to its maximum, which marks a size-sized disk), which
 * is what Azure needs: a whole number of MiB.
 */
#include <errno.h>

#include "vpc.h"

void
vpc_chs_for(uint64_t sectors, uint16_t *c, uint8_t *h, uint8_t *s)
{
    uint64_t cyl_heads;
    if (sectors > VPC_CHS_MAX_SECTORS)
        sectors = VPC_CHS_MAX_SECTORS;
    if (sectors >= (uint64_t)65535 * 16 * 63) {
        *s = 255;
        *h = 16;
        cyl_heads = sectors / *s;
    } else {
        *s = 17;
        cyl_heads = sectors / *s;
        uint64_t heads = (cyl_heads + 1023) / 1024;
        if (heads < 4)
            heads = 4;
        if (cyl_heads >= heads * 1024 || heads > 16) {
            *s = 31;
            heads = 16;
            cyl_heads = sectors / *s;
        }
        if (cyl_heads >= heads * 1024) {
            *s = 63;
            heads = 16;
            cyl_heads = sectors / *s;
        }
        *h = (uint8_t)heads;
    }
    *c = (uint16_t)(cyl_heads / *h);
}

int
vpc_rounded_size(uint64_t size, bool force_size, uint64_t *out, uint16_t *c, uint8_t *h, uint8_t *s)
{
    uint64_t sectors;
    if (force_size) {
        *c = VPC_CHS_MAX_C;
        *h = VPC_CHS_MAX_H;
        *s = VPC_CHS_MAX_S;
    } else {
        uint64_t want = size / VPC_SECTOR;
        if (want > VPC_CHS_MAX_SECTORS)
            want = VPC_CHS_MAX_SECTORS;
        *c = 0;
        *h = 0;
        *s = 0;
        /* Grow the request until its geometry covers it.  A few steps at
         * most: each cylinder holds at most 16 * 255 sectors. */
        for (uint64_t i = 0; want > (uint64_t)*c * *h * *s; i++)
            vpc_chs_for(want + i, c, h, s);
    }
    uint64_t chs = (uint64_t)*c * *h * *s;
    if (chs == VPC_CHS_MAX_SECTORS) {
        sectors = size / VPC_SECTOR;
        if (sectors > VPC_MAX_SECTORS)
            return -EFBIG;
    } else {
        sectors = chs;
    }
    *out = sectors * VPC_SECTOR;
    return 0;
}
