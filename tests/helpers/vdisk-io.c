/* vdisk-io — drive libvdisk from tests, in the manner of qemu-io.
 *
 *   vdisk-io [-f FMT] [-r] [-U] [-n] [-t none] [-s PASSFILE] FILE -c CMD [-c CMD ...]
 *   vdisk-io [-f FMT] [-r] [-U] [-n] [-t none] [-s PASSFILE] FILE     (commands from stdin)
 *   (-s: the passphrase of an encrypted image, the file's bytes as they are)
 *   vdisk-io create -f FMT [-o k=v,...] FILE [SIZE]
 *
 * -U opens with force-share (read-only, no conflicting locks).  Without -c
 * the commands are read from stdin, one a line, as qemu-io does: the image
 * stays open (and locked) until end of input.  "open" is printed once the
 * image is open, so a test knows when the locks are held.
 *
 * CMD (offsets and lengths take k/M/G suffixes):
 *   write [-P PAT] [-z] [-u] [-c] OFF LEN   data (byte PAT, default 0xcd), zeroes
 *                                           (-z, -u: may unmap) or compressed (-c)
 *   read [-P PAT] OFF LEN                   read, and check every byte is PAT
 *   discard OFF LEN
 *   flush
 *   map                                     extents through the backing chain
 *   export OUT                              whole guest content into a sparse raw file
 *   stress SEED COUNT                       random writes/compressed/zero/discard/flush
 *                                           (stress.c; COUNT 0: until killed)
 *
 * Exits 0 when every command succeeded, 1 otherwise (the reason on stderr).
 * Not installed: a test harness, not a user tool.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <vdisk/vdisk.h>

#include "stress.h"

#define MAX_CMDS 256
#define MAX_ARGS 16
#define EXPORT_CHUNK (1u << 20)

static int
parse_num(const char *s, uint64_t *v)
{
    vdisk_error err;
    if (vdisk_parse_size(s, v, &err) < 0) {
        fprintf(stderr, "vdisk-io: %s\n", err.message);
        return -1;
    }
    return 0;
}

static void *
alloc_buf(uint64_t len)
{
    void *p = NULL;
    if (posix_memalign(&p, 4096, len ? len : 1) != 0)
        return NULL;
    return p;
}

static int
cmd_write(vdisk_image *img, int argc, char **argv)
{
    int pat = 0xcd, zero = 0, unmap = 0, comp = 0;
    uint64_t off, len;
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (!strcmp(argv[i], "-P") && i + 1 < argc)
            pat = (int)strtol(argv[++i], NULL, 0);
        else if (!strcmp(argv[i], "-z"))
            zero = 1;
        else if (!strcmp(argv[i], "-u"))
            unmap = 1;
        else if (!strcmp(argv[i], "-c"))
            comp = 1;
        else
            break;
    }
    if (argc - i != 2 || parse_num(argv[i], &off) || parse_num(argv[i + 1], &len)) {
        fprintf(stderr, "vdisk-io: usage: write [-P PAT] [-z [-u]] [-c] OFF LEN\n");
        return -1;
    }
    vdisk_error err;
    int r;
    if (zero) {
        r = vdisk_write_zeroes(img, len, off, unmap ? VDISK_ZERO_MAY_UNMAP : 0, &err);
    } else {
        char *buf = alloc_buf(len);
        if (!buf)
            return -1;
        memset(buf, pat, len);
        r = comp ? vdisk_pwrite_compressed(img, buf, len, off, &err)
                 : vdisk_pwrite(img, buf, len, off, &err);
        free(buf);
    }
    if (r < 0) {
        fprintf(stderr, "vdisk-io: write failed: %s\n", err.message);
        return -1;
    }
    printf("wrote %llu/%llu bytes at offset %llu\n", (unsigned long long)len,
           (unsigned long long)len, (unsigned long long)off);
    return 0;
}

static int
cmd_read(vdisk_image *img, int argc, char **argv)
{
    int pat = -1;
    int i = 1;
    if (i + 1 < argc && !strcmp(argv[i], "-P")) {
        pat = (int)strtol(argv[i + 1], NULL, 0);
        i += 2;
    }
    uint64_t off, len;
    if (argc - i != 2 || parse_num(argv[i], &off) || parse_num(argv[i + 1], &len)) {
        fprintf(stderr, "vdisk-io: usage: read [-P PAT] OFF LEN\n");
        return -1;
    }
    unsigned char *buf = alloc_buf(len);
    if (!buf)
        return -1;
    vdisk_error err;
    int r = vdisk_pread(img, buf, len, off, &err);
    if (r < 0) {
        fprintf(stderr, "vdisk-io: read failed: %s\n", err.message);
        free(buf);
        return -1;
    }
    for (uint64_t k = 0; pat >= 0 && k < len; k++)
        if (buf[k] != (unsigned char)pat) {
            fprintf(stderr, "Pattern verification failed at offset %llu: 0x%02x, expected 0x%02x\n",
                    (unsigned long long)(off + k), buf[k], pat & 0xff);
            free(buf);
            return -1;
        }
    free(buf);
    printf("read %llu/%llu bytes at offset %llu\n", (unsigned long long)len,
           (unsigned long long)len, (unsigned long long)off);
    return 0;
}

static int
cmd_discard(vdisk_image *img, int argc, char **argv)
{
    uint64_t off, len;
    if (argc != 3 || parse_num(argv[1], &off) || parse_num(argv[2], &len)) {
        fprintf(stderr, "vdisk-io: usage: discard OFF LEN\n");
        return -1;
    }
    vdisk_error err;
    if (vdisk_discard(img, len, off, &err) < 0) {
        fprintf(stderr, "vdisk-io: discard failed: %s\n", err.message);
        return -1;
    }
    printf("discard %llu/%llu bytes at offset %llu\n", (unsigned long long)len,
           (unsigned long long)len, (unsigned long long)off);
    return 0;
}

static int
cmd_map(vdisk_image *img)
{
    uint64_t size = vdisk_get_size(img), off = 0;
    while (off < size) {
        vdisk_extent e;
        vdisk_error err;
        if (vdisk_block_status_chain(img, off, size - off, &e, &err) < 0) {
            fprintf(stderr, "vdisk-io: map failed: %s\n", err.message);
            return -1;
        }
        printf("%llu %llu depth=%d%s%s%s%s", (unsigned long long)e.offset, (unsigned long long)e.length,
               e.depth, e.flags & VDISK_EXTENT_ALLOCATED ? " allocated" : "",
               e.flags & VDISK_EXTENT_ZERO ? " zero" : "", e.flags & VDISK_EXTENT_DATA ? " data" : "",
               e.flags & VDISK_EXTENT_COMPRESSED ? " compressed" : "");
        if (e.flags & VDISK_EXTENT_OFFSET_VALID)
            printf(" offset=%llu", (unsigned long long)e.host_offset);
        printf("\n");
        off += e.length;
    }
    return 0;
}

/* Whole guest content into a raw file, leaving holes where it reads zero. */
static int
cmd_export(vdisk_image *img, int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "vdisk-io: usage: export OUT\n");
        return -1;
    }
    int fd = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) {
        fprintf(stderr, "vdisk-io: %s: %s\n", argv[1], strerror(errno));
        return -1;
    }
    uint64_t size = vdisk_get_size(img);
    char *buf = alloc_buf(EXPORT_CHUNK);
    static const char zero[4096];
    int r = buf ? 0 : -1;
    for (uint64_t off = 0; r == 0 && off < size; off += EXPORT_CHUNK) {
        uint64_t n = size - off < EXPORT_CHUNK ? size - off : EXPORT_CHUNK;
        vdisk_error err;
        if (vdisk_pread(img, buf, n, off, &err) < 0) {
            fprintf(stderr, "vdisk-io: export: %s\n", err.message);
            r = -1;
            break;
        }
        for (uint64_t k = 0; r == 0 && k < n; k += sizeof(zero)) {
            uint64_t m = n - k < sizeof(zero) ? n - k : sizeof(zero);
            if (memcmp(buf + k, zero, m) != 0 && pwrite(fd, buf + k, m, (off_t)(off + k)) != (ssize_t)m)
                r = -1;
        }
    }
    if (r == 0 && ftruncate(fd, (off_t)size) < 0)
        r = -1;
    free(buf);
    close(fd);
    return r;
}

static int
run_command(vdisk_image *img, char *line)
{
    char *argv[MAX_ARGS];
    int argc = 0;
    char *save = NULL;
    for (char *t = strtok_r(line, " ", &save); t && argc < MAX_ARGS; t = strtok_r(NULL, " ", &save))
        argv[argc++] = t;
    if (argc == 0)
        return 0;
    vdisk_error err;
    if (!strcmp(argv[0], "write"))
        return cmd_write(img, argc, argv);
    if (!strcmp(argv[0], "read"))
        return cmd_read(img, argc, argv);
    if (!strcmp(argv[0], "discard"))
        return cmd_discard(img, argc, argv);
    if (!strcmp(argv[0], "map"))
        return cmd_map(img);
    if (!strcmp(argv[0], "export"))
        return cmd_export(img, argc, argv);
    if (!strcmp(argv[0], "stress"))
        return vdisk_io_stress(img, argc, argv);
    if (!strcmp(argv[0], "flush")) {
        if (vdisk_flush(img, &err) == 0)
            return 0;
        fprintf(stderr, "vdisk-io: flush failed: %s\n", err.message);
        return -1;
    }
    fprintf(stderr, "vdisk-io: unknown command '%s'\n", argv[0]);
    return -1;
}

static int
run_commands(vdisk_image *img, char **cmds, int ncmds)
{
    for (int i = 0; i < ncmds; i++)
        if (run_command(img, cmds[i]) < 0)
            return 1;
    return 0;
}

/* qemu-io style: hold the image open while commands come in on stdin. */
static int
run_stdin(vdisk_image *img)
{
    char line[1024];
    int rc = 0;
    printf("open\n");
    fflush(stdout);
    while (fgets(line, sizeof(line), stdin)) {
        line[strcspn(line, "\r\n")] = '\0';
        if (!strcmp(line, "quit") || !strcmp(line, "q"))
            break;
        if (run_command(img, line) < 0)
            rc = 1;
        fflush(stdout);
    }
    return rc;
}

static int
do_create(int argc, char **argv)
{
    vdisk_create_opts o;
    vdisk_format fmt = VDISK_FORMAT_RAW;
    const char *list = NULL;
    vdisk_error err;
    int c;
    optind = 1;
    while ((c = getopt(argc, argv, "f:o:")) != -1) {
        if (c == 'f' && vdisk_format_from_name(optarg, &fmt, &err) < 0) {
            fprintf(stderr, "vdisk-io: %s\n", err.message);
            return 1;
        }
        if (c == 'o')
            list = optarg;
        if (c == '?')
            return 1;
    }
    vdisk_create_opts_init(&o, fmt);
    int r = 0;
    if (list)
        r = vdisk_create_opts_parse(&o, list, &err);
    if (r == 0 && optind < argc - 1)
        r = vdisk_parse_size(argv[optind + 1], &o.size, &err);
    if (r == 0 && optind < argc)
        r = vdisk_create(argv[optind], &o, NULL, NULL, &err);
    else if (r == 0)
        r = vdisk_error_set(&err, EINVAL, "usage: vdisk-io create -f FMT [-o opts] FILE [SIZE]");
    vdisk_create_opts_clear(&o);
    if (r < 0) {
        fprintf(stderr, "vdisk-io: %s\n", err.message);
        return 1;
    }
    return 0;
}

/* -s PASSFILE: the whole file is the passphrase. */
static int
read_secret(const char *path, char *buf, size_t cap, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t n = fd < 0 ? -1 : read(fd, buf, cap);
    if (fd >= 0)
        close(fd);
    if (n < 0) {
        fprintf(stderr, "vdisk-io: %s: cannot read the passphrase\n", path);
        return -1;
    }
    *len = (size_t)n;
    return 0;
}

int
main(int argc, char **argv)
{
    if (argc > 1 && !strcmp(argv[1], "create"))
        return do_create(argc - 1, argv + 1);
    vdisk_open_opts oo = { .format = VDISK_FORMAT_UNKNOWN, .flags = VDISK_OPEN_RDWR };
    char *cmds[MAX_CMDS];
    int ncmds = 0, c;
    vdisk_error err;
    static char secret[4096];
    while ((c = getopt(argc, argv, "f:rUnt:c:s:")) != -1) {
        switch (c) {
        case 's':
            if (read_secret(optarg, secret, sizeof(secret), &oo.secret_len) < 0)
                return 1;
            oo.secret = secret;
            break;
        case 'f':
            if (vdisk_format_from_name(optarg, &oo.format, &err) < 0) {
                fprintf(stderr, "vdisk-io: %s\n", err.message);
                return 1;
            }
            break;
        case 'r': oo.flags &= ~(unsigned)VDISK_OPEN_RDWR; break;
        case 'U': oo.flags |= VDISK_OPEN_FORCE_SHARE; break;
        case 'n': oo.flags |= VDISK_OPEN_NO_BACKING; break;
        case 't': if (!strcmp(optarg, "none")) oo.flags |= VDISK_OPEN_DIRECT; break;
        case 'c': if (ncmds < MAX_CMDS) cmds[ncmds++] = optarg; break;
        default: return 1;
        }
    }
    if (optind != argc - 1) {
        fprintf(stderr, "usage: vdisk-io [-f FMT] [-r] [-U] [-n] [-t none] FILE [-c CMD ...]\n");
        return 1;
    }
    vdisk_image *img;
    if (vdisk_open(argv[optind], &oo, &img, &err) < 0) {
        fprintf(stderr, "vdisk-io: %s\n", err.message);
        return 1;
    }
    int rc = ncmds ? run_commands(img, cmds, ncmds) : run_stdin(img);
    if (vdisk_close(img, &err) < 0) {
        fprintf(stderr, "vdisk-io: close: %s\n", err.message);
        rc = 1;
    }
    return rc;
}
