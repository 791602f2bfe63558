/* vdisk plugin — secrets of the embedded registry (virsh secret-define,
 * secret-set-value, secret-list, secret-undefine), for <encryption>
 * volumes when no libvirt daemon is used.
 *
 * Definitions and values live in the registry's secrets/ directory (mode
 * 0700), one file each with mode 0600: readable by the registry's owner
 * only (root for the system registry).  Values are never formatted into
 * messages; buffers that held them are cleared before they are freed.
 */
#ifndef VDISK_SECRET_H
#define VDISK_SECRET_H

#include <stdbool.h>
#include <stddef.h>

#include <vdisk/error.h>
#include <vdisk/registry.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Largest secret value accepted, in bytes. */
#define VDISK_SECRET_MAX_VALUE 4096

/* libvirt's <secret> XML, as plain data. */
typedef struct vdisk_secret_def {
    unsigned char uuid[16];
    bool ephemeral;              /* <secret ephemeral='yes'> (kept in the registry all the same) */
    bool private_;               /* <secret private='yes'>: value not shown back */
    char *description;           /* NULL if none */
    char *usage_type;            /* "volume", "ceph", "iscsi", "tls", "vtpm"; NULL = no usage */
    char *usage_id;              /* the volume path, or the usage name/target */
} vdisk_secret_def;

void vdisk_secret_def_clear(vdisk_secret_def *def);
void vdisk_secret_defs_free(vdisk_secret_def *defs, size_t n);

/* Parse <secret> XML (hostile input safe: no entities, no DTD, no network)
 * and store it; a missing <uuid> is generated.  Redefining a UUID replaces
 * its definition and keeps its value; another secret with the same usage is
 * refused, as libvirt.  The UUID is returned in uuid. */
int vdisk_secret_define(vdisk_registry *reg, const char *xml, size_t len, const char *docname,
                        unsigned char uuid[16], vdisk_error *err);

/* Find a secret by UUID, or by its usage id (a volume path). */
int vdisk_secret_lookup(vdisk_registry *reg, const char *uuid_or_usage, vdisk_secret_def *def,
                        vdisk_error *err);

/* Every defined secret, sorted by UUID. */
int vdisk_secret_list(vdisk_registry *reg, vdisk_secret_def **defs, size_t *n, vdisk_error *err);

int vdisk_secret_set_value(vdisk_registry *reg, const unsigned char uuid[16], const void *value,
                           size_t len, vdisk_error *err);
/* *value is malloc'ed; the caller clears (explicit_bzero) and frees it.
 * -ENOENT when the secret has no value. */
int vdisk_secret_get_value(vdisk_registry *reg, const unsigned char uuid[16], unsigned char **value,
                           size_t *len, vdisk_error *err);

/* Remove a secret's definition and value. */
int vdisk_secret_undefine(vdisk_registry *reg, const unsigned char uuid[16], vdisk_error *err);

#ifdef __cplusplus
}
#endif
#endif
