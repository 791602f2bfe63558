/* libvdisk — format detection by magic numbers.
 *
 * Only formats with an unambiguous magic are recognised; everything else is
 * raw.  image.c uses vdisk_probe_buffer again to guard the first sectors of
 * an image whose format was probed as raw (see vdisk_open).
 */
#include <errno.h>
#include <string.h>

#include "driver.h"
#include "probe.h"

static bool
is_qcow(const uint8_t *buf, size_t len)
{
    /* "QFI\xfb": any qcow version, so that a qcow1 file is refused by the
     * qcow2 driver with a clear message instead of being opened as raw. */
    return len >= 4 && memcmp(buf, "QFI\xfb", 4) == 0;
}

static bool
is_iso9660(const uint8_t *buf, size_t len)
{
    /* Primary volume descriptor at sector 16: type byte, then "CD001". */
    return len >= VDISK_PROBE_ISO_END && memcmp(buf + VDISK_PROBE_ISO_OFFSET + 1, "CD001", 5) == 0;
}

static bool
is_luks(const uint8_t *buf, size_t len)
{
    return len >= 6 && memcmp(buf, "LUKS\xba\xbe", 6) == 0;
}

vdisk_format
vdisk_probe_buffer_ex(const void *buf, size_t len, bool *other_magic)
{
    const uint8_t *p = buf;
    if (other_magic)
        *other_magic = is_luks(p, len);
    if (is_qcow(p, len))
        return VDISK_FORMAT_QCOW2;
    if (is_iso9660(p, len))
        return VDISK_FORMAT_ISO;
    if (is_luks(p, len))
        return VDISK_FORMAT_LUKS;
    return VDISK_FORMAT_RAW;
}

vdisk_format
vdisk_probe_buffer(const void *buf, size_t len)
{
    return vdisk_probe_buffer_ex(buf, len, NULL);
}

int
vdisk_probe(const char *path, vdisk_format *fmt, vdisk_error *err)
{
    vdisk_file *f;
    int r = vdisk_file_open(path, 0, &f, err);
    if (r < 0)
        return r;
    uint8_t buf[VDISK_PROBE_LEN];
    r = vdisk_file_pread(f, buf, sizeof(buf), 0, err);
    vdisk_file_close(f);
    if (r < 0)
        return r;
    *fmt = vdisk_probe_buffer(buf, sizeof(buf));
    return 0;
}
