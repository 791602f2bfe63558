/* vdisk plugin — planning the image a volume definition asks for: libvirt's
 * dir-pool choices (format, compat, cluster size, features, backing,
 * encryption) plus DESIGN.md's thin / lazy / eager provisioning. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vdisk/vol-provision.h>

#include "xml-internal.h"

bool
vdisk_vol_format_can_create(vdisk_format fmt)
{
    if (fmt == VDISK_FORMAT_ISO)
        return true;
    return fmt != VDISK_FORMAT_LUKS && vdisk_format_can_create(fmt);
}

void
vdisk_vol_format_list_creatable(char *buf, size_t len)
{
    size_t used = 0;
    vdisk_format f;
    if (len)
        buf[0] = '\0';
    for (size_t i = 0; vdisk_format_at(i, &f); i++) {
        if (!vdisk_vol_format_can_create(f) || used >= len)
            continue;
        int n = snprintf(buf + used, len - used, "%s%s", used ? ", " : "", vdisk_format_name(f));
        used += n > 0 ? (size_t)n : 0;
    }
}

/* DESIGN.md: allocation == capacity is thick, zeroed as the pool says. */
static vdisk_prealloc
choose_prealloc(const vdisk_vol_def *vol, const vdisk_pool_def *pool, unsigned flags)
{
    bool thick = vol->has_allocation && vol->has_capacity && vol->capacity > 0 &&
                 vol->allocation >= vol->capacity;

    if (thick)
        return pool && pool->zeroing == VDISK_ZEROING_EAGER ? VDISK_PREALLOC_FULL
                                                            : VDISK_PREALLOC_FALLOC;
    if ((flags & VDISK_VOL_PREALLOC_METADATA) && vol->format == VDISK_FORMAT_QCOW2)
        return VDISK_PREALLOC_METADATA;
    return VDISK_PREALLOC_OFF;
}

/* Add option key (prefixed) = value to the plan; false when out of room or
 * memory (vdisk_vol_provision_plan fails then). */
static bool __attribute__((format(printf, 4, 5)))
add_opt(vdisk_vol_provision *out, const char *prefix, const char *key, const char *fmt, ...)
{
    if (out->n_opts >= VDISK_VOL_PROVISION_MAX_OPTS)
        return false;
    vdisk_vol_provision_opt *o = &out->opts[out->n_opts];
    va_list ap;
    va_start(ap, fmt);
    int n = vasprintf(&o->value, fmt, ap);
    va_end(ap);
    if (n < 0 || asprintf(&o->key, "%s%s", prefix, key) < 0) {
        if (n >= 0)
            free(o->value);
        o->value = NULL;
        return false;
    }
    out->n_opts++;
    return true;
}

/* The LUKS cipher options, prefixed "encrypt." inside qcow2. */
static bool
add_luks_options(vdisk_vol_provision *out, const vdisk_vol_encryption_def *enc, const char *prefix)
{
    bool ok = true;
    if (enc->cipher_name)
        ok &= add_opt(out, prefix, "cipher-alg", "%s-%u", enc->cipher_name, enc->cipher_size);
    if (enc->cipher_mode)
        ok &= add_opt(out, prefix, "cipher-mode", "%s", enc->cipher_mode);
    if (enc->cipher_hash)
        ok &= add_opt(out, prefix, "hash-alg", "%s", enc->cipher_hash);
    if (enc->ivgen_name)
        ok &= add_opt(out, prefix, "ivgen-alg", "%s", enc->ivgen_name);
    if (enc->ivgen_hash)
        ok &= add_opt(out, prefix, "ivgen-hash-alg", "%s", enc->ivgen_hash);
    return ok;
}

/* Refuse what libvirt refuses, before anything is written. */
static int
check(const vdisk_vol_def *vol, const char *compat, vdisk_error *err)
{
    const char *name = vol->name ? vol->name : "volume";
    bool qcow2 = vol->format == VDISK_FORMAT_QCOW2;

    if (vol->format != VDISK_FORMAT_UNKNOWN && !vdisk_vol_format_can_create(vol->format)) {
        char list[128];
        vdisk_vol_format_list_creatable(list, sizeof(list));
        return vdisk_error_set(err, ENOTSUP, "%s: volume format '%s' is not supported for new "
                               "volumes (vdisk creates %s)", name, vdisk_format_name(vol->format), list);
    }
    if (!vol->has_capacity && !vol->backing_path)
        return vdisk_error_set(err, EINVAL, "%s: missing <capacity> (only a volume with a "
                               "backing store may leave it out)", name);
    if (vol->backing_path && !qcow2)
        return vdisk_error_set(err, ENOTSUP, "%s: a backing store needs a qcow2 volume, not %s",
                               name, vdisk_format_name(vol->format));
    if (vol->encryption.format == VDISK_VOL_ENCRYPTION_QCOW)
        return vdisk_error_set(err, ENOTSUP, "%s: creating images with QEMU's legacy qcow "
                               "encryption is not supported, use <encryption format='luks'>",
                               name);
    if (qcow2 && (vol->lazy_refcounts || vol->extended_l2) && strcmp(compat, "1.1") != 0)
        return vdisk_error_set(err, EINVAL, "%s: %s needs compat 1.1, not %s", name,
                               vol->lazy_refcounts ? "lazy_refcounts" : "extended_l2", compat);
    return 0;
}

static bool
add_qcow2_options(vdisk_vol_provision *out, const vdisk_vol_def *vol, const char *compat)
{
    bool ok = add_opt(out, "", "compat", "%s", compat);
    if (vol->cluster_size)
        ok &= add_opt(out, "", "cluster_size", "%llu", (unsigned long long)vol->cluster_size);
    if (vol->lazy_refcounts)
        ok &= add_opt(out, "", "lazy_refcounts", "on");
    if (vol->extended_l2)
        ok &= add_opt(out, "", "extended_l2", "on");
    return ok;
}

/* The options as qemu-img's -o would take them ("" if none). */
static int
render_options(vdisk_vol_provision *out, vdisk_error *err)
{
    vdisk_xml_buf b = {0};
    for (size_t i = 0; i < out->n_opts; i++)
        vdisk_xml_buf_add(&b, "%s%s=%s", i ? "," : "", out->opts[i].key, out->opts[i].value);
    vdisk_xml_buf_add(&b, "%s", "");
    return vdisk_xml_buf_finish(&b, &out->options, err);
}

int
vdisk_vol_provision_plan(const vdisk_vol_def *vol, const vdisk_pool_def *pool, unsigned flags,
                         vdisk_vol_provision *out, vdisk_error *err)
{
    bool qcow2 = vol->format == VDISK_FORMAT_QCOW2;
    bool luks = vol->encryption.format == VDISK_VOL_ENCRYPTION_LUKS;
    const char *compat = vol->compat ? vol->compat : "0.10";
    int r;

    memset(out, 0, sizeof(*out));
    if ((r = check(vol, compat, err)) < 0)
        return r;
    /* luks: a raw LUKS container; iso: an empty raw file to upload into. */
    if (luks && !qcow2)
        out->format = "luks";
    else if (vol->format == VDISK_FORMAT_ISO || vol->format == VDISK_FORMAT_UNKNOWN)
        out->format = "raw";
    else
        out->format = vdisk_format_name(vol->format);
    out->size = vol->has_capacity ? vol->capacity : 0;
    out->size_from_backing = !vol->has_capacity;
    out->backing_file = vol->backing_path;
    out->prealloc = choose_prealloc(vol, pool, flags);
    out->encrypted = luks;
    bool ok = true;
    if (vol->backing_path && vol->backing_format != VDISK_FORMAT_UNKNOWN)
        ok &= add_opt(out, "", "backing_fmt", "%s", vdisk_format_name(vol->backing_format));
    else if (vol->backing_path && vol->backing_format_name)
        ok &= add_opt(out, "", "backing_fmt", "%s", vol->backing_format_name);
    if (luks && qcow2)
        ok &= add_opt(out, "", "encrypt.format", "luks");
    if (luks)
        ok &= add_luks_options(out, &vol->encryption, qcow2 ? "encrypt." : "");
    if (out->prealloc != VDISK_PREALLOC_OFF)
        ok &= add_opt(out, "", "preallocation", "%s", vdisk_prealloc_name(out->prealloc));
    if (vol->nocow)
        ok &= add_opt(out, "", "nocow", "on");
    if (qcow2)
        ok &= add_qcow2_options(out, vol, compat);
    /* A thick VHD or VHDX is the fixed subformat (the space is the file's
     * from the start); a thin one the dynamic default. */
    bool vhd = vol->format == VDISK_FORMAT_VPC || vol->format == VDISK_FORMAT_VHDX;
    if (vhd && out->prealloc != VDISK_PREALLOC_OFF)
        ok &= add_opt(out, "", "subformat", "fixed");
    r = ok ? render_options(out, err) : vdisk_error_set(err, ENOMEM, "out of memory");
    if (r < 0)
        vdisk_vol_provision_clear(out);
    return r;
}

int
vdisk_vol_provision_create_opts(const vdisk_vol_provision *p, vdisk_create_opts *opts,
                                vdisk_error *err)
{
    vdisk_format fmt;
    int r = vdisk_format_from_name(p->format, &fmt, err);
    if (r < 0)
        return r;
    vdisk_create_opts_init(opts, fmt);
    for (size_t i = 0; i < p->n_opts && r == 0; i++)
        r = vdisk_create_opts_set(opts, p->opts[i].key, p->opts[i].value, err);
    return r;
}

void
vdisk_vol_provision_clear(vdisk_vol_provision *p)
{
    if (!p)
        return;
    free(p->options);
    for (size_t i = 0; i < p->n_opts; i++) {
        free(p->opts[i].key);
        free(p->opts[i].value);
    }
    memset(p, 0, sizeof(*p));
}
