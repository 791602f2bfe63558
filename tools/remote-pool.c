/* vdisk-virsh -c URI — pool definition and life cycle through the daemon:
 * pool-define, pool-define-as, pool-build, pool-start, pool-destroy,
 * pool-delete, pool-undefine, pool-autostart, pool-refresh, pool-dumpxml.
 * Same grammar and messages as the embedded commands (cmd-pool-*.c),
 * which are virsh's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vdisk/storage-xml.h>

#include "remote-internal.h"
#include "virsh-common.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* pool-define: define a pool from an XML file. */
int
vr_pool_define(const char *uri, int argc, char **argv)
{
    vv_arg args[] = { VV_REQ("file"), VV_FLAG("validate") };
    vr_ctx c;
    int r = vr_begin(uri, argc, argv, args, N(args), &c);
    if (r != VV_GO)
        return r;
    char *xml;
    size_t len;
    r = 1;
    if (vv_read_file(args[0].value, &xml, &len) == 0) {
        unsigned flags = args[1].set ? VIR_STORAGE_POOL_DEFINE_VALIDATE : 0;
        virStoragePoolPtr pool = virStoragePoolDefineXML(c.conn, xml, flags);
        if (!pool) {
            vv_virsh_error("Failed to define pool from %s", args[0].value);
            vr_report();
        } else {
            printf("Pool %s defined from %s\n", virStoragePoolGetName(pool), args[0].value);
            virStoragePoolFree(pool);
            r = 0;
        }
        free(xml);
    }
    vr_end(&c);
    return r;
}

/* text with XML's five special characters escaped, into f. */
static void
put_escaped(FILE *f, const char *text)
{
    for (; *text; text++) {
        switch (*text) {
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '&': fputs("&amp;", f); break;
        case '\'': fputs("&apos;", f); break;
        case '"': fputs("&quot;", f); break;
        default: fputc(*text, f);
        }
    }
}

/* The XML pool-define-as sends: virsh's plain form for a dir pool or a
 * vdisk pool with default provisioning, vdisk's namespace otherwise. */
static int
pool_xml(vv_arg *args, size_t n, const vdisk_pool_def *def, char **xml)
{
    const char *type = vv_arg_get(args, n, "type")->value;
    bool plain = def->zeroing == VDISK_ZEROING_LAZY && def->overcommit_max == 0;
    if (!plain && strcmp(type, "vdisk") != 0) {
        vv_virsh_error("--zeroing and --overcommit apply to vdisk pools only");
        return -1;
    }
    if (!plain) {
        vdisk_error err = { 0 };
        if (vdisk_pool_def_format(def, xml, &err) < 0) {
            vv_virsh_report(&err);
            return -1;
        }
        return 0;
    }
    size_t size;
    FILE *f = open_memstream(xml, &size);
    if (!f) {
        vv_virsh_error("out of memory");
        return -1;
    }
    fprintf(f, "<pool type='%s'>\n  <name>", type);
    put_escaped(f, def->name);
    fputs("</name>\n  <target>\n    <path>", f);
    put_escaped(f, def->target_path);
    fputs("</path>\n  </target>\n</pool>\n", f);
    return fclose(f) == 0 ? 0 : -1;
}

/* pool-define-as: define a pool from arguments. */
int
vr_pool_define_as(const char *uri, int argc, char **argv)
{
    vv_arg args[] = {
        VV_REQ("name"), VV_REQ("type"),
        VV_POS("source-host"), VV_POS("source-path"), VV_POS("source-dev"), VV_POS("source-name"),
        VV_POS("target"),
        VV_VAL("source-format"), VV_FLAG("print-xml"), VV_VAL("zeroing"), VV_VAL("overcommit"),
    };
    vr_ctx c;
    int r = vr_begin(uri, argc, argv, args, N(args), &c);
    if (r != VV_GO)
        return r;
    vdisk_pool_def def;
    char *xml = NULL;
    memset(&def, 0, sizeof(def));
    r = 1;
    if (vv_pool_def_from_args(args, N(args), &def) < 0 || pool_xml(args, N(args), &def, &xml) < 0)
        goto out;
    if (vv_arg_get(args, N(args), "print-xml")->set) {
        fputs(xml, stdout);
        r = 0;
        goto out;
    }
    virStoragePoolPtr pool = virStoragePoolDefineXML(c.conn, xml, 0);
    if (!pool) {
        vv_virsh_error("Failed to define pool %s", def.name);
        vr_report();
    } else {
        printf("Pool %s defined\n", def.name);
        virStoragePoolFree(pool);
        r = 0;
    }
out:
    free(xml);
    vdisk_pool_def_clear(&def);
    vr_end(&c);
    return r;
}

typedef int (*vr_pool_op)(virStoragePoolPtr pool, vv_arg *args, size_t n, const void *data);

/* Look the pool up, run op (with data), print "Pool NAME <done>" or
 * virsh's failure line ("<fail_pre>NAME<fail_post>") and libvirt's cause. */
static int
run_pool_op(const char *uri, int argc, char **argv, vv_arg *args, size_t n, vr_pool_op op,
            const void *data, const char *fail_pre, const char *fail_post, const char *done)
{
    vr_ctx c;
    int r = vr_begin_pool(uri, argc, argv, args, n, &c);
    if (r != VV_GO)
        return r;
    const char *name = vv_arg_get(args, n, "pool")->value;
    r = 1;
    if (op(c.pool, args, n, data) < 0) {
        vv_virsh_error("%s%s%s", fail_pre, name, fail_post);
        vr_report();
    } else {
        printf("Pool %s %s\n", name, done);
        r = 0;
    }
    vr_end(&c);
    return r;
}

/* pool-build: the daemon creates the pool's directory. */
static int
op_build(virStoragePoolPtr pool, vv_arg *args, size_t n, const void *data)
{
    unsigned flags = 0;
    if (vv_arg_get(args, n, "overwrite")->set)
        flags |= VIR_STORAGE_POOL_BUILD_OVERWRITE;
    if (vv_arg_get(args, n, "no-overwrite")->set)
        flags |= VIR_STORAGE_POOL_BUILD_NO_OVERWRITE;
    return virStoragePoolBuild(pool, flags);
}

int
vr_pool_build(const char *uri, int argc, char **argv)
{
    vv_arg args[] = { VV_REQ("pool"), VV_FLAG("overwrite"), VV_FLAG("no-overwrite") };
    return run_pool_op(uri, argc, argv, args, N(args), op_build, NULL, "Failed to build pool ", "", "built");
}

/* pool-start [--build]: as virsh, --overwrite and --no-overwrite imply --build. */
static int
op_start(virStoragePoolPtr pool, vv_arg *args, size_t n, const void *data)
{
    unsigned flags = 0;
    if (vv_arg_get(args, n, "build")->set)
        flags |= VIR_STORAGE_POOL_CREATE_WITH_BUILD;
    if (vv_arg_get(args, n, "overwrite")->set)
        flags |= VIR_STORAGE_POOL_CREATE_WITH_BUILD_OVERWRITE;
    if (vv_arg_get(args, n, "no-overwrite")->set)
        flags |= VIR_STORAGE_POOL_CREATE_WITH_BUILD_NO_OVERWRITE;
    return virStoragePoolCreate(pool, flags);
}

int
vr_pool_start(const char *uri, int argc, char **argv)
{
    vv_arg args[] = { VV_REQ("pool"), VV_FLAG("build"), VV_FLAG("overwrite"), VV_FLAG("no-overwrite") };
    return run_pool_op(uri, argc, argv, args, N(args), op_start, NULL, "Failed to start pool ", "", "started");
}

/* pool-destroy, pool-delete, pool-undefine, pool-refresh: one call on
 * the pool, no option. */
typedef struct simple_op {
    int (*call)(virStoragePoolPtr pool);
    const char *fail, *done;
} simple_op;

/* Wrappers rather than libvirt's functions in the table below: those
 * are only known once libvirt is loaded (libvirt-load.h). */
static int
pool_destroy(virStoragePoolPtr pool)
{
    return virStoragePoolDestroy(pool);
}

static int
pool_undefine(virStoragePoolPtr pool)
{
    return virStoragePoolUndefine(pool);
}

static int
pool_delete(virStoragePoolPtr pool)
{
    return virStoragePoolDelete(pool, 0);
}

static int
pool_refresh(virStoragePoolPtr pool)
{
    return virStoragePoolRefresh(pool, 0);
}

static const simple_op destroy_op = { pool_destroy, "Failed to destroy pool ", "destroyed" };
static const simple_op delete_op = { pool_delete, "Failed to delete pool ", "deleted" };
static const simple_op undefine_op = { pool_undefine, "Failed to undefine pool ", "has been undefined" };
static const simple_op refresh_op = { pool_refresh, "Failed to refresh pool ", "refreshed" };

static int
op_simple(virStoragePoolPtr pool, vv_arg *args, size_t n, const void *data)
{
    return ((const simple_op *)data)->call(pool);
}

static int
run_simple(const char *uri, int argc, char **argv, const simple_op *s)
{
    vv_arg args[] = { VV_REQ("pool") };
    return run_pool_op(uri, argc, argv, args, N(args), op_simple, s, s->fail, "", s->done);
}

/* pool-destroy: the daemon deactivates the pool. */
int vr_pool_destroy(const char *uri, int argc, char **argv) { return run_simple(uri, argc, argv, &destroy_op); }
/* pool-delete: the daemon removes the inactive pool's directory. */
int vr_pool_delete(const char *uri, int argc, char **argv) { return run_simple(uri, argc, argv, &delete_op); }
/* pool-undefine: the daemon forgets the pool's definition. */
int vr_pool_undefine(const char *uri, int argc, char **argv) { return run_simple(uri, argc, argv, &undefine_op); }
/* pool-refresh: the daemon probes the pool's volumes again. */
int vr_pool_refresh(const char *uri, int argc, char **argv) { return run_simple(uri, argc, argv, &refresh_op); }

/* pool-autostart [--disable]. */
static int
op_autostart(virStoragePoolPtr pool, vv_arg *args, size_t n, const void *data)
{
    return virStoragePoolSetAutostart(pool, !vv_arg_get(args, n, "disable")->set);
}

int
vr_pool_autostart(const char *uri, int argc, char **argv)
{
    vv_arg args[] = { VV_REQ("pool"), VV_FLAG("disable") };
    bool disable = false;
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--disable") == 0)
            disable = true;
    return run_pool_op(uri, argc, argv, args, N(args), op_autostart, NULL,
                       disable ? "failed to unmark pool " : "failed to mark pool ", " as autostarted",
                       disable ? "unmarked as autostarted" : "marked as autostarted");
}

/* pool-dumpxml [--inactive]: the daemon's XML, as virsh prints it. */
int
vr_pool_dumpxml(const char *uri, int argc, char **argv)
{
    vv_arg args[] = { VV_REQ("pool"), VV_FLAG("inactive") };
    vr_ctx c;
    int r = vr_begin_pool(uri, argc, argv, args, N(args), &c);
    if (r != VV_GO)
        return r;
    char *xml = virStoragePoolGetXMLDesc(c.pool, args[1].set ? VIR_STORAGE_XML_INACTIVE : 0);
    r = xml ? 0 : 1;
    if (xml)
        fputs(xml, stdout);
    else
        vr_report();
    free(xml);
    vr_end(&c);
    return r;
}
