/* vdisk-virsh — virsh's option grammar and error messages (virsh-args.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <vdisk/storage-xml.h>
#include <vdisk/store-error.h>

#include "commands.h"
#include "options.h"
#include "virsh-args.h"

void
vv_virsh_error(const char *fmt, ...)
{
    va_list ap;
    fflush(stdout);
    fputs("error: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

void
vv_virsh_report(const vdisk_error *err)
{
    const char *words = vdisk_store_error_words(err);
    if (words)
        vv_virsh_error("%s: %s", words, vv_error_text(err));
    else
        vv_virsh_error("%s", vv_error_text(err));
}

vv_arg *
vv_arg_get(vv_arg *args, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(args[i].name, name) == 0)
            return &args[i];
    return NULL;
}

/* Give the next unset positional argument a bare word. */
static int
take_positional(const char *cmd, vv_arg *args, size_t n, const char *word)
{
    for (size_t i = 0; i < n; i++)
        if ((args[i].flags & VV_ARG_POSITIONAL) && !args[i].set) {
            args[i].set = true;
            args[i].value = word;
            return 0;
        }
    vv_virsh_error("unexpected data '%s'", word);
    return VV_PARSE_FAILED;
}

/* One "--name[=value]" option; *i moves past a separate value. */
static int
take_option(const char *cmd, int argc, char **argv, int *i, vv_arg *args, size_t n)
{
    const char *opt = argv[*i] + 2;
    const char *eq = strchr(opt, '=');
    size_t len = eq ? (size_t)(eq - opt) : strlen(opt);
    vv_arg *a = NULL;
    for (size_t k = 0; k < n && !a; k++)
        if (strlen(args[k].name) == len && strncmp(args[k].name, opt, len) == 0)
            a = &args[k];
    if (!a) {
        vv_virsh_error("command '%s' doesn't support option --%.*s", cmd, (int)len, opt);
        return VV_PARSE_FAILED;
    }
    if (a->set) {
        vv_virsh_error("option --%s already seen", a->name);
        return VV_PARSE_FAILED;
    }
    a->set = true;
    if (!(a->flags & VV_ARG_VALUE)) {
        if (eq) {
            vv_virsh_error("option --%s does not take a value", a->name);
            return VV_PARSE_FAILED;
        }
        return 0;
    }
    if (eq) {
        a->value = eq + 1;
    } else if (*i + 1 < argc) {
        a->value = argv[++*i];
    } else {
        vv_virsh_error("expected syntax: --%s <string>", a->name);
        return VV_PARSE_FAILED;
    }
    return 0;
}

int
vv_virsh_parse(int argc, char **argv, vv_arg *args, size_t n)
{
    const char *cmd = argv[0];
    bool words_only = false;
    for (int i = 1; i < argc; i++) {
        const char *w = argv[i];
        int r;
        if (!words_only && strcmp(w, "--") == 0) {
            words_only = true;
            continue;
        }
        if (!words_only && (strcmp(w, "--help") == 0 || strcmp(w, "-h") == 0)) {
            vv_command_help(cmd);
            return VV_PARSE_HELP;
        }
        if (!words_only && w[0] == '-' && w[1] == '-' && w[2])
            r = take_option(cmd, argc, argv, &i, args, n);
        else
            r = take_positional(cmd, args, n, w);
        if (r)
            return r;
    }
    for (size_t i = 0; i < n; i++)
        if ((args[i].flags & VV_ARG_REQUIRED) && !args[i].set) {
            vv_virsh_error("command '%s' requires <%s> option", cmd, args[i].name);
            return VV_PARSE_FAILED;
        }
    return 0;
}

int
vv_virsh_parse_scaled(const char *what, const char *text, uint64_t *out)
{
    size_t digits = strspn(text, "0123456789");
    char number[32];
    if (digits == 0 || digits >= sizeof(number)) {
        vv_virsh_error("Malformed size %s", text);
        return -EINVAL;
    }
    memcpy(number, text, digits);
    number[digits] = '\0';
    vdisk_error err = { 0 };
    const char *unit = text[digits] ? text + digits : NULL;
    if (vdisk_scale_parse(number, unit, out, &err) < 0) {
        vv_virsh_error("Malformed size %s (%s: %s)", text, what, err.message);
        return -EINVAL;
    }
    return 0;
}

char *
vv_pretty_capacity(uint64_t bytes, char *buf, size_t len)
{
    static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
    double v = (double)bytes;
    size_t u = 0;
    while (v >= 1024.0 && u + 1 < sizeof(units) / sizeof(units[0])) {
        v /= 1024.0;
        u++;
    }
    snprintf(buf, len, "%.2lf %s", v, units[u]);
    return buf;
}

void
vv_print_size(const char *label, uint64_t v, bool bytes, const char *unit)
{
    char buf[32];
    if (bytes)
        printf("%-15s %llu%s\n", label, (unsigned long long)v, unit);
    else
        printf("%-15s %s\n", label, vv_pretty_capacity(v, buf, sizeof(buf)));
}

int
vv_lazy_progress_cb(void *opaque, uint64_t done, uint64_t total)
{
    vv_lazy_progress *lp = opaque;
    pthread_mutex_lock(&lp->lock);
    if (!lp->started) {
        vv_progress_init(&lp->bar, true, 1.0);
        lp->started = true;
    }
    pthread_mutex_unlock(&lp->lock);
    return vv_progress_cb(&lp->bar, done, total);
}

void
vv_lazy_progress_end(vv_lazy_progress *lp, bool success)
{
    if (lp->started)
        vv_progress_end(&lp->bar, success);
    pthread_mutex_destroy(&lp->lock);
}

int
vv_read_file_err(const char *path, char **data, size_t *len, vdisk_error *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        return vdisk_error_set(err, e, "Failed to open file '%s': %s", path, strerror(e));
    }
    if (!S_ISREG(st.st_mode) || st.st_size > VDISK_XML_MAX_SIZE) {
        close(fd);
        return vdisk_error_set(err, EFBIG, "file '%s' is not a regular file of at most %u bytes", path,
                               VDISK_XML_MAX_SIZE);
    }
    char *buf = malloc((size_t)st.st_size + 1);
    ssize_t got = buf ? read(fd, buf, (size_t)st.st_size) : -1;
    close(fd);
    if (got != st.st_size) {
        free(buf);
        return vdisk_error_set(err, EIO, "Failed to read file '%s'", path);
    }
    buf[got] = '\0';
    *data = buf;
    *len = (size_t)got;
    return 0;
}

int
vv_read_file(const char *path, char **data, size_t *len)
{
    vdisk_error err = { 0 };
    int r = vv_read_file_err(path, data, len, &err);
    if (r < 0)
        vv_virsh_report(&err);
    return r;
}
