/* vdisk plugin — storage pools of the embedded registry: definition, state
 * and the life cycle (define, build, start, stop, delete, undefine,
 * autostart).  Sizes and volume listing are in pool-info.c. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <vdisk/pool.h>
#include <vdisk/storage-xml.h>

#include "pool-backend.h"
#include "pool-internal.h"

static void
state_file(char *buf, size_t len, const char *name, const char *ext)
{
    snprintf(buf, len, "%s.%s", name, ext);
}

/* Read NAME.state ("active=yes\nautostart=no\n"); missing = both off. */
static int
read_state(vdisk_registry *reg, const char *name, bool *active, bool *autostart, vdisk_error *err)
{
    char file[300], *data = NULL;
    state_file(file, sizeof(file), name, "state");
    *active = *autostart = false;
    int r = vdisk_registry_read(reg, VDISK_REGISTRY_POOLS, file, &data, NULL, err);
    if (r == -ENOENT)
        return 0;
    if (r < 0)
        return r;
    /* One "key=yes|no" per line. */
    *active = strncmp(data, "active=yes", 10) == 0 || strstr(data, "\nactive=yes") != NULL;
    *autostart = strncmp(data, "autostart=yes", 13) == 0 || strstr(data, "\nautostart=yes") != NULL;
    free(data);
    return 0;
}

/* The state a definition keeps: that of the pool defined under this name,
 * else a fresh one (inactive, no autostart).  A state file with no
 * definition is what a power loss inside pool-undefine can leave (the
 * definition goes first): a pool defined again under that name must not
 * inherit the old pool's autostart. */
static int
read_defined_state(vdisk_registry *reg, const char *name, bool *active, bool *autostart,
                   vdisk_error *err)
{
    char file[300], *xml = NULL;
    state_file(file, sizeof(file), name, "xml");
    *active = *autostart = false;
    int r = vdisk_registry_read(reg, VDISK_REGISTRY_POOLS, file, &xml, NULL, err);
    free(xml);
    if (r == -ENOENT)
        return 0;
    return r < 0 ? r : read_state(reg, name, active, autostart, err);
}

static int
write_state(vdisk_registry *reg, const char *name, bool active, bool autostart, vdisk_error *err)
{
    char file[300], text[64];
    state_file(file, sizeof(file), name, "state");
    int n = snprintf(text, sizeof(text), "active=%s\nautostart=%s\n",
                     active ? "yes" : "no", autostart ? "yes" : "no");
    return vdisk_registry_write(reg, VDISK_REGISTRY_POOLS, file, text, (size_t)n, 0644, err);
}

/* Load pools/NAME.xml and its state into a new handle. */
static int
load_pool(vdisk_registry *reg, const char *name, vdisk_pool **out, vdisk_error *err)
{
    char file[300], *xml = NULL;
    size_t len;
    state_file(file, sizeof(file), name, "xml");
    int r = vdisk_registry_read(reg, VDISK_REGISTRY_POOLS, file, &xml, &len, err);
    if (r < 0)
        return r;
    vdisk_pool *p = calloc(1, sizeof(*p));
    if (!p) {
        free(xml);
        return vdisk_error_set(err, ENOMEM, "pool %s: out of memory", name);
    }
    p->reg = reg;
    p->dirfd = -1;
    p->backing = (vdisk_backing_policy){ .check = vdisk_vol_backing_check, .opaque = p };
    char docname[400];
    snprintf(docname, sizeof(docname), "%s/pools/%s", vdisk_registry_dir(reg), file);
    r = vdisk_pool_def_parse(xml, len, docname, &p->def, err);
    free(xml);
    if (r == 0)
        p->backend = vdisk_pool_backend_for(p->def);
    if (r == 0)
        r = read_state(reg, name, &p->active, &p->autostart, err);
    if (r < 0) {
        vdisk_pool_free(p);
        return r;
    }
    *out = p;
    return 0;
}

void
vdisk_pool_free(vdisk_pool *pool)
{
    if (!pool)
        return;
    if (pool->backend)
        pool->backend->release(pool);
    vdisk_vol_records_free(pool->records);
    vdisk_pool_def_free(pool->def);
    free(pool);
}

void
vdisk_pool_set_format_source(vdisk_pool *pool, const vdisk_format_source *src)
{
    pool->formats = src ? *src : (vdisk_format_source){ 0 };
}

int
vdisk_pool_new_unmanaged(vdisk_pool_def *def, bool active, const vdisk_secret_source *secrets,
                         vdisk_pool **out, vdisk_error *err)
{
    if (!def->name || (!vdisk_pool_def_is_rbd(def) && (!def->target_path || def->target_path[0] != '/'))) {
        vdisk_pool_def_free(def);
        return vdisk_error_set(err, EINVAL, "pool definition needs a name and an absolute <target><path> "
                               "or an RBD <source>");
    }
    vdisk_pool *p = calloc(1, sizeof(*p));
    if (!p) {
        int r = vdisk_error_set(err, ENOMEM, "pool %s: out of memory", def->name);
        vdisk_pool_def_free(def);
        return r;
    }
    p->def = def;
    p->backend = vdisk_pool_backend_for(def);
    p->active = active;
    p->dirfd = -1;
    p->backing = (vdisk_backing_policy){ .check = vdisk_vol_backing_check, .opaque = p };
    if (secrets) {
        p->secrets = *secrets;
        p->has_secrets = true;
    }
    *out = p;
    return 0;
}

/* Refuse every operation of a pool whose kind this build cannot serve. */
static int
require_backend(vdisk_pool *pool, vdisk_error *err)
{
    if (pool->backend)
        return 0;
    return vdisk_error_set(err, ENOTSUP, "pool '%s' is on Ceph RBD, but this vdisk was built without "
                           "librbd (meson -Drbd=enabled, packages librbd-dev librados-dev)",
                           pool->def->name);
}

/* Refuse what only the registry can do for a pool another program keeps. */
static int
require_registry(vdisk_pool *pool, const char *op, vdisk_error *err)
{
    if (pool->reg)
        return 0;
    return vdisk_error_set(err, EPERM, "pool '%s': %s is done by the program that manages the pool, "
                           "not by vdisk", pool->def->name, op);
}

int
vdisk_pool_list_names(vdisk_registry *reg, char ***names, size_t *n, vdisk_error *err)
{
    return vdisk_registry_list(reg, VDISK_REGISTRY_POOLS, ".xml", names, n, err);
}

/* Find the pool whose UUID is uuid (name_out malloc'ed) or -ENOENT. */
static int
find_by_uuid(vdisk_registry *reg, const unsigned char uuid[16], vdisk_pool **out, vdisk_error *err)
{
    char **names;
    size_t n;
    int r = vdisk_pool_list_names(reg, &names, &n, err);
    if (r < 0)
        return r;
    r = -ENOENT;
    for (size_t i = 0; i < n && r == -ENOENT; i++) {
        vdisk_pool *p;
        vdisk_error ignored = { 0 };
        if (load_pool(reg, names[i], &p, &ignored) < 0)
            continue;
        if (p->def->has_uuid && memcmp(p->def->uuid, uuid, 16) == 0) {
            *out = p;
            r = 0;
        } else {
            vdisk_pool_free(p);
        }
    }
    vdisk_registry_names_free(names, n);
    return r;
}

int
vdisk_pool_lookup(vdisk_registry *reg, const char *name_or_uuid, vdisk_pool **out, vdisk_error *err)
{
    int r = -ENOENT;
    if (vdisk_storage_name_check("pool name", name_or_uuid, NULL) == 0) {
        if ((r = vdisk_registry_lock(reg, false, err)) < 0)
            return r;
        r = load_pool(reg, name_or_uuid, out, err);
        unsigned char uuid[16];
        if (r == -ENOENT && vdisk_uuid_parse(name_or_uuid, uuid) == 0)
            r = find_by_uuid(reg, uuid, out, err);
        vdisk_registry_unlock(reg);
    }
    if (r == -ENOENT)
        return vdisk_store_error_set(err, VDISK_ERR_NOT_FOUND, VDISK_SUBJECT_POOL, ENOENT,
                                     "no storage pool with matching name '%s'", name_or_uuid);
    return r;
}

const vdisk_pool_def *vdisk_pool_get_def(const vdisk_pool *pool) { return pool->def; }
const char *vdisk_pool_name(const vdisk_pool *pool) { return pool->def->name; }
const char *vdisk_pool_path(const vdisk_pool *pool) { return pool->def->target_path; }
bool vdisk_pool_is_active(const vdisk_pool *pool) { return pool->active; }
bool vdisk_pool_get_autostart(const vdisk_pool *pool) { return pool->autostart; }

/* Check a definition before it is stored. */
static int
check_def(const vdisk_pool_def *def, vdisk_error *err)
{
    int r = vdisk_storage_name_check("pool name", def->name, err);
    if (r < 0)
        return r;
    if (!vdisk_pool_def_is_rbd(def) && (!def->target_path || def->target_path[0] != '/'))
        return vdisk_error_set(err, EINVAL, "pool '%s': <target><path> must be an absolute directory path",
                               def->name);
    if (def->overcommit_max < 0)
        return vdisk_error_set(err, EINVAL, "pool '%s': overcommit cap %g is negative",
                               def->name, def->overcommit_max);
    return 0;
}

/* Under the registry lock: refuse a UUID or name clash, take over the UUID
 * of an existing definition of the same name. */
static int
reconcile_uuid(vdisk_registry *reg, vdisk_pool_def *def, vdisk_error *err)
{
    vdisk_pool *old = NULL, *other = NULL;
    vdisk_error ignored = { 0 };
    int r = load_pool(reg, def->name, &old, &ignored);
    if (r == 0 && old->def->has_uuid) {
        char a[VDISK_UUID_STRING_LEN];
        vdisk_uuid_format(old->def->uuid, a);
        if (def->has_uuid && memcmp(def->uuid, old->def->uuid, 16) != 0) {
            vdisk_pool_free(old);
            return vdisk_error_set(err, EEXIST, "pool '%s' is already defined with uuid %s", def->name, a);
        }
        memcpy(def->uuid, old->def->uuid, 16);
        def->has_uuid = true;
    }
    vdisk_pool_free(old);
    if (!def->has_uuid) {
        if ((r = vdisk_uuid_generate(def->uuid)) < 0)
            return vdisk_error_set_errno(err, -r, "pool '%s': cannot generate a uuid", def->name);
        def->has_uuid = true;
        return 0;
    }
    if (find_by_uuid(reg, def->uuid, &other, &ignored) == 0) {
        bool clash = strcmp(other->def->name, def->name) != 0;
        char a[VDISK_UUID_STRING_LEN];
        vdisk_uuid_format(def->uuid, a);
        r = clash ? vdisk_error_set(err, EEXIST, "pool '%s' already exists with uuid %s",
                                    other->def->name, a) : 0;
        vdisk_pool_free(other);
        return r;
    }
    return 0;
}

int
vdisk_pool_define(vdisk_registry *reg, vdisk_pool_def *def, vdisk_error *err)
{
    int r = check_def(def, err);
    if (r < 0)
        return r;
    if ((r = vdisk_registry_lock(reg, true, err)) < 0)
        return r;
    char *xml = NULL;
    uint64_t cap = def->capacity, alloc = def->allocation, avail = def->available;
    def->capacity = def->allocation = def->available = 0;   /* runtime figures are not stored */
    if ((r = reconcile_uuid(reg, def, err)) == 0 && (r = vdisk_pool_def_format(def, &xml, err)) == 0) {
        char file[300];
        bool active, autostart;
        state_file(file, sizeof(file), def->name, "xml");
        r = read_defined_state(reg, def->name, &active, &autostart, err);
        if (r == 0)
            r = vdisk_registry_write(reg, VDISK_REGISTRY_POOLS, file, xml, strlen(xml), 0644, err);
        if (r == 0)
            r = write_state(reg, def->name, active, autostart, err);
    }
    def->capacity = cap, def->allocation = alloc, def->available = avail;
    free(xml);
    vdisk_registry_unlock(reg);
    return r;
}

int
vdisk_pool_dirfd(vdisk_pool *pool, vdisk_error *err)
{
    if (pool->dirfd >= 0)
        return pool->dirfd;
    if (vdisk_pool_def_is_rbd(pool->def))
        return vdisk_error_set(err, ENOTSUP, "pool '%s' is on Ceph RBD (pool '%s'): its volumes are RBD "
                               "images, not files, and this operation needs files", pool->def->name,
                               pool->def->source.name);
    if (!pool->active)
        return vdisk_store_error_set(err, VDISK_ERR_INVALID_STATE, VDISK_SUBJECT_POOL, EINVAL,
                                     "storage pool '%s' is not active", pool->def->name);
    /* The target path is the administrator's choice and may be a symlink
     * (/var/lib/libvirt/images -> /srv/images); what is inside the pool is
     * reached from this descriptor without following links. */
    int fd = open(pool->def->target_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return vdisk_error_set_errno(err, errno, "pool '%s': cannot open directory %s",
                                     pool->def->name, pool->def->target_path);
    pool->dirfd = fd;
    return fd;
}

/* Change one field of the stored state (-1: keep) under the registry lock,
 * reading the other from the registry, not from this handle's snapshot, so
 * that concurrent processes do not undo each other.  A start of an active
 * pool or a stop of an inactive one is refused, as libvirt does. */
static int
set_state(vdisk_pool *pool, int active, int autostart, vdisk_error *err)
{
    if (!pool->reg) {
        /* unmanaged: the owner keeps the state; this handle follows it */
        if (autostart >= 0)
            return require_registry(pool, "autostart", err);
        pool->active = (bool)active;
        return 0;
    }
    int r = vdisk_registry_lock(pool->reg, true, err);
    if (r < 0)
        return r;
    bool cur_active, cur_autostart;
    const char *name = pool->def->name;
    if ((r = read_state(pool->reg, name, &cur_active, &cur_autostart, err)) == 0 && active >= 0 &&
        cur_active == (bool)active)
        r = vdisk_store_error_set(err, VDISK_ERR_INVALID_STATE, VDISK_SUBJECT_POOL, EINVAL,
                                  "storage pool '%s' is %s", name, active ? "already active" : "not active");
    bool new_active = active >= 0 ? (bool)active : cur_active;
    bool new_autostart = autostart >= 0 ? (bool)autostart : cur_autostart;
    if (r == 0)
        r = write_state(pool->reg, name, new_active, new_autostart, err);
    vdisk_registry_unlock(pool->reg);
    if (r == 0) {
        pool->active = new_active;
        pool->autostart = new_autostart;
    }
    return r;
}

int
vdisk_pool_build(vdisk_pool *pool, unsigned flags, vdisk_error *err)
{
    if ((flags & VDISK_POOL_BUILD_OVERWRITE) && (flags & VDISK_POOL_BUILD_NO_OVERWRITE))
        return vdisk_error_set(err, EINVAL, "pool '%s': --overwrite and --no-overwrite are mutually exclusive",
                               pool->def->name);
    int r = require_backend(pool, err);
    return r < 0 ? r : pool->backend->build(pool, flags, err);
}

int
vdisk_pool_start(vdisk_pool *pool, vdisk_error *err)
{
    if (pool->active)
        return vdisk_store_error_set(err, VDISK_ERR_INVALID_STATE, VDISK_SUBJECT_POOL, EINVAL,
                                     "storage pool '%s' is already active", pool->def->name);
    int r = require_backend(pool, err);
    if (r == 0)
        r = pool->backend->check(pool, err);
    /* A failed state write leaves a netfs pool mounted, not undone: a
     * concurrent start may be using that mount, and the next start finds
     * it in place and keeps it. */
    return r < 0 ? r : set_state(pool, 1, -1, err);
}

int
vdisk_pool_stop(vdisk_pool *pool, vdisk_error *err)
{
    if (!pool->active)
        return vdisk_store_error_set(err, VDISK_ERR_INVALID_STATE, VDISK_SUBJECT_POOL, EINVAL,
                                     "storage pool '%s' is not active", pool->def->name);
    if (pool->backend)
        pool->backend->release(pool);
    int r = 0;
    if (pool->backend && pool->backend->deactivate)
        r = pool->backend->deactivate(pool, err);
    return r < 0 ? r : set_state(pool, 0, -1, err);
}

/* Refuse (-EBUSY) when the registry says the pool is active now; call
 * under the registry lock. */
static int
require_inactive(vdisk_pool *pool, const char *hint, vdisk_error *err)
{
    bool active = pool->active, autostart;
    int r = pool->reg ? read_state(pool->reg, pool->def->name, &active, &autostart, err) : 0;
    if (r == 0 && active)
        r = vdisk_store_error_set(err, VDISK_ERR_INVALID_STATE, VDISK_SUBJECT_POOL, EBUSY,
                                  "storage pool '%s' is still active%s", pool->def->name, hint);
    return r;
}

int
vdisk_pool_delete(vdisk_pool *pool, vdisk_error *err)
{
    /* Under the registry lock, so that no other process starts the pool meanwhile. */
    int r = pool->reg ? vdisk_registry_lock(pool->reg, true, err) : 0;
    if (r < 0)
        return r;
    if ((r = require_inactive(pool, "", err)) == 0 && (r = require_backend(pool, err)) == 0)
        r = pool->backend->delete_storage(pool, err);
    if (pool->reg)
        vdisk_registry_unlock(pool->reg);
    return r;
}

int
vdisk_pool_undefine(vdisk_pool *pool, vdisk_error *err)
{
    int r = require_registry(pool, "undefine", err);
    if (r < 0 || (r = vdisk_registry_lock(pool->reg, true, err)) < 0)
        return r;
    if ((r = require_inactive(pool, " (stop it with pool-destroy first)", err)) < 0) {
        vdisk_registry_unlock(pool->reg);
        return r;
    }
    char file[300];
    state_file(file, sizeof(file), pool->def->name, "xml");
    r = vdisk_registry_remove(pool->reg, VDISK_REGISTRY_POOLS, file, err);
    state_file(file, sizeof(file), pool->def->name, "state");
    if (r == 0)
        r = vdisk_registry_remove(pool->reg, VDISK_REGISTRY_POOLS, file, err);
    vdisk_registry_unlock(pool->reg);
    return r;
}

int
vdisk_pool_set_autostart(vdisk_pool *pool, bool autostart, vdisk_error *err)
{
    return set_state(pool, -1, autostart, err);
}

int
vdisk_pool_lock(vdisk_pool *pool, vdisk_error *err)
{
    int fd = vdisk_pool_dirfd(pool, err);
    if (fd < 0)
        return fd;
    while (flock(fd, LOCK_EX) < 0)
        if (errno != EINTR)
            return vdisk_error_set_errno(err, errno, "pool '%s': cannot lock %s", pool->def->name,
                                         pool->def->target_path);
    return 0;
}

void
vdisk_pool_unlock(vdisk_pool *pool)
{
    if (pool->dirfd >= 0)
        flock(pool->dirfd, LOCK_UN);
}
