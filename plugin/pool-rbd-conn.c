/* vdisk plugin — the cluster connection of an RBD pool handle.
 *
 * Made on first use from the pool's <source>: monitors (<host>, else the
 * config file's mon_host), <vdisk:config file=> (else Ceph's default
 * search), the cephx user of <auth> with the key from its secret (usage
 * type 'ceph'), as libvirt's rbd backend does: the secret's value is the
 * key's bytes and Ceph takes them base64-encoded.  The key is only ever
 * handed to rados_conf_set: never in argv, a file or a message.  Without a
 * bound an absent monitor would hang the client for librados' default
 * five minutes, so mount and operation timeouts are set.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vdisk/store-error.h>
#include <vdisk/secret.h>

#include "pool-rbd.h"

/* Seconds: reaching the monitors, a monitor command, an OSD operation. */
static const struct {
    const char *key, *value;
} timeouts[] = {
    { "client_mount_timeout", "10" },
    { "rados_mon_op_timeout", "30" },
    { "rados_osd_op_timeout", "120" },
};

int
rbd_pool_error(vdisk_pool *pool, const char *name, int r, const char *what, vdisk_error *err)
{
    const char *hint = "";
    if (r == -ETIMEDOUT)
        hint = " (no answer from the cluster's monitors: check <source><host> or the config file, "
               "and that the cluster is up)";
    else if (r == -EACCES || r == -EPERM)
        hint = " (authentication refused: check the <auth> username and its secret's value)";
    else if (r == -EBUSY)
        hint = " (another client, such as a running guest, has it open)";
    if (name)
        return vdisk_error_set_errno(err, -r, "pool '%s': volume '%s': cannot %s%s", pool->def->name,
                                     name, what, hint);
    return vdisk_error_set_errno(err, -r, "pool '%s': cannot %s%s", pool->def->name, what, hint);
}

/* Base64 of n bytes (RFC 4648, padded), malloc'ed; NULL on ENOMEM. */
static char *
base64(const unsigned char *in, size_t n)
{
    static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char *out = malloc((n + 2) / 3 * 4 + 1), *o = out;
    if (!out)
        return NULL;
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned)in[i] << 16 | (i + 1 < n ? (unsigned)in[i + 1] << 8 : 0) |
                     (i + 2 < n ? in[i + 2] : 0);
        *o++ = abc[v >> 18 & 63];
        *o++ = abc[v >> 12 & 63];
        *o++ = i + 1 < n ? abc[v >> 6 & 63] : '=';
        *o++ = i + 2 < n ? abc[v & 63] : '=';
    }
    *o = '\0';
    return out;
}

/* The key of a pool the libvirt daemon keeps: from its secret driver,
 * through the pool's secret source, by the uuid <auth><secret> names. */
static int
daemon_auth_key(vdisk_pool *pool, char **key, vdisk_error *err)
{
    const vdisk_pool_source *src = &pool->def->source;
    const char *pname = pool->def->name;
    char uuid_text[VDISK_UUID_STRING_LEN];
    unsigned char *value = NULL;
    size_t len = 0;
    int r;

    if (!src->has_secret_uuid)
        return vdisk_error_set(err, ENOTSUP, "pool '%s': through the libvirt daemon the secret of "
                               "Ceph user '%s' is named by <secret uuid=...>, not by usage",
                               pname, src->auth_username);
    if (!pool->has_secrets || !pool->secrets.get_value)
        return vdisk_error_set(err, ENOTSUP, "pool '%s': no secret driver to read the key of Ceph "
                               "user '%s' from", pname, src->auth_username);
    vdisk_uuid_format(src->secret_uuid, uuid_text);
    if ((r = pool->secrets.get_value(pool->secrets.opaque, src->secret_uuid, &value, &len, err)) < 0)
        return r;
    if (!len)
        r = vdisk_error_set(err, ENOENT, "pool '%s': the secret '%s' of Ceph user '%s' has no value "
                            "(secret-set-value with the user's key)", pname, uuid_text,
                            src->auth_username);
    else if (!(*key = base64(value, len)))
        r = vdisk_error_set(err, ENOMEM, "pool '%s': out of memory", pname);
    explicit_bzero(value, len);
    free(value);
    return r < 0 ? r : 0;
}

int
rbd_pool_auth_key(vdisk_pool *pool, char **key, vdisk_error *err)
{
    const vdisk_pool_source *src = &pool->def->source;
    const char *pname = pool->def->name;
    char uuid_text[VDISK_UUID_STRING_LEN];
    vdisk_secret_def sdef = { 0 };
    unsigned char *value = NULL;
    size_t len = 0;
    int r;

    if (!pool->reg)
        return daemon_auth_key(pool, key, err);
    if (src->has_secret_uuid)
        vdisk_uuid_format(src->secret_uuid, uuid_text);
    const char *which = src->has_secret_uuid ? uuid_text : src->secret_usage;
    vdisk_error ignored = { 0 };
    if (vdisk_secret_lookup(pool->reg, which, &sdef, &ignored) < 0)
        return vdisk_error_set(err, ENOENT, "pool '%s': the secret '%s' of Ceph user '%s' is not "
                               "defined (secret-define, then secret-set-value with the user's key)",
                               pname, which, src->auth_username);
    if (!sdef.usage_type || strcmp(sdef.usage_type, "ceph") != 0)
        r = vdisk_error_set(err, EINVAL, "pool '%s': the secret '%s' is of usage type '%s', not 'ceph'",
                            pname, which, sdef.usage_type ? sdef.usage_type : "none");
    else if ((r = vdisk_secret_get_value(pool->reg, sdef.uuid, &value, &len, &ignored)) < 0 || !len)
        r = vdisk_error_set(err, ENOENT, "pool '%s': the secret '%s' of Ceph user '%s' has no value "
                            "(secret-set-value with the user's key)", pname, which, src->auth_username);
    else if (!(*key = base64(value, len)))
        r = vdisk_error_set(err, ENOMEM, "pool '%s': out of memory", pname);
    if (value) {
        explicit_bzero(value, len);
        free(value);
    }
    vdisk_secret_def_clear(&sdef);
    return r < 0 ? r : 0;
}

char *
rbd_pool_mon_host(const vdisk_pool_source *src)
{
    size_t len = 1;
    for (size_t i = 0; i < src->nhosts; i++)
        len += strlen(src->hosts[i].name) + 16;
    char *s = malloc(len), *o = s;
    if (!s)
        return NULL;
    *o = '\0';
    for (size_t i = 0; i < src->nhosts; i++) {
        const vdisk_pool_host *h = &src->hosts[i];
        /* an IPv6 address with a port needs its brackets */
        bool v6 = strchr(h->name, ':') && h->name[0] != '[' && h->port;
        o += h->port ? sprintf(o, "%s%s%s%s:%u", i ? "," : "", v6 ? "[" : "", h->name, v6 ? "]" : "", h->port)
                     : sprintf(o, "%s%s", i ? "," : "", h->name);
    }
    return s;
}

/* Options of the definition onto the (not yet connected) client. */
static int
configure(vdisk_pool *pool, rados_t c, vdisk_error *err)
{
    const vdisk_pool_source *src = &pool->def->source;
    int r = rados_conf_read_file(c, src->config_file);
    if (r < 0 && !src->config_file)
        r = 0;          /* no config in Ceph's default places: the <host>s say it all */
    if (r < 0)
        return vdisk_error_set_errno(err, -r, "pool '%s': cannot read the Ceph configuration file %s",
                                     pool->def->name, src->config_file);
    for (size_t i = 0; i < sizeof(timeouts) / sizeof(timeouts[0]) && r == 0; i++)
        if ((r = rados_conf_set(c, timeouts[i].key, timeouts[i].value)) < 0)
            return rbd_pool_error(pool, NULL, r, "set a Ceph timeout", err);
    if (src->nhosts) {
        char *hosts = rbd_pool_mon_host(src);
        if (!hosts)
            return vdisk_error_set(err, ENOMEM, "pool '%s': out of memory", pool->def->name);
        r = rados_conf_set(c, "mon_host", hosts);
        free(hosts);
        if (r < 0)
            return vdisk_error_set_errno(err, -r, "pool '%s': Ceph refused the monitor addresses of "
                                         "<source><host>", pool->def->name);
    }
    if (src->auth_username) {
        char *key = NULL;
        if ((r = rbd_pool_auth_key(pool, &key, err)) < 0)
            return r;
        r = rados_conf_set(c, "key", key);
        explicit_bzero(key, strlen(key));
        free(key);
        if (r < 0)
            return vdisk_error_set_errno(err, -r, "pool '%s': Ceph refused the key of user '%s' (the "
                                         "secret's value is not a cephx key)", pool->def->name,
                                         src->auth_username);
    }
    return 0;
}

int
rbd_pool_connect(vdisk_pool *pool, rbd_pool_conn **out, vdisk_error *err)
{
    if (pool->backend_data) {
        *out = pool->backend_data;
        return 0;
    }
    /* "pool 'NAME': cannot load Ceph's client library ..." */
    char what[320];
    snprintf(what, sizeof(what), "pool '%s'", pool->def->name);
    int r = vdisk_rbd_load(what, err);
    if (r < 0)
        return r;
    rbd_pool_conn *c = calloc(1, sizeof(*c));
    if (!c)
        return vdisk_error_set(err, ENOMEM, "pool '%s': out of memory", pool->def->name);
    if ((r = rados_create(&c->cluster, pool->def->source.auth_username)) < 0) {
        free(c);
        return rbd_pool_error(pool, NULL, r, "create a Ceph client", err);
    }
    if ((r = configure(pool, c->cluster, err)) == 0 && (r = rados_connect(c->cluster)) < 0)
        r = rbd_pool_error(pool, NULL, r, "connect to the Ceph cluster", err);
    if (r == 0 && (r = rados_ioctx_create(c->cluster, pool->def->source.name, &c->io)) < 0)
        r = r == -ENOENT ? vdisk_error_set(err, ENOENT, "pool '%s': the Ceph pool '%s' does not exist",
                                           pool->def->name, pool->def->source.name)
                         : rbd_pool_error(pool, NULL, r, "open the Ceph pool", err);
    if (r < 0) {
        rados_shutdown(c->cluster);
        free(c);
        return r;
    }
    pool->backend_data = c;
    *out = c;
    return 0;
}

void
rbd_pool_disconnect(vdisk_pool *pool)
{
    rbd_pool_conn *c = pool->backend_data;
    if (!c)
        return;
    rados_ioctx_destroy(c->io);
    rados_shutdown(c->cluster);
    free(c);
    pool->backend_data = NULL;
}

int
rbd_pool_name_check(vdisk_pool *pool, const char *name, vdisk_error *err)
{
    int r = vdisk_storage_name_check("volume name", name, err);
    if (r == 0 && strpbrk(name, "@:"))
        r = vdisk_error_set(err, EINVAL, "pool '%s': '%s' is not an RBD image name ('@' and ':' "
                            "separate snapshots and options in RBD names)", pool->def->name, name);
    return r;
}

int
rbd_pool_open_image(vdisk_pool *pool, const char *name, bool read_only, rbd_image_t *img,
                    vdisk_error *err)
{
    rbd_pool_conn *c;
    int r = rbd_pool_name_check(pool, name, err);
    if (r < 0 || (r = rbd_pool_connect(pool, &c, err)) < 0)
        return r;
    r = read_only ? rbd_open_read_only(c->io, name, img, NULL) : rbd_open(c->io, name, img, NULL);
    if (r == -ENOENT)
        return vdisk_store_error_set(err, VDISK_ERR_NOT_FOUND, VDISK_SUBJECT_VOLUME, ENOENT,
                                     "no storage vol with matching name '%s'", name);
    return r < 0 ? rbd_pool_error(pool, name, r, "open the RBD image", err) : 0;
}

int
rbd_pool_check_unlocked(vdisk_pool *pool, const char *name, rbd_image_t img, vdisk_error *err)
{
    rbd_lock_mode_t mode;
    char *owners[4];
    size_t n = 4;
    int r = rbd_lock_get_owners(img, &mode, owners, &n);
    if (r == -ENOENT || (r == 0 && n == 0))
        return 0;
    if (r == 0) {
        r = vdisk_error_set(err, EBUSY, "pool '%s': volume '%s' is in use: another client holds its "
                            "exclusive lock (%s)", pool->def->name, name, owners[0]);
        rbd_lock_get_owners_cleanup(owners, n);
        return r;
    }
    if (r == -ERANGE)
        return vdisk_error_set(err, EBUSY, "pool '%s': volume '%s' is in use by other clients",
                               pool->def->name, name);
    return rbd_pool_error(pool, name, r, "read the lock owners", err);
}
