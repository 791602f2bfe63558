/* vdisk plugin — the registry's temporary files (see registry-tmp.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "registry-tmp.h"

/* F_OFD_SETLK(W) of a write lock on the first byte: 0 or -errno. */
static int
hold(int fd, int cmd)
{
    struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 1 };
    while (fcntl(fd, cmd, &fl) < 0)
        if (errno != EINTR)
            return -errno;
    return 0;
}

int
vdisk_registry_tmp_create(int afd, mode_t mode, char *name, size_t cap)
{
    for (int attempt = 0; attempt < 100; attempt++) {
        unsigned char rnd[6];
        if (getrandom(rnd, sizeof(rnd), 0) != sizeof(rnd))
            memset(rnd, attempt, sizeof(rnd));
        snprintf(name, cap, VDISK_REGISTRY_TMP_PREFIX "%02x%02x%02x%02x%02x%02x",
                 rnd[0], rnd[1], rnd[2], rnd[3], rnd[4], rnd[5]);
        int fd = openat(afd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
        if (fd < 0) {
            if (errno == EEXIST)
                continue;
            return -errno;
        }
        /* A reaper may have taken the file between its creation and this
         * lock (waited for here): still in place under its name, it is ours. */
        struct stat held, now;
        int r = hold(fd, F_OFD_SETLKW);
        if (r == 0 && fstat(fd, &held) == 0 && fstatat(afd, name, &now, AT_SYMLINK_NOFOLLOW) == 0 &&
            held.st_dev == now.st_dev && held.st_ino == now.st_ino)
            return fd;
        close(fd);
        if (r < 0)
            return r;
    }
    return -EEXIST;
}

void
vdisk_registry_tmp_reap(int afd)
{
    int dfd = dup(afd);
    DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
    if (!d) {
        if (dfd >= 0)
            close(dfd);
        return;
    }
    rewinddir(d);
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strncmp(e->d_name, VDISK_REGISTRY_TMP_PREFIX, strlen(VDISK_REGISTRY_TMP_PREFIX)) != 0)
            continue;
        /* A write lock needs a descriptor open for writing. */
        int fd = openat(afd, e->d_name, O_WRONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
        if (fd < 0)
            continue;
        struct stat st;
        if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && hold(fd, F_OFD_SETLK) == 0)
            unlinkat(afd, e->d_name, 0);
        close(fd);
    }
    closedir(d);
}
