/* vdisk-virsh — shared command-line parsing helpers.
 *
 * Every helper that rejects its input prints the reason to stderr (prefixed
 * "vdisk-virsh: ") and returns a negative value, so handlers can simply
 * `return 1` (or 2 for compare) on failure.
 */
#ifndef VV_OPTIONS_H
#define VV_OPTIONS_H

#include <stdbool.h>
#include <stdint.h>

#include <vdisk/vdisk.h>

/* The name the tool speaks as: "qemu-img" when run by that name (a
 * symlink, or argv[0] set so), so that scripts filtering qemu-img's
 * messages carry over; else "vdisk-virsh".  Read from libc's record of
 * argv[0], so it needs no state of our own. */
const char *vv_prog(void);
bool vv_as_qemu_img(void);

/* Exit status for bad command-line usage (as qemu-img: EXIT_FAILURE). */
#define VV_EXIT_USAGE 1

/* Print "<vv_prog()>: <message>\n" to stderr. */
void vv_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* qemu-img's -l SNAPSHOT_PARAM: NAME, snapshot.id=ID or snapshot.name=NAME;
 * the ID or name. */
const char *vv_snapshot_param(const char *arg);
/* As vv_error, followed by "Try '<vv_prog()> --help' ..."; returns VV_EXIT_USAGE. */
int vv_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Print a vdisk_error (its message already names file and cause). */
/* The text of an error as the user sees it: the message, or strerror of
 * its code.  (The pool, volume and secret commands put virsh's words for
 * a plugin error's kind in front: vv_virsh_report.) */
const char *vv_error_text(const vdisk_error *err);
void vv_report(const vdisk_error *err);
/* As vv_report, with "<context>: " in front. */
void vv_report_ctx(const vdisk_error *err, const char *ctx);

/* Print an error about `file`: "vdisk-virsh: <file>: <message>", without
 * repeating the name when the library's message already starts with it. */
void vv_report_file(const vdisk_error *err, const char *file);

/* As vv_report_file, except that speaking as qemu-img the message loses
 * the "<file>: " in front, as qemu-img words errors of an operation on an
 * image it opened (amend, resize...). */
void vv_report_op(const vdisk_error *err, const char *file);

/* Run as qemu-img: qemu-img's own words for an error whose reason
 * (vdisk_error.reason) it words differently from vdisk ("Image is too
 * big"); NULL for every other error, and always when run as vdisk-virsh,
 * which keeps the library's fuller message. */
const char *vv_qemu_words(const vdisk_error *err);

/* The message of an error about FILE without FILE's name in front
 * (run as qemu-img: vv_qemu_words where it has some), for
 * wordings that name the file themselves (qemu-img's "Could not open
 * 'FILE': <why>"); the whole message when it does not begin with FILE. */
const char *vv_error_detail(const vdisk_error *err, const char *file);

/* Restart getopt for a sub-command's argv. */
void vv_getopt_reset(void);
/* Report an unknown option ('?') or a missing argument (':') as getopt
 * returned it; returns VV_EXIT_USAGE. */
int vv_getopt_fail(int c, char **argv);

/* A format name as qemu-img spells it (raw, qcow2, iso). */
int vv_parse_format(const char *name, vdisk_format *out);
/* A size with qemu-img's suffixes; `what` names the quantity in the error
 * ("image size", "offset").  Refuses values of 2^63 and above, as qemu-img. */
int vv_parse_size(const char *what, const char *text, uint64_t *out);
/* An unsigned integer (decimal, 0x hex or 0 octal, as qemu_strtoul) <= max. */
int vv_parse_ulong(const char *text, unsigned long max, unsigned long *out);

typedef enum vv_output {
    VV_OUTPUT_HUMAN,
    VV_OUTPUT_JSON,
} vv_output;

/* A QEMU cache mode (-t / -T): none and directsync bypass the page cache
 * (VDISK_OPEN_DIRECT added to *flags; the others take it away);
 * writeback, writethrough and unsafe read through it.  `what` is "cache"
 * or "source cache", for qemu-img's "Invalid cache option: X". */
int vv_parse_cache(const char *what, const char *mode, unsigned *flags);

/* --output human|json */
int vv_parse_output(const char *text, vv_output *out);

/* Append one -o argument to an accumulated list (comma separated, as
 * qemu-img does for repeated -o).  *acc is malloc'ed; caller frees. */
int vv_accumulate_opts(char **acc, const char *arg);

/* Is -o's argument a request for the option list ("help" or "?")? */
bool vv_opts_want_help(const char *list);

#endif
