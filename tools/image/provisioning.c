/* vdisk-virsh — running a provisioning change and reporting it (see
 * provisioning.h).  Interrupting the command (Ctrl-C, kill) is safe: the
 * library keeps the image consistent at every point. */
#include <inttypes.h>
#include <stdio.h>

#include "images.h"
#include "output.h"
#include "progress.h"
#include "provisioning.h"

typedef int (*provision_fn)(vdisk_image *img, unsigned flags, vdisk_progress_fn progress,
                            void *opaque, vdisk_provision_result *res, vdisk_error *err);

static const struct {
    const char *name;
    provision_fn fn;
} ops[] = {
    [VV_PROVISION_INFLATE] = { "inflate", vdisk_inflate },
    [VV_PROVISION_EAGERZERO] = { "eagerzero", vdisk_eagerzero },
    [VV_PROVISION_SPARSIFY] = { "sparsify", vdisk_sparsify },
};

static void
print_json(vv_provision_op op, unsigned flags, const vdisk_provision_result *r)
{
    vv_json j;
    vv_json_init(&j, stdout);
    vv_json_object_begin(&j, NULL);
    vv_json_string(&j, "operation", ops[op].name);
    vv_json_bool(&j, "dry-run", flags & VDISK_PROVISION_DRY_RUN);
    vv_json_uint(&j, "changed", r->changed);
    vv_json_uint(&j, "zeroed", r->zeroed);
    vv_json_uint(&j, "host-before", r->host_before);
    vv_json_uint(&j, "host-after", r->host_after);
    vv_json_uint(&j, "from-backing", r->from_backing);
    vv_json_uint(&j, "shared", r->shared);
    vv_json_uint(&j, "compressed", r->compressed);
    vv_json_uint(&j, "thin", r->thin);
    vv_json_object_end(&j);
    vv_json_finish(&j);
}

/* "N left as they are: ..." lines, one per reason. */
static void
print_skipped(const vdisk_provision_result *r)
{
    char b[32];
    if (r->from_backing)
        printf("Left as they are: %s reading from the backing file (an overlay inflates only its "
               "own layer).\n", vv_size_to_str(r->from_backing, b, sizeof(b)));
    if (r->shared)
        printf("Left as they are: %s shared with internal snapshots.\n",
               vv_size_to_str(r->shared, b, sizeof(b)));
    if (r->compressed)
        printf("Left as they are: %s of compressed clusters.\n",
               vv_size_to_str(r->compressed, b, sizeof(b)));
    if (r->thin)
        printf("Left as they are: %s without host space (thin; 'inflate --eager' fills it).\n",
               vv_size_to_str(r->thin, b, sizeof(b)));
}

static void
print_human(const char *name, vv_provision_op op, unsigned flags, const vdisk_provision_result *r)
{
    bool dry = flags & VDISK_PROVISION_DRY_RUN;
    char c[32], z[32], hb[32], ha[32];
    vv_size_to_str(r->changed, c, sizeof(c));
    vv_size_to_str(r->zeroed, z, sizeof(z));
    const char *would = dry ? "would be " : "";
    if (dry)
        printf("Dry run, nothing was changed.\n");
    switch (op) {
    case VV_PROVISION_INFLATE:
        printf("%s: %s %sgiven host space (%s thick), %s of zeros %swritten.\n", name, c, would,
               (flags & VDISK_INFLATE_EAGER) ? "eager-zeroed" : "lazy-zeroed", z, would);
        break;
    case VV_PROVISION_EAGERZERO:
        printf("%s: %s of reserved space %swritten with zeros.\n", name, z, would);
        break;
    case VV_PROVISION_SPARSIFY:
        printf("%s: %s reading as zeros %sgiven back to the host.\n", name, c, would);
        break;
    }
    printf("Host space: %s -> %s%s.\n", vv_size_to_str(r->host_before, hb, sizeof(hb)),
           dry ? "about " : "", vv_size_to_str(r->host_after, ha, sizeof(ha)));
    print_skipped(r);
}

int
vv_provision_run(const vv_provision_args *a)
{
    bool dry = a->flags & VDISK_PROVISION_DRY_RUN;
    vdisk_image *img;
    /* NO_KEY: an encrypted image opens, and is refused with the reason. */
    if (vv_open_image(a->file, a->fmt, (dry ? 0 : VDISK_OPEN_RDWR) | VDISK_OPEN_NO_KEY, &img) < 0)
        return 1;
    vv_progress prog;
    vv_progress_init(&prog, a->progress && !a->quiet, 1.0);
    vdisk_provision_result res;
    vdisk_error err = { 0 };
    int r = ops[a->op].fn(img, a->flags, vv_progress_cb, &prog, &res, &err);
    vv_progress_end(&prog, r == 0);
    if (r < 0)
        vv_report_file(&err, a->file);
    if (vv_close_image(img, r == 0 && !dry) < 0 || r < 0)
        return 1;
    if (!a->quiet || a->output == VV_OUTPUT_JSON)
        vv_provision_print(a->file, a->op, a->flags, &res, a->output);
    return 0;
}

void
vv_provision_print(const char *name, vv_provision_op op, unsigned flags,
                   const vdisk_provision_result *r, vv_output output)
{
    if (output == VV_OUTPUT_JSON)
        print_json(op, flags, r);
    else
        print_human(name, op, flags, r);
}
