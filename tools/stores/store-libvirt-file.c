/* vdisk-virsh -c URI — a daemon's volume as a file vdisk can work on
 * (store-libvirt.h): what libvirt's storage API lacks (internal snapshots,
 * vol-convert) is done on the volume's file.  The daemon names the volume
 * and its pool; the pool's XML (type dir or vdisk) gives the directory,
 * opened as an unmanaged pool of the plugin (O_NOFOLLOW, names checked,
 * image locks taken as QEMU takes them); passphrases of encrypted volumes
 * come from the daemon's secrets.  Afterwards the daemon's pool is
 * refreshed so it sees the change.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <vdisk/storage-xml.h>
#include <vdisk/volume.h>
#include <vdisk/volume-provisioning.h>

#include "store-libvirt.h"

/* Does the daemon keep this secret private (<secret private='yes'>)?
 * libvirt writes both attributes on <secret>, as 'yes' or 'no'. */
static bool
is_private(virSecretPtr sec)
{
    char *xml = sec ? virSecretGetXMLDesc(sec, 0) : NULL;
    bool private_ = xml && strstr(xml, "private='yes'");
    free(xml);
    return private_;
}

/* libvirt's last error into err, as "<what>: <message>" (and reset);
 * sec: the secret whose value was asked for, if it was found. */
static int
take_error(vdisk_error *err, int code, const char *what, virSecretPtr sec)
{
    virErrorPtr e = virGetLastError();
    char msg[VDISK_ERROR_MAX];
    /* Kept before is_private's calls replace libvirt's last error. */
    snprintf(msg, sizeof(msg), "%s", e && e->message ? e->message : "unknown error");
    bool invalid = e && e->code == VIR_ERR_INVALID_SECRET;
    virResetLastError();
    /* The daemon uses a private secret itself; a client may not read it. */
    const char *hint = invalid && is_private(sec)
                     ? " (vdisk-virsh reads volume secrets through libvirt's API: define it with private='no')"
                     : "";
    virResetLastError();
    return vdisk_error_set(err, code, "%s: %s%s", what, msg, hint);
}

/* Secret source: the daemon's volume secret whose usage is the path. */
static int
lookup_usage(void *opaque, const char *usage, unsigned char uuid[16], vdisk_error *err)
{
    virSecretPtr sec = virSecretLookupByUsage(opaque, VIR_SECRET_USAGE_TYPE_VOLUME, usage);
    if (!sec)
        return take_error(err, ENOENT, usage, NULL);
    int r = virSecretGetUUID(sec, uuid);
    virSecretFree(sec);
    return r < 0 ? take_error(err, EIO, usage, NULL) : 0;
}

/* Secret source: a secret's value, copied and libvirt's copy wiped. */
static int
get_value(void *opaque, const unsigned char uuid[16], unsigned char **value, size_t *len, vdisk_error *err)
{
    char u[VIR_UUID_STRING_BUFLEN];
    vdisk_uuid_format(uuid, u);
    virSecretPtr sec = virSecretLookupByUUID(opaque, uuid);
    unsigned char *v = sec ? virSecretGetValue(sec, len, 0) : NULL;
    int r = 0;
    if (!v)
        r = take_error(err, ENOENT, u, sec);
    else if (!(*value = malloc(*len ? *len : 1)))
        r = vdisk_error_set(err, ENOMEM, "secret %s: out of memory", u);
    else
        memcpy(*value, v, *len);
    if (v) {
        explicit_bzero(v, *len);
        free(v);
    }
    if (sec)
        virSecretFree(sec);
    return r;
}

void
vr_secret_source_init(vdisk_secret_source *src, virConnectPtr conn)
{
    *src = (vdisk_secret_source){ .lookup_usage = lookup_usage, .get_value = get_value, .opaque = conn };
}

int
vr_dir_pool(virStoragePoolPtr pool, const vdisk_secret_source *src, vdisk_pool **out, vdisk_error *err)
{
    char *xml = virStoragePoolGetXMLDesc(pool, 0), type[32] = "";
    const char *t = xml ? strstr(xml, "type='") : NULL;
    vdisk_pool_def *def = NULL;
    int r;
    *out = NULL;
    if (!xml)
        return vr_error(err);
    if (t)
        sscanf(t + 6, "%31[^']", type);
    if (strcmp(type, "dir") != 0 && strcmp(type, "vdisk") != 0)
        r = vdisk_error_set(err, ENOTSUP, "pool '%s' is of type '%s': vdisk-virsh acts on the files of "
                            "dir and vdisk pools only", virStoragePoolGetName(pool), type);
    else if ((r = vdisk_pool_def_parse(xml, strlen(xml), virStoragePoolGetName(pool), &def, err)) == 0)
        r = vdisk_pool_new_unmanaged(def, true, src, out, err);
    free(xml);
    return r;
}

int
vr_file_pool(virStoragePoolPtr pool, virStorageVolPtr vol, const vdisk_secret_source *src,
             vdisk_pool **out, char **name, vdisk_error *err)
{
    char *path = virStorageVolGetPath(vol), *mine = NULL;
    int r;
    *out = NULL;
    *name = NULL;
    if (!path)
        r = vr_error(err);
    else if ((r = vr_dir_pool(pool, src, out, err)) == 0) {
        r = -ENOMEM;
        if (!(*name = strdup(virStorageVolGetName(vol))) || !(mine = vdisk_vol_path(*out, *name)))
            vdisk_error_set(err, ENOMEM, "out of memory");
        else if (strcmp(mine, path) != 0)
            r = vdisk_error_set(err, EINVAL, "volume '%s' is at %s, not in its pool's directory (%s)",
                                *name, path, mine);
        else
            r = 0;
    }
    if (r < 0) {
        vdisk_pool_free(*out);
        free(*name);
        *out = NULL;
        *name = NULL;
    }
    free(mine);
    free(path);
    return r;
}

/* pool_usage (pool-info --details): the pool's directory mapped by the
 * plugin, as the embedded registry does it; dir and vdisk pools. */
int
libvirt_pool_usage(vdisk_store_pool *pool, vdisk_pool_usage *usage, vdisk_error *err)
{
    libvirt_pool *p = (libvirt_pool *)pool;
    vdisk_secret_source src;
    vr_secret_source_init(&src, ((libvirt_store *)pool->store)->conn);
    vdisk_pool *dir;
    int r = vr_dir_pool(p->pool, &src, &dir, err);
    if (r == 0) {
        r = vdisk_pool_usage_get(dir, usage, err);
        vdisk_pool_free(dir);
    }
    return r;
}

/* vol_file: the daemon's pool of the volume, opened as the plugin's. */
int
libvirt_vol_file(vdisk_store_vol *vol, vdisk_pool **pool, const char **name, vdisk_store_lookup_step *step,
                 vdisk_error *err)
{
    libvirt_vol *v = (libvirt_vol *)vol;
    if (!v->file_pool) {
        *step = VDISK_STORE_STEP_VOL_POOL;
        if (!v->parent && !(v->parent = virStoragePoolLookupByVolume(v->vol)))
            return vr_error(err);
        *step = VDISK_STORE_STEP_CHECK;
        vr_secret_source_init(&v->secrets, ((libvirt_store *)vol->store)->conn);
        int r = vr_file_pool(v->parent, v->vol, &v->secrets, &v->file_pool, &v->file_name, err);
        if (r < 0)
            return r;
    }
    *pool = v->file_pool;
    *name = v->file_name;
    return 0;
}

/* vol_file_hold: a reader's locks on the file, as qemu-img convert takes
 * them: while a VM (or qemu-io) writes the image this fails with QEMU's
 * lock message, and while it is held no VM can start writing.  The copy
 * itself reads through the plugin's own handle. */
int
libvirt_vol_file_hold(vdisk_store_vol *vol, vdisk_image **held, vdisk_error *err)
{
    libvirt_vol *v = (libvirt_vol *)vol;
    struct stat st;
    *held = NULL;
    if (!v->file_pool)
        return vdisk_error_set(err, EINVAL, "the volume's file was not opened");
    char *path = vdisk_vol_path(v->file_pool, v->file_name);
    int dfd = vdisk_pool_dirfd(v->file_pool, err);
    int r = dfd < 0 ? dfd : 0;
    if (!path) {
        r = vdisk_error_set(err, ENOMEM, "out of memory");
    } else if (r == 0 && (fstatat(dfd, v->file_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))) {
        r = vdisk_error_set(err, EINVAL, "%s: not a regular file of the pool", path);
    } else if (r == 0) {
        vdisk_open_opts o = { .flags = VDISK_OPEN_NO_BACKING | VDISK_OPEN_NO_KEY };
        r = vdisk_open(path, &o, held, err);
    }
    free(path);
    return r;
}

/* vol_file_changed: the daemon probes the pool again. */
int
libvirt_vol_file_changed(vdisk_store_vol *vol, const char **pool_name, vdisk_error *err)
{
    libvirt_vol *v = (libvirt_vol *)vol;
    *pool_name = v->parent ? virStoragePoolGetName(v->parent) : "";
    if (!v->parent)
        return vdisk_error_set(err, EINVAL, "the volume's file was not opened");
    return virStoragePoolRefresh(v->parent, 0) < 0 ? vr_error(err) : 0;
}
