/* libvdisk — error reporting.
 *
 * Every call that can fail returns 0 or a negative errno and, when the caller
 * passes a vdisk_error, fills it with a message a person can act on: which
 * file, which structure, which offset, what was expected.  The message never
 * contains key material.
 *
 * An error also carries a kind: what went wrong, in words an upper layer can
 * decide on (map to an exit status, a libvirt error code, a retry) without
 * reading the message, which is for people and may be reworded.  The kind
 * follows from the errno where the errno says it unambiguously (ENOENT: not
 * found, EBUSY: in use, ...); where it does not -- a corrupt header reported
 * as EINVAL, say -- the code that raises the error names the kind with
 * vdisk_error_set_kind.
 *
 * An error may also name its subject: what was not found, or is in the
 * wrong state, in the terms of the layer that raised it.  libvdisk leaves
 * it 0 (its messages name the file or image themselves); the plugin sets
 * its own values (vdisk/store-error.h: pool, volume, secret), from which
 * the layers above it derive what libvirt and virsh say about such an
 * error ("Storage volume not found: ", VIR_ERR_NO_STORAGE_VOL).  An int
 * rather than a kind per subject so that libvdisk knows nothing of pools:
 * the kind stays what any caller can decide on (not found), the subject
 * refines it for the layer that knows the words.
 *
 * Most messages begin with the name of the file they are about
 * ("disk.qcow2: L2 table ..."), the convention of every format string
 * that starts "%s: " (an error's or a context's); a message worded
 * otherwise ("Could not open 'disk.qcow2'") records its name with
 * vdisk_error_name.  So a caller that would name the file itself can tell
 * whether the message already does (vdisk_error_names, vdisk_error_is_about)
 * without reading the message.
 */
#ifndef VDISK_ERROR_H
#define VDISK_ERROR_H

#include <stdarg.h>

#ifdef __cplusplus
extern "C" {
#endif

#define VDISK_ERROR_MAX 1024

/* What went wrong.  New kinds are added at the end. */
typedef enum vdisk_error_kind {
    VDISK_ERR_NONE = 0,        /* no error */
    VDISK_ERR_FAILED,          /* none of the below (the errno may say more) */
    VDISK_ERR_NOT_FOUND,       /* ENOENT: a file, snapshot, bitmap, key slot that is not there */
    VDISK_ERR_EXISTS,          /* EEXIST: the name is taken */
    VDISK_ERR_INVALID,         /* EINVAL: a bad argument or option value, or a bad combination */
    VDISK_ERR_IN_USE,          /* EBUSY: another process holds the image (its locks) */
    VDISK_ERR_NO_SPACE,        /* ENOSPC, EDQUOT: the file system, quota or file size limit is full */
    VDISK_ERR_UNSUPPORTED,     /* ENOTSUP: a format, feature or operation vdisk does not do */
    VDISK_ERR_CORRUPT,         /* the image's metadata is inconsistent or hostile (never defaulted) */
    VDISK_ERR_PERMISSION,      /* EACCES, EPERM: refused by the system, or a wrong/missing passphrase */
    VDISK_ERR_READ_ONLY,       /* EROFS: the image or file is open read-only */
    VDISK_ERR_IO,              /* EIO: the storage failed */
    VDISK_ERR_CANCELLED,       /* ECANCELED: the caller's progress callback stopped the operation */
    VDISK_ERR_NO_MEMORY,       /* ENOMEM */
    VDISK_ERR_INVALID_STATE,   /* the object is not in a state that allows the operation
                                * (not active, already active, still active): never defaulted */
} vdisk_error_kind;

/* Why, more precisely than the kind, for the few errors another program
 * words in its own way that a caller may want to word as that program
 * does (vdisk-virsh run as qemu-img); 0 for all others.  The raiser adds
 * it with vdisk_error_set_reason; callers decide on it, never on the
 * message.  New reasons are added at the end. */
typedef enum vdisk_error_reason {
    VDISK_REASON_NONE = 0,
    VDISK_REASON_IMAGE_TOO_BIG,          /* the virtual size needs more L1 entries than any
                                          * table can have */
    VDISK_REASON_L1_TOO_SMALL,           /* the active L1 table is shorter than the virtual
                                          * size needs */
    VDISK_REASON_SNAPSHOT_L1_OFFSET,     /* a snapshot's L1 table is not cluster aligned or
                                          * past the end of the file */
    VDISK_REASON_SNAPSHOT_L1_TOO_LARGE,  /* a snapshot's L1 table is larger than allowed */
    VDISK_REASON_REFCOUNT_BLOCK_MISSING, /* a refcount to change has no refcount block (QEMU
                                          * would allocate one and fail with EAGAIN) */
} vdisk_error_reason;

typedef struct vdisk_error {
    int code;                       /* negative errno; 0 when no error */
    char message[VDISK_ERROR_MAX];  /* "disk.qcow2: L2 table at 0x50000 is not cluster aligned" */
    vdisk_error_kind kind;          /* VDISK_ERR_NONE when no error */
    int subject;                    /* what the error is about, in the raising layer's own
                                     * terms; 0 (libvdisk's errors): what the message names */
    unsigned name_off, name_len;    /* where the message names the file (image, host) it is
                                     * about; name_len 0 when it names none it recorded
                                     * (vdisk_error_names, vdisk_error_is_about) */
    vdisk_error_reason reason;      /* VDISK_REASON_NONE unless the raiser names one */
} vdisk_error;

/* Record an error.  Returns -errnum so callers can `return vdisk_error_set(...)`.
 * err may be NULL.  errnum is a positive errno value (EINVAL, EIO, ...); the
 * kind is vdisk_error_kind_from_errno(errnum), the subject 0. */
int vdisk_error_set(vdisk_error *err, int errnum, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* As vdisk_error_set, and append ": <strerror(errnum)>" (for system calls). */
int vdisk_error_set_errno(vdisk_error *err, int errnum, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* As vdisk_error_set, with the kind named where the errno does not say it:
 *   return vdisk_error_set_kind(err, VDISK_ERR_CORRUPT, EINVAL,
 *                               "%s: L1 table at 0x%x is not aligned", name, off);
 */
int vdisk_error_set_kind(vdisk_error *err, vdisk_error_kind kind, int errnum, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Add a reason to the error just recorded and return r, so that
 *   return vdisk_error_set_reason(err, VDISK_REASON_L1_TOO_SMALL,
 *                                 vdisk_error_set_kind(err, ...));
 * err may be NULL.  vdisk_error_set* and vdisk_error_clear reset it;
 * vdisk_error_prefix keeps it. */
int vdisk_error_set_reason(vdisk_error *err, vdisk_error_reason reason, int r);

/* The kind an errno implies when the code raising it names none:
 * VDISK_ERR_FAILED for errnos that say nothing definite (ERANGE, ELOOP...). */
vdisk_error_kind vdisk_error_kind_from_errno(int errnum);

/* "not found", "in use", "corrupt"... (for logs and tests); never NULL. */
const char *vdisk_error_kind_name(vdisk_error_kind kind);

/* Put "<context>: " in front of the existing message (no-op if err is NULL);
 * the code, the kind and the subject stay (a layer that words its errors by
 * subject writes its words into the message first: vdisk_store_error_prefix). */
void vdisk_error_prefix(vdisk_error *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* As vdisk_error_prefix(err, "%s", name), and record NAME as the name the
 * message now begins with (for a caller that adds the file's name to an
 * error raised below it). */
void vdisk_error_prefix_name(vdisk_error *err, const char *name);

/* Record that the message names NAME, the file it is about, where NAME
 * first appears in it (for messages not worded "%s: ...").  No-op when
 * the message does not hold NAME. */
void vdisk_error_name(vdisk_error *err, const char *name);

/* Whether the message begins with NAME as the name of what it is about
 * (recorded when the error was raised: a format "%s: ..." whose first
 * argument was NAME).  A caller that names the file in front of a message
 * does so only when this is false; one that must not name it (qemu-img's
 * wording) skips name_len + 2 bytes. */
int vdisk_error_names(const vdisk_error *err, const char *name);

/* Whether the error is about NAME: its message names NAME as recorded,
 * at the start or elsewhere. */
int vdisk_error_is_about(const vdisk_error *err, const char *name);

/* No error: code 0, empty message, VDISK_ERR_NONE. */
void vdisk_error_clear(vdisk_error *err);

#ifdef __cplusplus
}
#endif
#endif
