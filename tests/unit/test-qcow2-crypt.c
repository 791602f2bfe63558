/* Unit tests for core/qcow2/crypt.c: LUKS-encrypted qcow2 (crypt_method 2
 * with the 0x0537be77 header extension) and legacy AES (crypt_method 1),
 * the latter checked against ciphertext made here with Nettle's AES-128-CBC
 * and plain64 IVs of the guest sector, as QEMU's format defines it. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <nettle/aes.h>
#include <nettle/cbc.h>

#include <vdisk/vdisk.h>

#include "fixture.h"

static const char pass[] = "qcow2 pass";

static void
make_encrypted(const char *path, uint64_t size)
{
    vdisk_create_opts o;
    vdisk_error err = { 0 };
    vdisk_create_opts_init(&o, VDISK_FORMAT_QCOW2);
    o.size = size;
    assert_int_equal(vdisk_create_opts_parse(&o, "encrypt.format=luks,encrypt.iter-time=10", &err), 0);
    o.encrypt.secret = pass;
    o.encrypt.secret_len = strlen(pass);
    if (vdisk_create(path, &o, NULL, NULL, &err) < 0)
        fail_msg("create: %s", err.message);
    vdisk_create_opts_clear(&o);
}

static int
open_q(const char *path, const char *pw, unsigned flags, vdisk_image **img, vdisk_error *err)
{
    vdisk_open_opts oo = { .format = VDISK_FORMAT_QCOW2, .flags = flags, .secret = pw,
                           .secret_len = pw ? strlen(pw) : 0 };
    return vdisk_open(path, &oo, img, err);
}

static uint32_t
be32_at(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static void
test_luks_header_and_data(void **state)
{
    const char *p = unit_path(0, "enc.qcow2");
    make_encrypted(p, 4 * MiB);
    uint8_t hdr[4096];
    int fd = open(p, O_RDONLY);
    assert_int_equal(pread(fd, hdr, sizeof(hdr), 0), (ssize_t)sizeof(hdr));
    assert_int_equal(be32_at(hdr + 32), 2);   /* crypt_method LUKS */
    bool found = false;
    for (size_t off = 112; off + 8 <= sizeof(hdr) && be32_at(hdr + off);) {
        uint32_t len = be32_at(hdr + off + 4);
        if (be32_at(hdr + off) == 0x0537be77) {
            assert_int_equal(len, 16);
            uint64_t where = ((uint64_t)be32_at(hdr + off + 8) << 32) | be32_at(hdr + off + 12);
            assert_int_equal(where % 65536, 0);
            uint8_t magic[6];
            assert_int_equal(pread(fd, magic, 6, (off_t)where), 6);
            assert_memory_equal(magic, "LUKS\xba\xbe", 6);
            found = true;
        }
        off += 8 + ((len + 7) & ~7u);
    }
    assert_true(found);

    vdisk_image *img;
    vdisk_error err = { 0 };
    assert_int_equal(open_q(p, pass, VDISK_OPEN_RDWR, &img, &err), 0);
    uint8_t d[70000], b[70000];
    unit_fill(d, sizeof(d), 3);
    assert_int_equal(vdisk_pwrite(img, d, sizeof(d), 65536 - 300, &err), 0);   /* unaligned, 3 clusters */
    assert_int_equal(vdisk_write_zeroes(img, 1000, 70000, 0, &err), 0);
    assert_int_equal(vdisk_pwrite_compressed(img, d, 65536, 2 * MiB, &err), -ENOTSUP);
    assert_int_equal(vdisk_close(img, &err), 0);
    memset(d + 70000 - (65536 - 300), 0, 1000);
    assert_int_equal(open_q(p, pass, 0, &img, &err), 0);
    assert_int_equal(vdisk_pread(img, b, sizeof(b), 65536 - 300, &err), 0);
    assert_memory_equal(d, b, sizeof(d));
    /* Unwritten clusters read as zeros. */
    assert_int_equal(vdisk_pread(img, b, 4096, 3 * MiB, &err), 0);
    uint8_t z[4096] = { 0 };
    assert_memory_equal(b, z, sizeof(z));
    vdisk_close(img, NULL);

    /* No plaintext in the file. */
    uint8_t *all = malloc(8 * MiB);
    ssize_t n = pread(fd, all, 8 * MiB, 0);
    unit_fill(d, sizeof(d), 3);
    assert_null(memmem(all, (size_t)n, d + 1000, 512));
    free(all);
    close(fd);
}

static void
test_passphrase_errors_and_header_only(void **state)
{
    const char *p = unit_path(0, "enc.qcow2");
    make_encrypted(p, MiB);
    vdisk_image *img;
    vdisk_error err = { 0 };
    assert_int_equal(open_q(p, NULL, 0, &img, &err), -EACCES);
    assert_non_null(strstr(err.message, "passphrase is required"));
    assert_non_null(strstr(err.message, "Parameter 'encrypt.key-secret' is required for cipher"));
    assert_int_equal(open_q(p, "nope", 0, &img, &err), -EACCES);
    assert_non_null(strstr(err.message, "Invalid password"));
    assert_int_equal(open_q(p, NULL, VDISK_OPEN_NO_KEY, &img, &err), 0);
    vdisk_info info;
    assert_int_equal(vdisk_get_info(img, &info, &err), 0);
    assert_true(info.encrypted);
    assert_int_equal(info.encrypt->format, VDISK_ENCRYPT_LUKS);
    assert_string_equal(info.encrypt->cipher_alg, "aes-256");
    vdisk_info_clear(&info);
    uint8_t b[512];
    assert_int_equal(vdisk_pread(img, b, 512, 0, &err), 0);   /* unallocated: zeros, no key needed */
    vdisk_close(img, NULL);
}

static void
test_preallocation_refused(void **state)
{
    const char *p = unit_path(0, "pre.qcow2");
    vdisk_create_opts o;
    vdisk_error err = { 0 };
    vdisk_create_opts_init(&o, VDISK_FORMAT_QCOW2);
    o.size = MiB;
    assert_int_equal(vdisk_create_opts_parse(&o, "encrypt.format=luks,preallocation=full", &err), 0);
    o.encrypt.secret = pass;
    o.encrypt.secret_len = strlen(pass);
    assert_int_equal(vdisk_create(p, &o, NULL, NULL, &err), -ENOTSUP);
    assert_int_equal(access(p, F_OK), -1);
}

/* Legacy AES: ciphertext by the format's definition, then crypt_method 1. */
static void
test_legacy_aes_reads(void **state)
{
    const char *p = unit_path(0, "aes.qcow2");
    vdisk_image *img = unit_make_qcow2(p, "cluster_size=4096", MiB, VDISK_OPEN_RDWR);
    vdisk_error err = { 0 };
    uint8_t plain[1024], ct[1024];
    unit_fill(plain, sizeof(plain), 9);
    uint8_t key[16] = "aespw";   /* the passphrase, zero padded to 16 bytes */
    struct aes128_ctx a;
    aes128_set_encrypt_key(&a, key);
    const uint64_t guest = 40960 + 512;   /* sector 81 of the guest */
    for (int s = 0; s < 2; s++) {
        uint8_t iv[16] = { (uint8_t)(guest / 512 + (uint64_t)s) };
        cbc_encrypt(&a, (nettle_cipher_func *)aes128_encrypt, 16, iv, 512, ct + 512 * s, plain + 512 * s);
    }
    /* A placeholder cluster first, so host and guest offsets differ. */
    assert_int_equal(vdisk_pwrite(img, ct, 512, 0, &err), 0);
    assert_int_equal(vdisk_pwrite(img, ct, sizeof(ct), guest, &err), 0);
    vdisk_close(img, NULL);
    int fd = open(p, O_RDWR);
    uint8_t one[4] = { 0, 0, 0, 1 };
    assert_int_equal(pwrite(fd, one, 4, 32), 4);
    close(fd);

    assert_int_equal(open_q(p, "aespw", 0, &img, &err), 0);
    uint8_t back[1024];
    assert_int_equal(vdisk_pread(img, back, sizeof(back), guest, &err), 0);
    assert_memory_equal(back, plain, sizeof(plain));
    assert_int_equal(vdisk_pread(img, back, 100, guest + 412, &err), 0);   /* unaligned */
    assert_memory_equal(back, plain + 412, 100);
    vdisk_info info;
    assert_int_equal(vdisk_get_info(img, &info, &err), 0);
    assert_int_equal(info.encrypt->format, VDISK_ENCRYPT_AES);
    vdisk_info_clear(&info);
    vdisk_close(img, NULL);
}

/* Legacy AES writes: the file must hold the ciphertext the format defines
 * (IV = guest sector), wherever the cluster landed; an unaligned write
 * merges with the plaintext around it. */
static void
test_legacy_aes_writes(void **state)
{
    const char *p = unit_path(0, "aesw.qcow2");
    vdisk_create_opts o;
    vdisk_create_opts_init(&o, VDISK_FORMAT_QCOW2);
    o.size = MiB;
    o.cluster_size = 4096;
    o.encrypt.format = VDISK_ENCRYPT_AES;
    o.encrypt.secret = "aespw";
    o.encrypt.secret_len = 5;
    vdisk_error err = { 0 };
    assert_int_equal(vdisk_create(p, &o, NULL, NULL, &err), 0);
    vdisk_image *img;
    assert_int_equal(open_q(p, "aespw", VDISK_OPEN_RDWR, &img, &err), 0);
    uint8_t plain[1024];
    unit_fill(plain, sizeof(plain), 5);
    const uint64_t guest = 3 * 4096 + 1024;   /* a cluster of its own, sectors 26 and 27 */
    assert_int_equal(vdisk_pwrite(img, plain, 512, 4096, &err), 0);   /* host != guest */
    assert_int_equal(vdisk_pwrite(img, plain, sizeof(plain), guest, &err), 0);
    assert_int_equal(vdisk_pwrite(img, "xyz", 3, guest + 600, &err), 0);   /* unaligned */
    vdisk_close(img, NULL);
    memcpy(plain + 600, "xyz", 3);

    uint8_t key[16] = "aespw", ct[1024];
    struct aes128_ctx a;
    aes128_set_encrypt_key(&a, key);
    for (int s = 0; s < 2; s++) {
        uint8_t iv[16] = { (uint8_t)(guest / 512 + (uint64_t)s) };
        cbc_encrypt(&a, (nettle_cipher_func *)aes128_encrypt, 16, iv, 512, ct + 512 * s, plain + 512 * s);
    }
    int fd = open(p, O_RDONLY);
    assert_true(fd >= 0);
    uint8_t file[256 * 1024];
    ssize_t n = read(fd, file, sizeof(file));
    close(fd);
    assert_true(n > 0);
    assert_non_null(memmem(file, (size_t)n, ct, sizeof(ct)));
    assert_int_equal(file[35], 1);   /* crypt_method 1 */
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_luks_header_and_data, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_passphrase_errors_and_header_only, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_preallocation_refused, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_legacy_aes_reads, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_legacy_aes_writes, unit_setup, unit_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
