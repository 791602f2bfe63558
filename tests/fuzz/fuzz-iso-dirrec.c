/* libFuzzer target: ISO 9660 directory records and the tree walk.
 *
 * The input is a whole image.  It is walked with each naming the reader
 * offers (ISO 9660, Joliet, Rock Ridge, auto), every directory read, the
 * tail of every file read, as `iso-ls -R` and `iso-extract` would; loops and
 * shared directories must end in errors.  The first files found are looked
 * up again by path (`iso-ls PATH`: the path walk and name matching), their
 * directories listed, and the boot catalog and path table are read.
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
#define MAX_LOOKUPS 8

typedef struct walk_ctx {
    vdisk_iso *iso;
    int visits;
} walk_ctx;

/* Look a walked path up again, and list its directory. */
static void
lookup(vdisk_iso *iso, const char *full)
{
    vdisk_iso_entry e;
    vdisk_error err;
    if (vdisk_iso_stat(iso, full, &e, &err) == 0)
        vdisk_iso_entry_clear(&e);
    char dir[1024];
    snprintf(dir, sizeof(dir), "%s/..", full);
    vdisk_iso_entry *v;
    size_t n;
    if (vdisk_iso_list(iso, dir, &v, &n, &err) == 0)
        vdisk_iso_entries_free(v, n);
}

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
    if (w->visits <= MAX_LOOKUPS)
        lookup(w->iso, full);
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
    static const char *const modes[] = { "iso", "joliet", "rock", "auto" };
    for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
        vdisk_iso *iso;
        vdisk_iso_names names;
        vdisk_error err;
        if (vdisk_iso_names_from_name(modes[i], &names, &err) < 0)
            abort();
        if (vdisk_iso_open(path, names, &iso, &err) < 0)
            continue;
        walk_ctx w = { .iso = iso };
        (void)vdisk_iso_walk(iso, "/", visit, &w, &err);
        (void)vdisk_iso_walk(iso, "/no/such/dir", visit, &w, &err);
        vdisk_iso_boot_entry *boot;
        size_t n;
        if (vdisk_iso_get_boot(iso, &boot, &n, &err) == 0)
            free(boot);
        vdisk_iso_path_entry *pt;
        if (vdisk_iso_get_path_table(iso, &pt, &n, &err) == 0)
            vdisk_iso_path_table_free(pt, n);
        vdisk_iso_close(iso);
    }
    close(fd);
    return 0;
}
