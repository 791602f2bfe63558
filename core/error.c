/* libvdisk — error reporting.  See vdisk/error.h. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <vdisk/error.h>

static void
vset(vdisk_error *err, int errnum, const char *fmt, va_list ap)
{
    err->code = -errnum;
    vsnprintf(err->message, sizeof(err->message), fmt, ap);
}

int
vdisk_error_set(vdisk_error *err, int errnum, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vset(err, errnum, fmt, ap);
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
        vset(err, errnum, fmt, ap);
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
        err->message[0] = '\0';
    }
}
