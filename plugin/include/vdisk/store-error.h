/* vdisk plugin — errors about pools, volumes and secrets.
 *
 * libvirt and virsh say more about an error than its kind: a volume that
 * is not there is VIR_ERR_NO_STORAGE_VOL, shown as "Storage volume not
 * found: <detail>"; a pool started twice is VIR_ERR_OPERATION_INVALID,
 * "Requested operation is not valid: <detail>".  The plugin raises such an
 * error with a kind (libvdisk's NOT_FOUND, INVALID_STATE) and a subject
 * (vdisk_error.subject: pool, volume, secret) and only the detail as its
 * message; each layer above derives its own words from kind and subject:
 *   - the libvirt module maps them to a VIR_ERR_* code (libvirt writes the
 *     words itself);
 *   - vdisk-virsh prints the words in front of the message
 *     (vdisk_store_error_words), as virsh does for a daemon's error.
 * So rewording a message changes no error code, and libvdisk knows nothing
 * of pools: the subject is the plugin's, kept in libvdisk's int.
 */
#ifndef VDISK_STORE_ERROR_H
#define VDISK_STORE_ERROR_H

#include <vdisk/error.h>

#ifdef __cplusplus
extern "C" {
#endif

/* What a plugin error is about (vdisk_error.subject). */
typedef enum vdisk_store_subject {
    VDISK_SUBJECT_NONE = 0,        /* nothing the plugin names: the message says it */
    VDISK_SUBJECT_POOL,            /* a storage pool */
    VDISK_SUBJECT_VOLUME,          /* a storage volume */
    VDISK_SUBJECT_SECRET,          /* a secret */
} vdisk_store_subject;

/* As vdisk_error_set_kind, and name the subject:
 *   return vdisk_store_error_set(err, VDISK_ERR_NOT_FOUND, VDISK_SUBJECT_POOL, ENOENT,
 *                                "no storage pool with matching name '%s'", name);
 */
int vdisk_store_error_set(vdisk_error *err, vdisk_error_kind kind, vdisk_store_subject subject,
                          int errnum, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* virsh's words for the error's kind and subject ("Storage pool not found",
 * "Requested operation is not valid"...), or NULL when it has none (every
 * error of subject 0: libvdisk's, and a daemon's, whose message has them). */
const char *vdisk_store_error_words(const vdisk_error *err);

/* As vdisk_error_prefix, for an error that may have a subject: its words go
 * into the message first (where virsh would show them, after the context),
 * and the subject becomes 0. */
void vdisk_store_error_prefix(vdisk_error *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#ifdef __cplusplus
}
#endif
#endif
