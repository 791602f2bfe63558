/* libvdisk — ISO 9660 images: read, list, extract and build.
 *
 * The reader understands the primary and Joliet (supplementary) volume
 * descriptors, directory records of ISO levels 1-3 with multi-extent files,
 * Rock Ridge (names, permissions, symlinks, timestamps, relocated
 * directories, SUSP continuation areas) and the El Torito boot catalog.
 * Every structure is checked against the file before it is used: a hostile
 * image (directory loops, extents past the end of the file, bad SUSP
 * lengths, absurd counts) is refused with a message naming the file, the
 * structure, its offset and the problem.
 *
 * The writer builds an image from host files and directories with Rock
 * Ridge and Joliet (both on by default), multi-extent files for sizes of
 * 4 GiB and more, optional El Torito BIOS (no emulation or floppy
 * emulation) and UEFI boot images.  The output depends only on the input
 * files and the options: with a fixed date it is byte-reproducible.
 *
 * Handles are not thread-safe; use one per thread.
 */
#ifndef VDISK_ISO_H
#define VDISK_ISO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <vdisk/error.h>
#include <vdisk/image.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct vdisk_iso vdisk_iso;

/* Which directory tree and names the reader presents. */
typedef enum vdisk_iso_names {
    VDISK_ISO_NAMES_AUTO = 0,   /* Rock Ridge if present, else Joliet, else ISO 9660 */
    VDISK_ISO_NAMES_ROCK,       /* primary tree with Rock Ridge names and attributes */
    VDISK_ISO_NAMES_JOLIET,     /* the Joliet tree (UCS-2 names) */
    VDISK_ISO_NAMES_PLAIN,      /* primary tree, ISO 9660 names (";1" stripped) */
} vdisk_iso_names;

/* "auto", "rock", "joliet", "iso"; -EINVAL (with message) for others. */
int vdisk_iso_names_from_name(const char *name, vdisk_iso_names *out, vdisk_error *err);

#define VDISK_ISO_TIME_UNSET INT64_MIN

typedef struct vdisk_iso_volume {
    char volume_id[100];        /* UTF-8, trailing spaces removed (Joliet's when it has one) */
    char system_id[100];
    char application_id[400];
    int64_t creation_time;      /* seconds since the epoch, UTC; VDISK_ISO_TIME_UNSET */
    int64_t modification_time;
    uint64_t volume_size;       /* bytes the volume descriptor claims */
    bool joliet;                /* a Joliet supplementary descriptor is present */
    bool rock_ridge;            /* the primary tree carries Rock Ridge */
    bool bootable;              /* El Torito boot record with a bootable entry */
    vdisk_iso_names names;      /* the tree and names actually presented */
} vdisk_iso_volume;

typedef struct vdisk_iso_extent {
    uint32_t lba;               /* first 2048-byte sector */
    uint32_t length;            /* bytes */
} vdisk_iso_extent;

typedef struct vdisk_iso_entry {
    char *name;                 /* UTF-8 file name (no directory part) */
    char *link_target;          /* Rock Ridge symlink target, else NULL */
    uint32_t mode;              /* st_mode: S_IFREG/S_IFDIR/S_IFLNK/... and permissions */
    uint32_t nlink, uid, gid;
    uint64_t size;              /* bytes (sum of all extents) */
    int64_t mtime, atime, ctime;    /* seconds since the epoch, UTC */
    size_t n_extents;
    vdisk_iso_extent *extents;  /* data (for a directory: its records) */
    bool zisofs;                /* stored zisofs-compressed (Rock Ridge ZF): size is the
                                   uncompressed size, vdisk_iso_pread inflates */
} vdisk_iso_entry;

/* Open an ISO image read-only.  Free with vdisk_iso_close. */
int vdisk_iso_open(const char *path, vdisk_iso_names names, vdisk_iso **out, vdisk_error *err);
void vdisk_iso_close(vdisk_iso *iso);
const vdisk_iso_volume *vdisk_iso_get_volume(const vdisk_iso *iso);

/* Look up a path ("/", "/boot/grub/grub.cfg"; "." and ".." are resolved
 * lexically).  Fill *out; free it with vdisk_iso_entry_clear. */
int vdisk_iso_stat(vdisk_iso *iso, const char *path, vdisk_iso_entry *out, vdisk_error *err);
void vdisk_iso_entry_clear(vdisk_iso_entry *e);

/* The entries of a directory in on-disk order (for a file: the file).
 * *entries is one allocation holding the entries and their strings and
 * extents: free it with vdisk_iso_entries_free, never entry by entry. */
int vdisk_iso_list(vdisk_iso *iso, const char *path, vdisk_iso_entry **entries, size_t *n,
                   vdisk_error *err);
void vdisk_iso_entries_free(vdisk_iso_entry *entries, size_t n);

/* Read len bytes at off of a file's data (across its extents).  A read
 * past the end of the file is -EINVAL. */
int vdisk_iso_pread(vdisk_iso *iso, const vdisk_iso_entry *e, void *buf, size_t len,
                    uint64_t off, vdisk_error *err);

/* Visit path and everything below it, depth first, parents before children.
 * `full` is the entry's absolute path ("/" for the root).  A non-zero
 * return of fn stops the walk and is returned.  A directory reached twice
 * (a loop, or a directory shared by two parents) is an error (-ELOOP). */
typedef int (*vdisk_iso_walk_fn)(void *opaque, const char *full, const vdisk_iso_entry *e);
int vdisk_iso_walk(vdisk_iso *iso, const char *path, vdisk_iso_walk_fn fn, void *opaque,
                   vdisk_error *err);

/* Extract paths (all of the image when n == 0) below dest, keeping their
 * place in the tree (/a/b is written to dest/a/b).  Never writes outside
 * dest: names that are empty, ".", "..", or hold '/' are refused, nothing
 * is ever opened through a symlink (an existing symlink in the way is an
 * error), and symlinks are created as links, never followed.  Modes (less
 * set-id and sticky bits) and modification times are restored. */
int vdisk_iso_extract(vdisk_iso *iso, const char *const *paths, size_t n, const char *dest,
                      vdisk_error *err);

/* ---- path table ----------------------------------------------------------- */

typedef struct vdisk_iso_path_entry {
    char *name;                 /* identifier as recorded (UTF-8 for Joliet); "" for the root */
    uint32_t lba;               /* the directory's first sector */
    uint16_t parent;            /* number (1-based) of the parent's entry; the root's is 1 */
} vdisk_iso_path_entry;

/* The path table of the presented tree (the primary's, or Joliet's), in
 * table order (entry k is directory number k + 1).  Each entry is checked:
 * its record inside the table, its parent an earlier entry, its extent
 * inside the file.  Free with vdisk_iso_path_table_free. */
int vdisk_iso_get_path_table(vdisk_iso *iso, vdisk_iso_path_entry **entries, size_t *n,
                             vdisk_error *err);
void vdisk_iso_path_table_free(vdisk_iso_path_entry *entries, size_t n);

/* ---- El Torito ------------------------------------------------------------ */

enum {
    VDISK_ISO_PLATFORM_X86 = 0x00,
    VDISK_ISO_PLATFORM_EFI = 0xEF,
};
enum {
    VDISK_ISO_MEDIA_NO_EMUL = 0,
    VDISK_ISO_MEDIA_FLOPPY_1200K = 1,
    VDISK_ISO_MEDIA_FLOPPY_1440K = 2,
    VDISK_ISO_MEDIA_FLOPPY_2880K = 3,
    VDISK_ISO_MEDIA_HARD_DISK = 4,
};

typedef struct vdisk_iso_boot_entry {
    uint8_t platform;           /* VDISK_ISO_PLATFORM_* */
    bool bootable;              /* indicator 0x88 */
    uint8_t media;              /* VDISK_ISO_MEDIA_* */
    uint16_t load_segment;      /* 0 means the default 0x7C0 */
    uint16_t sector_count;      /* 512-byte sectors loaded */
    uint32_t lba;               /* image start (2048-byte sectors) */
    uint8_t system_type;        /* partition type of a hard disk image (0 otherwise) */
} vdisk_iso_boot_entry;

/* The boot catalog's entries (none when the image has no boot record).
 * *entries is malloc'ed (caller frees). */
int vdisk_iso_get_boot(vdisk_iso *iso, vdisk_iso_boot_entry **entries, size_t *n,
                       vdisk_error *err);

/* ---- writer ------------------------------------------------------------- */

/* One input: a host file or directory `src`, placed at `dest` in the image
 * (NULL: a file goes to /basename, a directory's contents to /). */
typedef struct vdisk_iso_source {
    const char *src;
    const char *dest;
} vdisk_iso_source;

typedef struct vdisk_iso_create_opts {
    const char *volume_id;      /* NULL: "CDROM" */
    bool rock_ridge;            /* default true */
    bool joliet;                /* default true */
    bool fixed_date;            /* use `date` for the volume and clamp file times to it */
    int64_t date;               /* seconds since the epoch */
    const char *boot_image;     /* host file: El Torito BIOS boot image; the tree's entry
                                   when a source holds that file, else stored hidden */
    bool boot_no_emul;          /* no emulation (else floppy emulation by size) */
    unsigned boot_load_size;    /* 512-byte sectors to load; 0: the whole image */
    const char *efi_boot_image; /* host file: El Torito UEFI boot image (platform 0xEF) */
    bool boot_info_table;       /* patch the boot info table into the BIOS image's copy
                                   (bytes 8-63, as mkisofs -boot-info-table; isolinux, GRUB) */
    bool keep_owner_modes;      /* Rock Ridge: each file's own uid, gid and permission bits
                                   (mkisofs -R); default false: rationalised as mkisofs -r
                                   (uid/gid 0, readable by all, no write or set-id bits) */
    const char *boot_catalog;   /* path in the image of the El Torito boot catalog, a
                                   visible 2048-byte file (mkisofs -c "isolinux/boot.cat");
                                   NULL: the catalog has no directory record */
} vdisk_iso_create_opts;

void vdisk_iso_create_opts_init(vdisk_iso_create_opts *opts);

/* Build an ISO image at path from the sources.  Written to a temporary
 * file beside path and renamed into place: a failed build leaves nothing
 * behind and does not touch an existing file.  progress reports bytes of
 * file data written (may be NULL). */
int vdisk_iso_create(const char *path, const vdisk_iso_create_opts *opts,
                     const vdisk_iso_source *sources, size_t n_sources,
                     vdisk_progress_fn progress, void *opaque, vdisk_error *err);

#ifdef __cplusplus
}
#endif
#endif
