/* vdisk-virsh -c URI — secrets of the daemon's secret driver:
 * secret-define, secret-set-value (value from a file, never argv),
 * secret-list, secret-undefine.  Messages as virsh's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "remote-internal.h"
#include "virsh-common.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* secret-define: define (or redefine) a secret from XML. */
int
vr_secret_define(const char *uri, int argc, char **argv)
{
    vv_arg args[] = { VV_REQ("file"), VV_FLAG("validate") };
    vr_ctx c;
    int r = vr_begin(uri, argc, argv, args, N(args), &c);
    if (r != VV_GO)
        return r;
    char *xml, uuid[VIR_UUID_STRING_BUFLEN];
    size_t len;
    r = 1;
    if (vv_read_file(args[0].value, &xml, &len) == 0) {
        virSecretPtr sec = virSecretDefineXML(c.conn, xml, args[1].set ? VIR_SECRET_DEFINE_VALIDATE : 0);
        if (!sec) {
            vv_virsh_error("Failed to set attributes from %s", args[0].value);
            vr_report();
        } else if (virSecretGetUUIDString(sec, uuid) < 0) {
            vv_virsh_error("Failed to get UUID of created secret");
            vr_report();
        } else {
            printf("Secret %s created\n", uuid);
            r = 0;
        }
        if (sec)
            virSecretFree(sec);
        free(xml);
    }
    vr_end(&c);
    return r;
}

/* <secret> as the embedded commands take it: a UUID (virsh's only
 * form), else the usage id of a volume secret (its volume's path). */
static virSecretPtr
lookup_secret(virConnectPtr conn, const char *name)
{
    virSecretPtr sec = virSecretLookupByUUIDString(conn, name);
    if (!sec && name[0] == '/')
        sec = virSecretLookupByUsage(conn, VIR_SECRET_USAGE_TYPE_VOLUME, name);
    if (!sec) {
        vv_virsh_error("failed to get secret '%s'", name);
        vr_report();
    }
    return sec;
}

/* secret-set-value: the value from --file (base64 unless --plain). */
int
vr_secret_set_value(const char *uri, int argc, char **argv)
{
    vv_arg args[] = {
        VV_REQ("secret"), VV_POS("base64"),
        VV_VAL("file"), VV_FLAG("plain"), VV_FLAG("interactive"),
    };
    vr_ctx c;
    int r = vr_begin(uri, argc, argv, args, N(args), &c);
    if (r != VV_GO)
        return r;
    char *value = NULL;
    size_t len, alloc = 0;
    virSecretPtr sec = NULL;
    r = 1;
    if (vv_secret_value_read(args, N(args), &value, &len, &alloc) == 0 &&
        (sec = lookup_secret(c.conn, args[0].value)) != NULL) {
        if (virSecretSetValue(sec, (const unsigned char *)value, len, 0) < 0) {
            vv_virsh_error("Failed to set secret value");
            vr_report();
        } else {
            printf("Secret value set\n");
            r = 0;
        }
    }
    if (value) {
        explicit_bzero(value, alloc);
        free(value);
    }
    if (sec)
        virSecretFree(sec);
    vr_end(&c);
    return r;
}

/* secret-undefine: remove a secret and its value. */
int
vr_secret_undefine(const char *uri, int argc, char **argv)
{
    vv_arg args[] = { VV_REQ("secret") };
    vr_ctx c;
    int r = vr_begin(uri, argc, argv, args, N(args), &c);
    if (r != VV_GO)
        return r;
    virSecretPtr sec = lookup_secret(c.conn, args[0].value);
    r = 1;
    if (sec && virSecretUndefine(sec) < 0) {
        vv_virsh_error("Failed to delete secret %s", args[0].value);
        vr_report();
    } else if (sec) {
        printf("Secret %s deleted\n", args[0].value);
        r = 0;
    }
    if (sec)
        virSecretFree(sec);
    vr_end(&c);
    return r;
}

/* A secret as the embedded printer's definition. */
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
    if (type > 0 && type < (int)N(usages)) {
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

/* secret-list: the daemon's secrets, sorted by UUID as virsh does. */
int
vr_secret_list(const char *uri, int argc, char **argv)
{
    vv_arg args[] = {
        VV_FLAG("ephemeral"), VV_FLAG("no-ephemeral"), VV_FLAG("private"), VV_FLAG("no-private"), VV_FLAG("json"),
    };
    vr_ctx c;
    int r = vr_begin(uri, argc, argv, args, N(args), &c);
    if (r != VV_GO)
        return r;
    virSecretPtr *list = NULL;
    int count = virConnectListAllSecrets(c.conn, &list, 0);
    vdisk_secret_def *defs = calloc(count > 0 ? (size_t)count : 1, sizeof(*defs));
    size_t kept = 0;
    r = 1;
    if (count < 0 || !defs) {
        vv_virsh_error("Failed to list secrets");
        vr_report();
    } else {
        for (int i = 0; i < count; i++)
            if (fill_def(list[i], &defs[kept]) == 0)
                kept++;
        qsort(defs, kept, sizeof(*defs), by_uuid);
        vv_print_secret_list(defs, kept, args);
        r = 0;
    }
    for (int i = 0; i < count; i++)
        virSecretFree(list[i]);
    free(list);
    vdisk_secret_defs_free(defs, kept);
    vr_end(&c);
    return r;
}
