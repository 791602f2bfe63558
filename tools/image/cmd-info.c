/* vdisk-virsh info — describe an image (or its whole backing chain), as
 * `qemu-img info`, in qemu-img's human or JSON layout and field names.
 *
 *   info [-f FMT] [--output human|json] [--backing-chain] [-U] FILE
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "commands.h"
#include "images.h"
#include "options.h"
#include "info-encrypt.h"
#include "info-loop.h"
#include "info-vmdk.h"
#include "output.h"
#include "snapshots.h"
#include "secrets.h"

enum { OPT_OUTPUT = 256, OPT_BACKING_CHAIN };

typedef struct info_entry {
    char *filename;   /* as opened (the top as given, then resolved backing names) */
    vdisk_info info;
    vdisk_snapshot_info *snapshots;   /* internal snapshots (qcow2) */
    size_t nsnapshots;
} info_entry;

typedef struct info_list {
    info_entry *v;
    size_t n;
} info_list;

static void
list_free(info_list *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free(l->v[i].filename);
        vdisk_info_clear(&l->v[i].info);
        vdisk_snapshot_list_free(l->v[i].snapshots, l->v[i].nsnapshots);
    }
    free(l->v);
}

/* Append the info of one layer. */
static int
append_info(info_list *l, vdisk_image *img)
{
    const char *file = vdisk_get_filename(img);
    info_entry *nv = realloc(l->v, (l->n + 1) * sizeof(*nv));
    if (!nv) {
        vv_error("%s: out of memory", file);
        return -ENOMEM;
    }
    l->v = nv;
    info_entry *e = &l->v[l->n];
    memset(e, 0, sizeof(*e));
    vdisk_error err = { 0 };
    int r = vdisk_get_info(img, &e->info, &err);
    if (r == 0)
        r = vdisk_snapshot_list(img, &e->snapshots, &e->nsnapshots, &err);
    if (r == -ENOTSUP)
        r = 0;   /* a format without internal snapshots: no list */
    if (r < 0) {
        vdisk_info_clear(&e->info);
        vv_report_file(&err, file);
        return r;
    }
    if (!(e->filename = strdup(file))) {
        vdisk_info_clear(&e->info);
        vdisk_snapshot_list_free(e->snapshots, e->nsnapshots);
        vv_error("%s: out of memory", file);
        return -ENOMEM;
    }
    l->n++;
    return 0;
}

/* The image, and with `chain` every backing file below it.  libvdisk opens
 * the chain (resolving names and refusing loops); each layer is then
 * described in turn.  Without `chain` the backing file is not opened, so a
 * missing one does not hide the top image's info. */
static int
collect(info_list *l, const char *file, const char *fmt, unsigned flags, bool chain,
        const vv_secrets *secrets)
{
    vdisk_image *top;
    if (chain && vv_as_qemu_img()) {
        /* qemu-img's words for a chain that loops (info-loop.c) */
        int r = vv_open_secure(file, fmt, flags | VDISK_OPEN_NO_KEY | VDISK_OPEN_NO_BACKING, secrets, &top);
        if (r < 0)
            return r;
        bool loops = vv_info_report_loop(top) == 1;
        vdisk_close(top, NULL);
        if (loops)
            return -ELOOP;
    }
    /* As qemu-img info: the header of an encrypted image needs no key. */
    int r = vv_open_secure(file, fmt, flags | VDISK_OPEN_NO_KEY |
                                      (chain ? VV_OPEN_KEEP_BACKING : VDISK_OPEN_NO_BACKING),
                           secrets, &top);
    if (r < 0)
        return r;
    for (vdisk_image *img = top; img && r == 0; img = chain ? vdisk_get_backing(img) : NULL)
        r = append_info(l, img);
    vdisk_close(top, NULL);
    return r;
}

/* An ISO volume date as "2026-11-23T23:59:16Z" ("" when not recorded). */
static const char *
iso_date(int64_t t, char *buf, size_t len)
{
    time_t tt = (time_t)t;
    struct tm tm;
    buf[0] = '\0';
    if (t != INT64_MIN && gmtime_r(&tt, &tm))
        strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

/* ISO volume: id, dates, extensions, bootable. */
static void
json_iso(vv_json *j, const vdisk_info *in)
{
    char c[32], m[32];
    vv_json_object_begin(j, "format-specific");
    vv_json_string(j, "type", "iso");
    vv_json_object_begin(j, "data");
    vv_json_string(j, "volume-id", in->iso_volume_id);
    vv_json_string(j, "system-id", in->iso_system_id);
    vv_json_uint(j, "volume-size", in->iso_volume_size);
    vv_json_string(j, "creation-date", iso_date(in->iso_creation_time, c, sizeof(c)));
    vv_json_string(j, "modification-date", iso_date(in->iso_modification_time, m, sizeof(m)));
    vv_json_bool(j, "joliet", in->iso_joliet);
    vv_json_bool(j, "rock-ridge", in->iso_rock_ridge);
    vv_json_bool(j, "bootable", in->iso_bootable);
    vv_json_object_end(j);
    vv_json_object_end(j);
}

/* The "format-specific" member: qemu-img's ImageInfoSpecificQCow2. */
static void
json_format_specific(vv_json *j, const vdisk_info *in)
{
    if (in->format == VDISK_FORMAT_LUKS && in->encrypt) {
        vv_json_object_begin(j, "format-specific");
        vv_json_string(j, "type", "luks");
        vv_json_object_begin(j, "data");
        vv_info_encrypt_json(j, in->encrypt, false);
        vv_json_object_end(j);
        vv_json_object_end(j);
        return;
    }
    if (in->format == VDISK_FORMAT_ISO)
        json_iso(j, in);
    if (in->vmdk)
        vv_info_vmdk_json(j, in->vmdk);
    if (in->format != VDISK_FORMAT_QCOW2)
        return;
    vv_json_object_begin(j, "format-specific");
    vv_json_string(j, "type", "qcow2");
    vv_json_object_begin(j, "data");
    vv_json_string(j, "compat", in->qcow2_version >= 3 ? "1.1" : "0.10");
    vv_json_string(j, "compression-type", in->compression_type ? in->compression_type : "zlib");
    if (in->qcow2_version >= 3)
        vv_json_bool(j, "lazy-refcounts", in->lazy_refcounts);
    if (in->nbitmaps) {
        vv_json_array_begin(j, "bitmaps");
        for (size_t i = 0; i < in->nbitmaps; i++) {
            const vdisk_bitmap_info *b = &in->bitmaps[i];
            vv_json_object_begin(j, NULL);
            vv_json_array_begin(j, "flags");
            if (b->in_use)
                vv_json_string(j, NULL, "in-use");
            if (b->enabled)
                vv_json_string(j, NULL, "auto");
            vv_json_array_end(j);
            vv_json_string(j, "name", b->name);
            vv_json_uint(j, "granularity", b->granularity);
            vv_json_object_end(j);
        }
        vv_json_array_end(j);
    }
    vv_json_int(j, "refcount-bits", in->refcount_bits);
    if (in->encrypt) {
        vv_json_object_begin(j, "encrypt");
        vv_info_encrypt_json(j, in->encrypt, true);
        vv_json_object_end(j);
    }
    if (in->qcow2_version >= 3) {
        vv_json_bool(j, "corrupt", in->corrupt);
        vv_json_bool(j, "extended-l2", in->extended_l2);
    }
    vv_json_object_end(j);
    vv_json_object_end(j);
}

/* One ImageInfo object, members in the order qemu-img prints them. */
static void
json_entry(vv_json *j, const info_entry *e)
{
    const vdisk_info *in = &e->info;
    vv_json_object_begin(j, NULL);
    if (in->backing_file && in->backing_format)
        vv_json_string(j, "backing-filename-format", in->backing_format);
    if (e->nsnapshots)
        vv_snapshots_json(j, e->snapshots, e->nsnapshots);
    vv_json_uint(j, "virtual-size", in->virtual_size);
    vv_json_string(j, "filename", e->filename);
    if (in->cluster_size)
        vv_json_uint(j, "cluster-size", in->cluster_size);
    vv_json_string(j, "format", vdisk_format_name(in->format));
    if (!in->actual_size_unknown)
        vv_json_uint(j, "actual-size", in->actual_size);
    json_format_specific(j, in);
    if (in->backing_file) {
        if (in->full_backing_filename)
            vv_json_string(j, "full-backing-filename", in->full_backing_filename);
        vv_json_string(j, "backing-filename", in->backing_file);
    }
    if (in->encrypted)
        vv_json_bool(j, "encrypted", true);
    vv_json_bool(j, "dirty-flag", in->dirty);
    vv_json_object_end(j);
}

static void
print_json(const info_list *l, bool chain)
{
    vv_json j;
    vv_json_init(&j, stdout);
    if (chain)
        vv_json_array_begin(&j, NULL);
    for (size_t i = 0; i < l->n; i++)
        json_entry(&j, &l->v[i]);
    if (chain)
        vv_json_array_end(&j);
    vv_json_finish(&j);
}

/* "Format specific information:" block, keys as qemu-img's dump_qdict. */
static void
human_format_specific(const vdisk_info *in)
{
    if (in->format == VDISK_FORMAT_LUKS && in->encrypt) {
        printf("Format specific information:\n");
        vv_info_encrypt_human(in->encrypt, 4, false);
        return;
    }
    char c[32], m[32];
    if (in->format == VDISK_FORMAT_ISO)
        printf("Format specific information:\n    volume id: %s\n    system id: %s\n"
               "    volume size: %" PRIu64 "\n    creation date: %s\n    modification date: %s\n"
               "    joliet: %s\n    rock ridge: %s\n    bootable: %s\n",
               in->iso_volume_id, in->iso_system_id, in->iso_volume_size,
               iso_date(in->iso_creation_time, c, sizeof(c)),
               iso_date(in->iso_modification_time, m, sizeof(m)), in->iso_joliet ? "true" : "false",
               in->iso_rock_ridge ? "true" : "false", in->iso_bootable ? "true" : "false");
    if (in->vmdk)
        vv_info_vmdk_human(in->vmdk);
    if (in->format != VDISK_FORMAT_QCOW2)
        return;
    bool v3 = in->qcow2_version >= 3;
    printf("Format specific information:\n");
    printf("    compat: %s\n", v3 ? "1.1" : "0.10");
    printf("    compression type: %s\n", in->compression_type ? in->compression_type : "zlib");
    if (v3)
        printf("    lazy refcounts: %s\n", in->lazy_refcounts ? "true" : "false");
    if (in->nbitmaps)
        printf("    bitmaps:\n");
    for (size_t i = 0; i < in->nbitmaps; i++) {
        const vdisk_bitmap_info *b = &in->bitmaps[i];
        int k = 0;
        printf("        [%zu]:\n            flags:\n", i);
        if (b->in_use)
            printf("                [%d]: in-use\n", k++);
        if (b->enabled)
            printf("                [%d]: auto\n", k++);
        printf("            name: %s\n            granularity: %" PRIu32 "\n", b->name,
               b->granularity);
    }
    printf("    refcount bits: %d\n", in->refcount_bits);
    if (in->encrypt) {
        printf("    encrypt:\n");
        vv_info_encrypt_human(in->encrypt, 8, true);
    }
    if (v3) {
        printf("    corrupt: %s\n", in->corrupt ? "true" : "false");
        printf("    extended l2: %s\n", in->extended_l2 ? "true" : "false");
    }
}

static void
human_entry(const info_entry *e)
{
    const vdisk_info *in = &e->info;
    char vsize[32], dsize[32];
    printf("image: %s\nfile format: %s\nvirtual size: %s (%" PRIu64 " bytes)\ndisk size: %s\n",
           e->filename, vdisk_format_name(in->format),
           vv_size_to_str(in->virtual_size, vsize, sizeof(vsize)), in->virtual_size,
           in->actual_size_unknown ? "unavailable" : vv_size_to_str(in->actual_size, dsize, sizeof(dsize)));
    if (in->encrypted)
        printf("encrypted: yes\n");
    if (in->cluster_size)
        printf("cluster_size: %" PRIu32 "\n", in->cluster_size);
    if (in->dirty)
        printf("cleanly shut down: no\n");
    if (in->backing_file) {
        printf("backing file: %s", in->backing_file);
        if (!in->full_backing_filename)
            printf(" (cannot determine actual path)");
        else if (strcmp(in->backing_file, in->full_backing_filename) != 0)
            printf(" (actual path: %s)", in->full_backing_filename);
        printf("\n");
        if (in->backing_format)
            printf("backing file format: %s\n", in->backing_format);
    }
    if (e->nsnapshots)
        vv_snapshots_print(stdout, e->snapshots, e->nsnapshots);
    human_format_specific(in);
}

/* Parse the command line; returns -1 to go on, else an exit status. */
static int
parse_args(int argc, char **argv, const char **fmt, vv_output *output, bool *chain,
           unsigned *flags, vv_secrets *secrets)
{
    static const struct option longopts[] = {
        { "format", required_argument, NULL, 'f' },
        { "output", required_argument, NULL, OPT_OUTPUT },
        { "backing-chain", no_argument, NULL, OPT_BACKING_CHAIN },
        { "force-share", no_argument, NULL, 'U' },
        { NULL, 0, NULL, 0 },
    };
    int c;
    const char *out_name = NULL;
    while ((c = vv_image_getopt(argc, argv, ":f:hU", longopts, secrets)) != -1) {
        if (c == VV_GETOPT_FAILED)
            return 1;
        switch (c) {
        case 'f': *fmt = optarg; break;
        case 'h': return vv_command_help("info");
        case 'U': *flags |= VDISK_OPEN_FORCE_SHARE; break;
        case OPT_OUTPUT: out_name = optarg; break;
        case OPT_BACKING_CHAIN: *chain = true; break;
        default: return vv_getopt_fail(c, argv);
        }
    }
    if (optind != argc - 1)
        return vv_usage_error("Expecting one image file name");
    if (out_name && vv_parse_output(out_name, output) < 0)
        return 1;
    return -1;
}

/* info: show what an image is; with --backing-chain, every layer. */
int
cmd_info(int argc, char **argv)
{
    const char *fmt = NULL;
    vv_output output = VV_OUTPUT_HUMAN;
    bool chain = false;
    unsigned flags = 0;
    vv_secrets secrets = { 0 };
    int ret = parse_args(argc, argv, &fmt, &output, &chain, &flags, &secrets);
    if (ret >= 0) {
        vv_secrets_clear(&secrets);
        return ret;
    }
    info_list l = { 0 };
    int r = collect(&l, argv[optind], fmt, flags, chain, &secrets);
    vv_secrets_clear(&secrets);
    if (r < 0) {
        list_free(&l);
        return 1;
    }
    if (output == VV_OUTPUT_JSON) {
        print_json(&l, chain);
    } else {
        for (size_t i = 0; i < l.n; i++) {
            if (i)
                printf("\n");
            human_entry(&l.v[i]);
        }
    }
    list_free(&l);
    return 0;
}
