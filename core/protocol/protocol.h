/* libvdisk internals — protocol drivers: where an image's bytes live.
 *
 * As QEMU separates protocol from format, a format driver (raw, qcow2, luks,
 * iso...) reads and writes its host bytes through a vdisk_file (file.h), and
 * a vdisk_file is a handle over one table of protocol operations:
 *
 *   file   a host file or block device (POSIX; QEMU-compatible OFD locks)
 *   rbd    a Ceph RBD image (librbd; RBD's exclusive lock for writers)
 *   nbd    an NBD export (libnbd; the server owns locking)
 *
 * rbd and nbd are optional at build time (meson features of the same
 * names); their names are still parsed without them, so that the error
 * says what the build lacks rather than "no such file".  Built, each
 * loads its client library on first use (rbd-load.h, nbd-load.h): the
 * error then names the package to install.
 *
 * Image names follow qemu-img's:
 *   rbd:POOL/[NAMESPACE/]IMAGE[@SNAP][:conf=FILE][:id=USER][:KEY=VALUE...]
 *     (KEY=VALUE are Ceph options; '\' escapes ':', '@', '/' and '\')
 *   nbd://HOST[:PORT]/EXPORT   nbd+unix:///EXPORT?socket=PATH  (and nbds..)
 *   anything else              a host file
 *
 * Test builds (-Dtests=true) add vdisk-record:PATH, the file PATH with
 * every change logged for the crash-state generator (record.c).
 */
#ifndef VDISK_PROTOCOL_INTERNAL_H
#define VDISK_PROTOCOL_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <vdisk/error.h>
#include <vdisk/image.h>

struct vdisk_file;
struct vdisk_protocol;

typedef enum vdisk_location_kind {
    VDISK_LOCATION_FILE,
    VDISK_LOCATION_RBD,
    VDISK_LOCATION_NBD,
    VDISK_LOCATION_RECORD,       /* test builds: vdisk-record:PATH (record.c) */
} vdisk_location_kind;

/* A Ceph option given in an rbd: name (KEY=VALUE). */
typedef struct vdisk_rbd_option {
    char *key;
    char *value;
} vdisk_rbd_option;

/* Where an image lives, as parsed from its name (location.c).  Every
 * string is owned; vdisk_location_clear frees them. */
typedef struct vdisk_location {
    vdisk_location_kind kind;
    char *name;                  /* the name as given (messages, img->filename) */
    /* file */
    char *path;
    /* rbd */
    char *pool, *ns, *image, *snap;   /* ns, snap: NULL when absent */
    char *conf;                  /* conf=FILE, or NULL: Ceph's default search */
    char *user;                  /* id=USER, or NULL: Ceph's default (admin) */
    vdisk_rbd_option *opts;      /* other KEY=VALUE, in order */
    size_t nopts;
    /* nbd */
    char *uri;                   /* handed to libnbd (without x-dirty-bitmap) */
    char *nbd_context;           /* x-dirty-bitmap=CONTEXT: block status read from
                                    this metadata context instead of base:allocation
                                    (QEMU's debugging option), or NULL */
} vdisk_location;

/* Parse an image name.  Names that are not rbd:/nbd*: are files (path =
 * name).  -EINVAL with a message naming the problem for malformed names. */
int vdisk_location_parse(const char *name, vdisk_location *loc, vdisk_error *err);
void vdisk_location_clear(vdisk_location *loc);
/* Do a and b designate the same image (same pool/namespace/image/snapshot,
 * same NBD URI)?  Files are compared by the caller (device and inode). */
bool vdisk_location_same(const vdisk_location *a, const vdisk_location *b);
/* The protocol driver for a location; NULL with -ENOTSUP in err when this
 * build lacks it ("rbd:p/i: RBD images need vdisk built with librbd"). */
const struct vdisk_protocol *vdisk_protocol_for(const vdisk_location *loc, vdisk_error *err);

/* One protocol.  Callbacks see a vdisk_file whose generic fields (path,
 * read_only, direct, align) are set; f->priv is theirs.  Optional entries
 * may be NULL: file.c then answers -ENOTSUP (or does the generic thing
 * documented there). */
struct vdisk_protocol {
    const char *name;

    /* Open an existing image (flags: VDISK_OPEN_RDWR, VDISK_OPEN_DIRECT). */
    int (*open)(struct vdisk_file *f, const vdisk_location *loc, unsigned flags, vdisk_error *err);
    /* Create a new, empty image (or take over an existing one where the
     * protocol allows it) for writing; taken with the create locks. */
    int (*create)(struct vdisk_file *f, const vdisk_location *loc, bool nocow, vdisk_error *err);
    /* Release f->priv.  Must not fail. */
    void (*close)(struct vdisk_file *f);
    /* Optional: delete the image a failed create made (f still open;
     * close follows). */
    void (*remove_created)(struct vdisk_file *f);
    /* Optional: delete an image by location (a converted target that
     * failed after its create had closed it). */
    void (*remove)(const vdisk_location *loc);

    /* Read exactly len bytes; bytes past the end read as zeros. */
    int (*pread)(struct vdisk_file *f, void *buf, size_t len, uint64_t off, vdisk_error *err);
    /* Write exactly len bytes, growing the image where the protocol can. */
    int (*pwrite)(struct vdisk_file *f, const void *buf, size_t len, uint64_t off, vdisk_error *err);
    /* Make written data durable. */
    int (*flush)(struct vdisk_file *f, vdisk_error *err);
    int (*get_length)(struct vdisk_file *f, uint64_t *len, vdisk_error *err);
    int (*truncate)(struct vdisk_file *f, uint64_t len, vdisk_error *err);
    /* Optional: bytes the image occupies on its storage. */
    int (*allocated)(struct vdisk_file *f, uint64_t *bytes, vdisk_error *err);
    /* Optional: reserve without writing (lazy-zeroed thick). */
    int (*allocate)(struct vdisk_file *f, uint64_t off, uint64_t len, vdisk_error *err);
    /* Optional: make a range read as zeros quickly; -ENOTSUP lets file.c
     * write zeros instead. */
    int (*zero)(struct vdisk_file *f, uint64_t off, uint64_t len, bool may_unmap, vdisk_error *err);
    /* Optional: eager-zeroed thick, the storage's own fastest way: the
     * range really allocated and reading as zeros, progress reported
     * (bytes done, len).  -ENOTSUP lets file.c reserve (allocate) and
     * write zeros. */
    int (*zero_full)(struct vdisk_file *f, uint64_t off, uint64_t len,
                     vdisk_progress_fn progress, void *opaque, vdisk_error *err);
    /* Optional: deallocate a range (reads as zeros afterwards). */
    int (*punch_hole)(struct vdisk_file *f, uint64_t off, uint64_t len, vdisk_error *err);
    /* Optional: data/hole map; without it everything is data. */
    int (*extent)(struct vdisk_file *f, uint64_t off, uint64_t limit, bool *is_data, uint64_t *end,
                  vdisk_error *err);
    /* Optional: a richer answer than extent's where the storage has one
     * (an NBD server's status flags): VDISK_EXTENT_ALLOCATED, _DATA and
     * _ZERO of the run from off to *end (<= limit).  Without it, extent's
     * answer: data, or a hole that is allocated zeros. */
    int (*status)(struct vdisk_file *f, uint64_t off, uint64_t limit, unsigned *flags, uint64_t *end,
                  vdisk_error *err);
    /* Optional: hold what an open with these QEMU permissions (lock.h)
     * needs, refusing (-EBUSY) when another client conflicts; called again
     * with a superset to add permissions.  Without it: no locking. */
    int (*lock)(struct vdisk_file *f, unsigned perm, unsigned shared, vdisk_error *err);
    /* Optional: does loc name the image behind f (loops, target == source)? */
    bool (*same_as)(struct vdisk_file *f, const vdisk_location *loc);
    /* Optional: does an image this protocol has just created read as zeros
     * (a regular file, a new RBD image; not a device, not an NBD export)?
     * Without it: no. */
    bool (*zero_init)(struct vdisk_file *f);
    /* Optional: the host descriptor (copy_file_range, writeback hints). */
    int (*host_fd)(struct vdisk_file *f);
};

extern const struct vdisk_protocol vdisk_protocol_file;
#ifdef VDISK_HAVE_RBD
extern const struct vdisk_protocol vdisk_protocol_rbd;
#endif
#ifdef VDISK_HAVE_NBD
extern const struct vdisk_protocol vdisk_protocol_nbd;
#endif
#ifdef VDISK_HAVE_RECORD
/* Test builds only: a file whose changes are logged (record.c). */
#define VDISK_RECORD_PREFIX "vdisk-record:"
extern const struct vdisk_protocol vdisk_protocol_record;
#endif

#endif
