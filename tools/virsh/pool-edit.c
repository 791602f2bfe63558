/* vdisk-virsh pool-edit, as virsh's: the pool's inactive XML into a
 * temporary file, $VISUAL (else $EDITOR, else sensible-editor) on it,
 * and the edited XML defined again, on any store.
 *
 *   pool-edit <pool>
 *
 * As virsh: an editor named with characters outside a safe set runs
 * through sh -c (then the file name must be safe); an unchanged file
 * changes nothing; a definition that fails asks "Try again?" on a
 * terminal.  Without a terminal virsh 9.0 prints "error: Failed." and
 * still reports success; vdisk-virsh says why it failed and exits 1.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "commands.h"
#include "virsh-args.h"
#include "store-open.h"

/* Characters virsh lets through unquoted in $EDITOR and the file name. */
#define SAFE_CHARS "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-/_.:@"

static bool
is_safe(const char *s)
{
    return strspn(s, SAFE_CHARS) == strlen(s);
}

/* The document into $TMPDIR/virshXXXXXX.xml (mode 0600); *path malloc'ed. */
static int
write_temp(const char *doc, char **path)
{
    const char *dir = getenv("TMPDIR");
    if (asprintf(path, "%s/virshXXXXXX.xml", dir ? dir : "/tmp") < 0)
        return -1;
    int fd = mkstemps(*path, 4);
    if (fd < 0) {
        vv_virsh_error("g_mkstemp_full: failed to create temporary file: %s", strerror(errno));
        free(*path);
        *path = NULL;
        return -1;
    }
    size_t len = strlen(doc), done = 0;
    while (done < len) {
        ssize_t w = write(fd, doc + done, len - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            vv_virsh_error("write: %s: failed to write to temporary file: %s", *path, strerror(errno));
            close(fd);
            return -1;
        }
        done += (size_t)w;
    }
    if (close(fd) < 0) {
        vv_virsh_error("close: %s: failed to write or close temporary file: %s", *path, strerror(errno));
        return -1;
    }
    return 0;
}

/* Is the program name found as libvirt's virCommand finds it (a path
 * as it is, a bare name in $PATH)? */
static bool
in_path(const char *prog)
{
    if (strchr(prog, '/'))
        return access(prog, X_OK) == 0;
    const char *path = getenv("PATH");
    char dir[4096];
    for (const char *p = path ? path : "/usr/bin:/bin"; *p;) {
        size_t len = strcspn(p, ":");
        if (len > 0 && len < sizeof(dir) - strlen(prog) - 2) {
            snprintf(dir, sizeof(dir), "%.*s/%s", (int)len, p, prog);
            if (access(dir, X_OK) == 0)
                return true;
        }
        p += len + (p[len] == ':');
    }
    return false;
}

/* Run the editor on path and wait for it; -1 after the error. */
static int
run_editor(const char *path)
{
    const char *editor = getenv("VISUAL");
    if (!editor)
        editor = getenv("EDITOR");
    if (!editor)
        editor = "sensible-editor";
    bool shell = !is_safe(editor);
    if (shell && !is_safe(path)) {
        vv_virsh_error("%s: temporary filename contains shell meta or other unacceptable characters "
                       "(is $TMPDIR wrong?)", path);
        return -1;
    }
    if (!shell && !in_path(editor)) {
        vv_virsh_error("Cannot find '%s' in path: %s", editor, strerror(ENOENT));
        return -1;
    }
    char *line = NULL;
    if (shell && asprintf(&line, "%s %s", editor, path) < 0)
        return -1;
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        if (shell)
            execl("/bin/sh", "sh", "-c", line, (char *)NULL);
        else
            execlp(editor, editor, path, (char *)NULL);
        fprintf(stderr, "error: Cannot run '%s': %s\n", shell ? "/bin/sh" : editor, strerror(errno));
        _exit(127);
    }
    int status = 0;
    while (pid > 0 && waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    int r = 0;
    if (pid < 0) {
        vv_virsh_error("cannot start the editor: %s", strerror(errno));
        r = -1;
    } else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        if (shell)
            vv_virsh_error("internal error: Child process (sh -c '%s') unexpected %s %d", line,
                           WIFEXITED(status) ? "exit status" : "fatal signal", WIFEXITED(status)
                           ? WEXITSTATUS(status) : WTERMSIG(status));
        else
            vv_virsh_error("internal error: Child process (%s %s) unexpected %s %d", editor, path,
                           WIFEXITED(status) ? "exit status" : "fatal signal", WIFEXITED(status)
                           ? WEXITSTATUS(status) : WTERMSIG(status));
        r = -1;
    }
    free(line);
    return r;
}

/* virsh's question after a failed definition, on a terminal only:
 * 'y' edit again, 'n' give up, 'f' define again; -1 without a terminal. */
static int
ask_reedit(const char *msg, const vdisk_error *err)
{
    if (!isatty(STDIN_FILENO))
        return -1;
    vv_store_report(err);
    for (;;) {
        printf("\r%s Try again? [y,n,f,?]: ", msg);
        fflush(stdout);
        int c = getchar();
        while (c == '\n')
            c = getchar();
        if (c == EOF)
            return 'n';
        c = c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
        if (c == '?')
            printf("\ny - yes, start editor again\nn - no, throw away my changes\n"
                   "f - force, try to redefine again\n? - print this help\n");
        else if (c == 'y' || c == 'n' || c == 'f') {
            printf("\r\n");
            return c;
        }
    }
}

/* The XML the edit starts from (and compares with): the inactive
 * definition, or (*inactive cleared, as virsh does for a store that
 * refuses the flag as an invalid argument) the pool's XML. */
static int
get_xml(vv_store_ctx *c, bool *inactive, char **xml)
{
    vdisk_error err = { 0 };
    int r = c->store->ops->pool_xml(c->pool, *inactive, xml, &err);
    if (r == -EINVAL && *inactive) {
        *inactive = false;
        vdisk_error_clear(&err);
        r = c->store->ops->pool_xml(c->pool, false, xml, &err);
    }
    if (r < 0)
        vv_store_report(&err);
    return r;
}

/* Edit, compare, define; loops as virsh's virsh-edit.c does.  0 or 1. */
static int
edit_loop(vv_store_ctx *c, bool inactive, char **doc, const char *tmp)
{
    char *edited = NULL;
    size_t len;
    int r = 1;
    for (bool reedit = true; reedit;) {
        reedit = false;
        free(edited);
        edited = NULL;
        if (run_editor(tmp) < 0 || vv_read_file(tmp, &edited, &len) < 0)
            break;
        if (strcmp(*doc, edited) == 0) {
            printf("Pool %s XML configuration not changed.\n", c->pool->name);
            r = 0;
            break;
        }
        for (bool redefine = true; redefine;) {
            redefine = false;
            char *now = NULL, *name = NULL;
            const char *msg = NULL;
            vdisk_store_define_step step;
            vdisk_error err = { 0 };
            if (get_xml(c, &inactive, &now) < 0)
                break;
            if (strcmp(*doc, now) != 0) {
                msg = "The XML configuration was changed by another user.";
                free(*doc);
                *doc = now;
                now = NULL;
            } else if (c->store->ops->pool_define_file(c->store, tmp, false, &name, &step, &err) < 0) {
                msg = "Failed.";
            }
            free(now);
            if (!msg) {
                printf("Pool %s XML configuration edited.\n", name);
                r = 0;
            } else {
                int answer = ask_reedit(msg, &err);
                reedit = answer == 'y';
                redefine = answer == 'f';
                if (answer < 0) {
                    vv_virsh_error("%s", msg);
                    vv_store_report(&err);
                }
            }
            free(name);
        }
    }
    free(edited);
    return r;
}

/* pool-edit: edit a pool's XML definition. */
int
cmd_pool_edit(const char *uri, int argc, char **argv)
{
    vv_arg args[] = { VV_REQ("pool") };
    vv_store_ctx c;
    int r = vv_store_begin_pool(uri, argc, argv, args, VV_N(args), &c);
    if (r != VV_GO)
        return r;
    char *doc = NULL, *tmp = NULL;
    bool inactive = true;
    r = 1;
    if (get_xml(&c, &inactive, &doc) == 0 && write_temp(doc, &tmp) == 0)
        r = edit_loop(&c, inactive, &doc, tmp);
    if (tmp) {
        unlink(tmp);
        free(tmp);
    }
    free(doc);
    vv_store_end(&c);
    return r;
}
