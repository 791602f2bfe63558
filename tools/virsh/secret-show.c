/* vdisk-virsh secret-get-value and secret-dumpxml, as virsh, on any
 * store.
 *
 *   secret-get-value <secret> [--plain]
 *   secret-dumpxml <secret> [--xpath EXPRESSION] [--wrap]
 *
 * secret-get-value prints the value in base64 (--plain: its bytes as
 * they are); the copy in memory is wiped as soon as it is written.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "dump-xml.h"
#include "virsh-args.h"
#include "store-open.h"

static const char b64_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* value in base64 (RFC 4648, padded, on no line of its own), on stdout;
 * the encoding goes through a small buffer wiped after use. */
static void
print_base64(const unsigned char *value, size_t len)
{
    char out[4];
    for (size_t i = 0; i < len; i += 3) {
        unsigned v = (unsigned)value[i] << 16;
        if (i + 1 < len)
            v |= (unsigned)value[i + 1] << 8;
        if (i + 2 < len)
            v |= value[i + 2];
        out[0] = b64_alphabet[(v >> 18) & 63];
        out[1] = b64_alphabet[(v >> 12) & 63];
        out[2] = i + 1 < len ? b64_alphabet[(v >> 6) & 63] : '=';
        out[3] = i + 2 < len ? b64_alphabet[v & 63] : '=';
        fwrite(out, 1, 4, stdout);
    }
    explicit_bzero(out, sizeof(out));
}

/* secret-get-value: the secret's value, base64 unless --plain. */
int
cmd_secret_get_value(const char *uri, int argc, char **argv)
{
    vv_arg args[] = { VV_REQ("secret"), VV_FLAG("plain") };
    vv_store_ctx c;
    int r = vv_store_begin_secret(uri, argc, argv, args, VV_N(args), &c);
    if (r != VV_GO)
        return r;
    unsigned char *value = NULL;
    size_t len = 0;
    vdisk_error err = { 0 };
    r = c.store->ops->secret_get_value(c.secret, &value, &len, &err) < 0;
    if (r) {
        vv_store_report(&err);      /* virsh prints libvirt's error alone */
    } else if (vv_arg_get(args, VV_N(args), "plain")->set) {
        if (fwrite(value, 1, len, stdout) != len) {
            vv_virsh_error("failed to write secret");
            r = 1;
        }
    } else {
        print_base64(value, len);
    }
    if (value) {
        explicit_bzero(value, len);
        free(value);
    }
    vv_store_end(&c);
    return r;
}

/* secret-dumpxml: the secret's attributes (never its value) as XML. */
int
cmd_secret_dumpxml(const char *uri, int argc, char **argv)
{
    vv_arg args[] = { VV_REQ("secret"), VV_DUMP_XML_ARGS };
    vv_store_ctx c;
    int r = vv_store_begin_secret(uri, argc, argv, args, VV_N(args), &c);
    if (r != VV_GO)
        return r;
    char *xml = NULL;
    vdisk_error err = { 0 };
    r = c.store->ops->secret_xml(c.secret, &xml, &err) < 0;
    if (r)
        vv_store_report(&err);
    else
        r = vv_dump_xml(xml, "secret", vv_arg_get(args, VV_N(args), "xpath")->value,
                        vv_arg_get(args, VV_N(args), "wrap")->set);
    free(xml);
    vv_store_end(&c);
    return r;
}
