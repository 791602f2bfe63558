/* libvdisk — QEMU-compatible image locking.  See lock.h. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "lock.h"

#define PERM_COUNT 4

static const char *const perm_names[PERM_COUNT] = {
    "consistent read", "write", "write unchanged", "resize",
};

const char *
vdisk_lock_perm_name(unsigned perm_bit)
{
    for (unsigned i = 0; i < PERM_COUNT; i++)
        if (perm_bit == 1u << i)
            return perm_names[i];
    return "unknown";
}

void
vdisk_lock_perms_for_open(vdisk_format fmt, unsigned flags, unsigned *perm, unsigned *shared)
{
    *perm = VDISK_PERM_CONSISTENT_READ;
    *shared = VDISK_PERM_ALL;
    if (flags & VDISK_OPEN_FORCE_SHARE)
        return;   /* -U: QEMU still advertises its reads, but shares everything */
    /* A format with metadata cannot let anyone else write or resize the
     * file under it, even when it only reads (QEMU: bs->file always needs
     * consistent metadata). */
    bool metadata = fmt != VDISK_FORMAT_RAW && fmt != VDISK_FORMAT_ISO;
    if ((flags & VDISK_OPEN_RDWR) && metadata)
        *perm |= VDISK_PERM_WRITE | VDISK_PERM_RESIZE;
    else if (flags & VDISK_OPEN_RDWR)
        *perm |= VDISK_PERM_WRITE;
    if (metadata || (flags & VDISK_OPEN_NO_SHARE))
        *shared &= ~(unsigned)(VDISK_PERM_WRITE | VDISK_PERM_RESIZE);
}

void
vdisk_lock_perms_for_create(unsigned *perm, unsigned *shared)
{
    /* As QEMU's raw_co_create: the file is truncated and sized, so nobody
     * may resize it meanwhile. */
    *perm = VDISK_PERM_WRITE | VDISK_PERM_RESIZE;
    *shared = VDISK_PERM_ALL & ~(unsigned)VDISK_PERM_RESIZE;
}

/* F_OFD_SETLK on one byte: F_RDLCK (shared) or F_UNLCK.  0 or -errno. */
static int
set_byte(int fd, int byte, short type)
{
    struct flock fl = {
        .l_type = type,
        .l_whence = SEEK_SET,
        .l_start = byte,
        .l_len = 1,
    };
    return fcntl(fd, F_OFD_SETLK, &fl) < 0 ? -errno : 0;
}

/* Does another descriptor hold any lock on this byte?  1 yes, 0 no, -errno. */
static int
byte_taken(int fd, int byte)
{
    struct flock fl = {
        .l_type = F_WRLCK,
        .l_whence = SEEK_SET,
        .l_start = byte,
        .l_len = 1,
    };
    if (fcntl(fd, F_OFD_GETLK, &fl) < 0)
        return -errno;
    return fl.l_type != F_UNLCK;
}

/* Bring the bytes held on fd to exactly `perm` (100+N) and `unshared`
 * (200+N), locking the missing ones and unlocking the extra ones. */
static int
apply_bytes(int fd, const char *path, vdisk_lock *lk, unsigned perm, unsigned unshared,
            vdisk_error *err)
{
    unsigned held_unshared = VDISK_PERM_ALL & ~lk->shared;
    for (unsigned i = 0; i < 2 * PERM_COUNT; i++) {
        bool shared_byte = i >= PERM_COUNT;
        unsigned bit = 1u << (i % PERM_COUNT);
        unsigned want = shared_byte ? unshared : perm;
        unsigned have = shared_byte ? held_unshared : lk->perm;
        int byte = (shared_byte ? VDISK_LOCK_SHARED_BASE : VDISK_LOCK_PERM_BASE) + (int)(i % PERM_COUNT);
        if (!(want & bit) == !(have & bit))
            continue;
        int r = set_byte(fd, byte, (want & bit) ? F_RDLCK : F_UNLCK);
        if (r < 0)
            return vdisk_error_set_errno(err, -r, "%s: Failed to lock byte %d", path, byte);
        if (shared_byte)
            held_unshared ^= bit;
        else
            lk->perm ^= bit;
        lk->shared = VDISK_PERM_ALL & ~held_unshared;
    }
    return 0;
}

static int
in_use(const char *path, const char *what, unsigned bit, vdisk_error *err)
{
    return vdisk_error_set_kind(err, VDISK_ERR_IN_USE, EBUSY,
                                "%s: image is in use: Failed to get %s\"%s\" lock. Is another process "
                                "using the image [%s]? (-U / --force-share allows read-only "
                                "inspection)", path, what, vdisk_lock_perm_name(bit), path);
}

int
vdisk_lock_check(int fd, const char *path, unsigned perm, unsigned shared, vdisk_error *err)
{
    /* A permission we use must not be unshared by anyone... */
    for (unsigned i = 0; i < PERM_COUNT; i++) {
        unsigned bit = 1u << i;
        if (!(perm & bit))
            continue;
        int r = byte_taken(fd, VDISK_LOCK_SHARED_BASE + (int)i);
        if (r < 0)
            return vdisk_error_set_errno(err, -r, "%s: cannot test lock byte %u", path,
                                         VDISK_LOCK_SHARED_BASE + i);
        if (r)
            return in_use(path, "", bit, err);
    }
    /* ...and nobody may be using a permission we refuse to share. */
    for (unsigned i = 0; i < PERM_COUNT; i++) {
        unsigned bit = 1u << i;
        if (shared & bit)
            continue;
        int r = byte_taken(fd, VDISK_LOCK_PERM_BASE + (int)i);
        if (r < 0)
            return vdisk_error_set_errno(err, -r, "%s: cannot test lock byte %u", path,
                                         VDISK_LOCK_PERM_BASE + i);
        if (r)
            return in_use(path, "shared ", bit, err);
    }
    return 0;
}

int
vdisk_lock_acquire(int fd, const char *path, vdisk_lock *lk, unsigned perm, unsigned shared,
                   vdisk_error *err)
{
    if (!lk->active) {
        lk->perm = 0;
        lk->shared = VDISK_PERM_ALL;
        /* No OFD locks in this kernel: run unlocked, as QEMU's
         * locking=auto does (POSIX locks would be lost on any close). */
        if (byte_taken(fd, VDISK_LOCK_PERM_BASE) == -EINVAL)
            return 0;
    }
    lk->active = true;
    unsigned old_perm = lk->perm, old_unshared = VDISK_PERM_ALL & ~lk->shared;
    /* Take the union of the old and new bytes first, then check: two
     * processes opening at once cannot both miss each other. */
    int r = apply_bytes(fd, path, lk, old_perm | perm, old_unshared | (VDISK_PERM_ALL & ~shared), err);
    if (r == 0)
        r = vdisk_lock_check(fd, path, perm, shared, err);
    if (r < 0) {
        apply_bytes(fd, path, lk, old_perm, old_unshared, NULL);
        return r;
    }
    return apply_bytes(fd, path, lk, perm, VDISK_PERM_ALL & ~shared, err);
}

void
vdisk_lock_release(int fd, vdisk_lock *lk)
{
    if (!lk->active)
        return;
    apply_bytes(fd, "", lk, 0, 0, NULL);
    lk->active = false;
}
