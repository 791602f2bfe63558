/* vdisk plugin — errors about pools, volumes and secrets (vdisk/store-error.h). */
#include <stdarg.h>
#include <stdio.h>

#include <vdisk/store-error.h>

int
vdisk_store_error_set(vdisk_error *err, vdisk_error_kind kind, vdisk_store_subject subject,
                      int errnum, const char *fmt, ...)
{
    if (err) {
        char msg[VDISK_ERROR_MAX];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        vdisk_error_set_kind(err, kind, errnum, "%s", msg);
        err->subject = subject;
    }
    return -errnum;
}

const char *
vdisk_store_error_words(const vdisk_error *err)
{
    if (!err)
        return NULL;
    if (err->kind == VDISK_ERR_INVALID_STATE && err->subject != VDISK_SUBJECT_NONE)
        return "Requested operation is not valid";
    if (err->kind != VDISK_ERR_NOT_FOUND)
        return NULL;
    switch (err->subject) {
    case VDISK_SUBJECT_POOL: return "Storage pool not found";
    case VDISK_SUBJECT_VOLUME: return "Storage volume not found";
    case VDISK_SUBJECT_SECRET: return "Secret not found";
    default: return NULL;
    }
}

void
vdisk_store_error_prefix(vdisk_error *err, const char *fmt, ...)
{
    if (!err)
        return;
    const char *words = vdisk_store_error_words(err);
    if (words)
        vdisk_error_prefix(err, "%s", words);
    err->subject = VDISK_SUBJECT_NONE;
    char context[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(context, sizeof(context), fmt, ap);
    va_end(ap);
    vdisk_error_prefix(err, "%s", context);
}
