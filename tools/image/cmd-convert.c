/* vdisk-virsh convert — copy an image into a new image, as `qemu-img convert`.
 *
 *   convert [-f FMT] [-O FMT] [-o key=val,...] [-B BACKING [-F BACKING_FMT]] [-c]
 *           [-n [--target-is-zero] [--target-image-opts]] [-S SPARSE_SIZE] [-r RATE]
 *           [-p] [-m N] [-q] [-U] [-t CACHE] [-T CACHE] [-W] SRC DST
 *
 * The copy itself is libvdisk's vdisk_convert: holes and zero blocks stay
 * holes, -m sets the number of parallel workers, -W lets them write out of
 * guest order, -T none/directsync reads the source with O_DIRECT.  -n
 * writes into an existing target, -B puts the target on a backing file
 * (only what the source's top layer defines is copied), -S sets the
 * zero-detection unit (0: allocate everything), -r limits the bytes
 * written per second, --salvage copies what it cannot read as zeros (with
 * a warning per 512-byte sector).  Refused, with the reason: -C (copy
 * offloading), --bitmaps and --skip-broken-bitmaps.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "createopts.h"
#include "options.h"
#include "progress.h"
#include "secrets.h"

#define MAX_WORKERS VDISK_CONVERT_MAX_WORKERS

typedef struct convert_args {
    const char *src_fmt, *dst_fmt;
    char *options;
    bool compress, progress, quiet, direct;
    bool out_of_order;      /* -W */
    bool no_flush;          /* -t unsafe, qemu-img convert's default */
    unsigned src_flags;
    int workers;
    const char *snapshot;   /* -l: copy this internal snapshot of the source */
    const char *backing;    /* -B: the target's backing file */
    const char *backing_fmt;/* -F: its format */
    bool skip_create;       /* -n */
    bool target_is_zero;    /* --target-is-zero */
    bool target_image_opts; /* --target-image-opts */
    bool sparse_set;        /* -S given */
    uint64_t sparse;        /* -S bytes (0: fully allocate) */
    uint64_t rate;          /* -r bytes per second */
    bool salvage;           /* --salvage */
    vv_secrets secrets;     /* source: --image-opts key-secret or --passphrase-*;
                               target: -o encrypt.key-secret or --passphrase-* */
} convert_args;

/* -t / -T: QEMU's cache modes.  "none" and "directsync" bypass the page
 * cache; all but "unsafe" wait for the data to reach the disk at the end. */
static int
parse_cache(const char *mode, bool *direct, bool *no_flush)
{
    static const char *const modes[] = { "none", "directsync", "writeback", "writethrough", "unsafe" };
    for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++)
        if (strcmp(mode, modes[i]) == 0) {
            *direct = i < 2;
            *no_flush = strcmp(mode, "unsafe") == 0;
            return 0;
        }
    vv_error("Invalid cache option: %s (expected none, directsync, writeback, writethrough or unsafe)",
             mode);
    return -1;
}

enum {
    OPT_TARGET_IS_ZERO = 0x100,
    OPT_TARGET_IMAGE_OPTS,
    OPT_SALVAGE,
    OPT_BITMAPS,
    OPT_SKIP_BROKEN,
};

/* The options vdisk cannot honour: refused with the reason, never ignored. */
static int
refuse(int c)
{
    switch (c) {
    case 'C':
        vv_error("Copy offloading (-C) is not supported: vdisk copies through its own engine, "
                 "which keeps the target sparse; leave -C out");
        break;
    default:
        vv_error("--bitmaps and --skip-broken-bitmaps are not supported by convert: copy the "
                 "bitmaps with 'bitmap --merge SOURCE -b SOURCE_FILE' after converting");
        break;
    }
    return 1;
}

/* -S: the zero-detection unit, as qemu-img takes it. */
static int
parse_sparse(const char *text, convert_args *a)
{
    if (vv_parse_size("buffer size for sparse output", text, &a->sparse) < 0)
        return 1;
    if (a->sparse % 512 || a->sparse > (1u << 30)) {
        vv_error("Invalid buffer size for sparse output specified. Valid sizes are multiples "
                 "of 512 up to 1073741824. Select 0 to disable sparse detection (fully "
                 "allocates output).");
        return 1;
    }
    a->sparse_set = true;
    return -1;
}

/* One option of the command line; returns -1 to go on, else an exit status. */
static int
take_option(int c, char **argv, convert_args *a)
{
    unsigned long n;
    bool src_direct, src_no_flush;
    if (c == VV_GETOPT_FAILED)
        return 1;
    switch (c) {
    case 'h': return vv_command_help("convert");
    case 'f': a->src_fmt = optarg; break;
    case 'O': a->dst_fmt = optarg; break;
    case 'o': return vv_accumulate_opts(&a->options, optarg) < 0 ? 1 : -1;
    case 'c': a->compress = true; break;
    case 'p': a->progress = true; break;
    case 'q': a->quiet = true; break;
    case 'U': a->src_flags |= VDISK_OPEN_FORCE_SHARE; break;
    case 'l':
        /* qemu-img's forms: NAME, snapshot.id=ID, snapshot.name=NAME */
        a->snapshot = vv_snapshot_param(optarg);
        break;
    case 'W': a->out_of_order = true; break;
    case 'B': a->backing = optarg; break;
    case 'F': a->backing_fmt = optarg; break;
    case 'n': a->skip_create = true; break;
    case OPT_TARGET_IS_ZERO: a->target_is_zero = true; break;
    case OPT_TARGET_IMAGE_OPTS: a->target_image_opts = true; break;
    case 'S': return parse_sparse(optarg, a);
    case 'r': return vv_parse_size("rate limit", optarg, &a->rate) < 0 ? 1 : -1;
    case OPT_SALVAGE: a->salvage = true; break;
    case 'C': case OPT_BITMAPS: case OPT_SKIP_BROKEN: return refuse(c);
    case 't': return parse_cache(optarg, &a->direct, &a->no_flush) < 0 ? 1 : -1;
    case 'T':
        /* The source is only read: its flush setting means nothing. */
        if (parse_cache(optarg, &src_direct, &src_no_flush) < 0)
            return 1;
        a->src_flags = src_direct ? a->src_flags | VDISK_OPEN_DIRECT
                                  : a->src_flags & ~VDISK_OPEN_DIRECT;
        break;
    case 'm':
        if (vv_parse_ulong(optarg, MAX_WORKERS, &n) < 0 || n < 1) {
            vv_error("Invalid number of workers '%s': allowed are 1 to %d", optarg, MAX_WORKERS);
            return 1;
        }
        a->workers = (int)n;
        break;
    default: return vv_getopt_fail(c, argv);
    }
    return -1;
}

static int
parse_args(int argc, char **argv, convert_args *a)
{
    static const struct option longopts[] = {
        { "force-share", no_argument, NULL, 'U' },
        { "target-is-zero", no_argument, NULL, OPT_TARGET_IS_ZERO },
        { "target-image-opts", no_argument, NULL, OPT_TARGET_IMAGE_OPTS },
        { "salvage", no_argument, NULL, OPT_SALVAGE },
        { "bitmaps", no_argument, NULL, OPT_BITMAPS },
        { "skip-broken-bitmaps", no_argument, NULL, OPT_SKIP_BROKEN },
        { NULL, 0, NULL, 0 },
    };
    int c, r;
    while ((c = vv_image_getopt(argc, argv, ":hf:O:B:CcF:o:l:S:pt:T:qnm:WUr:", longopts, &a->secrets)) != -1)
        if ((r = take_option(c, argv, a)) >= 0)
            return r;
    return -1;
}

/* Print a failure, naming the files unless the message already does. */
static void
report_failure(const vdisk_error *err, const char *src, const char *dst, const char *snapshot)
{
    /* qemu-img: a snapshot (-l) whose L1 table is bad fails to load */
    bool bad_snapshot = err->reason == VDISK_REASON_SNAPSHOT_L1_OFFSET ||
                        err->reason == VDISK_REASON_SNAPSHOT_L1_TOO_LARGE;
    if (snapshot && bad_snapshot && vv_qemu_words(err))
        vv_error("Failed to load snapshot: %s", vv_qemu_words(err));
    else if (vdisk_error_is_about(err, src) || vdisk_error_is_about(err, dst))
        vv_report(err);
    else
        vv_error("convert '%s' to '%s': %s", src, dst, err->message);
}

/* The source's passphrase: key-secret of --image-opts, else --passphrase-*. */
static int
source_secret(const convert_args *a, const vv_image_name *sn, vdisk_convert_opts *co)
{
    if (sn->key_secret) {
        const vv_secret *sec = vv_secrets_lookup(&a->secrets, sn->key_secret);
        if (!sec)
            return 1;
        co->src_secret = sec->data;
        co->src_secret_len = sec->len;
    } else if (a->secrets.have_pass) {
        co->src_secret = a->secrets.pass.data;
        co->src_secret_len = a->secrets.pass.len;
    }
    return 0;
}

/* The combinations qemu-img refuses, with its messages. */
static int
check_combinations(const convert_args *a)
{
    if (a->target_image_opts && !a->skip_create)
        vv_error("--target-image-opts requires use of -n flag");
    else if (a->target_is_zero && !a->skip_create)
        vv_error("--target-is-zero requires use of -n flag");
    else if (a->skip_create && a->options)
        vv_error("-o has no effect when skipping image creation");
    else if (a->target_is_zero && a->backing)
        vv_error("Cannot use --target-is-zero when the destination image has a backing file");
    else if (a->compress && a->sparse_set)
        vv_error("-S cannot be combined with -c: compressed clusters are skipped only when "
                 "the whole cluster is zero");
    else
        return 0;
    return -1;
}

/* -B/-F: the target's backing file.  A new target records it (and must
 * name its format, as qemu-img 7.2 demands); with -n it only says that
 * the target's backing file already holds what the source's does. */
static int
set_target_backing(const convert_args *a, vv_create_spec *spec, const char *dst)
{
    if (a->skip_create) {
        if (!a->backing)
            return 0;
        spec->opts.backing_file = strdup(a->backing);
        return spec->opts.backing_file ? 0 : (vv_error("out of memory"), -1);
    }
    if (a->backing && vv_create_spec_set(spec, "backing_file", a->backing, dst) < 0)
        return -1;
    if (a->backing_fmt && vv_create_spec_set(spec, "backing_fmt", a->backing_fmt, dst) < 0)
        return -1;
    if (spec->opts.backing_file && !vv_create_spec_has(spec, VV_KEY_BACKING_FMT)) {
        vv_error("Use of backing file requires explicit backing format");
        return -1;
    }
    return 0;
}

/* --salvage: what qemu-img prints for a sector it could not read (or
 * whose block status it could not get) and copies as zeros (as data). */
static void
salvage_warning(void *opaque, bool block_status, uint64_t offset, int errnum)
{
    (void)opaque;
    fflush(stdout);
    fprintf(stderr, "%s: warning: error while reading %soffset %" PRIu64 ": %s\n", vv_prog(),
            block_status ? "block status at " : "", offset, strerror(errnum));
}

/* Build the target options and run the copy; returns the exit status. */
static int
run_convert(const convert_args *a, vdisk_format dst_fmt, const char *src, const char *dst)
{
    vv_create_spec spec;
    vv_create_spec_init(&spec, dst_fmt);
    int ret = 1;
    vdisk_convert_opts co = {
        .src_flags = a->src_flags,
        .target = &spec.opts,
        .workers = a->workers,
        .compress = a->compress,
        .direct = a->direct,
        .no_flush = a->no_flush,
        .src_snapshot = a->snapshot,
        .out_of_order = a->out_of_order,
        .existing_target = a->skip_create,
        .target_is_zero = a->target_is_zero,
        .fully_allocate = a->sparse_set && a->sparse == 0,
        .sparse_size = (uint32_t)a->sparse,
        .rate_limit = a->rate,
        .salvage = a->salvage,
        .salvage_warn = a->quiet ? NULL : salvage_warning,
    };
    if (a->options && vv_create_spec_parse(&spec, a->options, dst) < 0)
        goto out;
    if (vv_create_spec_check_legacy_aes(&spec, dst) < 0)
        goto out;
    if (set_target_backing(a, &spec, dst) < 0)
        goto out;
    if (a->src_fmt && vv_parse_format(a->src_fmt, &co.src_format) < 0)
        goto out;
    vv_image_name sn;
    if (vv_image_name_parse(src, a->secrets.image_opts, &sn) < 0)
        goto out;
    ret = source_secret(a, &sn, &co);
    if (sn.no_backing)
        co.src_flags |= VDISK_OPEN_NO_BACKING;   /* backing=null */
    src = sn.filename;
    if (ret == 0 && sn.format && vv_parse_format(sn.format, &co.src_format) < 0)
        ret = 1;
    if (ret == 0 && vv_secrets_for_create(&a->secrets, &spec.opts, dst) < 0)
        ret = 1;
    if (ret != 0)
        goto out_name;
    ret = 1;
    if (a->compress && dst_fmt != VDISK_FORMAT_QCOW2 &&
        !(dst_fmt == VDISK_FORMAT_VMDK && spec.opts.vmdk.subformat == VDISK_VMDK_STREAM_OPTIMIZED)) {
        vv_error("%s: Compression not supported for format %s (use -O qcow2, or -O vmdk -o "
                 "subformat=streamOptimized)", dst, vdisk_format_name(dst_fmt));
        goto out;
    }
    vv_progress prog;
    vv_progress_init(&prog, a->progress && !a->quiet, 1.0);
    co.progress = vv_progress_cb;
    co.opaque = &prog;
    vdisk_error err = { 0 };
    int r = vdisk_convert(src, dst, &co, &err);
    vv_progress_end(&prog, r == 0);
    if (r < 0)
        report_failure(&err, src, dst, a->snapshot);
    else
        ret = 0;
out_name:
    vv_image_name_clear(&sn);
out:
    vv_create_spec_clear(&spec);
    return ret;
}

/* convert: copy SRC into a new image DST of format -O. */
int
cmd_convert(int argc, char **argv)
{
    convert_args a = { .dst_fmt = "raw", .no_flush = true };
    int ret = parse_args(argc, argv, &a);
    if (ret >= 0)
        goto out;
    ret = 1;
    vdisk_format dst_fmt;
    if (vv_parse_format(a.dst_fmt, &dst_fmt) < 0)
        goto out;
    if (vv_opts_want_help(a.options)) {
        ret = vv_create_spec_help(dst_fmt, stdout) < 0;
        goto out;
    }
    if (optind != argc - 2) {
        ret = vv_usage_error("Expecting a source and a target image name");
        goto out;
    }
    if (check_combinations(&a) < 0)
        goto out;
    /* --target-image-opts: the target named as driver=FMT,file.filename=PATH */
    vv_image_name tn = { 0 };
    if (vv_image_name_parse(argv[optind + 1], a.target_image_opts, &tn) < 0)
        goto out;
    if (tn.key_secret || tn.backing_secret) {
        vv_error("--target-image-opts: the target's key-secret is not supported; give its "
                 "passphrase with --passphrase-file or --passphrase-fd");
        vv_image_name_clear(&tn);
        goto out;
    }
    if (tn.format && vv_parse_format(tn.format, &dst_fmt) < 0) {
        vv_image_name_clear(&tn);
        goto out;
    }
    ret = run_convert(&a, dst_fmt, argv[optind], tn.filename);
    vv_image_name_clear(&tn);
out:
    free(a.options);
    vv_secrets_clear(&a.secrets);
    return ret;
}
