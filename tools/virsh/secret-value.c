/* vdisk-virsh secret-set-value, on any store: a secret's value from a
 * file, never from the command line (argv is visible to every user of
 * the host).
 *
 *   secret-set-value <secret> --file FILE [--plain]
 *
 * As virsh, the file holds the value in base64 unless --plain is given.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base64.h"
#include "commands.h"
#include "virsh-args.h"
#include "store-open.h"

static int
secret_value_read(vv_arg *args, size_t n, char **value, size_t *len, size_t *alloc)
{
    vv_arg *b64 = vv_arg_get(args, n, "base64"), *file = vv_arg_get(args, n, "file");
    if (b64->set) {
        vv_virsh_error("Passing secret value as command-line argument is insecure! It is refused: "
                       "put the value in a file readable only by you and use --file");
        return -1;
    }
    if (!file->set) {
        vv_virsh_error("command 'secret-set-value' requires --file (%s)",
                       vv_arg_get(args, n, "interactive")->set ? "--interactive is not supported"
                                                               : "no value given");
        return -1;
    }
    char *data;
    size_t size;
    if (vv_read_file(file->value, &data, &size) < 0)
        return -1;
    long vlen = vv_arg_get(args, n, "plain")->set ? (long)size : vv_base64_decode(data, size);
    if (vlen < 0) {
        vv_virsh_error("file '%s' does not hold base64 (give --plain for a raw value)", file->value);
        explicit_bzero(data, size);
        free(data);
        return -1;
    }
    *value = data;
    *len = (size_t)vlen;
    *alloc = size;
    return 0;
}

/* secret-set-value: set a secret's value from a file. */
int
cmd_secret_set_value(const char *uri, int argc, char **argv)
{
    vv_arg args[] = {
        VV_REQ("secret"),
        VV_POS("base64"),
        VV_VAL("file"), VV_FLAG("plain"), VV_FLAG("interactive"),
    };
    vv_store_ctx c;
    int r = vv_store_begin(uri, argc, argv, args, VV_N(args), &c);
    if (r != VV_GO)
        return r;
    char *data = NULL;
    size_t vlen, len = 0;
    r = 1;
    if (secret_value_read(args, VV_N(args), &data, &vlen, &len) == 0 &&
        vv_store_lookup_secret(&c, vv_arg_get(args, VV_N(args), "secret")->value) == 0) {
        vdisk_error err = { 0 };
        if (c.store->ops->secret_set_value(c.secret, data, vlen, &err) < 0) {
            vv_virsh_error("Failed to set secret value");
            vv_store_report(&err);
        } else {
            printf("Secret value set\n");
            r = 0;
        }
    }
    if (data) {
        explicit_bzero(data, len);
        free(data);
    }
    vv_store_end(&c);
    return r;
}
