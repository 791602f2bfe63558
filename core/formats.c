/* libvdisk — the names of image formats, as qemu-img spells them (-f,
 * -O, backing_fmt=), and back.  Plain data below every driver: drivers and
 * option setters name formats without reaching the driver table
 * (image.c), which names the drivers. */
#include <errno.h>
#include <string.h>

#include <vdisk/image.h>

static const struct {
    vdisk_format fmt;
    const char *name;
} format_names[] = {
    { VDISK_FORMAT_RAW, "raw" },
    { VDISK_FORMAT_QCOW2, "qcow2" },
    { VDISK_FORMAT_ISO, "iso" },
    { VDISK_FORMAT_LUKS, "luks" },
    { VDISK_FORMAT_VMDK, "vmdk" },
    { VDISK_FORMAT_VHDX, "vhdx" },
    { VDISK_FORMAT_VPC, "vpc" },
    { VDISK_FORMAT_VDI, "vdi" },
    { VDISK_FORMAT_QED, "qed" },
    { VDISK_FORMAT_PARALLELS, "parallels" },
    { VDISK_FORMAT_DMG, "dmg" },
    { VDISK_FORMAT_CLOOP, "cloop" },
    { VDISK_FORMAT_BOCHS, "bochs" },
    { VDISK_FORMAT_QCOW, "qcow" },
};

const char *
vdisk_format_name(vdisk_format fmt)
{
    for (size_t i = 0; i < sizeof(format_names) / sizeof(format_names[0]); i++)
        if (format_names[i].fmt == fmt)
            return format_names[i].name;
    return "unknown";
}

int
vdisk_format_from_name(const char *name, vdisk_format *fmt, vdisk_error *err)
{
    for (size_t i = 0; i < sizeof(format_names) / sizeof(format_names[0]); i++)
        if (strcmp(format_names[i].name, name) == 0) {
            *fmt = format_names[i].fmt;
            return 0;
        }
    return vdisk_error_set(err, EINVAL, "unknown image format '%s' (expected raw, qcow2, luks, iso or vmdk)", name);
}

bool
vdisk_format_at(size_t i, vdisk_format *fmt)
{
    if (i >= sizeof(format_names) / sizeof(format_names[0]))
        return false;
    *fmt = format_names[i].fmt;
    return true;
}
