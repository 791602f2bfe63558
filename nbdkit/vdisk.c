/* nbdkit-vdisk-plugin — export any image libvdisk opens over NBD.
 *
 *   nbdkit vdisk [file=]NAME [format=FMT] [password=SECRET] [readonly=BOOL]
 *                [force-share=BOOL]
 *
 * NAME is anything vdisk opens: a qcow2 file (with its backing chain), a
 * raw file or device, a LUKS image, an ISO 9660 image (always read-only),
 * an RBD image (rbd:pool/image:conf=...), another NBD export.  format=
 * names the format; without it the format is probed, which a client that
 * can write raw data could subvert on the next start: give format= for
 * raw images.  password= is read the nbdkit way (password=- asks on the
 * terminal, password=+FILE reads a file, password=-FD a descriptor), never
 * from argv in real use.
 *
 * One image handle serves every connection for the life of the server,
 * so the image lock (QEMU-compatible OFD locks on files, RBD's exclusive
 * lock) is held for the whole export: a VM or qemu-img cannot write the
 * image behind the clients' backs.  The image is opened once in
 * .get_ready to report errors before nbdkit daemonises, closed, and opened
 * for good in .after_fork (librados' threads do not survive a fork).
 *
 * Thread model: PARALLEL.  A libvdisk image handle is safe for data I/O
 * from several threads at once; metadata updates (qcow2 cluster
 * allocation, refcounts) are serialised inside the driver.  Since all
 * connections share one handle, a flush on any connection covers writes
 * from all of them, so multi-conn is advertised.
 *
 * nbdkit's plugin API keeps configuration in file-scope variables; this
 * file has exactly one, `export`, written during configuration only.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define NBDKIT_API_VERSION 2
#include <nbdkit-plugin.h>

#include <vdisk/vdisk.h>

#define THREAD_MODEL NBDKIT_THREAD_MODEL_PARALLEL

static struct {
    char *name;             /* file=; an absolute path for host files */
    char *format;           /* format=, or NULL: probe */
    char *password;         /* password=, wiped at unload */
    bool readonly;          /* readonly=, or the format (iso) demands it */
    bool force_share;       /* force-share= (read-only inspection of a busy image) */
    vdisk_image *img;       /* open from .after_fork to unload */
} export;

/* Wipe and free the passphrase; free the rest. */
static void
plugin_unload(void)
{
    if (export.img)
        vdisk_close(export.img, NULL);
    if (export.password) {
        explicit_bzero(export.password, strlen(export.password));
        free(export.password);
    }
    free(export.name);
    free(export.format);
    memset(&export, 0, sizeof(export));
}

/* A host path must survive nbdkit's chdir; protocol names stay as given. */
static char *
export_name(const char *value)
{
    bool protocol = strncmp(value, "rbd:", 4) == 0 || strstr(value, "://") != NULL;
    return protocol ? strdup(value) : nbdkit_absolute_path(value);
}

static int
parse_bool(const char *key, const char *value, bool *out)
{
    int b = nbdkit_parse_bool(value);
    if (b < 0)
        return -1;
    (void)key;
    *out = b;
    return 0;
}

/* One key=value of the command line. */
static int
plugin_config(const char *key, const char *value)
{
    char **slot = NULL;
    if (strcmp(key, "file") == 0) {
        free(export.name);
        export.name = export_name(value);
        return export.name ? 0 : -1;
    }
    if (strcmp(key, "format") == 0)
        slot = &export.format;
    else if (strcmp(key, "password") == 0) {
        free(export.password);
        export.password = NULL;
        return nbdkit_read_password(value, &export.password);
    } else if (strcmp(key, "readonly") == 0)
        return parse_bool(key, value, &export.readonly);
    else if (strcmp(key, "force-share") == 0)
        return parse_bool(key, value, &export.force_share);
    else {
        nbdkit_error("unknown parameter '%s' (file, format, password, readonly, force-share)", key);
        return -1;
    }
    free(*slot);
    *slot = strdup(value);
    if (!*slot) {
        nbdkit_error("strdup: %m");
        return -1;
    }
    return 0;
}

/* Check the parameters that go together. */
static int
plugin_config_complete(void)
{
    if (!export.name) {
        nbdkit_error("no image given: nbdkit vdisk file=NAME");
        return -1;
    }
    if (export.force_share && !export.readonly) {
        nbdkit_error("force-share=true needs readonly=true");
        return -1;
    }
    return 0;
}

#define plugin_config_help \
    "[file=]NAME           (required) the image: a path, rbd:POOL/IMAGE[...], nbd://...\n" \
    "format=FMT            raw, qcow2, luks, iso (default: probe)\n" \
    "password=SECRET       passphrase of an encrypted image (-, +FILE, -FD)\n" \
    "readonly=BOOL         open the image read-only\n" \
    "force-share=BOOL      read-only access to an image another process holds"

/* Open the image as configured. */
static int
open_export(vdisk_image **out)
{
    vdisk_open_opts oo = { .format = VDISK_FORMAT_UNKNOWN };
    vdisk_error err = { 0 };
    if (export.format && vdisk_format_from_name(export.format, &oo.format, &err) < 0) {
        nbdkit_error("%s", err.message);
        return -1;
    }
    oo.flags = (export.readonly ? 0 : VDISK_OPEN_RDWR) | (export.force_share ? VDISK_OPEN_FORCE_SHARE : 0);
    if (export.password) {
        oo.secret = export.password;
        oo.secret_len = strlen(export.password);
    }
    if (vdisk_open(export.name, &oo, out, &err) < 0) {
        nbdkit_error("%s", err.message);
        return -1;
    }
    return 0;
}

/* Open once before serving, so that a wrong name, passphrase or a busy
 * image is reported while nbdkit can still say so; an ISO is exported
 * read-only whatever was asked. */
static int
plugin_get_ready(void)
{
    vdisk_image *img;
    if (open_export(&img) < 0)
        return -1;
    bool iso = vdisk_get_format(img) == VDISK_FORMAT_ISO;
    vdisk_close(img, NULL);
    if (iso && !export.readonly) {
        nbdkit_debug("%s: ISO 9660 images are exported read-only", export.name);
        export.readonly = true;
    }
    return 0;
}

/* The handle that serves (and locks) for the rest of the server's life. */
static int
plugin_after_fork(void)
{
    return open_export(&export.img);
}

/* Every connection shares the one image. */
static void *
plugin_open(int readonly)
{
    (void)readonly;
    return export.img;
}

/* Nothing per connection to release. */
static void
plugin_close(void *handle)
{
    (void)handle;
}

/* Virtual size of the image. */
static int64_t
plugin_get_size(void *handle)
{
    return (int64_t)vdisk_get_size(handle);
}

/* Writable unless opened read-only. */
static int
plugin_can_write(void *handle)
{
    return !vdisk_is_read_only(handle);
}

/* Flush is always meaningful (a no-op when read-only). */
static int
plugin_can_flush(void *handle)
{
    (void)handle;
    return 1;
}

/* FUA: nbdkit follows the write with a flush. */
static int
plugin_can_fua(void *handle)
{
    (void)handle;
    return NBDKIT_FUA_EMULATE;
}

/* Trim and zero go to vdisk_discard / vdisk_write_zeroes. */
static int
plugin_can_trim(void *handle)
{
    return !vdisk_is_read_only(handle);
}

static int
plugin_can_zero(void *handle)
{
    return !vdisk_is_read_only(handle);
}

/* Block status through the whole backing chain. */
static int
plugin_can_extents(void *handle)
{
    (void)handle;
    return 1;
}

/* One image handle for every connection: a flush covers them all. */
static int
plugin_can_multi_conn(void *handle)
{
    (void)handle;
    return 1;
}

/* Report a libvdisk error the nbdkit way and hand its errno back. */
static int
fail(const vdisk_error *err, int r)
{
    nbdkit_error("%s", err->message);
    errno = -r;
    return -1;
}

/* Read. */
static int
plugin_pread(void *handle, void *buf, uint32_t count, uint64_t offset, uint32_t flags)
{
    vdisk_error err;
    (void)flags;
    int r = vdisk_pread(handle, buf, count, offset, &err);
    return r < 0 ? fail(&err, r) : 0;
}

/* Write (FUA is emulated by nbdkit with a flush). */
static int
plugin_pwrite(void *handle, const void *buf, uint32_t count, uint64_t offset, uint32_t flags)
{
    vdisk_error err;
    (void)flags;
    int r = vdisk_pwrite(handle, buf, count, offset, &err);
    return r < 0 ? fail(&err, r) : 0;
}

/* Flush the image's metadata and data to its storage. */
static int
plugin_flush(void *handle, uint32_t flags)
{
    vdisk_error err;
    (void)flags;
    int r = vdisk_flush(handle, &err);
    return r < 0 ? fail(&err, r) : 0;
}

/* Discard (the range need not read as zeros afterwards). */
static int
plugin_trim(void *handle, uint32_t count, uint64_t offset, uint32_t flags)
{
    vdisk_error err;
    (void)flags;
    int r = vdisk_discard(handle, count, offset, &err);
    return r < 0 ? fail(&err, r) : 0;
}

/* Write zeroes; MAY_TRIM lets the range become unallocated. */
static int
plugin_zero(void *handle, uint32_t count, uint64_t offset, uint32_t flags)
{
    vdisk_error err;
    unsigned zf = (flags & NBDKIT_FLAG_MAY_TRIM) ? VDISK_ZERO_MAY_UNMAP : 0;
    int r = vdisk_write_zeroes(handle, count, offset, zf, &err);
    return r < 0 ? fail(&err, r) : 0;
}

/* NBD base:allocation as qemu-nbd reports it: no data stored -> hole;
 * reads as zeros -> zero. */
static uint32_t
extent_type(unsigned flags)
{
    return ((flags & VDISK_EXTENT_DATA) ? 0 : NBDKIT_EXTENT_HOLE) |
           ((flags & VDISK_EXTENT_ZERO) ? NBDKIT_EXTENT_ZERO : 0);
}

/* Block status from offset on, at least one extent, until count is
 * covered (or REQ_ONE asks for a single one). */
static int
plugin_extents(void *handle, uint32_t count, uint64_t offset, uint32_t flags,
              struct nbdkit_extents *extents)
{
    uint64_t end = offset + count;
    while (offset < end) {
        vdisk_extent x;
        vdisk_error err;
        int r = vdisk_block_status_chain(handle, offset, end - offset, &x, &err);
        if (r < 0)
            return fail(&err, r);
        if (nbdkit_add_extent(extents, offset, x.length, extent_type(x.flags)) < 0)
            return -1;
        offset += x.length;
        if (flags & NBDKIT_FLAG_REQ_ONE)
            break;
    }
    return 0;
}

static struct nbdkit_plugin plugin = {
    .name = "vdisk",
    .longname = "nbdkit vdisk plugin (qcow2, raw, LUKS, ISO, RBD images via libvdisk)",
    .version = "0.1.0",
    .unload = plugin_unload,
    .config = plugin_config,
    .config_complete = plugin_config_complete,
    .config_help = plugin_config_help,
    .magic_config_key = "file",
    .get_ready = plugin_get_ready,
    .after_fork = plugin_after_fork,
    .open = plugin_open,
    .close = plugin_close,
    .get_size = plugin_get_size,
    .can_write = plugin_can_write,
    .can_flush = plugin_can_flush,
    .can_fua = plugin_can_fua,
    .can_trim = plugin_can_trim,
    .can_zero = plugin_can_zero,
    .can_extents = plugin_can_extents,
    .can_multi_conn = plugin_can_multi_conn,
    .pread = plugin_pread,
    .pwrite = plugin_pwrite,
    .flush = plugin_flush,
    .trim = plugin_trim,
    .zero = plugin_zero,
    .extents = plugin_extents,
    .errno_is_preserved = 1,
};

NBDKIT_REGISTER_PLUGIN(plugin)
