/* vdisk-virsh — encryption options in `create`'s "Formatting" line and in
 * "-o help", with qemu-img's names and order. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "createopts.h"

void
vv_encrypt_opts_print(const vdisk_encrypt_opts *e, const char *prefix, FILE *out)
{
    if (e->format == VDISK_ENCRYPT_NONE)
        return;
    if (prefix[0])
        fprintf(out, " %sformat=%s", prefix, vdisk_encrypt_format_name(e->format));
    const struct { const char *key, *value; } fields[] = {
        { "key-secret", e->key_secret }, { "cipher-alg", e->cipher_alg },
        { "cipher-mode", e->cipher_mode }, { "ivgen-alg", e->ivgen_alg },
        { "ivgen-hash-alg", e->ivgen_hash_alg }, { "hash-alg", e->hash_alg },
    };
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
        if (fields[i].value[0])
            fprintf(out, " %s%s=%s", prefix, fields[i].key, fields[i].value);
    if (e->iter_time)
        fprintf(out, " %siter-time=%" PRIu64, prefix, e->iter_time);
}

void
vv_encrypt_opts_help(vdisk_format fmt, FILE *out)
{
    static const struct { const char *key, *kind, *help; } opts[] = {
        { "cipher-alg", "str", "Name of encryption cipher algorithm" },
        { "cipher-mode", "str", "Name of encryption cipher mode" },
        { "hash-alg", "str", "Name of encryption hash algorithm" },
        { "iter-time", "num", "Time to spend in PBKDF in milliseconds" },
        { "ivgen-alg", "str", "Name of IV generator algorithm" },
        { "ivgen-hash-alg", "str", "Name of IV generator hash algorithm" },
        { "key-secret", "str", NULL },   /* wording differs per format, as in qemu-img */
    };
    if (fmt != VDISK_FORMAT_QCOW2 && fmt != VDISK_FORMAT_LUKS)
        return;
    const char *prefix = fmt == VDISK_FORMAT_QCOW2 ? "encrypt." : "";
    char lhs[64];
    if (fmt == VDISK_FORMAT_QCOW2)
        fprintf(out, "  %-22s - %s\n", "encrypt.format=<str>", "Encrypt the image, format choices: 'luks'");
    for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++) {
        snprintf(lhs, sizeof(lhs), "%s%s=<%s>", prefix, opts[i].key, opts[i].kind);
        fprintf(out, "  %-22s - %s\n", lhs, opts[i].help ? opts[i].help
                : fmt == VDISK_FORMAT_QCOW2 ? "ID of secret providing qcow2 AES key or LUKS passphrase"
                                            : "ID of the secret that provides the keyslot passphrase");
    }
}
