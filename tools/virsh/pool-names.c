/* vdisk-virsh pool-name, pool-uuid, vol-pool, pool-capabilities and
 * find-storage-pool-sources[-as], as virsh, on any store.
 *
 *   pool-name <pool>                 (a UUID, or a name)
 *   pool-uuid <pool>
 *   vol-pool <vol> [--uuid]          (a volume key or path)
 *   pool-capabilities
 *   find-storage-pool-sources <type> [--srcSpec FILE]
 *   find-storage-pool-sources-as <type> [--host HOST] [--port PORT] [--initiator IQN]
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "virsh-args.h"
#include "store-open.h"

/* The pool's name or UUID, on a line; 0, or -1 with err filled. */
static int
print_pool_id(vdisk_store_pool *pool, bool uuid, vdisk_error *err)
{
    vdisk_store_pool_row row;
    int r = pool->store->ops->pool_info(pool, 0, &row, err);
    if (r < 0)
        return r;
    if (uuid) {
        char u[VDISK_UUID_STRING_LEN];
        vdisk_uuid_format(row.def->uuid, u);
        printf("%s\n", u);
    } else {
        printf("%s\n", row.def->name);
    }
    return 0;
}

/* Look the pool up as virsh does for pool-name (by UUID only) and
 * pool-uuid (by name only); prints virsh's failure. */
static int
lookup_by(vv_store_ctx *c, const char *word, bool by_uuid)
{
    unsigned char u[16];
    vdisk_error err = { 0 };
    if (by_uuid && vdisk_uuid_parse(word, u) < 0) {
        vv_virsh_error("failed to get pool '%s'", word);   /* virsh asks nothing of the store */
        return -1;
    }
    int r = c->store->ops->pool_lookup(c->store, word, &c->pool, &err);
    if (r == 0 && !by_uuid && strcmp(c->pool->name, word) != 0) {
        /* found by UUID: virsh looks for a name only */
        vdisk_error_set(&err, ENOENT, "Storage pool not found: no storage pool with matching name '%s'", word);
        r = -1;
    }
    if (r < 0 && by_uuid && err.kind == VDISK_ERR_NOT_FOUND)
        /* the store tried the name last; virsh looked for the UUID alone */
        vdisk_error_set(&err, ENOENT, "Storage pool not found: no storage pool with matching uuid '%s'", word);
    if (r < 0) {
        vv_virsh_error("failed to get pool '%s'", word);
        vv_store_report(&err);
    }
    return r;
}

/* pool-name and pool-uuid: look the pool up, print the other id. */
static int
pool_id(const char *uri, int argc, char **argv, bool uuid)
{
    vv_arg args[] = { VV_REQ("pool") };
    vv_store_ctx c;
    int r = vv_store_begin(uri, argc, argv, args, VV_N(args), &c);
    if (r != VV_GO)
        return r;
    vdisk_error err = { 0 };
    r = 1;
    if (lookup_by(&c, vv_arg_get(args, VV_N(args), "pool")->value, !uuid) == 0) {
        r = print_pool_id(c.pool, uuid, &err) < 0;
        if (r)
            vv_store_report(&err);
    }
    vv_store_end(&c);
    return r;
}

/* pool-name: the name of the pool with this UUID (or name). */
int
cmd_pool_name(const char *uri, int argc, char **argv)
{
    return pool_id(uri, argc, argv, false);
}

/* pool-uuid: the UUID of the pool with this name (or UUID). */
int
cmd_pool_uuid(const char *uri, int argc, char **argv)
{
    return pool_id(uri, argc, argv, true);
}

/* vol-pool: the pool of the volume with this key or path. */
int
cmd_vol_pool(const char *uri, int argc, char **argv)
{
    vv_arg args[] = { VV_REQ("vol"), VV_FLAG("uuid") };
    vv_store_ctx c;
    int r = vv_store_begin(uri, argc, argv, args, VV_N(args), &c);
    if (r != VV_GO)
        return r;
    const char *vol = vv_arg_get(args, VV_N(args), "vol")->value;
    vdisk_store_lookup_step step;
    vdisk_error err = { 0 };
    /* By key or path; virsh's message has no --pool hint: vol-pool has no --pool. */
    if (c.store->ops->vol_lookup(c.store, NULL, vol, &c.vol, &step, &err) < 0) {
        if (step != VDISK_STORE_STEP_CHECK)
            vv_virsh_error("failed to get vol '%s'", vol);
        vv_store_report(&err);
        vv_store_end(&c);
        return 1;
    }
    r = c.store->ops->vol_pool(c.vol, &c.pool, &err) < 0;
    if (r) {
        vv_virsh_error("failed to get parent pool");
    } else if (print_pool_id(c.pool, vv_arg_get(args, VV_N(args), "uuid")->set, &err) < 0) {
        vv_store_report(&err);
        r = 1;
    }
    vv_store_end(&c);
    return r;
}

/* pool-capabilities: which pool types the store has, and their volume formats. */
int
cmd_pool_capabilities(const char *uri, int argc, char **argv)
{
    vv_store_ctx c;
    int r = vv_store_begin(uri, argc, argv, NULL, 0, &c);
    if (r != VV_GO)
        return r;
    char *xml = NULL;
    vdisk_error err = { 0 };
    r = c.store->ops->pool_capabilities(c.store, &xml, &err) < 0;
    if (r) {
        vv_virsh_error("failed to get storage pool capabilities");
        vv_store_report(&err);
    } else {
        printf("%s\n", xml);      /* virsh adds a line */
    }
    free(xml);
    vv_store_end(&c);
    return r;
}

/* Ask the store for the sources of type, print them or virsh's failure. */
static int
find_sources(vv_store_ctx *c, const char *type, const char *spec)
{
    char *xml = NULL;
    vdisk_error err = { 0 };
    int r = c->store->ops->pool_find_sources(c->store, type, spec, &xml, &err) < 0;
    if (r) {
        vv_virsh_error("Failed to find any %s pool sources", type);
        vv_store_report(&err);
    } else {
        fputs(xml, stdout);
    }
    free(xml);
    return r;
}

/* find-storage-pool-sources: discovery, narrowed by a <source> document. */
int
cmd_find_storage_pool_sources(const char *uri, int argc, char **argv)
{
    vv_arg args[] = { VV_REQ("type"), VV_VAL("srcSpec") };
    vv_store_ctx c;
    int r = vv_store_begin(uri, argc, argv, args, VV_N(args), &c);
    if (r != VV_GO)
        return r;
    vv_arg *spec_file = vv_arg_get(args, VV_N(args), "srcSpec");
    char *spec = NULL;
    size_t len;
    if (spec_file->set && vv_read_file(spec_file->value, &spec, &len) < 0)
        r = 1;
    else
        r = find_sources(&c, vv_arg_get(args, VV_N(args), "type")->value, spec);
    free(spec);
    vv_store_end(&c);
    return r;
}

/* The <source> document virsh builds from --host, --port and --initiator. */
static char *
source_spec(const char *host, const char *port, const char *initiator)
{
    char *buf = NULL;
    size_t len;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        return NULL;
    fprintf(f, "<source>\n  <host name='%s'", host);
    if (port)
        fprintf(f, " port='%s'", port);
    fputs("/>\n", f);
    if (initiator)
        fprintf(f, "  <initiator>\n    <iqn name='%s'/>\n  </initiator>\n", initiator);
    fputs("</source>\n", f);
    if (fclose(f) != 0) {
        free(buf);
        return NULL;
    }
    return buf;
}

/* find-storage-pool-sources-as: discovery at a host. */
int
cmd_find_storage_pool_sources_as(const char *uri, int argc, char **argv)
{
    vv_arg args[] = { VV_REQ("type"), VV_POS("host"), VV_POS("port"), VV_POS("initiator") };
    vv_store_ctx c;
    int r = vv_store_begin(uri, argc, argv, args, VV_N(args), &c);
    if (r != VV_GO)
        return r;
    vv_arg *host = vv_arg_get(args, VV_N(args), "host"), *port = vv_arg_get(args, VV_N(args), "port");
    vv_arg *initiator = vv_arg_get(args, VV_N(args), "initiator");
    char *spec = NULL;
    if (host->set && !(spec = source_spec(host->value, port->set ? port->value : NULL,
                                          initiator->set ? initiator->value : NULL))) {
        vv_virsh_error("out of memory");
        r = 1;
    } else {
        r = find_sources(&c, vv_arg_get(args, VV_N(args), "type")->value, spec);
    }
    free(spec);
    vv_store_end(&c);
    return r;
}
