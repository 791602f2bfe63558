/* vdisk-virsh amend — change options of an existing image in place, as
 * `qemu-img amend`: compat=0.10|1.1 (also v2|v3) and lazy_refcounts=on|off.
 *
 *   amend [-f FMT] [-p] [-q] [-t CACHE] [--force] [--object secret,id=ID,file=PATH]
 *         [--passphrase-file PATH | --passphrase-fd N] [--image-opts] -o OPTIONS FILE
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "amend-encrypt.h"
#include "commands.h"
#include "images.h"
#include "options.h"
#include "secrets.h"

enum { OPT_FORCE = 256 };

/* Options qemu-img creates with but cannot change afterwards. */
static const char *const create_only[] = {
    "cluster_size", "preallocation", "extended_l2", "compression_type", "encryption", NULL,
};
/* Options qemu-img amends that this tool does not (yet). */
static const char *const not_here[] = {
    "size", "backing_file", "backing_fmt", "refcount_bits", "data_file", "data_file_raw", NULL,
};

static bool
in_list(const char *const *l, const char *key)
{
    for (; *l; l++)
        if (strcmp(*l, key) == 0)
            return true;
    return false;
}

/* One key=value of -o into opts; returns 0 or prints and returns -1. */
static int
parse_option(const char *key, const char *val, vdisk_amend_opts *o)
{
    if (strcmp(key, "compat") == 0) {
        if (strcmp(val, "0.10") == 0 || strcmp(val, "v2") == 0)
            o->qcow2_version = 2;
        else if (strcmp(val, "1.1") == 0 || strcmp(val, "v3") == 0)
            o->qcow2_version = 3;
        else {
            vv_error("Unknown compatibility level %s", val);
            return -1;
        }
    } else if (strcmp(key, "lazy_refcounts") == 0) {
        if (strcmp(val, "on") != 0 && strcmp(val, "off") != 0) {
            vv_error("Parameter 'lazy_refcounts' expects 'on' or 'off'");
            return -1;
        }
        o->lazy_refcounts = strcmp(val, "on") == 0;
    } else if (in_list(create_only, key)) {
        vv_error("Invalid parameter '%s'\nThis option is only supported for image creation", key);
        return -1;
    } else if (in_list(not_here, key)) {
        vv_error("Amending option '%s' is not supported by " VV_PROG " (only compat and "
                 "lazy_refcounts)", key);
        return -1;
    } else {
        vv_error("Invalid parameter '%s'", key);
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

static void
option_help(void)
{
    printf("Supported options:\n"
           "  compat=<str>           - Compatibility level (v2 [0.10] or v3 [1.1])\n"
           "  lazy_refcounts=<bool (on/off)> - Postpone refcount updates\n");
    vv_amend_encrypt_help();
}

/* Parse the command line; returns -1 to go on, else an exit status. */
static int
parse_args(int argc, char **argv, const char **fmt, char **options, vv_secrets *secrets, bool *force)
{
    static const struct option longopts[] = {
        { "help", no_argument, NULL, 'h' },
        { "force", no_argument, NULL, OPT_FORCE },
        VV_SECRET_LONGOPTS,
        { NULL, 0, NULL, 0 },
    };
    int c;
    while ((c = getopt_long(argc, argv, ":ho:f:t:pq", longopts, NULL)) != -1) {
        int sr = vv_secrets_option(secrets, c, optarg);
        if (sr < 0)
            return 1;
        if (sr > 0)
            continue;
        switch (c) {
        case 'h': return vv_command_help("amend");
        case 'o':
            if (vv_accumulate_opts(options, optarg) < 0)
                return 1;
            break;
        case 'f': *fmt = optarg; break;
        case OPT_FORCE: *force = true; break;
        case 't': case 'p': case 'q': break;
        default: return vv_getopt_fail(c, argv);
        }
    }
    if (!*options)
        return vv_usage_error("Must specify options (-o)");
    if (vv_opts_want_help(*options)) {
        option_help();
        return 0;
    }
    if (optind != argc - 1)
        return vv_usage_error("Expecting one image file name");
    if (vv_secrets_check_format(secrets, *fmt) < 0)
        return 1;
    return -1;
}

/* amend: change compat level and lazy refcounts of a qcow2 image. */
int
cmd_amend(int argc, char **argv)
{
    const char *fmt = NULL;
    char *options = NULL;
    vv_secrets secrets = { 0 };
    vdisk_amend_opts o = { .qcow2_version = 0, .lazy_refcounts = -1 };
    vv_amend_encrypt ke = { 0 };
    bool force = false;
    int ret = parse_args(argc, argv, &fmt, &options, &secrets, &force);
    if (ret < 0 && vv_amend_encrypt_extract(options, &ke) < 0)
        ret = 1;
    if (ret < 0 && parse_options(options, &o) < 0)
        ret = 1;
    vdisk_image *img;
    if (ret < 0 && vv_open_secure(argv[optind], fmt, VDISK_OPEN_RDWR, &secrets, &img) < 0)
        ret = 1;
    if (ret < 0) {
        vdisk_error err = { 0 };
        /* Key slots first: their refusals leave the image untouched. */
        int r = ke.given ? vv_amend_encrypt_apply(img, &ke, &secrets, force) : 0;
        if (r == 0 && (!ke.given || ke.other) && (r = vdisk_amend(img, &o, &err)) < 0)
            vv_report_file(&err, vdisk_get_filename(img));
        if (vv_close_image(img, r == 0) < 0)
            r = -1;
        ret = r < 0 ? 1 : 0;
    }
    vv_secrets_clear(&secrets);
    vv_amend_encrypt_clear(&ke);
    free(options);
    return ret;
}
