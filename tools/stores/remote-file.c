/* vdisk-virsh -c URI — what libvirt's storage API lacks, done on the
 * volume's file: vol-snapshot-create/-list/-revert/-delete and
 * vol-convert.  The daemon names the volume and its pool; the pool's XML
 * (type dir or vdisk) gives the directory, opened as an unmanaged pool of
 * the plugin (O_NOFOLLOW, names checked, image locks taken as QEMU takes
 * them); passphrases of encrypted volumes come from the daemon's secrets.
 * Afterwards the daemon's pool is refreshed so it sees the change.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <vdisk/image.h>
#include <vdisk/storage-xml.h>
#include <vdisk/volume.h>

#include "remote-internal.h"
#include "virsh-common.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* libvirt's last error into err (and reset). */
static int
take_error(vdisk_error *err, int code, const char *what)
{
    virErrorPtr e = virGetLastError();
    const char *msg = e && e->message ? e->message : "unknown error";
    /* The daemon uses a private secret itself; a client may not read it. */
    const char *hint = e && e->code == VIR_ERR_INVALID_SECRET && strstr(msg, "private")
                     ? " (vdisk-virsh reads volume secrets through libvirt's API: define it with private='no')"
                     : "";
    int r = vdisk_error_set(err, code, "%s: %s%s", what, msg, hint);
    virResetLastError();
    return r;
}

/* Secret source: the daemon's volume secret whose usage is the path. */
static int
lookup_usage(void *opaque, const char *usage, unsigned char uuid[16], vdisk_error *err)
{
    virSecretPtr sec = virSecretLookupByUsage(opaque, VIR_SECRET_USAGE_TYPE_VOLUME, usage);
    if (!sec)
        return take_error(err, ENOENT, usage);
    int r = virSecretGetUUID(sec, uuid);
    virSecretFree(sec);
    return r < 0 ? take_error(err, EIO, usage) : 0;
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
        r = take_error(err, ENOENT, u);
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

/* The volume's pool as an unmanaged plugin pool, refused unless it is a
 * file pool whose file for the volume is the one the daemon reports. */
static int
open_file_pool(virStoragePoolPtr pool, virStorageVolPtr vol, const vdisk_secret_source *src, vv_ctx *vc)
{
    char *xml = virStoragePoolGetXMLDesc(pool, 0), type[32] = "", *path = NULL, *mine = NULL;
    const char *t = xml ? strstr(xml, "type='") : NULL;
    vdisk_pool_def *def = NULL;
    vdisk_error err = { 0 };
    int r = -1;
    if (!xml || !(path = virStorageVolGetPath(vol))) {
        vr_report();
        goto out;
    }
    if (t)
        sscanf(t + 6, "%31[^']", type);
    if (strcmp(type, "dir") != 0 && strcmp(type, "vdisk") != 0) {
        vv_virsh_error("pool '%s' is of type '%s': vdisk-virsh acts on the files of dir and vdisk pools only",
                       virStoragePoolGetName(pool), type);
        goto out;
    }
    if (vdisk_pool_def_parse(xml, strlen(xml), virStoragePoolGetName(pool), &def, &err) < 0 ||
        vdisk_pool_new_unmanaged(def, true, src, &vc->pool, &err) < 0) {
        vv_virsh_report(&err);
        goto out;
    }
    if (!(vc->name = strdup(virStorageVolGetName(vol))) || !(mine = vdisk_vol_path(vc->pool, vc->name)))
        vv_virsh_error("out of memory");
    else if (strcmp(mine, path) != 0)
        vv_virsh_error("volume '%s' is at %s, not in its pool's directory (%s)", vc->name, path, mine);
    else
        r = 0;
out:
    free(mine);
    free(path);
    free(xml);
    return r;
}

/* After a change: the daemon probes the pool again. */
static int
refresh(virStoragePoolPtr pool)
{
    if (virStoragePoolRefresh(pool, 0) == 0)
        return 0;
    vv_virsh_error("Failed to refresh pool %s", virStoragePoolGetName(pool));
    vr_report();
    return 1;
}

typedef int (*vr_file_op)(vv_ctx *vc, vv_arg *args, size_t n, int op);

/* Parse, look up the volume through the daemon, open its pool's directory,
 * run op on the file, refresh the pool when op changed something. */
static int
run_on_file(const char *uri, int argc, char **argv, vv_arg *args, size_t n, vr_file_op op, int opnum,
            bool changes)
{
    vr_ctx c;
    int r = vr_begin_vol(uri, argc, argv, args, n, &c);
    if (r != VV_GO)
        return r;
    vdisk_secret_source src = { .lookup_usage = lookup_usage, .get_value = get_value, .opaque = c.conn };
    vv_ctx vc = { 0 };
    r = 1;
    if (!(c.pool = virStoragePoolLookupByVolume(c.vol))) {
        vv_virsh_error("failed to get parent pool");
        vr_report();
    } else if (open_file_pool(c.pool, c.vol, &src, &vc) == 0) {
        r = op(&vc, args, n, opnum);
        /* Refreshed even after a failure: a partial change is shown as it is. */
        if (changes && refresh(c.pool) != 0)
            r = 1;
    }
    vv_end(&vc);
    vr_end(&c);
    return r;
}

/* The embedded snapshot command's work on the file. */
static int
snapshot_op(vv_ctx *vc, vv_arg *args, size_t n, int op)
{
    return vv_snapshot_exec(vc, args, (vv_snap_op)op);
}

static int
snapshot(const char *uri, int argc, char **argv, vv_snap_op op)
{
    vv_arg args[3];
    size_t n = vv_snapshot_args(op, args);
    return run_on_file(uri, argc, argv, args, n, snapshot_op, op, op != VV_SNAP_LIST);
}

/* vol-snapshot-create: an internal snapshot of the volume's qcow2 file. */
int vr_vol_snapshot_create(const char *uri, int argc, char **argv) { return snapshot(uri, argc, argv, VV_SNAP_CREATE); }
/* vol-snapshot-list: the file's internal snapshots. */
int vr_vol_snapshot_list(const char *uri, int argc, char **argv) { return snapshot(uri, argc, argv, VV_SNAP_LIST); }
/* vol-snapshot-revert: the file's content back to a snapshot. */
int vr_vol_snapshot_revert(const char *uri, int argc, char **argv) { return snapshot(uri, argc, argv, VV_SNAP_REVERT); }
/* vol-snapshot-delete: remove an internal snapshot from the file. */
int vr_vol_snapshot_delete(const char *uri, int argc, char **argv) { return snapshot(uri, argc, argv, VV_SNAP_DELETE); }

/* Open the source as qemu-img convert does, with a reader's locks: while
 * a VM (or qemu-io) writes the image this fails with QEMU's lock message,
 * and while it is held no VM can start writing.  The copy itself reads
 * through the plugin's own handle. */
static int
hold_source(vv_ctx *vc, const char *vol, vdisk_image **img)
{
    vdisk_error err = { 0 };
    struct stat st;
    char *path = vdisk_vol_path(vc->pool, vc->name);
    int dfd = vdisk_pool_dirfd(vc->pool, &err);
    int r = -1;
    if (!path) {
        vdisk_error_set(&err, ENOMEM, "out of memory");
    } else if (dfd >= 0 && (fstatat(dfd, vc->name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))) {
        vdisk_error_set(&err, EINVAL, "%s: not a regular file of the pool", path);
    } else if (dfd >= 0) {
        vdisk_open_opts o = { .flags = VDISK_OPEN_NO_BACKING | VDISK_OPEN_NO_KEY };
        r = vdisk_open(path, &o, img, &err);
    }
    if (r < 0) {
        vv_virsh_error("Failed to convert vol from %s", vol);
        vv_virsh_report(&err);
    }
    free(path);
    return r;
}

/* The embedded vol-convert's copy, into the pool's directory. */
static int
convert_op(vv_ctx *vc, vv_arg *args, size_t n, int op)
{
    vdisk_image *held;
    if (hold_source(vc, vv_arg_get(args, n, "vol")->value, &held) < 0)
        return 1;
    int r = vv_vol_copy_exec(vc, args, n, true);
    vdisk_close(held, NULL);
    return r;
}

/* vol-convert: a copy of the volume's file in another format, made by
 * libvdisk in the pool's directory; the daemon then lists it. */
int
vr_vol_convert(const char *uri, int argc, char **argv)
{
    vv_arg args[] = {
        VV_REQ("vol"), VV_REQ("newname"),
        VV_VAL_REQ("format"), VV_VAL("pool"), VV_VAL("allocation"), VV_FLAG("prealloc-metadata"),
    };
    return run_on_file(uri, argc, argv, args, N(args), convert_op, 0, true);
}
