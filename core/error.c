/* libvdisk — error reporting.  See vdisk/error.h. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <vdisk/error.h>

static const char *const kind_names[] = {
    [VDISK_ERR_NONE] = "none",
    [VDISK_ERR_FAILED] = "failed",
    [VDISK_ERR_NOT_FOUND] = "not found",
    [VDISK_ERR_EXISTS] = "exists",
    [VDISK_ERR_INVALID] = "invalid argument",
    [VDISK_ERR_IN_USE] = "in use",
    [VDISK_ERR_NO_SPACE] = "no space",
    [VDISK_ERR_UNSUPPORTED] = "unsupported",
    [VDISK_ERR_CORRUPT] = "corrupt",
    [VDISK_ERR_PERMISSION] = "permission denied",
    [VDISK_ERR_READ_ONLY] = "read-only",
    [VDISK_ERR_IO] = "I/O error",
    [VDISK_ERR_CANCELLED] = "cancelled",
    [VDISK_ERR_NO_MEMORY] = "out of memory",
    [VDISK_ERR_INVALID_STATE] = "invalid state",
};

const char *
vdisk_error_kind_name(vdisk_error_kind kind)
{
    if ((unsigned)kind < sizeof(kind_names) / sizeof(kind_names[0]) && kind_names[kind])
        return kind_names[kind];
    return "unknown";
}

vdisk_error_kind
vdisk_error_kind_from_errno(int errnum)
{
    switch (errnum) {
    case 0: return VDISK_ERR_NONE;
    case ENOENT: return VDISK_ERR_NOT_FOUND;
    case EEXIST: return VDISK_ERR_EXISTS;
    case EINVAL: return VDISK_ERR_INVALID;
    case EBUSY: return VDISK_ERR_IN_USE;
    case ENOSPC:
    case EDQUOT: return VDISK_ERR_NO_SPACE;
    case ENOTSUP: return VDISK_ERR_UNSUPPORTED;   /* == EOPNOTSUPP on Linux */
    case EACCES:
    case EPERM: return VDISK_ERR_PERMISSION;
    case EROFS: return VDISK_ERR_READ_ONLY;
    case EIO: return VDISK_ERR_IO;
    case ECANCELED: return VDISK_ERR_CANCELLED;
    case ENOMEM: return VDISK_ERR_NO_MEMORY;
    default: return VDISK_ERR_FAILED;
    }
}

static void
vset(vdisk_error *err, vdisk_error_kind kind, int errnum, const char *fmt, va_list ap)
{
    err->code = -errnum;
    err->kind = kind;
    err->subject = 0;
    vsnprintf(err->message, sizeof(err->message), fmt, ap);
}

int
vdisk_error_set(vdisk_error *err, int errnum, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vset(err, vdisk_error_kind_from_errno(errnum), errnum, fmt, ap);
        va_end(ap);
    }
    return -errnum;
}

int
vdisk_error_set_kind(vdisk_error *err, vdisk_error_kind kind, int errnum, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vset(err, kind, errnum, fmt, ap);
        va_end(ap);
    }
    return -errnum;
}

int
vdisk_error_set_errno(vdisk_error *err, int errnum, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vset(err, vdisk_error_kind_from_errno(errnum), errnum, fmt, ap);
        va_end(ap);
        size_t n = strlen(err->message);
        char buf[128];
        const char *msg = strerror_r(errnum, buf, sizeof(buf));
        snprintf(err->message + n, sizeof(err->message) - n, ": %s", msg);
    }
    return -errnum;
}

void
vdisk_error_prefix(vdisk_error *err, const char *fmt, ...)
{
    if (!err)
        return;
    char prefix[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof(prefix), fmt, ap);
    va_end(ap);
    /* Shift the old message right and put "<prefix>: " in front, keeping
     * the terminating NUL inside the buffer. */
    size_t plen = strlen(prefix) + 2;
    size_t cap = sizeof(err->message) - 1;
    if (plen > cap)
        plen = cap;
    size_t mlen = strnlen(err->message, cap);
    if (mlen > cap - plen)
        mlen = cap - plen;
    memmove(err->message + plen, err->message, mlen);
    err->message[plen + mlen] = '\0';
    memcpy(err->message, prefix, plen - 2);
    memcpy(err->message + plen - 2, ": ", 2);
}

void
vdisk_error_clear(vdisk_error *err)
{
    if (err) {
        err->code = 0;
        err->kind = VDISK_ERR_NONE;
        err->subject = 0;
        err->message[0] = '\0';
    }
}
