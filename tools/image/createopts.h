/* vdisk-virsh — image creation options as the user typed them.
 *
 * Wraps vdisk_create_opts: every -o key=value goes through the library's
 * vdisk_create_opts_set, and the spelling the user chose is kept so that
 * `create` can print qemu-img's "Formatting '...', fmt=... size=..." line.
 */
#ifndef VV_CREATEOPTS_H
#define VV_CREATEOPTS_H

#include <stdbool.h>
#include <stdio.h>

#include <vdisk/options.h>
#include <vdisk/vdisk.h>

enum vv_create_key {
    VV_KEY_SIZE,
    VV_KEY_PREALLOCATION,
    VV_KEY_NOCOW,
    VV_KEY_BACKING_FILE,
    VV_KEY_BACKING_FMT,
    VV_KEY_CLUSTER_SIZE,
    VV_KEY_COMPAT,
    VV_KEY_REFCOUNT_BITS,
    VV_KEY_LAZY_REFCOUNTS,
    VV_KEY_EXTENDED_L2,
    VV_KEY_COMPRESSION_TYPE,
    VV_KEY_ENCRYPTION,          /* qcow2's old encryption=on|off */
    VV_KEY_COUNT,
};

/* Most options of its own a format's table (vdisk/options.h) has (vmdk: 8). */
#define VV_FORMAT_KEYS_MAX 12

typedef struct vv_create_spec {
    vdisk_create_opts opts;
    char *shown[VV_KEY_COUNT];   /* value as typed; NULL when not given */
    char *format_shown[VV_FORMAT_KEYS_MAX];   /* the format's own options, by table index */
    char *late_error;            /* run as qemu-img: a bad compat= or preallocation= value,
                                  * reported after the "Formatting" line as qemu-img does */
} vv_create_spec;

void vv_create_spec_init(vv_create_spec *s, vdisk_format fmt);
void vv_create_spec_clear(vv_create_spec *s);

/* Apply one option.  Errors are printed as "<file>: <cause>" (file may be
 * NULL).  Returns 0 or a negative errno.  Run as qemu-img, a value compat=
 * or preallocation= does not take is kept as typed and its error, in
 * qemu-img's words, left in late_error (qemu-img reports it only once the
 * "Formatting" line is out). */
int vv_create_spec_set(vv_create_spec *s, const char *key, const char *value,
                       const char *file);
/* Apply a comma-separated list; ",," is a literal comma (qemu-img's escape). */
int vv_create_spec_parse(vv_create_spec *s, const char *list, const char *file);

/* Was the option given (by -o or its command-line equivalent)? */
static inline bool
vv_create_spec_has(const vv_create_spec *s, enum vv_create_key k)
{
    return s->shown[k] != NULL;
}

/* qemu-img's line: "Formatting 'f.qcow2', fmt=qcow2 cluster_size=65536 ...". */
void vv_create_spec_print(const vv_create_spec *s, const char *file, FILE *out);
/* The encryption options given, as qemu-img shows them after "fmt=" (qcow2,
 * prefix "encrypt.") or after size= (luks) (encrypt-opts.c); with_format:
 * also <prefix>format= (qcow2, unless given as encryption=on). */
void vv_encrypt_opts_print(const vdisk_encrypt_opts *e, const char *prefix, bool with_format,
                           FILE *out);
/* Legacy qcow AES encryption (encrypt.format=aes, encryption=on): the
 * passphrase is the key and the IV predictable, and QEMU's system
 * emulators refuse such images.  vdisk-virsh refuses to create it; run as
 * qemu-img it is created silently, as qemu-img 7.2 does (encrypt-opts.c).
 * 0, or -ENOTSUP with the refusal printed. */
int vv_create_spec_check_legacy_aes(const vv_create_spec *s, const char *file);
/* "-o help": the options the format accepts (the library's table).  0, or
 * -ENOMEM with the error printed. */
int vv_create_spec_help(vdisk_format fmt, FILE *out);

#endif
