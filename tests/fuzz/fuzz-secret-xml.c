/* libFuzzer target: the <secret> XML reader of the embedded registry
 * (plugin/secret-xml.c).  What parses is formatted, and the formatted text
 * must parse back to the same definition and format to the same text.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "secret-internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
same(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    vdisk_secret_def d, again;
    vdisk_error err;
    bool has_uuid;
    char *xml, *xml2;
    size_t len, len2;

    if (vdisk_secret_def_parse((const char *)data, size, "fuzz.xml", &d, &has_uuid, &err) < 0)
        return 0;
    if (vdisk_secret_def_format(&d, &xml, &len, &err) == 0) {
        if (vdisk_secret_def_parse(xml, len, "fuzz-out.xml", &again, &has_uuid, &err) < 0) {
            fprintf(stderr, "formatted secret XML does not parse: %s\n%s", err.message, xml);
            abort();
        }
        if (memcmp(d.uuid, again.uuid, 16) != 0 || !same(d.usage_type, again.usage_type) ||
            !same(d.usage_id, again.usage_id) || d.private_ != again.private_) {
            fprintf(stderr, "secret XML round trip differs:\n%s", xml);
            abort();
        }
        if (vdisk_secret_def_format(&again, &xml2, &len2, &err) == 0) {
            if (strcmp(xml, xml2) != 0) {
                fprintf(stderr, "secret XML format differs:\n%s---\n%s", xml, xml2);
                abort();
            }
            free(xml2);
        }
        vdisk_secret_def_clear(&again);
        free(xml);
    }
    vdisk_secret_def_clear(&d);
    return 0;
}
