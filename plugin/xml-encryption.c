/* vdisk plugin — a volume's <encryption>: LUKS (with its secret, cipher and
 * ivgen) and QEMU's legacy qcow AES, in libvirt's grammar. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "xml-internal.h"

/* format='...' and engine='...' of <encryption>. */
static int
parse_format(const vdisk_xml_doc *d, const xmlNode *node, vdisk_vol_encryption_def *enc,
             vdisk_error *err)
{
    char *format = NULL, *engine = NULL;
    int r = vdisk_xml_attr(d, node, "format", &format, err);

    if (r == 0)
        r = vdisk_xml_attr(d, node, "engine", &engine, err);
    if (r < 0)
        goto out;
    if (!format)
        r = vdisk_xml_error(err, d, node, EINVAL, "missing the format attribute (luks or qcow)");
    else if (!strcmp(format, "luks"))
        enc->format = VDISK_VOL_ENCRYPTION_LUKS;
    else if (!strcmp(format, "qcow") || !strcmp(format, "default"))
        enc->format = VDISK_VOL_ENCRYPTION_QCOW;
    else if (!strcmp(format, "luks2"))
        r = vdisk_xml_error(err, d, node, ENOTSUP,
                            "encryption format 'luks2' is not supported (luks or qcow)");
    else
        r = vdisk_xml_error(err, d, node, EINVAL, "unknown encryption format '%.32s'", format);
    if (r == 0 && engine && strcmp(engine, "qemu") != 0)
        r = vdisk_xml_error(err, d, node, ENOTSUP,
                            "encryption engine '%.32s' is not supported (qemu)", engine);
out:
    free(format);
    free(engine);
    return r;
}

/* <secret type='passphrase' uuid='...'/> or usage='...'. */
static int
parse_secret(const vdisk_xml_doc *d, const xmlNode *node, vdisk_vol_encryption_def *enc,
             vdisk_error *err)
{
    char *type = NULL, *uuid = NULL;
    int r = vdisk_xml_attr(d, node, "type", &type, err);

    if (r == 0)
        r = vdisk_xml_attr(d, node, "uuid", &uuid, err);
    if (r == 0)
        r = vdisk_xml_attr(d, node, "usage", &enc->secret_usage, err);
    if (r < 0)
        goto out;
    if (!type || strcmp(type, "passphrase") != 0)
        r = vdisk_xml_error(err, d, node, EINVAL, "the secret type must be 'passphrase'");
    else if (!uuid == !enc->secret_usage)
        r = vdisk_xml_error(err, d, node, EINVAL, "a secret is named by uuid or by usage "
                            "(one of the two)");
    else if (uuid && vdisk_uuid_parse(uuid, enc->secret_uuid) < 0)
        r = vdisk_xml_error(err, d, node, EINVAL, "malformed uuid");
    else
        enc->has_secret_uuid = uuid != NULL;
out:
    free(type);
    free(uuid);
    return r;
}

/* <cipher name='aes' size='256' mode='xts' hash='sha256'/> */
static int
parse_cipher(const vdisk_xml_doc *d, const xmlNode *node, vdisk_vol_encryption_def *enc,
             vdisk_error *err)
{
    char *size = NULL, *end;
    unsigned long v;
    int r = vdisk_xml_attr(d, node, "name", &enc->cipher_name, err);

    if (r == 0)
        r = vdisk_xml_attr(d, node, "size", &size, err);
    if (r == 0)
        r = vdisk_xml_attr(d, node, "mode", &enc->cipher_mode, err);
    if (r == 0)
        r = vdisk_xml_attr(d, node, "hash", &enc->cipher_hash, err);
    if (r < 0)
        goto out;
    if (!enc->cipher_name) {
        r = vdisk_xml_error(err, d, node, EINVAL, "missing the name attribute");
        goto out;
    }
    errno = 0;
    v = size ? strtoul(size, &end, 10) : 0;
    if (!size || !*size || *end || size[0] == '-' || errno || v == 0 || v > 65536)
        r = vdisk_xml_error(err, d, node, EINVAL, "the size attribute must be a key size in bits");
    else
        enc->cipher_size = (unsigned)v;
out:
    free(size);
    return r;
}

/* <ivgen name='plain64' hash='sha256'/> */
static int
parse_ivgen(const vdisk_xml_doc *d, const xmlNode *node, vdisk_vol_encryption_def *enc,
            vdisk_error *err)
{
    int r = vdisk_xml_attr(d, node, "name", &enc->ivgen_name, err);

    if (r == 0)
        r = vdisk_xml_attr(d, node, "hash", &enc->ivgen_hash, err);
    if (r == 0 && !enc->ivgen_name)
        r = vdisk_xml_error(err, d, node, EINVAL, "missing the name attribute");
    if (r == 0 && !enc->cipher_name)
        r = vdisk_xml_error(err, d, node, EINVAL, "<ivgen> needs a <cipher>");
    return r;
}

int
vdisk_xml_encryption_parse(const vdisk_xml_doc *d, const xmlNode *node,
                           vdisk_vol_encryption_def *enc, vdisk_error *err)
{
    xmlNode *secret, *cipher, *ivgen;
    int r;

    memset(enc, 0, sizeof(*enc));
    if ((r = parse_format(d, node, enc, err)) < 0 ||
        (r = vdisk_xml_child(d, node, "secret", NULL, &secret, err)) < 0 ||
        (r = vdisk_xml_child(d, node, "cipher", NULL, &cipher, err)) < 0 ||
        (r = vdisk_xml_child(d, node, "ivgen", NULL, &ivgen, err)) < 0)
        goto fail;
    if (secret && (r = parse_secret(d, secret, enc, err)) < 0)
        goto fail;
    /* cipher and ivgen describe LUKS; libvirt ignores them for qcow */
    if (enc->format == VDISK_VOL_ENCRYPTION_LUKS) {
        if (cipher && (r = parse_cipher(d, cipher, enc, err)) < 0)
            goto fail;
        if (ivgen && (r = parse_ivgen(d, ivgen, enc, err)) < 0)
            goto fail;
    }
    return 0;

fail:
    vdisk_vol_encryption_def_clear(enc);
    return r;
}

void
vdisk_xml_encryption_format(vdisk_xml_buf *b, const vdisk_vol_encryption_def *enc)
{
    char uuid[VDISK_UUID_STRING_LEN];

    if (enc->format == VDISK_VOL_ENCRYPTION_NONE)
        return;
    vdisk_xml_buf_open(b, "<encryption format='%s'>",
                       enc->format == VDISK_VOL_ENCRYPTION_LUKS ? "luks" : "qcow");
    if (enc->has_secret_uuid) {
        vdisk_uuid_format(enc->secret_uuid, uuid);
        vdisk_xml_buf_line(b, "<secret type='passphrase' uuid='%s'/>", uuid);
    } else if (enc->secret_usage) {
        vdisk_xml_buf_indent(b);
        vdisk_xml_buf_add(b, "<secret type='passphrase'");
        vdisk_xml_buf_attr(b, "usage", enc->secret_usage);
        vdisk_xml_buf_add(b, "/>\n");
    }
    if (enc->format == VDISK_VOL_ENCRYPTION_LUKS && enc->cipher_name) {
        vdisk_xml_buf_indent(b);
        vdisk_xml_buf_add(b, "<cipher");
        vdisk_xml_buf_attr(b, "name", enc->cipher_name);
        vdisk_xml_buf_add(b, " size='%u'", enc->cipher_size);
        vdisk_xml_buf_attr(b, "mode", enc->cipher_mode);
        vdisk_xml_buf_attr(b, "hash", enc->cipher_hash);
        vdisk_xml_buf_add(b, "/>\n");
        if (enc->ivgen_name) {
            vdisk_xml_buf_indent(b);
            vdisk_xml_buf_add(b, "<ivgen");
            vdisk_xml_buf_attr(b, "name", enc->ivgen_name);
            vdisk_xml_buf_attr(b, "hash", enc->ivgen_hash);
            vdisk_xml_buf_add(b, "/>\n");
        }
    }
    vdisk_xml_buf_close(b, "</encryption>");
}
