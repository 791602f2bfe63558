/* vdisk plugin — what a program that opens a volume's file itself needs
 * (vdisk-virsh vol-export hands it to nbdkit's vdisk plugin): the file's
 * path, its format as the pool knows it, and for an encrypted volume the
 * passphrase of its secret.
 *
 * The format comes from the pool (its records, or the probe the pool
 * trusts), never from a fresh look at bytes a guest may have written: a
 * raw volume is handed over as raw, so a guest that wrote a qcow2 header
 * into it cannot make the export follow a backing file of its choice.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <vdisk/volume.h>

#include "pool-backend.h"

#include "volume-encrypt.h"

void
vdisk_vol_access_clear(vdisk_vol_access *a)
{
    free(a->path);
    if (a->passphrase) {
        explicit_bzero(a->passphrase, a->passphrase_len);
        free(a->passphrase);
    }
    memset(a, 0, sizeof(*a));
}

/* The format the file is opened as: libvirt shows a raw LUKS container
 * as raw with <encryption format='luks'>; the file itself is LUKS. */
static vdisk_format
file_format(const vdisk_vol_def *def)
{
    if (def->format == VDISK_FORMAT_RAW && def->encryption.format == VDISK_VOL_ENCRYPTION_LUKS)
        return VDISK_FORMAT_LUKS;
    return def->format;
}

int
vdisk_dir_vol_access_get(vdisk_pool *pool, const char *name, vdisk_vol_access *a, vdisk_error *err)
{
    memset(a, 0, sizeof(*a));
    vdisk_vol_def def;
    int r = vdisk_vol_lookup(pool, name, &def, err);
    if (r < 0) {
        vdisk_vol_def_clear(&def);
        return r;
    }
    a->format = file_format(&def);
    a->read_only = def.format == VDISK_FORMAT_ISO;
    bool encrypted = def.encryption.format != VDISK_VOL_ENCRYPTION_NONE;
    vdisk_vol_def_clear(&def);
    a->path = vdisk_vol_path(pool, name);
    if (!a->path)
        return vdisk_error_set(err, ENOMEM, "volume '%s': out of memory", name);
    if (encrypted) {
        vdisk_vol_key key;
        r = vdisk_vol_key_default(pool, name, &key, err);
        if (r < 0) {
            vdisk_vol_access_clear(a);
            return r;
        }
        a->passphrase = key.data;
        a->passphrase_len = key.len;
    }
    return 0;
}
