/* vdisk-virsh -c URI — a libvirt daemon as a store: what store-libvirt.c
 * (the connection, volumes, the operations table), store-libvirt-pool.c
 * (pools), store-libvirt-define.c (pool definitions),
 * store-libvirt-secret.c (secrets), store-libvirt-file.c (a volume's
 * file, for what libvirt's API lacks) and store-libvirt-stream.c (a
 * volume's bytes) share. */
#ifndef VV_STORE_LIBVIRT_H
#define VV_STORE_LIBVIRT_H

#include <vdisk/pool.h>
#include <vdisk/store.h>

#include "remote-internal.h"

typedef struct libvirt_store {
    vdisk_store base;
    virConnectPtr conn;
} libvirt_store;

typedef struct libvirt_vol {
    vdisk_store_vol base;         /* base.name: the volume's name */
    virStorageVolPtr vol;
    /* vol_file: the volume's pool, and its directory as the plugin's pool */
    virStoragePoolPtr parent;
    vdisk_secret_source secrets;  /* the daemon's secrets, for that pool */
    vdisk_pool *file_pool;
    char *file_name;
} libvirt_vol;

typedef struct libvirt_pool {
    vdisk_store_pool base;        /* base.name: the pool's name */
    virStoragePoolPtr pool;
    vdisk_pool_def *def;          /* read by pool_info */
    char type[32];                /* <pool type='...'> */
} libvirt_pool;

/* The secret source of an unmanaged plugin pool that reads the daemon's
 * volume secrets (store-libvirt-file.c). */
void vr_secret_source_init(vdisk_secret_source *src, virConnectPtr conn);
/* A dir or vdisk pool of the daemon as an unmanaged plugin pool on its
 * directory (ENOTSUP for other types).  src must outlive *out. */
int vr_dir_pool(virStoragePoolPtr pool, const vdisk_secret_source *src, vdisk_pool **out, vdisk_error *err);
/* pool_usage: pool-info --details on the pool's directory. */
int libvirt_pool_usage(vdisk_store_pool *pool, vdisk_pool_usage *usage, vdisk_error *err);
/* vol's pool as an unmanaged plugin pool (*out, with the volume's *name),
 * refused unless it is a file pool whose file for the volume is the one
 * the daemon reports.  src must outlive *out. */
int vr_file_pool(virStoragePoolPtr pool, virStorageVolPtr vol, const vdisk_secret_source *src,
                 vdisk_pool **out, char **name, vdisk_error *err);
int libvirt_vol_file(vdisk_store_vol *vol, vdisk_pool **pool, const char **name, vdisk_store_lookup_step *step,
                     vdisk_error *err);
int libvirt_vol_transfer(vdisk_store_vol *vol, int fd, bool upload, uint64_t offset, uint64_t length, bool sparse,
                         vdisk_progress_fn progress, void *opaque, vdisk_store_transfer_step *step,
                         vdisk_error *err);
int libvirt_vol_file_hold(vdisk_store_vol *vol, vdisk_image **held, vdisk_error *err);
int libvirt_vol_file_changed(vdisk_store_vol *vol, const char **pool_name, vdisk_error *err);

/* vol-create, vol-create-as, vol-create-from, vol-clone (store-libvirt-create.c). */
int libvirt_vol_create_file(vdisk_store_pool *pool, const char *file, unsigned flags, vdisk_progress_fn progress,
                            void *opaque, char **name, vdisk_store_define_step *step, vdisk_error *err);
int libvirt_vol_create_file_from(vdisk_store_pool *pool, const char *file, vdisk_store_vol *src, unsigned flags,
                                 vdisk_progress_fn progress, void *opaque, char **name,
                                 vdisk_store_define_step *step, vdisk_error *err);

int libvirt_vol_create_def(vdisk_store_pool *pool, const vdisk_vol_def *def, unsigned flags,
                           vdisk_progress_fn progress, void *opaque, vdisk_store_define_step *step,
                           vdisk_error *err);
int libvirt_vol_backing_path(vdisk_store_pool *pool, const char *name, char **path, vdisk_store_lookup_step *step,
                             vdisk_error *err);
int libvirt_vol_clone(vdisk_store_vol *vol, const char *newname, unsigned flags, vdisk_progress_fn progress,
                      void *opaque, vdisk_store_copy_step *step, vdisk_error *err);
int libvirt_vol_clone_xml(vdisk_store_vol *vol, const char *newname, char **xml, vdisk_store_copy_step *step,
                          vdisk_error *err);

/* The pool operations of the table (store-libvirt-pool.c). */
int libvirt_pool_list(vdisk_store *store, const vdisk_store_pool_filter *filter,
                      vdisk_store_pool_row **rows, size_t *count, vdisk_error *err);
int libvirt_pool_define_file(vdisk_store *store, const char *file, bool validate, char **name,
                             vdisk_store_define_step *step, vdisk_error *err);
int libvirt_pool_def_xml(vdisk_store *store, const vdisk_pool_def *def, const char *type, char **xml,
                         vdisk_error *err);
int libvirt_pool_define(vdisk_store *store, vdisk_pool_def *def, const char *type,
                        vdisk_store_define_step *step, vdisk_error *err);
int libvirt_pool_create_file(vdisk_store *store, const char *file, unsigned flags, char **name,
                             vdisk_store_define_step *step, vdisk_error *err);
int libvirt_pool_create(vdisk_store *store, vdisk_pool_def *def, const char *type, unsigned flags,
                        vdisk_store_define_step *step, vdisk_error *err);
int libvirt_pool_capabilities(vdisk_store *store, char **xml, vdisk_error *err);
int libvirt_pool_find_sources(vdisk_store *store, const char *type, const char *spec, char **xml,
                              vdisk_error *err);
int libvirt_vol_pool(vdisk_store_vol *vol, vdisk_store_pool **out, vdisk_error *err);
int libvirt_pool_lookup(vdisk_store *store, const char *name, vdisk_store_pool **out, vdisk_error *err);
void libvirt_pool_free(vdisk_store_pool *pool);
int libvirt_pool_info(vdisk_store_pool *pool, unsigned what, vdisk_store_pool_row *row, vdisk_error *err);
int libvirt_vol_list(vdisk_store_pool *pool, unsigned what, vdisk_store_vol_row **rows, size_t *count,
                     vdisk_error *err);
int libvirt_pool_xml(vdisk_store_pool *pool, bool inactive, char **xml, vdisk_error *err);
int libvirt_pool_build(vdisk_store_pool *pool, unsigned flags, vdisk_error *err);
int libvirt_pool_start(vdisk_store_pool *pool, unsigned flags, vdisk_error *err);
int libvirt_pool_destroy(vdisk_store_pool *pool, vdisk_error *err);
int libvirt_pool_delete(vdisk_store_pool *pool, vdisk_error *err);
int libvirt_pool_undefine(vdisk_store_pool *pool, vdisk_error *err);
int libvirt_pool_refresh(vdisk_store_pool *pool, vdisk_error *err);
int libvirt_pool_set_autostart(vdisk_store_pool *pool, bool autostart, vdisk_error *err);

/* The secret operations of the table (store-libvirt-secret.c). */
int libvirt_secret_define(vdisk_store *store, const char *xml, size_t len, const char *file, bool validate,
                          unsigned char uuid[16], vdisk_store_define_step *step, vdisk_error *err);
int libvirt_secret_list(vdisk_store *store, vdisk_secret_def **defs, size_t *count, vdisk_error *err);
int libvirt_secret_lookup(vdisk_store *store, const char *name, vdisk_store_secret **out, vdisk_error *err);
void libvirt_secret_free(vdisk_store_secret *secret);
int libvirt_secret_set_value(vdisk_store_secret *secret, const void *value, size_t len, vdisk_error *err);
int libvirt_secret_undefine(vdisk_store_secret *secret, vdisk_error *err);
int libvirt_secret_get_value(vdisk_store_secret *secret, unsigned char **value, size_t *len, vdisk_error *err);
int libvirt_secret_xml(vdisk_store_secret *secret, char **xml, vdisk_error *err);

#endif
