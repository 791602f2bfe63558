/* libvdisk — error reporting.
 *
 * Every call that can fail returns 0 or a negative errno and, when the caller
 * passes a vdisk_error, fills it with a message a person can act on: which
 * file, which structure, which offset, what was expected.  The message never
 * contains key material.
 */
#ifndef VDISK_ERROR_H
#define VDISK_ERROR_H

#include <stdarg.h>

#ifdef __cplusplus
extern "C" {
#endif

#define VDISK_ERROR_MAX 1024

typedef struct vdisk_error {
    int code;                       /* negative errno; 0 when no error */
    char message[VDISK_ERROR_MAX];  /* "disk.qcow2: L2 table at 0x50000 is not cluster aligned" */
} vdisk_error;

/* Record an error.  Returns -errnum so callers can `return vdisk_error_set(...)`.
 * err may be NULL.  errnum is a positive errno value (EINVAL, EIO, ...). */
int vdisk_error_set(vdisk_error *err, int errnum, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* As vdisk_error_set, and append ": <strerror(errnum)>" (for system calls). */
int vdisk_error_set_errno(vdisk_error *err, int errnum, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Put "<context>: " in front of the existing message (no-op if err is NULL). */
void vdisk_error_prefix(vdisk_error *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

void vdisk_error_clear(vdisk_error *err);

#ifdef __cplusplus
}
#endif
#endif
