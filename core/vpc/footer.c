/* libvdisk — the VHD hard disk footer: parse, build, checksum, and the
 * virtual size rule.
 *
 * Layout (spec, "Hard Disk Footer Format"): cookie "conectix", features,
 * file format version, data offset, time stamp, creator application,
 * creator version, creator host OS, original size, current size, disk
 * geometry (cylinders, heads, sectors per track), disk type, checksum,
 * unique id, saved state, then reserved bytes up to 512.
 */
#include <errno.h>
#include <string.h>

#include "vpc.h"

#define F_COOKIE 0
#define F_FEATURES 8
#define F_VERSION 12
#define F_DATA_OFFSET 16
#define F_TIMESTAMP 24
#define F_CREATOR_APP 28
#define F_CREATOR_VER 32
#define F_CREATOR_OS 36
#define F_ORIG_SIZE 40
#define F_CUR_SIZE 48
#define F_GEOMETRY 56
#define F_TYPE 60
#define F_CHECKSUM 64
#define F_UUID 68
#define F_SAVED_STATE 84

uint32_t
vpc_checksum(const uint8_t *buf, size_t len, size_t checksum_at)
{
    uint32_t sum = 0;
    for (size_t i = 0; i < len; i++)
        if (i < checksum_at || i >= checksum_at + 4)
            sum += buf[i];
    return ~sum;
}

int
vpc_footer_parse(const uint8_t *buf, const char *name, vpc_footer *f, vdisk_error *err)
{
    if (memcmp(buf + F_COOKIE, VPC_COOKIE, 8) != 0)
        return vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL,
                                    "%s: not a VHD image (no \"conectix\" footer)", name);
    memset(f, 0, sizeof(*f));
    f->features = vpc_be32(buf + F_FEATURES);
    f->version = vpc_be32(buf + F_VERSION);
    f->data_offset = vpc_be64(buf + F_DATA_OFFSET);
    f->timestamp = vpc_be32(buf + F_TIMESTAMP);
    memcpy(f->creator_app, buf + F_CREATOR_APP, 4);
    f->creator_major = vpc_be16(buf + F_CREATOR_VER);
    f->creator_minor = vpc_be16(buf + F_CREATOR_VER + 2);
    memcpy(f->creator_os, buf + F_CREATOR_OS, 4);
    f->original_size = vpc_be64(buf + F_ORIG_SIZE);
    f->current_size = vpc_be64(buf + F_CUR_SIZE);
    f->cylinders = vpc_be16(buf + F_GEOMETRY);
    f->heads = buf[F_GEOMETRY + 2];
    f->sectors = buf[F_GEOMETRY + 3];
    f->type = vpc_be32(buf + F_TYPE);
    f->checksum = vpc_be32(buf + F_CHECKSUM);
    memcpy(f->uuid, buf + F_UUID, 16);
    f->saved_state = buf[F_SAVED_STATE];
    uint32_t want = vpc_checksum(buf, VPC_FOOTER_SIZE, F_CHECKSUM);
    if (f->checksum != want)
        return vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL,
                                    "%s: VHD footer checksum is 0x%08x, expected 0x%08x "
                                    "(the footer is damaged)", name, f->checksum, want);
    return 0;
}

void
vpc_footer_build(const vpc_footer *f, uint8_t *buf)
{
    memset(buf, 0, VPC_FOOTER_SIZE);
    memcpy(buf + F_COOKIE, VPC_COOKIE, 8);
    vpc_put32(buf + F_FEATURES, f->features);
    vpc_put32(buf + F_VERSION, f->version);
    vpc_put64(buf + F_DATA_OFFSET, f->data_offset);
    vpc_put32(buf + F_TIMESTAMP, f->timestamp);
    memcpy(buf + F_CREATOR_APP, f->creator_app, 4);
    vpc_put16(buf + F_CREATOR_VER, f->creator_major);
    vpc_put16(buf + F_CREATOR_VER + 2, f->creator_minor);
    memcpy(buf + F_CREATOR_OS, f->creator_os, 4);
    vpc_put64(buf + F_ORIG_SIZE, f->original_size);
    vpc_put64(buf + F_CUR_SIZE, f->current_size);
    vpc_put16(buf + F_GEOMETRY, f->cylinders);
    buf[F_GEOMETRY + 2] = f->heads;
    buf[F_GEOMETRY + 3] = f->sectors;
    vpc_put32(buf + F_TYPE, f->type);
    memcpy(buf + F_UUID, f->uuid, 16);
    buf[F_SAVED_STATE] = f->saved_state;
    vpc_put32(buf + F_CHECKSUM, vpc_checksum(buf, VPC_FOOTER_SIZE, F_CHECKSUM));
}

/* Creator applications whose disks are sized by the footer's current size
 * (Hyper-V, disk2vhd, QEMU with force_size, XenServer, XenConverter);
 * everything else (Virtual PC, QEMU without force_size, unknown tools)
 * by the CHS geometry, as Virtual PC sizes them. */
static bool
uses_current_size(const char app[4])
{
    static const char *const apps[] = { "win ", "qem2", "d2v ", "CTXS" };
    for (size_t i = 0; i < sizeof(apps) / sizeof(apps[0]); i++)
        if (memcmp(app, apps[i], 4) == 0)
            return true;
    return memcmp(app, "tap", 4) == 0;   /* "tap\0" */
}

uint64_t
vpc_footer_virtual_size(const vpc_footer *f)
{
    uint64_t chs = (uint64_t)f->cylinders * f->heads * f->sectors;
    /* A maximal geometry cannot express the size: the footer's size is
     * the only one there is (qemu-img writes such disks past 127 GiB). */
    if (uses_current_size(f->creator_app) || chs == VPC_CHS_MAX_SECTORS)
        return f->current_size / VPC_SECTOR * VPC_SECTOR;
    return chs * VPC_SECTOR;
}
