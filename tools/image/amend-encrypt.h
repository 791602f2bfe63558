/* vdisk-virsh amend — the LUKS key-slot options of `qemu-img amend`:
 *
 *   qcow2 (encrypt.format=luks): encrypt.state=active|inactive,
 *       encrypt.new-secret=ID, encrypt.old-secret=ID, encrypt.keyslot=N,
 *       encrypt.iter-time=MS
 *   luks: the same names without "encrypt."
 *
 * Secrets are named by id only: --object secret,id=ID,file=PATH.  Which
 * spelling is valid depends on the image's format, which is known only
 * once it is open (probed, as qemu-img does), so the keys are taken out of
 * the -o list first and checked and applied after the open.
 */
#ifndef VV_AMEND_ENCRYPT_H
#define VV_AMEND_ENCRYPT_H

#include <stdbool.h>

#include <vdisk/vdisk.h>

#include "secrets.h"

typedef struct vv_amend_encrypt {
    bool given;                  /* any key-slot option in -o */
    char *prefixed;              /* first "encrypt.*" key (qcow2's spelling) */
    char *bare;                  /* first bare key (luks's spelling) */
    char *create_only;           /* first creation-only encryption key */
    char *other;                 /* first key that is not about encryption */
    char *new_secret, *old_secret;   /* secret ids */
    vdisk_keyslot_opts o;        /* secrets filled in by apply */
} vv_amend_encrypt;

/* Move the encryption keys of the -o list into ke, leaving the others in
 * `list` (rewritten in place, comma separated).  0, or -1 with the error
 * printed (a bad value, an unknown encrypt.* key). */
int vv_amend_encrypt_extract(char *list, vv_amend_encrypt *ke);
/* Check the spelling against img's format, look up the secrets and change
 * the key slots.  0, or -1 with the error printed. */
int vv_amend_encrypt_apply(vdisk_image *img, vv_amend_encrypt *ke, const vv_secrets *secrets,
                           bool force);
void vv_amend_encrypt_clear(vv_amend_encrypt *ke);

#endif
