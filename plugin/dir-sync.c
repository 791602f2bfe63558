/* vdisk plugin — directories created durably (see dir-sync.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dir-sync.h"

int
vdisk_sync_dir_path(const char *path)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    int r = fsync(fd) < 0 ? -errno : 0;
    close(fd);
    return r;
}

/* mkdir of copy (its parent's path: copy up to slash, or "/" or "." when
 * slash is its first byte); 0 when made or there, else -errno. */
static int
make_one(char *copy, char *slash, mode_t mode)
{
    if (mkdir(copy, mode) < 0)
        return errno == EEXIST ? 0 : -errno;
    /* The new entry lives in the parent: sync the parent. */
    if (slash == copy)
        return vdisk_sync_dir_path(copy[0] == '/' ? "/" : ".");
    char keep = *slash;
    *slash = '\0';
    int r = vdisk_sync_dir_path(copy);
    *slash = keep;
    return r;
}

int
vdisk_mkdir_p_durable(const char *path, mode_t parent_mode, mode_t mode, char **failed)
{
    char *copy = strdup(path);
    if (!copy)
        return -ENOMEM;
    size_t len = strlen(copy);
    while (len > 1 && copy[len - 1] == '/')
        copy[--len] = '\0';
    int r = 0;
    char *prev = copy;      /* the slash before the current component */
    for (char *p = copy + 1; r == 0; p++) {
        bool last = *p == '\0';
        if (*p != '/' && !last)
            continue;
        char keep = *p;
        *p = '\0';
        r = make_one(copy, prev, last ? mode : parent_mode);
        if (r < 0 || last)
            break;
        *p = keep;
        prev = p;
    }
    if (r < 0 && failed)
        *failed = copy;
    else
        free(copy);
    return r;
}
