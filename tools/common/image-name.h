/* vdisk-virsh — images named on the command line: a file name, qemu's
 * --image-opts "driver=qcow2,file.filename=F,encrypt.key-secret=ID", or
 * qemu's "json:{...}" spelling of the same options (json-name.c).
 *
 * Only names typed by the user go through here: a backing file name read
 * from an image header is libvdisk's to resolve (core/image.c), and json:
 * there stays a plain (missing) file name -- a guest writes those bytes,
 * so they must not pick a protocol, a driver or a socket.
 */
#ifndef VV_IMAGE_NAME_H
#define VV_IMAGE_NAME_H

#include <stdbool.h>
#include <stddef.h>

typedef struct vv_image_name {
    char *filename;
    char *format;            /* driver=, or NULL */
    char *key_secret;        /* encrypt.key-secret= / key-secret=, or NULL */
    char *backing_secret;    /* backing.encrypt.key-secret= / backing.key-secret= */
    bool no_backing;         /* backing=null (json:) or backing= : open no backing file */
} vv_image_name;

/* arg with image_opts: --image-opts key=value,... (",," a literal comma);
 * else "json:{...}" as qemu reads it; else a file name.  0, or -1 with
 * the error printed. */
int vv_image_name_parse(const char *arg, bool image_opts, vv_image_name *out);
void vv_image_name_clear(vv_image_name *n);

/* Options as key/value pairs (owned), in the order given. */
typedef struct vv_opt_list {
    char **keys;
    char **values;           /* NULL for a JSON null */
    size_t n;
} vv_opt_list;

int vv_opt_list_add(vv_opt_list *l, const char *key, size_t keylen, const char *value);
void vv_opt_list_clear(vv_opt_list *l);

/* "json:{...}" flattened as qemu flattens it ({"file": {"filename": F}} is
 * file.filename=F; numbers as written, booleans on/off, null kept as a
 * NULL value; arrays refused).  0, or -1 with the error printed. */
int vv_json_name_options(const char *arg, vv_opt_list *out);

#endif
