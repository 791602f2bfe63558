/* vdisk-soak: several threads doing random reads, writes, write-zeroes,
 * discards, block-status queries, flushes (and compressed writes) on ONE
 * image handle, checked against a byte model, then by QEMU.
 *
 *   vdisk-soak [--seed N] [--threads N] [--ops N | --seconds S]
 *              [--variant NAME]... [--dir DIR] [--keep]
 *
 * For each variant (all of them unless --variant names some): create the
 * image, run the workload (workload.c: every thread owns disjoint regions,
 * so the model is exact) twice on the same handle -- spread over the guest
 * in regions of ~9 KiB, then packed into its first MiB in regions of 700
 * bytes, where several threads write each sector and each 4 KiB block --
 * close it, reopen it and compare every byte with the model, write the
 * model out as a raw file, and ask the oracles:
 * `qemu-img check` must find the image clean (qcow2) and `qemu-img compare`
 * must find it identical to the model.  --ops bounds the operations per
 * thread and phase (the CI default); --seconds runs each variant that long instead
 * (scripts/soak.sh).  Prints the seed and the operations done; on a failure
 * the image and the model are kept and their directory printed.
 *
 * Exit: 0 all variants passed, 1 a failure, 77 qemu-img is missing (skip).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "soak.h"

extern char **environ;

/* Default guest size and region: small enough that every cluster is shared
 * by several threads, and regions not a multiple of any sector or cluster
 * size, so that neighbouring threads share sectors (LUKS read-modify-write)
 * and clusters (qcow2 allocation and copy-on-write). */
#define SOAK_SIZE (8u << 20)
#define SOAK_REGION (9u * 1024 + 300)
/* Then a packed phase on the same handle: the first MiB in regions shorter
 * than a 4 KiB block, so that every sector and O_DIRECT block has several
 * writers at once (the read-modify-write paths). */
#define SOAK_PACKED_SIZE (1u << 20)
#define SOAK_PACKED_REGION 700u
/* A test passphrase, handed to QEMU in a 0600 file, never in argv. */
#define SOAK_SECRET "vdisk-soak-passphrase"

typedef struct soak_variant {
    const char *name;
    vdisk_format format;
    const char *options;         /* qemu-img -o list, or NULL */
    bool luks;                   /* encrypted (LUKS1; qcow2 encrypt.format=luks) */
    bool compressed;             /* compressed writes (whole clusters) */
    uint32_t cluster;            /* compressed: the cluster size (regions of two clusters) */
    bool backing;                /* over a raw backing file full of data (COW from it) */
    unsigned open_flags;         /* VDISK_OPEN_DIRECT: unaligned writes bounce (RMW) */
} soak_variant;

static const soak_variant variants[] = {
    { .name = "raw", .format = VDISK_FORMAT_RAW },
    { .name = "luks", .format = VDISK_FORMAT_LUKS, .luks = true },
    { .name = "qcow2", .format = VDISK_FORMAT_QCOW2 },
    { .name = "qcow2-4k-lazy", .format = VDISK_FORMAT_QCOW2,
      .options = "cluster_size=4096,lazy_refcounts=on,refcount_bits=4" },
    { .name = "qcow2-extl2", .format = VDISK_FORMAT_QCOW2,
      .options = "extended_l2=on,cluster_size=32768" },
    { .name = "qcow2-compressed", .format = VDISK_FORMAT_QCOW2, .options = "compression_type=zstd",
      .compressed = true, .cluster = 65536 },
    { .name = "qcow2-luks", .format = VDISK_FORMAT_QCOW2, .luks = true },
    { .name = "qcow2-backing", .format = VDISK_FORMAT_QCOW2, .options = "cluster_size=16384",
      .backing = true },
    { .name = "raw-direct", .format = VDISK_FORMAT_RAW, .open_flags = VDISK_OPEN_DIRECT },
    { .name = "qcow2-direct", .format = VDISK_FORMAT_QCOW2, .options = "extended_l2=on",
      .open_flags = VDISK_OPEN_DIRECT },
    { .name = "vmdk", .format = VDISK_FORMAT_VMDK },
    { .name = "vpc", .format = VDISK_FORMAT_VPC },
    { .name = "vhdx", .format = VDISK_FORMAT_VHDX },
};
#define NVARIANTS (sizeof variants / sizeof variants[0])

typedef struct soak_args {
    uint64_t seed;
    unsigned threads;
    uint64_t ops;
    double seconds;
    uint64_t size;
    uint64_t region;
    bool only[NVARIANTS];
    bool any_only;
    const char *dir;
    bool keep;
} soak_args;

static int
usage(void)
{
    fprintf(stderr, "usage: vdisk-soak [--seed N] [--threads N] [--ops N | --seconds S]\n"
                    "                  [--size BYTES] [--region BYTES] [--variant NAME]... [--dir DIR] [--keep]\nvariants:");
    for (size_t i = 0; i < NVARIANTS; i++)
        fprintf(stderr, " %s", variants[i].name);
    fprintf(stderr, "\n");
    return 1;
}

static int
parse_args(int argc, char **argv, soak_args *a)
{
    *a = (soak_args){ .seed = (uint64_t)time(NULL), .threads = 4, .ops = 3000,
                      .size = SOAK_SIZE, .region = SOAK_REGION };
    for (int i = 1; i < argc; i++) {
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(argv[i], "--keep")) {
            a->keep = true;
            continue;
        }
        if (!v)
            return usage();
        i++;
        if (!strcmp(argv[i - 1], "--seed"))
            a->seed = strtoull(v, NULL, 0);
        else if (!strcmp(argv[i - 1], "--threads"))
            a->threads = (unsigned)strtoul(v, NULL, 0);
        else if (!strcmp(argv[i - 1], "--ops"))
            a->ops = strtoull(v, NULL, 0);
        else if (!strcmp(argv[i - 1], "--seconds")) {
            a->seconds = strtod(v, NULL);
            a->ops = 0;
        } else if (!strcmp(argv[i - 1], "--size"))
            a->size = strtoull(v, NULL, 0);
        else if (!strcmp(argv[i - 1], "--region"))
            a->region = strtoull(v, NULL, 0);
        else if (!strcmp(argv[i - 1], "--dir"))
            a->dir = v;
        else if (!strcmp(argv[i - 1], "--variant")) {
            size_t k = 0;
            while (k < NVARIANTS && strcmp(variants[k].name, v))
                k++;
            if (k == NVARIANTS)
                return usage();
            a->only[k] = a->any_only = true;
        } else
            return usage();
    }
    if (a->threads < 1 || a->threads > 64 || (a->ops == 0 && a->seconds <= 0) ||
        a->size < (1u << 20) || a->size % (1u << 20) || a->region < 512 || a->region > a->size)
        return usage();
    return 0;
}

/* Run argv (qemu-img ...), its stdout to /dev/null, and return its exit
 * status; -1 if it could not run. */
static int
run_tool(char *const argv[])
{
    pid_t pid;
    int status;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
    int r = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (r != 0)
        return -1;
    if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status))
        return -1;
    return WEXITSTATUS(status);
}

static int
write_file(const char *path, const void *buf, size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0)
        return -1;
    const uint8_t *p = buf;
    while (len) {
        ssize_t n = write(fd, p, len);
        if (n <= 0) {
            close(fd);
            return -1;
        }
        p += n;
        len -= (size_t)n;
    }
    return close(fd);
}

/* qemu-img check (qcow2) and compare against the model, as QEMU sees them. */
static int
ask_qemu(const soak_variant *v, const char *dir, const char *image, const char *model)
{
    char secret_file[PATH_MAX], object[PATH_MAX + 64], img_opts[PATH_MAX + 96], raw_opts[PATH_MAX + 48];
    const char *fmt = vdisk_format_name(v->format);
    snprintf(secret_file, sizeof secret_file, "%s/secret", dir);
    snprintf(object, sizeof object, "secret,id=sec0,file=%s", secret_file);
    snprintf(img_opts, sizeof img_opts, "driver=%s,%s=sec0,file.filename=%s", fmt,
             v->format == VDISK_FORMAT_LUKS ? "key-secret" : "encrypt.key-secret", image);
    snprintf(raw_opts, sizeof raw_opts, "driver=raw,file.filename=%s", model);
    if (v->luks && write_file(secret_file, SOAK_SECRET, strlen(SOAK_SECRET)) < 0) {
        fprintf(stderr, "vdisk-soak: %s: %s\n", secret_file, strerror(errno));
        return -1;
    }
    if (v->format == VDISK_FORMAT_QCOW2 || v->format == VDISK_FORMAT_VMDK ||
        v->format == VDISK_FORMAT_VHDX) {
        char *plain[] = { "qemu-img", "check", "-q", "-f", (char *)fmt, (char *)image, NULL };
        char *keyed[] = { "qemu-img", "check", "-q", "--object", object, "--image-opts",
                          img_opts, NULL };
        int r = run_tool(v->luks ? keyed : plain);
        if (r != 0) {
            fprintf(stderr, "vdisk-soak: %s: qemu-img check exits %d (0: clean)\n", v->name, r);
            return -1;
        }
    }
    char *plain[] = { "qemu-img", "compare", "-q", "-f", (char *)fmt, "-F", "raw",
                      (char *)image, (char *)model, NULL };
    char *keyed[] = { "qemu-img", "compare", "-q", "--object", object, "--image-opts",
                      img_opts, raw_opts, NULL };
    int r = run_tool(v->luks ? keyed : plain);
    if (r != 0) {
        fprintf(stderr, "vdisk-soak: %s: qemu-img compare with the model exits %d (0: identical)\n",
                v->name, r);
        return -1;
    }
    return 0;
}

/* The backing file of a variant that has one: random bytes, which are also
 * the model's starting content. */
static int
create_backing(const char *path, uint8_t *model, uint64_t size, uint64_t seed, vdisk_error *err)
{
    uint64_t x = seed | 1;
    for (uint64_t i = 0; i < size; i += 8) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        memcpy(model + i, &x, 8);
    }
    if (write_file(path, model, size) < 0)
        return vdisk_error_set_errno(err, errno, "%s", path);
    return 0;
}

static int
create_image(const soak_variant *v, const char *path, uint64_t size, const char *backing,
             vdisk_error *err)
{
    vdisk_create_opts o;
    vdisk_create_opts_init(&o, v->format);
    o.size = size;
    int r = v->options ? vdisk_create_opts_parse(&o, v->options, err) : 0;
    if (r == 0 && v->backing)
        r = vdisk_create_opts_set(&o, "backing_file", backing, err);
    if (r == 0 && v->backing)
        r = vdisk_create_opts_set(&o, "backing_fmt", "raw", err);
    if (r == 0 && v->luks) {
        o.encrypt.format = VDISK_ENCRYPT_LUKS;
        o.encrypt.iter_time = 10;           /* a test key: PBKDF2 need not be slow */
        o.encrypt.secret = SOAK_SECRET;
        o.encrypt.secret_len = strlen(SOAK_SECRET);
    }
    if (r == 0)
        r = vdisk_create(path, &o, NULL, NULL, err);
    vdisk_create_opts_clear(&o);
    return r;
}

static int
open_image(const soak_variant *v, const char *path, unsigned flags, vdisk_image **img,
           vdisk_error *err)
{
    vdisk_open_opts oo = { .format = v->format, .flags = flags | v->open_flags };
    if (v->luks) {
        oo.secret = SOAK_SECRET;
        oo.secret_len = strlen(SOAK_SECRET);
    }
    return vdisk_open(path, &oo, img, err);
}

/* Reopen the closed image and compare all of it with the model. */
static int
verify_reopened(const soak_variant *v, const char *path, const uint8_t *model, uint64_t size)
{
    vdisk_error err = {0};
    vdisk_image *img;
    static uint8_t buf[1u << 20];
    if (open_image(v, path, 0, &img, &err) < 0) {
        fprintf(stderr, "vdisk-soak: reopen: %s\n", err.message);
        return -1;
    }
    int r = 0;
    for (uint64_t off = 0; r == 0 && off < size; off += sizeof buf) {
        r = vdisk_pread(img, buf, sizeof buf, off, &err);
        if (r < 0)
            fprintf(stderr, "vdisk-soak: reread: %s\n", err.message);
        else if (memcmp(buf, model + off, sizeof buf) != 0) {
            uint64_t i = 0;
            while (buf[i] == model[off + i])
                i++;
            fprintf(stderr, "vdisk-soak: %s: after reopen, byte 0x%" PRIx64 " reads 0x%02x, "
                    "model has 0x%02x\n", v->name, off + i, buf[i], model[off + i]);
            r = -1;
        }
    }
    vdisk_close(img, NULL);
    return r;
}

/* One variant from create to QEMU's verdict. */
static int
soak_variant_run(const soak_variant *v, const soak_args *a, const char *dir)
{
    char image[PATH_MAX], model_path[PATH_MAX], backing[PATH_MAX];
    snprintf(image, sizeof image, "%s/%s.img", dir, v->name);
    snprintf(backing, sizeof backing, "%s/%s.base.raw", dir, v->name);
    snprintf(model_path, sizeof model_path, "%s/%s.model.raw", dir, v->name);
    vdisk_error err = {0};
    soak_workload w = {
        .size = a->size, .threads = a->threads, .seed = a->seed,
        .ops_per_thread = a->ops, .seconds = a->seconds / 2, .compressed = v->compressed,
        .cluster = v->cluster,
        .region = v->compressed ? 2u * v->cluster : a->region,
        .model = calloc(1, a->size),
    };
    int r = -1;
    if (!w.model)
        fprintf(stderr, "vdisk-soak: out of memory\n");
    else if ((v->backing && create_backing(backing, w.model, a->size, a->seed, &err) < 0) ||
             create_image(v, image, a->size, backing, &err) < 0 || open_image(v, image, VDISK_OPEN_RDWR, &w.img, &err) < 0)
        fprintf(stderr, "vdisk-soak: %s: %s\n", v->name, err.message);
    else if (v->format == VDISK_FORMAT_LUKS &&
             vdisk_pread(w.img, w.model, a->size, 0, &err) < 0)
        fprintf(stderr, "vdisk-soak: %s: %s\n", v->name, err.message);
    else {
        r = soak_run(&w);
        if (r == 0) {
            /* The packed phase: same handle, same model, denser regions. */
            w.size = SOAK_PACKED_SIZE;
            w.region = SOAK_PACKED_REGION;
            r = soak_run(&w);
            w.size = a->size;
        }
        if (vdisk_close(w.img, &err) < 0) {
            fprintf(stderr, "vdisk-soak: %s: close: %s\n", v->name, err.message);
            r = -1;
        }
        if (r == 0)
            r = verify_reopened(v, image, w.model, a->size);
        if (r == 0 && write_file(model_path, w.model, a->size) < 0) {
            fprintf(stderr, "vdisk-soak: %s: %s\n", model_path, strerror(errno));
            r = -1;
        }
        if (r == 0)
            r = ask_qemu(v, dir, image, model_path);
    }
    printf("%-18s %s: %" PRIu64 " ops, %" PRIu64 " bytes read back, %u threads\n", v->name,
           r == 0 ? "ok  " : "FAIL", (uint64_t)w.ops, (uint64_t)w.bytes_verified, a->threads);
    fflush(stdout);
    free(w.model);
    if (r == 0 && !a->keep) {
        unlink(image);
        unlink(model_path);
        if (v->backing)
            unlink(backing);
    }
    return r;
}

int
main(int argc, char **argv)
{
    soak_args a;
    if (parse_args(argc, argv, &a) != 0)
        return 1;
    if (run_tool((char *[]){ "qemu-img", "--version", NULL }) < 0) {
        fprintf(stderr, "vdisk-soak: qemu-img (the oracle) is not installed: skipped\n");
        return 77;
    }
    char dir[1024];
    const char *parent = a.dir ? a.dir : getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    snprintf(dir, sizeof dir, "%s/vdisk-soak.XXXXXX", parent);
    char *abs = mkdtemp(dir) ? realpath(dir, NULL) : NULL;
    if (!abs) {
        fprintf(stderr, "vdisk-soak: %s: %s\n", dir, strerror(errno));
        return 1;
    }
    /* Absolute: the backing variant's overlay names its backing file by
     * this path, which qcow2 resolves against the overlay's directory. */
    snprintf(dir, sizeof dir, "%s", abs);
    free(abs);
    printf("vdisk-soak: seed %" PRIu64 ", %u threads, %s per variant\n", a.seed, a.threads,
           a.ops ? "bounded ops" : "timed");
    if (a.ops)
        printf("vdisk-soak: %" PRIu64 " ops per thread\n", a.ops);
    else
        printf("vdisk-soak: %.0f s per variant\n", a.seconds);
    int failed = 0;
    for (size_t i = 0; i < NVARIANTS; i++)
        if (!a.any_only || a.only[i])
            failed |= soak_variant_run(&variants[i], &a, dir) != 0;
    char secret_file[PATH_MAX + 8];
    snprintf(secret_file, sizeof secret_file, "%s/secret", dir);
    unlink(secret_file);
    if (failed || a.keep)
        printf("vdisk-soak: files kept in %s (replay: --seed %" PRIu64 ")\n", dir, a.seed);
    else
        rmdir(dir);
    return failed ? 1 : 0;
}
