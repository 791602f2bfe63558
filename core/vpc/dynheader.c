/* libvdisk — the VHD dynamic disk header (spec, "Dynamic Disk Header
 * Format"): cookie "cxsparse", data offset, table offset, header version,
 * max table entries, block size, checksum, parent unique id, parent time
 * stamp, reserved, parent Unicode name (UTF-16BE, 512 bytes), eight parent
 * locator entries of 24 bytes, reserved up to 1024 bytes.
 */
#include <errno.h>
#include <string.h>

#include "vpc.h"

#define D_COOKIE 0
#define D_DATA_OFFSET 8
#define D_TABLE_OFFSET 16
#define D_VERSION 24
#define D_MAX_ENTRIES 28
#define D_BLOCK_SIZE 32
#define D_CHECKSUM 36
#define D_PARENT_UUID 40
#define D_PARENT_TIME 56
#define D_PARENT_NAME 64
#define D_LOCATORS 576
#define LOCATOR_SIZE 24

int
vpc_dynheader_parse(const uint8_t *buf, const char *name, vpc_dynheader *d, vdisk_error *err)
{
    if (memcmp(buf + D_COOKIE, VPC_DYN_COOKIE, 8) != 0)
        return vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL,
                                    "%s: VHD dynamic disk header has no \"cxsparse\" cookie",
                                    name);
    memset(d, 0, sizeof(*d));
    d->data_offset = vpc_be64(buf + D_DATA_OFFSET);
    d->table_offset = vpc_be64(buf + D_TABLE_OFFSET);
    d->version = vpc_be32(buf + D_VERSION);
    d->max_table_entries = vpc_be32(buf + D_MAX_ENTRIES);
    d->block_size = vpc_be32(buf + D_BLOCK_SIZE);
    d->checksum = vpc_be32(buf + D_CHECKSUM);
    memcpy(d->parent_uuid, buf + D_PARENT_UUID, 16);
    d->parent_timestamp = vpc_be32(buf + D_PARENT_TIME);
    memcpy(d->parent_name, buf + D_PARENT_NAME, sizeof(d->parent_name));
    for (int i = 0; i < VPC_PARENT_LOCATORS; i++) {
        const uint8_t *l = buf + D_LOCATORS + i * LOCATOR_SIZE;
        d->loc[i].platform = vpc_be32(l);
        d->loc[i].space = vpc_be32(l + 4);
        d->loc[i].length = vpc_be32(l + 8);
        d->loc[i].offset = vpc_be64(l + 16);
    }
    /* QEMU does not check this checksum; a mismatch is still a damaged
     * header, and reading a BAT it describes would be guesswork. */
    uint32_t want = vpc_checksum(buf, VPC_DYNHDR_SIZE, D_CHECKSUM);
    if (d->checksum != want)
        return vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL,
                                    "%s: VHD dynamic disk header checksum is 0x%08x, expected "
                                    "0x%08x (the header is damaged)", name, d->checksum, want);
    return 0;
}

void
vpc_dynheader_build(const vpc_dynheader *d, uint8_t *buf)
{
    memset(buf, 0, VPC_DYNHDR_SIZE);
    memcpy(buf + D_COOKIE, VPC_DYN_COOKIE, 8);
    vpc_put64(buf + D_DATA_OFFSET, d->data_offset);
    vpc_put64(buf + D_TABLE_OFFSET, d->table_offset);
    vpc_put32(buf + D_VERSION, d->version);
    vpc_put32(buf + D_MAX_ENTRIES, d->max_table_entries);
    vpc_put32(buf + D_BLOCK_SIZE, d->block_size);
    memcpy(buf + D_PARENT_UUID, d->parent_uuid, 16);
    vpc_put32(buf + D_PARENT_TIME, d->parent_timestamp);
    memcpy(buf + D_PARENT_NAME, d->parent_name, sizeof(d->parent_name));
    for (int i = 0; i < VPC_PARENT_LOCATORS; i++) {
        uint8_t *l = buf + D_LOCATORS + i * LOCATOR_SIZE;
        vpc_put32(l, d->loc[i].platform);
        vpc_put32(l + 4, d->loc[i].space);
        vpc_put32(l + 8, d->loc[i].length);
        vpc_put64(l + 16, d->loc[i].offset);
    }
    vpc_put32(buf + D_CHECKSUM, vpc_checksum(buf, VPC_DYNHDR_SIZE, D_CHECKSUM));
}
