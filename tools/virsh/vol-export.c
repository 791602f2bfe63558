/* vdisk-virsh vol-export: serve a pool volume over NBD with nbdkit and
 * vdisk's nbdkit plugin (a verb no virsh has), on any store.
 *
 *   vol-export <pool> <vol> (--socket PATH | --port N [--address ADDR])
 *              [--readonly] [--foreground] [--pidfile FILE]
 *
 * The volume's path, format and passphrase come from the pool
 * (vdisk_vol_access_get), never from a new probe of bytes a guest wrote.
 * The passphrase reaches nbdkit through a pipe (password=-FD), never argv.
 * By default nbdkit goes to the background once it is listening and the
 * command prints the export's URI and nbdkit's pid; --foreground runs it
 * in this process until it is stopped.  The plugin holds the image's lock
 * for the whole export, so a guest or a second export is refused.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <vdisk/volume.h>

#include "commands.h"
#include "options.h"
#include "store-open.h"
#include "virsh-args.h"

#define PASSWORD_FD 3
#define MAX_ARGV 24

/* The export as the user asked for it. */
typedef struct export_req {
    const char *socket;      /* absolute, or NULL */
    const char *port;
    const char *address;
    const char *pidfile;     /* absolute, or NULL */
    bool readonly;
    bool foreground;
} export_req;

/* nbdkit's plugin: $VDISK_NBDKIT_PLUGIN, the one built beside this program
 * (a build tree: tools/vdisk-virsh and nbdkit/nbdkit-vdisk-plugin.so),
 * else "vdisk" from nbdkit's own plugin directory (installed). */
static char *
plugin_path(void)
{
    const char *env = getenv("VDISK_NBDKIT_PLUGIN");
    if (env && *env)
        return strdup(env);
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (n > 0) {
        exe[n] = '\0';
        char *slash = strrchr(exe, '/');
        if (slash) {
            *slash = '\0';
            char *p;
            if (asprintf(&p, "%s/../nbdkit/nbdkit-vdisk-plugin.so", exe) < 0)
                return NULL;
            if (access(p, R_OK) == 0)
                return p;
            free(p);
        }
    }
    return strdup("vdisk");
}

/* path made absolute (nbdkit changes to / when it goes to the background);
 * malloc'ed, or NULL after printing why. */
static char *
absolute(const char *what, const char *path)
{
    if (path[0] == '/')
        return strdup(path);
    char cwd[PATH_MAX];
    char *p = NULL;
    if (!getcwd(cwd, sizeof(cwd)) || asprintf(&p, "%s/%s", cwd, path) < 0) {
        vv_virsh_error("%s '%s': cannot make the path absolute: %s", what, path, strerror(errno));
        return NULL;
    }
    return p;
}

/* The nbdkit command line, NULL-terminated (strings owned by the caller's
 * buffers; at most 20 words, MAX_ARGV holds them). */
static void
build_argv(const char **argv, const export_req *q, const char *plugin, const char *pidfile,
           const vdisk_vol_access *a, char *file_arg, size_t file_len, char *format_arg,
           size_t format_len)
{
    size_t n = 0;
    argv[n++] = "nbdkit";
    if (q->foreground)
        argv[n++] = "--foreground";
    if (pidfile) {
        argv[n++] = "--pidfile";
        argv[n++] = pidfile;
    }
    if (q->socket) {
        argv[n++] = "--unix";
        argv[n++] = q->socket;
    } else {
        argv[n++] = "--port";
        argv[n++] = q->port;
        if (q->address) {
            argv[n++] = "--ipaddr";
            argv[n++] = q->address;
        }
    }
    bool ro = q->readonly || a->read_only;
    if (ro)
        argv[n++] = "--readonly";
    argv[n++] = plugin;
    snprintf(file_arg, file_len, "file=%s", a->path);
    argv[n++] = file_arg;
    /* Always named: the pool's format, not a probe of the guest's bytes. */
    snprintf(format_arg, format_len, "format=%s", vdisk_format_name(a->format));
    argv[n++] = format_arg;
    if (a->passphrase)
        argv[n++] = "password=-3";
    if (ro)
        argv[n++] = "readonly=true";
    argv[n] = NULL;
}

/* A pipe holding the passphrase, its read end at PASSWORD_FD in the
 * child; -1 after printing why. */
static int
passphrase_pipe(const vdisk_vol_access *a, int *rfd)
{
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0) {
        vv_virsh_error("cannot create a pipe for the passphrase: %s", strerror(errno));
        return -1;
    }
    /* A pipe holds 64 KiB without a reader: passphrases are far smaller. */
    ssize_t w = a->passphrase_len <= 4096 ? write(p[1], a->passphrase, a->passphrase_len) : -1;
    close(p[1]);
    if (w != (ssize_t)a->passphrase_len) {
        vv_virsh_error("cannot hand the passphrase to nbdkit (%zu bytes)", a->passphrase_len);
        close(p[0]);
        return -1;
    }
    *rfd = p[0];
    return 0;
}

/* In the child (or this process with --foreground): put the passphrase
 * pipe at PASSWORD_FD and run nbdkit.  Returns only on failure. */
static void
exec_nbdkit(const char **argv, int pass_fd)
{
    if (pass_fd >= 0 && pass_fd != PASSWORD_FD) {
        if (dup2(pass_fd, PASSWORD_FD) < 0)
            return;
        close(pass_fd);
    } else if (pass_fd == PASSWORD_FD) {
        fcntl(PASSWORD_FD, F_SETFD, 0);
    }
    execvp(argv[0], (char *const *)argv);
}

/* The pid nbdkit wrote to pidfile, or -1. */
static long
read_pid(const char *pidfile)
{
    FILE *f = fopen(pidfile, "r");
    long pid = -1;
    if (f) {
        if (fscanf(f, "%ld", &pid) != 1)
            pid = -1;
        fclose(f);
    }
    return pid;
}

/* Run nbdkit, which goes to the background once it listens; its pid, or
 * -1 after printing why (nbdkit prints its own start-up errors). */
static long
start_background(const char **argv, int pass_fd, const char *pidfile)
{
    int ep[2];   /* the child reports a failed exec here (closes on success) */
    if (pipe2(ep, O_CLOEXEC) < 0) {
        vv_virsh_error("cannot create a pipe: %s", strerror(errno));
        return -1;
    }
    pid_t child = fork();
    if (child < 0) {
        vv_virsh_error("cannot start nbdkit: %s", strerror(errno));
        close(ep[0]);
        close(ep[1]);
        return -1;
    }
    if (child == 0) {
        close(ep[0]);
        exec_nbdkit(argv, pass_fd);
        int e = errno;
        if (write(ep[1], &e, sizeof(e)) < 0)
            _exit(127);
        _exit(127);
    }
    close(ep[1]);
    int e = 0;
    ssize_t got = read(ep[0], &e, sizeof(e));
    close(ep[0]);
    int status;
    while (waitpid(child, &status, 0) < 0 && errno == EINTR)
        ;
    if (got == (ssize_t)sizeof(e)) {
        vv_virsh_error("cannot run nbdkit: %s%s", strerror(e),
                       e == ENOENT ? " (vol-export needs nbdkit: Debian package nbdkit)" : "");
        return -1;
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        vv_virsh_error("nbdkit could not start the export (its message is above)");
        return -1;
    }
    /* nbdkit's first process exits once the socket listens; the server
     * writes the pidfile just after: wait for it, a bounded while. */
    for (int i = 0; i < 1000; i++) {
        long pid = read_pid(pidfile);
        if (pid > 0)
            return pid;
        struct timespec ts = { 0, 10 * 1000 * 1000 };
        nanosleep(&ts, NULL);
    }
    vv_virsh_error("nbdkit started but wrote no pid to '%s' within 10 s", pidfile);
    return -1;
}

/* Print where the export is. */
static void
print_uri(const char *vol, const export_req *q, long pid)
{
    if (q->socket)
        printf("Volume %s exported at nbd+unix:///?socket=%s", vol, q->socket);
    else
        printf("Volume %s exported at nbd://%s:%s/", vol, q->address ? q->address : "localhost",
               q->port);
    if (pid > 0)
        printf(" (nbdkit pid %ld)", pid);
    printf("\n");
    fflush(stdout);
}

/* Start the export of the volume whose access is a; exit status. */
static int
run_export(const char *vol, const export_req *q, const vdisk_vol_access *a)
{
    char *plugin = plugin_path();
    /* nbdkit's pid file when the user names none: in $TMPDIR, as mkdtemp(3)
     * users and virsh's editor files do. */
    const char *tmp = getenv("TMPDIR");
    char tmpdir[PATH_MAX], tmppid[PATH_MAX + 8];
    snprintf(tmpdir, sizeof(tmpdir), "%s/vdisk-export-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    const char *pidfile = q->pidfile;
    int r = 1, pass_fd = -1;
    size_t file_len = strlen(a->path) + 8;
    char *file_arg = malloc(file_len);
    if (!plugin || !file_arg)
        goto out;
    if (!pidfile && !q->foreground) {
        if (!mkdtemp(tmpdir)) {
            vv_virsh_error("cannot create a directory for nbdkit's pid file: %s", strerror(errno));
            goto out;
        }
        snprintf(tmppid, sizeof(tmppid), "%s/pid", tmpdir);
        pidfile = tmppid;
    }
    if (q->pidfile)
        unlink(q->pidfile);   /* a stale pid must not pass for the new one */
    const char *argv[MAX_ARGV];
    char format_arg[64];
    build_argv(argv, q, plugin, pidfile, a, file_arg, file_len, format_arg, sizeof(format_arg));
    if (a->passphrase && passphrase_pipe(a, &pass_fd) < 0)
        goto out;
    if (q->foreground) {
        print_uri(vol, q, 0);
        exec_nbdkit(argv, pass_fd);
        vv_virsh_error("cannot run nbdkit: %s%s", strerror(errno),
                       errno == ENOENT ? " (vol-export needs nbdkit: Debian package nbdkit)" : "");
        goto out;
    }
    long pid = start_background(argv, pass_fd, pidfile);
    if (pid > 0) {
        print_uri(vol, q, pid);
        r = 0;
    }
out:
    if (pass_fd >= 0)
        close(pass_fd);
    if (pidfile == tmppid) {
        unlink(tmppid);
        rmdir(tmpdir);
    }
    free(file_arg);
    free(plugin);
    return r;
}

/* The request from the arguments; -1 after printing a usage error. */
static int
read_request(vv_arg *args, size_t n, export_req *q, char **socket, char **pidfile)
{
    memset(q, 0, sizeof(*q));
    vv_arg *sock = vv_arg_get(args, n, "socket"), *port = vv_arg_get(args, n, "port");
    vv_arg *addr = vv_arg_get(args, n, "address"), *pid = vv_arg_get(args, n, "pidfile");
    if (sock->set == port->set) {
        vv_virsh_error("vol-export needs exactly one of --socket PATH and --port N");
        return -1;
    }
    if (addr->set && !port->set) {
        vv_virsh_error("--address goes with --port (a unix socket has no address)");
        return -1;
    }
    unsigned long pn;
    if (port->set && (vv_parse_ulong(port->value, 65535, &pn) < 0 || pn == 0)) {
        vv_virsh_error("--port takes a TCP port number from 1 to 65535, not '%s'", port->value);
        return -1;
    }
    if (sock->set && !(*socket = absolute("socket", sock->value)))
        return -1;
    if (pid->set && !(*pidfile = absolute("pid file", pid->value)))
        return -1;
    q->socket = *socket;
    q->port = port->set ? port->value : NULL;
    q->address = addr->set ? addr->value : NULL;
    q->pidfile = *pidfile;
    q->readonly = vv_arg_get(args, n, "readonly")->set;
    q->foreground = vv_arg_get(args, n, "foreground")->set;
    return 0;
}

/* vol-export: serve a volume over NBD (nbdkit with vdisk's plugin). */
int
cmd_vol_export(const char *uri, int argc, char **argv)
{
    vv_arg args[] = { VV_REQ("pool"), VV_REQ("vol"), VV_VAL("socket"), VV_VAL("port"),
                      VV_VAL("address"), VV_FLAG("readonly"), VV_FLAG("foreground"),
                      VV_VAL("pidfile") };
    vv_store_ctx c;
    int r = vv_store_begin(uri, argc, argv, args, VV_N(args), &c);
    if (r != VV_GO)
        return r;
    export_req q;
    char *socket = NULL, *pidfile = NULL;
    vdisk_pool *pool;
    const char *name;
    r = 1;
    if (read_request(args, VV_N(args), &q, &socket, &pidfile) == 0 &&
        vv_store_lookup_vol(&c, args, VV_N(args)) == 0 && vv_store_vol_file(&c, &pool, &name) == 0) {
        vdisk_vol_access a;
        vdisk_error err = { 0 };
        if (vdisk_vol_access_get(pool, name, &a, &err) < 0) {
            vv_virsh_error("Failed to export vol %s", vv_arg_get(args, VV_N(args), "vol")->value);
            vv_store_report(&err);
        } else {
            r = run_export(vv_arg_get(args, VV_N(args), "vol")->value, &q, &a);
        }
        vdisk_vol_access_clear(&a);
    }
    free(socket);
    free(pidfile);
    vv_store_end(&c);
    return r;
}
