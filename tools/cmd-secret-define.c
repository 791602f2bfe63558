/* vdisk-virsh secret-define and secret-undefine: secrets of the embedded
 * registry, as virsh.
 *
 *   secret-define <file>
 *   secret-undefine <secret>
 */
#include <stdio.h>
#include <stdlib.h>

#include <vdisk/secret.h>
#include <vdisk/storage-def.h>

#include "commands.h"
#include "virsh-args.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* secret-define: define (or redefine) a secret from XML. */
int
cmd_secret_define(int argc, char **argv)
{
    vv_arg args[] = { VV_REQ("file"), VV_FLAG("validate") };
    int r = vv_virsh_parse(argc, argv, args, N(args));
    if (r)
        return r == VV_PARSE_HELP ? 0 : r;
    char *xml;
    size_t len;
    if (vv_read_file(args[0].value, &xml, &len) < 0)
        return 1;
    vdisk_registry *reg;
    r = 1;
    if (vv_open_registry(&reg) == 0) {
        unsigned char uuid[16];
        vdisk_error err = { 0 };
        if (vdisk_secret_define(reg, xml, len, args[0].value, uuid, &err) < 0) {
            vv_virsh_error("Failed to set attributes from %s", args[0].value);
            vv_virsh_report(&err);
        } else {
            char u[VDISK_UUID_STRING_LEN];
            vdisk_uuid_format(uuid, u);
            printf("Secret %s created\n", u);
            r = 0;
        }
        vdisk_registry_close(reg);
    }
    free(xml);
    return r;
}

/* Look up <secret> (a UUID or usage id); prints virsh's errors. */
int
vv_lookup_secret(vdisk_registry *reg, const char *name, unsigned char uuid[16])
{
    vdisk_secret_def def;
    vdisk_error err = { 0 };
    if (vdisk_secret_lookup(reg, name, &def, &err) < 0) {
        vv_virsh_error("failed to get secret '%s'", name);
        vv_virsh_report(&err);
        return -1;
    }
    for (int i = 0; i < 16; i++)
        uuid[i] = def.uuid[i];
    vdisk_secret_def_clear(&def);
    return 0;
}

/* secret-undefine: remove a secret and its value. */
int
cmd_secret_undefine(int argc, char **argv)
{
    vv_arg args[] = { VV_REQ("secret") };
    vv_ctx c;
    int r = vv_begin(argc, argv, args, N(args), &c);
    if (r != VV_GO)
        return r;
    vdisk_registry *reg = c.reg;
    unsigned char uuid[16];
    r = 1;
    if (vv_lookup_secret(reg, args[0].value, uuid) == 0) {
        vdisk_error err = { 0 };
        if (vdisk_secret_undefine(reg, uuid, &err) < 0) {
            vv_virsh_error("Failed to delete secret %s", args[0].value);
            vv_virsh_report(&err);
        } else {
            printf("Secret %s deleted\n", args[0].value);
            r = 0;
        }
    }
    vv_end(&c);
    return r;
}
