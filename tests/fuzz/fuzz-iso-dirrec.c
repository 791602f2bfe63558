/* libFuzzer target: ISO 9660 directory records and the tree walk.
 *
 * The input is a whole image.  It is walked through the ISO 9660 names
 * and through Joliet (the Rock Ridge parser has its own target), every
 * directory read, the head of every file read, as `iso-ls -R` and
 * `iso-extract` would; loops and shared directories must end in errors.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include <vdisk/vdisk.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_VISITS 2000
#define MAX_READ 512u

typedef struct walk_ctx {
    vdisk_iso *iso;
    int visits;
} walk_ctx;

/* Read the head of each file; stop runaway walks. */
static int
visit(void *opaque, const char *full, const vdisk_iso_entry *e)
{
    walk_ctx *w = opaque;
    static uint8_t buf[MAX_READ];
    vdisk_error err;
    if (++w->visits > MAX_VISITS)
        return 1;
    size_t n = e->size < MAX_READ ? (size_t)e->size : MAX_READ;
    (void)vdisk_iso_pread(w->iso, e, buf, n, e->size - n, &err);
    return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int fd = memfd_create("fuzz-iso-dirrec", MFD_CLOEXEC);
    if (fd < 0)
        return 0;
    if (write(fd, data, size) != (ssize_t)size) {
        close(fd);
        return 0;
    }
    char path[64];
    snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
    const vdisk_iso_names modes[] = { VDISK_ISO_NAMES_PLAIN, VDISK_ISO_NAMES_JOLIET };
    for (int i = 0; i < 2; i++) {
        vdisk_iso *iso;
        vdisk_error err;
        if (vdisk_iso_open(path, modes[i], &iso, &err) < 0)
            continue;
        walk_ctx w = { .iso = iso };
        (void)vdisk_iso_walk(iso, "/", visit, &w, &err);
        vdisk_iso_close(iso);
    }
    close(fd);
    return 0;
}
