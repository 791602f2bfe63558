/* vdisk plugin — the embedded registry: storage pool definitions and their
 * state kept in a config directory, with no daemon.
 *
 * Layout of the config directory (root: /etc/vdisk/storage; others:
 * $XDG_CONFIG_HOME/vdisk/storage, else ~/.config/vdisk/storage; the
 * environment variable VDISK_CONFIG_DIR overrides both):
 *
 *   lock                  flock(2) target serialising registry updates
 *   pools/NAME.xml        pool definition (pool-dumpxml shape)
 *   pools/NAME.state      "active=yes|no\nautostart=yes|no\n"
 *   pools/NAME.transient  marker of a pool made by pool-create (written
 *                         before the definition; ignored without one)
 *   secrets/UUID.xml      secret definition (mode 0600, directory 0700)
 *   secrets/UUID.value    secret value (mode 0600)
 *
 * Every file is replaced atomically (temporary file, fsync, rename, fsync of
 * the directory): a crash leaves the old or the new content, never a torn
 * file; a temporary file a crash leaves (.tmp-*, never listed) is removed
 * by the next write to its subdirectory.  Directories the registry creates
 * are synced into their parents.  All access goes through directory file descriptors with
 * O_NOFOLLOW, so a symlink planted in the registry redirects nothing.
 */
#ifndef VDISK_REGISTRY_H
#define VDISK_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include <vdisk/error.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct vdisk_registry vdisk_registry;

/* The config directory this process uses (see above).  *out is malloc'ed;
 * the caller frees it. */
int vdisk_registry_default_dir(char **out, vdisk_error *err);

/* Open (creating it, mode 0700, if missing) the registry in `dir`; NULL
 * means vdisk_registry_default_dir().  Free with vdisk_registry_close. */
int vdisk_registry_open(const char *dir, vdisk_registry **out, vdisk_error *err);
void vdisk_registry_close(vdisk_registry *reg);            /* NULL ok */
const char *vdisk_registry_dir(const vdisk_registry *reg);

/* Hold the registry lock (shared for readers, exclusive for updates) until
 * vdisk_registry_unlock.  Blocks while another process holds it. */
int vdisk_registry_lock(vdisk_registry *reg, bool exclusive, vdisk_error *err);
void vdisk_registry_unlock(vdisk_registry *reg);

/* Check a pool, volume or secret name: non-empty, at most 255 bytes, no '/',
 * no "..", not ".", no control characters.  `what` names it in the error
 * ("volume name"). */
int vdisk_storage_name_check(const char *what, const char *name, vdisk_error *err);

/* Subdirectories of the registry ("pools", "secrets"). */
typedef enum vdisk_registry_area {
    VDISK_REGISTRY_POOLS = 0,
    VDISK_REGISTRY_SECRETS,
} vdisk_registry_area;

/* Names of the files in an area that end with `suffix` (".xml"), without the
 * suffix, sorted.  *names is a malloc'ed array of malloc'ed strings. */
int vdisk_registry_list(vdisk_registry *reg, vdisk_registry_area area, const char *suffix,
                        char ***names, size_t *n, vdisk_error *err);
void vdisk_registry_names_free(char **names, size_t n);

/* Read a whole file of an area (at most 1 MiB).  *data is malloc'ed and
 * NUL-terminated; -ENOENT when it does not exist. */
int vdisk_registry_read(vdisk_registry *reg, vdisk_registry_area area, const char *file,
                        char **data, size_t *len, vdisk_error *err);
/* Replace a file of an area atomically with `len` bytes of data, mode `mode`. */
int vdisk_registry_write(vdisk_registry *reg, vdisk_registry_area area, const char *file,
                         const void *data, size_t len, mode_t mode, vdisk_error *err);
/* Remove a file of an area; a missing file is not an error. */
int vdisk_registry_remove(vdisk_registry *reg, vdisk_registry_area area, const char *file,
                          vdisk_error *err);

#ifdef __cplusplus
}
#endif
#endif
