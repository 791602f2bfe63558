/* libFuzzer target: the pool and volume XML parsers of libvdisk-plugin.
 *
 * Each input is parsed as pool XML and as volume XML.  What parses is
 * formatted, and the formatted text must parse again and format to the same
 * text (vol-dumpxml output is vol-create input); a volume is also planned
 * for creation.  The input is also read from a file, as `pool-define FILE`
 * and `vol-create POOL FILE` read theirs.  Errors are the expected outcome for most inputs; crashes,
 * leaks, undefined behaviour and a broken round trip are what is reported.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <vdisk/storage-xml.h>
#include <vdisk/vol-provision.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The formatted text of a definition must read back to itself. */
static void
check_pool_round_trip(const char *xml)
{
    vdisk_pool_def *again;
    vdisk_error err;
    char *xml2;

    if (vdisk_pool_def_parse(xml, strlen(xml), "fuzz-out.xml", &again, &err) < 0) {
        fprintf(stderr, "formatted pool XML does not parse: %s\n%s", err.message, xml);
        abort();
    }
    if (vdisk_pool_def_format(again, &xml2, &err) == 0) {
        if (strcmp(xml, xml2) != 0) {
            fprintf(stderr, "pool XML round trip differs:\n%s---\n%s", xml, xml2);
            abort();
        }
        free(xml2);
    }
    vdisk_pool_def_free(again);
}

static void
fuzz_pool(const char *data, size_t size)
{
    vdisk_pool_def *def;
    vdisk_error err;
    char *xml;

    if (vdisk_pool_def_parse(data, size, "fuzz.xml", &def, &err) < 0)
        return;
    if (vdisk_pool_def_format(def, &xml, &err) == 0) {
        check_pool_round_trip(xml);
        free(xml);
    }
    vdisk_pool_def_free(def);
}

static void
check_vol_round_trip(const char *xml)
{
    vdisk_vol_def *again;
    vdisk_error err;
    char *xml2;

    if (vdisk_vol_def_parse(xml, strlen(xml), "fuzz-out.xml", &again, &err) < 0) {
        fprintf(stderr, "formatted volume XML does not parse: %s\n%s", err.message, xml);
        abort();
    }
    if (vdisk_vol_def_format(again, &xml2, &err) == 0) {
        if (strcmp(xml, xml2) != 0) {
            fprintf(stderr, "volume XML round trip differs:\n%s---\n%s", xml, xml2);
            abort();
        }
        free(xml2);
    }
    vdisk_vol_def_free(again);
}

static void
fuzz_vol(const char *data, size_t size)
{
    vdisk_vol_provision plan;
    vdisk_pool_def pool = { .zeroing = VDISK_ZEROING_EAGER };
    vdisk_vol_def *def;
    vdisk_error err;
    char *xml;

    if (vdisk_vol_def_parse(data, size, "fuzz.xml", &def, &err) < 0)
        return;
    if (vdisk_vol_def_format(def, &xml, &err) == 0) {
        check_vol_round_trip(xml);
        free(xml);
    }
    if (vdisk_vol_provision_plan(def, &pool, VDISK_VOL_PREALLOC_METADATA, &plan, &err) == 0)
        vdisk_vol_provision_clear(&plan);
    vdisk_vol_def_free(def);
}

/* The input as a file (an in-memory one), parsed by the file readers. */
static void
fuzz_files(const uint8_t *data, size_t size)
{
    int fd = memfd_create("fuzz-storage-xml", MFD_CLOEXEC);
    if (fd < 0)
        return;
    if (size == 0 || write(fd, data, size) == (ssize_t)size) {
        char path[64];
        snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
        vdisk_pool_def *pool;
        vdisk_vol_def *vol;
        vdisk_error err;
        if (vdisk_pool_def_parse_file(path, &pool, &err) == 0)
            vdisk_pool_def_free(pool);
        if (vdisk_vol_def_parse_file(path, &vol, &err) == 0)
            vdisk_vol_def_free(vol);
    }
    close(fd);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_pool((const char *)data, size);
    fuzz_vol((const char *)data, size);
    fuzz_files(data, size);
    return 0;
}
