/* Shared fixture of the cmocka unit tests: a private temporary directory per
 * test, paths inside it, files with known content.  Include after cmocka.h. */
#ifndef VDISK_UNIT_FIXTURE_H
#define VDISK_UNIT_FIXTURE_H

#include <stddef.h>
#include <stdint.h>

#define KiB 1024u
#define MiB (1u << 20)

/* The current test's directory (set by unit_setup). */
extern char unit_tmpdir[512];

/* cmocka setup/teardown: make a fresh directory under VDISK_TEST_TMPDIR
 * (the environment variable, else the build's test dir, else /tmp), and
 * remove it with everything in it. */
int unit_setup(void **state);
int unit_teardown(void **state);

/* "<tmpdir>/<name>" in one of 4 static slots, so a call can hold several. */
const char *unit_path(int slot, const char *name);

/* Create path as a sparse file of `size` bytes holding `len` bytes of data
 * at off (len 0: no data). */
void unit_write_file(const char *path, uint64_t size, const void *data, size_t len, uint64_t off);

/* Deterministic bytes from seed, never zero (so zero detection cannot hide
 * them). */
void unit_pattern(uint8_t *buf, size_t len, uint32_t seed);

/* "<VDISK_TEST_TMPDIR>/<test program>-<pid>-<name>" into buf: a path that
 * needs no setup/teardown (the test removes what it creates). */
void unit_tmpname(char *buf, size_t len, const char *name);

struct vdisk_image;
/* Create a qcow2 image with -o style options (NULL or "" for defaults) and
 * open it with flags (VDISK_OPEN_*); fails the test on any error. */
struct vdisk_image *unit_make_qcow2(const char *path, const char *opts, uint64_t size,
                                    unsigned flags);

/* vdisk_check finds neither corruptions nor leaks in img; fails the test
 * otherwise. */
void unit_assert_clean(struct vdisk_image *img);

/* Deterministic bytes from seed (zeros included), for data round trips. */
void unit_fill(uint8_t *b, size_t n, unsigned seed);

#endif
