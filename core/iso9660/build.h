/* libvdisk internals — the ISO 9660 writer's in-memory tree.
 *
 * tree.c turns the sources into nodes (names, modes, sizes, times),
 * layout.c gives every node its identifiers, system use data and sector
 * addresses, writer.c emits the bytes.
 */
#ifndef VDISK_ISO9660_BUILD_H
#define VDISK_ISO9660_BUILD_H

#include "iso9660.h"

typedef struct iso_node iso_node;

struct iso_node {
    char *name;                 /* UTF-8 (the Rock Ridge name); "" for the root */
    char *host;                 /* host file holding the data (regular files) */
    char *link;                 /* symlink target */
    uint32_t mode;              /* S_IFDIR / S_IFREG / S_IFLNK | rationalised permissions */
    uint32_t nlink;
    uint32_t uid, gid;          /* 0 unless opts.keep_owner_modes */
    int64_t mtime;
    uint64_t size;              /* regular files: data bytes */
    uint64_t dev, ino;          /* of the host file (to find boot images in the tree) */
    iso_node *parent;
    iso_node **kids;            /* sorted by ISO identifier after naming */
    iso_node **jkids;           /* the same, sorted by Joliet identifier */
    size_t n_kids, cap_kids;
    /* identifiers (layout.c) */
    char iso_id[24];
    uint8_t iso_id_len;
    uint8_t joliet_id[128];
    uint8_t joliet_len;
    /* system use data of the node's records: inline part and the part
     * moved to a continuation area at (ce_sector, ce_off) */
    iso_buf su;
    iso_buf su_ce;
    uint32_t ce_sector, ce_off;
    /* addresses */
    uint32_t lba;               /* file data, or ISO directory records */
    uint32_t dir_size;
    uint32_t jlba, jdir_size;   /* Joliet directory records */
    uint16_t dir_number, jdir_number;  /* path table numbers (1 = root) */
};

typedef struct iso_tree {
    vdisk_iso_create_opts opts;
    int64_t now;                /* volume date; implicit directories' time */
    iso_node *root;
    iso_node *boot, *efi;       /* boot images: a file of the tree, or hidden (no record) */
    bool boot_in_tree, efi_in_tree;
    iso_node *catalog;          /* the boot catalog's record (opts.boot_catalog), or NULL */
    /* layout results */
    iso_node **dirs;            /* directories in path table order */
    size_t n_dirs;
    iso_node **jdirs;           /* the same order; Joliet numbering */
    uint32_t path_table_size, jpath_table_size;
    uint32_t l_path_lba, m_path_lba, jl_path_lba, jm_path_lba;
    uint32_t catalog_lba;
    uint32_t ce_lba, ce_sectors;
    uint32_t svd_sector, term_sector;
    uint32_t meta_sectors;      /* sectors before the first file data */
    uint32_t space_size;        /* total sectors */
    uint64_t data_bytes;        /* bytes of file data (for progress) */
    iso_buf root_er;            /* ER entry of the root "." record */
} iso_tree;

/* tree.c: scan the sources (lstat, readdir) into t->root, boot images too. */
int iso_tree_build(iso_tree *t, const vdisk_iso_source *src, size_t n, vdisk_error *err);
void iso_tree_free(iso_tree *t);
static inline bool iso_node_is_dir(const iso_node *n) { return (n->mode & 0170000) == 0040000; }
static inline bool iso_node_is_reg(const iso_node *n) { return (n->mode & 0170000) == 0100000; }

/* layout.c: identifiers, system use data, addresses. */
int iso_layout(iso_tree *t, vdisk_error *err);
/* Records a node's data takes (multi-extent: one per ISO_EXTENT_MAX). */
uint32_t iso_node_records(const iso_node *n);

/* writer.c helpers used by layout.c: encode one directory's records into
 * buf (dir_size bytes); joliet selects the tree. */
void iso_dir_encode(const iso_tree *t, const iso_node *dir, bool joliet, uint8_t *buf);
/* The bytes of the records of one child (all extents), for sizing. */
size_t iso_child_records_size(const iso_node *kid, bool joliet);

#endif
