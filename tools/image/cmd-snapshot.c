/* vdisk-virsh snapshot — internal snapshots of a qcow2 image, as
 * `qemu-img snapshot`.
 *
 *   snapshot [-l | -c NAME | -a NAME | -d NAME] [-q] [-U]
 *            [--object secret,id=ID,file=PATH] [--passphrase-file PATH | --passphrase-fd N]
 *            [--image-opts] FILE
 *
 * -l lists (read-only, -U allowed), -c creates, -a applies, -d deletes.
 * Exit status 0 on success, 1 on any error, as qemu-img.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "images.h"
#include "options.h"
#include "secrets.h"
#include "snapshots.h"

enum action { ACT_NONE, ACT_LIST, ACT_CREATE, ACT_APPLY, ACT_DELETE };

/* Parse the command line; returns -1 to go on, else an exit status. */
static int
parse_args(int argc, char **argv, enum action *act, const char **name, unsigned *flags,
           vv_secrets *secrets)
{
    static const struct option longopts[] = {
        { "force-share", no_argument, NULL, 'U' },
        { NULL, 0, NULL, 0 },
    };
    int c;
    while ((c = vv_image_getopt(argc, argv, ":la:c:d:hqU", longopts, secrets)) != -1) {
        enum action a = ACT_NONE;
        if (c == VV_GETOPT_FAILED)
            return 1;
        switch (c) {
        case 'l': a = ACT_LIST; break;
        case 'a': a = ACT_APPLY; break;
        case 'c': a = ACT_CREATE; break;
        case 'd': a = ACT_DELETE; break;
        case 'h': return vv_command_help("snapshot");
        case 'q': break;
        case 'U': *flags |= VDISK_OPEN_FORCE_SHARE; break;
        default: return vv_getopt_fail(c, argv);
        }
        if (a == ACT_NONE)
            continue;
        if (*act != ACT_NONE)
            return vv_usage_error("Cannot mix '-l', '-a', '-c', '-d'");
        *act = a;
        *name = a == ACT_LIST ? NULL : optarg;
    }
    if (optind != argc - 1)
        return vv_usage_error("Expecting one image file name");
    return -1;
}

/* -l: nothing at all when there are none (or the format has none). */
static int
list(vdisk_image *img)
{
    vdisk_snapshot_info *l;
    size_t n;
    vdisk_error err = { 0 };
    int r = vdisk_snapshot_list(img, &l, &n, &err);
    if (r == -ENOTSUP)
        return 0;
    if (r < 0) {
        vv_report_op(&err, vdisk_get_filename(img));
        return 1;
    }
    if (n)
        vv_snapshots_print(stdout, l, n);
    vdisk_snapshot_list_free(l, n);
    return 0;
}

/* qemu-img's words for a failed -c/-a/-d: create names only the errno
 * ("-27 (File too large)"); apply reports the cause, then "Failed to load
 * snapshot: <errno text>"; otherwise "Could not <verb> snapshot 'N': <cause>"
 * (the cause in qemu-img's words where it has its own: vv_qemu_words). */
static void
report_as_qemu_img(enum action act, const char *name, int r, const vdisk_error *err)
{
    const char *words = vv_qemu_words(err);
    const char *cause = words ? words : err->message[0] ? err->message : strerror(-r);
    if (act == ACT_CREATE) {
        /* QEMU allocates a missing refcount block and then gives up with
         * EAGAIN (iotest 080); vdisk changes nothing and says which. */
        if (err->reason == VDISK_REASON_REFCOUNT_BLOCK_MISSING)
            r = -EAGAIN;
        vv_error("Could not create snapshot '%s': %d (%s)", name, r, strerror(-r));
    } else if (act == ACT_APPLY && words) {
        vv_error("%s", words);
        vv_error("Could not apply snapshot '%s': Failed to load snapshot: %s", name, strerror(-r));
    } else {
        vv_error("Could not %s snapshot '%s': %s", act == ACT_APPLY ? "apply" : "delete", name, cause);
    }
}

static int
run(vdisk_image *img, enum action act, const char *name)
{
    vdisk_error err = { 0 };
    int r = 0;
    const char *verb = "";
    switch (act) {
    case ACT_NONE: return 0;
    case ACT_LIST: return list(img);
    case ACT_CREATE: verb = "create"; r = vdisk_snapshot_create(img, name, &err); break;
    case ACT_APPLY: verb = "apply"; r = vdisk_snapshot_apply(img, name, &err); break;
    case ACT_DELETE: verb = "delete"; r = vdisk_snapshot_delete(img, name, &err); break;
    }
    if (r == -ENOENT && act == ACT_DELETE) {
        vv_error("Could not delete snapshot '%s': snapshot not found", name);
        return 1;
    }
    if (r < 0 && vv_as_qemu_img()) {
        report_as_qemu_img(act, name, r, &err);
        return 1;
    }
    if (r < 0) {
        vv_error("Could not %s snapshot '%s': %s", verb, name,
                 err.message[0] ? err.message : strerror(-r));
        return 1;
    }
    return 0;
}

/* snapshot: list, create, apply or delete internal snapshots. */
int
cmd_snapshot(int argc, char **argv)
{
    enum action act = ACT_NONE;
    const char *name = NULL;
    unsigned flags = 0;
    vv_secrets secrets = { 0 };
    int ret = parse_args(argc, argv, &act, &name, &flags, &secrets);
    if (ret < 0 && act != ACT_LIST && (flags & VDISK_OPEN_FORCE_SHARE)) {
        vv_error("Could not open '%s': force-share=on can only be used with read-only images",
                 argv[optind]);
        ret = 1;
    }
    if (act != ACT_LIST)
        flags |= VDISK_OPEN_RDWR;
    vdisk_image *img;
    if (ret < 0 && vv_open_secure(argv[optind], NULL, flags, &secrets, &img) < 0)
        ret = 1;
    if (ret < 0) {
        ret = run(img, act, name);
        if (vv_close_image(img, ret == 0) < 0)
            ret = 1;
    }
    vv_secrets_clear(&secrets);
    return ret;
}
