/* vdisk-virsh -c URI — pool definition through the daemon: pool-define,
 * pool-define-as.  Same grammar and messages as the embedded commands
 * (cmd-pool-define.c), which are virsh's.
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
