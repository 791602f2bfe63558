/* vdisk-virsh secret-define and secret-undefine, as virsh, on any store
 * (the embedded registry, or -c URI: the daemon's secret driver).
 *
 *   secret-define <file>
 *   secret-undefine <secret>
 */
#include <stdio.h>
#include <stdlib.h>

#include <vdisk/storage-def.h>

#include "commands.h"
#include "virsh-args.h"
#include "store-open.h"

/* secret-define: define (or redefine) a secret from XML. */
int
cmd_secret_define(const char *uri, int argc, char **argv)
{
    vv_arg args[] = { VV_REQ("file"), VV_FLAG("validate") };
    vv_store_ctx c;
    int r = vv_store_begin(uri, argc, argv, args, VV_N(args), &c);
    if (r != VV_GO)
        return r;
    const char *file = vv_arg_get(args, VV_N(args), "file")->value;
    char *xml;
    size_t len;
    r = 1;
    if (vv_read_file(file, &xml, &len) == 0) {
        unsigned char uuid[16];
        vdisk_store_define_step step;
        vdisk_error err = { 0 };
        if (c.store->ops->secret_define(c.store, xml, len, file, vv_arg_get(args, VV_N(args), "validate")->set,
                                        uuid, &step, &err) < 0) {
            if (step == VDISK_STORE_DEFINE_NAMED)
                vv_virsh_error("Failed to get UUID of created secret");
            else
                vv_virsh_error("Failed to set attributes from %s", file);
            vv_store_report(&err);
        } else {
            char u[VDISK_UUID_STRING_LEN];
            vdisk_uuid_format(uuid, u);
            printf("Secret %s created\n", u);
            r = 0;
        }
        free(xml);
    }
    vv_store_end(&c);
    return r;
}

/* secret-undefine: remove a secret and its value. */
int
cmd_secret_undefine(const char *uri, int argc, char **argv)
{
    vv_arg args[] = { VV_REQ("secret") };
    vv_store_ctx c;
    int r = vv_store_begin_secret(uri, argc, argv, args, VV_N(args), &c);
    if (r != VV_GO)
        return r;
    const char *name = vv_arg_get(args, VV_N(args), "secret")->value;
    vdisk_error err = { 0 };
    r = c.store->ops->secret_undefine(c.secret, &err) < 0;
    if (r) {
        vv_virsh_error("Failed to delete secret %s", name);
        vv_store_report(&err);
    } else {
        printf("Secret %s deleted\n", name);
    }
    vv_store_end(&c);
    return r;
}
