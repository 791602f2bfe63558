/* vdisk-xml: parse pool or volume XML with libvdisk-plugin and print it the
 * way pool-dumpxml / vol-dumpxml would, for the interop tests.
 *
 *   vdisk-xml pool FILE                 parse, format to stdout
 *   vdisk-xml vol FILE [POOLDIR [--key]]  parse, format; with POOLDIR, fill the
 *                                       target path (and with --key the key) as
 *                                       a dir pool does
 *   vdisk-xml plan FILE [POOLXML] [--prealloc-metadata]
 *                                       print the creation plan of the volume:
 *                                       format, size, backing, options lines
 *   vdisk-xml units NUMBER [UNIT]       print the byte count
 *
 * Errors go to stderr with exit status 1.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vdisk/storage-xml.h>
#include <vdisk/vol-provision.h>

static int
fail(const vdisk_error *err)
{
    fprintf(stderr, "vdisk-xml: %s\n", err->message);
    return 1;
}

static int
do_pool(const char *file)
{
    vdisk_error err = {0};
    vdisk_pool_def *def;
    char *xml;

    if (vdisk_pool_def_parse_file(file, &def, &err) < 0)
        return fail(&err);
    if (vdisk_pool_def_format(def, &xml, &err) < 0) {
        vdisk_pool_def_free(def);
        return fail(&err);
    }
    fputs(xml, stdout);
    free(xml);
    vdisk_pool_def_free(def);
    return 0;
}

static int
do_vol(const char *file, const char *pooldir, bool key)
{
    vdisk_error err = {0};
    vdisk_vol_def *def;
    char *xml;
    int r;

    if (vdisk_vol_def_parse_file(file, &def, &err) < 0)
        return fail(&err);
    if (pooldir) {
        size_t n = strlen(pooldir) + strlen(def->name) + 2;

        def->target_path = malloc(n);
        def->key = malloc(n);
        if (!def->target_path || !def->key) {
            vdisk_vol_def_free(def);
            fprintf(stderr, "vdisk-xml: out of memory\n");
            return 1;
        }
        snprintf(def->target_path, n, "%s/%s", pooldir, def->name);
        snprintf(def->key, n, "%s/%s", pooldir, def->name);
        if (!key) {
            free(def->key);
            def->key = NULL;
        }
    }
    r = vdisk_vol_def_format(def, &xml, &err);
    vdisk_vol_def_free(def);
    if (r < 0)
        return fail(&err);
    fputs(xml, stdout);
    free(xml);
    return 0;
}

static int
do_plan(const char *file, const char *poolfile, unsigned flags)
{
    vdisk_error err = {0};
    vdisk_vol_def *def;
    vdisk_pool_def *pool = NULL;
    vdisk_vol_provision plan;
    int r;

    if (vdisk_vol_def_parse_file(file, &def, &err) < 0)
        return fail(&err);
    if (poolfile && vdisk_pool_def_parse_file(poolfile, &pool, &err) < 0) {
        vdisk_vol_def_free(def);
        return fail(&err);
    }
    r = vdisk_vol_provision_plan(def, pool, flags, &plan, &err);
    if (r == 0) {
        printf("format=%s\nsize=%llu\nsize_from_backing=%d\nbacking=%s\nprealloc=%s\n"
               "encrypted=%d\noptions=%s\n", plan.format, (unsigned long long)plan.size,
               plan.size_from_backing, plan.backing_file ? plan.backing_file : "",
               vdisk_prealloc_name(plan.prealloc), plan.encrypted, plan.options);
        vdisk_vol_provision_clear(&plan);
    }
    vdisk_vol_def_free(def);
    vdisk_pool_def_free(pool);
    return r < 0 ? fail(&err) : 0;
}

int
main(int argc, char **argv)
{
    vdisk_error err = {0};
    uint64_t bytes;

    if (argc >= 3 && !strcmp(argv[1], "pool"))
        return do_pool(argv[2]);
    if (argc >= 3 && !strcmp(argv[1], "vol"))
        return do_vol(argv[2], argc > 3 ? argv[3] : NULL, argc > 4 && !strcmp(argv[4], "--key"));
    if (argc >= 3 && !strcmp(argv[1], "plan")) {
        const char *pool = NULL;
        unsigned flags = 0;

        for (int i = 3; i < argc; i++) {
            if (!strcmp(argv[i], "--prealloc-metadata"))
                flags |= VDISK_VOL_PREALLOC_METADATA;
            else
                pool = argv[i];
        }
        return do_plan(argv[2], pool, flags);
    }
    if (argc >= 3 && !strcmp(argv[1], "units")) {
        if (vdisk_scale_parse(argv[2], argc > 3 ? argv[3] : NULL, &bytes, &err) < 0)
            return fail(&err);
        printf("%llu\n", (unsigned long long)bytes);
        return 0;
    }
    fprintf(stderr, "usage: vdisk-xml pool FILE | vol FILE [POOLDIR [--key]] | "
                    "plan FILE [POOLXML] [--prealloc-metadata] | units NUMBER [UNIT]\n");
    return 2;
}
