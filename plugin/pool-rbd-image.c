/* vdisk plugin — RBD volumes in a format: qcow2-on-RBD.
 *
 * RBD volumes are raw, as libvirt's; a qcow2 one is made on request.  Its
 * format is recorded where the volume lives, in the image's RBD metadata
 * (key RBD_POOL_FORMAT_KEY), when it is created -- never probed from bytes
 * a guest can write.  Its qcow2 structure is read and written by
 * libvdisk's rbd protocol, through an image name built here from the
 * pool's source (monitors, config file, user, key).  That name holds the
 * key: it is never printed, libvdisk's messages get it replaced by
 * "rbd:POOL/IMAGE", and its buffer is wiped after use.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vdisk/create.h>
#include <vdisk/vol-provision.h>

#include "pool-rbd.h"

int
rbd_pool_image_format(vdisk_pool *pool, const char *name, rbd_image_t img, vdisk_format *fmt,
                      vdisk_error *err)
{
    char value[32];
    size_t len = sizeof(value);
    int r = rbd_metadata_get(img, RBD_POOL_FORMAT_KEY, value, &len);
    *fmt = VDISK_FORMAT_RAW;
    if (r == -ENOENT)
        return 0;
    if (r < 0)
        return rbd_pool_error(pool, name, r, "read the image's recorded format", err);
    if (vdisk_format_from_name(value, fmt, NULL) < 0 || *fmt != VDISK_FORMAT_QCOW2)
        return vdisk_error_set(err, EINVAL, "pool '%s': volume '%s' records format '%.16s', which "
                               "vdisk does not keep on RBD", pool->def->name, name, value);
    return 0;
}

int
rbd_pool_image_set_format(vdisk_pool *pool, const char *name, rbd_image_t img, vdisk_format fmt,
                          vdisk_error *err)
{
    if (fmt == VDISK_FORMAT_RAW || fmt == VDISK_FORMAT_UNKNOWN)
        return 0;
    int r = rbd_metadata_set(img, RBD_POOL_FORMAT_KEY, vdisk_format_name(fmt));
    return r < 0 ? rbd_pool_error(pool, name, r, "record the image's format", err) : 0;
}

/* Append text to the name with rbd:'s separators escaped. */
static void
put_escaped(FILE *f, const char *text)
{
    for (; *text; text++) {
        if (strchr("\\:@/", *text))
            fputc('\\', f);
        fputc(*text, f);
    }
}

/* "rbd:POOL/IMAGE[:conf=F][:id=U][:mon_host=H][:key=K]" (secret: wipe it)
 * and "rbd:POOL/IMAGE" (what messages show), both malloc'ed. */
static int
image_names(vdisk_pool *pool, const char *image, char **secret_name, size_t *secret_len, char **shown,
            vdisk_error *err)
{
    const vdisk_pool_source *src = &pool->def->source;
    char *key = NULL, *hosts = NULL;
    int r = src->auth_username ? rbd_pool_auth_key(pool, &key, err) : 0;
    if (r < 0)
        return r;
    if (src->nhosts && !(hosts = rbd_pool_mon_host(src)))
        r = vdisk_error_set(err, ENOMEM, "pool '%s': out of memory", pool->def->name);
    FILE *f = r == 0 ? open_memstream(secret_name, secret_len) : NULL;
    if (r == 0 && f) {
        fputs("rbd:", f);
        put_escaped(f, src->name);
        fputc('/', f);
        put_escaped(f, image);
        const char *opts[][2] = { { "conf", src->config_file }, { "id", src->auth_username },
                                  { "mon_host", hosts }, { "key", key } };
        for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++) {
            if (!opts[i][1])
                continue;
            fprintf(f, ":%s=", opts[i][0]);
            put_escaped(f, opts[i][1]);
        }
        if (fclose(f) != 0)
            r = vdisk_error_set(err, ENOMEM, "pool '%s': out of memory", pool->def->name);
    } else if (r == 0) {
        r = vdisk_error_set(err, ENOMEM, "pool '%s': out of memory", pool->def->name);
    }
    if (r == 0 && asprintf(shown, "rbd:%s/%s", src->name, image) < 0) {
        explicit_bzero(*secret_name, *secret_len);
        free(*secret_name);
        r = vdisk_error_set(err, ENOMEM, "pool '%s': out of memory", pool->def->name);
    }
    if (key) {
        explicit_bzero(key, strlen(key));
        free(key);
    }
    free(hosts);
    return r;
}

void
rbd_pool_scrub_key(vdisk_error *err)
{
    char *k = err ? strstr(err->message, ":key=") : NULL;
    if (k) {
        snprintf(k, sizeof(err->message) - (size_t)(k - err->message), ":key=(hidden)");
        if ((size_t)(k - err->message) < (size_t)err->name_off + err->name_len + 2)
            err->name_len = 0;   /* the name held the key: it is no longer whole */
    }
}

/* libvdisk's message about the name: the name as shown, and nothing of
 * the key even in a message cut short. */
static void
scrub_message(vdisk_error *err, const char *secret_name, const char *shown)
{
    vdisk_error_rename(err, secret_name, shown);
    rbd_pool_scrub_key(err);
}

static void
free_secret_name(char *name, size_t len)
{
    if (name) {
        explicit_bzero(name, len);
        free(name);
    }
}

/* libvirt's creation plan of the volume (compat 0.10 unless said, ...),
 * as for files, with RBD's one way to be thick: zeros written.  opts was
 * initialised for def's format. */
static int
plan_options(vdisk_pool *pool, const vdisk_vol_def *def, unsigned flags, vdisk_create_opts *opts,
             vdisk_error *err)
{
    vdisk_vol_provision plan;
    unsigned pflags = flags & VDISK_VOL_CREATE_PREALLOC_METADATA ? VDISK_VOL_PREALLOC_METADATA : 0;
    int r = vdisk_vol_provision_plan(def, pool->def, pflags, &plan, err);
    if (r < 0)
        return r;
    opts->size = plan.size;
    r = vdisk_create_opts_parse(opts, plan.options, err);
    if (opts->prealloc == VDISK_PREALLOC_FALLOC)
        opts->prealloc = VDISK_PREALLOC_FULL;      /* no fallocate on RBD */
    vdisk_vol_provision_clear(&plan);
    return r;
}

int
rbd_pool_create_formatted(vdisk_pool *pool, const vdisk_vol_def *def, unsigned flags,
                          vdisk_progress_fn progress, void *opaque, vdisk_error *err)
{
    char *name = NULL, *shown = NULL;
    size_t len = 0;
    vdisk_create_opts opts;
    vdisk_create_opts_init(&opts, def->format);
    int r = plan_options(pool, def, flags, &opts, err);
    if (r == 0 && (r = image_names(pool, def->name, &name, &len, &shown, err)) == 0 &&
        (r = vdisk_create(name, &opts, progress, opaque, err)) < 0)
        scrub_message(err, name, shown);
    vdisk_create_opts_clear(&opts);
    rbd_image_t img;
    if (r == 0 && (r = rbd_pool_open_image(pool, def->name, false, &img, err)) == 0) {
        r = rbd_pool_image_set_format(pool, def->name, img, def->format, err);
        rbd_close(img);
        rbd_pool_conn *c;
        if (r < 0 && rbd_pool_connect(pool, &c, NULL) == 0)
            rbd_remove(c->io, def->name);   /* unrecorded, it would read as raw */
    }
    free_secret_name(name, len);
    free(shown);
    return r;
}

int
rbd_pool_open_formatted(vdisk_pool *pool, const char *name, vdisk_format fmt, unsigned flags,
                        vdisk_image **img, vdisk_error *err)
{
    char *full = NULL, *shown = NULL;
    size_t len = 0;
    int r = image_names(pool, name, &full, &len, &shown, err);
    if (r < 0)
        return r;
    vdisk_open_opts opts = { .format = fmt, .flags = flags | VDISK_OPEN_NO_BACKING };
    if ((r = vdisk_open(full, &opts, img, err)) < 0)
        scrub_message(err, full, shown);
    free_secret_name(full, len);
    free(shown);
    return r;
}
