/* libvdisk — ISO 9660 directory records (ECMA-119 9.1).
 *
 *   0  length            1  extended attribute length
 *   2  extent (both 32)  10 data length (both 32)   18 recording date (7)
 *   25 flags   26 unit size   27 gap   28 volume sequence (both 16)
 *   32 identifier length   33 identifier, a pad byte when its length is
 *   even, then the system use area up to the record length.
 */
#include <errno.h>
#include <string.h>

#include "iso9660.h"

int
iso_dirrec_parse(const uint8_t *p, size_t avail, const char *where, iso_dirrec *out,
                 vdisk_error *err)
{
    memset(out, 0, sizeof(*out));
    if (avail < 1)
        return vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL,
                                    "%s: directory record runs past its sector", where);
    out->len = p[0];
    if (out->len < ISO_DIRREC_MIN)
        return vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL,
                                    "%s: directory record length %u is less than the "
                                    "%u-byte minimum", where, out->len, ISO_DIRREC_MIN);
    if (out->len > avail)
        return vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL,
                                    "%s: directory record of %u bytes crosses the end "
                                    "of its sector (%zu bytes left)", where, out->len, avail);
    out->name_len = p[32];
    if (out->name_len == 0 || 33u + out->name_len > out->len)
        return vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL,
                                    "%s: identifier length %u does not fit a %u-byte "
                                    "directory record", where, out->name_len, out->len);
    out->lba = iso_le32(p + 2);
    out->size = iso_le32(p + 10);
    out->date = p + 18;
    out->flags = p[25];
    out->name = p + 33;
    size_t su = 33u + out->name_len + !(out->name_len & 1);
    out->su = p + su;
    out->su_len = su < out->len ? out->len - su : 0;
    if (p[1])
        /* An extended attribute record precedes the data: the file data
         * starts that many sectors later. */
        out->lba += p[1];
    return 0;
}

size_t
iso_dirrec_size(size_t name_len, size_t su_len)
{
    size_t n = 33 + name_len + !(name_len & 1) + su_len;
    return n + (n & 1);
}

size_t
iso_dirrec_encode(uint8_t *p, uint32_t lba, uint32_t size, uint8_t flags, int64_t mtime,
                  const uint8_t *id, size_t id_len, const uint8_t *su, size_t su_len)
{
    size_t n = iso_dirrec_size(id_len, su_len);
    memset(p, 0, n);
    p[0] = (uint8_t)n;
    iso_put_both32(p + 2, lba);
    iso_put_both32(p + 10, size);
    iso_date7_format(p + 18, mtime);
    p[25] = flags;
    iso_put_both16(p + 28, 1);
    p[32] = (uint8_t)id_len;
    memcpy(p + 33, id, id_len);
    if (su_len)
        memcpy(p + 33 + id_len + !(id_len & 1), su, su_len);
    return n;
}
