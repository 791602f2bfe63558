/* vdisk-virsh info — qemu-img's report of a backing chain that loops (see
 * info-loop.h).  libvdisk refuses such a chain itself (by file identity);
 * this walk only finds the name qemu-img's message gives, so it compares
 * names as qemu-img does and never opens a layer in a format its overlay
 * did not record. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "info-loop.h"
#include "options.h"

/* Longest chain walked (libvdisk's own limit is lower). */
#define MAX_WALK 1024

static bool
seen(char **names, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(names[i], name) == 0)
            return true;
    return false;
}

int
vv_info_report_loop(vdisk_image *top)
{
    char *names[MAX_WALK];
    size_t n = 0;
    int found = 0;
    vdisk_image *img = top;
    names[n] = strdup(vdisk_get_filename(top));
    if (!names[n])
        return 0;
    n++;
    while (n < MAX_WALK) {
        vdisk_info info = { 0 };
        vdisk_format fmt;
        char *next = NULL;
        if (vdisk_get_info(img, &info, NULL) == 0 && info.full_backing_filename &&
            info.backing_format && vdisk_format_from_name(info.backing_format, &fmt, NULL) == 0)
            next = strdup(info.full_backing_filename);
        vdisk_info_clear(&info);
        if (img != top)
            vdisk_close(img, NULL);
        img = NULL;
        if (!next)
            break;
        if (seen(names, n, next)) {
            vv_error("Backing file '%s' creates an infinite loop.", next);
            free(next);
            found = 1;
            break;
        }
        names[n++] = next;
        vdisk_open_opts oo = { .format = fmt,
                               .flags = VDISK_OPEN_FORCE_SHARE | VDISK_OPEN_NO_BACKING |
                                        VDISK_OPEN_NO_KEY };
        if (vdisk_open(next, &oo, &img, NULL) < 0)
            break;
    }
    if (img && img != top)
        vdisk_close(img, NULL);
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    return found;
}
