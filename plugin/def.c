/* vdisk plugin — pool and volume definitions: freeing them, and UUIDs as
 * libvirt spells them. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <vdisk/storage-def.h>

/* Free the label of a <permissions> and reset it to "nothing given". */
void vdisk_perms_clear(vdisk_perms *p)
{
    if (!p)
        return;
    free(p->label);
    memset(p, 0, sizeof(*p));
}

/* Free everything a pool source owns, leaving it empty. */
void vdisk_pool_source_clear(vdisk_pool_source *src)
{
    if (!src)
        return;
    free(src->name);
    for (size_t i = 0; i < src->nhosts; i++)
        free(src->hosts[i].name);
    free(src->hosts);
    free(src->auth_username);
    free(src->secret_usage);
    free(src->config_file);
    free(src->dir);
    memset(src, 0, sizeof(*src));
}

bool vdisk_pool_def_is_rbd(const vdisk_pool_def *def)
{
    return def && def->source.name != NULL;
}

bool vdisk_pool_def_is_netfs(const vdisk_pool_def *def)
{
    return def && def->source.dir != NULL;
}

static const char *const netfs_format_names[] = {
    [VDISK_NETFS_AUTO] = "auto", [VDISK_NETFS_NFS] = "nfs", [VDISK_NETFS_GLUSTERFS] = "glusterfs",
};

const char *vdisk_netfs_format_name(vdisk_netfs_format f)
{
    return (unsigned)f < sizeof(netfs_format_names) / sizeof(netfs_format_names[0])
        ? netfs_format_names[f] : "auto";
}

int vdisk_netfs_format_parse(const char *word)
{
    for (size_t i = 0; i < sizeof(netfs_format_names) / sizeof(netfs_format_names[0]); i++)
        if (word && strcmp(word, netfs_format_names[i]) == 0)
            return (int)i;
    return -1;
}

/* Free everything a pool definition owns, leaving it empty. */
void vdisk_pool_def_clear(vdisk_pool_def *def)
{
    if (!def)
        return;
    free(def->name);
    free(def->target_path);
    vdisk_pool_source_clear(&def->source);
    vdisk_perms_clear(&def->target_perms);
    memset(def, 0, sizeof(*def));
}

/* Clear and free a heap-allocated pool definition. */
void vdisk_pool_def_free(vdisk_pool_def *def)
{
    vdisk_pool_def_clear(def);
    free(def);
}

/* Free the strings of an <encryption>, leaving it "none". */
void vdisk_vol_encryption_def_clear(vdisk_vol_encryption_def *enc)
{
    if (!enc)
        return;
    free(enc->secret_usage);
    free(enc->cipher_name);
    free(enc->cipher_mode);
    free(enc->cipher_hash);
    free(enc->ivgen_name);
    free(enc->ivgen_hash);
    memset(enc, 0, sizeof(*enc));
}

/* Free everything a volume definition owns, leaving it empty. */
void vdisk_vol_def_clear(vdisk_vol_def *def)
{
    if (!def)
        return;
    free(def->name);
    free(def->key);
    free(def->target_path);
    free(def->compat);
    free(def->backing_path);
    free(def->backing_format_name);
    vdisk_perms_clear(&def->perms);
    vdisk_perms_clear(&def->backing_perms);
    vdisk_vol_encryption_def_clear(&def->encryption);
    memset(def, 0, sizeof(*def));
}

/* Clear and free a heap-allocated volume definition. */
void vdisk_vol_def_free(vdisk_vol_def *def)
{
    vdisk_vol_def_clear(def);
    free(def);
}

/* 8-4-4-4-12 lower-case hex, as libvirt's virUUIDFormat. */
void vdisk_uuid_format(const unsigned char uuid[16], char out[VDISK_UUID_STRING_LEN])
{
    snprintf(out, VDISK_UUID_STRING_LEN,
             "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
             uuid[0], uuid[1], uuid[2], uuid[3], uuid[4], uuid[5], uuid[6], uuid[7],
             uuid[8], uuid[9], uuid[10], uuid[11], uuid[12], uuid[13], uuid[14], uuid[15]);
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* As libvirt's virUUIDParse: leading/trailing blanks allowed, a dash may sit
 * between any two bytes, exactly 32 hex digits. */
int vdisk_uuid_parse(const char *text, unsigned char uuid[16])
{
    const char *p = text;
    size_t n = 0;

    if (!text)
        return -EINVAL;
    while (*p == ' ' || *p == '\t' || *p == '\n')
        p++;
    while (n < 16) {
        int hi, lo;

        if (*p == '-') {
            p++;
            continue;
        }
        hi = hex_value(p[0]);
        if (hi < 0)
            return -EINVAL;
        lo = hex_value(p[1]);
        if (lo < 0)
            return -EINVAL;
        uuid[n++] = (unsigned char)(hi << 4 | lo);
        p += 2;
    }
    while (*p == ' ' || *p == '\t' || *p == '\n')
        p++;
    return *p ? -EINVAL : 0;
}

/* Version 4 (random) UUID from getrandom(2). */
int vdisk_uuid_generate(unsigned char uuid[16])
{
    size_t got = 0;

    while (got < 16) {
        ssize_t r = getrandom(uuid + got, 16 - got, 0);

        if (r < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        got += (size_t)r;
    }
    uuid[6] = (uuid[6] & 0x0f) | 0x40;
    uuid[8] = (uuid[8] & 0x3f) | 0x80;
    return 0;
}
