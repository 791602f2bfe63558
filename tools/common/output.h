/* vdisk-virsh — output writers: a small JSON emitter and qemu-img's human
 * formatting helpers.
 *
 * The emitter pretty-prints exactly as qemu-img does (4-space indent,
 * "key": value, one member per line) and escapes strings as QEMU's JSON
 * writer: ", \ and control characters, and every non-ASCII code point as
 * \u escapes of four hex digits (surrogate pairs beyond the BMP, U+FFFD for invalid UTF-8).
 */
#ifndef VV_OUTPUT_H
#define VV_OUTPUT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define VV_JSON_MAX_DEPTH 16

typedef struct vv_json {
    FILE *out;
    int depth;                          /* open containers */
    bool has_members[VV_JSON_MAX_DEPTH];
} vv_json;

void vv_json_init(vv_json *j, FILE *out);
/* Containers and values: key is the member name inside an object, NULL
 * inside an array or at the top level. */
void vv_json_object_begin(vv_json *j, const char *key);
void vv_json_object_end(vv_json *j);
void vv_json_array_begin(vv_json *j, const char *key);
void vv_json_array_end(vv_json *j);
void vv_json_string(vv_json *j, const char *key, const char *value);
void vv_json_uint(vv_json *j, const char *key, uint64_t value);
void vv_json_int(vv_json *j, const char *key, int64_t value);
void vv_json_bool(vv_json *j, const char *key, bool value);
/* A finite number ("%.6g"; NaN and infinities, which JSON lacks, as 0). */
void vv_json_double(vv_json *j, const char *key, double value);
/* End the document with a newline (after the top-level value). */
void vv_json_finish(vv_json *j);

/* Write s as a quoted JSON string. */
void vv_json_write_string(FILE *out, const char *s);

/* qemu-img's size_to_str: "196 KiB", "1 GiB", "0.977 MiB" (3 significant
 * digits, binary units). buf needs 32 bytes; returns buf. */
char *vv_size_to_str(uint64_t bytes, char *buf, size_t len);

#endif
