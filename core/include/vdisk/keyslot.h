/* libvdisk — LUKS key slots of an existing image, as `qemu-img amend -o
 * encrypt.state=...` (qcow2 encrypt.format=luks) or `-o state=...` (raw
 * luks images): add a passphrase to a free slot, or erase slots.
 *
 * vdisk_amend_keyslots needs the handle to itself: no other call on it
 * meanwhile (image.h, "Thread safety").
 */
#ifndef VDISK_KEYSLOT_H
#define VDISK_KEYSLOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <vdisk/error.h>
#include <vdisk/image.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum vdisk_keyslot_state {
    VDISK_KEYSLOT_ACTIVE = 1,      /* add new_secret to a slot */
    VDISK_KEYSLOT_INACTIVE = 2,    /* erase slot `keyslot`, or those old_secret opens */
} vdisk_keyslot_state;

/* Passphrases by pointer and length (not owned, not NUL terminated); a
 * NULL pointer means "not given", as do the has_* flags. */
typedef struct vdisk_keyslot_opts {
    vdisk_keyslot_state state;
    bool has_keyslot;
    int64_t keyslot;               /* 0..7 */
    const void *new_secret;        /* active only */
    size_t new_secret_len;
    const void *old_secret;        /* inactive only */
    size_t old_secret_len;
    bool has_iter_time;            /* active only */
    uint64_t iter_time;            /* ms of PBKDF2 for the new slot (default 2000) */
    bool force;                    /* overwrite an active slot; erase the last one */
} vdisk_keyslot_opts;

/* Change the key slots of img, which must be open for writing with its
 * passphrase (the master key is taken from the open image).  Refusals
 * (QEMU's: an active slot without force, the last slot without force, a
 * passphrase no slot holds, a slot out of range) write nothing.  Adding
 * writes and flushes the key material before the header marks the slot
 * active; erasing marks it inactive first, then overwrites the material. */
int vdisk_amend_keyslots(vdisk_image *img, const vdisk_keyslot_opts *opts, vdisk_error *err);

#ifdef __cplusplus
}
#endif
#endif
