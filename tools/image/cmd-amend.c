/* vdisk-virsh amend — change options of an existing image in place, as
 * `qemu-img amend`: compat=0.10|1.1 (also v2|v3), lazy_refcounts=on|off,
 * refcount_bits=N, size=N, backing_file/backing_fmt (only as they are), and
 * the LUKS key-slot options (amend-encrypt.c).
 *
 *   amend [-f FMT] [-p] [-q] [-t CACHE] [--force] [--object secret,id=ID,file=PATH]
 *         [--passphrase-file PATH | --passphrase-fd N] [--image-opts] -o OPTIONS FILE
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "amend-encrypt.h"
#include "commands.h"
#include "images.h"
#include "options.h"
#include "progress.h"
#include "secrets.h"

enum { OPT_FORCE = 256 };

/* One key=value of -o into opts, by the qcow2 vocabulary (the only format
 * with options to amend: vdisk_amend refuses the others, as qemu-img
 * does, once their options have been read); 0, or prints and returns -1. */
static int
parse_option(const char *key, const char *val, vdisk_amend_opts *o)
{
    vdisk_error err = { 0 };
    if (vdisk_amend_opts_set(VDISK_FORMAT_QCOW2, o, key, val, &err) < 0) {
        vv_error("%s", err.message);
        return -1;
    }
    return 0;
}

static int
parse_options(char *list, vdisk_amend_opts *o)
{
    char *save = NULL;
    for (char *kv = strtok_r(list, ",", &save); kv; kv = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(kv, '=');
        if (!eq) {
            vv_error("Invalid parameter '%s'", kv);
            return -1;
        }
        *eq = '\0';
        if (parse_option(kv, eq + 1, o) < 0)
            return -1;
    }
    return 0;
}

/* amend -o help: qcow2's options, then its key-slot ones. */
static int
option_help(void)
{
    char *opts = vdisk_options_help(VDISK_FORMAT_QCOW2, VDISK_OPTION_AMEND);
    char *slots = vdisk_options_help(VDISK_FORMAT_QCOW2, VDISK_OPTION_KEYSLOT);
    if (opts && slots)
        printf("Amend options for 'qcow2':\n%s%s  (luks images: the same without 'encrypt.')\n",
               opts, slots);
    else
        vv_error("out of memory");
    int r = opts && slots ? 0 : 1;
    free(opts);
    free(slots);
    return r;
}

/* Parse the command line; returns -1 to go on, else an exit status. */
static int
parse_args(int argc, char **argv, const char **fmt, char **options, bool pq[2],
           vv_secrets *secrets, bool *force, unsigned *flags)
{
    static const struct option longopts[] = {
        { "force", no_argument, NULL, OPT_FORCE },
        { NULL, 0, NULL, 0 },
    };
    int c;
    while ((c = vv_image_getopt(argc, argv, ":ho:f:t:pq", longopts, secrets)) != -1) {
        if (c == VV_GETOPT_FAILED)
            return 1;
        switch (c) {
        case 'h': return vv_command_help("amend");
        case 'o':
            if (vv_accumulate_opts(options, optarg) < 0)
                return 1;
            break;
        case 'f': *fmt = optarg; break;
        case 'p': pq[0] = true; break;
        case 'q': pq[1] = true; break;
        /* --force only matters for encryption keyslots, as in qemu-img. */
        case OPT_FORCE: *force = true; break;
        case 't':   /* cache mode: none/directsync write with O_DIRECT */
            if (vv_parse_cache("cache", optarg, flags) < 0)
                return 1;
            break;
        default: return vv_getopt_fail(c, argv);
        }
    }
    if (!*options)
        return vv_usage_error("Must specify options (-o)");
    if (vv_opts_want_help(*options))
        return option_help();
    if (optind != argc - 1)
        return vv_usage_error("Expecting one image file name");
    if (vv_secrets_check_format(secrets, *fmt) < 0)
        return 1;
    return -1;
}

/* Run as qemu-img, a downgrade to compat=0.10 that meets a snapshot's bad
 * L1 table says so, then names the step it was in (qemu-img expands the
 * zero clusters of every snapshot's L1 table first). */
static void
report_amend_failure(const vdisk_error *err, const vdisk_amend_opts *o, const char *file)
{
    vv_report_op(err, file);
    if (vv_as_qemu_img() && o->qcow2_version == 2 &&
        (err->reason == VDISK_REASON_SNAPSHOT_L1_OFFSET || err->reason == VDISK_REASON_SNAPSHOT_L1_TOO_LARGE))
        vv_error("Failed to turn zero into data clusters: %s", strerror(-err->code));
}

/* amend: change the options of a qcow2 image in place. */
int
cmd_amend(int argc, char **argv)
{
    const char *fmt = NULL;
    char *options = NULL;
    vv_secrets secrets = { 0 };
    vdisk_amend_opts o = { .qcow2_version = 0, .lazy_refcounts = -1 };
    vv_amend_encrypt ke = { 0 };
    bool pq[2] = { false, false }, force = false;
    vv_progress bar;
    unsigned flags = VDISK_OPEN_RDWR;
    int ret = parse_args(argc, argv, &fmt, &options, pq, &secrets, &force, &flags);
    vdisk_image *img;
    if (ret < 0 && vv_open_secure(argv[optind], fmt, flags, &secrets, &img) < 0)
        ret = 1;
    /* The key-slot options leave the list; their spelling is checked
     * against the format when they are applied. */
    if (ret < 0 && vv_amend_encrypt_extract(options, &ke) < 0) {
        vv_close_image(img, false);
        ret = 1;
    }
    /* As qemu-img: the image is opened first, then the options parsed, for
     * formats that can be amended (vdisk_amend refuses raw and iso). */
    if (ret < 0 && vdisk_get_format(img) != VDISK_FORMAT_RAW &&
        vdisk_get_format(img) != VDISK_FORMAT_ISO && parse_options(options, &o) < 0) {
        vv_close_image(img, false);
        ret = 1;
    }
    if (ret < 0) {
        vdisk_error err = { 0 };
        /* Key slots first: their refusals leave the image untouched. */
        int r = ke.given ? vv_amend_encrypt_apply(img, &ke, &secrets, force) : 0;
        if (r == 0 && (!ke.given || ke.other)) {
            vv_progress_init(&bar, pq[0] && !pq[1], 1.0);
            o.progress = vv_progress_cb;
            o.progress_opaque = &bar;
            r = vdisk_amend(img, &o, &err);
            vv_progress_end(&bar, r == 0);
            if (r < 0)
                report_amend_failure(&err, &o, vdisk_get_filename(img));
        }
        if (vv_close_image(img, r == 0) < 0)
            r = -1;
        ret = r < 0 ? 1 : 0;
    }
    vv_secrets_clear(&secrets);
    vv_amend_encrypt_clear(&ke);
    free(options);
    return ret;
}
