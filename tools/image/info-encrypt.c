/* vdisk-virsh info — the encryption block of `qemu-img info`: members in
 * the order qemu-img prints them (human and JSON). */
#include <inttypes.h>
#include <stdio.h>

#include "info-encrypt.h"

void
vv_info_encrypt_json(vv_json *j, const vdisk_encrypt_info *e, bool with_format)
{
    if (e->format == VDISK_ENCRYPT_AES) {
        vv_json_string(j, "format", "aes");
        return;
    }
    vv_json_string(j, "ivgen-alg", e->ivgen_alg);
    vv_json_string(j, "hash-alg", e->hash_alg);
    vv_json_string(j, "cipher-alg", e->cipher_alg);
    vv_json_string(j, "uuid", e->uuid);
    if (e->ivgen_hash_alg[0])
        vv_json_string(j, "ivgen-hash-alg", e->ivgen_hash_alg);
    if (with_format)
        vv_json_string(j, "format", "luks");
    vv_json_string(j, "cipher-mode", e->cipher_mode);
    vv_json_array_begin(j, "slots");
    for (unsigned i = 0; i < e->nslots; i++) {
        const vdisk_encrypt_slot *s = &e->slots[i];
        vv_json_object_begin(j, NULL);
        vv_json_bool(j, "active", s->active);
        if (s->active)
            vv_json_uint(j, "iters", s->iters);
        vv_json_uint(j, "key-offset", s->key_offset);
        if (s->active)
            vv_json_uint(j, "stripes", s->stripes);
        vv_json_object_end(j);
    }
    vv_json_array_end(j);
    vv_json_uint(j, "payload-offset", e->payload_offset);
    vv_json_uint(j, "master-key-iters", e->master_key_iters);
}

void
vv_info_encrypt_human(const vdisk_encrypt_info *e, int indent, bool with_format)
{
    const int w = indent;
    if (e->format == VDISK_ENCRYPT_AES) {
        printf("%*sformat: aes\n", w, "");
        return;
    }
    printf("%*sivgen alg: %s\n%*shash alg: %s\n%*scipher alg: %s\n%*suuid: %s\n", w, "", e->ivgen_alg,
           w, "", e->hash_alg, w, "", e->cipher_alg, w, "", e->uuid);
    if (e->ivgen_hash_alg[0])
        printf("%*sivgen hash alg: %s\n", w, "", e->ivgen_hash_alg);
    if (with_format)
        printf("%*sformat: luks\n", w, "");
    printf("%*scipher mode: %s\n%*sslots:\n", w, "", e->cipher_mode, w, "");
    for (unsigned i = 0; i < e->nslots; i++) {
        const vdisk_encrypt_slot *s = &e->slots[i];
        printf("%*s[%u]:\n%*sactive: %s\n", w + 4, "", i, w + 8, "", s->active ? "true" : "false");
        if (s->active)
            printf("%*siters: %" PRIu32 "\n", w + 8, "", s->iters);
        printf("%*skey offset: %" PRIu64 "\n", w + 8, "", s->key_offset);
        if (s->active)
            printf("%*sstripes: %" PRIu32 "\n", w + 8, "", s->stripes);
    }
    printf("%*spayload offset: %" PRIu64 "\n%*smaster key iters: %" PRIu32 "\n", w, "", e->payload_offset,
           w, "", e->master_key_iters);
}
