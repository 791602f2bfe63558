/* libvdisk — the -o options of each format, in one table per format: the
 * name qemu-img gives an option, its type, the operations that take it,
 * the value shown when it is not given, its help line, and how a value is
 * stored.  vdisk_create_opts_set, vdisk_amend_opts_set and the "-o help"
 * text all read the same table, so an option is spelled in one place.
 *
 * A format driver names its table in struct vdisk_driver (core/driver.h);
 * a format without one takes the options every format has (size,
 * preallocation, nocow).
 */
#ifndef VDISK_OPTIONS_H
#define VDISK_OPTIONS_H

#include <stdbool.h>

#include <vdisk/amend.h>
#include <vdisk/create.h>
#include <vdisk/error.h>
#include <vdisk/image.h>

#ifdef __cplusplus
extern "C" {
#endif

/* How a value is written, as "-o help" shows it: <size>, <num>, <str>,
 * <bool (on/off)>. */
typedef enum vdisk_option_type {
    VDISK_OPTION_SIZE,
    VDISK_OPTION_NUMBER,
    VDISK_OPTION_STRING,
    VDISK_OPTION_BOOL,
} vdisk_option_type;

/* vdisk_option.ops: the operations that take an option. */
#define VDISK_OPTION_CREATE  (1u << 0)   /* create, convert -O (vdisk_create_opts_set) */
#define VDISK_OPTION_MEASURE (1u << 1)   /* measure -O (vdisk_create_opts_set as well) */
#define VDISK_OPTION_AMEND   (1u << 2)   /* amend of the format's options (vdisk_amend_opts_set) */
#define VDISK_OPTION_KEYSLOT (1u << 3)   /* amend of LUKS key slots (vdisk_keyslot_opts; the
                                          * caller resolves the secrets the values name) */
/* vdisk_option.flags */
#define VDISK_OPTION_HIDDEN  (1u << 0)   /* taken but not listed by "-o help" (qemu-img's
                                          * deprecated encryption=on) */
#define VDISK_OPTION_FILE    (1u << 1)   /* an option of the file under the image, not of the
                                          * format (nocow): amend does not know it at all */
#define VDISK_OPTION_COMMON  (1u << 2)   /* one every format takes (size, preallocation,
                                          * nocow): not the format's own */

typedef struct vdisk_option vdisk_option;
struct vdisk_option {
    const char *name;          /* as typed after -o: "cluster_size", "encrypt.cipher-alg" */
    vdisk_option_type type;
    unsigned ops;              /* VDISK_OPTION_CREATE | ... */
    unsigned flags;            /* VDISK_OPTION_HIDDEN | ... */
    const char *def;           /* shown when not given ("Formatting" line); NULL: not shown */
    const char *help;          /* the "-o help" line */
    /* Store a create value (ops has CREATE): 0, or -EINVAL with a message
     * naming the key.  key is name, as given. */
    int (*create)(vdisk_create_opts *o, const char *key, const char *value, vdisk_error *err);
    /* Store an amend value (ops has AMEND); string values are kept by
     * pointer, so value must live as long as o. */
    int (*amend)(vdisk_amend_opts *o, const char *key, const char *value, vdisk_error *err);
};

/* The options of a format, in "-o help" order, ended by an entry whose name
 * is NULL.  Never NULL: formats without a table of their own get the
 * options every format takes. */
const vdisk_option *vdisk_format_options(vdisk_format fmt);
/* The option `name` of fmt that one of `ops` takes, or NULL. */
const vdisk_option *vdisk_option_find(vdisk_format fmt, const char *name, unsigned ops);
/* "size", "num", "str", "bool (on/off)". */
const char *vdisk_option_type_name(vdisk_option_type t);

/* The "-o help" lines of the options of fmt that `op` (one VDISK_OPTION_*
 * bit) takes, as qemu-img prints them ("  cluster_size=<size>    - qcow2
 * cluster size\n"): create and measure in the table's order, amend and key
 * slots in name order, as qemu-img amend lists them.  Malloc'd (the caller
 * frees), NULL on ENOMEM; "" when there are none. */
char *vdisk_options_help(vdisk_format fmt, unsigned op);

/* Set one option of an image of format fmt for vdisk_amend, by its
 * qemu-img name (compat, lazy_refcounts, refcount_bits, size,
 * backing_file, backing_fmt, data_file, data_file_raw for qcow2).  Refused
 * with qemu-img amend's messages: "Invalid parameter 'K'" for a name the
 * format does not amend (with "This option is only supported for image
 * creation" when it is a creation option), or a bad value. */
int vdisk_amend_opts_set(vdisk_format fmt, vdisk_amend_opts *o, const char *key,
                         const char *value, vdisk_error *err);

#ifdef __cplusplus
}
#endif
#endif
