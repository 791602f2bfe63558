/* vdisk plugin — a store of pools, volumes and secrets behind one table of
 * operations.
 *
 * A command that acts on pools and volumes (vdisk-virsh's pool-*, vol-*)
 * is written once against this table; which store it acts on is chosen
 * when the store is opened:
 *   - the embedded registry (vdisk_store_registry_open, store-registry.c):
 *     pools of this process, through libvdisk;
 *   - a libvirt daemon (vdisk-virsh's stores/, through libvirt's public
 *     API, loaded on first use so that image commands never load libvirt).
 *
 * Every operation returns 0 or a negative errno and fills a vdisk_error
 * whose message is what the store said (libvirt's own message for a
 * daemon; an error with code 0 and no message: the store said nothing).
 * Handles hold what the implementation needs; callers see only the
 * fields below.
 */
#ifndef VDISK_STORE_H
#define VDISK_STORE_H

#include <stdbool.h>
#include <stdint.h>

#include <vdisk/error.h>
#include <vdisk/image.h>
#include <vdisk/pool.h>
#include <vdisk/secret.h>
#include <vdisk/storage-def.h>
#include <vdisk/volume-provisioning.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct vdisk_store vdisk_store;
typedef struct vdisk_store_pool vdisk_store_pool;
typedef struct vdisk_store_vol vdisk_store_vol;
typedef struct vdisk_store_secret vdisk_store_secret;

/* A pool as pool-list and pool-info show it. */
typedef struct vdisk_store_pool_row {
    vdisk_store_pool *pool;        /* pool_list: owned by the row (vdisk_store_pool_rows_free) */
    const vdisk_pool_def *def;     /* name, uuid, target path, zeroing, cap; lives with pool */
    const char *state;             /* virsh's word: "running", "inactive", "building"... */
    bool active, autostart, persistent;
    bool info_ok;                  /* info holds the pool's sizes */
    vdisk_pool_info info;
    vdisk_error error;             /* pool_list: a pool that could not be read (def NULL) */
} vdisk_store_pool_row;

/* A volume as vol-list shows it. */
typedef struct vdisk_store_vol_row {
    vdisk_vol_def def;             /* owned (vdisk_store_vol_rows_free) */
    const char *type;              /* virsh's word: "file", "dir"... */
    bool failed;                   /* could not be read: not shown, error reported if any */
    vdisk_error error;
} vdisk_store_vol_row;

/* pool-list's filters, as virsh's options say them. */
typedef struct vdisk_store_pool_filter {
    bool inactive, all;            /* default: active pools only */
    bool persistent, transient, autostart, no_autostart;
    const char *types;             /* --type's comma-separated list; NULL: any */
    bool sizes;                    /* the rows' sizes are shown (--details, --json) */
} vdisk_store_pool_filter;

/* Which step of a volume lookup failed: callers word their first line
 * after it ("failed to get pool 'P'", "failed to get vol 'V'"...). */
typedef enum vdisk_store_lookup_step {
    VDISK_STORE_STEP_POOL,        /* finding the pool named with the volume */
    VDISK_STORE_STEP_VOL,         /* finding the volume (by name, key or path) */
    VDISK_STORE_STEP_VOL_POOL,    /* finding the pool of a volume found by key or path */
    VDISK_STORE_STEP_CHECK,       /* a check whose message says it all (pool not active, ...) */
} vdisk_store_lookup_step;

/* Which step of a pool or secret definition failed: callers word their first line
 * after it. */
typedef enum vdisk_store_define_step {
    VDISK_STORE_DEFINE_ALONE,     /* the message says it all (a file that cannot be read...) */
    VDISK_STORE_DEFINE_FROM,      /* the XML was refused: "Failed to define pool from FILE" */
    VDISK_STORE_DEFINE_NAMED,     /* the definition was refused: "Failed to define pool NAME";
                                   * a secret: it was made, but its UUID could not be read back */
} vdisk_store_define_step;

/* Which step of a transfer (vol-upload, vol-download) failed: callers
 * word their first line after it. */
typedef enum vdisk_store_transfer_step {
    VDISK_STORE_XFER_START,       /* the store refused or failed the transfer */
    VDISK_STORE_XFER_DATA,        /* moving the bytes (a daemon's stream) failed */
    VDISK_STORE_XFER_STREAM,      /* no stream to the daemon could be made */
    VDISK_STORE_XFER_FINISH,      /* the bytes moved, but closing the transfer failed */
} vdisk_store_transfer_step;

/* Which step of a copy (vol-clone) failed: callers word their first line
 * after it. */
typedef enum vdisk_store_copy_step {
    VDISK_STORE_COPY_ALONE,       /* the message says it all (the source could not be read...) */
    VDISK_STORE_COPY_POOL,        /* the source's pool could not be found */
    VDISK_STORE_COPY_COPY,        /* the copy itself: "Failed to clone vol from NAME" */
} vdisk_store_copy_step;

enum {
    VDISK_STORE_POOL_BUILD          = 1u << 0,   /* pool_start: build first */
    VDISK_STORE_POOL_OVERWRITE      = 1u << 1,   /* build over what is there */
    VDISK_STORE_POOL_NO_OVERWRITE   = 1u << 2,   /* build only where nothing is */
};

enum {
    VDISK_STORE_POOL_SIZES  = 1u << 0,   /* pool_info: the file system's sizes */
    VDISK_STORE_POOL_TOTALS = 1u << 1,   /* and the sums over the volumes (pool-info) */
};

enum {
    VDISK_STORE_CREATE_PREALLOC_METADATA = 1u << 0,   /* qcow2: metadata preallocated when thin */
    VDISK_STORE_CREATE_VALIDATE          = 1u << 1,   /* the XML against the schema first, where the store can */
    VDISK_STORE_CREATE_REFLINK           = 1u << 2,   /* a copy shares the source's extents, where the store can */
};

enum {
    VDISK_STORE_VOLS_DETAILS  = 1u << 0,   /* vol_list: every field, not only name and path */
    VDISK_STORE_VOLS_PHYSICAL = 1u << 1,   /* and the physical sizes */
};

enum {
    VDISK_STORE_DELETE_WITH_SNAPSHOTS = 1u << 0,   /* libvirt's flag; internal snapshots go anyway */
};

enum {
    VDISK_STORE_RESIZE_ALLOCATE = 1u << 0,   /* reserve the new part */
    VDISK_STORE_RESIZE_DELTA    = 1u << 1,   /* capacity is a change of the current one */
    VDISK_STORE_RESIZE_SHRINK   = 1u << 2,   /* allow a smaller capacity (with DELTA: subtract) */
};

typedef struct vdisk_store_ops {
    const char *name;             /* "registry", "libvirt" */

    /* Close the store (a connection, an open registry) and free it. */
    void (*close)(vdisk_store *store);

    /* The pools pool-list shows, in its order; free with
     * vdisk_store_pool_rows_free.  A pool that could not be read is a row
     * with def NULL and its error. */
    int (*pool_list)(vdisk_store *store, const vdisk_store_pool_filter *filter,
                     vdisk_store_pool_row **rows, size_t *count, vdisk_error *err);
    /* pool-define: define a pool from the XML in file (validate: against
     * the schema first, where the store can); *name is malloc'ed (after
     * a NAMED failure too, when the file named the pool). */
    int (*pool_define_file)(vdisk_store *store, const char *file, bool validate, char **name,
                            vdisk_store_define_step *step, vdisk_error *err);
    /* pool-define-as: the XML def of type ("vdisk", "dir") is sent as
     * (--print-xml), malloc'ed; and the definition itself. */
    int (*pool_def_xml)(vdisk_store *store, const vdisk_pool_def *def, const char *type, char **xml,
                        vdisk_error *err);
    int (*pool_define)(vdisk_store *store, vdisk_pool_def *def, const char *type,
                       vdisk_store_define_step *step, vdisk_error *err);
    /* pool-create: a transient pool from the XML in file, started
     * (VDISK_STORE_POOL_BUILD, _OVERWRITE, _NO_OVERWRITE: built first);
     * *name is malloc'ed (after a failure too, when the file named the
     * pool).  *step: ALONE or FROM. */
    int (*pool_create_file)(vdisk_store *store, const char *file, unsigned flags, char **name,
                            vdisk_store_define_step *step, vdisk_error *err);
    /* pool-create-as: the same from a definition of type ("vdisk", "dir");
     * *step: ALONE or NAMED. */
    int (*pool_create)(vdisk_store *store, vdisk_pool_def *def, const char *type, unsigned flags,
                       vdisk_store_define_step *step, vdisk_error *err);
    /* pool-capabilities: the store's <storagepoolCapabilities> XML, malloc'ed. */
    int (*pool_capabilities)(vdisk_store *store, char **xml, vdisk_error *err);
    /* find-storage-pool-sources: the <sources> XML of pool type type
     * (spec: a <source> document narrowing the search, or NULL),
     * malloc'ed; a type without discovery is refused. */
    int (*pool_find_sources)(vdisk_store *store, const char *type, const char *spec, char **xml,
                             vdisk_error *err);
    /* Find a pool by name or UUID. */
    int (*pool_lookup)(vdisk_store *store, const char *name, vdisk_store_pool **out, vdisk_error *err);
    /* Release a pool handle (NULL is fine). */
    void (*pool_free)(vdisk_store_pool *pool);
    /* The pool's row (VDISK_STORE_POOL_SIZES, _TOTALS); row->pool is not set. */
    int (*pool_info)(vdisk_store_pool *pool, unsigned what, vdisk_store_pool_row *row, vdisk_error *err);
    /* Each volume's provisioned and used space (pool-info --details);
     * NULL in a store that cannot tell. */
    int (*pool_usage)(vdisk_store_pool *pool, vdisk_pool_usage *usage, vdisk_error *err);
    /* The pool's XML (inactive: the definition alone), malloc'ed. */
    int (*pool_xml)(vdisk_store_pool *pool, bool inactive, char **xml, vdisk_error *err);
    /* Life cycle (VDISK_STORE_POOL_BUILD...). */
    int (*pool_build)(vdisk_store_pool *pool, unsigned flags, vdisk_error *err);
    int (*pool_start)(vdisk_store_pool *pool, unsigned flags, vdisk_error *err);
    int (*pool_destroy)(vdisk_store_pool *pool, vdisk_error *err);
    int (*pool_delete)(vdisk_store_pool *pool, vdisk_error *err);
    int (*pool_undefine)(vdisk_store_pool *pool, vdisk_error *err);
    int (*pool_refresh)(vdisk_store_pool *pool, vdisk_error *err);
    int (*pool_set_autostart)(vdisk_store_pool *pool, bool autostart, vdisk_error *err);

    /* secret-define: define (or redefine) a secret from xml (read from
     * file, named in messages); its UUID into uuid. */
    int (*secret_define)(vdisk_store *store, const char *xml, size_t len, const char *file, bool validate,
                         unsigned char uuid[16], vdisk_store_define_step *step, vdisk_error *err);
    /* The secrets, in secret-list's order; free with vdisk_secret_defs_free. */
    int (*secret_list)(vdisk_store *store, vdisk_secret_def **defs, size_t *count, vdisk_error *err);
    /* Find a secret by UUID, or by usage id (a volume's path). */
    int (*secret_lookup)(vdisk_store *store, const char *name, vdisk_store_secret **out, vdisk_error *err);
    /* Release a secret handle (NULL is fine). */
    void (*secret_free)(vdisk_store_secret *secret);
    /* Set the secret's value (len bytes; the store keeps no copy in memory). */
    int (*secret_set_value)(vdisk_store_secret *secret, const void *value, size_t len, vdisk_error *err);
    /* The secret's value (*value malloc'ed; the caller wipes and frees
     * it); a private secret's value is refused as libvirt refuses it. */
    int (*secret_get_value)(vdisk_store_secret *secret, unsigned char **value, size_t *len, vdisk_error *err);
    /* The secret's XML, malloc'ed. */
    int (*secret_xml)(vdisk_store_secret *secret, char **xml, vdisk_error *err);
    /* Remove the secret and its value. */
    int (*secret_undefine)(vdisk_store_secret *secret, vdisk_error *err);

    /* The pool's volumes, in vol-list's order (VDISK_STORE_VOLS_*); free
     * with vdisk_store_vol_rows_free. */
    int (*vol_list)(vdisk_store_pool *pool, unsigned what, vdisk_store_vol_row **rows, size_t *count,
                    vdisk_error *err);
    /* vol-create: a volume in pool from the XML in file
     * (VDISK_STORE_CREATE_*); *name is malloc'ed (after a NAMED failure
     * too, when the XML named the volume). */
    int (*vol_create_file)(vdisk_store_pool *pool, const char *file, unsigned flags, vdisk_progress_fn progress,
                           void *opaque, char **name, vdisk_store_define_step *step, vdisk_error *err);
    /* vol-create-as: a volume in pool from a definition; *step: ALONE
     * (the definition could not be sent) or NAMED. */
    int (*vol_create_def)(vdisk_store_pool *pool, const vdisk_vol_def *def, unsigned flags,
                          vdisk_progress_fn progress, void *opaque, vdisk_store_define_step *step,
                          vdisk_error *err);
    /* vol-create-as --backing-vol: the path of the backing volume named
     * vol (by name in pool, key or path, as the store resolves it),
     * malloc'ed; *step says which lookup failed. */
    int (*vol_backing_path)(vdisk_store_pool *pool, const char *vol, char **path, vdisk_store_lookup_step *step,
                            vdisk_error *err);
    /* vol-create-from: the same, filled from the volume src of this store. */
    int (*vol_create_file_from)(vdisk_store_pool *pool, const char *file, vdisk_store_vol *src, unsigned flags,
                                vdisk_progress_fn progress, void *opaque, char **name,
                                vdisk_store_define_step *step, vdisk_error *err);
    /* vol-clone: a copy of vol in its own pool under newname, same format
     * and options (VDISK_STORE_CREATE_PREALLOC_METADATA, _REFLINK). */
    int (*vol_clone)(vdisk_store_vol *vol, const char *newname, unsigned flags, vdisk_progress_fn progress,
                     void *opaque, vdisk_store_copy_step *step, vdisk_error *err);
    /* The XML such a clone is made from (vol-clone --print-xml),
     * malloc'ed; NULL in a store that makes clones from no XML. */
    int (*vol_clone_xml)(vdisk_store_vol *vol, const char *newname, char **xml, vdisk_store_copy_step *step,
                         vdisk_error *err);
    /* Find a volume as virsh does: with pool, by name in it (or, for a
     * word with a '/', by path, and then it must be in that pool);
     * without, by key, then by path.  *step says which step failed. */
    int (*vol_lookup)(vdisk_store *store, const char *pool, const char *vol, vdisk_store_vol **out,
                      vdisk_store_lookup_step *step, vdisk_error *err);
    /* vol-pool: the pool that holds vol. */
    int (*vol_pool)(vdisk_store_vol *vol, vdisk_store_pool **pool, vdisk_error *err);
    /* Release a volume handle (NULL is fine). */
    void (*vol_free)(vdisk_store_vol *vol);

    /* The volume's definition with capacity and allocation as the store
     * reports them (physical: the physical size too, when it costs more);
     * *type is virsh's word for the volume type ("file"...).  Clear *def
     * with vdisk_vol_def_clear, after a failure too. */
    int (*vol_def)(vdisk_store_vol *vol, bool physical, vdisk_vol_def *def, const char **type,
                   vdisk_error *err);
    /* The volume's XML, malloc'ed. */
    int (*vol_xml)(vdisk_store_vol *vol, char **xml, vdisk_error *err);
    /* The volume's path and key, malloc'ed. */
    int (*vol_path)(vdisk_store_vol *vol, char **path, vdisk_error *err);
    int (*vol_key)(vdisk_store_vol *vol, char **key, vdisk_error *err);

    /* The volume's file, for work the store's API lacks (internal
     * snapshots, conversion), done through libvdisk: a pool handle on the
     * volume's directory and the volume's name in it, both valid while
     * vol is.  *step: VOL_POOL (its pool could not be found) or CHECK. */
    int (*vol_file)(vdisk_store_vol *vol, vdisk_pool **pool, const char **name, vdisk_store_lookup_step *step,
                    vdisk_error *err);
    /* Open the volume's file (after vol_file) as qemu-img convert opens
     * its source, with a reader's locks, and keep it open while a copy
     * reads it; close *held with vdisk_close.  NULL in a store whose own
     * copy takes the locks. */
    int (*vol_file_hold)(vdisk_store_vol *vol, vdisk_image **held, vdisk_error *err);
    /* After such work changed the file: the store looks at it again (a
     * daemon refreshes the pool, named in *pool_name for messages).  NULL
     * in a store that needs nothing. */
    int (*vol_file_changed)(vdisk_store_vol *vol, const char **pool_name, vdisk_error *err);

    /* Move length bytes (0: to the end) at offset between the volume and
     * the local file fd (upload: into the volume); sparse: holes travel
     * as holes. */
    int (*vol_transfer)(vdisk_store_vol *vol, int fd, bool upload, uint64_t offset, uint64_t length,
                        bool sparse, vdisk_progress_fn progress, void *opaque, vdisk_store_transfer_step *step,
                        vdisk_error *err);

    /* Remove the volume (VDISK_STORE_DELETE_*). */
    int (*vol_delete)(vdisk_store_vol *vol, unsigned flags, vdisk_error *err);
    /* Overwrite the volume's data; algorithm is one of libvirt's names
     * ("zero", "nnsa"... "trim"); a store refuses those it cannot do. */
    int (*vol_wipe)(vdisk_store_vol *vol, const char *algorithm, vdisk_progress_fn progress,
                    void *opaque, vdisk_error *err);
    /* Change the volume's capacity (VDISK_STORE_RESIZE_*). */
    int (*vol_resize)(vdisk_store_vol *vol, uint64_t capacity, unsigned flags,
                      vdisk_progress_fn progress, void *opaque, vdisk_error *err);
} vdisk_store_ops;

/* An open store: its operations (the implementation's state follows). */
struct vdisk_store {
    const vdisk_store_ops *ops;
};

/* A pool found in a store. */
struct vdisk_store_pool {
    vdisk_store *store;
    char *name;                   /* the pool's name */
};

/* A secret found in a store. */
struct vdisk_store_secret {
    vdisk_store *store;
    unsigned char uuid[16];
};

/* A volume found in a store. */
struct vdisk_store_vol {
    vdisk_store *store;
    char *name;                   /* the volume's name in its pool */
};

/* Free what pool_list gave: every row's pool, then the array. */
void vdisk_store_pool_rows_free(vdisk_store_pool_row *rows, size_t count);

/* A clone's definition from its source's: same format and options, thick
 * when the source is fully allocated (takes the source's strings it
 * keeps); clear def after.  -ENOMEM only. */
int vdisk_store_clone_def(vdisk_vol_def *src, const char *newname, vdisk_vol_def *def);

/* Free what vol_list gave. */
void vdisk_store_vol_rows_free(vdisk_store_vol_row *rows, size_t count);

/* The index of one of libvirt's wipe algorithm names in the order of
 * virStorageVolWipeAlgorithm ("zero" 0, "nnsa" 1, ... "trim" 9), or -1. */
int vdisk_store_wipe_alg_index(const char *name);

/* The embedded registry in dir (NULL: $VDISK_CONFIG_DIR or the default,
 * as vdisk_registry_open) as a store; close with store->ops->close. */
int vdisk_store_registry_open(const char *dir, vdisk_store **out, vdisk_error *err);

#ifdef __cplusplus
}
#endif

#endif
