/* Unit tests for core/iso9660/descriptor.c: volume descriptors. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "fixture.h"
#include "iso-fixture.h"

/* An image with PVD (16), boot record (17), Joliet SVD (18), terminator
 * (19), root directories at 20 (ISO) and 21 (Joliet). */
static void
write_set(const char *path, uint16_t block_size, bool terminator, uint32_t root_lba)
{
    uint8_t *img = calloc(1, 22 * ISO_SECTOR);
    uint8_t root[34], jroot[34];
    iso_dirrec_encode(root, root_lba, ISO_SECTOR, ISO_FLAG_DIR, 0, (const uint8_t *)"\0", 1, NULL, 0);
    iso_dirrec_encode(jroot, 21, ISO_SECTOR, ISO_FLAG_DIR, 0, (const uint8_t *)"\0", 1, NULL, 0);
    iso_vd_spec s = { .type = ISO_VD_PRIMARY, .volume_id = "MY_VOLUME", .system_id = "LINUX",
                      .application_id = "APP", .space_size = 22, .root_record = root, .date = 1700000000 };
    iso_descriptor_build(img + 16 * ISO_SECTOR, &s);
    iso_put_both16(img + 16 * ISO_SECTOR + 128, block_size);
    iso_boot_record_build(img + 17 * ISO_SECTOR, 77);
    s.type = ISO_VD_SUPPLEMENTARY;
    s.volume_id = "caf\xc3\xa9";
    s.root_record = jroot;
    iso_descriptor_build(img + 18 * ISO_SECTOR, &s);
    if (terminator)
        iso_terminator_build(img + 19 * ISO_SECTOR);
    unit_write_file(path, 22 * ISO_SECTOR, img, 22 * ISO_SECTOR, 0);
    free(img);
}

static int
read_set(const char *path, iso_descriptors *d, vdisk_error *err)
{
    vdisk_file *f;
    assert_int_equal(vdisk_file_open(path, 0, &f, err), 0);
    uint64_t len;
    vdisk_file_get_length(f, &len, NULL);
    int r = iso_descriptors_read(f, len, d, err);
    vdisk_file_close(f);
    return r;
}

static void
test_read_back(void **state)
{
    const char *p = unit_path(0, "set.iso");
    write_set(p, ISO_SECTOR, true, 20);
    iso_descriptors d;
    vdisk_error err;
    assert_int_equal(read_set(p, &d, &err), 0);
    assert_int_equal(d.space_size, 22);
    assert_int_equal(d.root_lba, 20);
    assert_int_equal(d.root_size, ISO_SECTOR);
    assert_true(d.joliet && d.vol.joliet);
    assert_int_equal(d.joliet_root_lba, 21);
    assert_true(d.boot_record);
    assert_int_equal(d.boot_catalog_lba, 77);
    /* The Joliet volume id is preferred (it can hold any character). */
    assert_string_equal(d.vol.volume_id, "caf\xc3\xa9");
    assert_string_equal(d.vol.system_id, "LINUX");
    assert_string_equal(d.vol.application_id, "APP");
    assert_int_equal(d.vol.creation_time, 1700000000);
    assert_int_equal(d.vol.volume_size, 22 * ISO_SECTOR);
    /* A set without its terminator is still read. */
    write_set(p, ISO_SECTOR, false, 20);
    assert_int_equal(read_set(p, &d, &err), 0);
}

static void
test_errors(void **state)
{
    const char *p = unit_path(0, "bad.iso");
    iso_descriptors d;
    vdisk_error err;
    unit_write_file(p, 64 * KiB, NULL, 0, 0);
    assert_int_equal(read_set(p, &d, &err), -EINVAL);
    assert_non_null(strstr(err.message, "bad.iso: not an ISO 9660 image"));
    unit_write_file(p, 8 * KiB, NULL, 0, 0);
    assert_int_equal(read_set(p, &d, &err), -EINVAL);
    assert_non_null(strstr(err.message, "too small"));
    write_set(p, 512, true, 20);
    assert_int_equal(read_set(p, &d, &err), -ENOTSUP);
    assert_non_null(strstr(err.message, "logical block size of 512"));
    /* A root directory past the end of the file. */
    write_set(p, ISO_SECTOR, true, 9999);
    assert_int_equal(read_set(p, &d, &err), -EINVAL);
    assert_non_null(strstr(err.message, "past the end"));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_read_back, unit_setup, unit_teardown),
        cmocka_unit_test_setup_teardown(test_errors, unit_setup, unit_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
