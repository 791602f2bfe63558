/* vdisk plugin — secret XML (secret-xml.c), used by secret.c. */
#ifndef VDISK_SECRET_INTERNAL_H
#define VDISK_SECRET_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include <vdisk/secret.h>
#include <vdisk/store-error.h>

/* Parse <secret> XML into *def (cleared first); *has_uuid says whether it
 * named its UUID. */
int vdisk_secret_def_parse(const char *xml, size_t len, const char *doc, vdisk_secret_def *def,
                           bool *has_uuid, vdisk_error *err);
/* Format as virsh secret-dumpxml; *out malloc'ed. */
int vdisk_secret_def_format(const vdisk_secret_def *def, char **out, size_t *len, vdisk_error *err);

#endif
