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

/* The name a message written from FMT begins with, by the library's
 * convention: the first argument of a format "%s: ..."; NULL for any
 * other format ("%s" alone is a whole message or context, not a name). */
static const char *
leading_name(const char *fmt, va_list ap)
{
    if (strncmp(fmt, "%s: ", 4) != 0)
        return NULL;
    va_list aq;
    va_copy(aq, ap);
    const char *name = va_arg(aq, const char *);
    va_end(aq);
    return name;
}

/* NAME's length as recorded for a message that now begins with it: no
 * more than the message holds (a message cut short keeps no name). */
static unsigned
name_length(const vdisk_error *err, const char *name)
{
    if (!name)
        return 0;
    size_t n = strlen(name);
    size_t m = strlen(err->message);
    return n + 2 <= m ? (unsigned)n : 0;
}

void
vdisk_error_name(vdisk_error *err, const char *name)
{
    if (!err || !name || !name[0])
        return;
    const char *at = strstr(err->message, name);
    if (at) {
        err->name_off = (unsigned)(at - err->message);
        err->name_len = (unsigned)strlen(name);
    }
}

int
vdisk_error_is_about(const vdisk_error *err, const char *name)
{
    return err && name && err->name_len > 0 && strlen(name) == err->name_len &&
           err->name_off + err->name_len <= strlen(err->message) &&
           memcmp(err->message + err->name_off, name, err->name_len) == 0;
}

static void
vset(vdisk_error *err, vdisk_error_kind kind, int errnum, const char *fmt, va_list ap)
{
    err->code = -errnum;
    err->kind = kind;
    err->subject = 0;
    err->reason = VDISK_REASON_NONE;
    const char *name = leading_name(fmt, ap);
    vsnprintf(err->message, sizeof(err->message), fmt, ap);
    err->name_off = 0;
    err->name_len = name_length(err, name);
}

int
vdisk_error_names(const vdisk_error *err, const char *name)
{
    return err && err->name_off == 0 && vdisk_error_is_about(err, name);
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
    const char *name = leading_name(fmt, ap);
    char name_copy[256];
    /* The name is copied before the message moves: it may point into it. */
    snprintf(name_copy, sizeof(name_copy), "%s", name ? name : "");
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
    if (name) {
        err->name_off = 0;
        err->name_len = name_length(err, name_copy);
    } else if (err->name_len) {
        err->name_off += (unsigned)plen;   /* the old name moved right, or out */
        if (err->name_off + err->name_len > strlen(err->message))
            err->name_len = 0;
    }
}

void
vdisk_error_prefix_name(vdisk_error *err, const char *name)
{
    if (!err || !name)
        return;
    vdisk_error_prefix(err, "%s", name);
    err->name_off = 0;
    err->name_len = name_length(err, name);
}

void
vdisk_error_clear(vdisk_error *err)
{
    if (err) {
        err->code = 0;
        err->kind = VDISK_ERR_NONE;
        err->subject = 0;
        err->name_off = err->name_len = 0;
        err->reason = VDISK_REASON_NONE;
        err->message[0] = '\0';
    }
}

int
vdisk_error_set_reason(vdisk_error *err, vdisk_error_reason reason, int r)
{
    if (err)
        err->reason = reason;
    return r;
}
