/* libFuzzer target: the LUKS1 header and key-slot parser.
 *
 * Each input is a LUKS container.  Its header is parsed and checked
 * (vdisk_luks_header_parse, with the input's length as the key material
 * area); when it parses and its PBKDF2 counts are small, the key slots are
 * tried with a fixed passphrase (key material read from the input, AF merge,
 * digest check).  A header that parses also has one key slot force-erased
 * (the index from the last input byte) in a copy of the input whose writes
 * trap when they leave the key material area: amending a hostile header must
 * never write outside it.  Then the input is opened as a raw LUKS image
 * through the public API, header only (VDISK_OPEN_NO_KEY), and described;
 * and, when its PBKDF2 counts are small, with the passphrase, read-write on
 * a copy: reads, block status, a write of part of a sector and of whole
 * ones, write-zeroes, discard and flush (the driver's data paths), a grow
 * and a shrink, and key slot changes as `amend` makes them: a second
 * passphrase added (1 ms of PBKDF2), then erased by its passphrase.
 * Errors are the expected outcome; crashes, leaks and undefined behaviour are
 * what the sanitizers report.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <vdisk/keyslot.h>
#include <vdisk/resize.h>
#include <vdisk/vdisk.h>

#include "crypto/luks.h"
#include "fuzz-keyslot.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Above this many PBKDF2 iterations, unlocking is skipped: a fuzzer would
 * otherwise spend its time in SHA rounds, not in the parser. */
#define MAX_ITERS 20000u

struct input {
    const uint8_t *data;
    size_t size;
};

/* Key material I/O from the input; bytes past its end read as zeros. */
static int
input_io(void *opaque, void *buf, size_t len, uint64_t off, bool write, vdisk_error *err)
{
    const struct input *in = opaque;
    if (write)
        return vdisk_error_set(err, 30 /* EROFS */, "read-only input");
    memset(buf, 0, len);
    if (off < in->size)
        memcpy(buf, in->data + off, in->size - off < len ? in->size - off : len);
    return 0;
}

static bool
cheap(const struct vdisk_luks_header *h)
{
    if (h->mk_iterations > MAX_ITERS)
        return false;
    for (int i = 0; i < VDISK_LUKS_SLOTS; i++)
        if (h->slots[i].active == VDISK_LUKS_SLOT_ACTIVE && h->slots[i].iterations > MAX_ITERS)
            return false;
    return true;
}

/* Parse the header and, when its PBKDF2 counts are small, unlock it;
 * true when they are (the public open may then unlock too). */
static bool
parse_and_unlock(const uint8_t *data, size_t size)
{
    struct vdisk_luks_header h;
    struct vdisk_luks_algs a;
    vdisk_error err;
    if (vdisk_luks_header_parse(data, size, size, &h, &a, "fuzz.luks", &err) < 0 || !cheap(&h))
        return false;
    struct input in = { data, size };
    uint8_t mk[64];
    int slot;
    static const char pass[] = "fuzz";
    (void)vdisk_luks_unlock(&h, &a, (const uint8_t *)pass, sizeof(pass) - 1, input_io, &in, mk, &slot,
                            "fuzz.luks", &err);
    return true;
}

/* A writable copy of the input; writes outside [0, area) are a bug. */
struct area {
    uint8_t *buf;
    uint64_t len;
};

static int
area_io(void *opaque, void *buf, size_t len, uint64_t off, bool write, vdisk_error *err)
{
    struct area *a = opaque;
    if (off > a->len || len > a->len - off) {
        if (write)
            __builtin_trap();
        return vdisk_error_set(err, 22 /* EINVAL */, "outside the area");
    }
    if (write)
        memcpy(a->buf + off, buf, len);
    else
        memcpy(buf, a->buf + off, len);
    return 0;
}

static int
area_flush(void *opaque, vdisk_error *err)
{
    (void)opaque;
    (void)err;
    return 0;
}

static void
erase_one_slot(const uint8_t *data, size_t size)
{
    struct vdisk_luks_header h;
    struct vdisk_luks_algs a;
    vdisk_error err;
    if (size < 1 || vdisk_luks_header_parse(data, size, size, &h, &a, "fuzz.luks", &err) < 0)
        return;
    uint64_t area_len = h.payload_offset ? (uint64_t)h.payload_offset * 512 : size;
    if (area_len > size)
        area_len = size;
    struct area ar = { malloc(size), area_len };
    if (!ar.buf)
        return;
    memcpy(ar.buf, data, size);
    struct vdisk_luks_dev dev = { .io = area_io, .flush = area_flush, .opaque = &ar, .name = "fuzz.luks",
                                  .area_len = area_len };
    vdisk_keyslot_opts o = { .state = VDISK_KEYSLOT_INACTIVE, .has_keyslot = true,
                             .keyslot = data[size - 1] & 7, .force = true };
    (void)vdisk_luks_amend_keyslots(&h, &a, NULL, &o, &dev, &err);
    free(ar.buf);
}

/* Data I/O through the unlocked driver: every call may fail on a hostile
 * image, none may crash. */
static void
exercise_data(vdisk_image *img)
{
    vdisk_error err;
    uint8_t buf[4096];
    uint64_t size = vdisk_get_size(img);
    if (size < sizeof(buf))
        return;
    (void)vdisk_pread(img, buf, sizeof(buf), 0, &err);
    (void)vdisk_pread(img, buf, 700, size - 700, &err);
    memset(buf, 0x5a, sizeof(buf));
    (void)vdisk_pwrite(img, buf, 300, 100, &err);             /* part of a sector */
    (void)vdisk_pwrite(img, buf, 1024, size - 1024, &err);    /* whole sectors */
    (void)vdisk_write_zeroes(img, 1000, 1000, 0, &err);
    (void)vdisk_discard(img, 512, 2048, &err);
    (void)vdisk_flush(img, &err);
    (void)vdisk_pread(img, buf, 2048, 0, &err);
    vdisk_extent ext;
    (void)vdisk_block_status(img, 0, size, &ext, &err);
    (void)vdisk_resize(img, size + 4096, false, VDISK_PREALLOC_FULL, NULL, NULL, &err);
    (void)vdisk_resize(img, size - 512, true, VDISK_PREALLOC_OFF, NULL, NULL, &err);
    fuzz_keyslot_add_erase(img);
}

/* Open a memfd copy of the input as a raw LUKS image: header only, or with
 * the target's passphrase read-write. */
static void
open_luks(const uint8_t *data, size_t size, bool with_key)
{
    int fd = memfd_create("fuzz-luks", MFD_CLOEXEC);
    if (fd < 0)
        return;
    if (write(fd, data, size) != (ssize_t)size) {
        close(fd);
        return;
    }
    char path[64];
    snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
    static const char pass[] = "fuzz";
    vdisk_open_opts opts = { .format = VDISK_FORMAT_LUKS, .flags = VDISK_OPEN_NO_KEY };
    if (with_key)
        opts = (vdisk_open_opts){ .format = VDISK_FORMAT_LUKS, .flags = VDISK_OPEN_RDWR,
                                  .secret = pass, .secret_len = sizeof(pass) - 1 };
    vdisk_image *img = NULL;
    vdisk_error err;
    if (vdisk_open(path, &opts, &img, &err) == 0) {
        vdisk_info info;
        if (vdisk_get_info(img, &info, &err) == 0)
            vdisk_info_clear(&info);
        uint8_t buf[512];
        if (with_key)
            exercise_data(img);
        else if (vdisk_get_size(img) >= sizeof(buf))
            (void)vdisk_pread(img, buf, sizeof(buf), 0, &err);   /* refused: no key */
        vdisk_close(img, &err);
    }
    close(fd);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    bool small = parse_and_unlock(data, size);
    erase_one_slot(data, size);
    open_luks(data, size, false);
    if (small)
        open_luks(data, size, true);
    return 0;
}
