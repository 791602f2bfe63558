/* vdisk-virsh amend — LUKS key-slot options (see amend-encrypt.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "amend-encrypt.h"
#include "options.h"

#define PREFIX "encrypt."

enum key_kind { KEY_NONE, KEY_AMEND, KEY_CREATE };

/* A LUKS option name (without the prefix): one qemu-img amend takes, one
 * it takes only when creating an image, or none -- as the library's qcow2
 * table lists them under "encrypt.". */
static enum key_kind
key_kind(const char *name)
{
    char full[sizeof(PREFIX) + 128];   /* keys are cut at 127 bytes */
    snprintf(full, sizeof(full), PREFIX "%s", name);
    if (vdisk_option_find(VDISK_FORMAT_QCOW2, full, VDISK_OPTION_KEYSLOT))
        return KEY_AMEND;
    if (vdisk_option_find(VDISK_FORMAT_QCOW2, full, VDISK_OPTION_CREATE))
        return KEY_CREATE;
    return KEY_NONE;
}

static int
remember(char **slot, const char *key)
{
    if (*slot)
        return 0;
    *slot = strdup(key);
    if (!*slot)
        vv_error("out of memory");
    return *slot ? 0 : -1;
}

/* A QemuOpts number (decimal, 0x hex, a leading minus as qemu's strtou64
 * takes it); `key` as given, for qemu-img's message. */
static int
parse_number(const char *key, const char *val, long long *out)
{
    char *end;
    errno = 0;
    *out = strtoll(val, &end, 0);
    if (!*val || *end || errno) {
        vv_error("Parameter '%s' expects a number", key);
        return -1;
    }
    return 0;
}

/* One amend key (name without the prefix) into ke. */
static int
set_amend_key(vv_amend_encrypt *ke, const char *key, const char *name, const char *val)
{
    long long n;
    if (strcmp(name, "state") == 0) {
        if (strcmp(val, "active") == 0)
            ke->o.state = VDISK_KEYSLOT_ACTIVE;
        else if (strcmp(val, "inactive") == 0)
            ke->o.state = VDISK_KEYSLOT_INACTIVE;
        else {
            vv_error("Parameter 'state' does not accept value '%s'", val);
            return -1;
        }
    } else if (strcmp(name, "new-secret") == 0 || strcmp(name, "old-secret") == 0) {
        char **id = name[0] == 'n' ? &ke->new_secret : &ke->old_secret;
        free(*id);
        *id = NULL;
        return remember(id, val);
    } else if (strcmp(name, "keyslot") == 0) {
        if (parse_number(key, val, &n) < 0)
            return -1;
        ke->o.has_keyslot = true;
        ke->o.keyslot = n;
    } else {
        if (parse_number(key, val, &n) < 0)
            return -1;
        ke->o.has_iter_time = true;
        ke->o.iter_time = (uint64_t)n;
    }
    return 0;
}

/* One key=value: an encryption key into ke (1), or not one (0), or -1. */
static int
take_key(vv_amend_encrypt *ke, const char *key, const char *val)
{
    bool prefixed = strncmp(key, PREFIX, strlen(PREFIX)) == 0;
    const char *name = prefixed ? key + strlen(PREFIX) : key;
    enum key_kind kind = key_kind(name);
    if (!prefixed && kind == KEY_NONE)
        return 0;
    if (kind == KEY_NONE) {
        vv_error("Invalid parameter '%s'", key);
        return -1;
    }
    ke->given = true;
    if (remember(prefixed ? &ke->prefixed : &ke->bare, key) < 0)
        return -1;
    if (kind == KEY_CREATE)
        return remember(&ke->create_only, key) < 0 ? -1 : 1;
    return set_amend_key(ke, key, name, val) < 0 ? -1 : 1;
}

int
vv_amend_encrypt_extract(char *list, vv_amend_encrypt *ke)
{
    char *copy = strdup(list), *save = NULL;
    if (!copy) {
        vv_error("out of memory");
        return -1;
    }
    size_t out = 0;
    int r = 0;
    for (char *kv = strtok_r(copy, ",", &save); kv && r == 0; kv = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(kv, '=');
        size_t klen = eq ? (size_t)(eq - kv) : strlen(kv);
        char key[128];
        snprintf(key, sizeof(key), "%.*s", (int)(klen < sizeof(key) ? klen : sizeof(key) - 1), kv);
        r = eq ? take_key(ke, key, eq + 1) : 0;
        if (r == 0) {
            /* Not ours: keep it for the other amend options. */
            r = remember(&ke->other, key);
            out += (size_t)sprintf(list + out, "%s%s", out ? "," : "", kv);
        } else if (r > 0) {
            r = 0;
        }
    }
    list[out] = '\0';
    free(copy);
    return r;
}

/* The keys must be spelled as the image's format wants them. */
static int
check_spelling(vdisk_image *img, const vv_amend_encrypt *ke)
{
    vdisk_format f = vdisk_get_format(img);
    const char *wrong = f == VDISK_FORMAT_QCOW2 ? ke->bare : f == VDISK_FORMAT_LUKS ? ke->prefixed : NULL;
    if (f != VDISK_FORMAT_QCOW2 && f != VDISK_FORMAT_LUKS) {
        vv_error("Format driver '%s' does not support option amendment", vdisk_format_name(f));
        return -1;
    }
    if (!wrong && f == VDISK_FORMAT_LUKS && ke->other)
        wrong = ke->other;
    if (wrong) {
        vv_error("Invalid parameter '%s'", wrong);
        return -1;
    }
    if (ke->create_only) {
        vv_error("Invalid parameter '%s'\nThis option is only supported for image creation", ke->create_only);
        return -1;
    }
    if (!ke->o.state) {
        vv_error("Parameter 'state' is missing");
        return -1;
    }
    return 0;
}

int
vv_amend_encrypt_apply(vdisk_image *img, vv_amend_encrypt *ke, const vv_secrets *secrets, bool force)
{
    if (check_spelling(img, ke) < 0)
        return -1;
    const vv_secret *s;
    if (ke->new_secret) {
        if (!(s = vv_secrets_lookup(secrets, ke->new_secret)))
            return -1;
        ke->o.new_secret = s->data;
        ke->o.new_secret_len = s->len;
    }
    if (ke->old_secret) {
        if (!(s = vv_secrets_lookup(secrets, ke->old_secret)))
            return -1;
        ke->o.old_secret = s->data;
        ke->o.old_secret_len = s->len;
    }
    ke->o.force = force;
    vdisk_error err = { 0 };
    int r = vdisk_amend_keyslots(img, &ke->o, &err);
    if (r < 0)
        vv_report_file(&err, vdisk_get_filename(img));
    return r < 0 ? -1 : 0;
}

void
vv_amend_encrypt_clear(vv_amend_encrypt *ke)
{
    free(ke->prefixed);
    free(ke->bare);
    free(ke->create_only);
    free(ke->other);
    free(ke->new_secret);
    free(ke->old_secret);
    memset(ke, 0, sizeof(*ke));
}
