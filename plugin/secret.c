/* vdisk plugin — secrets stored in the embedded registry (secret.h):
 * secrets/UUID.xml and secrets/UUID.value, mode 0600 in a 0700 directory. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vdisk/secret.h>
#include <vdisk/storage-def.h>

#include "secret-internal.h"

void
vdisk_secret_def_clear(vdisk_secret_def *def)
{
    free(def->description);
    free(def->usage_type);
    free(def->usage_id);
    memset(def, 0, sizeof(*def));
}

void
vdisk_secret_defs_free(vdisk_secret_def *defs, size_t n)
{
    for (size_t i = 0; i < n; i++)
        vdisk_secret_def_clear(&defs[i]);
    free(defs);
}

static void
file_name(char *buf, size_t len, const unsigned char uuid[16], const char *ext)
{
    char u[VDISK_UUID_STRING_LEN];
    vdisk_uuid_format(uuid, u);
    snprintf(buf, len, "%s.%s", u, ext);
}

/* Load secrets/<uuid>.xml. */
static int
load(vdisk_registry *reg, const char *uuid_text, vdisk_secret_def *def, vdisk_error *err)
{
    char file[64], *xml;
    size_t len;
    snprintf(file, sizeof(file), "%s.xml", uuid_text);
    int r = vdisk_registry_read(reg, VDISK_REGISTRY_SECRETS, file, &xml, &len, err);
    if (r < 0)
        return r;
    bool has_uuid;
    r = vdisk_secret_def_parse(xml, len, file, def, &has_uuid, err);
    free(xml);
    return r;
}

int
vdisk_secret_list(vdisk_registry *reg, vdisk_secret_def **defs, size_t *n, vdisk_error *err)
{
    char **names;
    size_t count;
    int r = vdisk_registry_list(reg, VDISK_REGISTRY_SECRETS, ".xml", &names, &count, err);
    if (r < 0)
        return r;
    vdisk_secret_def *v = calloc(count ? count : 1, sizeof(*v));
    size_t got = 0;
    if (!v)
        r = vdisk_error_set(err, ENOMEM, "out of memory");
    for (size_t i = 0; r == 0 && i < count; i++) {
        r = load(reg, names[i], &v[got], err);
        if (r == 0)
            got++;
        else if (r == -ENOENT)      /* undefined meanwhile */
            r = 0;
    }
    vdisk_registry_names_free(names, count);
    if (r < 0) {
        vdisk_secret_defs_free(v, got);
        return r;
    }
    *defs = v;
    *n = got;
    return 0;
}

int
vdisk_secret_lookup(vdisk_registry *reg, const char *uuid_or_usage, vdisk_secret_def *def,
                    vdisk_error *err)
{
    unsigned char uuid[16];
    int r;
    if (vdisk_uuid_parse(uuid_or_usage, uuid) == 0) {
        char u[VDISK_UUID_STRING_LEN];
        vdisk_uuid_format(uuid, u);
        r = load(reg, u, def, err);
    } else {
        vdisk_secret_def *all;
        size_t n;
        if ((r = vdisk_secret_list(reg, &all, &n, err)) < 0)
            return r;
        r = -ENOENT;
        for (size_t i = 0; i < n && r == -ENOENT; i++)
            if (all[i].usage_id && strcmp(all[i].usage_id, uuid_or_usage) == 0) {
                *def = all[i];
                memset(&all[i], 0, sizeof(all[i]));
                r = 0;
            }
        vdisk_secret_defs_free(all, n);
    }
    if (r == -ENOENT)
        return vdisk_store_error_set(err, VDISK_ERR_NOT_FOUND, VDISK_SUBJECT_SECRET, ENOENT,
                                     "no secret with matching uuid '%s'", uuid_or_usage);
    return r;
}

/* Refuse a second secret for the same usage (libvirt does). */
static int
check_usage_clash(vdisk_registry *reg, const vdisk_secret_def *def, vdisk_error *err)
{
    if (!def->usage_type)
        return 0;
    vdisk_secret_def *all;
    size_t n;
    int r = vdisk_secret_list(reg, &all, &n, err);
    if (r < 0)
        return r;
    for (size_t i = 0; r == 0 && i < n; i++) {
        const vdisk_secret_def *o = &all[i];
        if (memcmp(o->uuid, def->uuid, 16) != 0 && o->usage_type && o->usage_id &&
            strcmp(o->usage_type, def->usage_type) == 0 && strcmp(o->usage_id, def->usage_id) == 0) {
            char u[VDISK_UUID_STRING_LEN];
            vdisk_uuid_format(o->uuid, u);
            r = vdisk_error_set(err, EEXIST, "a secret with UUID %s already defined for use with %s",
                                u, def->usage_id);
        }
    }
    vdisk_secret_defs_free(all, n);
    return r;
}

int
vdisk_secret_define(vdisk_registry *reg, const char *xml, size_t len, const char *docname,
                    unsigned char uuid[16], vdisk_error *err)
{
    vdisk_secret_def def;
    bool has_uuid;
    int r = vdisk_secret_def_parse(xml, len, docname, &def, &has_uuid, err);
    if (r < 0)
        return r;
    if (!has_uuid && (r = vdisk_uuid_generate(def.uuid)) < 0) {
        vdisk_secret_def_clear(&def);
        return vdisk_error_set_errno(err, -r, "%s: cannot generate a uuid", docname);
    }
    char *text = NULL;
    size_t tlen;
    if ((r = vdisk_registry_lock(reg, true, err)) == 0) {
        r = check_usage_clash(reg, &def, err);
        if (r == 0)
            r = vdisk_secret_def_format(&def, &text, &tlen, err);
        char file[64];
        file_name(file, sizeof(file), def.uuid, "xml");
        if (r == 0)
            r = vdisk_registry_write(reg, VDISK_REGISTRY_SECRETS, file, text, tlen, 0600, err);
        vdisk_registry_unlock(reg);
    }
    if (r == 0)
        memcpy(uuid, def.uuid, 16);
    free(text);
    vdisk_secret_def_clear(&def);
    return r;
}

/* -ENOENT with libvirt's message when the secret is not defined. */
static int
require_defined(vdisk_registry *reg, const unsigned char uuid[16], vdisk_error *err)
{
    char u[VDISK_UUID_STRING_LEN];
    vdisk_uuid_format(uuid, u);
    vdisk_secret_def def;
    int r = load(reg, u, &def, err);
    if (r == -ENOENT)
        return vdisk_store_error_set(err, VDISK_ERR_NOT_FOUND, VDISK_SUBJECT_SECRET, ENOENT,
                                     "no secret with matching uuid '%s'", u);
    if (r == 0)
        vdisk_secret_def_clear(&def);
    return r;
}

int
vdisk_secret_set_value(vdisk_registry *reg, const unsigned char uuid[16], const void *value,
                       size_t len, vdisk_error *err)
{
    if (len > VDISK_SECRET_MAX_VALUE)
        return vdisk_error_set(err, EFBIG, "secret value of %zu bytes is larger than %d", len,
                               VDISK_SECRET_MAX_VALUE);
    int r = vdisk_registry_lock(reg, true, err);
    if (r < 0)
        return r;
    char file[64];
    file_name(file, sizeof(file), uuid, "value");
    if ((r = require_defined(reg, uuid, err)) == 0)
        r = vdisk_registry_write(reg, VDISK_REGISTRY_SECRETS, file, value, len, 0600, err);
    vdisk_registry_unlock(reg);
    return r;
}

int
vdisk_secret_get_value(vdisk_registry *reg, const unsigned char uuid[16], unsigned char **value,
                       size_t *len, vdisk_error *err)
{
    char file[64], *data;
    file_name(file, sizeof(file), uuid, "value");
    int r = vdisk_registry_read(reg, VDISK_REGISTRY_SECRETS, file, &data, len, err);
    if (r == -ENOENT) {
        char u[VDISK_UUID_STRING_LEN];
        vdisk_uuid_format(uuid, u);
        return vdisk_error_set(err, ENOENT, "secret '%s' does not have a value", u);
    }
    if (r == 0)
        *value = (unsigned char *)data;
    return r;
}

int
vdisk_secret_undefine(vdisk_registry *reg, const unsigned char uuid[16], vdisk_error *err)
{
    int r = vdisk_registry_lock(reg, true, err);
    if (r < 0)
        return r;
    char file[64];
    if ((r = require_defined(reg, uuid, err)) == 0) {
        file_name(file, sizeof(file), uuid, "value");
        r = vdisk_registry_remove(reg, VDISK_REGISTRY_SECRETS, file, err);
        file_name(file, sizeof(file), uuid, "xml");
        if (r == 0)
            r = vdisk_registry_remove(reg, VDISK_REGISTRY_SECRETS, file, err);
    }
    vdisk_registry_unlock(reg);
    return r;
}
