/* libFuzzer target: ISO 9660 volume descriptors and the El Torito catalog.
 *
 * The input is placed at sector 16 of an in-memory file (after an empty
 * system area), so every byte lands in the descriptor set or what it points
 * at.  It is opened as the ISO reader and as the iso image driver, then
 * queried as `info` and `iso-ls` would: volume, boot entries, the root
 * directory, the path table.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include <vdisk/vdisk.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define SYSTEM_AREA (16u * 2048u)

static int
input_file(const uint8_t *data, size_t size)
{
    int fd = memfd_create("fuzz-iso-descriptor", MFD_CLOEXEC);
    if (fd < 0)
        return -1;
    if (ftruncate(fd, SYSTEM_AREA) < 0 || pwrite(fd, data, size, SYSTEM_AREA) != (ssize_t)size) {
        close(fd);
        return -1;
    }
    return fd;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int fd = input_file(data, size);
    if (fd < 0)
        return 0;
    char path[64];
    snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
    vdisk_error err;
    vdisk_iso *iso;
    if (vdisk_iso_open(path, VDISK_ISO_NAMES_AUTO, &iso, &err) == 0) {
        (void)vdisk_iso_get_volume(iso);
        vdisk_iso_boot_entry *b;
        size_t n;
        if (vdisk_iso_get_boot(iso, &b, &n, &err) == 0)
            free(b);
        vdisk_iso_entry *v;
        if (vdisk_iso_list(iso, "/", &v, &n, &err) == 0)
            vdisk_iso_entries_free(v, n);
        vdisk_iso_path_entry *pt;
        if (vdisk_iso_get_path_table(iso, &pt, &n, &err) == 0)
            vdisk_iso_path_table_free(pt, n);
        vdisk_iso_close(iso);
    }
    vdisk_open_opts oo = { .format = VDISK_FORMAT_ISO };
    vdisk_image *img;
    if (vdisk_open(path, &oo, &img, &err) == 0) {
        vdisk_info info;
        if (vdisk_get_info(img, &info, &err) == 0)
            vdisk_info_clear(&info);
        vdisk_close(img, &err);
    }
    close(fd);
    return 0;
}
