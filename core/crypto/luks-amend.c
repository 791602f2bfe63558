/* libvdisk — LUKS1 key-slot changes, as `qemu-img amend` makes them
 * (QEMU's crypto/block-luks.c amend rules and messages):
 *
 *   state=active    new-secret into the slot `keyslot` or the first free
 *                   one; an active slot only with force.
 *   state=inactive  erase slot `keyslot` (checked against old-secret when
 *                   both are given), or every slot old-secret opens; never
 *                   the last active slot without force.
 *
 * Every refusal is decided before the first write.  Ordering for a crash:
 * adding writes and flushes the key material, then the header that marks
 * the slot active; erasing writes the header that marks the slot inactive
 * first, then overwrites the material with random bytes (40 passes).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <vdisk/keyslot.h>

#include "gnutls-load.h"
#include "luks.h"

/* QEMU's QCRYPTO_BLOCK_LUKS_ERASE_ITERATIONS. */
#define ERASE_PASSES 40

static bool
slot_active(const struct vdisk_luks_header *h, int i)
{
    return h->slots[i].active == VDISK_LUKS_SLOT_ACTIVE;
}

static int
count_active(const struct vdisk_luks_header *h)
{
    int n = 0;
    for (int i = 0; i < VDISK_LUKS_SLOTS; i++)
        n += slot_active(h, i);
    return n;
}

/* A hostile header may put an inactive slot (which the header checks let
 * pass) anywhere: refuse to write one outside the key material area. */
static int
check_slot_area(const struct vdisk_luks_header *h, int k, const struct vdisk_luks_dev *dev, vdisk_error *err)
{
    const struct vdisk_luks_slot *s = &h->slots[k];
    uint64_t start = (uint64_t)s->key_offset * 512;
    uint64_t end = start + vdisk_luks_slot_bytes(h->key_bytes, s->stripes);
    if (start >= VDISK_LUKS_HDR_LEN && end <= dev->area_len)
        return 0;
    return vdisk_error_set(err, EINVAL, "%s: LUKS key slot %d (0x%llx..0x%llx) lies outside the key "
                           "material area (0x%x..0x%llx): the header is corrupt", dev->name, k,
                           (unsigned long long)start, (unsigned long long)end, VDISK_LUKS_HDR_LEN,
                           (unsigned long long)dev->area_len);
}

/* The 592 header bytes of h at offset 0, made durable. */
static int
write_header(const struct vdisk_luks_header *h, const struct vdisk_luks_dev *dev, vdisk_error *err)
{
    uint8_t buf[VDISK_LUKS_HDR_LEN];
    vdisk_luks_header_build(h, buf);
    int r = dev->io(dev->opaque, buf, sizeof(buf), 0, true, err);
    if (r == 0)
        r = dev->flush(dev->opaque, err);
    if (r < 0)
        vdisk_error_prefix(err, "%s: cannot write the LUKS header", dev->name);
    return r;
}

/* Slot k disabled in the header (written first), then its key material
 * overwritten with random bytes, as QEMU's erase does. */
static int
erase_slot(struct vdisk_luks_header *h, int k, const struct vdisk_luks_dev *dev, vdisk_error *err)
{
    int r = check_slot_area(h, k, dev, err);
    if (r < 0)
        return r;
    struct vdisk_luks_header nh = *h;
    struct vdisk_luks_slot *s = &nh.slots[k];
    memset(s->salt, 0, sizeof(s->salt));
    s->iterations = 0;
    s->active = VDISK_LUKS_SLOT_INACTIVE;
    r = write_header(&nh, dev, err);
    if (r < 0)
        return r;
    *h = nh;
    size_t len = (size_t)h->key_bytes * s->stripes;
    uint8_t *junk = calloc(1, len);
    if (!junk)
        return vdisk_error_set(err, ENOMEM, "%s: out of memory erasing LUKS key slot %d", dev->name, k);
    for (int pass = 0; pass < ERASE_PASSES && r == 0; pass++) {
        /* Without random bytes, zeros still overwrite the material once. */
        if (vdisk_random(junk, len) < 0 && pass > 0)
            r = vdisk_error_set(err, EIO, "%s: no random bytes to erase LUKS key slot %d", dev->name, k);
        if (r == 0)
            r = dev->io(dev->opaque, junk, len, (uint64_t)s->key_offset * 512, true, err);
    }
    if (r == 0)
        r = dev->flush(dev->opaque, err);
    free(junk);
    if (r < 0)
        vdisk_error_prefix(err, "%s: Failed to erase keyslot %d", dev->name, k);
    return r;
}

/* state=active: new-secret into a free (or, with force, any) slot. */
static int
add_keyslot(struct vdisk_luks_header *h, const struct vdisk_luks_algs *a, const uint8_t *mk,
            const vdisk_keyslot_opts *o, const struct vdisk_luks_dev *dev, vdisk_error *err)
{
    const char *name = dev->name;
    if (!o->new_secret)
        return vdisk_error_set(err, EINVAL, "%s: 'new-secret' is required to activate a keyslot", name);
    if (o->old_secret)
        return vdisk_error_set(err, EINVAL, "%s: 'old-secret' must not be given when activating keyslots",
                               name);
    int k = -1;
    if (o->has_keyslot) {
        k = (int)o->keyslot;
        if (k < 0 || k >= VDISK_LUKS_SLOTS)
            return vdisk_error_set(err, EINVAL, "%s: Invalid keyslot %u specified, must be between 0 and %u",
                                   name, (unsigned)k, VDISK_LUKS_SLOTS - 1);
    } else {
        for (int i = VDISK_LUKS_SLOTS - 1; i >= 0; i--)
            k = slot_active(h, i) ? k : i;
        if (k < 0)
            return vdisk_error_set(err, ENOSPC, "%s: Can't add a keyslot - all keyslots are in use", name);
    }
    if (!o->force && slot_active(h, k))
        return vdisk_error_set(err, EBUSY, "%s: Refusing to overwrite active keyslot %d - please erase it "
                               "first", name, k);
    if (!mk)
        return vdisk_error_set(err, EACCES, "%s: the image was opened without its passphrase: the master "
                               "key needed to fill a keyslot is not known", name);
    int r = check_slot_area(h, k, dev, err);
    if (r < 0)
        return r;
    uint64_t ms = o->has_iter_time ? (o->iter_time ? o->iter_time : 1) : 2000;
    struct vdisk_luks_header nh = *h;
    r = vdisk_luks_store_key(a, &nh, k, o->new_secret, o->new_secret_len, mk, ms, dev->io, dev->opaque,
                                 name, err);
    if (r == 0)
        r = dev->flush(dev->opaque, err);
    if (r == 0)
        r = write_header(&nh, dev, err);
    if (r < 0) {
        vdisk_error_prefix(err, "%s: Failed to write to keyslot %d", name, k);
        return r;
    }
    *h = nh;
    return 0;
}

/* state=inactive with keyslot=K (and maybe old-secret, which K must hold). */
static int
erase_one(struct vdisk_luks_header *h, const struct vdisk_luks_algs *a, const vdisk_keyslot_opts *o,
          const struct vdisk_luks_dev *dev, uint8_t *tmp, vdisk_error *err)
{
    const char *name = dev->name;
    int k = (int)o->keyslot;
    if (k < 0 || k >= VDISK_LUKS_SLOTS)
        return vdisk_error_set(err, EINVAL, "%s: Invalid keyslot %d specified, must be between 0 and %d",
                               name, k, VDISK_LUKS_SLOTS - 1);
    if (o->old_secret) {
        bool match;
        int r = vdisk_luks_try_slot(h, a, k, o->old_secret, o->old_secret_len, dev->io, dev->opaque, tmp,
                                    &match, name, err);
        if (r < 0)
            return r;
        if (!match)
            return vdisk_error_set(err, EACCES, "%s: Given keyslot %d doesn't contain the given old "
                                   "password for erase operation", name, k);
    }
    if (!o->force && !slot_active(h, k))
        return vdisk_error_set(err, EINVAL, "%s: Given keyslot %d is already erased (inactive) ", name, k);
    if (!o->force && count_active(h) == 1)
        return vdisk_error_set(err, EPERM, "%s: Attempt to erase the only active keyslot %d which will "
                               "erase all the data in the image irreversibly - refusing operation", name, k);
    return erase_slot(h, k, dev, err);
}

/* state=inactive with old-secret only: every slot it opens. */
static int
erase_matching(struct vdisk_luks_header *h, const struct vdisk_luks_algs *a, const vdisk_keyslot_opts *o,
               const struct vdisk_luks_dev *dev, uint8_t *tmp, vdisk_error *err)
{
    bool hit[VDISK_LUKS_SLOTS];
    int n = 0;
    for (int i = 0; i < VDISK_LUKS_SLOTS; i++) {
        int r = vdisk_luks_try_slot(h, a, i, o->old_secret, o->old_secret_len, dev->io, dev->opaque, tmp,
                                    &hit[i], dev->name, err);
        if (r < 0)
            return r;
        n += hit[i];
    }
    if (n == 0)
        return vdisk_error_set(err, EACCES, "%s: No keyslots match given (old) password for erase operation",
                               dev->name);
    if (!o->force && n == count_active(h))
        return vdisk_error_set(err, EPERM, "%s: All the active keyslots match the (old) password that was "
                               "given and erasing them will erase all the data in the image irreversibly "
                               "- refusing operation", dev->name);
    int r = 0;
    for (int i = 0; i < VDISK_LUKS_SLOTS && r == 0; i++)
        if (hit[i])
            r = check_slot_area(h, i, dev, err);
    for (int i = 0; i < VDISK_LUKS_SLOTS && r == 0; i++)
        if (hit[i])
            r = erase_slot(h, i, dev, err);
    return r;
}

/* state=inactive: refusals of the other options, then by index or passphrase. */
static int
erase_keyslots(struct vdisk_luks_header *h, const struct vdisk_luks_algs *a, const vdisk_keyslot_opts *o,
               const struct vdisk_luks_dev *dev, vdisk_error *err)
{
    if (o->new_secret)
        return vdisk_error_set(err, EINVAL, "%s: 'new-secret' must not be given when erasing keyslots",
                               dev->name);
    if (o->has_iter_time)
        return vdisk_error_set(err, EINVAL, "%s: 'iter-time' must not be given when erasing keyslots",
                               dev->name);
    if (!o->has_keyslot && !o->old_secret)
        return vdisk_error_set(err, EINVAL, "%s: To erase keyslot(s), either explicit keyslot index or the "
                               "password currently contained in them must be given", dev->name);
    uint8_t *tmp = malloc(h->key_bytes);
    if (!tmp)
        return vdisk_error_set(err, ENOMEM, "%s: out of memory", dev->name);
    int r = o->has_keyslot ? erase_one(h, a, o, dev, tmp, err) : erase_matching(h, a, o, dev, tmp, err);
    vdisk_wipe_free(tmp, h->key_bytes);
    return r;
}

int
vdisk_luks_amend_keyslots(struct vdisk_luks_header *h, const struct vdisk_luks_algs *a, const uint8_t *mk,
                          const vdisk_keyslot_opts *o, const struct vdisk_luks_dev *dev, vdisk_error *err)
{
    if (vdisk_gnutls_load(dev->name, err) < 0)
        return -ENOTSUP;
    switch (o->state) {
    case VDISK_KEYSLOT_ACTIVE:
        return add_keyslot(h, a, mk, o, dev, err);
    case VDISK_KEYSLOT_INACTIVE:
        return erase_keyslots(h, a, o, dev, err);
    default:
        return vdisk_error_set(err, EINVAL, "%s: Parameter 'state' is missing", dev->name);
    }
}
