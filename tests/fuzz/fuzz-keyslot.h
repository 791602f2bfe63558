/* Shared by the targets of the encrypting drivers (fuzz-luks, fuzz-qcow2). */
#ifndef VDISK_FUZZ_KEYSLOT_H
#define VDISK_FUZZ_KEYSLOT_H

#include <vdisk/keyslot.h>
#include <vdisk/vdisk.h>

/* A second passphrase added (1 ms of PBKDF2) and erased again: the key
 * slot code of an encrypted image (LUKS, or LUKS in qcow2); others refuse. */
static inline void
fuzz_keyslot_add_erase(vdisk_image *img)
{
    static const char second[] = "second";
    vdisk_error err;
    vdisk_keyslot_opts add = { .state = VDISK_KEYSLOT_ACTIVE, .new_secret = second,
                               .new_secret_len = sizeof(second) - 1, .has_iter_time = true,
                               .iter_time = 1 };
    if (vdisk_amend_keyslots(img, &add, &err) == 0) {
        vdisk_keyslot_opts del = { .state = VDISK_KEYSLOT_INACTIVE, .old_secret = second,
                                   .old_secret_len = sizeof(second) - 1 };
        (void)vdisk_amend_keyslots(img, &del, &err);
    }
}

#endif
