/* vdisk-virsh -c URI — the connection, virsh's lookups and libvirt's
 * errors, below the libvirt store (remote-internal.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vdisk/storage-xml.h>

#include "remote-internal.h"

/* libvirt's default handler prints every error at once; virsh keeps the
 * last one and prints it when the command fails (report). */
static void
quiet_error(void *opaque, virErrorPtr error)
{
}

/* "error: <libvirt's last error>" as virsh prints it. */
static void
report(void)
{
    vdisk_error err;
    vr_error(&err);
    vv_store_report(&err);
}

int
vr_connect(const char *uri, virConnectPtr *conn)
{
    *conn = NULL;
    if (vv_libvirt_load() < 0)
        return -1;
    virSetErrorFunc(NULL, quiet_error);
    *conn = virConnectOpenAuth(uri, virConnectAuthPtrDefault, 0);
    if (!*conn) {
        vv_virsh_error("failed to connect to the hypervisor");
        report();
        return -1;
    }
    return 0;
}

int
vr_find_pool(virConnectPtr conn, const char *name, virStoragePoolPtr *out, vdisk_error *err)
{
    *out = NULL;
    /* As virsh: a 36-character argument is tried as a UUID first. */
    if (strlen(name) == VIR_UUID_STRING_BUFLEN - 1)
        *out = virStoragePoolLookupByUUIDString(conn, name);
    if (!*out)
        *out = virStoragePoolLookupByName(conn, name);
    if (!*out)
        return vr_error(err);
    virResetLastError();
    return 0;
}

/* With --pool, make sure the volume found by key or path is in it. */
static int
check_in_pool(virStorageVolPtr vol, virStoragePoolPtr pool, const char *name,
              vdisk_store_lookup_step *step, vdisk_error *err)
{
    virStoragePoolPtr in = virStoragePoolLookupByVolume(vol);
    if (!in) {
        *step = VDISK_STORE_STEP_VOL_POOL;
        return vr_error(err);
    }
    int same = strcmp(virStoragePoolGetName(in), virStoragePoolGetName(pool)) == 0;
    virStoragePoolFree(in);
    *step = VDISK_STORE_STEP_CHECK;
    if (!same)
        return vdisk_error_set(err, ENOENT, "Requested volume '%s' is not in pool '%s'", name,
                               virStoragePoolGetName(pool));
    return 0;
}

/* The pool named with a volume, which must be active. */
static int
find_pool(virConnectPtr conn, const char *pool_name, virStoragePoolPtr *pool,
          vdisk_store_lookup_step *step, vdisk_error *err)
{
    *step = VDISK_STORE_STEP_POOL;
    if (vr_find_pool(conn, pool_name, pool, err) < 0)
        return -1;
    if (virStoragePoolIsActive(*pool) != 1) {
        *step = VDISK_STORE_STEP_CHECK;
        return vdisk_error_set(err, EINVAL, "pool '%s' is not active", pool_name);
    }
    return 0;
}

int
vr_find_vol(virConnectPtr conn, const char *pool_name, const char *name, virStorageVolPtr *out,
            vdisk_store_lookup_step *step, vdisk_error *err)
{
    virStoragePoolPtr pool = NULL;
    int r = 0;
    *out = NULL;
    if (pool_name) {
        if ((r = find_pool(conn, pool_name, &pool, step, err)) == 0)
            *out = virStorageVolLookupByName(pool, name);
    }
    if (r == 0 && !*out)
        *out = virStorageVolLookupByKey(conn, name);
    if (r == 0 && !*out)
        *out = virStorageVolLookupByPath(conn, name);
    if (r == 0 && !*out) {
        *step = VDISK_STORE_STEP_VOL;
        r = vr_error(err);
    } else if (r == 0) {
        virResetLastError();
        if (pool && (r = check_in_pool(*out, pool, name, step, err)) < 0) {
            virStorageVolFree(*out);
            *out = NULL;
        }
    }
    if (pool)
        virStoragePoolFree(pool);
    return r;
}

static const char *
vol_type_name(int type)
{
    static const char *const names[] = { "file", "block", "dir", "network", "netdir", "ploop" };
    return type >= 0 && type < (int)(sizeof(names) / sizeof(names[0])) ? names[type] : "unknown";
}

/* Fill what the XML did not give (or could not be parsed for) from the API. */
static int
fill_from_api(virStorageVolPtr vol, vdisk_vol_def *def, vdisk_error *err)
{
    if (!def->name)
        def->name = strdup(virStorageVolGetName(vol));
    if (!def->key)
        def->key = strdup(virStorageVolGetKey(vol));
    if (!def->target_path)
        def->target_path = virStorageVolGetPath(vol);
    if (!def->name || !def->key || !def->target_path)
        return vr_error(err);
    return 0;
}

int
vr_vol_def_get(virStorageVolPtr vol, bool physical, vdisk_vol_def *def, const char **type, vdisk_error *err)
{
    virStorageVolInfo info, phys;
    vdisk_vol_def *parsed = NULL;
    vdisk_error perr = { 0 };
    memset(def, 0, sizeof(*def));
    char *xml = virStorageVolGetXMLDesc(vol, 0);
    if (!xml || virStorageVolGetInfo(vol, &info) < 0) {
        free(xml);
        return vr_error(err);
    }
    /* A volume vdisk's XML layer cannot read (a format it does not know,
     * a directory) is still listed, with what the API says of it. */
    if (vdisk_vol_def_parse(xml, strlen(xml), virStorageVolGetName(vol), &parsed, &perr) == 0) {
        *def = *parsed;
        free(parsed);
    }
    free(xml);
    int r = fill_from_api(vol, def, err);
    if (r < 0) {
        vdisk_vol_def_clear(def);
        return r;
    }
    def->capacity = info.capacity;
    def->allocation = info.allocation;
    if (physical && virStorageVolGetInfoFlags(vol, &phys, VIR_STORAGE_VOL_GET_PHYSICAL) == 0)
        def->physical = phys.allocation;
    virResetLastError();
    if (type)
        *type = vol_type_name(info.type);
    return 0;
}

