/* libvdisk — format detection by magic numbers.
 *
 * Every format qemu-img 7.2 probes is recognised here, whether or not vdisk
 * has a driver for it: a file that carries a VMDK, VHDX, VDI, ... header must
 * never be read as raw (its guest would see the host's metadata, and a
 * converted copy would be garbage), and a probed-raw image must never be able
 * to acquire such a header (image.c guards its head with these same tests).
 * image.c refuses, by name, a recognised format that has no driver.
 *
 * The rules follow the probe functions of QEMU's block drivers, read from
 * the formats' specifications: the magic at the offset each specification
 * gives, plus the version field where QEMU's probe looks at it.  Anything not
 * recognised is raw.  Probing reads VDISK_PROBE_LEN bytes (the ISO 9660
 * volume descriptor lies furthest out); every other magic lies in the first
 * 2 KiB, as QEMU reads.
 */
#include <errno.h>
#include <string.h>

#include "driver.h"
#include "probe.h"

static uint32_t
be32_at(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint32_t
le32_at(const uint8_t *p)
{
    return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

static bool
starts_with(const uint8_t *buf, size_t len, const char *magic, size_t mlen)
{
    return len >= mlen && memcmp(buf, magic, mlen) == 0;
}

/* "QFI\xfb" and version 1: QEMU's original qcow format. */
static bool
is_qcow1(const uint8_t *buf, size_t len)
{
    return starts_with(buf, len, "QFI\xfb", 4) && len >= 8 && be32_at(buf + 4) == 1;
}

/* "QFI\xfb" with any other version: the qcow2 driver refuses versions it does
 * not know with a message, rather than the file being opened as raw. */
static bool
is_qcow2(const uint8_t *buf, size_t len)
{
    return starts_with(buf, len, "QFI\xfb", 4) && !is_qcow1(buf, len);
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
    return starts_with(buf, len, "LUKS\xba\xbe", 6);
}

/* VMDK text descriptor (monolithicFlat, vmfs, twoGbMaxExtent*, ...): blank
 * and '#' comment lines, then "version=1", "=2" or "=3" ending the line, as
 * QEMU's vmdk probe accepts. */
static bool
is_vmdk_descriptor(const uint8_t *buf, size_t len)
{
    const uint8_t *p = buf, *end = buf + len;
    while (p < end) {
        if (*p == '#') {
            while (p < end && *p != '\n')
                p++;
            p++;
            continue;
        }
        if (*p == ' ') {
            while (p < end && *p == ' ')
                p++;
            if (p < end && *p == '\r')
                p++;
            if (p == end || *p != '\n')
                return false;
            p++;
            continue;
        }
        size_t left = (size_t)(end - p);
        if (left >= 9 && memcmp(p, "version=", 8) == 0 && p[8] >= '1' && p[8] <= '3')
            return (left >= 10 && p[9] == '\n') || (left >= 11 && p[9] == '\r' && p[10] == '\n');
        return false;
    }
    return false;
}

/* VMDK sparse extents: "KDMV" (hosted sparse, VMware 4+) or "COWD" (ESX 3
 * sparse), both as QEMU reads them. */
static bool
is_vmdk(const uint8_t *buf, size_t len)
{
    return starts_with(buf, len, "KDMV", 4) || starts_with(buf, len, "COWD", 4) ||
           is_vmdk_descriptor(buf, len);
}

/* VDI: the signature 0xbeda107f (little endian) at offset 0x40 of the
 * 512-byte pre-header + header. */
static bool
is_vdi(const uint8_t *buf, size_t len)
{
    return len >= 512 && le32_at(buf + 0x40) == 0xbeda107fu;
}

/* Parallels: "WithoutFreeSpace" or "WithouFreSpacExt", then version 2. */
static bool
is_parallels(const uint8_t *buf, size_t len)
{
    return len >= 64 &&
           (memcmp(buf, "WithoutFreeSpace", 16) == 0 || memcmp(buf, "WithouFreSpacExt", 16) == 0) &&
           le32_at(buf + 16) == 2;
}

/* Bochs growing redolog: NUL-terminated magic, type and subtype strings and a
 * version of 1.0 or 2.0. */
static bool
is_bochs(const uint8_t *buf, size_t len)
{
    static const char magic[] = "Bochs Virtual HD Image";
    if (len < 512 || memcmp(buf, magic, sizeof(magic)) != 0)
        return false;
    if (memcmp(buf + 32, "Redolog", 8) != 0 || memcmp(buf + 48, "Growing", 8) != 0)
        return false;
    uint32_t version = le32_at(buf + 64);
    return version == 0x00010000u || version == 0x00020000u;
}

/* cloop V2.0: the shell script every image starts with. */
static bool
is_cloop(const uint8_t *buf, size_t len)
{
    static const char magic[] = "#!/bin/sh\n#V2.0 Format\n"
                                "modprobe cloop file=$0 && mount -r -t iso9660 /dev/cloop $1\n";
    return starts_with(buf, len, magic, sizeof(magic) - 1);
}

vdisk_format
vdisk_probe_buffer_ex(const void *buf, size_t len, bool *other_magic)
{
    const uint8_t *p = buf;
    /* LUKS2 and later versions: not a format vdisk or QEMU 7.2 opens, but
     * still a header a probed-raw image must not acquire. */
    if (other_magic)
        *other_magic = is_luks(p, len);
    if (is_qcow1(p, len))
        return VDISK_FORMAT_QCOW;
    if (is_qcow2(p, len))
        return VDISK_FORMAT_QCOW2;
    if (is_luks(p, len))
        return VDISK_FORMAT_LUKS;
    if (starts_with(p, len, "vhdxfile", 8))
        return VDISK_FORMAT_VHDX;
    /* VHD: dynamic and differencing images start with a copy of the footer;
     * a fixed VHD has its footer only at the end and is raw to QEMU too (the
     * data is the disk, byte for byte). */
    if (starts_with(p, len, "conectix", 8))
        return VDISK_FORMAT_VPC;
    if (starts_with(p, len, "QED\0", 4))
        return VDISK_FORMAT_QED;
    if (is_vdi(p, len))
        return VDISK_FORMAT_VDI;
    if (is_parallels(p, len))
        return VDISK_FORMAT_PARALLELS;
    if (is_bochs(p, len))
        return VDISK_FORMAT_BOCHS;
    if (is_cloop(p, len))
        return VDISK_FORMAT_CLOOP;
    if (is_vmdk(p, len))
        return VDISK_FORMAT_VMDK;
    if (is_iso9660(p, len))
        return VDISK_FORMAT_ISO;
    return VDISK_FORMAT_RAW;
}

vdisk_format
vdisk_probe_buffer(const void *buf, size_t len)
{
    return vdisk_probe_buffer_ex(buf, len, NULL);
}

/* Apple's UDIF (.dmg) keeps its "koly" trailer in the last 512 bytes; QEMU
 * probes it by the file name alone.  vdisk takes a file as dmg when either
 * says so, so that neither reads one as raw. */
static bool
looks_like_dmg(vdisk_file *f, const char *path, vdisk_error *err)
{
    size_t n = strlen(path);
    if (n > 4 && strcmp(path + n - 4, ".dmg") == 0)
        return true;
    uint64_t size;
    if (vdisk_file_get_length(f, &size, err) < 0 || size < 512)
        return false;
    uint8_t magic[4];
    if (vdisk_file_pread(f, magic, 4, size - 512, err) < 0)
        return false;
    return memcmp(magic, "koly", 4) == 0;
}

int
vdisk_probe_file(vdisk_file *f, const char *path, vdisk_format *fmt, vdisk_error *err)
{
    uint8_t buf[VDISK_PROBE_LEN];
    int r = vdisk_file_pread(f, buf, sizeof(buf), 0, err);
    if (r < 0)
        return r;
    *fmt = vdisk_probe_buffer(buf, sizeof(buf));
    if (*fmt == VDISK_FORMAT_RAW && looks_like_dmg(f, path, NULL))
        *fmt = VDISK_FORMAT_DMG;
    return 0;
}

int
vdisk_probe(const char *path, vdisk_format *fmt, vdisk_error *err)
{
    vdisk_file *f;
    int r = vdisk_file_open(path, 0, &f, err);
    if (r < 0)
        return r;
    r = vdisk_probe_file(f, path, fmt, err);
    vdisk_file_close(f);
    return r;
}
