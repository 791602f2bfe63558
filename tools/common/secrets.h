/* vdisk-virsh — passphrases for encrypted images.
 *
 * A passphrase comes from a file (--passphrase-file PATH), an inherited
 * descriptor (--passphrase-fd N), or qemu-img's secret objects
 * (--object secret,id=ID,file=PATH) named by key-secret=ID in -o or in
 * --image-opts, format=raw or base64.  Never from argv or the environment:
 * --object data=... is refused, except when run as qemu-img (a drop-in runs
 * qemu-img's scripts, which pass data=).  The bytes are used exactly as read (a trailing newline is part
 * of the passphrase, as with qemu-img and cryptsetup --key-file) and are
 * wiped when the command ends.
 */
#ifndef VV_SECRETS_H
#define VV_SECRETS_H

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <vdisk/vdisk.h>

#include "image-name.h"

enum {
    VV_OPT_OBJECT = 0x200,
    VV_OPT_PASSPHRASE_FILE,
    VV_OPT_PASSPHRASE_FD,
    VV_OPT_IMAGE_OPTS,
    VV_OPT_TARGET_IMAGE_OPTS,
};

/* getopt_long entries of the options above (--target-image-opts is
 * convert's own). */
#define VV_SECRET_LONGOPTS                                                    \
    { "object", required_argument, NULL, VV_OPT_OBJECT },                     \
    { "passphrase-file", required_argument, NULL, VV_OPT_PASSPHRASE_FILE },   \
    { "passphrase-fd", required_argument, NULL, VV_OPT_PASSPHRASE_FD },       \
    { "image-opts", no_argument, NULL, VV_OPT_IMAGE_OPTS }

typedef struct vv_secret {
    char *id;
    uint8_t *data;
    size_t len;
} vv_secret;

typedef struct vv_secrets {
    vv_secret *objects;      /* --object secret,... */
    size_t n;
    vv_secret pass;          /* --passphrase-file / --passphrase-fd (id NULL) */
    bool have_pass;
    bool image_opts;         /* --image-opts: file names are option strings */
} vv_secrets;

/* Handle one getopt result: 1 if it was a secret option (consumed), 0 if
 * not, -1 on error (printed). */
int vv_secrets_option(vv_secrets *s, int c, const char *arg);

/* The next option of an image command: getopt_long over SHORTOPTS and the
 * command's own LONGOPTS (ending in a zero row; NULL for none) plus --help
 * ('h') and the options above, which it takes into S itself.  Returns what
 * getopt_long returns for the command's options (':' and '?' included, -1
 * at the end), or VV_GETOPT_FAILED when a secret option was wrong (said). */
#define VV_GETOPT_FAILED (-2)
int vv_image_getopt(int argc, char **argv, const char *shortopts, const struct option *longopts,
                    vv_secrets *s);
/* The secret with this id; NULL (and an error printed) if none. */
const vv_secret *vv_secrets_lookup(const vv_secrets *s, const char *id);
/* Fill opts->secret for creating an image: key-secret=ID if given, else
 * --passphrase-file/fd.  0, or -1 with an error printed. */
int vv_secrets_for_create(const vv_secrets *s, vdisk_create_opts *opts, const char *file);
/* qemu-img's rule: -f FMT and --image-opts (whose driver= names the
 * format) do not go together.  0, or -1 with the error printed. */
int vv_secrets_check_format(const vv_secrets *s, const char *fmt);
/* Wipe and free everything. */
void vv_secrets_clear(vv_secrets *s);

/* Open an image named on the command line with its passphrase (key-secret
 * of --image-opts, else --passphrase-file/fd).  fmt (NULL: probe) is -f.
 * Backing files are tried with the same passphrase, so a backing key-secret
 * in --image-opts must hold the same bytes (or be the only one given).
 * Without any passphrase an encrypted image fails to open unless flags
 * has VDISK_OPEN_NO_KEY.  Errors are printed. */
int vv_open_secure(const char *arg, const char *fmt, unsigned flags, const vv_secrets *s,
                   vdisk_image **out);
/* A flag of vv_open_secure's own: the name's backing=null does not apply
 * (info --backing-chain walks the chain the headers name, as qemu-img's
 * does, whatever the top's options say). */
#define VV_OPEN_KEEP_BACKING (1u << 30)
/* As vv_open_secure, read-only at an internal snapshot (ID or name; NULL:
 * the current state). */
int vv_open_secure_snapshot(const char *arg, const char *fmt, unsigned flags, const char *snapshot,
                            const vv_secrets *s, vdisk_image **out);

#endif
