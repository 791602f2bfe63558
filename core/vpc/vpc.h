/* libvdisk internals — the VHD driver (qemu-img's format name "vpc"),
 * shared by the files of core/vpc/.
 *
 * On-disk format: Microsoft's "Virtual Hard Disk Image Format
 * Specification" (version 1.0).  Every integer is big endian.  A fixed disk
 * is its data followed by a 512-byte footer; a dynamic or differencing disk
 * is a copy of the footer, a 1 KiB dynamic disk header, the block
 * allocation table (BAT: one 32-bit sector number per block), then blocks,
 * each a sector bitmap followed by the block's data, and the footer last.
 *
 * Locking: s->lock serialises allocation (BAT, the end of the file and the
 * footer behind it); data I/O to allocated blocks runs without it.
 */
#ifndef VDISK_VPC_H
#define VDISK_VPC_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "driver.h"

#define VPC_SECTOR 512u
#define VPC_FOOTER_SIZE 512u
#define VPC_DYNHDR_SIZE 1024u
#define VPC_COOKIE "conectix"
#define VPC_DYN_COOKIE "cxsparse"
#define VPC_VERSION 0x00010000u
#define VPC_FEATURES_RESERVED 0x2u   /* the spec's "must always be set" bit */

enum vpc_disk_type {
    VPC_TYPE_FIXED = 2,
    VPC_TYPE_DYNAMIC = 3,
    VPC_TYPE_DIFF = 4,
};

#define VPC_BAT_UNUSED 0xffffffffu
/* 2040 GiB: the largest disk the format allows, in sectors. */
#define VPC_MAX_SECTORS UINT64_C(0xff000000)
/* CHS geometry limits (spec appendix) and the largest size it expresses. */
#define VPC_CHS_MAX_C 65535u
#define VPC_CHS_MAX_H 16u
#define VPC_CHS_MAX_S 255u
#define VPC_CHS_MAX_SECTORS ((uint64_t)VPC_CHS_MAX_C * VPC_CHS_MAX_H * VPC_CHS_MAX_S)
/* The block size qemu-img (and Virtual PC) create. */
#define VPC_DEFAULT_BLOCK (2u << 20)
/* Seconds from the Unix epoch to the VHD epoch, 2000-01-01 00:00 UTC. */
#define VPC_EPOCH 946684800u
#define VPC_PARENT_LOCATORS 8
/* Platform codes of parent locators (spec: "Parent Locator Entries"). */
#define VPC_PLAT_NONE 0u
#define VPC_PLAT_WI2R 0x57693272u  /* "Wi2r": relative path, deprecated */
#define VPC_PLAT_WI2K 0x5769326bu  /* "Wi2k": absolute path, deprecated */
#define VPC_PLAT_W2RU 0x57327275u  /* "W2ru": relative path, UTF-16LE */
#define VPC_PLAT_W2KU 0x57326b75u  /* "W2ku": absolute path, UTF-16LE */
#define VPC_PLAT_MAC 0x4d616320u   /* "Mac ": a Mac OS alias record */
#define VPC_PLAT_MACX 0x4d616358u  /* "MacX": a file:// URL, UTF-8 */

static inline uint16_t vpc_be16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static inline uint32_t vpc_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static inline uint64_t vpc_be64(const uint8_t *p) { return (uint64_t)vpc_be32(p) << 32 | vpc_be32(p + 4); }
static inline void vpc_put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static inline void vpc_put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16); p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v;
}
static inline void vpc_put64(uint8_t *p, uint64_t v)
{
    vpc_put32(p, (uint32_t)(v >> 32));
    vpc_put32(p + 4, (uint32_t)v);
}

/* The hard disk footer (footer.c), host endian. */
typedef struct vpc_footer {
    uint32_t features;
    uint32_t version;
    uint64_t data_offset;       /* dynamic header; all ones for a fixed disk */
    uint32_t timestamp;         /* seconds since 2000-01-01 UTC */
    char creator_app[4];        /* "qemu", "qem2", "win ", "vpc ", "d2v ", ... */
    uint16_t creator_major, creator_minor;
    char creator_os[4];
    uint64_t original_size;
    uint64_t current_size;
    uint16_t cylinders;
    uint8_t heads;
    uint8_t sectors;            /* per track */
    uint32_t type;              /* enum vpc_disk_type */
    uint32_t checksum;
    uint8_t uuid[16];
    uint8_t saved_state;
} vpc_footer;

/* One parent locator entry of the dynamic disk header. */
typedef struct vpc_locator {
    uint32_t platform;
    uint32_t space;             /* sectors reserved for the data */
    uint32_t length;            /* bytes of data */
    uint64_t offset;            /* of the data, in the file */
} vpc_locator;

/* The dynamic disk header (dynheader.c), host endian. */
typedef struct vpc_dynheader {
    uint64_t data_offset;
    uint64_t table_offset;      /* the BAT */
    uint32_t version;
    uint32_t max_table_entries;
    uint32_t block_size;
    uint32_t checksum;
    uint8_t parent_uuid[16];
    uint32_t parent_timestamp;
    uint8_t parent_name[512];   /* UTF-16BE */
    vpc_locator loc[VPC_PARENT_LOCATORS];
} vpc_dynheader;

typedef struct vpc_state {
    vdisk_image *img;
    vdisk_file *file;
    const char *name;
    pthread_mutex_t lock;
    vpc_footer footer;
    uint8_t footer_raw[VPC_FOOTER_SIZE];   /* as read: rewritten at the end as the file grows */
    bool fixed;
    bool diff;                  /* differencing: unset bitmap bits read from the parent */
    /* dynamic and differencing disks */
    vpc_dynheader dyn;
    uint32_t block_size;
    uint32_t bitmap_size;       /* bytes before each block's data, whole sectors */
    uint32_t *bat;              /* max_table_entries sector numbers, host endian */
    uint32_t bat_entries;
    uint64_t next_block;        /* where the next block goes (the footer sits there) */
} vpc_state;

/* ---- footer.c ---- */
/* The one's complement of the byte sum with the checksum field as zero. */
uint32_t vpc_checksum(const uint8_t *buf, size_t len, size_t checksum_at);
/* Parse a 512-byte footer; -EINVAL (message names the file) unless the
 * cookie and checksum are right. */
int vpc_footer_parse(const uint8_t *buf, const char *name, vpc_footer *f, vdisk_error *err);
void vpc_footer_build(const vpc_footer *f, uint8_t *buf);
/* The virtual size QEMU gives the disk: the CHS geometry's, or the
 * footer's current size (creator apps that use it, or maximal CHS). */
uint64_t vpc_footer_virtual_size(const vpc_footer *f);

/* ---- geometry.c ---- */
/* CHS geometry for a number of sectors (the spec's appendix algorithm;
 * rounds down). */
void vpc_chs_for(uint64_t sectors, uint16_t *c, uint8_t *h, uint8_t *s);
/* The size qemu-img creates for a requested size: without force_size,
 * rounded up until the CHS geometry covers it (or the size itself once
 * the geometry is maximal); with it, the size as given.  -EFBIG past
 * 2040 GiB. */
int vpc_rounded_size(uint64_t size, bool force_size, uint64_t *out, uint16_t *c, uint8_t *h,
                     uint8_t *s);

/* ---- dynheader.c ---- */
int vpc_dynheader_parse(const uint8_t *buf, const char *name, vpc_dynheader *d, vdisk_error *err);
void vpc_dynheader_build(const vpc_dynheader *d, uint8_t *buf);

/* ---- bat.c ---- */
/* Read and check the dynamic header, the BAT and the blocks it points at. */
int vpc_bat_open(vpc_state *s, uint64_t file_len, vdisk_error *err);
/* Host offset of the block's bitmap, or 0 when not allocated. */
uint64_t vpc_block_offset(const vpc_state *s, uint64_t block);
/* Allocate block `block` at the end of the file (lock held). */
int vpc_bat_allocate(vpc_state *s, uint64_t block, uint64_t *bitmap_off, vdisk_error *err);

/* ---- parent.c ---- */
/* The parent's path as the locators give it (the first, in order of
 * preference, naming an existing file), malloc'ed; NULL when none names a
 * path of this host. */
int vpc_parent_name(vpc_state *s, char **out, vdisk_error *err);
/* Open the parent of a differencing disk (its locators, in the spec's
 * order of preference) as img->backing. */
int vpc_open_parent(vpc_state *s, vdisk_error *err);

/* ---- io.c ---- */
int vpc_pread(vdisk_image *img, void *buf, uint64_t len, uint64_t off, vdisk_error *err);
int vpc_block_status(vdisk_image *img, uint64_t off, uint64_t len, vdisk_extent *ext, vdisk_error *err);

/* ---- write.c ---- */
int vpc_pwrite(vdisk_image *img, const void *buf, uint64_t len, uint64_t off, vdisk_error *err);
int vpc_write_zeroes(vdisk_image *img, uint64_t len, uint64_t off, unsigned flags, vdisk_error *err);
int vpc_discard(vdisk_image *img, uint64_t len, uint64_t off, vdisk_error *err);

/* ---- create.c ---- */
int vpc_create(vdisk_file *file, const vdisk_create_opts *opts, vdisk_progress_fn progress,
               void *opaque, vdisk_error *err);

#endif
