/* Unit tests for core/crypto/luks-amend.c: key-slot add and erase on a
 * LUKS1 header formatted into memory.  The device records every write and
 * flush, so the crash ordering (material and flush before the header that
 * activates a slot; the header that disables a slot before its material is
 * overwritten) and "a refusal writes nothing" are checked, and the result
 * is re-parsed from the bytes and unlocked. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <vdisk/keyslot.h>

#include "crypto/luks.h"

#include "luks-mem.h"

#define AREA LUKS_MEM_AREA

static const struct vdisk_luks_params params = {
    .algs = { .crypt = { .cipher = VDISK_CIPHER_AES_128, .mode = VDISK_CIPHER_MODE_XTS,
                         .ivgen = VDISK_IVGEN_PLAIN64 }, .hash = VDISK_HASH_SHA256 },
    .iter_time_ms = 1,
};

struct fx {
    struct luks_mem m;
    struct vdisk_luks_dev dev;
    struct vdisk_luks_header h;
    struct vdisk_luks_algs a;
    uint8_t mk[64];
};

/* A header with "pw0" in slot 0, parsed back from memory. */
static struct fx *
fx_new(void)
{
    struct fx *f = calloc(1, sizeof(*f));
    f->m.buf = calloc(1, AREA);
    f->dev = (struct vdisk_luks_dev){ .io = luks_mem_io, .flush = luks_mem_flush, .opaque = &f->m,
                                      .name = "m.luks", .area_len = AREA };
    assert_int_equal(vdisk_luks_format(&params, (const uint8_t *)"pw0", 3, luks_mem_io, &f->m, &f->h, f->mk,
                                       "m.luks", NULL), 0);
    assert_int_equal(vdisk_luks_header_parse(f->m.buf, VDISK_LUKS_HDR_LEN, AREA, &f->h, &f->a, "m.luks",
                                             NULL), 0);
    f->m.n = 0;
    return f;
}

static void
fx_free(struct fx *f)
{
    free(f->m.buf);
    free(f);
}

static vdisk_keyslot_opts
add_opts(const char *pw)
{
    return (vdisk_keyslot_opts){ .state = VDISK_KEYSLOT_ACTIVE, .new_secret = pw,
                                 .new_secret_len = strlen(pw), .has_iter_time = true, .iter_time = 1 };
}

/* Which slot does pw open in the bytes on "disk"?  -1: none. */
static int
opens(struct fx *f, const char *pw)
{
    struct vdisk_luks_header h;
    struct vdisk_luks_algs a;
    uint8_t mk[64];
    int slot = -1;
    assert_int_equal(vdisk_luks_header_parse(f->m.buf, VDISK_LUKS_HDR_LEN, AREA, &h, &a, "m", NULL), 0);
    if (vdisk_luks_unlock(&h, &a, (const uint8_t *)pw, strlen(pw), luks_mem_io, &f->m, mk, &slot, "m", NULL) < 0)
        return -1;
    assert_memory_equal(mk, f->mk, h.key_bytes);
    return slot;
}

static void
test_add_first_free_slot_in_order(void **state)
{
    struct fx *f = fx_new();
    vdisk_keyslot_opts o = add_opts("pw1");
    assert_int_equal(vdisk_luks_amend_keyslots(&f->h, &f->a, f->mk, &o, &f->dev, NULL), 0);
    /* material of slot 1, flush, header, flush */
    assert_int_equal(f->m.n, 4);
    assert_int_equal(f->m.log[0], (long long)f->h.slots[1].key_offset * 512);
    assert_int_equal(f->m.log[1], -1);
    assert_int_equal(f->m.log[2], 0);
    assert_int_equal(f->m.log[3], -1);
    assert_int_equal(f->h.slots[1].active, VDISK_LUKS_SLOT_ACTIVE);
    assert_true(f->h.slots[1].iterations >= VDISK_LUKS_MIN_ITERS);
    assert_int_equal(opens(f, "pw1"), 1);
    assert_int_equal(opens(f, "pw0"), 0);
    assert_int_equal(opens(f, "pw2"), -1);
    fx_free(f);
}

static void
test_add_refusals_write_nothing(void **state)
{
    struct fx *f = fx_new();
    vdisk_error err = { 0 };
    vdisk_keyslot_opts o = add_opts("pw1");
    o.has_keyslot = true;
    o.keyslot = 0;
    assert_int_equal(vdisk_luks_amend_keyslots(&f->h, &f->a, f->mk, &o, &f->dev, &err), -EBUSY);
    assert_string_equal(err.message, "m.luks: Refusing to overwrite active keyslot 0 - please erase it first");
    o.keyslot = -1;
    assert_int_equal(vdisk_luks_amend_keyslots(&f->h, &f->a, f->mk, &o, &f->dev, &err), -EINVAL);
    assert_string_equal(err.message, "m.luks: Invalid keyslot 4294967295 specified, must be between 0 and 7");
    o.keyslot = 8;
    assert_int_equal(vdisk_luks_amend_keyslots(&f->h, &f->a, f->mk, &o, &f->dev, &err), -EINVAL);
    o.keyslot = 2;
    o.old_secret = "pw0";
    o.old_secret_len = 3;
    assert_int_equal(vdisk_luks_amend_keyslots(&f->h, &f->a, f->mk, &o, &f->dev, &err), -EINVAL);
    assert_non_null(strstr(err.message, "'old-secret' must not be given when activating keyslots"));
    o = add_opts("pw1");
    o.new_secret = NULL;
    assert_int_equal(vdisk_luks_amend_keyslots(&f->h, &f->a, f->mk, &o, &f->dev, &err), -EINVAL);
    assert_non_null(strstr(err.message, "'new-secret' is required to activate a keyslot"));
    /* No master key (opened without the passphrase). */
    o = add_opts("pw1");
    assert_int_equal(vdisk_luks_amend_keyslots(&f->h, &f->a, NULL, &o, &f->dev, &err), -EACCES);
    o.state = 0;
    assert_int_equal(vdisk_luks_amend_keyslots(&f->h, &f->a, f->mk, &o, &f->dev, &err), -EINVAL);
    assert_non_null(strstr(err.message, "Parameter 'state' is missing"));
    assert_int_equal(f->m.n, 0);
    fx_free(f);
}

static void
test_all_slots_in_use_and_force(void **state)
{
    struct fx *f = fx_new();
    vdisk_error err = { 0 };
    vdisk_keyslot_opts o = add_opts("pwX");
    for (int i = 1; i < VDISK_LUKS_SLOTS; i++)
        assert_int_equal(vdisk_luks_amend_keyslots(&f->h, &f->a, f->mk, &o, &f->dev, NULL), 0);
    f->m.n = 0;
    assert_int_equal(vdisk_luks_amend_keyslots(&f->h, &f->a, f->mk, &o, &f->dev, &err), -ENOSPC);
    assert_non_null(strstr(err.message, "Can't add a keyslot - all keyslots are in use"));
    assert_int_equal(f->m.n, 0);
    /* force overwrites slot 0: pw0 is gone, pw1 opens it */
    o = add_opts("pw1");
    o.has_keyslot = true;
    o.keyslot = 0;
    o.force = true;
    assert_int_equal(vdisk_luks_amend_keyslots(&f->h, &f->a, f->mk, &o, &f->dev, NULL), 0);
    assert_int_equal(opens(f, "pw1"), 0);
    assert_int_equal(opens(f, "pw0"), -1);
    fx_free(f);
}

static void
test_erase_by_index_header_first(void **state)
{
    struct fx *f = fx_new();
    vdisk_keyslot_opts o = add_opts("pw1");
    assert_int_equal(vdisk_luks_amend_keyslots(&f->h, &f->a, f->mk, &o, &f->dev, NULL), 0);
    size_t mat = (size_t)f->h.key_bytes * VDISK_LUKS_STRIPES;
    uint64_t at = (uint64_t)f->h.slots[0].key_offset * 512;
    uint8_t *old = malloc(mat);
    memcpy(old, f->m.buf + at, mat);
    f->m.n = 0;
    o = (vdisk_keyslot_opts){ .state = VDISK_KEYSLOT_INACTIVE, .has_keyslot = true, .keyslot = 0 };
    assert_int_equal(vdisk_luks_amend_keyslots(&f->h, &f->a, f->mk, &o, &f->dev, NULL), 0);
    /* header, flush, 40 passes over the material, flush */
    assert_int_equal(f->m.n, 1 + 1 + 40 + 1);
    assert_int_equal(f->m.log[0], 0);
    assert_int_equal(f->m.log[1], -1);
    for (int i = 2; i < 42; i++)
        assert_int_equal(f->m.log[i], (long long)at);
    assert_int_equal(f->m.log[42], -1);
    assert_memory_not_equal(old, f->m.buf + at, mat);
    assert_int_equal(f->h.slots[0].active, VDISK_LUKS_SLOT_INACTIVE);
    assert_int_equal(f->h.slots[0].iterations, 0);
    assert_int_equal(opens(f, "pw0"), -1);
    assert_int_equal(opens(f, "pw1"), 1);
    free(old);
    fx_free(f);
}

static void
test_erase_refusals(void **state)
{
    struct fx *f = fx_new();
    vdisk_error err = { 0 };
    vdisk_keyslot_opts o = { .state = VDISK_KEYSLOT_INACTIVE, .has_keyslot = true, .keyslot = 0 };
    assert_int_equal(vdisk_luks_amend_keyslots(&f->h, &f->a, f->mk, &o, &f->dev, &err), -EPERM);
    assert_string_equal(err.message, "m.luks: Attempt to erase the only active keyslot 0 which will erase "
                        "all the data in the image irreversibly - refusing operation");
    o.keyslot = 3;
    assert_int_equal(vdisk_luks_amend_keyslots(&f->h, &f->a, f->mk, &o, &f->dev, &err), -EINVAL);
    assert_string_equal(err.message, "m.luks: Given keyslot 3 is already erased (inactive) ");
    o.keyslot = -2;
    assert_int_equal(vdisk_luks_amend_keyslots(&f->h, &f->a, f->mk, &o, &f->dev, &err), -EINVAL);
    assert_string_equal(err.message, "m.luks: Invalid keyslot -2 specified, must be between 0 and 7");
    o.keyslot = 0;
    o.old_secret = "nope";
    o.old_secret_len = 4;
    assert_int_equal(vdisk_luks_amend_keyslots(&f->h, &f->a, f->mk, &o, &f->dev, &err), -EACCES);
    assert_non_null(strstr(err.message, "Given keyslot 0 doesn't contain the given old password"));
    o.has_keyslot = false;
    assert_int_equal(vdisk_luks_amend_keyslots(&f->h, &f->a, f->mk, &o, &f->dev, &err), -EACCES);
    assert_non_null(strstr(err.message, "No keyslots match given (old) password for erase operation"));
    o.old_secret = "pw0";
    o.old_secret_len = 3;
    assert_int_equal(vdisk_luks_amend_keyslots(&f->h, &f->a, f->mk, &o, &f->dev, &err), -EPERM);
    assert_non_null(strstr(err.message, "All the active keyslots match the (old) password"));
    o.old_secret = NULL;
    assert_int_equal(vdisk_luks_amend_keyslots(&f->h, &f->a, f->mk, &o, &f->dev, &err), -EINVAL);
    assert_non_null(strstr(err.message, "either explicit keyslot index or the password"));
    o.has_iter_time = true;
    assert_int_equal(vdisk_luks_amend_keyslots(&f->h, &f->a, f->mk, &o, &f->dev, &err), -EINVAL);
    assert_non_null(strstr(err.message, "'iter-time' must not be given when erasing keyslots"));
    o.has_iter_time = false;
    o.new_secret = "x";
    assert_int_equal(vdisk_luks_amend_keyslots(&f->h, &f->a, f->mk, &o, &f->dev, &err), -EINVAL);
    assert_non_null(strstr(err.message, "'new-secret' must not be given when erasing keyslots"));
    assert_int_equal(f->m.n, 0);
    assert_int_equal(opens(f, "pw0"), 0);
    fx_free(f);
}

static void
test_erase_matching_old_secret(void **state)
{
    struct fx *f = fx_new();
    vdisk_keyslot_opts o = add_opts("pw0");
    assert_int_equal(vdisk_luks_amend_keyslots(&f->h, &f->a, f->mk, &o, &f->dev, NULL), 0);
    o = add_opts("pw1");
    assert_int_equal(vdisk_luks_amend_keyslots(&f->h, &f->a, f->mk, &o, &f->dev, NULL), 0);
    o = (vdisk_keyslot_opts){ .state = VDISK_KEYSLOT_INACTIVE, .old_secret = "pw0", .old_secret_len = 3 };
    assert_int_equal(vdisk_luks_amend_keyslots(&f->h, &f->a, f->mk, &o, &f->dev, NULL), 0);
    assert_int_equal(f->h.slots[0].active, VDISK_LUKS_SLOT_INACTIVE);
    assert_int_equal(f->h.slots[1].active, VDISK_LUKS_SLOT_INACTIVE);
    assert_int_equal(f->h.slots[2].active, VDISK_LUKS_SLOT_ACTIVE);
    assert_int_equal(opens(f, "pw0"), -1);
    assert_int_equal(opens(f, "pw1"), 2);
    /* the last one goes only with force */
    o.old_secret = "pw1";
    assert_int_equal(vdisk_luks_amend_keyslots(&f->h, &f->a, f->mk, &o, &f->dev, NULL), -EPERM);
    o.force = true;
    assert_int_equal(vdisk_luks_amend_keyslots(&f->h, &f->a, f->mk, &o, &f->dev, NULL), 0);
    assert_int_equal(opens(f, "pw1"), -1);
    fx_free(f);
}

static void
test_slot_outside_the_area_is_refused(void **state)
{
    struct fx *f = fx_new();
    vdisk_error err = { 0 };
    /* An inactive slot may point anywhere in a hostile header: nothing
     * may be written there, neither a new key nor erase passes. */
    f->h.slots[4].key_offset = AREA / 512;
    vdisk_keyslot_opts o = add_opts("pw1");
    o.has_keyslot = true;
    o.keyslot = 4;
    assert_int_equal(vdisk_luks_amend_keyslots(&f->h, &f->a, f->mk, &o, &f->dev, &err), -EINVAL);
    assert_non_null(strstr(err.message, "m.luks: LUKS key slot 4 (0x200000..0x220000) lies outside"));
    o = (vdisk_keyslot_opts){ .state = VDISK_KEYSLOT_INACTIVE, .has_keyslot = true, .keyslot = 4,
                              .force = true };
    assert_int_equal(vdisk_luks_amend_keyslots(&f->h, &f->a, f->mk, &o, &f->dev, &err), -EINVAL);
    f->dev.area_len = 4096;   /* slot 0 itself does not fit */
    o.keyslot = 0;
    assert_int_equal(vdisk_luks_amend_keyslots(&f->h, &f->a, f->mk, &o, &f->dev, &err), -EINVAL);
    assert_int_equal(f->m.n, 0);
    fx_free(f);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_add_first_free_slot_in_order),
        cmocka_unit_test(test_add_refusals_write_nothing),
        cmocka_unit_test(test_all_slots_in_use_and_force),
        cmocka_unit_test(test_erase_by_index_header_first),
        cmocka_unit_test(test_erase_refusals),
        cmocka_unit_test(test_erase_matching_old_secret),
        cmocka_unit_test(test_slot_outside_the_area_is_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
