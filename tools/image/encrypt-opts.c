/* vdisk-virsh — encryption options in `create`'s "Formatting" line, with
 * qemu-img's names and order; the policy on legacy AES encryption. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "createopts.h"
#include "options.h"

void
vv_encrypt_opts_print(const vdisk_encrypt_opts *e, const char *prefix, bool with_format,
                      FILE *out)
{
    if (e->format == VDISK_ENCRYPT_NONE)
        return;
    if (with_format)
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

int
vv_create_spec_check_legacy_aes(const vv_create_spec *s, const char *file)
{
    if (s->opts.encrypt.format != VDISK_ENCRYPT_AES || vv_as_qemu_img())
        return 0;
    vv_error("%s: legacy qcow AES encryption (encrypt.format=aes, encryption=on) is weak -- the "
             "passphrase is the key, the IVs are predictable -- and QEMU's system emulators refuse "
             "such images: vdisk-virsh does not create them; use encrypt.format=luks (run as "
             "qemu-img, for old scripts, vdisk-virsh creates them as qemu-img does)", file);
    return -ENOTSUP;
}
