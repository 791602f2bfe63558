/* vdisk-virsh — helpers shared by the iso-* commands (see isoutil.h). */
#include <errno.h>
#include <sys/stat.h>

#include "isoutil.h"
#include "options.h"

int
vv_iso_open(const char *file, const char *names_mode, vdisk_iso **out)
{
    vdisk_error err = { 0 };
    vdisk_iso_names names = VDISK_ISO_NAMES_AUTO;
    if (names_mode && vdisk_iso_names_from_name(names_mode, &names, &err) < 0) {
        vv_report(&err);
        return -EINVAL;
    }
    int r = vdisk_iso_open(file, names, out, &err);
    if (r < 0)
        vv_report_file(&err, file);
    return r;
}

const char *
vv_iso_type_name(uint32_t mode)
{
    switch (mode & S_IFMT) {
    case S_IFDIR: return "directory";
    case S_IFLNK: return "symlink";
    case S_IFIFO: return "fifo";
    case S_IFSOCK: return "socket";
    case S_IFCHR: return "char-device";
    case S_IFBLK: return "block-device";
    default: return "file";
    }
}
