/* vdisk-virsh -c URI — the secrets of a libvirt daemon's secret driver
 * as a store's (store-libvirt.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "store-libvirt.h"

typedef struct libvirt_secret {
    vdisk_store_secret base;
    virSecretPtr secret;
} libvirt_secret;

static virSecretPtr
to_vir(vdisk_store_secret *secret)
{
    return ((libvirt_secret *)secret)->secret;
}

static virConnectPtr
conn_of(vdisk_store *store)
{
    return ((libvirt_store *)store)->conn;
}

/* secret_define: the daemon parses (and with validate, validates) the XML. */
int
libvirt_secret_define(vdisk_store *store, const char *xml, size_t len, const char *file, bool validate,
                      unsigned char uuid[16], vdisk_store_define_step *step, vdisk_error *err)
{
    (void)len, (void)file;
    *step = VDISK_STORE_DEFINE_FROM;
    virSecretPtr sec = virSecretDefineXML(conn_of(store), xml, validate ? VIR_SECRET_DEFINE_VALIDATE : 0);
    if (!sec)
        return vr_error(err);
    int r = 0;
    if (virSecretGetUUID(sec, uuid) < 0) {
        *step = VDISK_STORE_DEFINE_NAMED;
        r = vr_error(err);
    }
    virSecretFree(sec);
    return r;
}

/* A secret as the registry's definition (for secret-list's printer). */
static int
fill_def(virSecretPtr sec, vdisk_secret_def *d)
{
    static const char *const usages[] = { NULL, "volume", "ceph", "iscsi", "tls", "vtpm" };
    char *xml = virSecretGetXMLDesc(sec, 0);
    int type = virSecretGetUsageType(sec);
    if (!xml || virSecretGetUUID(sec, d->uuid) < 0 || type < 0) {
        free(xml);
        return -1;
    }
    /* libvirt writes both attributes on <secret>, as 'yes' or 'no'. */
    d->ephemeral = strstr(xml, "ephemeral='yes'") != NULL;
    d->private_ = strstr(xml, "private='yes'") != NULL;
    free(xml);
    if (type > 0 && type < (int)(sizeof(usages) / sizeof(usages[0]))) {
        const char *id = virSecretGetUsageID(sec);
        d->usage_type = strdup(usages[type]);
        d->usage_id = strdup(id ? id : "");
    }
    return 0;
}

static int
by_uuid(const void *a, const void *b)
{
    return memcmp(((const vdisk_secret_def *)a)->uuid, ((const vdisk_secret_def *)b)->uuid, 16);
}

/* secret_list: sorted by UUID, as virsh; one that vanished meanwhile is left out. */
int
libvirt_secret_list(vdisk_store *store, vdisk_secret_def **defs, size_t *count, vdisk_error *err)
{
    virSecretPtr *list = NULL;
    int n = virConnectListAllSecrets(conn_of(store), &list, 0);
    *defs = NULL;
    *count = 0;
    if (n < 0)
        return vr_error(err);
    vdisk_secret_def *out = calloc(n > 0 ? (size_t)n : 1, sizeof(*out));
    size_t kept = 0;
    for (int i = 0; out && i < n; i++)
        if (fill_def(list[i], &out[kept]) == 0)
            kept++;
    for (int i = 0; i < n; i++)
        virSecretFree(list[i]);
    free(list);
    if (!out)
        return vr_error(err);
    qsort(out, kept, sizeof(*out), by_uuid);
    *defs = out;
    *count = kept;
    return 0;
}

/* secret_lookup: a UUID (virsh's only form), else the usage id of a
 * volume secret (its volume's path). */
int
libvirt_secret_lookup(vdisk_store *store, const char *name, vdisk_store_secret **out, vdisk_error *err)
{
    *out = NULL;
    virSecretPtr sec = virSecretLookupByUUIDString(conn_of(store), name);
    if (!sec && name[0] == '/')
        sec = virSecretLookupByUsage(conn_of(store), VIR_SECRET_USAGE_TYPE_VOLUME, name);
    if (!sec)
        return vr_error(err);
    libvirt_secret *s = calloc(1, sizeof(*s));
    if (!s) {
        virSecretFree(sec);
        return vdisk_error_set(err, ENOMEM, "out of memory");
    }
    s->base.store = store;
    s->secret = sec;
    virSecretGetUUID(sec, s->base.uuid);
    *out = &s->base;
    return 0;
}

/* secret_free: libvirt's handle. */
void
libvirt_secret_free(vdisk_store_secret *secret)
{
    if (secret) {
        virSecretFree(to_vir(secret));
        free(secret);
    }
}

/* secret_set_value: the daemon keeps it. */
int
libvirt_secret_set_value(vdisk_store_secret *secret, const void *value, size_t len, vdisk_error *err)
{
    return virSecretSetValue(to_vir(secret), value, len, 0) < 0 ? vr_error(err) : 0;
}

/* secret_undefine: the daemon forgets the secret and its value. */
int
libvirt_secret_undefine(vdisk_store_secret *secret, vdisk_error *err)
{
    return virSecretUndefine(to_vir(secret)) < 0 ? vr_error(err) : 0;
}

/* secret_get_value: the daemon's copy, into memory the caller wipes
 * (libvirt's own buffer is wiped before it is freed). */
int
libvirt_secret_get_value(vdisk_store_secret *secret, unsigned char **value, size_t *len, vdisk_error *err)
{
    size_t size = 0;
    unsigned char *v = virSecretGetValue(to_vir(secret), &size, 0);
    if (!v)
        return vr_error(err);
    *value = malloc(size ? size : 1);
    if (*value)
        memcpy(*value, v, size);
    explicit_bzero(v, size);
    free(v);
    if (!*value)
        return vdisk_error_set(err, ENOMEM, "out of memory");
    *len = size;
    return 0;
}

/* secret_xml: the daemon's XML of the secret. */
int
libvirt_secret_xml(vdisk_store_secret *secret, char **xml, vdisk_error *err)
{
    return (*xml = virSecretGetXMLDesc(to_vir(secret), 0)) ? 0 : vr_error(err);
}
