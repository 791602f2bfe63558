/* vdisk plugin — the embedded registry's secrets as a store's
 * (store-registry.h): each operation is the registry's own call.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <vdisk/storage-xml.h>

#include "secret-internal.h"
#include "xml-internal.h"

#include "store-registry.h"

static vdisk_registry *
reg_of(vdisk_store *store)
{
    return ((registry_store *)store)->reg;
}

/* secret_define: the registry parses the XML (validated against vdisk's
 * schema first, when asked). */
int
registry_secret_define(vdisk_store *store, const char *xml, size_t len, const char *file, bool validate,
                       unsigned char uuid[16], vdisk_store_define_step *step, vdisk_error *err)
{
    *step = VDISK_STORE_DEFINE_FROM;
    int r = validate ? vdisk_xml_validate(xml, len, file, "secret", "secret.rng", err) : 0;
    return r < 0 ? r : vdisk_secret_define(reg_of(store), xml, len, file, uuid, err);
}

/* secret_list: as the registry orders them. */
int
registry_secret_list(vdisk_store *store, vdisk_secret_def **defs, size_t *count, vdisk_error *err)
{
    return vdisk_secret_list(reg_of(store), defs, count, err);
}

/* secret_lookup: by UUID or usage id. */
int
registry_secret_lookup(vdisk_store *store, const char *name, vdisk_store_secret **out, vdisk_error *err)
{
    vdisk_secret_def def;
    *out = NULL;
    int r = vdisk_secret_lookup(reg_of(store), name, &def, err);
    if (r < 0)
        return r;
    vdisk_store_secret *s = calloc(1, sizeof(*s));
    if (s) {
        s->store = store;
        memcpy(s->uuid, def.uuid, sizeof(s->uuid));
    }
    vdisk_secret_def_clear(&def);
    if (!s)
        return vdisk_error_set(err, ENOMEM, "out of memory");
    *out = s;
    return 0;
}

/* secret_free: the handle is the UUID alone. */
void
registry_secret_free(vdisk_store_secret *secret)
{
    free(secret);
}

/* secret_set_value: kept by the registry, readable only by its owner. */
int
registry_secret_set_value(vdisk_store_secret *secret, const void *value, size_t len, vdisk_error *err)
{
    return vdisk_secret_set_value(reg_of(secret->store), secret->uuid, value, len, err);
}

/* secret_undefine: the definition and the value go. */
int
registry_secret_undefine(vdisk_store_secret *secret, vdisk_error *err)
{
    return vdisk_secret_undefine(reg_of(secret->store), secret->uuid, err);
}

/* secret_get_value: as libvirt's secret driver, a private secret's value
 * goes only to root (the registry's files are the owner's either way). */
int
registry_secret_get_value(vdisk_store_secret *secret, unsigned char **value, size_t *len, vdisk_error *err)
{
    char uuid[VDISK_UUID_STRING_LEN];
    vdisk_secret_def def;
    vdisk_uuid_format(secret->uuid, uuid);
    int r = vdisk_secret_lookup(reg_of(secret->store), uuid, &def, err);
    if (r < 0)
        return r;
    bool hidden = def.private_ && geteuid() != 0;
    vdisk_secret_def_clear(&def);
    if (hidden)
        return vdisk_error_set(err, EPERM, "Invalid secret: secret is private");
    return vdisk_secret_get_value(reg_of(secret->store), secret->uuid, value, len, err);
}

/* secret_xml: the registry's definition, formatted as libvirt does. */
int
registry_secret_xml(vdisk_store_secret *secret, char **xml, vdisk_error *err)
{
    char uuid[VDISK_UUID_STRING_LEN];
    vdisk_secret_def def;
    size_t len;
    vdisk_uuid_format(secret->uuid, uuid);
    int r = vdisk_secret_lookup(reg_of(secret->store), uuid, &def, err);
    if (r < 0)
        return r;
    r = vdisk_secret_def_format(&def, xml, &len, err);
    vdisk_secret_def_clear(&def);
    return r;
}
