/* libvdisk internals — what the per-format option tables (vdisk/options.h)
 * share: the value parsers with create's wording and the setters of the
 * options every format has (option-values.c), and the help texts and
 * entries spelled once for the tables that repeat them.
 *
 * Adding a table to a format driver (see core/driver.h, .options): list
 * the entries in "-o help" order, starting from VDISK_OPTIONS_COMMON, with
 * a create setter for each option create takes and an amend setter for
 * each option amend takes; end with VDISK_OPTIONS_END.  An option that
 * create and amend both take but with different setters or help may have
 * two entries of the same name (lookups match the name and the operation).
 */
#ifndef VDISK_INTERNAL_OPTIONS_H
#define VDISK_INTERNAL_OPTIONS_H

#include <stdbool.h>
#include <stdint.h>

#include <vdisk/options.h>

/* Values as create reads them; errors name the key and the value. */
int vdisk_opt_parse_bool(const char *key, const char *value, bool *out, vdisk_error *err);
int vdisk_opt_parse_size(const char *key, const char *value, uint64_t *out, vdisk_error *err);
int vdisk_opt_parse_number(const char *key, const char *value, uint64_t *out, vdisk_error *err);

/* Create setters of the options every format has. */
int vdisk_opt_set_size(vdisk_create_opts *o, const char *key, const char *value, vdisk_error *err);
int vdisk_opt_set_prealloc(vdisk_create_opts *o, const char *key, const char *value,
                           vdisk_error *err);
int vdisk_opt_set_nocow(vdisk_create_opts *o, const char *key, const char *value, vdisk_error *err);
int vdisk_opt_set_backing_file(vdisk_create_opts *o, const char *key, const char *value,
                               vdisk_error *err);
int vdisk_opt_set_backing_fmt(vdisk_create_opts *o, const char *key, const char *value,
                              vdisk_error *err);
/* An encryption option, named with or without "encrypt." (vdisk/encrypt.h). */
int vdisk_opt_set_encrypt(vdisk_create_opts *o, const char *key, const char *value,
                          vdisk_error *err);

#define VDISK_OPTION_CM (VDISK_OPTION_CREATE | VDISK_OPTION_MEASURE)

#define VDISK_HELP_SIZE "Virtual disk size"
#define VDISK_HELP_PREALLOC "Preallocation mode (allowed values: off, metadata, falloc, full)"
#define VDISK_HELP_ITER_TIME "Time to spend in PBKDF in milliseconds"

/* size, preallocation and nocow, as create takes them for every format;
 * each on its own for a table that lists them apart (vmdk: size first,
 * the file options last, as its "Formatting" line shows them). */
#define VDISK_OPTION_ENTRY_SIZE                                                                 \
    { "size", VDISK_OPTION_SIZE, VDISK_OPTION_CM, VDISK_OPTION_COMMON, NULL, VDISK_HELP_SIZE,   \
      vdisk_opt_set_size, NULL }
#define VDISK_OPTION_ENTRY_NOCOW                                                                \
    { "nocow", VDISK_OPTION_BOOL, VDISK_OPTION_CM, VDISK_OPTION_FILE | VDISK_OPTION_COMMON, NULL,\
      "Turn off copy-on-write (valid only on btrfs)", vdisk_opt_set_nocow, NULL }
#define VDISK_OPTIONS_COMMON                                                                    \
    VDISK_OPTION_ENTRY_SIZE,                                                                    \
    { "preallocation", VDISK_OPTION_STRING, VDISK_OPTION_CM, VDISK_OPTION_COMMON, NULL,         \
      VDISK_HELP_PREALLOC,                                                                      \
      vdisk_opt_set_prealloc, NULL },                                                           \
    VDISK_OPTION_ENTRY_NOCOW

/* The LUKS parameters a new image takes (qcow2: prefix "encrypt.";
 * luks: ""), in qemu-img's help order; key-secret's help differs. */
#define VDISK_OPTIONS_LUKS_CREATE(prefix, key_secret_help)                                      \
    { prefix "cipher-alg", VDISK_OPTION_STRING, VDISK_OPTION_CM, 0, NULL,                       \
      "Name of encryption cipher algorithm", vdisk_opt_set_encrypt, NULL },                     \
    { prefix "cipher-mode", VDISK_OPTION_STRING, VDISK_OPTION_CM, 0, NULL,                      \
      "Name of encryption cipher mode", vdisk_opt_set_encrypt, NULL },                          \
    { prefix "hash-alg", VDISK_OPTION_STRING, VDISK_OPTION_CM, 0, NULL,                         \
      "Name of encryption hash algorithm", vdisk_opt_set_encrypt, NULL },                       \
    { prefix "iter-time", VDISK_OPTION_NUMBER, VDISK_OPTION_CM | VDISK_OPTION_KEYSLOT, 0, NULL, \
      VDISK_HELP_ITER_TIME, vdisk_opt_set_encrypt, NULL },                                      \
    { prefix "ivgen-alg", VDISK_OPTION_STRING, VDISK_OPTION_CM, 0, NULL,                        \
      "Name of IV generator algorithm", vdisk_opt_set_encrypt, NULL },                          \
    { prefix "ivgen-hash-alg", VDISK_OPTION_STRING, VDISK_OPTION_CM, 0, NULL,                   \
      "Name of IV generator hash algorithm", vdisk_opt_set_encrypt, NULL },                     \
    { prefix "key-secret", VDISK_OPTION_STRING, VDISK_OPTION_CM, 0, NULL, key_secret_help,      \
      vdisk_opt_set_encrypt, NULL }

/* The LUKS key-slot options of amend (vdisk/keyslot.h; iter-time is in
 * VDISK_OPTIONS_LUKS_CREATE). */
#define VDISK_OPTIONS_LUKS_KEYSLOT(prefix)                                                      \
    { prefix "keyslot", VDISK_OPTION_NUMBER, VDISK_OPTION_KEYSLOT, 0, NULL,                     \
      "Select a single keyslot to modify explicitly", NULL, NULL },                             \
    { prefix "new-secret", VDISK_OPTION_STRING, VDISK_OPTION_KEYSLOT, 0, NULL,                  \
      "New secret to set in the matching keyslots", NULL, NULL },                               \
    { prefix "old-secret", VDISK_OPTION_STRING, VDISK_OPTION_KEYSLOT, 0, NULL,                  \
      "Select all keyslots that match this password", NULL, NULL },                             \
    { prefix "state", VDISK_OPTION_STRING, VDISK_OPTION_KEYSLOT, 0, NULL,                       \
      "Select new state of affected keyslots (active/inactive)", NULL, NULL }

#define VDISK_OPTIONS_END { NULL, VDISK_OPTION_STRING, 0, 0, NULL, NULL, NULL, NULL }

#endif
