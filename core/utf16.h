/* libvdisk internals — UTF-16 text in image metadata (VHD parent names and
 * locators, VHDX parent locator keys and values, VHDX creator strings).
 */
#ifndef VDISK_UTF16_H
#define VDISK_UTF16_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Decode `len` bytes of UTF-16 (big or little endian) into a NUL-terminated
 * UTF-8 string (malloc'ed, *out; the caller frees).  Decoding stops at the
 * first NUL code unit.  Returns 0, -EINVAL for text that is not UTF-16
 * (an odd length, an unpaired surrogate) or -ENOMEM. */
int vdisk_utf16_to_utf8(const uint8_t *in, size_t len, bool big_endian, char **out);

/* Encode a NUL-terminated UTF-8 string as UTF-16 (no terminator) into
 * out[0..cap); *out_len is the number of bytes written.  Returns 0,
 * -EINVAL for invalid UTF-8, -ENOSPC when it does not fit. */
int vdisk_utf8_to_utf16(const char *in, bool big_endian, uint8_t *out, size_t cap, size_t *out_len);

#endif
