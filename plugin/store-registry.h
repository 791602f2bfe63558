/* vdisk plugin — the embedded registry as a store: what store-registry.c
 * (the store, volumes, the operations table), store-registry-pool.c
 * (pools) and store-registry-secret.c (secrets) share. */
#ifndef VDISK_STORE_REGISTRY_H
#define VDISK_STORE_REGISTRY_H

#include <vdisk/pool.h>
#include <vdisk/registry.h>
#include <vdisk/store.h>

typedef struct registry_store {
    vdisk_store base;
    vdisk_registry *reg;
} registry_store;

typedef struct registry_pool {
    vdisk_store_pool base;        /* base.name: the pool's name */
    vdisk_pool *pool;
} registry_pool;

/* The pool operations of the table (store-registry-pool.c). */
int registry_pool_list(vdisk_store *store, const vdisk_store_pool_filter *filter,
                       vdisk_store_pool_row **rows, size_t *count, vdisk_error *err);
int registry_pool_define_file(vdisk_store *store, const char *file, bool validate, char **name,
                              vdisk_store_define_step *step, vdisk_error *err);
int registry_pool_def_xml(vdisk_store *store, const vdisk_pool_def *def, const char *type, char **xml,
                          vdisk_error *err);
int registry_pool_define(vdisk_store *store, vdisk_pool_def *def, const char *type,
                         vdisk_store_define_step *step, vdisk_error *err);
int registry_pool_lookup(vdisk_store *store, const char *name, vdisk_store_pool **out, vdisk_error *err);
void registry_pool_free(vdisk_store_pool *pool);
int registry_pool_info(vdisk_store_pool *pool, unsigned what, vdisk_store_pool_row *row, vdisk_error *err);
int registry_vol_list(vdisk_store_pool *pool, unsigned what, vdisk_store_vol_row **rows, size_t *count,
                      vdisk_error *err);
int registry_pool_usage(vdisk_store_pool *pool, vdisk_pool_usage *usage, vdisk_error *err);
int registry_pool_xml(vdisk_store_pool *pool, bool inactive, char **xml, vdisk_error *err);
int registry_pool_build(vdisk_store_pool *pool, unsigned flags, vdisk_error *err);
int registry_pool_start(vdisk_store_pool *pool, unsigned flags, vdisk_error *err);
int registry_pool_destroy(vdisk_store_pool *pool, vdisk_error *err);
int registry_pool_delete(vdisk_store_pool *pool, vdisk_error *err);
int registry_pool_undefine(vdisk_store_pool *pool, vdisk_error *err);
int registry_pool_refresh(vdisk_store_pool *pool, vdisk_error *err);
int registry_pool_set_autostart(vdisk_store_pool *pool, bool autostart, vdisk_error *err);

/* Transient pools, capabilities and source discovery (store-registry-create.c). */
bool registry_pool_is_transient(vdisk_registry *reg, const char *pool);
int registry_pool_set_transient(vdisk_registry *reg, const char *pool, bool transient, vdisk_error *err);
int registry_pool_create(vdisk_store *store, vdisk_pool_def *def, const char *type, unsigned flags,
                         vdisk_store_define_step *step, vdisk_error *err);
int registry_pool_create_file(vdisk_store *store, const char *file, unsigned flags, char **name,
                              vdisk_store_define_step *step, vdisk_error *err);
int registry_pool_capabilities(vdisk_store *store, char **xml, vdisk_error *err);
int registry_pool_find_sources(vdisk_store *store, const char *type, const char *spec, char **xml,
                               vdisk_error *err);

/* The secret operations of the table (store-registry-secret.c). */
int registry_secret_define(vdisk_store *store, const char *xml, size_t len, const char *file, bool validate,
                           unsigned char uuid[16], vdisk_store_define_step *step, vdisk_error *err);
int registry_secret_list(vdisk_store *store, vdisk_secret_def **defs, size_t *count, vdisk_error *err);
int registry_secret_lookup(vdisk_store *store, const char *name, vdisk_store_secret **out, vdisk_error *err);
void registry_secret_free(vdisk_store_secret *secret);
int registry_secret_set_value(vdisk_store_secret *secret, const void *value, size_t len, vdisk_error *err);
int registry_secret_undefine(vdisk_store_secret *secret, vdisk_error *err);
int registry_secret_get_value(vdisk_store_secret *secret, unsigned char **value, size_t *len, vdisk_error *err);
int registry_secret_xml(vdisk_store_secret *secret, char **xml, vdisk_error *err);

#endif
