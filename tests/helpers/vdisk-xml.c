/* vdisk-xml: parse pool or volume XML with libvdisk-plugin and print it the
 * way pool-dumpxml / vol-dumpxml would, for the interop tests.
 *
 *   vdisk-xml pool FILE                 parse, format to stdout
 *   vdisk-xml vol FILE [POOLDIR [--key]]  parse, format; with POOLDIR, fill the
 *                                       target path (and with --key the key) as
 *                                       a dir pool does
 *   vdisk-xml units NUMBER [UNIT]       print the byte count
 *
 * Errors go to stderr with exit status 1.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vdisk/storage-xml.h>

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

int
main(int argc, char **argv)
{
    vdisk_error err = {0};
    uint64_t bytes;

    if (argc >= 3 && !strcmp(argv[1], "pool"))
        return do_pool(argv[2]);
    if (argc >= 3 && !strcmp(argv[1], "vol"))
        return do_vol(argv[2], argc > 3 ? argv[3] : NULL, argc > 4 && !strcmp(argv[4], "--key"));
    if (argc >= 3 && !strcmp(argv[1], "units")) {
        if (vdisk_scale_parse(argv[2], argc > 3 ? argv[3] : NULL, &bytes, &err) < 0)
            return fail(&err);
        printf("%llu\n", (unsigned long long)bytes);
        return 0;
    }
    fprintf(stderr, "usage: vdisk-xml pool FILE | vol FILE [POOLDIR] | units NUMBER [UNIT]\n");
    return 2;
}
